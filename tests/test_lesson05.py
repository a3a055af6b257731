"""Lesson 05 specs: references pass, each hint fires on its mistake, the lesson's claims hold.

The references are the solution's answer cells (``lessons.reference``)."""

from pathlib import Path

import _lessons as lessons
import numpy as np
import pytest
from _grading import failing_hints

import gradkit as gk
from gradkit.grading import lesson05 as spec
from gradkit.grading import plain
from gradkit.grading.feedback import run_test

SOLUTION = Path(__file__).resolve().parent.parent / "solutions" / "05_regularization_dropout.ipynb"


def _reference(function):
    return lessons.reference(f"05.{function}")


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
    assert lines or exercise.id == "05.l2_gradient", exercise.id
    assert [line for line in lines if line in source] == []


def _sq(params, keys=None):
    return sum(np.sum(v**2) for k, v in params.items() if keys is None or k.startswith(keys))


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda p, lambd, m: lambd / (2 * m) * _sq(p), "biases too"),
    (lambda p, lambd, m: lambd / m * _sq(p, "W"), "constant factor in front"),
    (lambda p, lambd, m: lambd / 2 * _sq(p, "W"), "divide by m"),
    (lambda p, lambd, m: lambd / (2 * m) * sum(np.linalg.norm(v) for k, v in p.items()
                                               if k[0] == "W"), "squared Frobenius"),
])
def test_l2_cost_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("05.l2_cost", wrong)
    assert hints and all(hint in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda W, lambd, m: 2 * lambd / m * W, "don't keep a factor 2"),
    (lambda W, lambd, m: lambd / (2 * m) * W, "kept the 1/2"),
    (lambda W, lambd, m: lambd * W, "forgot the 1/m"),
])
def test_l2_gradient_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("05.l2_gradient", wrong)
    assert hints and all(hint in h for h in hints), hints


def _unscaled(A, keep_prob, rng):
    mask = rng.random(A.shape) < keep_prob
    return A * mask, mask


def _flipped(A, keep_prob, rng):
    mask = rng.random(A.shape) > keep_prob
    return A * mask / keep_prob, mask


def _other_draw(A, keep_prob, rng):
    mask = rng.uniform(size=A.shape[::-1]).T < keep_prob
    return A * mask / keep_prob, mask


@pytest.mark.parametrize(("wrong", "hint"), [
    (_unscaled, "forgot to rescale"),
    (_flipped, "opposite (>)"),
    (_other_draw, "draw the mask from the rng you are given"),
    (lambda A, keep_prob, rng: (A,), "two values"),
])
def test_dropout_forward_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("05.dropout_forward", wrong)
    assert hints and all(hint in h for h in hints), hints


def test_dropout_reference_matches_gradkit_and_repeats_with_the_seed(rng):
    A = rng.standard_normal((4, 9))
    out1, mask1 = _reference("dropout_forward")(A, 0.7, np.random.default_rng(3))
    out2, mask2 = gk.nn.dropout_forward(A, 0.7, np.random.default_rng(3))
    assert np.array_equal(mask1, mask2) and np.array_equal(out1, out2)


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda f, x, h: ((f(x + h) - f(x)) / h, (f(x) - f(x - h)) / h), "in this order"),
    (lambda f, x, h: ((f(x - h) - f(x)) / h, (f(x + h) - f(x)) / h), "wrong sign"),
    (lambda f, x, h: ((f(x + h) - f(x - h)) / (2 * h), (f(x + h) - f(x)) / h),
     "central differences"),
])
def test_one_sided_slopes_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("05.one_sided_slopes", wrong)
    assert hints and all(hint in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda dims: sum(n * p for p, n in zip(dims[:-1], dims[1:])), "weights only"),
    (lambda dims: sum(dims), "counted the units"),
])
def test_count_parameters_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("05.count_parameters", wrong)
    assert hints and all(hint in h for h in hints), hints


def test_count_parameters_matches_init_params():
    params = gk.mlp.init_params([2, 64, 32, 1])
    assert _reference("count_parameters")([2, 64, 32, 1]) == sum(v.size for v in params.values())


def test_l2_references_match_the_library(rng):
    params = gk.mlp.init_params([3, 4, 2], seed=1)
    assert _reference("l2_cost")(params, 0.3, 7) == pytest.approx(gk.nn.l2_penalty(params, 0.3, 7))
    W = rng.standard_normal((3, 2))
    assert np.allclose(_reference("l2_gradient")(W, 0.3, 7), gk.nn.l2_gradient(W, 0.3, 7))


def test_one_sided_slopes_stay_apart_at_a_kink_and_agree_on_smooth_functions():
    left, right = _reference("one_sided_slopes")(np.abs, 0.0, 1e-6)
    assert (left, right) == (-1.0, 1.0)
    left, right = _reference("one_sided_slopes")(np.sin, 0.3, 1e-6)
    assert abs(left - right) < 1e-5


def test_tanh_bug_hides_at_small_init_and_shows_after_training():
    X, Y = gk.datasets.moons(40, seed=0)
    bug = gk.bugs.BUGS["tanh_derivative_with_z"]
    small = gk.mlp.init_params([2, 8, 8, 1], seed=1, scale=0.01)
    later, _ = gk.optim.train(small, X, Y, method="gd", lr=1.0, epochs=1000, hidden="tanh",
                              progress=False)
    verdicts = [gk.check_gradients(lambda q: gk.mlp.cost(q, X, Y, hidden="tanh"), p,
                                   bug.gradients(p, X, Y, hidden="tanh")).verdict
                for p in (small, later)]
    assert verdicts == ["pass", "fail"]


def _dw_doubled_check(lambd):
    X, Y = gk.datasets.moons(12, seed=0)
    params = gk.mlp.init_params([2, 5, 4, 1], seed=0)
    bug = gk.bugs.BUGS["dw_doubled"]
    return gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y, lambd=lambd), params,
                              bug.gradients(params, X, Y, lambd=lambd))


def test_a_huge_lambda_hides_the_doubled_data_gradient():
    at_1e6 = _dw_doubled_check(1e6)
    # the overall error is under the tolerance, and each W fails on its own
    assert at_1e6.verdict == "fail" and at_1e6.relative_error < at_1e6.tolerance
    assert at_1e6.failing == ["W1", "W2", "W3"]
    assert at_1e6.per_parameter["W3"] > at_1e6.tolerance > at_1e6.per_parameter["W2"]
    assert _dw_doubled_check(1e8).failing == ["W3"]
    assert _dw_doubled_check(4e8).verdict == "pass"


@pytest.mark.parametrize("scale", ["xavier", "he"])
def test_tanh_bug_fails_at_once_with_weights_of_order_one(scale):
    X, Y = gk.datasets.moons(40, seed=0)
    bug = gk.bugs.BUGS["tanh_derivative_with_z"]
    params = gk.mlp.init_params([2, 8, 8, 1], seed=1, scale=scale)
    report = gk.check_gradients(lambda q: gk.mlp.cost(q, X, Y, hidden="tanh"), params,
                                bug.gradients(params, X, Y, hidden="tanh"))
    assert report.verdict == "fail"


def test_an_entry_near_a_kink_agrees_at_a_smaller_step():
    X, Y = gk.datasets.moons(12, seed=0)
    near = gk.mlp.init_params([2, 5, 4, 1], seed=0)
    near["b1"][0, 0] += 4e-6 - (near["W1"] @ X + near["b1"])[0, 3]

    def along(t):
        moved = {k: v.copy() for k, v in near.items()}
        moved["b1"][0, 0] += t
        return gk.mlp.cost(moved, X, Y)

    analytic = gk.mlp.gradients(near, X, Y)["b1"][0, 0]
    errors = [gk.relative_error(analytic, (along(h) - along(-h)) / (2 * h)) for h in (1e-5, 1e-6)]
    assert errors[0] > 1e-2 and errors[1] < 1e-8
    report = gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), near,
                                gk.mlp.gradients(near, X, Y), mode="full")
    assert report.passed and [(f.kind, f.parameter) for f in report.findings] == [("kink", "b1")]
    assert "at half the step the central difference agrees" in report.findings[0].message


# Questions: auto-checked, the answer never shown, each known wrong answer explained.

from gradkit.grading.feedback import check_exercise  # noqa: E402
from gradkit.grading.references import Instructor  # noqa: E402
from gradkit.grading.variants import use_student, variant, variant_of  # noqa: E402

INSTRUCTOR = Instructor(SOLUTION.parent)
FEEDBACK = INSTRUCTOR.module("05").FEEDBACK


def _question(function):
    return next(e for e in QUESTIONS if e.function == function)


def test_the_lesson_asks_its_questions_in_order_and_weighs_thought_over_transcription():
    assert [e.id for e in QUESTIONS] == [f"05.answer_5_{k}" for k in (1, 2, 4, 5, 6, 7)]
    points = {e.id: e.points for e in spec.EXERCISES}
    assert points["05.l2_gradient"] > points["05.l2_cost"]  # derived, not copied
    assert all(0.5 <= e.points <= 1 for e in QUESTIONS)
    answers = [lessons.reference(e)() for e in QUESTIONS if e.question.kind == "choice"]
    assert set(answers) == set(spec._LETTERS)  # the right letter varies: each is right somewhere


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answers_each_question_and_a_stub_is_unanswered(exercise):
    assert check_exercise(exercise, lessons.reference(exercise)).status == "passed"
    assert check_exercise(exercise, lessons.stub).status == "unanswered"
    assert exercise.id in FEEDBACK, "every question explains its known wrong answers"


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_each_wrong_answer_gets_its_own_feedback_and_never_the_answer(exercise):
    answer = lessons.reference(exercise)()
    known = {w: why for w, why in FEEDBACK[exercise.id].items() if w != answer}
    assert known
    for wrong, why in known.items():
        result = check_exercise(exercise, lambda w=wrong: w)
        (outcome,) = result.outcomes
        assert result.status == "failed" and outcome.hint == why, (wrong, outcome)
        assert outcome.expected == "(not shown)"
    assert len(set(known.values())) == len(known)
    for wrong in list(known) + ["zzz", 123456]:
        result = check_exercise(exercise, lambda w=wrong: w)
        (outcome,) = result.outcomes
        assert outcome.expected == "(not shown)"
        if wrong in known:  # an invalid answer is told the options, which name every letter
            assert repr(answer) not in outcome.why + outcome.hint
            assert f"{answer:g}" not in outcome.why + outcome.hint if exercise.question.kind \
                == "number" else True


def test_the_calls_answer_is_accepted_within_five_percent():
    exercise = _question("answer_5_6")
    assert check_exercise(exercise, lambda: 3000 * 4678).status == "passed"
    assert check_exercise(exercise, lambda: 3000 * 2 * 2305).status == "passed"  # 2P per check
    assert check_exercise(exercise, lambda: 3000 * 2305).status == "failed"
    assert check_exercise(exercise, lambda: "many").outcomes[0].why.startswith("return a number")


def _bug_from_the_report(report, lambd, m):
    """Question 5.1 answered by the lesson's method: the findings' kind, tensors and factor."""
    kinds = {(f.kind, f.parameter[0], round(f.value / (lambd / m), 6)) for f in report.findings}
    assert report.verdict == "fail", report
    if kinds == {("missing_l2", "W", 1.0)}:
        return "a"
    if kinds == {("missing_l2", "W", 0.5)}:
        return "b"
    if kinds == {("extra_l2", "W", 1.0)}:
        return "c"
    if kinds == {("missing_l2", "W", 2.0)}:
        return "d"
    raise AssertionError(f"no option explains {sorted(kinds)}")


def test_every_l2_mystery_is_answered_by_reading_its_findings():
    X, Y = gk.datasets.moons(12, seed=0)
    params = gk.mlp.init_params([2, 5, 4, 1], seed=0)
    exercise = _question("answer_5_1")
    n = exercise.question.variants
    assert n == len(spec.L2_PLANS) == 12
    keys = []
    for v in range(n):
        cost, grads, lambd = spec.l2_mystery(v, params, X, Y)
        report = gk.check_gradients(cost, params, grads)
        key = INSTRUCTOR.question_answer(exercise, v)
        assert key == _bug_from_the_report(report, lambd, X.shape[1]), (v, spec.L2_PLANS[v])
        assert INSTRUCTOR.question_entry(exercise, v)["answer"]
        keys.append(key)
    assert keys[0] == lessons.reference(exercise)() == "b"  # what the text shows
    assert set(keys) == {"a", "b", "c", "d"}
    assert len({spec.L2_PLANS[v][3] for v in range(n)}) == 3  # and lambda varies
    with pytest.raises(ValueError, match="variants 0 to 11"):
        spec.l2_mystery(12, params, X, Y)


def test_a_student_is_checked_against_their_own_l2_mystery():
    exercise = _question("answer_5_1")
    keys = {v: INSTRUCTOR.question_answer(exercise, v) for v in range(12)}
    student = next(s for s in (f"s{k}" for k in range(100))
                   if keys[variant(s, exercise.id, 12)] != keys[0])
    mine = keys[variant(student, exercise.id, 12)]
    assert check_exercise(exercise, lambda: mine, student_id=student).status == "passed"
    result = check_exercise(exercise, lambda: keys[0], student_id=student)
    assert result.status == "failed" and result.outcomes[0].expected == "(not shown)"
    assert result.outcomes[0].hint == FEEDBACK[exercise.id][keys[0]]
    with use_student(student):  # the notebook's cell draws the same variant
        assert variant_of(exercise.id, 12) == variant(student, exercise.id, 12)


def test_two_dropout_seeds_fail_the_check_and_one_seed_passes_it():
    X, Y = gk.datasets.moons(12, seed=0)
    params = gk.mlp.init_params([2, 5, 4, 1], seed=0)
    verdicts = [gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y, keep_prob=0.8, seed=1), params,
                                   gk.mlp.gradients(params, X, Y, keep_prob=0.8,
                                                    seed=seed)).verdict for seed in (1, 2)]
    assert verdicts == ["pass", "fail"]


def test_the_text_gives_no_prediction_away_before_its_question():
    import nbformat

    nb = nbformat.read(SOLUTION, as_version=4)
    text = [c.source for c in nb.cells]
    ask = next(i for i, s in enumerate(text) if "### Question 5.2" in s)
    assert not any("shrink like $1/\\lambda$" in s for s in text[:ask])
    ask = next(i for i, s in enumerate(text) if "### Question 5.5" in s)
    assert not any("does not shrink with $h$" in s or "stay apart as" in s for s in text[:ask])
    exercise = next(s for s in text if "### Exercise 5.2" in s)
    assert "\\frac{\\lambda}{m} W" not in exercise and "gains" not in text[13]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat
    from _grading import edited, grade_variants

    solution = nbformat.read(SOLUTION, as_version=4)
    exercise = _question("answer_5_1")
    keys = {v: INSTRUCTOR.question_answer(exercise, v) for v in range(12)}
    student = next(s for s in (f"s{k}" for k in range(100))
                   if keys[variant(s, exercise.id, 12)] != keys[0])
    own = keys[variant(student, exercise.id, 12)]

    def as_student(answer):
        with_id = edited(solution, 'STUDENT_ID = ""', lambda src: f'STUDENT_ID = "{student}"')
        return edited(with_id, "def answer_5_1", lambda src: src.replace(
            "return 'b'", f"return {answer!r}"))

    return grade_variants(tmp_path_factory.mktemp("lesson05"), "05_regularization_dropout",
                          {"correct": solution, "own_variant": as_student(own),
                           "default_variant": as_student("b")})


def test_grader_gives_the_solution_full_marks_and_carries_the_written_answers(graded):
    sub = graded["correct"]
    assert sub.error is None and not sub.cell_errors, sub.cell_errors
    assert sub.score == sub.max_score == sum(e.points for e in spec.EXERCISES) == 13
    assert [title for title, _, _ in sub.written] == ["Question 5.3."]


def test_grader_judges_the_mystery_of_the_students_own_variant(graded):
    assert graded["own_variant"].score == 13
    sub = graded["default_variant"]  # the answer the text shows, not this student's
    failed = [t for t in sub.tests if t.score == 0]
    assert [t.name for t in failed] == ["05.answer_5_1: your answer"], [t.name for t in failed]
    assert "(not shown)" in failed[0].output or "expected" not in failed[0].output
    assert sub.score == 12
