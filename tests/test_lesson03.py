"""Lesson 03 specs: references pass, hints name the mistakes, the N-D check is fair and general.

``gradient_check_n`` is graded on numbers that round-off makes differ between
correct implementations, so two other correct implementations must pass every
public test, and each typical wrong one must fail with its hint. The
reference is cross-checked against gradkit's own numerical gradient on nets
of one to four layers and on arbitrary parameter names. A real ``gradkit
grade`` run gives the solution full marks, and takes the mark for leaving
``params`` unchanged from an answer that changes them and fakes that verdict in
its own process.

The references are the solution's answer cells (``lessons.reference``).
"""

from pathlib import Path

import _lessons as lessons
import nbformat
import numpy as np
import pytest
from _grading import edited, failing_hints, grade_variants

import gradkit as gk
from gradkit.grading import check, plain
from gradkit.grading import lesson03 as spec
from gradkit.grading.feedback import run_test
from gradkit.params import dict_to_vector, vector_to_dict

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "03_gradient_checking.ipynb"
LESSON = ROOT / "lessons" / "03_gradient_checking.ipynb"


def _norm(v):
    return np.linalg.norm(v)


def _relative_error(grad, gradapprox):
    """The solution's answer to Exercise 3.1."""
    return lessons.reference("03.relative_error")(grad, gradapprox)


EXERCISES = [e for e in spec.EXERCISES if e.question is None]
QUESTIONS = [e for e in spec.EXERCISES if e.question is not None]


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    reference = lessons.reference(exercise)
    for test in exercise.tests:
        assert run_test(exercise, test, reference).status == "pass", test.name
        plain.encode(test.run(reference))  # returns plain data


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    source = Path(spec.__file__).read_text(encoding="utf-8")
    lines = lessons.solution_lines(SOLUTION, exercise.function)
    assert lines, exercise.id
    assert [line for line in lines if line in source] == []


def _unchanged_test():
    return next(t for t in spec._CHECK_N.tests if t.name == "params are left unchanged")


def test_the_unchanged_params_verdict_is_the_graders_from_the_returned_arrays():
    test = _unchanged_test()
    cost, params, grads = test.make_args()
    returned = plain.decode(plain.encode(test.run_with(lessons.reference(spec._CHECK_N),
                                                       (cost, params, grads))))
    assert set(returned) == set(params)  # the student's process sends the arrays, no verdict
    assert test.after(test.make_args(), returned) == "unchanged"
    moved = dict(returned, W2=returned["W2"].copy())
    moved["W2"][1, 2] += 1e-7
    assert test.after(test.make_args(), moved) == "changed: W2[1, 2] moved by 1.0e-07"
    assert test.after(test.make_args(), dict(returned, W2=returned["W2"][0])).startswith(
        "changed: W2 now has the shape")
    assert test.after(test.make_args(), "unchanged").startswith("changed: params no longer")
    one_ulp = dict(returned, W2=np.nextafter(returned["W2"], np.inf))
    assert test.after(test.make_args(), one_ulp) == "unchanged"  # restored with += / -=


def test_check_data_leaves_out_mistake_values_of_another_kind_than_the_expected():
    # the wrong gradient checks return a number; the unchanged-params test compares a verdict
    from gradkit.grading import checkdata

    test = _unchanged_test()
    numbers = lessons.INSTRUCTOR.wrong_values(spec._CHECK_N, test)
    assert numbers and all(isinstance(v, float) for v in numbers.values())
    stored = checkdata.compute("03", lessons.INSTRUCTOR)["exercises"]["03.gradient_check_n"]
    assert stored["tests"][test.name] == {"expected": "unchanged", "wrong": {}}
    kept = stored["tests"]["dW2 doubled in a 3-layer net"]["wrong"]  # the negative case
    assert "check_one_sided" in kept and isinstance(kept["check_one_sided"], float)


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda a, n: _norm(a - n), "that is the absolute difference"),
    (lambda a, n: _norm(a - n) / _norm(a), "divided by the norm of one gradient"),
    (lambda a, n: _norm(a - n) / max(_norm(a), _norm(n)), "or by the larger one, max"),
    (lambda a, n: _norm(a - n) ** 2 / (_norm(a) ** 2 + _norm(n) ** 2), "not squared norms"),
])
def test_relative_error_mistakes_get_their_hint(wrong, hint):
    with np.errstate(invalid="ignore"):  # the both-zero test divides 0 by 0
        result = check("03.relative_error", wrong)
    # both zero: 0/0; opposite gradients: these mistakes all give 2, the hints cannot tell
    failed = [o for o in result.outcomes if o.status == "fail"
              and "both zero" not in o.name and "opposite" not in o.name]
    assert failed and all(hint in o.hint for o in failed), [o.hint for o in failed]


def _draft(grad, gradapprox):
    """The classmate's draft of Exercise 3.1, as the lesson prints it."""
    return abs(_norm(grad) - _norm(gradapprox)) / max(_norm(grad), _norm(gradapprox))


def _draft_with_the_denominator_fixed(grad, gradapprox):
    denominator = _norm(grad) + _norm(gradapprox)
    return 0.0 if denominator == 0 else abs(_norm(grad) - _norm(gradapprox)) / denominator


@pytest.mark.parametrize("wrong", [_draft, _draft_with_the_denominator_fixed],
                         ids=["draft", "denominator_fixed"])
def test_a_draft_that_compares_the_norms_is_told_so(wrong):
    with np.errstate(invalid="ignore"):
        result = check("03.relative_error", wrong)
    failed = [o for o in result.outcomes if o.status == "fail" and "both zero" not in o.name]
    assert failed and all("compares the sizes of the two gradients" in o.hint for o in failed), \
        [(o.name, o.hint) for o in failed]


def test_the_draft_in_the_notebook_is_the_one_the_hints_describe():
    cell = lessons.code_cell(SOLUTION, "relative_error_draft")
    assert "return abs(a - n) / max(a, n)" in cell
    nb = nbformat.read(SOLUTION, as_version=4)
    printed = next("".join(o.get("text", "") for o in c.outputs) for c in nb.cells
                   if c.cell_type == "code" and "def relative_error_draft" in c.source)
    # the evidence the exercise asks to read: 0 for opposite gradients, nan for two zeros
    assert "opposite, a = -n     0.0e+00    1.0e+00" in printed
    assert "both zero                nan    0.0e+00" in printed


def test_relative_error_of_two_zeros_must_be_zero_not_nan():
    with np.errstate(invalid="ignore"):
        hints = failing_hints("03.relative_error",
                              lambda a, n: _norm(a - n) / (_norm(a) + _norm(n)))
    assert hints == ["when both gradients are zero, 0/0 is nan: the exercise asks for 0.0 in "
                     "that case, so handle it before you divide."]


def _flat_check(cost, params, grads, epsilon=1e-7, method="central", scale=1.0,
                grad_order=None, fixed_epsilon=None):
    """gradient_check_n written another way, with switches for typical mistakes."""
    eps = fixed_epsilon or epsilon
    theta, spec_ = dict_to_vector(params)
    names = grad_order(grads) if grad_order else spec_.names
    grad = np.concatenate([np.ravel(grads[name]) for name in names])
    approx = np.empty_like(theta)
    J0 = cost(params)
    for i, e in enumerate(np.eye(theta.size)):
        J_plus = cost(vector_to_dict(theta + eps * e, spec_))
        if method == "central":
            approx[i] = (J_plus - cost(vector_to_dict(theta - eps * e, spec_))) / (2 * eps)
        else:
            approx[i] = (J_plus - J0) / eps
    return _relative_error(grad, scale * approx)


def _in_place_restored(cost, params, grads, epsilon=1e-7):
    """Another correct implementation: perturb the caller's arrays and restore them."""
    approx, grad = [], []
    for name, value in params.items():
        for index in np.ndindex(value.shape):
            old = value[index]
            try:
                value[index] = old + epsilon
                J_plus = cost(params)
                value[index] = old - epsilon
                J_minus = cost(params)
            finally:
                value[index] = old
            approx.append((J_plus - J_minus) / (2 * epsilon))
            grad.append(grads[name][index])
    return _relative_error(np.array(grad), np.array(approx))


@pytest.mark.parametrize("answer", [_flat_check, _in_place_restored], ids=["flat", "in_place"])
def test_other_correct_implementations_pass_every_public_test(answer):
    assert check("03.gradient_check_n", answer).status == "passed"


def _in_place_never_restored(cost, params, grads, epsilon=1e-7):
    approx = []
    for value in params.values():
        for index in np.ndindex(value.shape):
            value[index] += epsilon
            J_plus = cost(params)
            value[index] -= 2 * epsilon
            approx.append((J_plus - cost(params)) / (2 * epsilon))
    return _relative_error(dict_to_vector(grads, dict_to_vector(params)[1])[0],
                           np.array(approx))


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda c, p, g, epsilon=1e-7: _flat_check(c, p, g, epsilon, method="forward"),
     "your error shrinks like epsilon, not epsilon²"),
    (lambda c, p, g, epsilon=1e-7: _flat_check(c, p, g, epsilon, scale=2.0), "twice too large"),
    (lambda c, p, g, epsilon=1e-7: _flat_check(c, p, g, epsilon, fixed_epsilon=1e-7),
     "use the epsilon you are given"),
    (lambda c, p, g, epsilon=1e-7: _flat_check(c, p, g, epsilon, grad_order=list),
     "flatten grads in the order of params"),
    (_in_place_never_restored, "your check changed params"),
    (lambda c, p, g, epsilon=1e-7: np.zeros(3), "return one number"),
])
def test_gradient_check_n_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("03.gradient_check_n", wrong)
    assert hints and any(hint in h for h in hints), hints


def test_an_absolute_difference_is_told_to_divide_by_the_norms():
    def absolute(cost, params, grads, epsilon=1e-7):
        theta, spec_ = dict_to_vector(params)
        numeric = dict_to_vector(gk.numerical_gradient(cost, params, h=epsilon))[0]
        return float(np.linalg.norm(dict_to_vector(grads, spec_)[0] - numeric))

    hints = failing_hints("03.gradient_check_n", absolute)
    assert any("not the normwise relative error of Exercise 3.1" in h for h in hints)


@pytest.mark.parametrize("dims", [[3, 1], [3, 4, 1], [3, 4, 3, 1], [2, 5, 4, 3, 2]])
def test_gradient_check_n_agrees_with_gradkit_on_nets_of_any_depth(dims, rng):
    gradient_check_n = lessons.reference("03.gradient_check_n")
    cost, params, grads = spec._net(rng, dims)
    before = {name: value.copy() for name, value in params.items()}
    assert gradient_check_n(cost, params, grads) < 1e-6
    assert all(np.array_equal(params[name], before[name]) for name in params)
    wrong = dict(grads, b1=3 * grads["b1"])
    expected = gk.relative_error(wrong, gk.numerical_gradient(cost, params, h=1e-7))
    assert gradient_check_n(cost, params, wrong) == pytest.approx(expected, rel=1e-4)


def test_gradient_check_n_takes_any_names_and_key_order(rng):
    gradient_check_n = lessons.reference("03.gradient_check_n")
    X = rng.standard_normal((2, 7))
    y = rng.standard_normal(7)

    def cost(p):  # linear regression, parameters named freely
        return 0.5 * np.mean((p["slope"] @ X + p["offset"] - y) ** 2)

    params = {"slope": rng.standard_normal(2), "offset": np.array(0.3)}
    r = params["slope"] @ X + params["offset"] - y
    grads = {"offset": np.array(np.mean(r)), "slope": X @ r / 7}  # keys in another order
    assert gradient_check_n(cost, params, grads) < 1e-7
    assert gradient_check_n(cost, params, dict(grads, offset=-grads["offset"])) > 1e-2


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda g, n: [_relative_error(g[k], n[k]) for k in g], "list of pairs"),
    (lambda g, n: [(k, gk.relative_error(g, n)) for k in g], "each tensor its own"),
    (lambda g, n: [(k, _relative_error(g[k], n[k])) for k in sorted(g)], "order of grads"),
])
def test_per_tensor_errors_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("03.per_tensor_errors", wrong)
    assert hints and all(hint in h for h in hints), hints


def test_a_flipped_small_tensor_hides_in_the_global_error(rng):
    grads = {"W": rng.standard_normal((20, 20)), "b": 1e-3 * rng.standard_normal((20, 1))}
    numeric = {name: g * (1 + 1e-10 * rng.standard_normal(g.shape)) for name, g in grads.items()}
    flipped = dict(grads, b=-grads["b"])
    errors = dict(lessons.reference("03.per_tensor_errors")(flipped, numeric))
    assert errors["b"] == pytest.approx(1.0) and errors["W"] < 1e-9
    assert gk.relative_error(flipped, numeric) < 1e-3  # "look closer" at most, globally


# moves one entry of params, then makes this process's own verdict say "unchanged"
_CHANGES_PARAMS_AND_FAKES_THE_VERDICT = """\
    params[spec.names[0]].flat[0] += 1.0
    import gradkit.grading.lesson03 as _spec
    _spec._unchanged = lambda args, after: "unchanged"
    for _test in _spec._CHECK_N.tests:
        if _test.name == "params are left unchanged":
            object.__setattr__(_test, "call", lambda fn, *args: "unchanged")
            object.__setattr__(_test, "post", lambda args, value: "unchanged")
    return relative_error(grad, gradapprox)"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    solution = nbformat.read(SOLUTION, as_version=4)
    one_sided = edited(solution, "def gradient_check_n", lambda src: src.replace(
        "J_minus = cost(vector_to_dict(theta_minus, spec))", "J_minus = cost(params)"
    ).replace("(J_plus - J_minus) / (2 * epsilon)", "(J_plus - J_minus) / epsilon"))
    faked = edited(solution, "def gradient_check_n", lambda src: src.replace(
        "    return relative_error(grad, gradapprox)", _CHANGES_PARAMS_AND_FAKES_THE_VERDICT))
    own, student = _a_student_whose_mystery_differs()

    def as_student(answer):
        with_id = edited(solution, 'STUDENT_ID = ""', lambda src: f'STUDENT_ID = "{student}"')
        return edited(with_id, "def answer_3_5", lambda src: src.replace(
            "return 'a'", f"return {answer!r}"))

    return grade_variants(tmp_path_factory.mktemp("lesson03"), "03_gradient_checking",
                          {"correct": solution, "one_sided": one_sided, "faked": faked,
                           "unanswered": nbformat.read(LESSON, as_version=4),
                           "own_variant": as_student(own), "default_variant": as_student("a")})


def _a_student_whose_mystery_differs():
    """(their answer to Question 3.5, their id), for a student whose answer is not the
    default variant's."""
    from gradkit.grading.references import Instructor
    from gradkit.grading.variants import variant

    exercise = next(e for e in spec.EXERCISES if e.id == "03.answer_3_5")
    keys = {v: Instructor(ROOT / "solutions").question_answer(exercise, v) for v in range(6)}
    student = next(s for s in (f"s{k}" for k in range(100))
                   if keys[variant(s, exercise.id, 6)] != keys[0])
    return keys[variant(student, exercise.id, 6)], student


def test_grader_gives_the_solution_full_marks(graded):
    sub = graded["correct"]
    assert sub.error is None and not sub.cell_errors, sub.cell_errors
    assert sub.score == sub.max_score == 12


def test_grader_takes_off_only_the_epsilon_test_from_a_one_sided_check(graded):
    sub = graded["one_sided"]
    failed = [t for t in sub.tests if t.score == 0]
    assert [t.name for t in failed] == [
        "03.gradient_check_n: epsilon = 1e-2 is used (truncation error shows)"]
    assert "shrinks like epsilon, not epsilon²" in failed[0].output


def test_grader_takes_the_unchanged_mark_from_an_answer_that_fakes_it(graded):
    sub = graded["faked"]
    failed = [t for t in sub.tests if t.score == 0]
    assert [t.name for t in failed] == ["03.gradient_check_n: params are left unchanged"]
    assert "your check changed params" in failed[0].output


def test_grader_judges_the_mystery_of_the_students_own_variant(graded):
    assert graded["own_variant"].score == 12
    sub = graded["default_variant"]  # the answer the text shows, not this student's
    failed = [t for t in sub.tests if t.score == 0]
    assert [t.name for t in failed] == ["03.answer_3_5: your answer"]
    assert sub.score == 11


def test_grader_carries_the_written_answer_to_the_instructor(graded):
    assert [title for title, _, _ in graded["correct"].written] == ["Question 3.2."]


def test_grader_scores_the_unanswered_lesson_zero(graded):
    sub = graded["unanswered"]
    assert sub.error is None and sub.score == 0
    assert all("not answered yet" in t.output for t in sub.tests)


# Questions: auto-checked, the answer never shown, each known wrong answer explained.

from gradkit.grading.feedback import check_exercise  # noqa: E402
from gradkit.grading.references import Instructor  # noqa: E402
from gradkit.grading.variants import use_student, variant  # noqa: E402

INSTRUCTOR = Instructor(ROOT / "solutions")
FEEDBACK = INSTRUCTOR.module("03").FEEDBACK


def _question(function):
    return next(e for e in QUESTIONS if e.function == function)


def _shown(result):
    return repr(result) + result._repr_html_() + "".join(
        o.expected + o.why + o.hint + o.received for o in result.outcomes)


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answers_each_question_and_a_stub_is_unanswered(exercise):
    answer = lessons.reference(exercise)
    assert check_exercise(exercise, answer).status == "passed"
    assert check_exercise(exercise, lessons.stub).status == "unanswered"
    assert exercise.id in FEEDBACK, "every question explains its known wrong answers"


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_each_wrong_answer_gets_its_own_feedback_and_never_the_answer(exercise):
    answer = str(lessons.reference(exercise)())
    whys = set()
    known = {w: why for w, why in FEEDBACK[exercise.id].items() if str(w) != answer}
    for wrong, why in known.items():
        result = check_exercise(exercise, lambda w=wrong: w)
        (outcome,) = result.outcomes
        assert result.status == "failed" and outcome.hint == why, (wrong, outcome)
        assert outcome.expected == "(not shown)"
        whys.add(why)
    assert len(whys) == len(known)
    for wrong in list(known) + ["zzz", -5]:
        result = check_exercise(exercise, lambda w=wrong: w)
        text = _shown(result)
        if exercise.question.kind == "choice":
            assert f"answer {answer!r}" not in text and f"'{answer}' is right" not in text
            if wrong in known:  # an invalid answer is told the options
                assert all(f"{answer!r}" not in (o.why + o.hint) for o in result.outcomes)
        else:
            assert all(o.expected == "(not shown)" for o in result.outcomes)
            assert answer not in "".join(o.why + o.hint for o in result.outcomes), text


def test_a_number_is_accepted_within_its_tolerance_and_its_units():
    q33, q34 = _question("answer_3_3"), _question("answer_3_4")
    assert check_exercise(q33, lambda: 0.995).status == "passed"
    assert check_exercise(q33, lambda: 0.9).status == "failed"
    assert check_exercise(q34, lambda: 14.0).status == "passed"
    assert check_exercise(q34, lambda: 15).status == "failed"
    assert "whole number" in check_exercise(q34, lambda: 14.5).outcomes[0].why


def _line_from_the_report(report):
    """Question 3.5 answered by the lesson's method: which tensors fail, which pass."""
    failing = set(report.failing)
    weights, biases = {"W1", "W2", "W3"}, {"b1", "b2", "b3"}
    if failing == biases:
        return "a"
    if failing == weights:
        return "b"
    if failing == weights | biases:
        return "c"
    if failing and not failing & {"W3", "b3"}:
        return "d"
    raise AssertionError(f"no line explains {sorted(failing)}")


@pytest.fixture(scope="module")
def trained_net():
    X, Y = gk.datasets.moons(200, seed=0)
    kw = {"hidden": "tanh", "lambd": 0.5}
    start = gk.mlp.init_params([2, 8, 8, 1], seed=0)
    params, _ = gk.optim.train(start, X, Y, method="momentum", batch_size=200, lr=0.5,
                               epochs=1000, progress=False, **kw)
    return X, Y, kw, params


def test_every_mystery_variant_is_answered_by_reading_its_report(trained_net):
    X, Y, kw, params = trained_net
    exercise = _question("answer_3_5")
    n = exercise.question.variants
    assert n == len(spec.MYSTERY_BUGS) == 6
    keys = []
    for v in range(n):
        bug = gk.bugs.BUGS[spec.mystery_bug(v)]
        report = gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y, **kw), params,
                                    bug.gradients(params, X, Y, **kw))
        key = INSTRUCTOR.question_answer(exercise, v)
        assert key == _line_from_the_report(report), (v, bug.name, report.failing)
        assert INSTRUCTOR.question_entry(exercise, v)["answer"]
        keys.append(key)
    assert keys[0] == lessons.reference(exercise)() == "a"  # what the text shows
    assert len(set(keys)) == 4  # every option is the answer of some variant
    with pytest.raises(ValueError, match="variants 0 to 5"):
        spec.mystery_bug(6)


def test_a_student_is_checked_against_their_own_variant():
    exercise = _question("answer_3_5")
    keys = {v: INSTRUCTOR.question_answer(exercise, v) for v in range(6)}
    student = next(s for s in (f"s{k}" for k in range(100))
                   if keys[variant(s, exercise.id, 6)] != keys[0])
    mine = keys[variant(student, exercise.id, 6)]
    assert check_exercise(exercise, lambda: mine, student_id=student).status == "passed"
    result = check_exercise(exercise, lambda: keys[0], student_id=student)
    assert result.status == "failed" and result.outcomes[0].expected == "(not shown)"
    with use_student(student):  # the notebook's cell draws the same variant
        from gradkit.grading.variants import variant_of
        assert variant_of(exercise.id, 6) == variant(student, exercise.id, 6)
