"""conv: convolution and max pooling, each backward checked against autograd."""

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

from gradkit import conv
from gradkit.conv import conv2d_backward, conv2d_forward, max_pool_backward, max_pool_forward


def conv_oracle(x, w, b, stride, pad):
    # a different decomposition from gradkit's: one strided slice of x per filter
    # offset (p, q), instead of one window per output position
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
    xp = anp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="constant")
    out = b[None, :, None, None]
    for p in range(HH):
        for q in range(WW):
            shifted = xp[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride]
            out = out + anp.einsum("nchw,fc->nfhw", shifted, w[:, :, p, q])
    return out


def max_pool_oracle(x, pool, stride):
    _, _, H, W = x.shape
    H_out, W_out = 1 + (H - pool) // stride, 1 + (W - pool) // stride
    shifted = [x[:, :, p:p + stride * H_out:stride, q:q + stride * W_out:stride]
               for p in range(pool) for q in range(pool)]
    return anp.max(anp.stack(shifted), axis=0)


CONV_CASES = {
    # x shape, w shape, stride, pad
    "stride 1, no pad": ((2, 3, 5, 5), (4, 3, 3, 3), 1, 0),
    "stride 2, pad 1": ((2, 3, 7, 7), (4, 3, 3, 3), 2, 1),
    "non-square, pad 1": ((3, 2, 6, 5), (3, 2, 3, 2), 1, 1),
    "stride 3, no overlap": ((1, 2, 9, 6), (2, 2, 3, 3), 3, 0),
    "1x1 filter": ((2, 4, 3, 3), (5, 4, 1, 1), 1, 0),
}


def _conv_args(rng, case):
    x_shape, w_shape, stride, pad = CONV_CASES[case]
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    return x, w, rng.standard_normal(w_shape[0]), stride, pad


@pytest.mark.parametrize("case", sorted(CONV_CASES))
def test_conv_forward_and_backward_match_autograd(rng, case):
    x, w, b, stride, pad = _conv_args(rng, case)
    out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    want_out, want = autograd_vjp(lambda x, w, b: conv_oracle(x, w, b, stride, pad),
                                  (x, w, b), dout)
    assert relative_difference(out, want_out) < RTOL
    assert_gradients_match(("dx", "dw", "db"), conv2d_backward(dout, cache), want)


def test_conv_with_stride_2_and_pad_1_has_the_size_and_corner_of_the_formula(rng):
    x, w, b, _, _ = _conv_args(rng, "stride 2, pad 1")
    out, _ = conv2d_forward(x, w, b, stride=2, pad=1)
    # H' = 1 + (7 + 2*1 - 3) / 2 = 4
    assert out.shape == (2, 4, 4, 4)
    # the top-left window hangs one row and one column into the padding, so only
    # the lower-right 2 x 2 of each filter meets x
    corner = np.sum(x[1, :, 0:2, 0:2] * w[3, :, 1:3, 1:3]) + b[3]
    assert out[1, 3, 0, 0] == pytest.approx(corner, rel=1e-12)
    # the window (i, j) = (1, 2) starts at rows 1..3, columns 3..5 of x
    inner = np.sum(x[0, :, 1:4, 3:6] * w[2]) + b[2]
    assert out[0, 2, 1, 2] == pytest.approx(inner, rel=1e-12)


def _flipped_filter_backward(dout, cache):
    # convolution vs cross-correlation: dx computed with the filter rotated by 180 degrees
    x, w, b, stride, pad = cache
    _, dw, db = conv2d_backward(dout, cache)
    dx, _, _ = conv2d_backward(dout, (x, w[:, :, ::-1, ::-1], b, stride, pad))
    return dx, dw, db


def _batch_mean_backward(dout, cache):
    # dw and db averaged over the batch, while the forward sums over it
    dx, dw, db = conv2d_backward(dout, cache)
    return dx, dw / dout.shape[0], db / dout.shape[0]


@pytest.mark.parametrize("wrong, named", [(_flipped_filter_backward, "dx"),
                                          (_batch_mean_backward, "dw")])
def test_a_wrong_conv_backward_fails_the_comparison(rng, wrong, named):
    x, w, b, stride, pad = _conv_args(rng, "stride 2, pad 1")
    out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    _, want = autograd_vjp(lambda x, w, b: conv_oracle(x, w, b, stride, pad), (x, w, b), dout)
    with pytest.raises(AssertionError, match=f"^{named}: relative difference"):
        assert_gradients_match(("dx", "dw", "db"), wrong(dout, cache), want)


@pytest.mark.parametrize("pool, stride, shape", [(2, 2, (2, 3, 6, 4)), (3, 1, (2, 2, 5, 5)),
                                                 (2, 1, (1, 3, 4, 5)), (3, 2, (2, 2, 7, 5))])
def test_max_pool_forward_and_backward_match_autograd_without_ties(rng, pool, stride, shape):
    x = rng.standard_normal(shape)   # continuous: no two entries are equal
    out, cache = max_pool_forward(x, pool=pool, stride=stride)
    dout = rng.standard_normal(out.shape)
    want_out, (want_dx,) = autograd_vjp(lambda x: max_pool_oracle(x, pool, stride), (x,), dout)
    assert relative_difference(out, want_out) < RTOL
    assert_gradients_match(("dx",), max_pool_backward(dout, cache), (want_dx,))


def _every_tie_backward(dout, cache):
    # the bug: each window's full dout to every entry equal to its maximum
    x, _, pool, stride = cache
    assert pool == stride == 2
    up = max_pool_forward(x, pool, stride)[0].repeat(2, axis=2).repeat(2, axis=3)
    return ((x == up) * dout.repeat(2, axis=2).repeat(2, axis=3),)


def test_a_max_pool_backward_that_spreads_dout_fails_the_comparison(rng):
    x = rng.standard_normal((2, 3, 4, 4))
    out, cache = max_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    _, want = autograd_vjp(lambda x: max_pool_oracle(x, 2, 2), (x,), dout)
    spread = (dout.repeat(2, axis=2).repeat(2, axis=3),)   # average pooling's routing, no 1/4
    with pytest.raises(AssertionError, match="^dx: relative difference"):
        assert_gradients_match(("dx",), spread, want)


def _per_window(a):
    # (2, 3, 6, 6) -> (2, 3, 3, 3, 4): the four entries of each 2 x 2 window last, row-major
    return a.reshape(2, 3, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5).reshape(2, 3, 3, 3, 4)


def _tied_input(rng):
    x = rng.integers(0, 3, size=(2, 3, 6, 6)).astype(float)
    windows = _per_window(x)
    n_max = (windows == windows.max(axis=-1, keepdims=True)).sum(axis=-1)
    assert (n_max > 1).sum() > 10, "the test input should have many tied windows"
    return x


def test_max_pool_ties_give_the_whole_gradient_to_the_first_maximum_only(rng):
    x = _tied_input(rng)
    out, cache = max_pool_forward(x)
    dout = rng.uniform(0.5, 1.5, size=out.shape)      # no zero, so every window shows
    (dx,) = max_pool_backward(dout, cache)
    g, xw = _per_window(dx), _per_window(x)
    assert np.all((g != 0).sum(axis=-1) == 1), "not exactly one nonzero per window"
    np.testing.assert_array_equal(g.sum(axis=-1), dout)
    np.testing.assert_array_equal(np.argmax(g != 0, axis=-1), np.argmax(xw, axis=-1))
    (bad,) = _every_tie_backward(dout, cache)
    assert not np.all((_per_window(bad) != 0).sum(axis=-1) == 1), "the count can fail"


def _violates_subgradient_inequality(x, g, dout, rng):
    # J(x) = sum(dout * maxpool(x)) is convex for dout >= 0, so a subgradient g
    # satisfies J(x + v) >= J(x) + <g, v> for every v (not only small ones)
    def J(z):
        return float(np.sum(dout * max_pool_forward(z)[0]))

    directions = [np.ones_like(x), -np.ones_like(x)] + [
        rng.standard_normal(x.shape) * 1e-3 for _ in range(20)]
    return any(J(x + v) < J(x) + np.sum(g * v) - 1e-12 for v in directions)


def test_max_pool_tie_gradient_is_a_subgradient_and_a_gradient_to_every_tie_is_not(rng):
    x = _tied_input(rng)
    out, cache = max_pool_forward(x)
    dout = rng.uniform(0.5, 1.5, size=out.shape)
    (dx,) = max_pool_backward(dout, cache)
    assert not _violates_subgradient_inequality(x, dx, dout, rng)
    # autograd splits a tied window's gradient evenly: another valid subgradient
    _, (split,) = autograd_vjp(lambda x: max_pool_oracle(x, 2, 2), (x,), dout)
    assert not _violates_subgradient_inequality(x, split, dout, rng)
    (every,) = _every_tie_backward(dout, cache)
    assert _violates_subgradient_inequality(x, every, dout, rng)


def _in_place_backward(dout, cache):
    dout *= 2.0
    return conv2d_backward(dout, cache)


def test_backwards_modify_neither_dout_nor_the_cache(rng):
    x, w, b, stride, pad = _conv_args(rng, "stride 2, pad 1")
    out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout = rng.standard_normal(out.shape)
    assert changed_arrays(conv2d_backward, dout, cache) == []
    out, pool_cache = max_pool_forward(x[:, :, :6, :6])
    assert changed_arrays(max_pool_backward, rng.standard_normal(out.shape), pool_cache) == []
    # the check sees a mutation when there is one
    assert changed_arrays(_in_place_backward, dout, cache) == ["dout"]


@pytest.mark.parametrize("args, kwargs, error, match", [
    (((3, 5, 5), (2, 3, 3, 3), (2,)), {}, ValueError,
     r"x has shape \(3, 5, 5\), expected \(N, C, H, W\): add a batch axis with x\[None\]"),
    (((2, 3, 5, 5), (2, 4, 3, 3), (2,)), {}, ValueError,
     r"w has shape \(2, 4, 3, 3\), so 4 channels, but x .* must have shape \(F, 3, HH, WW\)"),
    (((2, 3, 5, 5), (2, 3, 3, 3), (2, 1)), {}, ValueError,
     r"b has shape \(2, 1\), expected \(2,\), one bias per filter of w: use b.ravel\(\)"),
    (((2, 3, 6, 6), (2, 3, 3, 3), (2,)), {"stride": 2}, ValueError,
     r"stride=2 does not tile the height: H \+ 2\*pad - HH = 6 \+ 2\*0 - 3 = 3 is not a "
     r"multiple of 2, .*: change pad or stride"),
    (((2, 3, 2, 2), (2, 3, 3, 3), (2,)), {}, ValueError,
     r"the window is larger than the input along the height: HH=3 > H \+ 2\*pad = 2 \+ 2\*0 = 2: "
     r"use a "
     r"smaller window or a larger pad"),
    (((2, 3, 5, 5), (2, 3, 3, 3), (2,)), {"stride": 1.5}, TypeError,
     r"stride=1.5 is a float, expected an integer >= 1"),
    (((2, 3, 5, 5), (2, 3, 3, 3), (2,)), {"pad": -1}, ValueError,
     r"pad=-1, expected an integer >= 0"),
])
def test_conv_shape_errors_say_what_to_fix(args, kwargs, error, match):
    x, w, b = (np.zeros(shape) for shape in args)
    with pytest.raises(error, match="conv2d_forward: " + match):
        conv2d_forward(x, w, b, **kwargs)


def test_max_pool_errors_say_what_to_fix():
    with pytest.raises(ValueError, match=r"stride=2 does not tile the width: W - pool = 5 - "
                       r"2 = 3 is not a multiple of 2, .*: change stride \(stride=1"):
        max_pool_forward(np.zeros((1, 1, 4, 5)))
    with pytest.raises(ValueError, match=r"x has shape \(4, 4\), expected \(N, C, H, W\)$"):
        max_pool_forward(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"along the width: pool=3 > W = 2: use a smaller window$"):
        max_pool_forward(np.zeros((1, 1, 4, 2)), pool=3, stride=1)
    with pytest.raises(ValueError, match=r"pool=0, expected an integer >= 1"):
        max_pool_forward(np.zeros((1, 1, 4, 4)), pool=0)


def test_a_complex_step_through_the_forward_gives_the_backward(rng):
    # complex inputs keep their dtype, so Im f(x + ih v) / h is the derivative along v
    x, w, b, stride, pad = _conv_args(rng, "stride 2, pad 1")
    out, cache = conv2d_forward(x, w, b, stride=stride, pad=pad)
    dout, h, v = rng.standard_normal(out.shape), 1e-30, rng.standard_normal(w.shape)
    along_v = np.sum(dout * conv2d_forward(x, w + 1j * h * v, b, stride, pad)[0]).imag / h
    assert along_v == pytest.approx(np.sum(conv2d_backward(dout, cache)[1] * v), rel=1e-12)
    out, cache = max_pool_forward(x[:, :, :6, :6])
    dout, v = rng.standard_normal(out.shape), rng.standard_normal((2, 3, 6, 6))
    along_v = np.sum(dout * max_pool_forward(x[:, :, :6, :6] + 1j * h * v)[0]).imag / h
    assert along_v == pytest.approx(np.sum(max_pool_backward(dout, cache)[0] * v), rel=1e-12)


def test_the_docstring_examples_run():
    result = doctest.testmod(conv, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


def test_every_tie_max_pool_backward_fails_even_where_one_joint_move_would_cancel(monkeypatch):
    import gradkit as gk
    from gradkit import conv, kinks

    def every_tie_backward(dout, cache):
        x, _, pool, stride = cache
        dx = np.zeros_like(x, dtype=float)
        for n, c, i, j in np.ndindex(dout.shape):
            win = x[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool]
            dx[n, c, i * stride:i * stride + pool, j * stride:j * stride + pool] += (
                (win == win.max()) * dout[n, c, i, j])
        return (dx,)

    # on this integer image, the excess of the tied windows nearly cancels along the first move
    x = np.random.default_rng(3).integers(0, 4, size=(2, 3, 4, 4)).astype(float)
    assert gk.check_layer(conv.max_pool_forward, every_tie_backward, x).verdict == "fail"
    monkeypatch.setattr(kinks, "JOINT_MOVES", 1)
    assert gk.check_layer(conv.max_pool_forward, every_tie_backward, x).verdict == "pass"
