"""Exercise specs of lesson 08, checking layers (``solutions/08_checking_layers.ipynb``).

Each exercise is the backward pass of a forward pass of the library, with the
library's cache: the student writes ``X_backward(dout, cache)`` for the cache
that ``X_forward`` returns; the reference, the solution's answer, agrees with the
library's own backward.

- ``08.softmax_cross_entropy_backward`` — ``dscores`` from the cache ``(probs, y)`` of
  :func:`gradkit.layers.softmax_cross_entropy_forward`.
- ``08.batchnorm_backward`` — ``(dx, dgamma, dbeta)`` from the cache
  ``(x_hat, inv_std, gamma, axis)`` of :func:`gradkit.layers.batchnorm_forward`.
- ``08.conv2d_backward`` — ``(dx, dw, db)`` of a cross-correlation with stride and
  padding, from the cache ``(x, w, b, stride, pad)`` of :func:`gradkit.conv.conv2d_forward`.
- ``08.max_pool_backward`` — ``dx`` from the cache ``(x, argmax, pool, stride)`` of
  :func:`gradkit.conv.max_pool_forward`.

And four auto-checked questions (a letter, a number or a name): two predictions made
before the cell that measures them (``08.answer_8_1``, what a ``dout`` of ones lets through;
``08.answer_8_3``, how often a sampled check finds a one-entry bug), ``08.answer_8_4`` (on
which inputs to check a layer with a max) and ``08.answer_8_5``, a finding of one's own: a
recurrent step's backward with one wrong gradient, drawn by :func:`mystery_rnn_backward`
from the student's variant. Their answers and the feedback for each wrong one live in
``solutions/`` (the answer cells and ``solutions/instructor/lesson08.py``); the check data
holds only their hashes.

The tests build each cache by calling the library's forward pass on seeded
inputs (integer images, for max-pool ties), so a test stores how to call the
function, never an expected value.

The references are the answer cells of the solution notebook, and the mistakes
that need a near-copy of an answer (a backward pass with one term left out, a
kernel flipped, a sum written with =) are functions of
``solutions/instructor/lesson08.py`` (see :mod:`gradkit.grading.references`);
neither ships in this module. The others read the expected value (a dscores N
times too large).
"""

import numpy as np

from gradkit import conv, layers
from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["EXERCISES", "RNN_INPUTS", "mystery_rnn_backward"]

RNN_INPUTS = ("x", "h_prev", "Wx", "Wh", "b")
"""The inputs of :func:`gradkit.layers.rnn_step_forward`, in the order of its backward."""


def _close(a, b, rtol=1e-6, atol=1e-9):
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _parts(got, n):
    """``got`` as a list of ``n`` values, or None (a wrong number of values)."""
    return list(got) if isinstance(got, (list, tuple)) and len(got) == n else None


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


def _n_rows(a):
    return a[1][0].shape[0]


def _subtracted_elsewhere(a, got, e):
    """Is ``got`` ``dloss/N * (probs - M)`` for a 0/1 matrix ``M`` other than the expected
    one (which ``e`` gives the same way)?"""
    dloss, (probs, _) = a
    N = probs.shape[0]
    got, e = np.asarray(got, dtype=float), np.asarray(e, dtype=float)
    if got.shape != probs.shape:
        return False
    M = probs - got * N / dloss
    ones = np.round(M)
    return bool(np.allclose(M, ones, atol=1e-6) and np.all((ones == 0) | (ones == 1))
                and not np.array_equal(ones, np.round(probs - e * N / dloss)) and ones.any())


_SOFTMAX = Exercise(
    id="08.softmax_cross_entropy_backward",
    title="Softmax cross-entropy backward",
    function="softmax_cross_entropy_backward",
    points=3,
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
        Mistake("you forgot the 1/N: your dscores is N times too large, and the loss is the "
                "mean over the N rows.",
                lambda a, got, e: _close(got, _n_rows(a) * np.asarray(e))),
        Mistake("you divided by N twice: the 1/N of the mean enters once.",
                lambda a, got, e: _close(got, np.asarray(e) / _n_rows(a))),
        Mistake("the sign is flipped: raising the score of a wrong class raises the loss, so "
                "d loss / d scores is positive there.",
                lambda a, got, e: _close(got, -np.asarray(e))),
        Mistake("you left out dloss: your dscores is the same whatever the upstream gradient "
                "is (the test with dloss = -0.7 shows it); see what section 1 says a backward "
                "pass receives.",
                lambda a, got, e: a[0] != 1 and _close(got, np.asarray(e) / a[0])),
        Mistake("your dscores leaves out the term of the true class: probs / N alone is the "
                "gradient of log-sum-exp, not of the cross-entropy: differentiate the "
                "-scores[n, y[n]] term of each row's loss too.",
                wrong="softmax_no_subtract"),
        Mistake("you subtracted 1 at the wrong entries: indexing with [:, y] takes whole "
                "columns (every row, at every label that occurs), and [y] whole rows, while "
                "each row changes at one entry only; look up how numpy indexes with two "
                "integer arrays.", _subtracted_elsewhere),
    ],
    hint="Differentiate each row's loss of section 2, both of its terms, then the mean over "
         "the rows, and scale by the upstream gradient dloss; work on a copy of probs, so that "
         "the cache stays as it was.",
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


_BN_FRONT = ("the three terms are right but the factor in front is not: it comes from the "
             "variance of x, which the cache holds for you; the variance of x_hat is 1.")
_BN_PER_ROW = ("gamma and beta are shared by all N rows, and your values are per row: a "
               "shared parameter collects the gradient of every row.")


def _swapped(a, got, e):
    got = _parts(got, 3)
    return got is not None and _close(got[1], e[2]) and _close(got[2], e[1])


_BATCHNORM = Exercise(
    id="08.batchnorm_backward",
    title="Batch normalization backward",
    function="batchnorm_backward",
    points=3,
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
        Mistake("dx has only its first term, the direct path: that treats mu and var as "
                "constants, but both are computed from x (section 4 lists the other two "
                "paths).", wrong="bn_dx_first_term_only", part=0),
        Mistake("dx is missing the term through the mean: every x[n] moves mu, and so every "
                "x_hat[m] (path 2 of section 4).", wrong="bn_dx_no_mean_term", part=0),
        Mistake("dx is missing the term through the variance: every x[n] moves var too, and "
                "so every x_hat[m] (path 3 of section 4).",
                wrong="bn_dx_no_variance_term", part=0),
        Mistake("the three terms are right but the factor in front is not: you used "
                "1 / (var + eps), the square of inv_std; look at how x_hat is computed from x.",
                wrong="bn_dx_over_variance", part=0),
        Mistake(_BN_FRONT, wrong="bn_dx_no_front_factor", part=0),
        Mistake(_BN_FRONT, wrong="bn_dx_variance_of_x_hat", part=0, rtol=1e-3),
        Mistake("you differentiated the unbiased variance (divided by N - 1); the forward's "
                "variance is the biased one (section 3).",
                wrong="bn_dx_unbiased_variance", part=0),
        Mistake("you summed over the features (axis 1), as layer norm's backward does: "
                "batchnorm's statistics are per feature, over the N examples.",
                wrong="bn_dx_over_features", part=0),
        Mistake("your dx leaves out gamma: out depends on x_hat through gamma, so the "
                "gradient that reaches x_hat passes through it too.",
                wrong="bn_dx_without_gamma", part=0),
        Mistake("dgamma and dbeta are swapped: which of gamma and beta multiplies x_hat in "
                "the forward pass?", _swapped),
        Mistake(_BN_PER_ROW, wrong="bn_dgamma_per_row", part=1),
        Mistake(_BN_PER_ROW, lambda a, got: _close(_parts(got, 3)[2], a[0])),  # dbeta = dout
    ],
    hint="Follow section 4: dx adds the three paths from x to x_hat (directly, through the "
         "mean, through the variance), each summed over the N examples of a feature; gamma and "
         "beta are shared by all rows, and x - mu can be written with x_hat and inv_std.",
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


def _conv_part_is(k, value):
    """A mistake in value ``k`` of (dx, dw, db) that ``value(expected)`` gives (where that
    differs from the expected one: a symmetric dw is its own flip)."""
    def when(a, got, e):
        got, want = _parts(got, 3), np.asarray(e[k], dtype=float)
        return got is not None and _close(got[k], value(want)) and not _close(want, value(want))
    return when


_CONV_ASSIGNED = ("each window overwrites what the windows before it gave, but these "
                  "gradients add up: a pixel of x lies in several windows (they overlap when "
                  "stride < kernel size) and gets gradient from every filter, and each weight "
                  "of a filter touches every window of every image.")
_CONV_DB = ("b[f] is added at every position of every image: db is the sum (not the mean) of "
            "the gradients from all of them, one number per filter.")


_CONV_SHOWS = ("x = rng.standard_normal({x}), w = rng.standard_normal({w}), b random; "
               "out, cache = conv2d_forward(x, w, b, stride={s}, pad={p}); dout random {o}")

_CONV = Exercise(
    id="08.conv2d_backward",
    title="Convolution backward",
    function="conv2d_backward",
    points=3,
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
        Mistake("dx has the shape of the padded input, not that of x: the padding zeros are "
                "constants, so crop the pad border off.", wrong="conv_dx_uncropped", part=0),
        Mistake("you flipped the kernel in dx: conv2d_forward is a cross-correlation (no "
                "flip), so nothing is flipped in its backward either.",
                wrong="conv_dx_flipped_kernel", part=0),
        Mistake("dw looks flipped, its two spatial axes reversed: see which pixel of a window "
                "w[f, c, p, q] multiplies in the forward formula of section 5.",
                _conv_part_is(1, lambda dw: dw[:, :, ::-1, ::-1])),
        Mistake("dw is transposed: it has w's shape (F, C, HH, WW), filter first; yours has "
                "the filter and channel axes swapped.",
                _conv_part_is(1, lambda dw: dw.transpose(1, 0, 2, 3))),
        Mistake("dw is transposed in space: its last two axes are (HH, WW), the kernel's "
                "rows then columns; yours has them swapped.",
                _conv_part_is(1, lambda dw: dw.transpose(0, 1, 3, 2))),
        Mistake(_CONV_ASSIGNED, wrong="conv_dx_assigned", part=0),
        Mistake(_CONV_ASSIGNED, wrong="conv_dx_assigned_per_window", part=0),
        Mistake(_CONV_ASSIGNED, wrong="conv_dw_assigned", part=1),
        Mistake("your backward ignores the stride: see where window (i, j) starts in the "
                "forward formula of section 5.", wrong="conv_dw_no_stride", part=1),
        Mistake(_CONV_DB, wrong="conv_db_over_axis_0", part=2),
        Mistake(_CONV_DB, wrong="conv_db_over_axes_0_1", part=2),
        Mistake(_CONV_DB, wrong="conv_db_over_axes_2_3", part=2),
        Mistake(_CONV_DB, wrong="conv_db_over_axes_1_2_3", part=2),
        # the mean over N * H' * W' = dout.size / F positions
        Mistake(_CONV_DB, lambda a, got, e: _close(
            _parts(got, 3)[2], np.asarray(e[2]) * a[0].shape[1] / a[0].size)),
    ],
    hint="Reread the paragraph before Exercise 8.3: what each entry of dout sends to dx_pad, "
         "dw and db, where windows overlap, and what becomes of the pad border.",
)


# ---- 08.max_pool_backward --------------------------------------------------------------------

def _pool_args(shape, pool, stride, integer):
    def args(rng):
        x = (rng.integers(0, 4, size=shape).astype(float) if integer
             else rng.standard_normal(shape))
        out, cache = conv.max_pool_forward(x, pool=pool, stride=stride)
        return rng.standard_normal(out.shape), cache
    return args


_POOL_SHOWS = ("x = {kind} of shape {shape}; out, cache = max_pool_forward(x, pool={pool}, "
               "stride={stride}); dout = rng.standard_normal(out.shape)")

_POOL = Exercise(
    id="08.max_pool_backward",
    title="Max-pool backward",
    function="max_pool_backward",
    points=2,
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
                "once, not twice, when both rise, so only one entry of a window gets it "
                "(section 7 says which).", wrong="pool_every_tie"),
        Mistake("you split dout between the tied maxima: a valid subgradient too, but this "
                "exercise sends it to the one maximum that the forward's cache names.",
                wrong="pool_split_ties"),
        Mistake("you sent dout to the first (top-left) element of each window, not to its "
                "maximum: see what argmax in the cache holds (section 7).",
                wrong="pool_top_left"),
        Mistake("you spread dout over the whole window: that is average pooling's backward; "
                "max pooling's output depends on the maximum only.", wrong="pool_spread"),
        Mistake("you swapped the row and the column of the maximum: argmax is a flat index "
                "into the pool x pool window in row-major order, so which of its quotient and "
                "remainder by pool is the row?",
                wrong="pool_row_column_swapped"),
        Mistake("each window overwrites what the windows before it gave: windows overlap "
                "(stride < pool), and a pixel that is the maximum of several windows collects "
                "the douts of all of them.",
                wrong="pool_assigned"),
    ],
    hint="Each window's dout goes to that window's maximum only, whose place argmax gives as "
         "a flat index within the window (section 7); windows may overlap, and dx has the "
         "shape of x.",
)

# ---- the questions ------------------------------------------------------------------------

def mystery_rnn_backward(variant):
    """A backward pass of :func:`gradkit.layers.rnn_step_forward` with one wrong gradient.

    ``variant`` (0 .. 11, from the student id) picks which of the five gradients is wrong
    and how; the others are :func:`gradkit.layers.rnn_step_backward`'s. The cache
    convention is the library's: ``backward(dh, cache) -> (dx, dh_prev, dWx, dWh, db)``.
    """
    rng = np.random.default_rng([8, 6, int(variant)])
    which = int(rng.integers(len(RNN_INPUTS)))
    factor = float(rng.choice([-1.0, 2.0, 0.5, 0.0]))

    def backward(dh, cache):
        grads = list(layers.rnn_step_backward(dh, cache))
        grads[which] = factor * grads[which]
        return tuple(grads)

    return backward


_Q81 = question("08.answer_8_1", "answer_8_1", points=0.5, kind="choice",
                options=("a", "b", "c", "d"), title="What a dout of ones lets through",
                hint="Work out each term of dx with g = gamma in every row, and compare it "
                     "with the numerical gradient of sum(out) section 3 measured.")
_Q83 = question("08.answer_8_3", "answer_8_3", points=0.5, kind="number", digits=1,
                rtol=0.5, title="How often 10 sampled entries find one wrong entry",
                hint="A sample finds the bug only when it draws the bad entry: what is the "
                     "chance that one of 10 draws among P entries is it?")
_Q84 = question("08.answer_8_4", "answer_8_4", points=1, kind="choice",
                options=("a", "b", "c", "d"), title="Inputs for a layer with a max",
                hint="Compare the float image's rows of section 7 with the integer image's, "
                     "for the loop and for gradkit.")
_Q85 = question("08.answer_8_5", "answer_8_5", points=1, kind="name", options=RNN_INPUTS,
                variants=12, title="Whose gradient is wrong",
                hint="Check mystery_backward with gk.check_layer, as section 8 checks the "
                     "transposed one, and read which inputs fail.")

EXERCISES = [_SOFTMAX, _Q81, _BATCHNORM, _CONV, _Q83, _POOL, _Q84, _Q85]
