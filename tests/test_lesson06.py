"""Lesson 06 specs: each reference passes its own tests, each Mistake fires on the wrong
answer it describes, the generic hints lead to answers that pass, the notebook's answers are
the references, and the notebook's explorer and full-data-cost loop work headless."""

import re
from pathlib import Path

import _lessons as lessons
import numpy as np
import pytest

import gradkit.grading.lesson06 as spec
from gradkit.grading import checkdata, plain
from gradkit.grading.feedback import expected_value, run_test
from gradkit.grading.lesson06 import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
SPECS = {e.id: e for e in EXERCISES}
CODE = [e for e in EXERCISES if e.question is None]  # the exercises that are functions


def logistic_cost_and_grad(w, b, X, Y):
    """The notebook's answer."""
    return lessons.reference("06.logistic_cost_and_grad")(w, b, X, Y)


def minibatches(X, Y, batch_size, rng):
    """The notebook's answer."""
    return lessons.reference("06.minibatches")(X, Y, batch_size, rng)


def _hints(exercise_id, wrong):
    """Hints of every failed public test when ``wrong`` answers."""
    exercise = SPECS[exercise_id]
    outcomes = [run_test(exercise, t, wrong) for t in exercise.tests]
    assert any(o.status == "fail" for o in outcomes), "the wrong answer passed every test"
    return " ".join(o.hint for o in outcomes if o.status == "fail")


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name
        plain.encode(test.run(lessons.reference(exercise)))  # returns plain data


def test_logistic_gradient_matches_finite_differences(rng):
    import gradkit as gk

    X, Y = rng.standard_normal((3, 20)), (rng.random((1, 20)) < 0.5).astype(float)
    params = {"w": rng.standard_normal((1, 3)), "b": rng.standard_normal((1, 1))}
    _, dw, db = logistic_cost_and_grad(params["w"], params["b"], X, Y)
    report = gk.check_gradients(lambda p: logistic_cost_and_grad(p["w"], p["b"], X, Y)[0],
                                params, {"w": dw, "b": db})
    assert report.passed


def _logistic_variant(kind):
    def fn(w, b, X, Y):
        m = X.shape[1]
        cost, dw, db = logistic_cost_and_grad(w, b, X, Y)
        a = 1 / (1 + np.exp(-(w @ X + b)))
        if kind == "transposed":
            return cost, dw.T, db
        if kind == "sum":
            return cost * m, dw, db
        if kind == "no_1_over_m":
            return cost, dw * m, db * m
        if kind == "sign":
            return cost, -dw, -db
        if kind == "half_entropy":
            return float(np.mean(-Y * np.log(a))), dw, db
        if kind == "naive_log":
            with np.errstate(all="ignore"):
                return float(np.mean(-Y * np.log(a) - (1 - Y) * np.log(1 - a))), dw, db
        return cost, dw
    return fn


@pytest.mark.parametrize("kind, words", [
    ("transposed", "dw is transposed"),
    ("sum", "divide by m"),
    ("no_1_over_m", "m times too large"),
    ("sign", "wrong sign"),
    ("half_entropy", "(1 - y) log(1 - a)"),
    ("naive_log", "logaddexp"),
    ("two_values", "three values"),
])
def test_logistic_mistakes_are_named(kind, words):
    assert words in _hints("06.logistic_cost_and_grad", _logistic_variant(kind))


def _unshuffled(X, Y, bs, rng):
    return [(X[:, i:i + bs], Y[:, i:i + bs]) for i in range(0, X.shape[1], bs)]


def _drop_last(X, Y, bs, rng):
    batches = minibatches(X, Y, bs, rng)
    return batches[:-1] if batches[-1][0].shape[1] < bs else batches


def _two_perms(X, Y, bs, rng):
    ox, oy = rng.permutation(X.shape[1]), rng.permutation(X.shape[1])
    Xs, Ys = X[:, ox], Y[:, oy]
    return [(Xs[:, i:i + bs], Ys[:, i:i + bs]) for i in range(0, X.shape[1], bs)]


def _rows(X, Y, bs, rng):
    return minibatches(X.T, Y.T, bs, rng)


@pytest.mark.parametrize("wrong, words", [
    (_unshuffled, "original order"),
    (_drop_last, "last, smaller batch"),
    (_two_perms, "two different permutations"),
    (_rows, "axis 1"),
])
def test_minibatch_mistakes_are_named(wrong, words):
    assert words in _hints("06.minibatches", wrong)


def test_minibatches_match_the_library(rng):
    from gradkit.optim import minibatches as library

    X, Y = rng.standard_normal((2, 50)), rng.standard_normal((1, 50))
    for a, b in zip(minibatches(X, Y, 16, np.random.default_rng(5)), library(X, Y, 16, seed=5)):
        assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def _in_place(params, grads, lr):
    for key in params:
        params[key] -= lr * grads[key]
    return params


@pytest.mark.parametrize("wrong, words", [
    (_in_place, "in place"),
    (lambda p, g, lr: {k: v + lr * g[k] for k, v in p.items()}, "uphill"),
    (lambda p, g, lr: {k: v - g[k] for k, v in p.items()}, "learning rate is missing"),
])
def test_sgd_step_mistakes_are_named(wrong, words):
    assert words in _hints("06.sgd_step", wrong)


def _answers_as_the_hints_say():
    """Each exercise's generic hint, followed word for word."""
    import gradkit as gk

    def logistic(w, b, X, Y):
        m = X.shape[1]
        z = w @ X + b
        cost = np.mean(np.logaddexp(0, z) - Y * z)
        dz = (gk.nn.sigmoid(z) - Y) / m
        return cost, dz @ X.T, np.sum(dz, axis=1, keepdims=True)

    def batches(X, Y, batch_size, rng):
        m = X.shape[1]
        order = rng.permutation(m)
        return [(X[:, order][:, i:i + batch_size], Y[:, order][:, i:i + batch_size])
                for i in range(0, m, batch_size)]

    def step(params, grads, lr):
        return {key: params[key] - lr * grads[key] for key in params}

    return {"06.logistic_cost_and_grad": logistic, "06.minibatches": batches,
            "06.sgd_step": step}


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_the_generic_hint_describes_an_answer_that_passes(exercise):
    answer = _answers_as_the_hints_say()[exercise.id]
    for test in exercise.tests:
        assert run_test(exercise, test, answer).status == "pass", test.name


def test_the_logistic_hint_no_longer_suggests_a_cost_that_overflows():
    hint = SPECS["06.logistic_cost_and_grad"].hint
    assert "logaddexp" in hint and "log a" not in hint.replace("-y log a - (1-y) log(1-a)", "")


def _no_db(w, b, X, Y):
    cost, dw, db = logistic_cost_and_grad(w, b, X, Y)
    return cost, dw, np.zeros_like(db)


def _reversed_order(X, Y, bs, rng):
    order = rng.permutation(X.shape[1])[::-1]
    Xs, Ys = X[:, order], Y[:, order]
    return [(Xs[:, i:i + bs], Ys[:, i:i + bs]) for i in range(0, X.shape[1], bs)]


@pytest.mark.parametrize("exercise_id, wrong", [
    ("06.logistic_cost_and_grad", _no_db),
    ("06.minibatches", _reversed_order),
    ("06.sgd_step", lambda p, g, lr: {k: v - 2 * lr * g[k] for k, v in p.items()}),
])
def test_a_mistake_no_hint_names_gets_the_generic_hint(exercise_id, wrong):
    exercise = SPECS[exercise_id]
    failed = [o for o in (run_test(exercise, t, wrong) for t in exercise.tests)
              if o.status == "fail"]
    assert failed and {o.hint for o in failed} == {exercise.hint}


def _notebook_answer(name):
    import gradkit as gk

    ns = {"np": np, "gk": gk}
    exec(_notebook_cell(name), ns)
    return ns[name]


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_the_notebook_answer_is_the_reference(exercise):
    answer = _notebook_answer(exercise.function)
    lessons.assert_answer_is_reference(exercise, answer)


def _notebook_cell(name):
    return lessons.code_cell(ROOT / "solutions" / "06_sgd.ipynb", name)


def test_explorer_logic_runs_headless():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from gradkit import datasets, optim, plotting

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    ns = {"np": np, "optim": optim, "X": X, "Y": Y, "plotting": plotting, "plt": plt}
    exec(_notebook_cell("sgd_run"), ns)
    small, good, huge = (ns["sgd_run"](lr, 32) for lr in (0.05, 0.5, 20.0))
    assert good.updates == 200 and good.epoch_cost[-1] < small.epoch_cost[-1]
    assert good.epoch_cost[-1] < huge.epoch_cost[-1]
    assert ns["sgd_run"](0.5, 300).updates == 20  # batch = m is batch GD
    widget_src = _notebook_cell("show_sgd_run")
    exec(widget_src, ns)  # builds the interactive widget without a kernel
    ns["show_sgd_run"](1.0, 8)
    plt.close("all")
    assert ns["explorer"] is not None


def test_full_cost_run_replays_the_library_training():
    import time

    from gradkit import datasets, mlp, optim

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    ns = {"np": np, "optim": optim, "mlp": mlp, "time": time, "X": X, "Y": Y, "m": 300}
    exec(_notebook_cell("full_cost_run"), ns)
    start = {"W1": np.zeros((1, 2)), "b1": np.zeros((1, 1))}
    for lr, batch, method in [(2.0, 300, "gd"), (0.5, 32, "minibatch")]:
        updates, costs, seconds = ns["full_cost_run"](lr, batch)
        trained, history = optim.train(start, X, Y, method=method, lr=lr, batch_size=batch,
                                       epochs=20, seed=0)
        assert updates[-1] == history.updates and costs.size == updates.size == seconds.size
        assert costs[-1] == pytest.approx(mlp.cost(trained, X, Y), rel=1e-12)
        assert np.all(np.diff(seconds) >= 0)
    # the cost on all data, not a mini-batch's: SGD's recorded costs are one example's each
    _, costs, _ = ns["full_cost_run"](0.05, 1, epochs=2)
    _, history = optim.train(start, X, Y, method="sgd", lr=0.05, epochs=2, seed=0)
    assert history.cost.min() < 0.1 and history.cost.max() > 1
    assert 0.3 < costs.min() and costs.max() < 0.7


def test_a_decaying_learning_rate_lowers_the_noise_floor():
    import time

    from gradkit import datasets, mlp, optim

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    ns = {"np": np, "optim": optim, "mlp": mlp, "time": time, "X": X, "Y": Y, "m": 300}
    exec(_notebook_cell("full_cost_run"), ns)
    constant = ns["full_cost_run"](0.5, 1, epochs=8)[1][-300:]
    decayed = ns["full_cost_run"](0.5, 1, epochs=8, decay=300)[1][-300:]
    assert np.std(decayed) < np.std(constant) / 10


def test_expected_values_are_plain():
    for exercise in CODE:
        for test in exercise.tests:
            expected_value(exercise, test)


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    lessons.assert_spec_holds_no_answer(spec, ROOT / "solutions" / "06_sgd.ipynb",
                                        exercise.function)


def test_the_check_data_is_what_the_solutions_give():
    assert checkdata.stale("06", lessons.INSTRUCTOR) == ""


def _copies_then_changes(params, grads, lr):
    new = {key: value - lr * grads[key] for key, value in params.items()}
    params["theta" if "theta" in params else "W1"] *= 2.0
    return new


def test_sgd_step_call_returns_arrays_and_the_grader_judges_params_unchanged():
    exercise = SPECS["06.sgd_step"]
    for test in exercise.tests:
        raw = test.run(_copies_then_changes)  # what the student's process sends back
        assert not any(isinstance(x, bool) for part in raw for x in part), test.name
        after = test.after(test.make_args(), plain.decode(plain.encode(raw)))
        assert after[-1] is False, test.name
        assert run_test(exercise, test, _copies_then_changes).hint.startswith(
            "you changed the caller's params in place"), test.name


# --- the auto-checked questions --------------------------------------------------------

import gradkit as gk  # noqa: E402
from gradkit.grading import check  # noqa: E402
from gradkit.grading.feedback import check_exercise  # noqa: E402
from gradkit.grading.variants import variant  # noqa: E402

QUESTIONS = [e for e in EXERCISES if e.question is not None]
INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("06")
ANSWERS = {"06.answer_6_1": 156_250, "06.answer_6_3": "c", "06.answer_6_4": "pass"}


def _outcome(exercise, value, student_id=""):
    result = check_exercise(exercise, lambda: value, student_id=student_id)
    (o,) = result.outcomes
    assert o.expected == "(not shown)"
    return result, o


def _answer_spellings(value):
    """Patterns that would give ``value`` away in a text: a letter as an option is named,
    a name as a word, a number in any of its usual spellings."""
    if isinstance(value, str) and len(value) == 1:
        return {rf"\({value}\)", rf"['\"]{value}['\"]", rf"\boption {value}\b",
                rf"\*\*{value}\.\*\*"}
    if isinstance(value, str):
        return {rf"\b{value}\b"}
    return {re.escape(t) for t in (f"{value}", f"{value:,}", f"{value:_}",
                                   f"{value:,}".replace(",", " "), f"{value:.3g}",
                                   f"{value:.2e}", f"{value:.3e}")}


def test_the_lesson_has_its_questions_in_order():
    assert [e.id for e in EXERCISES] == [
        "06.logistic_cost_and_grad", "06.answer_6_1", "06.minibatches", "06.sgd_step",
        "06.answer_6_3", "06.answer_6_4"]
    assert {e.id: e.points for e in QUESTIONS} == {
        "06.answer_6_1": 0.5, "06.answer_6_3": 0.5, "06.answer_6_4": 1}
    # the exercises that need thought weigh more than the questions
    assert SPECS["06.logistic_cost_and_grad"].points == 4 and SPECS["06.sgd_step"].points == 3


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answer_passes_and_a_stub_is_unanswered(exercise):
    answer = lessons.reference(exercise)
    assert answer() == ANSWERS[exercise.id]
    assert check(exercise.id, answer).status == "passed"
    assert check(exercise.id, lessons.stub).status == "unanswered"
    result, o = _outcome(exercise, ANSWERS[exercise.id])
    assert result.status == "passed"


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_a_wrong_answer_is_judged_without_showing_the_answer(exercise):
    q = exercise.question
    wrong = list(q.options) if q.kind != "number" else list(INSTRUCTOR_FILE.FEEDBACK[exercise.id])
    wrong += [140_000, 175_000] if q.kind == "number" else []
    secrets = _answer_spellings(ANSWERS[exercise.id])
    for value in wrong:
        if value == ANSWERS[exercise.id]:
            continue
        result, o = _outcome(exercise, value)
        assert result.status == "failed", value
        for text in (o.hint, o.why):
            assert not any(re.search(s, text) for s in secrets), (value, text)


def test_each_wrong_choice_gets_its_own_feedback():
    exercise = SPECS["06.answer_6_3"]
    feedback = INSTRUCTOR_FILE.FEEDBACK[exercise.id]
    assert set(feedback) == {"a", "b", "d"}
    hints = {option: _outcome(exercise, option)[1].hint for option in feedback}
    assert hints == feedback and len(set(hints.values())) == 3
    assert _outcome(exercise, " (C) ")[0].status == "passed"  # the letter, however written
    assert _outcome(exercise, "e")[1].why.startswith("answer with one of")


def test_the_work_prediction_has_a_tolerance_and_names_the_typical_slips():
    exercise = SPECS["06.answer_6_1"]
    for right in (156_250, 150_000, 1.6e5, 163_000):
        assert _outcome(exercise, right)[0].status == "passed", right
    for slip, why in INSTRUCTOR_FILE.FEEDBACK[exercise.id].items():
        assert _outcome(exercise, slip)[1].hint == why, slip
    assert _outcome(exercise, 10**7)[1].hint.startswith("that is how many single-example")
    assert _outcome(exercise, 140_000)[1].hint == exercise.hint  # no known slip: the hint
    assert _outcome(exercise, "many")[1].why.startswith("return a number")


_VERDICT = {"reseeded": "pass", "fixed": "pass", "fresh": "inconclusive", "full": "fail",
            "other": "fail"}


def _classmate(v):
    from gradkit import datasets, mlp

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    net = mlp.init_params([2, 8, 1], seed=0)
    return net, spec.classmate_check(v, X, Y, net)


@pytest.mark.parametrize("v", range(len(spec.CLASSMATE_VARIANTS)))
def test_each_classmate_variant_is_solvable_by_the_lessons_rule(v):
    # the rule of section 6: f must give one value per point, and be the cost of the
    # examples the gradients are of; the checker must agree with it
    kind = spec.CLASSMATE_VARIANTS[v][0]
    net, (f, grads, code) = _classmate(v)
    assert (f(net) == f(net)) == (kind != "fresh")
    key = INSTRUCTOR_FILE.key_answer_6_4(v)
    assert key == _VERDICT[kind]
    report = gk.check_gradients(f, net, grads)
    assert report.verdict == key
    if key == "fail":
        assert report.relative_error > 1e-2
    if key == "pass":
        assert report.relative_error < 1e-7
    assert "def f(p):" in code and "grads = " in code


def test_the_classmate_variants_differ_and_variant_0_is_the_solutions():
    keys = [INSTRUCTOR_FILE.key_answer_6_4(v) for v in range(12)]
    assert keys[0] == ANSWERS["06.answer_6_4"] == lessons.reference("06.answer_6_4")()
    assert set(keys) == {"pass", "fail", "inconclusive"}
    assert SPECS["06.answer_6_4"].question.variants == 12 == len(spec.CLASSMATE_VARIANTS)


def _student_with(target, key="06.answer_6_4", n=12):
    return next(f"s{k}" for k in range(10_000) if variant(f"s{k}", key, n) == target)


@pytest.mark.parametrize("v", [1, 2, 3])
def test_a_student_is_judged_on_their_own_variant(v):
    exercise = SPECS["06.answer_6_4"]
    student = _student_with(v)
    key = INSTRUCTOR_FILE.key_answer_6_4(v)
    result = check_exercise(exercise, lambda: key, student_id=student)
    assert result.status == "passed"
    for option in exercise.question.options:
        if option == key:
            continue
        result = check_exercise(exercise, lambda option=option: option, student_id=student)
        (o,) = result.outcomes
        assert result.status == "failed" and o.expected == "(not shown)"
        assert o.hint and key not in o.hint.replace(option, "")  # says what is overlooked
    entry = lessons.INSTRUCTOR.question_entry(exercise, v)
    assert len(entry["answer"]) == 1 and len(entry["feedback"]) == 2


def test_the_default_answer_is_wrong_for_a_variant_whose_verdict_differs():
    exercise = SPECS["06.answer_6_4"]
    v = next(v for v in range(1, 12) if INSTRUCTOR_FILE.key_answer_6_4(v) != "pass")
    assert check_exercise(exercise, lambda: "pass", student_id=_student_with(v)).status \
        == "failed"


def test_the_draft_shows_both_symptoms_and_its_mistakes_are_named():
    from gradkit import datasets, mlp

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    cell = _notebook_cell("sgd_step_draft")
    out = []
    ns = {"np": np, "mlp": mlp, "X": X, "Y": Y, "print": out.append}
    exec(cell, ns)
    assert mlp.cost(ns["after"], X, Y) > ns["cost_before"]  # it went uphill
    assert ns["after"] is ns["before"]  # and moved `before` with it
    assert "distance from before to after: 0.0" in out[1]
    assert "in place" in _hints("06.sgd_step", ns["sgd_step_draft"])


def test_the_gradient_formula_comes_after_exercise_6_1():
    nb = (ROOT / "solutions" / "06_sgd.ipynb").read_text()
    formula = "dz = (a - y)/m"
    assert nb.index(formula) > nb.index('check(\\"06.logistic_cost_and_grad\\"')
