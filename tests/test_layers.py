"""layers: batch norm, layer norm, softmax cross-entropy, an RNN step, checked against autograd."""

import doctest

import autograd.numpy as anp
import numpy as np
import pytest
from _oracle import (
    RTOL,
    assert_gradients_match,
    autograd_vjp,
    changed_arrays,
    relative_difference,
)

from gradkit import layers
from gradkit.layers import (
    batchnorm_backward,
    batchnorm_forward,
    layernorm_backward,
    layernorm_forward,
    rnn_step_backward,
    rnn_step_forward,
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
)

N, D, C, H = 6, 4, 5, 3
EPS = 1e-5


def batchnorm_oracle(x, gamma, beta):
    return gamma * (x - anp.mean(x, axis=0)) / anp.sqrt(anp.var(x, axis=0) + EPS) + beta


def layernorm_oracle(x, gamma, beta):
    mu = anp.mean(x, axis=1, keepdims=True)
    var = anp.var(x, axis=1, keepdims=True)
    return gamma * (x - mu) / anp.sqrt(var + EPS) + beta


def softmax_ce_oracle(scores, y):
    # one-hot by a matrix product rather than by indexing; scores are small in these tests,
    # so the unshifted log-sum-exp is exact enough
    onehot = np.eye(scores.shape[1])[y]
    log_probs = scores - anp.log(anp.sum(anp.exp(scores), axis=1, keepdims=True))
    return -anp.sum(onehot * log_probs) / scores.shape[0]


def rnn_step_oracle(x, h_prev, Wx, Wh, b):
    return anp.tanh(anp.dot(x, Wx) + anp.dot(h_prev, Wh) + b)


def _norm_args(rng):
    # features of different scales and offsets, so that normalization does something
    x = rng.standard_normal((N, D)) * [1.0, 3.0, 0.2, 10.0] + [0.0, -2.0, 5.0, 1.0]
    return x, rng.standard_normal(D), rng.standard_normal(D)


def _rnn_args(rng):
    return (rng.standard_normal((N, D)), rng.standard_normal((N, H)),
            rng.standard_normal((D, H)) * 0.5, rng.standard_normal((H, H)) * 0.5,
            rng.standard_normal(H))


LAYERS = {
    # forward, backward, oracle, arguments, names of the gradients
    "batchnorm": (batchnorm_forward, batchnorm_backward, batchnorm_oracle, _norm_args,
                  ("dx", "dgamma", "dbeta")),
    "layernorm": (layernorm_forward, layernorm_backward, layernorm_oracle, _norm_args,
                  ("dx", "dgamma", "dbeta")),
    "rnn_step": (rnn_step_forward, rnn_step_backward, rnn_step_oracle, _rnn_args,
                 ("dx", "dh_prev", "dWx", "dWh", "db")),
}


def _run(name, rng, backward=None):
    forward, correct_backward, oracle, make_args, names = LAYERS[name]
    args = make_args(rng)
    out, cache = forward(*args)
    dout = rng.standard_normal(out.shape)
    want_out, want = autograd_vjp(oracle, args, dout)
    return out, want_out, (backward or correct_backward)(dout, cache), want, names


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_forward_and_backward_match_autograd(rng, name):
    out, want_out, got, want, names = _run(name, rng)
    assert relative_difference(out, want_out) < RTOL
    assert_gradients_match(names, got, want)


def _batchnorm_without_the_statistics(dout, cache):
    # the classic bug: mu and var treated as constants, only the first of the three terms
    x_hat, inv_std, gamma, _ = cache
    _, dgamma, dbeta = batchnorm_backward(dout, cache)
    return dout * gamma * inv_std, dgamma, dbeta


def _layernorm_with_batchnorm_sums(dout, cache):
    # batch norm's backward pasted in: the sums run over the examples, not the features
    x_hat, inv_std, gamma, _ = cache
    return batchnorm_backward(dout, (x_hat, inv_std, gamma, 0))


def _rnn_with_h_for_h_prev(dout, cache):
    # dWh from the new state h instead of the previous one
    x, h_prev, Wx, Wh, h = cache
    dx, dh_prev, dWx, _, db = rnn_step_backward(dout, cache)
    return dx, dh_prev, dWx, h.T @ (dout * (1 - h * h)), db


@pytest.mark.parametrize("name, wrong, named", [
    ("batchnorm", _batchnorm_without_the_statistics, "dx"),
    ("layernorm", _layernorm_with_batchnorm_sums, "dx"),
    ("rnn_step", _rnn_with_h_for_h_prev, "dWh"),
])
def test_a_wrong_backward_fails_the_comparison(rng, name, wrong, named):
    _, _, got, want, names = _run(name, rng, backward=wrong)
    with pytest.raises(AssertionError, match=f"^{named}: relative difference"):
        assert_gradients_match(names, got, want)


def test_batchnorm_output_has_zero_mean_and_unit_variance_per_feature(rng):
    x, _, _ = _norm_args(rng)
    out, _ = batchnorm_forward(x, np.ones(D), np.zeros(D))
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + EPS))
    out, _ = layernorm_forward(x, np.ones(D), np.zeros(D))
    np.testing.assert_allclose(out.mean(axis=1), 0.0, atol=1e-12)


def _labels(rng):
    return rng.integers(0, C, size=N)


@pytest.mark.parametrize("dloss", [1.0, np.float64(-0.7), np.array(2.5)])
def test_softmax_cross_entropy_matches_autograd(rng, dloss):
    scores, y = rng.standard_normal((N, C)) * 2, _labels(rng)
    loss, cache = softmax_cross_entropy_forward(scores, y)
    assert type(loss) is float
    want_loss, (want,) = autograd_vjp(lambda s: softmax_ce_oracle(s, y), (scores,), dloss)
    assert abs(loss - want_loss) < RTOL * abs(want_loss)
    assert_gradients_match(("dscores",), softmax_cross_entropy_backward(dloss, cache), (want,))
    wrong = softmax_cross_entropy_backward(dloss, cache)[0] * N    # the mean's 1/N forgotten
    with pytest.raises(AssertionError, match="^dscores: relative difference"):
        assert_gradients_match(("dscores",), (wrong,), (want,))


def test_softmax_cross_entropy_does_not_overflow_for_large_scores(rng):
    scores, y = rng.standard_normal((N, C)), _labels(rng)
    loss, cache = softmax_cross_entropy_forward(scores + 1e4, y)
    assert loss == pytest.approx(softmax_cross_entropy_forward(scores, y)[0], rel=1e-9)
    assert np.all(np.isfinite(softmax_cross_entropy_backward(1.0, cache)[0]))
    with np.errstate(over="ignore", invalid="ignore"):      # what the shift avoids
        naive = np.exp(scores + 1e4) / np.exp(scores + 1e4).sum(axis=1, keepdims=True)
    assert np.isnan(naive).all()


@pytest.mark.parametrize("y, error, match", [
    (np.array([0, 1, 2, 3, 4, 1.0]), TypeError,
     r"y has dtype float64, expected integer class labels: they are whole numbers, so pass "
     r"y.astype\(int\)"),
    (np.array([0.5, 1, 2, 3, 4, 1]), TypeError,
     r"y has dtype float64, expected integer class labels$"),
    (np.array([True, False] * 3), TypeError, r"y has dtype bool, expected integer class labels"),
    (np.array([0, 1, 2, 5, 4, 1]), ValueError,
     r"y\[3\] = 5, but labels index the 5 columns of scores, so must be in 0..4 \(1 of 6 are "
     r"not\)$"),
    (np.array([0, -1, 2, 3, 4, 1]), ValueError, r"y\[1\] = -1, .* must be in 0..4"),
    (np.array([1, 2, 3, 4, 5, 5]), ValueError, r"y\[4\] = 5, .*: they look 1-based, pass y - 1$"),
    (np.eye(C, dtype=int)[[0, 1, 2, 3, 4, 1]], ValueError,
     r"y has shape \(6, 5\), expected integer labels of shape \(6,\): for one-hot labels pass "
     r"y.argmax\(axis=1\)"),
    (np.zeros((6, 1), dtype=int), ValueError,
     r"y has shape \(6, 1\), expected \(6,\), one integer label per row of scores: use y.ravel"),
    (np.zeros(5, dtype=int), ValueError, r"y has shape \(5,\), expected \(6,\)"),
])
def test_bad_labels_are_refused_with_what_to_fix(rng, y, error, match):
    scores = rng.standard_normal((N, C))
    with pytest.raises(error, match="softmax_cross_entropy_forward: " + match):
        softmax_cross_entropy_forward(scores, y)


def test_softmax_cross_entropy_backward_wants_a_scalar_dloss(rng):
    _, cache = softmax_cross_entropy_forward(rng.standard_normal((N, C)), _labels(rng))
    with pytest.raises(ValueError, match=r"dloss has shape \(6,\), expected a scalar"):
        softmax_cross_entropy_backward(np.ones(N), cache)


@pytest.mark.parametrize("forward, args, match", [
    (batchnorm_forward, ((N,), (D,), (D,)), r"batchnorm_forward: x has shape \(6,\), expected "
                                            r"\(N, D\)"),
    (batchnorm_forward, ((N, D), (1, D), (D,)), r"gamma has shape \(1, 4\), expected \(4,\), "
                                                r"one scale per feature of x: use gamma.ravel"),
    (layernorm_forward, ((N, D), (D,), (N,)), r"layernorm_forward: beta has shape \(6,\), "
                                              r"expected \(4,\), one shift per feature of x$"),
    (rnn_step_forward, ((N, D), (N, H), (D, H), (D, H), (H,)),
     r"rnn_step_forward: Wh has shape \(4, 3\), expected \(H, H\) = \(3, 3\) from h_prev"),
    (rnn_step_forward, ((N, D), (N - 1, H), (D, H), (H, H), (H,)),
     r"h_prev has shape \(5, 3\), expected \(6, H\), one row per row of x"),
])
def test_shape_errors_say_what_was_expected(forward, args, match):
    with pytest.raises(ValueError, match=match):
        forward(*(np.ones(shape) for shape in args))


def _softmax_in_place_backward(dloss, cache):
    # the tempting shortcut: subtract the one-hot from the cached probabilities themselves
    probs, y = cache
    probs[np.arange(len(y)), y] -= 1
    return (probs * dloss / len(y),)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_backwards_modify_neither_dout_nor_the_cache(rng, name):
    forward, backward, _, make_args, _ = LAYERS[name]
    out, cache = forward(*make_args(rng))
    assert changed_arrays(backward, rng.standard_normal(out.shape), cache) == []


def test_softmax_backward_keeps_its_cache_and_the_check_sees_a_backward_that_does_not(rng):
    _, cache = softmax_cross_entropy_forward(rng.standard_normal((N, C)), _labels(rng))
    assert changed_arrays(softmax_cross_entropy_backward, np.array(1.0), cache) == []
    assert changed_arrays(_softmax_in_place_backward, np.array(1.0), cache) == ["cache[0]"]


@pytest.mark.parametrize("name", sorted(LAYERS) + ["softmax_ce"])
def test_a_complex_step_through_the_forward_gives_the_backward(rng, name):
    # complex inputs keep their dtype, so Im f(x + ih v) / h is the derivative along v
    if name == "softmax_ce":
        y = _labels(rng)
        args = (rng.standard_normal((N, C)),)
        backward, dout = softmax_cross_entropy_backward, 1.0

        def forward(scores):
            return softmax_cross_entropy_forward(scores, y)
    else:
        forward, backward, _, make_args, _ = LAYERS[name]
        args = make_args(rng)
        dout = rng.standard_normal(forward(*args)[0].shape)
    h, v = 1e-30, rng.standard_normal(args[0].shape)
    along_v = np.sum(dout * forward(args[0] + 1j * h * v, *args[1:])[0]).imag / h
    dfirst = backward(dout, forward(*args)[1])[0]
    assert along_v == pytest.approx(np.sum(dfirst * v), rel=1e-12)


def test_the_docstring_examples_run():
    result = doctest.testmod(layers, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
