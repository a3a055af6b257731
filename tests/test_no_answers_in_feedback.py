"""No feedback gives an answer away: no hint spells out a fix, and an identification
exercise never shows its expected value."""

import re
from pathlib import Path

import pytest

from gradkit.grading import check
from gradkit.grading.notebook import BEGIN, END, is_answer_cell, read_notebook
from gradkit.grading.spec import exercises_for_lesson, lesson_numbers

ROOT = Path(__file__).resolve().parent.parent
_ASSIGNED = re.compile(r"^[\w\[\]\"'{}., ]+?\s*(?<![=!<>])[-+*/@]?=(?!=)\s*(.+)$")
_NAMES = re.compile(r"^\(?[\w, ]+\)?$")  # "dA_prev, dW, db": what to return, said by the task
MIN_FRAGMENT = 10


def answer_fragments(source):
    """The expressions of an answer block, without spaces: each right-hand side of an
    assignment and each returned expression of at least 10 characters (a bare tuple of
    names, which the exercise's text states, does not count)."""
    found, inside = set(), False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            inside = True
            continue
        if stripped.startswith(END):
            inside = False
            continue
        if not inside or not stripped or stripped.startswith("#"):
            continue
        code = stripped.split("  #")[0]
        if code.startswith("return "):
            code = code[len("return "):]
        else:
            match = _ASSIGNED.match(code)
            code = match.group(1) if match else code
        if _NAMES.match(code):
            continue
        flat = re.sub(r"\s+", "", code)
        if len(flat) >= MIN_FRAGMENT:
            found.add(flat)
    return found


def _fragments_of(lesson):
    nb = read_notebook(next((ROOT / "solutions").glob(f"{lesson}_*.ipynb")))
    found = set()
    for cell in nb.cells:
        if is_answer_cell(cell):
            found |= answer_fragments(cell.source)
    return found


def leaks_in(text, fragments):
    flat = re.sub(r"\s+", "", text)
    return sorted(f for f in fragments if f in flat)


@pytest.mark.parametrize("lesson", lesson_numbers())
def test_no_hint_spells_out_an_answer(lesson):
    fragments = _fragments_of(lesson)
    found = {}
    for exercise in exercises_for_lesson(lesson):
        for hint in [exercise.hint] + [m.hint for m in exercise.mistakes]:
            if leaks_in(hint, fragments):
                found.setdefault(exercise.id, []).append(hint[:90])
    assert not found, found


def test_the_scan_finds_an_answer_in_a_hint():
    """The negative case: hints as they used to be are caught."""
    fragments = _fragments_of("11") | _fragments_of("02")
    assert leaks_in("its backward is dA * D / keep_prob.", fragments)
    assert leaks_in("the derivative is in the imaginary part, np.imag(f(x + 1j * h)) / h",
                    fragments)
    assert not leaks_in("the mask is applied but not rescaled", fragments)


IDENTIFICATION = {  # exercises whose answer is a finding, with a wrong finding to try
    "04.name_the_bug": lambda: "zero_relu_gradient",
    "09.which_check": lambda: {"A": "loss_at_init", "B": "loss_at_init", "C": "loss_at_init",
                               "D": "loss_at_init"},
}


@pytest.mark.parametrize("exercise_id", sorted(IDENTIFICATION))
def test_an_identification_exercise_never_shows_its_answer(exercise_id):
    from gradkit.grading.references import Instructor
    from gradkit.grading.spec import get_exercise

    exercise = get_exercise(exercise_id)
    answer = Instructor(ROOT / "solutions").reference(exercise)
    value = answer()
    wrong = IDENTIFICATION[exercise_id]
    result = check(exercise_id, wrong)
    shown = repr(result) + result._repr_html_()
    assert result.status == "failed"
    if isinstance(value, str):
        assert value not in shown
    else:  # a choice per case: no case's right choice is shown as what was expected
        for case, right in dict(value).items():
            assert f"expected {right!r}" not in shown and f"expected '{right}'" not in shown
            if wrong()[case] != right:
                rows = [o for o in result.outcomes if case in o.name or case in o.shows]
                assert all(right not in o.expected + o.why + o.hint for o in rows), case


@pytest.mark.parametrize("lesson", lesson_numbers())
def test_no_spec_module_docstring_spells_out_an_answer(lesson):
    """A student's edition installs the spec modules: what ``help()`` shows must not
    give the answers either."""
    import importlib
    import inspect

    module = next(importlib.import_module(f"gradkit.grading.{name}") for name in (
        f"lesson{lesson}",))
    text = inspect.getdoc(module) or ""
    assert not leaks_in(text, _fragments_of(lesson)), leaks_in(text, _fragments_of(lesson))


def _questions():
    return [e for lesson in lesson_numbers() for e in exercises_for_lesson(lesson)
            if e.question is not None]


def _student_for(exercise, v):
    """A student id whose variant of ``exercise`` is ``v`` ("" for the default one)."""
    from gradkit.grading.variants import variant

    if v == 0:
        return ""
    return next(f"s{k}" for k in range(100000)
                if variant(f"s{k}", exercise.id, exercise.question.variants) == v)


def _wrong_answers(exercise, answer):
    q = exercise.question
    if q.kind in ("choice", "name"):
        return [o for o in q.options if o != answer]
    return [answer * 3 + 1, -answer - 7, answer * 10 + 5]


def shows_answer(text, answer, kind):
    """True when ``text`` holds the answer: a name or a multi-digit number as a word (a
    letter of a multiple choice is only searched as ``'c'`` or ``(c)``)."""
    if kind == "choice":
        return f"'{answer}'" in text or f"({answer})" in text
    word = re.escape(str(answer) if kind == "name" else f"{answer:g}")
    return len(str(answer)) > 1 and re.search(rf"(?<![\w.]){word}(?![\w.])", text) is not None


@pytest.mark.parametrize("exercise", _questions(), ids=lambda e: e.id)
def test_no_question_shows_its_answer_in_any_variant(exercise):
    from gradkit.grading.feedback import check_exercise
    from gradkit.grading.references import Instructor

    instructor = Instructor(ROOT / "solutions")
    q = exercise.question
    for v in range(max(1, q.variants)):
        answer = instructor.question_answer(exercise, v)
        student = _student_for(exercise, v)
        assert check_exercise(exercise, lambda a=answer: a, student).status == "passed", v
        for wrong in _wrong_answers(exercise, answer):
            result = check_exercise(exercise, lambda w=wrong: w, student)
            assert result.status == "failed", (v, wrong)
            (outcome,) = result.outcomes
            assert outcome.expected == "(not shown)"
            said = outcome.why + " " + outcome.hint
            assert not shows_answer(said, answer, q.kind), (v, wrong, said)


def test_the_question_scan_finds_an_answer_in_feedback():
    """The negative case: feedback that names the answer is caught."""
    assert shows_answer("it is relu_derivative_from_activation, not this", "relu_derivative_"
                        "from_activation", "name")
    assert shows_answer("the loop makes 88 calls", 88, "number")
    assert not shows_answer("the loop makes 880 calls", 88, "number")
    assert shows_answer("the right one is (c)", "c", "choice")
    assert not shows_answer("compare the ratios", "c", "choice")


@pytest.mark.parametrize("exercise", [e for e in _questions() if e.question.kind == "name"],
                         ids=lambda e: e.id)
def test_the_check_data_of_a_name_question_holds_no_name(exercise):
    import json

    from gradkit.grading import checkdata

    entry = checkdata.load(exercise.lesson)["exercises"][exercise.id]["question"]
    hexes = re.compile(r"^[0-9a-f]{24}$")
    for data in entry.values():  # only hashes and sealed (base64) text
        assert set(data) == {"answer", "feedback"}
        assert all(hexes.match(h) for h in list(data["answer"]) + list(data["feedback"]))
        assert all(re.fullmatch(r"[A-Za-z0-9+/]*=*", t) for t in data["feedback"].values())
    dumped = json.dumps(entry)  # and no name long enough to be found by chance in base64
    assert [o for o in exercise.question.options if len(o) >= 4 and o in dumped] == []
