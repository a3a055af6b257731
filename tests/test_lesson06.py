"""Lesson 06 specs: each reference passes its own tests, each Mistake fires on the wrong
answer it describes, and the notebook's explorer logic works headless."""

import json
from pathlib import Path

import numpy as np
import pytest

from gradkit.grading import plain
from gradkit.grading.feedback import expected_value, run_test
from gradkit.grading.lesson06 import (
    EXERCISES,
    _bumped,
    _concave,
    _flat_bottom,
    _one_min_nonconvex,
    _rank_deficient,
    _square,
    is_convex_on_segment,
    logistic_cost_and_grad,
    minibatches,
)

ROOT = Path(__file__).resolve().parent.parent
SPECS = {e.id: e for e in EXERCISES}


def _hints(exercise_id, wrong):
    """Hints of every failed public test when ``wrong`` answers."""
    exercise = SPECS[exercise_id]
    outcomes = [run_test(exercise, t, wrong) for t in exercise.tests]
    assert any(o.status == "fail" for o in outcomes), "the wrong answer passed every test"
    return " ".join(o.hint for o in outcomes if o.status == "fail")


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, exercise.reference).status == "pass", test.name
        plain.encode(test.run(exercise.reference))  # returns plain data


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
    ("transposed", "dw = dz @ X.T"),
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
    assert words in _hints("06.is_convex_on_segment", lambda *a: _chord(*a, **kw))


def _notebook_cell(name):
    nb = json.loads((ROOT / "solutions" / "06_sgd.ipynb").read_text())
    return next("".join(c["source"]) for c in nb["cells"]
                if c["cell_type"] == "code" and f"def {name}(" in "".join(c["source"]))


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


def test_expected_values_are_plain():
    for exercise in EXERCISES:
        for test in exercise.tests:
            expected_value(exercise, test)
