"""Lesson 02 specs: references pass, hints name the mistakes, the V-curve helper measures truly,
and the questions judge answers without showing them.

``step_errors`` is the logic behind the lesson's figures and widget: its
slopes, its best steps in float64 and float32 and its complex step are
checked against the theory here, and every combination the widget offers is
drawn headless. A real ``gradkit grade`` run gives the solution full marks.

The references are the solution's answer cells (``lessons.reference``); the
backward difference, which no exercise asks for, is the instructor's
``backward``. ``02.answer_2_3`` depends on the student's variant (a mystery
difference): each variant's key is checked against the order its weights have by
Taylor's theorem, and the grader grades each student on their own mystery.
"""

import copy
import itertools
from pathlib import Path

import _lessons as lessons
import matplotlib
import nbformat
import numpy as np
import pytest
from _grading import edited, failing_hints, grade_variants

import gradkit as gk
from gradkit.grading import lesson02 as spec
from gradkit.grading import plain
from gradkit.grading.feedback import check_exercise, run_test
from gradkit.grading.references import Instructor
from gradkit.grading.variants import variant

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "02_finite_differences.ipynb"
LESSON = ROOT / "lessons" / "02_finite_differences.ipynb"
SPECS = {e.id: e for e in spec.EXERCISES}
FUNCTIONS = [e for e in spec.EXERCISES if e.question is None]
QUESTIONS = [e for e in spec.EXERCISES if e.question is not None]
INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("02")
FEEDBACK = INSTRUCTOR_FILE.FEEDBACK


def _difference(name):
    """The solution's forward or central difference, or the instructor's backward one."""
    if name == "backward":
        return lessons.INSTRUCTOR.module("02").backward
    return lessons.reference(f"02.{name}_difference")


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    reference = lessons.reference(exercise)
    for test in exercise.tests:
        assert run_test(exercise, test, reference).status == "pass", test.name
        plain.encode(test.run(reference))  # returns plain data


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    source = Path(spec.__file__).read_text(encoding="utf-8")
    lines = lessons.solution_lines(SOLUTION, exercise.function)
    assert lines, exercise.id
    assert [line for line in lines if line in source] == []


def test_the_spec_module_exports_no_difference_of_its_own():
    for name in ("forward_difference", "backward_difference", "central_difference",
                 "complex_step", "loglog_slope"):
        assert not hasattr(spec, name), name


@pytest.mark.parametrize("one_sided", ["forward", "backward"])
def test_a_one_sided_central_difference_is_told_its_error_shrinks_like_h(one_sided):
    hints = failing_hints("02.central_difference", _difference(one_sided))
    assert len(hints) == 4
    assert all("your error shrinks like h, not h²" in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda f, x, h: (f(x + h) - f(x - h)) / h, "twice too large: the run of the chord"),
    (lambda f, x, h: f(x + h) - f(x - h), "forgot to divide by the chord's run"),
    (lambda f, x, h: (f(x - h) - f(x + h)) / (2 * h), "sign is flipped"),
])
def test_other_central_difference_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("02.central_difference", wrong)
    assert hints and all(hint in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    ("central", "central difference of the next exercise"),
    ("backward", "stepped back to x - h"),
    (lambda f, x, h: f(x + h) - f(x), "forgot to divide by h"),
    (lambda f, x, h: (f(x + h) - f(x)) / (2 * h), "divided by 2h"),
    (lambda f, x, h: (f(x) - f(x + h)) / h, "sign is flipped"),
])
def test_forward_difference_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("02.forward_difference",
                          _difference(wrong) if isinstance(wrong, str) else wrong)
    assert hints and all(hint in h for h in hints), hints


def _polyfit_slope(x, y):
    return float(np.polyfit(x, y, 1)[0])


@pytest.mark.parametrize(("wrong", "hint", "every_test"), [
    (lambda hs, e: np.polyfit(np.log10(hs), np.log10(e), 1), "slope only", True),
    (lambda hs, e: _polyfit_slope(np.log10(e), np.log10(hs)), "with the axes swapped", False),
    (lambda hs, e: (np.log(e[-1]) - np.log(e[0])) / (np.log(hs[-1]) - np.log(hs[0])),
     "only the first and last points", True),
    (lambda hs, e: _polyfit_slope(hs, e), "only on a log-log plot", True),
])
def test_loglog_slope_mistakes_get_their_hint(wrong, hint, every_test):
    hints = failing_hints("02.loglog_slope", wrong)
    matching = [hint in h for h in hints]
    assert all(matching) if every_test else any(matching), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda f, x, h=1e-20: f(x + 1j * h) / h, "your result is complex"),
    (lambda f, x, h=1e-20: np.imag(f(x + h)) / h, "the step must be imaginary"),
    (lambda f, x, h=1e-20: np.real(f(x + 1j * h)) / h, "you took the real part"),
    (lambda f, x, h=1e-20: np.imag(f(x + 1j * h)), "your value is h times the derivative"),
])
def test_complex_step_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("02.complex_step", wrong)
    assert hints and all(hint in h for h in hints), hints


def test_a_real_finite_difference_is_not_a_complex_step():
    hints = failing_hints("02.complex_step", lambda f, x, h=1e-20: (f(x + h) - f(x)) / h)
    assert any("real finite difference" in h for h in hints), hints


@pytest.mark.parametrize("name", list(spec.EXAMPLES))
def test_every_example_derivative_matches_the_complex_step(name):
    f, dfdx, x0 = spec.EXAMPLES[name]
    # an independent oracle: the complex step is exact to rounding for these analytic f
    assert dfdx(x0) == pytest.approx(np.imag(f(x0 + 1e-30j)) / 1e-30, rel=1e-14)


@pytest.mark.parametrize(("method", "order"), [("forward", 1), ("backward", 1), ("central", 2)])
@pytest.mark.parametrize("name", list(spec.EXAMPLES))
def test_measured_orders_are_the_taylor_orders(method, order, name):
    f, dfdx, x0 = spec.EXAMPLES[name]
    hs = np.logspace(-4, -2, 9)  # truncation dominates round-off here, in float64
    if name.startswith("x**3") and method == "central":
        hs = np.logspace(-3, -1, 9)  # its error 1·h² is exact: keep it above round-off
    slope = lessons.reference("02.loglog_slope")(hs, spec.step_errors(f, dfdx, x0, hs, method))
    assert slope == pytest.approx(order, abs=0.05)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("method", ["forward", "central"])
def test_the_v_curve_bottoms_out_near_the_predicted_step(method, dtype):
    hs = np.logspace(-16, -1, 151)
    points = np.linspace(0.5, 1.5, 41)
    errors = np.median([spec.step_errors(np.sin, np.cos, x, hs, method, dtype)
                        for x in points], axis=0)
    best = hs[np.argmin(errors)]
    predicted = gk.numgrad.default_step(method, np.dtype(dtype))  # eps^(1/(p+1))
    assert predicted / 4 < best < predicted * 4
    eps = np.finfo(dtype).eps
    floor = np.sqrt(eps) if method == "forward" else eps ** (2 / 3)
    assert floor / 30 < errors.min() < floor * 30


def test_float32_errors_are_computed_in_float32():
    hs = [1e-3]
    e64 = spec.step_errors(np.sin, np.cos, 1.0, hs, "central", "float64")[0]
    e32 = spec.step_errors(np.sin, np.cos, 1.0, hs, "central", np.float32)[0]
    assert e64 == pytest.approx(1e-6 / 6 * np.cos(1.0) / np.cos(1.0), rel=1e-3)  # h²/6 f'''/f'
    assert e32 > 10 * e64  # float32 round-off, eps/h ~ 1e-4, swamps the truncation
    # below float32's spacing near 1 the step vanishes: x + h == x, the difference is 0
    assert spec.step_errors(np.sin, np.cos, 1.0, [1e-9], "forward", "float32")[0] == 1.0


def test_the_complex_step_has_no_round_off_v():
    hs = np.logspace(-300, -9, 30)
    errors = spec.step_errors(np.sin, np.cos, 1.0, hs, "complex")
    assert errors.max() <= 2 * np.finfo(float).eps
    assert spec.step_errors(np.sin, np.cos, 1.0, [1e-2], "complex")[0] == pytest.approx(
        1e-4 / 6, rel=1e-3)  # the O(h²) term, h²/6 f'''/f' with f''' = -cos


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("method", ["forward", "backward", "central", "complex"])
def test_step_errors_differences_are_the_answers_to_the_last_bit(method, dtype):
    answer = (lessons.reference("02.complex_step") if method == "complex"
              else _difference(method))
    hs = np.asarray(np.logspace(-12, -1, 23), dtype=dtype)
    xs = np.full(hs.shape, 1.0, dtype=dtype)
    approx = np.asarray(answer(np.sin, xs, hs), dtype=np.float64)
    expected = np.abs(approx - np.cos(1.0)) / np.cos(1.0)
    assert np.array_equal(spec.step_errors(np.sin, np.cos, 1.0, hs, method, dtype), expected)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"method": "sideways"}, "method='sideways': choose one of"),
    ({"dtype": "int64"}, "choose a float dtype"),
])
def test_step_errors_refuses_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        spec.step_errors(np.sin, np.cos, 1.0, [1e-3], **kwargs)


def test_step_errors_needs_a_nonzero_derivative():
    with pytest.raises(ValueError, match="needs a nonzero derivative"):
        spec.step_errors(spec._cube, spec._dcube, 0.0, [1e-3])


def _notebook_namespace():
    """The solution's setup cell and the cells that define the widget, run headless."""
    nb = nbformat.read(SOLUTION, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    wanted = [code[0]] + [s for s in code if "def draw_step_errors" in s
                          or "def plot_step_errors" in s]
    assert len(wanted) == 3, "setup, draw_step_errors and the widget cell"
    ns = {}
    for source in wanted:
        exec(compile(source, "<notebook cell>", "exec"), ns)
    return ns, wanted[-1]


def test_the_widget_offers_function_method_and_dtype_and_draws_every_choice():
    import matplotlib.pyplot as plt

    ns, widget_cell = _notebook_namespace()
    assert "widgets.interact(plot_step_errors" in widget_cell
    for option in ("function=list(EXAMPLES)", '"complex"', '"float32"'):
        assert option in widget_cell
    methods = ["forward", "backward", "central", "complex"]
    for function, method, dtype in itertools.product(spec.EXAMPLES, methods,
                                                     ["float64", "float32"]):
        ns["plot_step_errors"](function, method, dtype)
        plt.close("all")


def test_the_widget_cell_is_not_compared_by_nbval():
    nb = nbformat.read(SOLUTION, as_version=4)
    cells = [c for c in nb.cells if "widgets.interact(" in c.source]
    assert len(cells) == 1
    assert "nbval-ignore-output" in cells[0].metadata.get("tags", [])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    solution = nbformat.read(SOLUTION, as_version=4)
    one_sided = edited(solution, "def central_difference",
                       lambda _: "def central_difference(f, x, h):\n"
                                 "    return (f(x + h) - f(x)) / h\n")
    student = next(s for v, s in _students().items() if INSTRUCTOR_FILE.key_answer_2_3(v) == 4)

    def with_id(nb, literal=None):
        out = copy.deepcopy(nb)
        for cell in out.cells:
            if "student-id" in cell.metadata.get("tags", []):
                cell.source = f'STUDENT_ID = "{student}"'
            if literal is not None and "def answer_2_3" in cell.source:
                cell.source = f"def answer_2_3():\n    return {literal}\n"
        return out

    return grade_variants(tmp_path_factory.mktemp("lesson02"), "02_finite_differences",
                          {"correct": solution, "one_sided": one_sided,
                           "own_variant": with_id(solution), "copied_default": with_id(
                               solution, literal=2),
                           "unanswered": nbformat.read(LESSON, as_version=4)})


def test_grader_gives_the_solution_full_marks(graded):
    sub = graded["correct"]
    assert sub.error is None and not sub.cell_errors, sub.cell_errors
    assert sub.score == sub.max_score == 13


def test_grader_scores_a_one_sided_central_difference_zero_with_the_hint(graded):
    sub = graded["one_sided"]
    assert sub.exercise_scores() == {
        "02.forward_difference": 1, "02.central_difference": 0, "02.answer_2_1": 0.5,
        "02.answer_2_2": 1, "02.loglog_slope": 2, "02.answer_2_3": 1, "02.answer_2_4": 0.5,
        "02.answer_2_5": 1, "02.complex_step": 3}
    outputs = [t.output for t in sub.tests if t.exercise == "02.central_difference"]
    assert all("your error shrinks like h, not h²" in o for o in outputs), outputs


def test_grader_scores_the_unanswered_lesson_zero(graded):
    sub = graded["unanswered"]
    assert sub.error is None and sub.score == 0
    assert all("not answered yet" in t.output for t in sub.tests)


def test_grader_grades_each_student_on_their_own_mystery(graded):
    """A fourth-order mystery: the solution's measurement finds it, the default's order does
    not."""
    mine, copied = graded["own_variant"], graded["copied_default"]
    assert mine.score == mine.max_score == 13, [t.output for t in mine.tests]
    assert copied.exercise_scores()["02.answer_2_3"] == 0 and copied.score == 12


# --- the auto-checked questions -------------------------------------------------------------


def _students():
    """A student id for each variant 1 .. 11 of 02.answer_2_3."""
    found = {}
    for i in range(2000):
        found.setdefault(variant(f"s{i:04d}", "02.answer_2_3", 12), f"s{i:04d}")
        if len(found) == 11:
            return found
    raise AssertionError(found)


def _mystery_answer(student_id=""):
    """The solution's 02.answer_2_3, run with the notebook's mystery for ``student_id``."""
    ns = {"np": np, "mystery_difference": spec.mystery_difference, "variant": variant,
          "STUDENT_ID": student_id, "loglog_slope": lessons.reference("02.loglog_slope")}
    exec(compile(_cell("mystery = mystery_difference"), "<mystery>", "exec"), ns)
    exec(compile(lessons.code_cell(SOLUTION, "answer_2_3"), "<answer>", "exec"), ns)
    return ns["answer_2_3"]


def _cell(marker):
    nb = nbformat.read(SOLUTION, as_version=4)
    (cell,) = [c.source for c in nb.cells if c.cell_type == "code" and marker in c.source]
    return cell


def _question_answer(exercise):
    if exercise.id == "02.answer_2_3":
        return _mystery_answer()
    return lessons.reference(exercise)


def _needles(answer):
    if isinstance(answer, str):
        return [repr(answer), f'"{answer}"', f"`{answer}`", f"{answer})"]
    return [f"{answer:.1e}", f"{answer:.2e}", f"{answer:.2f}", f" {answer:g} ", f"is {answer:g}"]


def _shows(result, answer):
    return lessons.shows_any(result, _needles(answer))


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answers_each_question_and_a_stub_is_unanswered(exercise):
    lessons.assert_question_answered(exercise, _question_answer(exercise))


def test_points_weigh_the_derivations_over_transcription_and_questions():
    points = {e.id: e.points for e in spec.EXERCISES}
    assert points["02.answer_2_1"] == points["02.answer_2_4"] == 0.5  # predictions
    assert points["02.answer_2_2"] == points["02.answer_2_3"] == points["02.answer_2_5"] == 1
    assert points["02.central_difference"] == points["02.complex_step"] == 3  # derived
    assert points["02.forward_difference"] == 1 and points["02.loglog_slope"] == 2
    assert sum(points.values()) == 13


@pytest.mark.parametrize("exercise_id", ["02.answer_2_2", "02.answer_2_5"])
def test_each_wrong_choice_gets_its_own_feedback_and_never_the_answer(exercise_id):
    lessons.assert_known_wrong_answers_get_their_feedback(
        SPECS[exercise_id], FEEDBACK[exercise_id], _shows)


def test_the_right_letters_differ_between_the_choices():
    assert lessons.reference(SPECS["02.answer_2_2"])() != lessons.reference(
        SPECS["02.answer_2_5"])()


@pytest.mark.parametrize("exercise_id", ["02.answer_2_1", "02.answer_2_4"])
def test_each_known_wrong_number_gets_its_feedback_and_never_the_answer(exercise_id):
    exercise = SPECS[exercise_id]
    lessons.assert_known_wrong_answers_get_their_feedback(exercise, FEEDBACK[exercise_id], _shows)
    other = check_exercise(exercise, lambda: 37)  # no known mistake: the general hint
    assert other.status == "failed" and other.outcomes[0].hint == exercise.hint


def test_the_central_factor_prediction_is_what_the_table_prints():
    errors = [abs(_difference("central")(np.sin, 1.0, h) - np.cos(1.0)) for h in (1e-2, 1e-3)]
    factor = errors[0] / errors[1]
    assert lessons.reference(SPECS["02.answer_2_1"])() == pytest.approx(factor, rel=0.01)
    assert check_exercise(SPECS["02.answer_2_1"], lambda: round(factor)).status == "passed"


def test_the_float32_prediction_is_what_float32_computes():
    x, h = np.float32(1.0), np.float32(1e-7)
    step = (x + h) - x
    assert step == np.float32(2.0**-23)  # the spacing of float32 numbers near 1
    error = abs(float(((x + h) * (x + h) - x * x) / h) - 2) / 2
    assert lessons.reference(SPECS["02.answer_2_4"])() == pytest.approx(error, rel=0.02)
    for near in (0.18, 0.2):
        assert check_exercise(SPECS["02.answer_2_4"], lambda v=near: v).status == "passed"
    assert check_exercise(SPECS["02.answer_2_4"], lambda: 0.25).status == "failed"


def test_parabolas_are_exact_for_the_central_difference_and_cubics_are_not():
    central = _difference("central")
    for h in (0.5, 2.0, 7.0):
        assert central(lambda x: 3 * x**2 - x + 1, 1.5, h) == pytest.approx(8.0, rel=1e-12)
        assert central(lambda x: x**3, 1.5, h) != pytest.approx(6.75, rel=1e-6)
    assert lessons.reference(SPECS["02.answer_2_2"])() == "c"  # "c": parabolas and lines


def _taylor_order(weights):
    """The order of Σ w·f(x + k·h)/h by Taylor's theorem: it differentiates (Σ w = 0,
    Σ w·k = 1), and its error starts at the first power j ≥ 2 with Σ w·k^j ≠ 0."""
    moment = lambda j: sum(w * k**j for k, w in weights.items())  # noqa: E731
    assert moment(0) == pytest.approx(0, abs=1e-12) and moment(1) == pytest.approx(1)
    j = 2
    while abs(moment(j)) < 1e-9:
        j += 1
    return j - 1


def test_every_variants_key_is_the_order_taylor_gives_its_weights():
    key = INSTRUCTOR_FILE.key_answer_2_3
    orders = [_taylor_order(w) for w in spec.MYSTERIES]
    assert [key(v) for v in range(12)] == orders
    assert key(0) == _mystery_answer()() == 2  # what the solution finds, variant 0
    assert set(orders) == {1, 2, 3, 4}


def test_each_student_is_checked_on_their_own_mystery():
    exercise = SPECS["02.answer_2_3"]
    key = INSTRUCTOR_FILE.key_answer_2_3
    for v, student in _students().items():
        mine = _mystery_answer(student)
        assert mine() == key(v), v  # the solution's method finds every variant's order
        assert check_exercise(exercise, mine, student_id=student).status == "passed"
        if key(v) != key(0):
            result = check_exercise(exercise, lambda: key(0), student_id=student)
            assert result.status == "failed" and "does not fit" in result.outcomes[0].hint


def test_steps_in_round_off_are_told_what_their_slope_means_never_the_answer():
    exercise = SPECS["02.answer_2_3"]
    student = next(s for v, s in _students().items() if INSTRUCTOR_FILE.key_answer_2_3(v) == 4)
    mystery = spec.mystery_difference(variant(student, "02.answer_2_3", 12))
    hs = np.logspace(-9, -6, 7)  # left of the V: round-off only
    slope = lessons.reference("02.loglog_slope")(hs, np.abs(mystery(np.sin, 1.0, hs) - np.cos(1.0)))
    assert round(slope) == -1
    result = check_exercise(exercise, lambda: round(slope), student_id=student)
    (outcome,) = result.outcomes
    assert result.status == "failed" and "round-off" in outcome.hint
    assert not _shows(result, 4)
    for wrong in (1, 2, 3, 5):  # each wrong order is told about itself, never about 4
        result = check_exercise(exercise, lambda k=wrong: k, student_id=student)
        assert result.status == "failed" and f"order of {wrong} does not fit" in result.outcomes[
            0].hint
        assert "order of 4" not in " ".join(lessons.feedback_texts(result))
    assert check_exercise(exercise, lambda: 4, student_id=student).status == "passed"


def test_instructor_entries_hold_hashes_only():
    entry = Instructor(ROOT / "solutions").question_entry(SPECS["02.answer_2_3"], 0)
    assert entry["answer"] and entry["feedback"]
    assert "does not fit" not in repr(entry)  # the feedback is sealed with its wrong answer


def test_the_formulas_come_after_the_exercises_that_derive_them():
    nb = nbformat.read(SOLUTION, as_version=4)
    sources = [c.source for c in nb.cells]
    central_check = next(i for i, s in enumerate(sources) if 'check("02.central_difference"' in s)
    complex_check = next(i for i, s in enumerate(sources) if 'check("02.complex_step"' in s)
    central = r"\frac{f(x+h) - f(x-h)}{2h}"
    imaginary = r"\frac{\operatorname{Im} f(x + ih)}{h}"
    assert all(central not in s for s in sources[:central_check])
    assert any(central in s for s in sources[central_check:central_check + 3])
    assert all(imaginary not in s for s in sources[:complex_check])
    assert any(imaginary in s for s in sources[complex_check:complex_check + 3])
