"""Fair, independent exercises: a broken answer costs its own exercise only, even where a
later exercise calls it, and cells of a student's own run as they do in the notebook."""

import copy
from pathlib import Path

import nbformat
import pytest

from gradkit.grading.grader import Grader
from gradkit.grading.sandbox import detect
from gradkit.grading.spec import get_exercise

ROOT = Path(__file__).resolve().parent.parent


def _solution(stem):
    return nbformat.read(ROOT / "solutions" / f"{stem}.ipynb", as_version=4)


def _with(nb, function, source):
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "code" and f"def {function}(" in cell.source and \
                "BEGIN SOLUTION" in cell.source:
            cell.source = source
            return out
    raise LookupError(function)


def _insert_before(nb, function, source):
    out = copy.deepcopy(nb)
    for i, cell in enumerate(out.cells):
        if cell.cell_type == "code" and f"def {function}(" in cell.source:
            out.cells.insert(i, nbformat.v4.new_code_cell(source))
            return out
    raise LookupError(function)


def _grade(tmp_path, stem, notebooks, timeout=5.0):
    grader = Grader(ROOT / "solutions", timeout=timeout)
    found = {}
    for name, nb in notebooks.items():
        path = tmp_path / f"{name}_{stem}.ipynb"
        nbformat.write(nb, path)
        found[name] = grader.grade(path)
    return found


@pytest.fixture(scope="module")
def lesson03(tmp_path_factory):
    nb = _solution("03_gradient_checking")
    broken = {
        "syntax_error": "def relative_error(grad, gradapprox)\n    return 0\n",
        "endless": "while True:\n    pass\n",
        "os_exit": "import os\nos._exit(3)\n",
        "wrong": "def relative_error(grad, gradapprox):\n    return 0.5\n",
    }
    notebooks = {k: _with(nb, "relative_error", v) for k, v in broken.items()}
    notebooks["correct"] = nb
    return _grade(tmp_path_factory.mktemp("l03"), "03_gradient_checking", notebooks,
                  timeout=3.0)


@pytest.mark.parametrize("broken", ["syntax_error", "endless", "os_exit", "wrong"])
def test_a_broken_first_exercise_of_lesson_03_costs_that_exercise_only(lesson03, broken):
    full = lesson03["correct"].exercise_scores()
    scores = lesson03[broken].exercise_scores()
    assert scores["03.relative_error"] == 0.0  # the break is real: it costs its own points
    for exercise, points in full.items():
        if exercise != "03.relative_error":
            assert scores[exercise] == pytest.approx(points), (exercise, broken)
    assert any("03.gradient_check_n was graded with the grader's relative_error" in note
               for note in lesson03[broken].notes)


def test_a_wrong_relu_backward_costs_its_own_points_only(tmp_path):
    nb = _solution("04_backprop_deep_net")
    wrong = _with(nb, "relu_backward", "def relu_backward(dA, Z):\n    return dA\n")
    graded = _grade(tmp_path, "04_backprop_deep_net", {"correct": nb, "wrong": wrong},
                    timeout=10.0)
    full, scores = graded["correct"].exercise_scores(), graded["wrong"].exercise_scores()
    points = get_exercise("04.relu_backward").points
    assert full["04.relu_backward"] == points > 0 and scores["04.relu_backward"] == 0.0
    assert sum(full.values()) - sum(scores.values()) == pytest.approx(points)
    assert any("relu_backward" in note for note in graded["wrong"].notes)


def test_helpers_and_imports_in_cells_of_ones_own_run_in_order(tmp_path):
    nb = _solution("01_derivative")
    helper = _insert_before(nb, "secant_line", "def _rise_over_run(f, a, h):\n"
                            "    return (f(a + h) - f(a)) / h\n")
    helper = _with(helper, "secant_line", "def secant_line(f, x0, h):\n"
                   "    slope = _rise_over_run(f, x0, h)\n    return slope, f(x0) - slope * x0\n")
    helper = _insert_before(helper, "backprop_by_hand", "import math as _m\n")
    helper = _with(helper, "backprop_by_hand", (
        "def backprop_by_hand(x, y, z):\n    c = _m.sin(x)\n"
        "    return (x * y + z) * _m.cos(x) + c * y, c * x, c\n"))
    missing = copy.deepcopy(helper)  # the negative case: the same answers, helpers deleted
    missing.cells = [c for c in missing.cells if "_rise_over_run(f, a, h)" not in c.source
                     and c.source != "import math as _m\n"]
    elsewhere = _insert_before(nb, "secant_line", "open('/home/me/data.csv').read()\n")
    graded = _grade(tmp_path, "01_derivative", {
        "helper": helper, "missing": missing, "elsewhere": elsewhere})
    assert graded["helper"].score == graded["helper"].max_score
    assert graded["missing"].exercise_scores()["01.secant_line"] == 0.0
    assert graded["missing"].exercise_scores()["01.backprop_by_hand"] == 0.0
    # a cell that cannot run where grading runs: it costs nothing here, and it says why
    assert graded["elsewhere"].score == graded["elsewhere"].max_score
    assert any("(a cell of your own): raised FileNotFoundError" in line
               for line in graded["elsewhere"].cell_errors)


def test_a_percent_line_inside_an_expression_is_code_not_a_magic(tmp_path):
    nb = _solution("01_derivative")
    modulo = _with(nb, "difference_quotient", (
        "def difference_quotient(f, x, h):\n    step = (h\n"
        "            % 10.0)\n    return (f(x + step) - f(x)) / step\n"))
    graded = _grade(tmp_path, "01_derivative", {"modulo": modulo})
    # h % 10 == h for the tests' 0 < h < 10; the negative h = -0.5 gives 9.5: one test fails
    scores = graded["modulo"].exercise_scores()
    assert scores["01.difference_quotient"] == pytest.approx(3 * 3 / 4)


def test_a_renamed_notebook_without_metadata_is_graded_as_what_it_is(tmp_path):
    nb = _solution("01_derivative")
    nb.metadata = {}
    path = tmp_path / "03_gradient_checking.ipynb"
    nbformat.write(nb, path)
    sub = Grader(ROOT / "solutions", timeout=5.0).grade(path)
    assert sub.lesson == "01_derivative" and sub.score == sub.max_score > 0


def test_the_isolation_used_is_reported():
    assert detect().description
    assert Grader(ROOT / "solutions", isolation="none").isolation.kind == "none"
