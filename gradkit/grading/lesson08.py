"""Exercise specs of lesson 08, checking layers (``solutions/08_checking_layers.ipynb``).

Each exercise is the backward pass of a forward pass of the library, with the
library's cache: the student writes ``X_backward(dout, cache)`` for the cache
that ``X_forward`` returns, and the reference is the library's own backward.

- ``08.softmax_cross_entropy_backward`` — ``dscores = dloss * (probs - onehot(y)) / N``
  from the cache ``(probs, y)`` of :func:`gradkit.layers.softmax_cross_entropy_forward`.
- ``08.batchnorm_backward`` — ``(dx, dgamma, dbeta)`` with the three terms of ``dx``,
  from the cache ``(x_hat, inv_std, gamma, axis)`` of :func:`gradkit.layers.batchnorm_forward`.
- ``08.conv2d_backward`` — ``(dx, dw, db)`` of a cross-correlation with stride and
  padding, from the cache ``(x, w, b, stride, pad)`` of :func:`gradkit.conv.conv2d_forward`.
- ``08.max_pool_backward`` — ``dx``, the whole ``dout`` of a window to its one
  maximum (the one ``argmax`` names), from the cache ``(x, argmax, pool, stride)`` of
  :func:`gradkit.conv.max_pool_forward`.

The tests build each cache by calling the library's forward pass on seeded
inputs (integer images, for max-pool ties), so a test stores how to call the
function, never an expected value.
"""

import numpy as np

from gradkit import conv, layers
from gradkit.grading.spec import Exercise, Mistake, Test

__all__ = ["EXERCISES"]


def _close(a, b, rtol=1e-6, atol=1e-9):
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _parts(got, n):
    """``got`` as a list of ``n`` values, or None (a wrong number of values)."""
    return list(got) if isinstance(got, (list, tuple)) and len(got) == n else None


# ---- references: the library's backward passes, each value returned as the exercise asks ----

def softmax_cross_entropy_backward(dloss, cache):
    (dscores,) = layers.softmax_cross_entropy_backward(dloss, cache)
    return dscores


def batchnorm_backward(dout, cache):
    dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
    return dx, dgamma, dbeta


def conv2d_backward(dout, cache):
    dx, dw, db = conv.conv2d_backward(dout, cache)
    return dx, dw, db


def max_pool_backward(dout, cache):
    (dx,) = conv.max_pool_backward(dout, cache)
    return dx


# ---- 08.softmax_cross_entropy_backward ---------------------------------------------------

def _softmax_args(N, C, dloss, repeated=False):
    def args(rng):
        scores = 2.0 * rng.standard_normal((N, C))
        y = rng.integers(0, C, size=N)
        if repeated:  # every class but the last, some twice: whole columns differ from rows
            y = np.arange(N) % (C - 1)
        _, cache = layers.softmax_cross_entropy_forward(scores, y)
        return dloss, cache
    return args


def _onehot(cache):
    probs, y = cache
    onehot = np.zeros_like(probs)
    onehot[np.arange(len(y)), y] = 1.0
    return onehot


def _softmax_times(a, got, c):
    return _close(got, c * softmax_cross_entropy_backward(*a))


def _subtracted_elsewhere(a, got):
    """Is ``got`` ``dloss/N * (probs - M)`` for a 0/1 matrix ``M`` other than the one-hot?"""
    dloss, (probs, y) = a
    N = probs.shape[0]
    got = np.asarray(got, dtype=float)
    if got.shape != probs.shape:
        return False
    M = probs - got * N / dloss
    ones = np.round(M)
    return bool(np.allclose(M, ones, atol=1e-6) and np.all((ones == 0) | (ones == 1))
                and not np.array_equal(ones, _onehot((probs, y))) and ones.any())


_SOFTMAX = Exercise(
    id="08.softmax_cross_entropy_backward",
    title="Softmax cross-entropy backward",
    function="softmax_cross_entropy_backward",
    points=2,
    reference=softmax_cross_entropy_backward,
    returns=("dscores",),
    tests=[
        Test("N = 4 examples, C = 3 classes, dloss = 1", args=_softmax_args(4, 3, 1.0),
             shows="scores = 2 * rng.standard_normal((4, 3)), y = rng.integers(0, 3, 4); "
                   "loss, cache = softmax_cross_entropy_forward(scores, y); dloss = 1.0"),
        Test("N = 6, C = 4, labels repeated, dloss = 1",
             args=_softmax_args(6, 4, 1.0, repeated=True), seed=1,
             shows="scores = 2 * rng.standard_normal((6, 4)), y = [0, 1, 2, 0, 1, 2]; "
                   "loss, cache = softmax_cross_entropy_forward(scores, y); dloss = 1.0"),
        Test("N = 5, C = 4, dloss = -0.7 (the upstream gradient scales dscores)",
             args=_softmax_args(5, 4, -0.7), seed=2,
             shows="scores = 2 * rng.standard_normal((5, 4)), y = rng.integers(0, 4, 5); "
                   "loss, cache = softmax_cross_entropy_forward(scores, y); dloss = -0.7"),
    ],
    mistakes=[
        Mistake("return dscores itself, an array of the shape of probs, not a tuple (dscores,).",
                lambda a, got: isinstance(got, list) and len(got) == 1),
        Mistake("you forgot the 1/N: the loss is the mean over the N rows, so each row's "
                "gradient is divided by N.",
                lambda a, got: _softmax_times(a, got, a[1][0].shape[0])),
        Mistake("you divided by N twice: the 1/N of the mean enters once.",
                lambda a, got: _softmax_times(a, got, 1 / a[1][0].shape[0])),
        Mistake("the sign is flipped: d loss / d scores = probs - onehot(y), positive on the "
                "wrong classes.", lambda a, got: _softmax_times(a, got, -1.0)),
        Mistake("you left out dloss: the gradient of dloss * loss is dloss times that of the "
                "loss (the test with dloss = -0.7 shows it).",
                lambda a, got: _softmax_times(a, got, 1 / a[0]) and a[0] != 1),
        Mistake("you forgot to subtract 1 at the true classes: probs / N alone is the "
                "gradient of log-sum-exp, not of the cross-entropy.",
                lambda a, got: _close(got, a[0] * a[1][0] / a[1][0].shape[0])),
        Mistake("you subtracted 1 at the wrong entries: once per row, in row n at column "
                "y[n] only. Indexing with [:, y] takes whole columns (every row, at every "
                "label that occurs), and [y] takes rows.", _subtracted_elsewhere),
    ],
    hint="dscores = probs with 1 subtracted at (n, y[n]) in each row n, times dloss / N. "
         "Copy probs first, so that the cache stays as it was.",
)


# ---- 08.batchnorm_backward -----------------------------------------------------------------

def _bn_args(N, D, seed_scale):
    def args(rng):
        x = rng.standard_normal((N, D)) * seed_scale + rng.standard_normal(D)
        gamma = rng.uniform(0.5, 2.0, size=D) * rng.choice([-1.0, 1.0], size=D)
        beta = rng.standard_normal(D)
        out, cache = layers.batchnorm_forward(x, gamma, beta)
        return rng.standard_normal(out.shape), cache
    return args


def _bn_dx(a, *, mean_term=True, var_term=True, factor=None, var_scale=1.0, axis=0,
           with_gamma=True):
    """dx as the variants of a batchnorm backward compute it."""
    dout, (x_hat, inv_std, gamma, _) = a
    n = x_hat.shape[axis]
    g = dout * gamma if with_gamma else dout
    total = n * g
    if mean_term:
        total = total - g.sum(axis=axis, keepdims=True)
    if var_term:
        total = total - var_scale * x_hat * (g * x_hat).sum(axis=axis, keepdims=True)
    front = inv_std if factor is None else factor(inv_std)
    return front / n * total


def _bn_dx_is(rtol=1e-6, **variant):
    def when(a, got):
        got = _parts(got, 3)
        return got is not None and _close(got[0], _bn_dx(a, **variant), rtol=rtol)
    return when


def _xhat_inv_std(a):
    """The inv_std a backward gets when it computes the variance of x_hat (about 1), not of x."""
    x_hat = a[1][0]
    return lambda s: 1.0 / np.sqrt(x_hat.var(axis=0, keepdims=True) + 1e-5)


def _dgamma(a):
    return (a[0] * a[1][0]).sum(axis=0)


def _dbeta(a):
    return a[0].sum(axis=0)


def _swapped(a, got):
    got = _parts(got, 3)
    return got is not None and _close(got[1], _dbeta(a)) and _close(got[2], _dgamma(a))


_BATCHNORM = Exercise(
    id="08.batchnorm_backward",
    title="Batch normalization backward",
    function="batchnorm_backward",
    points=3,
    reference=batchnorm_backward,
    returns=("dx", "dgamma", "dbeta"),
    tests=[
        Test("N = 8 examples, D = 3 features", args=_bn_args(8, 3, 2.0),
             shows="x = 2 * rng.standard_normal((8, 3)) + offsets, gamma (some negative), "
                   "beta random; out, cache = batchnorm_forward(x, gamma, beta); "
                   "dout = rng.standard_normal((8, 3))"),
        Test("N = 5, D = 4, features of scale 10", args=_bn_args(5, 4, 10.0), seed=1,
             shows="x = 10 * rng.standard_normal((5, 4)) + offsets, gamma, beta random; "
                   "out, cache = batchnorm_forward(x, gamma, beta); dout random (5, 4)"),
        Test("N = 3, D = 2, a batch of three", args=_bn_args(3, 2, 0.5), seed=2,
             shows="x = 0.5 * rng.standard_normal((3, 2)) + offsets, gamma, beta random; "
                   "out, cache = batchnorm_forward(x, gamma, beta); dout random (3, 2)"),
    ],
    mistakes=[
        Mistake("return three values, (dx, dgamma, dbeta).", lambda a, got: _parts(got, 3) is None),
        Mistake("dx has only its first term, dout * gamma * inv_std: that treats mu and var "
                "as constants, but both are computed from x. Add the terms that flow through "
                "the mean and through the variance.",
                _bn_dx_is(mean_term=False, var_term=False)),
        Mistake("dx is missing the term through the mean: every x[n] moves mu, so subtract "
                "the batch mean of dx_hat = dout * gamma.", _bn_dx_is(mean_term=False)),
        Mistake("dx is missing the term through the variance: every x[n] moves var too, "
                "which gives a term x_hat * (the batch mean of dx_hat * x_hat).",
                _bn_dx_is(var_term=False)),
        Mistake("the three terms are right but the factor in front is not: dx_hat / dx is "
                "inv_std = 1 / sqrt(var + eps), not 1 / (var + eps).",
                _bn_dx_is(factor=lambda s: s * s)),
        Mistake("the three terms are right but the factor in front is not: it is inv_std = "
                "1 / sqrt(var + eps) with the variance of x, from the cache; the variance of "
                "x_hat is 1.",
                lambda a, got: _bn_dx_is(factor=np.ones_like)(a, got) or _bn_dx_is(
                    rtol=1e-3, factor=_xhat_inv_std(a))(a, got)),
        Mistake("you differentiated the unbiased variance (divided by N - 1); the forward's "
                "variance is biased, the mean of (x - mu)**2 over the N examples.",
                lambda a, got: _bn_dx_is(var_scale=a[1][0].shape[0] / (a[1][0].shape[0] - 1))(
                    a, got)),
        Mistake("you summed over the features (axis 1): batchnorm's statistics are per "
                "feature, over the N examples, so its sums run over axis 0 (that is layer "
                "norm's backward).", _bn_dx_is(axis=1)),
        Mistake("dx_hat = dout * gamma: your dx leaves out gamma.", _bn_dx_is(with_gamma=False)),
        Mistake("dgamma and dbeta are swapped: dgamma = sum of dout * x_hat, dbeta = sum of "
                "dout.", _swapped),
        Mistake("gamma and beta are shared by all N rows: sum dgamma and dbeta over axis 0 "
                "(your values are per row).",
                lambda a, got: _parts(got, 3) is not None and (
                    _close(got[1], a[0] * a[1][0]) or _close(got[2], a[0]))),
    ],
    hint="With g = dout * gamma, per feature (sums over axis 0): dx = inv_std / N * (N * g - "
         "sum g - x_hat * sum(g * x_hat)); dgamma = sum(dout * x_hat); dbeta = sum(dout).",
)


# ---- 08.conv2d_backward ----------------------------------------------------------------------

def _conv_args(x_shape, w_shape, stride, pad):
    def args(rng):
        x = rng.standard_normal(x_shape)
        w = rng.standard_normal(w_shape)
        b = rng.standard_normal(w_shape[0])
        out, cache = conv.conv2d_forward(x, w, b, stride=stride, pad=pad)
        return rng.standard_normal(out.shape), cache
    return args


def _conv_back(a, *, flip=False, assign=False, step=None, crop=True):
    """(dx, dw) as the variants of a conv backward compute them (``assign``: dx_pad's
    windows written with = once per position, all filters summed)."""
    dout, (x, w, _, stride, pad) = a
    step = stride if step is None else step
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kernel = w[:, :, ::-1, ::-1] if flip else w
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, x_pad[:, :, rows, cols], axes=([0], [0]))
            part = np.tensordot(g, kernel, axes=([1], [0]))
            if assign:
                dx_pad[:, :, rows, cols] = part
            else:
                dx_pad[:, :, rows, cols] += part
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W] if crop else dx_pad
    return dx, dw


def _conv_assigned(a, got):
    """dx or dw written with = in a loop over (n, f, i, j): the last write wins."""
    got = _parts(got, 3)
    if got is None:
        return False
    dout, (x, w, _, stride, pad) = a
    N, F, H_out, W_out = dout.shape
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n, f, i, j in np.ndindex(N, F, H_out, W_out):
        rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
        dx_pad[n, :, rows, cols] = dout[n, f, i, j] * w[f]
        dw[f] = dout[n, f, i, j] * x_pad[n, :, rows, cols]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    return (_close(got[0], dx) or _close(got[0], _conv_back(a, assign=True)[0])
            or _close(got[1], dw))


def _conv_part_is(k, value):
    def when(a, got):
        got = _parts(got, 3)
        return got is not None and _close(got[k], value(a))
    return when


def _conv_ref(a):
    return conv2d_backward(*a)


_CONV_SHOWS = ("x = rng.standard_normal({x}), w = rng.standard_normal({w}), b random; "
               "out, cache = conv2d_forward(x, w, b, stride={s}, pad={p}); dout random {o}")

_CONV = Exercise(
    id="08.conv2d_backward",
    title="Convolution backward",
    function="conv2d_backward",
    points=3,
    reference=conv2d_backward,
    returns=("dx", "dw", "db"),
    tests=[
        Test("x (2, 3, 5, 5), w (3, 3, 3, 3), stride 1, pad 1: overlapping windows",
             args=_conv_args((2, 3, 5, 5), (3, 3, 3, 3), 1, 1),
             shows=_CONV_SHOWS.format(x=(2, 3, 5, 5), w=(3, 3, 3, 3), s=1, p=1,
                                      o=(2, 3, 5, 5))),
        Test("x (2, 2, 5, 5), w (4, 2, 3, 3), stride 2, pad 1",
             args=_conv_args((2, 2, 5, 5), (4, 2, 3, 3), 2, 1), seed=1,
             shows=_CONV_SHOWS.format(x=(2, 2, 5, 5), w=(4, 2, 3, 3), s=2, p=1,
                                      o=(2, 4, 3, 3))),
        Test("x (1, 2, 4, 5), w (2, 2, 2, 3), stride 1, pad 0: a 2 x 3 kernel",
             args=_conv_args((1, 2, 4, 5), (2, 2, 2, 3), 1, 0), seed=2,
             shows=_CONV_SHOWS.format(x=(1, 2, 4, 5), w=(2, 2, 2, 3), s=1, p=0,
                                      o=(1, 2, 3, 3))),
    ],
    mistakes=[
        Mistake("return three values, (dx, dw, db).", lambda a, got: _parts(got, 3) is None),
        Mistake("dx has the shape of the padded input: the padding zeros are constants, so "
                "crop the pad border off before returning dx.",
                lambda a, got: a[1][4] > 0 and _conv_part_is(
                    0, lambda a: _conv_back(a, crop=False)[0])(a, got)),
        Mistake("you flipped the kernel in dx: conv2d_forward is a cross-correlation (no "
                "flip), so each window of x receives dout times w as it is.",
                _conv_part_is(0, lambda a: _conv_back(a, flip=True)[0])),
        Mistake("dw looks flipped: dw[f, c, p, q] pairs w[f, c, p, q] with the pixel at "
                "offset (p, q) of each window, not (HH-1-p, WW-1-q).",
                _conv_part_is(1, lambda a: _conv_ref(a)[1][:, :, ::-1, ::-1])),
        Mistake("dw is transposed: it has w's shape (F, C, HH, WW), filter first; yours has "
                "the filter and channel axes swapped.",
                _conv_part_is(1, lambda a: _conv_ref(a)[1].transpose(1, 0, 2, 3))),
        Mistake("dw is transposed in space: its last two axes are (HH, WW), the kernel's "
                "rows then columns; yours has them swapped.",
                _conv_part_is(1, lambda a: _conv_ref(a)[1].transpose(0, 1, 3, 2))),
        Mistake("accumulate with +=, not =: a pixel of x lies in several windows (they "
                "overlap when stride < kernel size) and gets gradient from every filter, and "
                "each weight of a filter touches every window of every image.", _conv_assigned),
        Mistake("window (i, j) starts at row i * stride and column j * stride of the padded x; "
                "your backward ignores the stride.",
                lambda a, got: a[1][3] > 1 and _conv_part_is(1, lambda a: _conv_back(
                    a, step=1)[1])(a, got)),
        Mistake("b[f] is added at every position of every image: db is the sum (not the "
                "mean) of dout over N, H' and W' (axes 0, 2, 3), one number per filter.",
                lambda a, got: _parts(got, 3) is not None and any(
                    _close(got[2], wrong) for wrong in (
                        *(a[0].sum(axis=ax) for ax in (0, (0, 1), (2, 3), (1, 2, 3))),
                        a[0].mean(axis=(0, 2, 3))))),
    ],
    hint="Loop over the output positions (i, j): the window of the padded x there is "
         "x_pad[:, :, i*stride : i*stride+HH, j*stride : j*stride+WW]; dw += dout[:, :, i, j] "
         "times that window summed over N, the window of dx_pad += dout[:, :, i, j] times w "
         "summed over F; crop the padding off dx; db = dout summed over axes 0, 2, 3.",
)


# ---- 08.max_pool_backward --------------------------------------------------------------------

def _pool_args(shape, pool, stride, integer):
    def args(rng):
        x = (rng.integers(0, 4, size=shape).astype(float) if integer
             else rng.standard_normal(shape))
        out, cache = conv.max_pool_forward(x, pool=pool, stride=stride)
        return rng.standard_normal(out.shape), cache
    return args


def _pool_back(a, rule):
    """dx as the variants of a max-pool backward compute it."""
    dout, (x, argmax, pool, stride) = a
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):
        rows, cols = slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)
        window, d = x[n, c, rows, cols], dout[n, c, i, j]
        k = argmax[n, c, i, j]
        ties = window == window.max()
        if rule == "every_tie":
            dx[n, c, rows, cols] += ties * d
        elif rule == "split":
            dx[n, c, rows, cols] += ties * d / ties.sum()
        elif rule == "top_left":
            dx[n, c, i * stride, j * stride] += d
        elif rule == "spread":
            dx[n, c, rows, cols] += d / pool**2
        elif rule == "swapped_divmod":
            dx[n, c, i * stride + k % pool, j * stride + k // pool] += d
    return dx


def _pool_is(rule):
    def when(a, got):
        return _close(got, _pool_back(a, rule)) and not _close(got, max_pool_backward(*a))
    return when


def _assigned(a, got):
    """dx written with = instead of +=: where windows overlap, only the last one counts."""
    dout, (x, argmax, pool, stride) = a
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], pool)
            for n, c in np.ndindex(N, C):
                dx[n, c, i * stride + p[n, c], j * stride + q[n, c]] = dout[n, c, i, j]
    return _close(got, dx) and not _close(got, max_pool_backward(*a))


_POOL_SHOWS = ("x = {kind} of shape {shape}; out, cache = max_pool_forward(x, pool={pool}, "
               "stride={stride}); dout = rng.standard_normal(out.shape)")

_POOL = Exercise(
    id="08.max_pool_backward",
    title="Max-pool backward",
    function="max_pool_backward",
    points=2,
    reference=max_pool_backward,
    returns=("dx",),
    tests=[
        Test("a float image (2, 2, 4, 4), 2 x 2 windows, stride 2: no ties",
             args=_pool_args((2, 2, 4, 4), 2, 2, integer=False),
             shows=_POOL_SHOWS.format(kind="rng.standard_normal", shape=(2, 2, 4, 4), pool=2,
                                      stride=2)),
        Test("an integer image (2, 2, 4, 4) with values 0-3, 2 x 2 windows: ties",
             args=_pool_args((2, 2, 4, 4), 2, 2, integer=True), seed=1,
             shows=_POOL_SHOWS.format(kind="rng.integers(0, 4) as floats", shape=(2, 2, 4, 4),
                                      pool=2, stride=2)),
        Test("an integer image (1, 2, 5, 5), 3 x 3 windows, stride 1: overlap and ties",
             args=_pool_args((1, 2, 5, 5), 3, 1, integer=True), seed=2,
             shows=_POOL_SHOWS.format(kind="rng.integers(0, 4) as floats", shape=(1, 2, 5, 5),
                                      pool=3, stride=1)),
    ],
    mistakes=[
        Mistake("return dx itself, an array of the shape of x, not a tuple (dx,).",
                lambda a, got: isinstance(got, list) and len(got) == 1),
        Mistake("you sent dout to every tied maximum: with two equal maxima the output rises "
                "once, not twice, when both rise. Send the whole dout to one of them, the one "
                "argmax names.", _pool_is("every_tie")),
        Mistake("you split dout between the tied maxima: a valid subgradient too, but the "
                "forward's cache names the maximum that gets the gradient (argmax, the first "
                "in row-major order), and this exercise sends the whole dout there.",
                _pool_is("split")),
        Mistake("you sent dout to the first (top-left) element of each window: it goes to "
                "the window's maximum, at the flat index argmax[n, c, i, j] within the window.",
                _pool_is("top_left")),
        Mistake("you spread dout over the whole window: that is average pooling's backward; "
                "max pooling's output depends on the maximum only.", _pool_is("spread")),
        Mistake("argmax is a flat index into the pool x pool window in row-major order: its "
                "row is k // pool and its column k % pool; yours has them swapped.",
                _pool_is("swapped_divmod")),
        Mistake("windows overlap (stride < pool), so a pixel that is the maximum of several "
                "windows collects the sum of their douts: accumulate with +=, not =.",
                _assigned),
    ],
    hint="dx starts as zeros like x; for each output position (i, j), with p, q = "
         "divmod(argmax[:, :, i, j], pool), add dout[:, :, i, j] to dx at row i*stride + p, "
         "column j*stride + q (the same (n, c) pairs as dout).",
)

EXERCISES = [_SOFTMAX, _BATCHNORM, _CONV, _POOL]
