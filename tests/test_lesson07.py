"""Lesson 07 specs: each reference passes its own tests, each Mistake fires on the wrong
answer it describes, the generic hints lead to answers that pass, the notebook's answers are
the references, and the lesson's claims about Hessians hold."""

import json
import re
from pathlib import Path

import _lessons as lessons
import numpy as np
import pytest

import gradkit.grading.lesson07 as spec
from gradkit.grading import check, checkdata, plain
from gradkit.grading.feedback import expected_value, run_test
from gradkit.grading.lesson07 import (
    EXERCISES,
    _bumped,
    _concave,
    _cubic_grad,
    _flat_bottom,
    _one_min_nonconvex,
    _rank_deficient,
    _square,
)

ROOT = Path(__file__).resolve().parent.parent
SPECS = {e.id: e for e in EXERCISES}
CODE = [e for e in EXERCISES if e.question is None]  # the exercises that are functions


def is_convex_on_segment(f, a, b, n):
    """The notebook's answer."""
    return lessons.reference("07.is_convex_on_segment")(f, a, b, n)


def hessian_fd(grad, theta, h):
    """The notebook's answer."""
    return lessons.reference("07.hessian_fd")(grad, theta, h)


def classify_stationary_point(H, tol):
    """The notebook's answer."""
    return lessons.reference("07.classify_stationary_point")(H, tol)


def _outcomes(exercise_id, answer):
    return lessons.outcomes(SPECS[exercise_id], answer)


def _hints(exercise_id, wrong):
    """The hints of the failed public tests when ``wrong`` answers."""
    return set(lessons.failed_hints(SPECS[exercise_id], wrong))


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name
        plain.encode(test.run(lessons.reference(exercise)))  # returns plain data


def test_expected_values_are_plain():
    for exercise in CODE:
        for test in exercise.tests:
            expected_value(exercise, test)


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    lessons.assert_spec_holds_no_answer(spec, ROOT / "solutions" / "07_convexity.ipynb",
                                        exercise.function)


def test_the_check_data_is_what_the_solutions_give():
    assert checkdata.stale("07", lessons.INSTRUCTOR) == ""


# --- 07.is_convex_on_segment ---------------------------------------------------

def test_convexity_references_say_what_the_test_names_claim():
    assert is_convex_on_segment(_square, -1.0, 2.0, 10)
    assert is_convex_on_segment(_flat_bottom, -3.0, 2.5, 20)
    assert is_convex_on_segment(_flat_bottom, -0.8, 0.9, 10)
    assert not is_convex_on_segment(_one_min_nonconvex, 0.5, 2.5, 20)
    assert not is_convex_on_segment(_concave, 0.0, 1.0, 4)
    assert not is_convex_on_segment(_bumped, 0.0, 1.0, 4)
    assert is_convex_on_segment(_bumped, 0.0, 1.0, 2)  # the midpoint alone misses the bump
    assert is_convex_on_segment(_rank_deficient, np.array([3.0, -1.0]), np.array([-2.0, 4.0]), 10)


def test_one_minimum_function_has_a_single_stationary_point():
    xs = np.linspace(-20, 20, 40000)  # even count: 0 is not on the grid
    assert np.sum(np.diff(np.sign(2 * xs + 3 * np.sin(2 * xs))) != 0) == 1


def _chord(f, a, b, n, reversed_=False, swapped=False, midpoint=False, strict=False):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    ts = [0.5] if midpoint else np.linspace(0, 1, n + 1)
    for t in ts:
        chord = t * f(a) + (1 - t) * f(b) if swapped else (1 - t) * f(a) + t * f(b)
        value = f((1 - t) * a + t * b)
        bad = value < chord if reversed_ else (value >= chord if strict else value > chord + 1e-9)
        if bad and not (strict and t in (0.0, 1.0) and not reversed_):
            return False
    return True


@pytest.mark.parametrize("kw, words", [
    ({"reversed_": True}, "inequality looks reversed"),
    ({"swapped": True}, "chord's weights"),
    ({"midpoint": True}, "not only the midpoint"),
    ({"strict": True}, "equality is allowed"),
])
def test_convexity_mistakes_are_named(kw, words):
    assert any(words in h for h in _hints("07.is_convex_on_segment",
                                          lambda *a: _chord(*a, **kw)))


# --- 07.hessian_fd -----------------------------------------------------------------

def _fd(grad, theta, h, kind="central", symmetrize=True, divide=2.0):
    theta = np.asarray(theta, dtype=float)
    n = theta.size
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        if kind == "forward":
            H[:, j] = (grad(theta + e) - grad(theta)) / h
        else:
            H[:, j] = (grad(theta + e) - grad(theta - e)) / (divide * h)
    return (H + H.T) / 2 if symmetrize else H


def _in_place(grad, theta, h):
    n = theta.size
    H = np.empty((n, n))
    for j in range(n):
        theta[j] += h
        g_plus = grad(theta)
        theta[j] -= 2 * h
        g_minus = grad(theta)  # and theta[j] is never put back
        H[:, j] = (g_plus - g_minus) / (2 * h)
    return (H + H.T) / 2


def test_hessian_call_returns_arrays_and_the_grader_judges_theta_unchanged():
    exercise = SPECS["07.hessian_fd"]
    for test in exercise.tests:
        raw = test.run(_in_place)  # what the student's process sends back: H, theta after
        assert [type(x) for x in raw] == [np.ndarray, np.ndarray], test.name
        after = test.after(test.make_args(), plain.decode(plain.encode(raw)))
        assert after[1] is False, test.name
        assert test.after(test.make_args(), plain.decode(plain.encode(
            test.run(hessian_fd))))[1] is True, test.name


@pytest.mark.parametrize("wrong, words", [
    (_in_place, "theta was changed"),
    (lambda grad, theta, h: np.diag(_fd(grad, theta, h)), "full n x n matrix"),
    (lambda grad, theta, h: _fd(grad, theta, h, divide=1.0), "twice too large"),
    (lambda grad, theta, h: _fd(grad, theta, h, kind="forward"), "one-sided difference"),
    (lambda grad, theta, h: _fd(grad, theta, h, kind="forward", symmetrize=False),
     "one-sided difference"),
    (lambda grad, theta, h: _fd(grad, theta, h, symmetrize=False), "not symmetric"),
    (lambda grad, theta, h: _fd(grad, theta, h, symmetrize=False).T, "not symmetric"),
])
def test_hessian_mistakes_are_named(wrong, words):
    hints = _hints("07.hessian_fd", wrong)
    assert hints and all(words in h for h in hints), hints
    assert words in check("07.hessian_fd", wrong).hint


def test_hessian_reference_is_accurate_to_order_h_squared():
    theta = np.array([1.0, 0.5])
    x, y = theta
    exact = np.array([[6 * x * y + np.exp(x) * y**2, 3 * x**2 + 2 * np.exp(x) * y],
                      [3 * x**2 + 2 * np.exp(x) * y, 2 * np.exp(x)]])
    errors = [np.abs(hessian_fd(_cubic_grad, theta, h) - exact).max() for h in (1e-1, 1e-2)]
    assert 50 < errors[0] / errors[1] < 200  # h ten times smaller, error a hundred times
    one_sided = np.abs(_fd(_cubic_grad, theta, 1e-2, kind="forward") - exact).max()
    assert one_sided > 100 * errors[1]


# --- 07.classify_stationary_point --------------------------------------------------

def _eig_rule(H, tol, zero_first=False, use_diagonal=False, signs=("minimum", "maximum")):
    values = np.diag(H) if use_diagonal else np.linalg.eigvalsh(H)
    up, down = signs
    if zero_first and np.any(np.abs(values) <= tol):
        return "inconclusive"
    if np.any(values > tol) and np.any(values < -tol):
        return "saddle"
    if np.all(values > tol):
        return up
    if np.all(values < -tol):
        return down
    return "inconclusive"


def _determinant(H, tol):
    d = np.linalg.det(H)
    return "saddle" if d < 0 else ("minimum" if H[0, 0] > 0 else "maximum") if d > 0 else (
        "inconclusive")


@pytest.mark.parametrize("wrong, words", [
    (lambda H, tol: {"minimum": "min", "maximum": "max"}.get(classify_stationary_point(H, tol),
                                                           classify_stationary_point(H, tol)),
     "exactly one of the strings"),
    (lambda H, tol: _eig_rule(H, tol, signs=("maximum", "minimum")), "swapped"),
    (lambda H, tol: _eig_rule(H, tol, zero_first=True), "test for the saddle first"),
    (lambda H, tol: _eig_rule(H, 0.0), "Compare with tol, not with 0"),
    (lambda H, tol: _eig_rule(H, tol, use_diagonal=True), "diagonal of H"),
    (_determinant, "sign of the determinant"),
])
def test_classification_mistakes_are_named(wrong, words):
    hints = _hints("07.classify_stationary_point", wrong)
    assert any(words in h for h in hints), hints
    assert words in check("07.classify_stationary_point", wrong).hint  # the hint shown


# --- generic hints ---------------------------------------------------------------

def _chord_as_the_hint_says(f, a, b, n):
    for t in np.linspace(0, 1, n + 1):
        chord = (1 - t) * f(a) + t * f(b)
        if f((1 - t) * a + t * b) > chord + 1e-9 * max(1.0, abs(chord)):
            return False
    return True


def _hessian_as_the_hint_says(grad, theta, h):
    n = theta.size
    H = np.zeros((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        H[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return (H + H.T) / 2


def _classify_as_the_hint_says(H, tol):
    eigenvalues = np.linalg.eigvalsh(H)
    if np.any(eigenvalues > tol) and np.any(eigenvalues < -tol):
        return "saddle"
    if np.all(eigenvalues > tol):
        return "minimum"
    if np.all(eigenvalues < -tol):
        return "maximum"
    return "inconclusive"


@pytest.mark.parametrize("exercise_id, answer", [
    ("07.is_convex_on_segment", _chord_as_the_hint_says),
    ("07.hessian_fd", _hessian_as_the_hint_says),
    ("07.classify_stationary_point", _classify_as_the_hint_says),
])
def test_the_generic_hint_describes_an_answer_that_passes(exercise_id, answer):
    assert all(o.status == "pass" for o in _outcomes(exercise_id, answer))


@pytest.mark.parametrize("exercise_id, wrong", [
    ("07.is_convex_on_segment", lambda f, a, b, n: True),  # never looks inside the segment
    ("07.hessian_fd", lambda grad, theta, h: np.eye(np.size(theta))),
    ("07.classify_stationary_point", lambda H, tol: "saddle"),
])
def test_a_mistake_no_hint_names_gets_the_generic_hint(exercise_id, wrong):
    assert SPECS[exercise_id].hint in _hints(exercise_id, wrong)


# --- the notebook ------------------------------------------------------------------

def _notebook_cell(name):
    return lessons.code_cell(ROOT / "solutions" / "07_convexity.ipynb", name)


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_the_notebook_answer_is_the_reference(exercise):
    ns = {"np": np}
    exec(_notebook_cell(exercise.function), ns)
    lessons.assert_answer_is_reference(exercise, ns[exercise.function])


def test_the_notebook_metadata_names_the_lesson():
    nb = json.loads((ROOT / "solutions" / "07_convexity.ipynb").read_text())
    six = json.loads((ROOT / "solutions" / "06_sgd.ipynb").read_text())
    assert nb["metadata"]["gradkit"] == {"lesson": "07_convexity"}
    assert nb["metadata"]["kernelspec"] == six["metadata"]["kernelspec"]


# --- the lesson's claims -------------------------------------------------------------

def _moons_grad(hidden, lambd=0.0):
    import gradkit as gk
    from gradkit import datasets, mlp

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    spec = gk.dict_to_vector(mlp.init_params([2, 3, 1]))[1]

    def grad(theta):
        params = gk.vector_to_dict(theta, spec)
        return gk.dict_to_vector(mlp.gradients(params, X, Y, hidden=hidden, lambd=lambd))[0]
    return grad


def test_zero_is_a_saddle_of_the_tanh_network():
    grad = _moons_grad("tanh")
    zero = np.zeros(13)
    assert np.abs(grad(zero)).max() < 1e-15
    H = hessian_fd(grad, zero, 1e-5)
    eigenvalues = np.linalg.eigvalsh(H)
    assert np.sum(eigenvalues < -0.3) == 3 and np.sum(eigenvalues > 0.3) == 3
    assert classify_stationary_point(H, 1e-8) == "saddle"


def test_separable_logistic_regression_is_strictly_convex_without_a_minimum():
    import gradkit as gk
    from gradkit import mlp, optim

    X, Y = np.array([[-2.0, -1.0, 1.0, 2.0]]), np.array([[0.0, 0.0, 1.0, 1.0]])
    params = {"W1": np.zeros((1, 1)), "b1": np.zeros((1, 1))}
    spec = gk.dict_to_vector(params)[1]

    def grad(theta):
        return gk.dict_to_vector(mlp.gradients(gk.vector_to_dict(theta, spec), X, Y))[0]

    weights, costs = [], []
    for _ in range(3):
        params, _ = optim.train(params, X, Y, method="gd", lr=1.0, epochs=300)
        theta = gk.dict_to_vector(params)[0]
        weights.append(params["W1"].item())
        costs.append(mlp.cost(params, X, Y))
        assert np.linalg.eigvalsh(hessian_fd(grad, theta, 1e-5)).min() > 0
    assert weights[0] < weights[1] < weights[2] and costs[0] > costs[1] > costs[2] > 0


# --- the auto-checked questions --------------------------------------------------------

from gradkit.grading.feedback import check_exercise  # noqa: E402
from gradkit.grading.variants import variant  # noqa: E402

QUESTIONS = [e for e in EXERCISES if e.question is not None]
INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("07")
ANSWERS = {"07.answer_7_1": "b", "07.answer_7_2": "c", "07.answer_7_4": 8.5}


def _outcome(exercise, value, student_id=""):
    result = check_exercise(exercise, lambda: value, student_id=student_id)
    (o,) = result.outcomes
    assert o.expected == "(not shown)"
    return result, o


def _gives_away(value, text):
    """Whether ``text`` names ``value``: a letter as an option, a number as a number."""
    if isinstance(value, str):
        patterns = [rf"\({value}\)", rf"['\"]{value}['\"]", rf"\boption {value}\b",
                    rf"\*\*{value}\.\*\*"]
    else:
        patterns = [rf"(?<![\d.]){re.escape(str(value))}(?![\d])", r"8\.4", r"8\.46"]
    return any(re.search(p, text) for p in patterns)


def test_the_lesson_has_its_questions_in_order():
    assert [e.id for e in EXERCISES] == [
        "07.is_convex_on_segment", "07.hessian_fd", "07.classify_stationary_point",
        "07.answer_7_1", "07.answer_7_2", "07.answer_7_4"]
    assert {e.id: e.points for e in QUESTIONS} == {
        "07.answer_7_1": 0.5, "07.answer_7_2": 1, "07.answer_7_4": 0.5}
    # derived, no longer copied from a formula or a table printed above them
    assert SPECS["07.hessian_fd"].points == SPECS["07.classify_stationary_point"].points == 4


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answer_passes_and_a_stub_is_unanswered(exercise):
    answer = lessons.reference(exercise)
    assert answer() == ANSWERS[exercise.id]
    assert check(exercise.id, answer).status == "passed"
    assert check(exercise.id, lessons.stub).status == "unanswered"


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_a_wrong_answer_is_judged_without_showing_the_answer(exercise):
    q = exercise.question
    wrong = list(q.options) if q.kind != "number" else list(INSTRUCTOR_FILE.FEEDBACK[exercise.id])
    wrong += [5.0, 12.0, 84.0] if q.kind == "number" else []
    for value in wrong:
        if value == ANSWERS[exercise.id]:
            continue
        result, o = _outcome(exercise, value)
        assert result.status == "failed", value
        assert o.hint and not _gives_away(ANSWERS[exercise.id], o.hint + " " + o.why), \
            (value, o.hint)


def test_each_wrong_choice_about_the_valley_gets_its_own_feedback():
    exercise = SPECS["07.answer_7_1"]
    feedback = INSTRUCTOR_FILE.FEEDBACK[exercise.id]
    assert set(feedback) == {"a", "c", "d"}
    hints = {option: _outcome(exercise, option)[1].hint for option in feedback}
    assert hints == feedback and len(set(hints.values())) == 3


def test_the_valley_prediction_is_what_the_notebook_shows():
    # the Hessian XX^T/m of least squares with a repeated feature: one zero eigenvalue
    x = np.linspace(-1, 1, 50)
    X_dup = np.vstack([x, x])
    eigenvalues = np.linalg.eigvalsh(X_dup @ X_dup.T / 50)
    assert abs(eigenvalues[0]) < 1e-12 and eigenvalues[1] == pytest.approx(0.69, abs=0.01)
    assert classify_stationary_point(X_dup @ X_dup.T / 50, 1e-8) == "inconclusive"
    question = next(c for c in _markdown_cells() if c.startswith("### Question 7.1"))
    assert '**b.** one positive and one zero eigenvalue, and "inconclusive"' in question


def _markdown_cells():
    nb = json.loads((ROOT / "solutions" / "07_convexity.ipynb").read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def test_the_escape_prediction_has_a_tolerance_and_names_the_typical_slips():
    exercise = SPECS["07.answer_7_4"]
    assert ANSWERS[exercise.id] == pytest.approx(np.log(10) / np.log(1.313), rel=0.01)
    for right in (8.46, 8, 9, 7.4, 9.5):
        assert _outcome(exercise, right)[0].status == "passed", right
    for slip, why in INSTRUCTOR_FILE.FEEDBACK[exercise.id].items():
        assert _outcome(exercise, slip)[1].hint == why, slip
    assert _outcome(exercise, 12)[1].hint == exercise.hint
    assert _outcome(exercise, "eight")[1].why.startswith("return a number")


def test_the_escape_prediction_agrees_with_training():
    from gradkit import datasets, mlp, optim

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    first = []
    for scale in [1e-1, 1e-2, 1e-3, 1e-4]:
        start = mlp.init_params([2, 3, 1], seed=0, scale=scale)
        _, history = optim.train(start, X, Y, method="gd", lr=1.0, epochs=60, hidden="tanh")
        first.append(int(np.argmax(history.cost < 0.6)))
    per_factor = np.diff(first)
    assert np.all(np.abs(per_factor - ANSWERS["07.answer_7_4"]) <= 0.15 * 8.5 + 0.5), first


def _bowl_by_the_lessons_method(c):
    """(convex, stationary points) of x**2 + c sin(x)**2, by the lesson's own tools: the
    chord test on segments and the sign changes of g' on a wide grid."""
    def g(x):
        return float(x**2 + c * np.sin(x) ** 2)

    segments = np.random.default_rng(0).uniform(-4, 4, size=(200, 2))
    convex = all(is_convex_on_segment(g, a, b, 20) for a, b in segments)
    xs = np.linspace(-3 * c - 1, 3 * c + 1, 20_000)
    stationary = int(np.sum(np.diff(np.sign(2 * xs + c * np.sin(2 * xs))) != 0))
    return convex, stationary


@pytest.mark.parametrize("v", range(len(spec.BOWL_COEFFICIENTS)))
def test_each_bowl_variant_is_solvable_by_the_lessons_method(v):
    convex, stationary = _bowl_by_the_lessons_method(spec.bowl_coefficient(v))
    letter = {(True, True): "a", (True, False): "b", (False, True): "c",
              (False, False): "d"}[(convex, stationary == 1)]
    assert INSTRUCTOR_FILE.key_answer_7_2(v) == letter
    # several stationary points of this even g: the minimum at 0 and pairs around it
    assert stationary % 2 == 1


def test_the_bowl_variants_differ_and_variant_0_is_the_lessons_g():
    keys = [INSTRUCTOR_FILE.key_answer_7_2(v) for v in range(12)]
    assert spec.bowl_coefficient(0) == 3.0  # the g of section 4
    assert keys[0] == ANSWERS["07.answer_7_2"] == lessons.reference("07.answer_7_2")()
    assert set(keys) == {"a", "c", "d"}
    assert SPECS["07.answer_7_2"].question.variants == 12


def _student_with(target, key="07.answer_7_2", n=12):
    return next(f"s{k}" for k in range(10_000) if variant(f"s{k}", key, n) == target)


@pytest.mark.parametrize("v", [1, 3, 7])
def test_a_student_is_judged_on_their_own_bowl(v):
    exercise = SPECS["07.answer_7_2"]
    student = _student_with(v)
    key = INSTRUCTOR_FILE.key_answer_7_2(v)
    assert check_exercise(exercise, lambda: key, student_id=student).status == "passed"
    hints = set()
    for option in exercise.question.options:
        if option == key:
            continue
        result = check_exercise(exercise, lambda option=option: option, student_id=student)
        (o,) = result.outcomes
        assert result.status == "failed" and o.expected == "(not shown)"
        assert o.hint != exercise.hint and not _gives_away(key, o.hint), (option, o.hint)
        hints.add(o.hint)
    assert len(hints) == 3  # each wrong claim is told what it overlooks
    entry = lessons.INSTRUCTOR.question_entry(exercise, v)
    assert len(entry["answer"]) == 1 and len(entry["feedback"]) == 3


def test_the_default_answer_is_wrong_for_another_bowl():
    exercise = SPECS["07.answer_7_2"]
    v = next(v for v in range(1, 12) if INSTRUCTOR_FILE.key_answer_7_2(v) != "c")
    assert check_exercise(exercise, lambda: "c", student_id=_student_with(v)).status == "failed"


def test_the_difference_formula_comes_after_exercise_7_2():
    cells = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
             for c in json.loads((ROOT / "solutions" / "07_convexity.ipynb").read_text())["cells"]]
    formula = [i for i, c in enumerate(cells) if "\\nabla f(\\theta + h e_j) - " in c]
    asked = next(i for i, c in enumerate(cells) if c.startswith("### Exercise 7.2"))
    checked = next(i for i, c in enumerate(cells) if c.startswith('check("07.hessian_fd"'))
    assert formula and min(formula) > checked > asked


def test_the_classification_rule_comes_after_exercise_7_3():
    cells = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
             for c in json.loads((ROOT / "solutions" / "07_convexity.ipynb").read_text())["cells"]]
    table = [i for i, c in enumerate(cells) if "| all $> 0$ | a strict local **minimum** |" in c]
    asked = next(i for i, c in enumerate(cells) if c.startswith("### Exercise 7.3"))
    checked = next(i for i, c in enumerate(cells)
                   if c.startswith('check("07.classify_stationary_point"'))
    assert table and min(table) > checked > asked
