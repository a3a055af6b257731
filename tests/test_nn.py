"""nn: every backward is the derivative of its forward, checked by finite differences."""

import numpy as np
import pytest

from gradkit import nn

ACTIVATIONS = {
    "relu": (nn.relu_forward, nn.relu_backward),
    "leaky_relu": (nn.leaky_relu_forward, nn.leaky_relu_backward),
    "tanh": (nn.tanh_forward, nn.tanh_backward),
    "sigmoid": (nn.sigmoid_forward, nn.sigmoid_backward),
}


def _elementwise_derivative(f, Z, h=1e-6):
    return (f(Z + h) - f(Z - h)) / (2 * h)


def _scalar_gradient(f, X, h=1e-6):
    g = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        old = X[idx]
        X[idx] = old + h
        up = f(X)
        X[idx] = old - h
        down = f(X)
        X[idx] = old
        g[idx] = (up - down) / (2 * h)
    return g


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_backward_is_the_derivative(rng, name):
    forward, backward = ACTIVATIONS[name]
    Z = rng.standard_normal((4, 6))
    dA = rng.standard_normal((4, 6))
    A, cache = forward(Z)
    assert A.shape == Z.shape
    numeric = dA * _elementwise_derivative(lambda z: forward(z)[0], Z)
    np.testing.assert_allclose(backward(dA, cache), numeric, rtol=1e-6, atol=1e-9)


def test_a_wrong_derivative_fails_the_same_comparison(rng):
    Z = rng.standard_normal((4, 6))
    A, cache = nn.tanh_forward(Z)
    numeric = _elementwise_derivative(np.tanh, Z)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(1 - Z**2, numeric, rtol=1e-6)


def test_linear_backward_gives_the_gradients_of_a_scalar_of_the_output(rng):
    A_prev, W, b = rng.standard_normal((3, 5)), rng.standard_normal((2, 3)), rng.standard_normal(
        (2, 1))
    G = rng.standard_normal((2, 5))
    Z, cache = nn.linear_forward(A_prev, W, b)
    np.testing.assert_allclose(Z, W @ A_prev + b)
    dA_prev, dW, db = nn.linear_backward(G, cache)
    assert (dA_prev.shape, dW.shape, db.shape) == ((3, 5), (2, 3), (2, 1))
    np.testing.assert_allclose(dW, _scalar_gradient(lambda w: np.sum(G * (w @ A_prev + b)), W),
                               rtol=1e-7)
    np.testing.assert_allclose(db, _scalar_gradient(lambda c: np.sum(G * (W @ A_prev + c)), b),
                               rtol=1e-7)
    np.testing.assert_allclose(dA_prev,
                               _scalar_gradient(lambda a: np.sum(G * (W @ a + b)), A_prev),
                               rtol=1e-7)


@pytest.mark.parametrize("loss", ["sigmoid", "softmax", "mse", "bce"])
def test_loss_derivatives_match_finite_differences(rng, loss):
    Z = rng.standard_normal((3, 5))
    if loss == "softmax":
        Y = np.eye(3)[rng.integers(0, 3, 5)].T
        f = nn.softmax_cross_entropy
    elif loss == "mse":
        Y = rng.standard_normal((3, 5))
        f = nn.mse
    elif loss == "bce":
        Z = nn.sigmoid(Z)  # probabilities
        Y = (rng.random((3, 5)) < 0.5).astype(float)
        f = nn.binary_cross_entropy
    else:
        Y = (rng.random((3, 5)) < 0.5).astype(float)
        f = nn.sigmoid_cross_entropy
    cost, d = f(Z, Y)[:2]
    assert isinstance(cost, float)
    np.testing.assert_allclose(d, _scalar_gradient(lambda z: f(z, Y)[0], Z), rtol=1e-6,
                               atol=1e-10)


def test_unfused_bce_through_sigmoid_equals_the_fused_loss(rng):
    Z = rng.standard_normal((1, 6))
    Y = (rng.random((1, 6)) < 0.5).astype(float)
    A, cache = nn.sigmoid_forward(Z)
    cost, dA = nn.binary_cross_entropy(A, Y)
    fused_cost, dZ, A_fused = nn.sigmoid_cross_entropy(Z, Y)
    assert cost == pytest.approx(fused_cost, rel=1e-12)
    np.testing.assert_allclose(nn.sigmoid_backward(dA, cache), dZ, rtol=1e-10)
    np.testing.assert_allclose(A_fused, A, rtol=1e-15)


def test_fused_losses_stay_finite_where_the_textbook_formula_overflows():
    Z = np.array([[-800.0, 800.0]])
    Y = np.array([[1.0, 0.0]])
    cost, dZ, A = nn.sigmoid_cross_entropy(Z, Y)
    assert cost == pytest.approx(800.0) and np.all(np.isfinite(dZ))
    np.testing.assert_array_equal(A, [[0.0, 1.0]])
    cost, dZ, A = nn.softmax_cross_entropy(np.array([[1000.0], [0.0]]), np.array([[0.0], [1.0]]))
    assert cost == pytest.approx(1000.0) and np.all(np.isfinite(A))
    np.testing.assert_array_equal(nn.sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0, 0.5, 1])


def test_softmax_columns_sum_to_one(rng):
    A = nn.softmax(rng.standard_normal((4, 7)) * 50)
    np.testing.assert_allclose(A.sum(axis=0), 1.0)


def test_l2_penalty_and_gradient(rng):
    params = {"W1": rng.standard_normal((2, 3)), "b1": rng.standard_normal((2, 1)),
              "W2": rng.standard_normal((1, 2)), "b2": rng.standard_normal((1, 1))}
    m, lambd = 5, 0.3
    expected = lambd / (2 * m) * (np.sum(params["W1"] ** 2) + np.sum(params["W2"] ** 2))
    assert nn.l2_penalty(params, lambd, m) == pytest.approx(expected)
    assert nn.l2_penalty(params, 0.0, m) == 0.0
    g = _scalar_gradient(lambda w: nn.l2_penalty(dict(params, W1=w), lambd, m), params["W1"])
    np.testing.assert_allclose(nn.l2_gradient(params["W1"], lambd, m), g, rtol=1e-6)


def test_dropout_mask_comes_from_the_generator_and_keeps_the_expectation():
    A = np.ones((50, 400))
    A1, mask1 = nn.dropout_forward(A, 0.8, np.random.default_rng(3))
    A2, mask2 = nn.dropout_forward(A, 0.8, np.random.default_rng(3))
    np.testing.assert_array_equal(mask1, mask2)
    _, mask3 = nn.dropout_forward(A, 0.8, np.random.default_rng(4))
    assert not np.array_equal(mask1, mask3)
    assert mask1.mean() == pytest.approx(0.8, abs=0.01)
    assert A1.mean() == pytest.approx(1.0, abs=0.02)  # inverted dropout: rescaled by 1/0.8
    assert set(np.unique(A1)) == {0.0, 1.25}
    dA = nn.dropout_backward(np.ones_like(A), mask1, 0.8)
    np.testing.assert_array_equal(dA, A1)
