"""The bug zoo: each bug's `corrupts` is verified numerically, then against the checker."""

import numpy as np
import pytest

import gradkit as gk
from gradkit import mlp
from gradkit.bugs import BUGS, example

REQUIRED = {
    "missing_one_over_m", "dw_doubled", "transposed_dw", "sign_flip", "db_wrong_axis",
    "relu_derivative_from_activation", "sigmoid_derivative_twice", "softmax_forgets_minus_y",
    "l2_missing_from_gradient", "l2_in_gradient_not_cost", "dropout_mask_missing_in_backward",
    "dropout_not_rescaled", "tanh_derivative_with_z",
}


def _central_differences(f, params, h=1e-6):
    """Plain two-sided differences, written here so the test does not trust gradkit."""
    grads = {}
    for key, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + h
            up = f(params)
            value[idx] = old - h
            down = f(params)
            value[idx] = old
            g[idx] = (up - down) / (2 * h)
        grads[key] = g
    return grads


def _rel(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def _run(bug, seed=0):
    params, X, Y = example(bug, seed=seed)
    analytic = bug.gradients(params, X, Y, **bug.kwargs)
    return params, X, Y, analytic


def test_the_zoo_has_the_required_bugs_with_stable_snake_case_names():
    assert REQUIRED <= set(BUGS)
    assert len(BUGS) >= 12
    for name, bug in BUGS.items():
        assert name == bug.name and name.isidentifier() and name == name.lower()
        assert bug.description and "\n" not in bug.description
        assert set(bug.corrupts) <= {"W1", "b1", "W2", "b2", "W3", "b3"} and bug.corrupts


def test_l2_and_dropout_bugs_carry_the_keywords_they_need():
    for name in ("l2_missing_from_gradient", "l2_in_gradient_not_cost"):
        assert "lambd" in BUGS[name].kwargs
    for name in ("dropout_mask_missing_in_backward", "dropout_not_rescaled"):
        assert BUGS[name].kwargs["keep_prob"] < 1 and BUGS[name].kwargs["seed"] is not None


@pytest.mark.parametrize("name", sorted(BUGS))
def test_corrupts_is_exactly_the_set_of_wrong_gradients(name):
    bug = BUGS[name]
    params, X, Y, analytic = _run(bug)
    numeric = _central_differences(lambda p: mlp.cost(p, X, Y, **bug.kwargs), params)
    assert list(analytic) == list(params)
    wrong = set()
    for key in params:
        if analytic[key].shape != params[key].shape:
            wrong.add(key)
            continue
        err = _rel(analytic[key], numeric[key])
        # right: at the finite-difference noise level; wrong: far above it
        assert err < 1e-7 or err > 1e-3, (key, err)
        if err > 1e-3:
            wrong.add(key)
    assert wrong == set(bug.corrupts)
    shape_changed = {k for k in params if analytic[k].shape != params[k].shape}
    assert bool(shape_changed) == bug.changes_shape
    if bug.changes_shape:
        assert shape_changed == set(bug.corrupts)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_a_bug_is_harmless_only_where_documented(name):
    # the same problem, through the correct backward pass, is right everywhere
    bug = BUGS[name]
    params, X, Y = example(bug)
    numeric = _central_differences(lambda p: mlp.cost(p, X, Y, **bug.kwargs), params)
    correct = mlp.gradients(params, X, Y, **bug.kwargs)
    assert max(_rel(correct[k], numeric[k]) for k in params) < 1e-7


def test_corrupted_scales_with_depth():
    assert BUGS["relu_derivative_from_activation"].corrupted(4) == (
        "W1", "b1", "W2", "b2", "W3", "b3")
    assert BUGS["dw_doubled"].corrupted(2) == ("W1", "W2")
    assert BUGS["db_not_computed"].corrupts == ("b1", "b2", "b3")


def test_example_uses_the_bug_keywords_and_rejects_unknown_names():
    params, X, Y = example("softmax_forgets_minus_y")
    assert Y.shape == (3, 8) and np.all(Y.sum(axis=0) == 1)
    assert params["W3"].shape == (3, 3)
    params, X, Y = example("mse_missing_half")
    assert not np.isin(Y, [0.0, 1.0]).all()
    with pytest.raises(ValueError, match="no bug named 'dw_tripled'; the names are: "):
        example("dw_tripled")


def test_bug_gradients_validate_inputs_like_mlp():
    params, X, Y = example()
    with pytest.raises(ValueError, match="pass X.T"):
        BUGS["sign_flip"].gradients(params, X.T, Y)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_the_checker_fails_each_bug_on_exactly_its_corrupts(name):
    bug = BUGS[name]
    params, X, Y, analytic = _run(bug)

    def f(p):
        return mlp.cost(p, X, Y, **bug.kwargs)

    if bug.changes_shape:
        with pytest.raises(ValueError, match="|".join(bug.corrupts)):
            gk.check_gradients(f, params, analytic)
        return
    report = gk.check_gradients(f, params, analytic)
    assert not report.passed and report.verdict == "fail"
    assert sorted(report.failing) == sorted(bug.corrupts), str(report)


@pytest.mark.parametrize("name,kind", [
    ("dw_doubled", "scale"), ("missing_one_over_m", "scale"), ("sign_flip", "sign"),
    ("db_not_computed", "zero"), ("l2_missing_from_gradient", "missing_l2"),
    ("l2_in_gradient_not_cost", "extra_l2"), ("da_prev_divided_by_m", "scale"),
])
def test_the_checker_names_the_pattern_of_simple_bugs(name, kind):
    bug = BUGS[name]
    params, X, Y, analytic = _run(bug)
    report = gk.check_gradients(lambda p: mlp.cost(p, X, Y, **bug.kwargs), params, analytic)
    kinds = {(f.kind, f.parameter) for f in report.findings}
    for key in bug.corrupts:
        assert (kind, key) in kinds, str(report)
