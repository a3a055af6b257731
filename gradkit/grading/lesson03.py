"""Exercise specs of lesson 03, gradient checking (``solutions/03_gradient_checking.ipynb``).

- ``03.relative_error`` — a classmate's relative error, found wrong from its numbers and
  fixed: the normwise relative error of two gradients, 0 when both are zero.
- ``03.gradient_check_n`` — the classic gradient check of any parameter dict
  (any number of layers), with step ``epsilon``.
- ``03.per_tensor_errors`` — the relative error of each named tensor, as
  ``[(name, error), ...]``, so that one wrong small tensor cannot hide in the
  global number.
- Questions, auto-checked (:func:`~gradkit.grading.spec.question`): predictions before the
  cell that computes their number (``03.answer_3_1``, which step scores lower;
  ``03.answer_3_3``, the error of a flipped tensor; ``03.answer_3_4``, the evaluations of
  ``check_gradients``), and ``03.answer_3_5``, reading the report of a mystery bug that
  :func:`mystery_bug` draws from the student's variant.

The tests of ``03.gradient_check_n`` use small networks of :mod:`gradkit.mlp`
with correct gradients and with wrong ones; its results are compared with a
relative tolerance where a bug dominates the error, and only bounded from
above where round-off does (two correct implementations differ there). Whether
the check left ``params`` unchanged is decided on the grader's side, from the
arrays as the student's process returns them after the call.

The reference answers are the solution notebook's answer cells; what a typical
mistake returns, where that takes a near-copy of an answer, is in
``solutions/instructor/lesson03.py``.
"""

import numpy as np

from gradkit import mlp
from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["EXERCISES", "MYSTERY_BUGS", "mystery_bug"]

MYSTERY_BUGS = ("db_averaged_twice", "dw_doubled", "sign_flip", "da_prev_divided_by_m",
                "db_not_computed", "missing_one_over_m")
"""The bugs of ``gk.bugs`` that Question 3.5's report may come from, one per variant
(variant 0, what the lesson's text shows, is the first)."""


def mystery_bug(variant):
    """The name of the ``gk.bugs`` bug whose report Question 3.5 asks a student to read.

    Parameters
    ----------
    variant : int
        ``gradkit.grading.variants.variant(STUDENT_ID, "03.answer_3_5", 6)``.
    """
    if not 0 <= int(variant) < len(MYSTERY_BUGS):
        raise ValueError(f"Question 3.5 has variants 0 to {len(MYSTERY_BUGS) - 1}, not {variant}")
    return MYSTERY_BUGS[int(variant)]


_A = np.array([1.0, 2.0, 3.0])
_B = np.array([1.0, 2.0, 3.1])


def _matrices(rng):
    W = rng.standard_normal((4, 3))
    return W, W + 1e-3 * rng.standard_normal((4, 3))


_ONE_NORM = ("you divided by the norm of one gradient (or by the larger one, max, as in "
             "CS231n's notes and the draft: symmetric too): that gives about twice this error "
             "for close gradients, and 2 for opposite ones. Compare the denominator with "
             "section 2's measure.")

_NORM_DIFFERENCE = ("your numerator compares the sizes of the two gradients, not the "
                    "gradients themselves, as the draft's does: two gradients of the same length "
                    "that point in opposite directions then score 0. Which difference does "
                    "section 2's measure take the norm of?")

_RELATIVE = Exercise(
    id="03.relative_error",
    title="Fix a classmate's relative error",
    function="relative_error",
    points=3,
    tests=[
        Test("vectors that differ in one entry", args=(_A, _B),
             shows="grad = [1., 2., 3.], gradapprox = [1., 2., 3.1]"),
        Test("a 4x3 weight gradient and a close approximation", args=_matrices, seed=3,
             shows="grad = W (4x3), gradapprox = W + 1e-3 * noise"),
        Test("the same pair in other units (times 1e-8): same error", args=(1e-8 * _A, 1e-8 * _B),
             shows="grad = 1e-8 * [1., 2., 3.], gradapprox = 1e-8 * [1., 2., 3.1]"),
        Test("both zero: 0.0, not nan", args=(np.zeros(3), np.zeros(3)),
             shows="grad = [0., 0., 0.], gradapprox = [0., 0., 0.]"),
        Test("opposite gradients: the largest possible error, 1", args=(_A, -_A),
             shows="grad = [1., 2., 3.], gradapprox = [-1., -2., -3.]"),
    ],
    mistakes=[
        Mistake("when both gradients are zero, 0/0 is nan: the exercise asks for 0.0 in that "
                "case, so handle it before you divide.",
                lambda a, got: bool(np.isnan(got))),
        Mistake("that is the absolute difference ‖grad − gradapprox‖, which changes with the "
                "units of the cost: the relative error scales it by the size of the gradients "
                "(section 2's third measure).",
                wrong="relative_absolute", rtol=1e-6, atol=0.0),
        Mistake(_NORM_DIFFERENCE, wrong="relative_norm_difference", rtol=1e-6, atol=0.0),
        Mistake(_NORM_DIFFERENCE, wrong="relative_draft", rtol=1e-6, atol=0.0),
        # the larger norm (max) is one of the two: these two mistakes cover it
        Mistake(_ONE_NORM, wrong="relative_by_grad", rtol=1e-6, atol=0.0),
        Mistake(_ONE_NORM, wrong="relative_by_gradapprox", rtol=1e-6, atol=0.0),
        Mistake("you squared the norms: section 2's measure uses the 2-norms themselves, not "
                "squared norms.",
                wrong="relative_squared", rtol=1e-6, atol=0.0),
    ],
    hint="Compare the draft's numbers with section 2's measure: the size of the difference, "
         "relative to the size of both gradients, with np.linalg.norm for the size of an array "
         "of any shape; two zero gradients agree.",
)


def _net(rng, dims, hidden="tanh", m=6):
    """A small network with random biases, data, its cost function and correct gradients."""
    params = mlp.init_params(dims, seed=int(rng.integers(1000)), scale="xavier")
    for name in params:
        if name.startswith("b"):
            params[name] = 0.1 * rng.standard_normal(params[name].shape)
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((dims[-1], m)) < 0.5).astype(float)

    def cost(p):
        return mlp.cost(p, X, Y, hidden=hidden)

    return cost, params, mlp.gradients(params, X, Y, hidden=hidden)


def _correct_3_layers(rng):
    return _net(rng, [3, 4, 3, 1])


def _dw2_doubled(rng):
    cost, params, grads = _net(rng, [3, 4, 3, 1])
    grads["W2"] = 2 * grads["W2"]
    return cost, params, grads


def _logistic_db_over_m(rng):
    cost, params, grads = _net(rng, [4, 1], m=8)
    grads["b1"] = grads["b1"] / 8  # db averaged once more: a forgotten-twice 1/m
    return cost, params, grads


def _large_epsilon(rng):
    return (*_net(rng, [2, 3, 1], m=5), 1e-2)


def _grads_in_another_order(rng):
    cost, params, grads = _net(rng, [3, 4, 3, 1])
    return cost, params, dict(reversed(list(grads.items())))


def _params_after_check(fn, cost, params, grads):
    """Run the check; return ``params`` as they are afterwards, for :func:`_unchanged`."""
    fn(cost, params, grads)
    return params


def _unchanged(args, after):
    """"unchanged", or "changed: ..." naming the entry of ``params`` that moved most.

    ``args`` are the test's inputs built afresh, ``after`` the params the student's
    process sent back after the check: the verdict is the grader's, not theirs.
    """
    params = args[1]
    if not isinstance(after, dict) or sorted(after) != sorted(params):
        return "changed: params no longer has the keys " + ", ".join(params)
    for name, old in params.items():
        new = np.asarray(after[name], dtype=float)
        if new.shape != old.shape:
            return f"changed: {name} now has the shape {new.shape}, not {old.shape}"
        moved = np.nan_to_num(np.abs(new - old), nan=np.inf)
        if moved.size and moved.max() > 1e-12:  # restoring with += / -= may leave 1 ulp
            index = tuple(int(i) for i in np.unravel_index(moved.argmax(), moved.shape))
            return f"changed: {name}{list(index)} moved by {moved.max():.1e}"
    return "unchanged"


_ONE_SIDED = ("you used a one-sided difference: your error shrinks like epsilon, not "
              "epsilon². Step 2 moves entry i of theta both ways, for lesson 02's central "
              "difference.")

_NORMWISE = ("that is not the normwise relative error of Exercise 3.1 that step 3 asks for: "
             "reread what its difference is divided by.")

_CHECK_N = Exercise(
    id="03.gradient_check_n",
    title="The N-dimensional gradient check",
    function="gradient_check_n",
    points=5,
    tests=[
        Test("correct gradients of a 3-layer net: an error below 1e-6", args=_correct_3_layers,
             seed=1, rtol=0.0, atol=1e-6,
             shows="a 3-layer tanh net (3-4-3-1), correct grads, epsilon = 1e-7"),
        Test("dW2 doubled in a 3-layer net", args=_dw2_doubled, seed=2, rtol=1e-4, atol=0.0,
             shows="a 3-layer tanh net (3-4-3-1), grads['W2'] twice too large"),
        Test("logistic regression (1 layer) with db divided by m once more",
             args=_logistic_db_over_m, seed=3, rtol=1e-4, atol=0.0,
             shows="a 1-layer net (4-1), grads['b1'] 8 times too small"),
        Test("epsilon = 1e-2 is used (truncation error shows)", args=_large_epsilon, seed=4,
             rtol=1e-3, atol=0.0,
             shows="a 2-layer tanh net (2-3-1), correct grads, epsilon = 1e-2"),
        Test("grads given in another key order than params", args=_grads_in_another_order,
             seed=5, rtol=0.0, atol=1e-6,
             shows="a 3-layer net, correct grads with keys b3, W3, ..., W1 (params: W1, b1, ...)"),
        Test("params are left unchanged", args=_correct_3_layers, seed=6,
             call=_params_after_check, post=_unchanged,
             shows="params before and after gradient_check_n(cost, params, grads)"),
    ],
    mistakes=[
        Mistake("your check changed params: it must leave them as they were, and step 2 of "
                "the exercise text perturbs copies of theta, not the caller's arrays.",
                lambda a, got: isinstance(got, str) and got.startswith("changed")),
        Mistake("return one number, the relative error, as a float.",
                lambda a, got: np.size(got) != 1),
        Mistake(_ONE_SIDED, wrong="check_one_sided", rtol=1e-3, atol=0.0),
        Mistake("your gradapprox is twice too large: check its denominator against the "
                "distance between the two points theta ± epsilon.",
                wrong="check_gradapprox_doubled", rtol=1e-3, atol=0.0),
        Mistake("use the epsilon you are given, not a fixed 1e-7.",
                lambda a, got, e: len(a) > 3 and float(got) < float(e) / 100),
        Mistake("grad and gradapprox are in different orders: flatten grads in the order of "
                "params (step 1 says how), so that entry i of both is the same parameter.",
                wrong="check_grads_unordered", rtol=1e-3, atol=0.0),
        Mistake(_NORMWISE, wrong="check_absolute", rtol=1e-3, atol=0.0),
        Mistake(_NORMWISE, wrong="check_by_grad", rtol=1e-3, atol=0.0),
    ],
    hint="Follow the three steps of the exercise text: params and grads as flat vectors in "
         "the same order, a central difference of the cost for each entry of theta, then the "
         "relative error of Exercise 3.1.",
)


def _errors_case(rng, names, wrong):
    grads = {name: rng.standard_normal(shape) for name, shape in names.items()}
    numeric = {name: g + 1e-9 * rng.standard_normal(g.shape) for name, g in grads.items()}
    numeric[wrong] = -grads[wrong]
    return grads, numeric


def _three_tensors(rng):
    return _errors_case(rng, {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3)}, "b1")


def _two_layers(rng):
    return _errors_case(rng, {"W1": (5, 4), "b1": (5, 1), "W2": (2, 5), "b2": (2, 1)}, "W2")


_PER_TENSOR = Exercise(
    id="03.per_tensor_errors",
    title="The relative error of each tensor",
    function="per_tensor_errors",
    points=1.5,
    tests=[
        Test("three tensors, b1 with a flipped sign", args=_three_tensors, seed=7, atol=1e-8,
             shows="grads W1 (3x2), b1 (3x1), W2 (1x3); numeric equal but for -b1"),
        Test("a 2-layer net's tensors, W2 with a flipped sign", args=_two_layers, seed=8,
             atol=1e-8, shows="grads W1, b1, W2, b2; numeric equal but for -W2"),
    ],
    mistakes=[
        Mistake("return a list of pairs (name, error), e.g. [('W1', 1e-10), ('b1', 1.0)].",
                lambda a, got: not all(isinstance(item, list) and len(item) == 2
                                       for item in got)),
        Mistake("every pair has the same error: give each tensor its own relative error, as "
                "the exercise text asks, not the error of all tensors together.",
                lambda a, got: len({round(item[1], 12) for item in got}) == 1),
        Mistake("the names come in another order: keep the order of grads.",
                lambda a, got: [item[0] for item in got] != list(a[0])
                and sorted(item[0] for item in got) == sorted(a[0])),
    ],
    hint="One pair per tensor, in the order of grads, each with the relative error of "
         "Exercise 3.1 of that tensor alone: then a wrong small tensor shows, however small "
         "the global error.",
)

_Q31 = question(
    "03.answer_3_1", "answer_3_1", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="Predict: which step scores lower",
    hint="Think of lesson 02's V curve: which of its two errors dominates at each of the two "
         "steps?")

_Q33 = question(
    "03.answer_3_3", "answer_3_3", points=0.5, kind="number", digits=2, rtol=0.02,
    title="Predict: the error of the flipped tensor",
    hint="Put a = -n into section 2's normwise relative error and simplify.")

_Q34 = question(
    "03.answer_3_4", "answer_3_4", points=0.5, kind="number", digits=0,
    title="Predict: how many evaluations of the cost",
    hint="Count as the list of section 6 says: the evaluations at theta itself, then what one "
         "direction costs, for each tensor, when every tensor passes.")

_Q35 = question(
    "03.answer_3_5", "answer_3_5", points=1, kind="choice", options=("a", "b", "c", "d"),
    variants=len(MYSTERY_BUGS), title="Which line would you look at first",
    hint="List which tensors fail and which pass in your report: which line of a backward "
         "pass reaches exactly those tensors?")

EXERCISES = [_RELATIVE, _CHECK_N, _Q31, _Q33, _PER_TENSOR, _Q34, _Q35]
