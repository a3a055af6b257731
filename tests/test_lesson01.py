"""Lesson 01's questions, its find-and-fix exercise and its variant of section 3's data.

- each question: the solution's answer passes ``check()``, a stub is "unanswered", and no
  outcome shows the answer; each known wrong answer gets its own feedback;
- ``01.answer_1_4`` depends on the student's variant: every variant's key is the
  first-order prediction of the lesson, computed here by a central difference of the
  variant's cost, variant 0's is the solution's, and the grader grades each student on
  their own data;
- Exercise 1.1's classmate function fails exactly the inputs its two bugs break.
"""

import copy
from pathlib import Path

import _lessons as lessons
import nbformat
import numpy as np
import pytest
from _grading import grade_variants

from gradkit.grading import lesson01 as spec
from gradkit.grading.feedback import check_exercise, run_test
from gradkit.grading.references import Instructor
from gradkit.grading.variants import variant

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01_derivative.ipynb"
SPECS = {e.id: e for e in spec.EXERCISES}
QUESTIONS = [e for e in spec.EXERCISES if e.question is not None]
INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("01")
FEEDBACK = INSTRUCTOR_FILE.FEEDBACK


def _cell(marker):
    nb = nbformat.read(SOLUTION, as_version=4)
    (cell,) = [c.source for c in nb.cells if c.cell_type == "code" and marker in c.source]
    return cell


def _section3(student_id=""):
    """The notebook's section 3 cell run for ``student_id``: its names (cost, dcost, ...)."""
    ns = {"np": np, "slope_data": spec.slope_data, "variant": variant, "STUDENT_ID": student_id}
    exec(compile(_cell("def dcost"), "<section 3>", "exec"), ns)
    return ns


def _question_answer(exercise, student_id=""):
    """The solution's answer function; 01.answer_1_4's runs with section 3's names."""
    if exercise.id != "01.answer_1_4":
        return lessons.reference(exercise)
    ns = _section3(student_id)
    exec(compile(lessons.code_cell(SOLUTION, "answer_1_4"), "<answer>", "exec"), ns)
    return ns["answer_1_4"]


def _needles(answer):
    if isinstance(answer, str):
        return [repr(answer), f'"{answer}"', f"`{answer}`", f"{answer})"]
    return [f"{answer:.1e}", f"{answer:.2e}", f"{answer:g}", f"{answer:.3f}", f"{answer:.4f}"]


def _shows(result, answer):
    return lessons.shows_any(result, _needles(answer))


def _students():
    """A student id for each variant 1 .. 11 of 01.answer_1_4."""
    found = {}
    for i in range(2000):
        v = variant(f"s{i:04d}", "01.answer_1_4", 12)
        found.setdefault(v, f"s{i:04d}")
        if len(found) == 11:
            return found
    raise AssertionError(found)


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answers_each_question_and_a_stub_is_unanswered(exercise):
    lessons.assert_question_answered(exercise, _question_answer(exercise))


def test_points_weigh_the_exercises_over_the_questions():
    points = {e.id: e.points for e in spec.EXERCISES}
    assert points["01.answer_1_1"] == points["01.answer_1_2"] == points["01.answer_1_5"] == 0.5
    assert points["01.answer_1_3"] == points["01.answer_1_4"] == 1
    assert points["01.difference_quotient"] == 3 and points["01.backprop_by_hand"] == 4
    assert sum(points.values()) == 13.5


@pytest.mark.parametrize("exercise_id", ["01.answer_1_2", "01.answer_1_3"])
def test_each_wrong_choice_gets_its_own_feedback_and_never_the_answer(exercise_id):
    lessons.assert_known_wrong_answers_get_their_feedback(
        SPECS[exercise_id], FEEDBACK[exercise_id], _shows)


def test_the_right_letters_differ_between_the_choices():
    assert lessons.reference(SPECS["01.answer_1_2"])() != lessons.reference(
        SPECS["01.answer_1_3"])()


@pytest.mark.parametrize("exercise_id", ["01.answer_1_1", "01.answer_1_5"])
def test_each_known_wrong_number_gets_its_feedback_and_never_the_answer(exercise_id):
    exercise = SPECS[exercise_id]
    nearby = (1.0, 1.05) if exercise.question.rtol else (1.0,)
    lessons.assert_known_wrong_answers_get_their_feedback(
        exercise, FEEDBACK[exercise_id], _shows, nearby)
    other = check_exercise(exercise, lambda: 123.0)  # no known mistake: the general hint
    assert other.status == "failed" and other.outcomes[0].hint == exercise.hint


def test_the_error_prediction_is_what_the_table_prints():
    """01.answer_1_1: the quotient's error at h = 1e-3 is 6h + h², and the answer passes."""
    h = 1e-3
    error = ((2 + h) ** 3 - 8) / h - 12
    assert error == pytest.approx(6 * h + h**2, rel=1e-6)
    exercise = SPECS["01.answer_1_1"]
    assert check_exercise(exercise, lambda: error).status == "passed"
    assert lessons.reference(exercise)() == pytest.approx(error, rel=0.1)


def test_the_smallest_error_is_at_the_step_the_answer_names():
    f = lambda x: x**3  # noqa: E731
    steps = [1e-6, 1e-8, 1e-10, 1e-12, 1e-14, 1e-15]
    errors = [abs((f(2.0 + h) - f(2.0)) / h - 12) for h in steps]
    best = steps[int(np.argmin(errors))]
    letters = {1e-15: "a", 1e-6: "b", 1e-8: "c", 1e-12: "d"}
    assert letters[best] == lessons.reference(SPECS["01.answer_1_2"])()


def test_the_evaluations_prediction_is_what_the_counter_counts():
    ns = {"np": np}
    source = _cell("def g(x, y, z)")
    exec(compile(source, "<g>", "exec"), ns)
    calls = []

    def counted(*p):
        calls.append(p)
        return ns["g"](*p)

    point, step = np.array([0.7, -1.3, 2.0]), 1e-6
    base = counted(*point)
    [(counted(*(point + step * e)) - base) / step for e in np.eye(3)]
    assert len(calls) == lessons.reference(SPECS["01.answer_1_5"])() == 4


def _change_by_central_difference(v):
    """J'(1) · 0.01 for variant v's data, J' by a central difference of the cost itself."""
    X, Y, _ = spec.slope_data(v)
    cost = lambda t: np.sum((t * X - Y) ** 2) / (2 * X.size)  # noqa: E731
    return (cost(1.0 + 1e-5) - cost(1.0 - 1e-5)) / 2e-5 * 0.01, cost


def test_every_variants_key_is_the_first_order_prediction_from_its_data():
    key = INSTRUCTOR_FILE.key_answer_1_4
    answers = []
    for v in range(12):
        predicted, cost = _change_by_central_difference(v)
        assert key(v) == pytest.approx(predicted, rel=1e-6), v
        actual = cost(1.01) - cost(1.0)  # what the next cell prints as "actual"
        assert key(v) == pytest.approx(actual, rel=0.1), v  # the check accepts it too
        answers.append(f"{key(v):.2e}")
    assert key(0) == pytest.approx(_question_answer(SPECS["01.answer_1_4"])(), rel=1e-12)
    assert key(0) == pytest.approx(-0.00694394, rel=1e-5)  # the number the text shows
    assert len(set(answers)) >= 10


def test_the_variants_data_is_drawn_as_the_text_says():
    X, Y, a = spec.slope_data(0)
    rng = np.random.default_rng(0)
    assert np.array_equal(X, rng.uniform(-1.0, 1.0, size=50)) and a == 3.0
    for v in range(1, 12):
        X, Y, a = spec.slope_data(v)
        assert a == spec.SLOPES[v] and np.polyfit(X, Y, 1)[0] == pytest.approx(a, abs=0.1)
    with pytest.raises(ValueError, match="variant=12: choose one of 0 .. 11"):
        spec.slope_data(12)


def test_each_student_is_checked_on_their_own_variant():
    exercise = SPECS["01.answer_1_4"]
    key = INSTRUCTOR_FILE.key_answer_1_4
    default = key(0)
    for v, student in _students().items():
        mine = _question_answer(exercise, student)
        assert mine() == pytest.approx(key(v), rel=1e-12)
        assert check_exercise(exercise, mine, student_id=student).status == "passed"
        if abs(default - key(v)) > 0.2 * abs(key(v)):  # the text's number is not theirs
            other = check_exercise(exercise, lambda: default, student_id=student)
            assert other.status == "failed", v


def test_each_mistake_of_a_variant_gets_its_own_feedback_never_the_answer():
    exercise = SPECS["01.answer_1_4"]
    key = INSTRUCTOR_FILE.key_answer_1_4
    for v, student in list(_students().items())[:4] + [(0, "")]:
        answer = key(v)
        _, cost = _change_by_central_difference(v)
        mistakes = {"wrong sign": -answer, "derivative itself": answer / 0.01,
                    "a value of the cost": cost(1.01)}
        for words, value in mistakes.items():
            result = check_exercise(exercise, lambda value=value: value, student_id=student)
            assert result.status == "failed", (v, words)
            (outcome,) = result.outcomes
            assert words in outcome.hint and outcome.expected == "(not shown)", (v, words)
            assert not _shows(result, answer), (v, words)


def test_instructor_entries_hold_hashes_only():
    entry = Instructor(ROOT / "solutions").question_entry(SPECS["01.answer_1_4"], 3)
    text = repr(entry)
    answer = INSTRUCTOR_FILE.key_answer_1_4(3)
    assert entry["answer"] and entry["feedback"]
    assert not any(n in text for n in _needles(answer))
    assert "wrong sign" not in text  # the feedback is sealed with its wrong answer


def test_the_classmates_quotient_fails_exactly_on_a_negative_step_and_an_array():
    ns = {"np": np, "f": lambda x: x**3}
    source = _cell("def classmate_quotient")
    exec(compile(source.split("\n\n\nfor ")[0], "<classmate>", "exec"), ns)
    exercise = SPECS["01.difference_quotient"]
    outcomes = {t.name: run_test(exercise, t, ns["classmate_quotient"]) for t in exercise.tests}
    failed = {name for name, o in outcomes.items() if o.status == "fail"}
    assert failed == {"exp at x = 0, negative h = -0.5", "x**3 on an array of x, h = 1e-3"}
    assert "a negative h puts the second point to the left" in outcomes[
        "exp at x = 0, negative h = -0.5"].hint
    assert "raised TypeError" in outcomes["x**3 on an array of x, h = 1e-3"].why


def test_a_quotient_with_only_the_abs_bug_is_told_about_the_side_of_x():
    def only_abs(f, x, h):
        h = abs(h)
        return (f(x + h) - f(x)) / h

    exercise = SPECS["01.difference_quotient"]
    hints = lessons.failed_hints(exercise, only_abs)
    assert len(hints) == 1 and "to the left of x" in hints[0]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    solution = nbformat.read(SOLUTION, as_version=4)
    student = next(s for v, s in _students().items()
                   if abs(INSTRUCTOR_FILE.key_answer_1_4(v) + 0.00694) > 0.002)

    def with_id(nb, sid, literal=None):
        out = copy.deepcopy(nb)
        for cell in out.cells:
            if "student-id" in cell.metadata.get("tags", []):
                cell.source = f'STUDENT_ID = "{sid}"'
            if literal is not None and "def answer_1_4" in cell.source:
                cell.source = f"def answer_1_4():\n    return {literal}\n"
        return out

    return grade_variants(tmp_path_factory.mktemp("lesson01"), "01_derivative", {
        "correct": solution,
        "own_variant": with_id(solution, student),
        "copied_default": with_id(solution, student, literal=-0.00694),
    })


def test_the_grader_gives_the_solution_full_marks(graded):
    sub = graded["correct"]
    assert sub.error is None and not sub.cell_errors, sub.cell_errors
    assert sub.score == sub.max_score == 13.5


def test_the_grader_grades_a_student_on_their_own_variant(graded):
    mine, copied = graded["own_variant"], graded["copied_default"]
    assert mine.score == mine.max_score == 13.5
    assert copied.exercise_scores()["01.answer_1_4"] == 0
    assert copied.score == 12.5
