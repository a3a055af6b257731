"""Exercise specs of lesson 05, checking pitfalls (``solutions/05_regularization_dropout.ipynb``).

- ``05.l2_cost`` — the L2 term of the cost, over the ``W`` keys only.
- ``05.l2_gradient`` — the L2 term's gradient for one weight.
- ``05.dropout_forward`` — inverted dropout, returning the output and its mask, graded
  with a seeded ``rng``.
- ``05.one_sided_slopes`` — ``(left, right)`` one-sided difference quotients, to tell
  a kink from a bug.
- ``05.count_parameters`` — ``P`` of a net ``[n_0, ..., n_L]``, so that a full check
  costs ``2P`` forward passes.
- Questions, auto-checked (:func:`~gradkit.grading.spec.question`): ``05.answer_5_1``, which
  L2 term is wrong in a mystery cost and gradient that :func:`l2_mystery` builds for the
  student's variant; predictions before the cell that computes them (``05.answer_5_2``, a
  bug's error under a growing lambda; ``05.answer_5_4``, two dropout seeds;
  ``05.answer_5_5``, the slopes at a kink); ``05.answer_5_6``, the calls a check in every
  step would add.

The references are the answer cells of the solution notebook, and the mistakes
that need a near-copy of an answer are functions of ``solutions/instructor/lesson05.py``
(see :mod:`gradkit.grading.references`); neither ships in this module.
"""

import numpy as np

from gradkit import mlp
from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["EXERCISES", "L2_PLANS", "l2_mystery"]

L2_PLANS = tuple((cost, weights, biases, lambd) for lambd in (0.7, 0.4, 1.5)
                 for cost, weights, biases in ((1.0, 0.5, 0.0), (1.0, 0.0, 0.0),
                                               (0.0, 1.0, 0.0), (1.0, -1.0, 0.0)))
"""Question 5.1's variants: ``(cost, weights, biases, lambd)``, the multiples of the L2 term
that the mystery's cost, weight gradients and bias gradients carry, and its lambda."""


def l2_mystery(variant, params, X, Y):
    """The cost and gradients of Question 5.1's mystery, one with a wrong L2 term.

    Parameters
    ----------
    variant : int
        ``gradkit.grading.variants.variant(STUDENT_ID, "05.answer_5_1", 12)``.
    params : dict of ndarray
        The parameters the gradients are computed at.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)

    Returns
    -------
    cost : callable
        ``cost(params) -> float``.
    grads : dict of ndarray
        The gradients at ``params``, keys and shapes of ``params``.
    lambd : float
        The L2 strength of the variant.
    """
    if not 0 <= int(variant) < len(L2_PLANS):
        raise ValueError(f"Question 5.1 has variants 0 to {len(L2_PLANS) - 1}, not {variant}")
    in_cost, in_weights, in_biases, lambd = L2_PLANS[int(variant)]
    m = X.shape[1]
    grads = mlp.gradients(params, X, Y)
    for name, value in params.items():
        share = in_weights if name.startswith("W") else in_biases
        grads[name] = grads[name] + share * lambd / m * value

    def cost(p):
        return mlp.cost(p, X, Y, lambd=in_cost * lambd)

    return cost, grads, lambd


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
    points=1.5,
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
        Mistake("you penalized the biases too: reread which parameters the L2 term of section 2 "
                "sums over, and which it leaves out.",
                wrong="l2_with_biases"),
        Mistake("your penalty is exactly twice the right one: compare the constant factor in "
                "front of your sum with the formula of section 2.",
                lambda a, got, e: _close(got, 2 * e)),
        Mistake("your penalty is m times the right one: you forgot to divide by m, the number "
                "of examples.",
                lambda a, got, e: _close(got, e * a[2])),
        Mistake("you added the norms ||W_l|| themselves, where the penalty uses the squared "
                "Frobenius norms.",
                wrong="l2_norm_not_squared"),
    ],
    hint="Follow the formula of section 2: which parameters enter (the keys that start with "
         "'W', any number of layers), through which norm, and with which factor in front.",
)

_L2_GRAD = Exercise(
    id="05.l2_gradient",
    title="The gradient of the L2 penalty",
    function="l2_gradient",
    points=2.5,
    tests=[
        Test("W of shape (3, 2), lambd = 0.7, m = 10",
             args=lambda rng: (rng.standard_normal((3, 2)), 0.7, 10),
             shows="W = rng.standard_normal((3, 2)), lambd = 0.7, m = 10"),
        Test("W of shape (1, 4), lambd = 5, m = 3",
             args=(np.array([[1.0, -2.0, 0.5, 0.0]]), 5.0, 3),
             shows="W = [[1., -2., 0.5, 0.]], lambd = 5.0, m = 3"),
    ],
    mistakes=[
        Mistake("your gradient is twice the right one: the 2 that differentiating the square "
                "brings down meets the 1/2 of the penalty, so don't keep a factor 2.",
                lambda a, got, e: _close(got, 2 * np.asarray(e))),
        Mistake("you kept the 1/2: your gradient is half the right one; differentiating the "
                "square brings down a factor that you left out.",
                lambda a, got, e: _close(got, np.asarray(e) / 2)),
        Mistake("you forgot the 1/m: your gradient is m times the right one, and the penalty "
                "you differentiate is divided by m.",
                lambda a, got, e: _close(got, np.asarray(e) * a[2])),
    ],
    hint="Differentiate the penalty of Exercise 5.1 with respect to each entry of W (each "
         "entry appears in one square only); the result has the shape of W.",
)


def _dropout_args(keep_prob, shape, seed):
    def args(rng):
        return rng.standard_normal(shape), keep_prob, np.random.default_rng(seed)
    return args


_DROPOUT = Exercise(
    id="05.dropout_forward",
    title="Inverted dropout with a given generator",
    function="dropout_forward",
    points=2.5,
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
        Mistake("you forgot to rescale: masking alone lowers the expected activation, and "
                "inverted dropout also scales the kept units so that it stays A (section 4).",
                lambda a, got, e: _close(got[0], a[0] * np.asarray(e[1]))),
        Mistake("your mask is the opposite (>) of the right one: it keeps a unit with "
                "probability 1 - keep_prob instead of keep_prob.",
                lambda a, got, e: _close(got[1], 1.0 - np.asarray(e[1]))),
        Mistake("draw the mask from the rng you are given, with the one draw of A's shape that "
                "the exercise's text names, so that the same seed gives the same mask.",
                lambda a, got, e: not _close(got[1], e[1])),
    ],
    hint="Draw the mask exactly as the exercise's text says (one draw of A's shape from the "
         "rng you are given), rescale the kept units as inverted dropout does (section 4), and "
         "return (A_out, mask).",
)


def _relu_sum(x):
    return np.maximum(x, 0.0) * 3.0 + x


def _cube(x):
    return x**3


_SLOPES = Exercise(
    id="05.one_sided_slopes",
    title="Left and right slopes",
    function="one_sided_slopes",
    points=1.5,
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
        Mistake("return (left, right) in this order: your first value is the slope that looks "
                "at x + h.",
                lambda a, got, e: _close(got, e[::-1])),
        Mistake("your left slope has the wrong sign: look at the order of the two values of f "
                "in its difference.",
                lambda a, got, e: _close(got[0], -e[0])),
        Mistake("you returned central differences; here each side uses only x and one "
                "neighbour.",
                # the central difference is the mean of the two one-sided ones
                lambda a, got, e: _close(got[0], (e[0] + e[1]) / 2)),
    ],
    hint="Each slope is a difference quotient over one step h on one side of x only, between "
         "x and its neighbour on that side (Exercise 5.4); return (left, right).",
)

_COUNT = Exercise(
    id="05.count_parameters",
    title="What a full check costs",
    function="count_parameters",
    points=1.5,
    tests=[
        Test("[2, 5, 4, 1]", args=([2, 5, 4, 1],), shows="layer_dims = [2, 5, 4, 1]"),
        Test("[2, 64, 32, 1]", args=([2, 64, 32, 1],), shows="layer_dims = [2, 64, 32, 1]"),
        Test("[784, 128, 10]", args=([784, 128, 10],), shows="layer_dims = [784, 128, 10]"),
    ],
    mistakes=[
        Mistake("you counted the weights only: the biases b_l are parameters too (what shape "
                "does b_l have?).",
                # P less one bias per unit of layers 1..L
                lambda a, got, e: got == e - sum(a[0][1:])),
        Mistake("you counted the units, not the parameters: count the entries of each W_l and "
                "b_l from their shapes.",
                lambda a, got: got == sum(a[0])),
    ],
    hint="P counts every entry of every W_l and b_l: work out their shapes from layer_dims, "
         "and return an int.",
)

_LETTERS = ("a", "b", "c", "d")

_Q51 = question(
    "05.answer_5_1", "answer_5_1", points=1, kind="choice", options=_LETTERS,
    variants=len(L2_PLANS), title="Which L2 term is wrong",
    hint="Three things tell the bugs apart: the kind of the findings (missing or extra), the "
         "tensors they name, and their factor divided by your lambd / m.")

_Q52 = question(
    "05.answer_5_2", "answer_5_2", points=0.5, kind="choice", options=_LETTERS,
    title="Predict: the error of a bug under a growing lambda",
    hint="Which of the relative error's numerator and denominator does lambda change, and "
         "how?")

_Q54 = question(
    "05.answer_5_4", "answer_5_4", points=0.5, kind="choice", options=_LETTERS,
    title="Predict: two seeds",
    hint="A seed fixes a mask: is the mask of the cost the mask of the gradients?")

_Q55 = question(
    "05.answer_5_5", "answer_5_5", points=0.5, kind="choice", options=_LETTERS,
    title="Predict: the slopes at the kink",
    hint="What does each one-sided slope see of ReLU's corner, however small h is?")

_Q56 = question(
    "05.answer_5_6", "answer_5_6", points=0.5, kind="number", digits=2, rtol=0.05,
    title="What a check in every step would cost",
    hint="How many calls of the cost did one full check make (printed above), and how many "
         "times would it run?")

_Q57 = question(
    "05.answer_5_7", "answer_5_7", points=0.5, kind="choice", options=_LETTERS,
    title="When to run the check",
    hint="Weigh each plan twice: what it adds to the training's own work (Question 5.6), and "
         "whether it would have caught section 6's bug.")

EXERCISES = [_L2_COST, _L2_GRAD, _Q51, _Q52, _DROPOUT, _Q54, _SLOPES, _Q55, _COUNT, _Q56, _Q57]
