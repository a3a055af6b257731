"""Exercise specs of lesson 05, checking pitfalls (``solutions/05_regularization_dropout.ipynb``).

- ``05.l2_cost`` — ``lambd/(2m) * sum_l ||W_l||^2`` over the ``W`` keys only.
- ``05.l2_gradient`` — ``lambd/m * W``.
- ``05.dropout_forward`` — inverted dropout ``(A * mask / keep_prob, mask)``, the mask
  keeping a unit where one draw ``rng.random(A.shape)`` is below ``keep_prob``, graded with a
  seeded ``rng``.
- ``05.one_sided_slopes`` — ``(left, right)`` one-sided difference quotients, to tell
  a kink from a bug.
- ``05.count_parameters`` — ``P`` of a net ``[n_0, ..., n_L]``, so that a full check
  costs ``2P`` forward passes.

The references are the answer cells of the solution notebook, and the mistakes
that need a near-copy of an answer are functions of ``solutions/instructor/lesson05.py``
(see :mod:`gradkit.grading.references`); neither ships in this module.
"""

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test

__all__ = ["EXERCISES"]


def _close(a, b, rtol=1e-6, atol=1e-12):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _params(rng, dims):
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1]))
        params[f"b{l}"] = rng.standard_normal((dims[l], 1))
    return params


_L2_COST = Exercise(
    id="05.l2_cost",
    title="The L2 penalty",
    function="l2_cost",
    points=2,
    tests=[
        Test("2 layers, lambd = 0.7, m = 10", args=lambda rng: (_params(rng, [3, 4, 1]), 0.7, 10),
             shows="params for [3, 4, 1] (random W and b), lambd = 0.7, m = 10"),
        Test("4 layers, lambd = 2, m = 50",
             args=lambda rng: (_params(rng, [2, 5, 4, 3, 1]), 2.0, 50),
             shows="params for [2, 5, 4, 3, 1], lambd = 2.0, m = 50", seed=1),
        Test("lambd = 0 gives 0", args=lambda rng: (_params(rng, [2, 3, 1]), 0.0, 5),
             shows="params for [2, 3, 1], lambd = 0.0, m = 5", seed=2),
    ],
    mistakes=[
        Mistake("you penalized the biases too: the L2 term sums ||W_l||^2 over the weights only.",
                wrong="l2_with_biases"),
        Mistake("the factor is lambd/(2m), not lambd/m: you forgot the 1/2.",
                lambda a, got, e: _close(got, 2 * e)),
        Mistake("you forgot to divide by m: the penalty is lambd/(2m) * sum ||W_l||^2.",
                lambda a, got, e: _close(got, e * a[2])),
        Mistake("use the squared Frobenius norm, sum of W**2, not the norm itself.",
                wrong="l2_norm_not_squared"),
    ],
    hint="Sum np.sum(W**2) over the keys that start with 'W' (one per layer, any number of "
         "layers), then multiply by lambd / (2 * m).",
)

_L2_GRAD = Exercise(
    id="05.l2_gradient",
    title="The gradient of the L2 penalty",
    function="l2_gradient",
    points=2,
    tests=[
        Test("W of shape (3, 2), lambd = 0.7, m = 10",
             args=lambda rng: (rng.standard_normal((3, 2)), 0.7, 10),
             shows="W = rng.standard_normal((3, 2)), lambd = 0.7, m = 10"),
        Test("W of shape (1, 4), lambd = 5, m = 3",
             args=(np.array([[1.0, -2.0, 0.5, 0.0]]), 5.0, 3),
             shows="W = [[1., -2., 0.5, 0.]], lambd = 5.0, m = 3"),
    ],
    mistakes=[
        Mistake("the derivative of lambd/(2m) * W**2 is lambd/m * W: the 2 of the square "
                "cancels the 1/2, don't keep a factor 2.",
                lambda a, got, e: _close(got, 2 * np.asarray(e))),
        Mistake("you kept the 1/2: d/dW [lambd/(2m) W**2] = lambd/m * W.",
                lambda a, got, e: _close(got, np.asarray(e) / 2)),
        Mistake("you forgot the 1/m: the gradient is lambd/m * W.",
                lambda a, got, e: _close(got, np.asarray(e) * a[2])),
    ],
    hint="Differentiate lambd/(2m) * sum W**2 with respect to W: lambd/m * W, same shape as W.",
)


def _dropout_args(keep_prob, shape, seed):
    def args(rng):
        return rng.standard_normal(shape), keep_prob, np.random.default_rng(seed)
    return args


_DROPOUT = Exercise(
    id="05.dropout_forward",
    title="Inverted dropout with a given generator",
    function="dropout_forward",
    points=3,
    returns=("A_drop", "mask"),
    tests=[
        Test("A of shape (4, 6), keep_prob = 0.8, rng = default_rng(1)",
             args=_dropout_args(0.8, (4, 6), 1),
             shows="A = rng.standard_normal((4, 6)), keep_prob = 0.8, "
                   "rng = np.random.default_rng(1)"),
        Test("A of shape (3, 5), keep_prob = 0.5, rng = default_rng(7)",
             args=_dropout_args(0.5, (3, 5), 7), seed=1,
             shows="A = rng.standard_normal((3, 5)), keep_prob = 0.5, "
                   "rng = np.random.default_rng(7)"),
        Test("keep_prob = 1 keeps everything",
             args=_dropout_args(1.0, (2, 3), 3), seed=2,
             shows="A = rng.standard_normal((2, 3)), keep_prob = 1.0, "
                   "rng = np.random.default_rng(3)"),
    ],
    mistakes=[
        Mistake("return two values, (A_out, mask).", lambda a, got: len(got) != 2),
        Mistake("you forgot to rescale: inverted dropout divides the kept units by keep_prob, "
                "so the expected activation stays A.",
                lambda a, got, e: _close(got[0], a[0] * np.asarray(e[1]))),
        Mistake("the mask keeps a unit where rng.random(A.shape) < keep_prob; yours is the "
                "opposite (>).",
                lambda a, got, e: _close(got[1], 1.0 - np.asarray(e[1]))),
        Mistake("draw the mask from the rng you are given, with rng.random(A.shape) < keep_prob "
                "(one draw, of A's shape), so that the same seed gives the same mask.",
                lambda a, got, e: not _close(got[1], e[1])),
    ],
    hint="Keep a unit where one draw rng.random(A.shape) is below keep_prob (that is the "
         "mask), divide the kept units by keep_prob, and return (A_out, mask).",
)


def _relu_sum(x):
    return np.maximum(x, 0.0) * 3.0 + x


def _cube(x):
    return x**3


_SLOPES = Exercise(
    id="05.one_sided_slopes",
    title="Left and right slopes",
    function="one_sided_slopes",
    points=2,
    returns=("left", "right"),
    tests=[
        Test("x**3 at x = 2, h = 1e-3 (smooth: both slopes near 12)", args=(_cube, 2.0, 1e-3),
             shows="f(x) = x**3, x = 2.0, h = 1e-3"),
        Test("3 relu(x) + x at its kink x = 0, h = 1e-4", args=(_relu_sum, 0.0, 1e-4),
             shows="f(x) = 3*max(x, 0) + x, x = 0.0, h = 1e-4"),
        Test("np.abs at x = 0, h = 0.5", args=(np.abs, 0.0, 0.5),
             shows="f = np.abs, x = 0.0, h = 0.5"),
    ],
    mistakes=[
        Mistake("return (left, right) in this order: left = (f(x) - f(x - h)) / h.",
                lambda a, got, e: _close(got, e[::-1])),
        Mistake("the left slope is (f(x) - f(x - h)) / h; yours has the wrong sign.",
                lambda a, got, e: _close(got[0], -e[0])),
        Mistake("you returned central differences; here each side uses only x and one "
                "neighbour.",
                # the central difference is the mean of the two one-sided ones
                lambda a, got, e: _close(got[0], (e[0] + e[1]) / 2)),
    ],
    hint="left = (f(x) - f(x - h)) / h, right = (f(x + h) - f(x)) / h; return (left, right).",
)

_COUNT = Exercise(
    id="05.count_parameters",
    title="What a full check costs",
    function="count_parameters",
    points=1,
    tests=[
        Test("[2, 5, 4, 1]", args=([2, 5, 4, 1],), shows="layer_dims = [2, 5, 4, 1]"),
        Test("[2, 64, 32, 1]", args=([2, 64, 32, 1],), shows="layer_dims = [2, 64, 32, 1]"),
        Test("[784, 128, 10]", args=([784, 128, 10],), shows="layer_dims = [784, 128, 10]"),
    ],
    mistakes=[
        Mistake("you counted the weights only: every layer also has n_l biases.",
                # P less one bias per unit of layers 1..L
                lambda a, got, e: got == e - sum(a[0][1:])),
        Mistake("a layer has n_l * n_{l-1} weights and n_l biases; you counted the units.",
                lambda a, got: got == sum(a[0])),
    ],
    hint="P = sum over layers of n_l * n_{l-1} (W_l) + n_l (b_l).",
)

EXERCISES = [_L2_COST, _L2_GRAD, _DROPOUT, _SLOPES, _COUNT]
