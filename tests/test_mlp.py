"""mlp: cost and backprop against an independent complex-step oracle, and the checker."""

import itertools

import numpy as np
import pytest

import gradkit as gk
from gradkit import mlp

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid"]
OUTPUTS = ["sigmoid", "softmax", "linear"]


def _reference_cost(params, X, Y, hidden, output, lambd, masks=(), keep_prob=1.0):
    """The cost written out plainly with complex-safe operations (no gradkit code)."""
    acts = {
        "relu": lambda Z: np.where(Z.real > 0, Z, 0),
        "leaky_relu": lambda Z: np.where(Z.real > 0, Z, 0.01 * Z),
        "tanh": np.tanh,
        "sigmoid": lambda Z: 1 / (1 + np.exp(-Z)),
    }
    L = len(params) // 2
    m = X.shape[1]
    A = X
    for l in range(1, L):
        A = acts[hidden](params[f"W{l}"] @ A + params[f"b{l}"])
        if masks:
            A = A * masks[l - 1] / keep_prob
    Z = params[f"W{L}"] @ A + params[f"b{L}"]
    if output == "sigmoid":
        A = 1 / (1 + np.exp(-Z))
        J = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    elif output == "softmax":
        E = np.exp(Z - Z.real.max(axis=0))
        J = -np.sum(Y * np.log(E / E.sum(axis=0))) / m
    else:
        J = np.sum((Z - Y) ** 2) / (2 * m)
    # W * W, not |W|**2: the penalty must stay analytic for the complex step
    return J + lambd / (2 * m) * sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, L + 1))


def _complex_step_gradient(f, params, h=1e-30):
    """Exact-to-rounding gradient: dJ/dx = Im J(x + ih) / h."""
    grads = {}
    for key, value in params.items():
        g = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            shifted = {k: v.astype(complex) for k, v in params.items()}
            shifted[key][idx] += 1j * h
            g[idx] = f(shifted).imag / h
        grads[key] = g
    return grads


def _rel(a, b):
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


def _problem(rng, output, layer_dims=(3, 5, 4, 2), m=7):
    params = mlp.init_params(list(layer_dims), seed=1)
    # non-zero biases so that a wrong db cannot hide behind b = 0
    params = {k: v + 0.1 * rng.standard_normal(v.shape) for k, v in params.items()}
    X = rng.standard_normal((layer_dims[0], m))
    k = layer_dims[-1]
    if output == "sigmoid":
        Y = (rng.random((k, m)) < 0.5).astype(float)
    elif output == "softmax":
        Y = gk.datasets.one_hot(rng.integers(0, k, m), k)
    else:
        Y = rng.standard_normal((k, m))
    return params, X, Y


@pytest.mark.parametrize("hidden,output,lambd",
                         list(itertools.product(HIDDEN, OUTPUTS, [0.0, 0.7])))
def test_cost_and_gradients_match_the_complex_step_oracle(rng, hidden, output, lambd):
    params, X, Y = _problem(rng, output)
    kw = dict(hidden=hidden, output=output, lambd=lambd)

    def ref(p):
        return _reference_cost(p, X, Y, hidden, output, lambd)

    assert mlp.cost(params, X, Y, **kw) == pytest.approx(ref(params).real, rel=1e-12)
    grads = mlp.gradients(params, X, Y, **kw)
    oracle = _complex_step_gradient(ref, params)
    assert list(grads) == list(params)
    for key in params:
        assert grads[key].shape == params[key].shape, key
        assert _rel(grads[key], oracle[key]) < 1e-9, (key, _rel(grads[key], oracle[key]))


def test_the_oracle_catches_a_wrong_gradient(rng):
    # negative control: the comparison above is able to fail
    params, X, Y = _problem(rng, "sigmoid")
    grads = mlp.gradients(params, X, Y)
    oracle = _complex_step_gradient(lambda p: _reference_cost(p, X, Y, "relu", "sigmoid", 0.0),
                                    params)
    assert _rel(1.001 * grads["W2"], oracle["W2"]) > 1e-9
    assert _rel(grads["W2"], oracle["W2"]) < 1e-9


def test_dropout_with_a_seed_matches_the_oracle_with_the_same_masks(rng):
    params, X, Y = _problem(rng, "sigmoid")
    keep_prob, seed = 0.7, 5
    # the documented contract: masks drawn layer by layer from default_rng(seed)
    mask_rng = np.random.default_rng(seed)
    masks = [mask_rng.random((params[f"W{l}"].shape[0], X.shape[1])) < keep_prob
             for l in (1, 2)]

    def ref(p):
        return _reference_cost(p, X, Y, "relu", "sigmoid", 0.0, masks, keep_prob)

    kw = dict(keep_prob=keep_prob, seed=seed)
    assert mlp.cost(params, X, Y, **kw) == pytest.approx(ref(params).real, rel=1e-12)
    assert mlp.cost(params, X, Y, **kw) == mlp.cost(params, X, Y, **kw)
    grads = mlp.gradients(params, X, Y, **kw)
    oracle = _complex_step_gradient(ref, params)
    for key in params:
        assert _rel(grads[key], oracle[key]) < 1e-9, key


def test_dropout_without_a_seed_draws_fresh_masks(rng):
    params, X, Y = _problem(rng, "sigmoid")
    costs = {mlp.cost(params, X, Y, keep_prob=0.5) for _ in range(5)}
    assert len(costs) > 1
    assert mlp.cost(params, X, Y, keep_prob=1.0) == mlp.cost(params, X, Y)


def test_cost_and_gradients_agrees_with_cost_and_gradients_separately(rng):
    params, X, Y = _problem(rng, "softmax")
    kw = dict(hidden="tanh", output="softmax", lambd=0.3, keep_prob=0.8, seed=2)
    J, grads = mlp.cost_and_gradients(params, X, Y, **kw)
    assert J == mlp.cost(params, X, Y, **kw)
    for key, g in mlp.gradients(params, X, Y, **kw).items():
        np.testing.assert_array_equal(g, grads[key])


def test_sigmoid_cost_stays_finite_for_saturated_outputs():
    params = {"W1": np.array([[1000.0]]), "b1": np.zeros((1, 1))}
    X = np.array([[1.0, -1.0]])
    Y = np.array([[0.0, 1.0]])  # both confidently wrong
    assert mlp.cost(params, X, Y) == pytest.approx(1000.0)
    np.testing.assert_allclose(mlp.gradients(params, X, Y)["W1"], [[1.0]])


def test_init_params_shapes_and_scales():
    params = mlp.init_params([400, 300, 1], seed=3)
    assert list(params) == ["W1", "b1", "W2", "b2"]
    assert params["W1"].shape == (300, 400) and params["b1"].shape == (300, 1)
    assert params["W2"].shape == (1, 300) and not params["b2"].any()
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    xavier = mlp.init_params([400, 300, 1], seed=3, scale="xavier")
    assert xavier["W1"].std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    small = mlp.init_params([400, 300, 1], seed=3, scale=0.01)
    assert small["W1"].std() == pytest.approx(0.01, rel=0.02)
    np.testing.assert_array_equal(params["W1"], mlp.init_params([400, 300, 1], seed=3)["W1"])
    assert not np.array_equal(params["W1"], mlp.init_params([400, 300, 1], seed=4)["W1"])


@pytest.mark.parametrize("dims,scale,match", [
    ([3], "he", "at least 2 positive integers"),
    ([3, 0, 1], "he", "at least 2 positive integers"),
    ([3, 2], "glorot", "'he', 'xavier' or a number"),
])
def test_init_params_rejects_bad_arguments(dims, scale, match):
    with pytest.raises(ValueError, match=match):
        mlp.init_params(dims, scale=scale)


def test_input_errors_say_what_was_expected_and_the_fix(rng):
    params, X, Y = _problem(rng, "sigmoid")
    with pytest.raises(ValueError, match=r"expected X of shape \(n_x, m\) = \(3, m\).*pass X\.T"):
        mlp.cost(params, X.T, Y)
    with pytest.raises(ValueError, match=r"Y has shape \(14,\), expected \(2, 7\)"):
        mlp.cost(params, X, Y.reshape(-1))
    with pytest.raises(ValueError, match="hidden must be one of"):
        mlp.cost(params, X, Y, hidden="gelu")
    with pytest.raises(ValueError, match="output must be one of"):
        mlp.gradients(params, X, Y, output="relu")
    with pytest.raises(ValueError, match=r"keep_prob must be in \(0, 1\]"):
        mlp.cost(params, X, Y, keep_prob=0.0)
    with pytest.raises(ValueError, match="lambd must be a number >= 0"):
        mlp.cost(params, X, Y, lambd=-1)
    missing = {k: v for k, v in params.items() if k != "b2"}
    with pytest.raises(ValueError, match="params must have the keys"):
        mlp.cost(missing, X, Y)
    broken = dict(params, W2=params["W2"].T)
    with pytest.raises(ValueError, match=r"layer 2: W2 has shape \(5, 4\)"):
        mlp.gradients(broken, X, Y)
    with pytest.raises(TypeError, match="params must be a dict"):
        mlp.cost([params["W1"]], X, Y)


def test_predict_and_accuracy(rng):
    params, X, Y = _problem(rng, "softmax", layer_dims=(3, 4, 3))
    P = mlp.predict(params, X, output="softmax")
    assert P.shape == (1, 7)
    assert mlp.accuracy(params, X, gk.datasets.one_hot(P[0], 3), output="softmax") == 1.0
    params, X, Y = _problem(rng, "sigmoid", layer_dims=(3, 4, 1))
    P = mlp.predict(params, X)
    assert set(np.unique(P)) <= {0, 1}
    assert mlp.accuracy(params, X, P) == 1.0
    assert mlp.accuracy(params, X, 1 - P) == 0.0
    with pytest.raises(ValueError, match="accuracy is for classification"):
        mlp.accuracy(params, X, Y, output="linear")
    np.testing.assert_array_equal(mlp.predict(params, X, output="linear"),
                                  mlp.forward(params, X, output="linear"))


@pytest.mark.parametrize("hidden,output,lambd",
                         list(itertools.product(HIDDEN, OUTPUTS, [0.0, 0.7])))
def test_the_checker_passes_every_correct_combination(rng, hidden, output, lambd):
    params, X, Y = _problem(rng, output)
    kw = dict(hidden=hidden, output=output, lambd=lambd)
    report = gk.check_gradients(lambda p: mlp.cost(p, X, Y, **kw), params,
                                mlp.gradients(params, X, Y, **kw))
    assert report.passed and report.failing == [], str(report)


def test_dropout_with_a_seed_passes_the_checker(rng):
    params, X, Y = _problem(rng, "sigmoid")
    kw = dict(keep_prob=0.7, seed=11)
    report = gk.check_gradients(lambda p: mlp.cost(p, X, Y, **kw), params,
                                mlp.gradients(params, X, Y, **kw))
    assert report.passed, str(report)


def test_dropout_without_a_seed_is_reported_nondeterministic(rng):
    params, X, Y = _problem(rng, "sigmoid")
    report = gk.check_gradients(lambda p: mlp.cost(p, X, Y, keep_prob=0.7), params,
                                mlp.gradients(params, X, Y, keep_prob=0.7))
    assert not report.passed and report.verdict == "inconclusive"
    assert "nondeterministic" in {f.kind for f in report.findings}
