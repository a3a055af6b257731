"""Grading real submissions of lesson 01: honest work, accidents and tampering.

Every submission is made from the solution notebook (a correct notebook) or
the generated lesson (an unanswered one) with a few cells changed, then all
are graded once, two at a time, by the real grader in its sandbox.
"""

import copy
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from gradkit.grading.grader import Grader
from gradkit.grading.notebook import check_ids, is_answer_cell

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01_derivative.ipynb"
LESSON = ROOT / "lessons" / "01_derivative.ipynb"
from gradkit.grading.spec import exercises_for_lesson  # noqa: E402

FULL = {e.id: float(e.points) for e in exercises_for_lesson("01")}
TOTAL = sum(FULL.values())


def _answer(nb, function):
    for cell in nb.cells:
        if is_answer_cell(cell) or f"def {function}(" in cell.source:
            if f"def {function}(" in cell.source:
                return cell
    raise LookupError(function)


def _variants():
    solution = nbformat.read(SOLUTION, as_version=4)
    lesson = nbformat.read(LESSON, as_version=4)
    out = {}

    out["correct"] = copy.deepcopy(solution)

    nb = copy.deepcopy(solution)
    nb.cells = [c for c in nb.cells if not check_ids(c)]
    for cell in nb.cells:
        if cell.cell_type == "code" and "rng = np.random.default_rng(0)" in cell.source:
            cell.source += "\nraise SystemExit('the student broke the setup cell')"
    out["deleted_checks_edited_setup"] = nb

    nb = copy.deepcopy(lesson)
    _answer(nb, "difference_quotient").source += (
        '\n\ndef check(*args, **kwargs):\n    print("public checks passed")\n'
        'print("01.difference_quotient: public checks passed (4/4)")\n'
    )
    for cell in nb.cells:
        if check_ids(cell):
            cell.source = 'print("public checks passed")'
            cell.outputs = [nbformat.v4.new_output("stream", text="public checks passed\n")]
    out["fake_success"] = nb

    nb = copy.deepcopy(solution)
    _answer(nb, "difference_quotient").source = (
        "import math\nimport numpy as np\n"
        "np.allclose = lambda *a, **k: True\nnp.isclose = lambda *a, **k: True\n"
        "np.testing.assert_allclose = lambda *a, **k: None\n"
        "math.isclose = lambda *a, **k: True\nnp.asarray = lambda *a, **k: 'patched'\n\n"
        "def difference_quotient(f, x, h):\n    return 0.0\n"
    )
    out["monkeypatch"] = nb

    nb = copy.deepcopy(solution)
    _answer(nb, "secant_line").source = (
        "class Always:\n    def __eq__(self, other):\n        return True\n"
        "    __ne__ = lambda self, other: False\n    __float__ = lambda self: 0.0\n\n"
        "class Liar(float):\n    def __eq__(self, other):\n        return True\n\n"
        "def secant_line(f, x0, h):\n    return Always(), Liar(0.0)\n"
    )
    _answer(nb, "backprop_by_hand").source = (
        "class Always:\n    def __eq__(self, other):\n        return True\n\n"
        "def backprop_by_hand(x, y, z):\n    return Always()\n"
    )
    out["always_equal"] = nb

    nb = copy.deepcopy(solution)
    _answer(nb, "secant_line").source += "\nwhile True:\n    pass\n"
    out["infinite_loop"] = nb

    nb = copy.deepcopy(solution)
    _answer(nb, "backprop_by_hand").source = (
        "import os\n\ndef backprop_by_hand(x, y, z):\n    os._exit(0)\n"
    )
    out["os_exit"] = nb

    nb = copy.deepcopy(solution)
    _answer(nb, "difference_quotient").source = "def difference_quotient(f, x, h)\n    return 1\n"
    out["syntax_error"] = nb

    nb = copy.deepcopy(solution)
    _answer(nb, "difference_quotient").source = (
        "def difference_quotient(f, x, h):\n    return float((f(x + h) - f(x)) / h)\n"
    )
    out["partial"] = nb
    return out


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    paths = {}
    for name, nb in _variants().items():
        paths[name] = folder / f"{name}_01_derivative.ipynb"
        nbformat.write(nb, paths[name])
    renamed = folder / "submission.ipynb"  # only the notebook metadata says which lesson
    nbformat.write(_variants()["correct"], renamed)
    paths["renamed"] = renamed
    corrupt = folder / "corrupt_01_derivative.ipynb"
    corrupt.write_bytes(b'{"cells": [ this is not json')
    paths["corrupt"] = corrupt
    before = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}
    grader = Grader(ROOT / "solutions", timeout=3.0)
    with ThreadPoolExecutor(2) as pool:
        subs = dict(zip(paths, pool.map(grader.grade, paths.values()), strict=True))
    after = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}
    return subs, before, after


def test_correct_notebook_gets_full_marks(graded):
    subs, _, _ = graded
    assert subs["correct"].exercise_scores() == FULL
    assert subs["correct"].score == subs["correct"].max_score == TOTAL


def test_deleted_check_cells_and_edited_provided_cells_change_nothing(graded):
    subs, _, _ = graded
    assert subs["deleted_checks_edited_setup"].exercise_scores() == FULL


def test_renamed_submission_is_matched_by_notebook_metadata(graded):
    subs, _, _ = graded
    assert subs["renamed"].lesson == "01_derivative"
    assert subs["renamed"].score == TOTAL


def test_fake_printed_success_and_redefined_check_score_zero(graded):
    subs, _, _ = graded
    assert subs["fake_success"].score == 0.0
    assert all("not answered" in t.output for t in subs["fake_success"].tests)


def test_monkeypatching_numpy_and_math_is_no_better_than_a_wrong_answer(graded):
    subs, _, _ = graded
    scores = subs["monkeypatch"].exercise_scores()
    assert scores["01.difference_quotient"] == 0.0
    # numpy was patched in the student's process only: other answers still count
    assert scores["01.secant_line"] == 3.0


def test_always_equal_objects_are_refused_not_trusted(graded):
    subs, _, _ = graded
    scores = subs["always_equal"].exercise_scores()
    assert scores["01.secant_line"] == 0.0
    assert scores["01.backprop_by_hand"] == 0.0
    assert scores["01.difference_quotient"] == 3.0
    outputs = [t.output for t in subs["always_equal"].tests if "backprop" in t.name]
    assert all("object of type Always" in o for o in outputs)


def test_infinite_loop_costs_only_its_own_exercise(graded):
    subs, _, _ = graded
    scores = subs["infinite_loop"].exercise_scores()
    assert scores == dict(FULL, **{"01.secant_line": 0.0})
    assert any("longer than 3 s" in t.output for t in subs["infinite_loop"].tests)


def test_os_exit_costs_only_its_own_exercise(graded):
    subs, _, _ = graded
    assert subs["os_exit"].exercise_scores() == dict(FULL, **{"01.backprop_by_hand": 0.0})
    assert any("ended the process" in t.output for t in subs["os_exit"].tests)


def test_syntax_error_costs_only_its_own_exercise(graded):
    subs, _, _ = graded
    assert subs["syntax_error"].exercise_scores() == dict(FULL, **{"01.difference_quotient": 0.0})
    out = [t.output for t in subs["syntax_error"].tests if "difference_quotient" in t.name]
    assert all("SyntaxError" in o for o in out)


def test_partial_credit_per_test(graded):
    subs, _, _ = graded
    # float(...) breaks only the array test: 3 of 4 tests of a 3-point exercise
    assert subs["partial"].exercise_scores()["01.difference_quotient"] == pytest.approx(2.25)


def test_corrupt_file_gets_a_one_line_error_and_others_are_graded(graded):
    subs, _, _ = graded
    error = subs["corrupt"].error
    assert error is not None and "\n" not in error and "not a Jupyter notebook" in error
    assert "Traceback" not in error


def test_submissions_are_byte_identical_after_grading(graded):
    _, before, after = graded
    assert before == after
