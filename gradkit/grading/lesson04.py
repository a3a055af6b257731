"""Exercise specs of lesson 04, backprop for a deep net (``solutions/04_backprop_deep_net.ipynb``).

- ``04.relu_backward`` — ``dZ`` of a ReLU.
- ``04.linear_backward`` — ``(dA_prev, dW, db)`` of ``Z = W @ A_prev + b``.
- ``04.output_delta`` — ``dJ/dZ_L`` for sigmoid + cross-entropy.
- ``04.model_forward`` — the forward pass of an L-layer relu/sigmoid net (graded on ``A_L``).
- ``04.model_gradients`` — backprop through any number of layers, keys of ``params``.
- ``04.name_the_bug`` — the name of the bug hidden in the student's ``mystery_gradients``:
  a question with a variant per student, whose answer and feedback the check data holds
  only as hashes (:mod:`gradkit.grading.questions`), so that no check shows the name.
- ``04.fixed_gradients`` — the mystery backward pass with the faulty piece replaced; its
  last test runs ``check_gradients`` on the returned gradients, on the grader's side.

The bug hunt: :func:`make_mystery` plants one bug of ``gradkit.bugs.BUGS`` (among
:data:`CANDIDATES`, the bugs that keep the shapes of the gradients) in every layer or in one
layer, as the student's variant says (:data:`PLANS`, ``N_VARIANTS`` of them). The notebook's
provided cell calls it with ``STUDENT_ID``; the grader runs that cell with the id it grades
(:mod:`gradkit.grading.variants`), and the instructor file's ``key_name_the_bug(variant)``
gives the answer of each variant.

The references are the answer cells of the solution notebook, and the mistakes
that need a near-copy of an answer are functions of ``solutions/instructor/lesson04.py``
(see :mod:`gradkit.grading.references`); neither ships in this module.
"""

import numpy as np

from gradkit import bugs, check_gradients, mlp
from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["CANDIDATES", "EXERCISES", "N_VARIANTS", "PLANS", "hunt_net", "make_mystery"]

CANDIDATES = (
    "da_prev_divided_by_m",
    "db_averaged_twice",
    "db_not_computed",
    "dw_doubled",
    "missing_one_over_m",
    "relu_derivative_from_activation",
    "sigmoid_derivative_twice",
    "sign_flip",
)
"""Bugs of ``gradkit.bugs.BUGS`` that show on a relu/sigmoid net with no L2 and no
dropout and keep every gradient's shape (so the checker can diagnose them).

``da_prev_divided_by_m`` is there to be told apart from ``relu_derivative_from_activation``:
both can fail the same tensors (a wrong ``dA_prev`` at layer 3 is first used by layer 2, like
``relu_backward``), so only the pattern across the failing layers (constant ratios ``1/m``,
``1/m**2``) separates them."""

# which replaceable piece of the backward pass each candidate lives in
_PIECE = {
    "da_prev_divided_by_m": "linear_backward",
    "db_averaged_twice": "linear_backward",
    "db_not_computed": "linear_backward",
    "dw_doubled": "linear_backward",
    "missing_one_over_m": "output_delta",
    "relu_derivative_from_activation": "relu_backward",
    "sigmoid_derivative_twice": "output_delta",
    "sign_flip": "output_delta",
}

# Where a bug sits: in every layer ("all") or in one layer of the 3-layer net. A piece used
# once (output_delta) has no choice; a dA_prev of layer 1 is never used, and relu_backward
# runs in the hidden layers 1 and 2 only.
_WHERE = {
    "linear_backward": ("all", 1, 2, 3),
    "relu_backward": ("all", 1, 2),
    "output_delta": ("all",),
}

PLANS = tuple([("relu_derivative_from_activation", "all")] + [
    (name, where) for name in CANDIDATES for where in _WHERE[_PIECE[name]]
    if (name, where) != ("relu_derivative_from_activation", "all")
    and (name, where) != ("da_prev_divided_by_m", 1)])
"""The hunt's variants: ``(bug, layer)`` with ``layer`` ``"all"`` or the one layer (1-3) of
the lesson's 3-layer net whose piece is faulty. Variant 0 (``STUDENT_ID = ""``) is the one
the lesson's text works through."""

N_VARIANTS = len(PLANS)


def _variant(student):
    from gradkit.grading.variants import variant

    if isinstance(student, str):
        return variant(student, "04.name_the_bug", N_VARIANTS)
    index = int(student)
    if not 0 <= index < N_VARIANTS:
        raise ValueError(f"the bug hunt has variants 0 to {N_VARIANTS - 1}, not {index}")
    return index


def make_mystery(student=""):
    """A backward pass of :func:`gradkit.mlp.gradients` with one hidden bug.

    Parameters
    ----------
    student : str or int
        Your ``STUDENT_ID`` (``""``: the variant the lesson's text shows), or a variant
        number ``0 .. N_VARIANTS - 1``.

    Returns
    -------
    mystery_gradients : callable
        ``mystery_gradients(params, X, Y, *, relu_backward=None,
        linear_backward=None, output_delta=None) -> grads``. Each keyword
        replaces one piece of the backward pass, in every layer, by your own function,
        with the signatures of Exercises 4.1-4.3: ``relu_backward(dA, Z)``,
        ``linear_backward(dZ, A_prev, W)``, ``output_delta(AL, Y)``.
    """
    name, where = PLANS[_variant(student)]
    bug = bugs.BUGS[name]
    piece = _PIECE[name]
    faulty = bug.ops.get("hidden_backward", {}).get("relu") or next(
        v for v in bug.ops.values() if callable(v))

    def mystery_gradients(params, X, Y, *, relu_backward=None, linear_backward=None,
                          output_delta=None):
        L = mlp._validate(params, X, Y, "relu", "sigmoid", 0.0, 1.0)
        visiting = {"l": L + 1}  # the layer being visited: L, ..., 1

        def here():
            return where == "all" or where == visiting["l"]

        def linear(dZ, cache):
            visiting["l"] -= 1  # linear_backward of layer l runs first in layer l
            if linear_backward is not None:
                return tuple(linear_backward(dZ, cache[0], cache[1]))
            if piece == "linear_backward" and here():
                return faulty(dZ, cache)
            return mlp._OPS["linear_backward"](dZ, cache)

        def relu(dA, cache):  # layer l's activation, after layer l + 1's linear_backward
            l = visiting["l"] - 1
            if relu_backward is not None:
                return relu_backward(dA, cache[0])
            if piece == "relu_backward" and (where == "all" or where == l):
                return faulty(dA, cache)
            return mlp._OPS["hidden_backward"]["relu"](dA, cache)

        def delta(output, dZ, AL, Y):
            if output_delta is not None:
                return output_delta(AL, Y)
            if piece == "output_delta":
                return faulty(output, dZ, AL, Y)
            return mlp._OPS["output_delta"](output, dZ, AL, Y)

        ops = dict(mlp._OPS, linear_backward=linear, output_delta=delta,
                   hidden_backward=dict(mlp._OPS["hidden_backward"], relu=relu))
        return mlp._run(params, np.asarray(X), np.asarray(Y), L, "relu", "sigmoid", 0.0, 1.0,
                        None, ops=ops)[1]

    return mystery_gradients


def _close(a, b, rtol=1e-6, atol=1e-9):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _close_all(got, want):
    return len(got) == len(want) and all(_close(g, w) for g, w in zip(got, want))


def _net(rng, dims, m):
    """Random params with non-zero biases, X and {0, 1} labels Y."""
    params = {}
    for l in range(1, len(dims)):
        params[f"W{l}"] = rng.standard_normal((dims[l], dims[l - 1])) / np.sqrt(dims[l - 1])
        params[f"b{l}"] = 0.1 * rng.standard_normal((dims[l], 1))
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((dims[-1], m)) < 0.5).astype(float)
    return params, X, Y


def _as_dict(grads):
    """A dict of gradients as plain data, keys sorted (so feedback names each one)."""
    if not isinstance(grads, dict):
        return grads  # graded as it is: the comparison says what is wrong
    return {k: np.asarray(grads[k]) for k in sorted(grads)}


def _call_gradients(fn, params, X, Y):
    return _as_dict(fn(params, X, Y))


def _verdict(args, grads):
    """The verdict of ``check_gradients`` on the gradients a call returned, computed from
    plain data on the grader's side (never in the process that ran the answer)."""
    params, X, Y = args
    return check_gradients(lambda p: mlp.cost(p, X, Y), params, grads).verdict


def _forward_output(fn, params, X):
    return fn(params, X)[0]


def _scaled(got, want, c):
    """``got`` is the dict ``want`` with every gradient times ``c``."""
    if not isinstance(got, dict) or not isinstance(want, dict) or list(got) != list(want):
        return False
    return _close_all(list(got.values()), [c * np.asarray(w) for w in want.values()])


_RELU = Exercise(
    id="04.relu_backward",
    title="ReLU backward",
    function="relu_backward",
    points=1.5,
    returns=("dZ",),
    tests=[
        Test("dA and Z of shape (3, 4), mixed signs",
             args=lambda rng: (rng.standard_normal((3, 4)), rng.standard_normal((3, 4))),
             shows="dA, Z = rng.standard_normal((3, 4)) each"),
        Test("Z with exact zeros: relu'(0) is taken as 0",
             args=(np.array([[1.0, -2.0, 3.0]]), np.array([[0.0, 0.5, -0.5]])),
             shows="dA = [[1., -2., 3.]], Z = [[0., 0.5, -0.5]]"),
    ],
    mistakes=[
        Mistake("you multiplied dA by the activation A = max(Z, 0): relu's derivative is not "
                "its value: what is the slope of max(Z, 0) on each side of 0?",
                wrong="relu_times_activation"),
        Mistake("you returned the mask (Z > 0) alone: that is the local derivative only, and "
                "the chain rule also involves the upstream gradient.", wrong="relu_mask_alone"),
        Mistake("your values differ only where Z = 0: relu has no derivative there, and this "
                "course uses the subgradient 0 (the ReLU paragraph).", wrong="relu_mask_at_zero"),
        Mistake("the mask is flipped: your gradient flows where relu is flat.",
                wrong="relu_mask_flipped"),
    ],
    hint="The chain rule: the upstream dA times relu's local derivative, the slope of "
         "max(Z, 0) on each side of 0 (and 0 at Z = 0, as the ReLU paragraph says).",
)


_DB_AXIS = ("db has the wrong shape: b has one entry per unit, shape (n, 1), and is added to "
            "every example (column); check which axis you summed over and what shape it "
            "leaves.")


def _linear_args(rng):
    return (rng.standard_normal((3, 5)), rng.standard_normal((4, 5)),
            rng.standard_normal((3, 4)))


_LINEAR = Exercise(
    id="04.linear_backward",
    title="Linear backward",
    function="linear_backward",
    points=3,
    returns=("dA_prev", "dW", "db"),
    tests=[
        Test("3 units, 4 inputs, m = 5", args=_linear_args,
             shows="dZ (3, 5), A_prev (4, 5), W (3, 4), random"),
        Test("1 unit, 2 inputs, m = 3",
             args=(np.array([[0.5, -1.0, 2.0]]), np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 1.0]]),
                   np.array([[2.0, -3.0]])),
             shows="dZ = [[0.5, -1., 2.]], A_prev = [[1., 2., 3.], [0., -1., 1.]], "
                   "W = [[2., -3.]]"),
    ],
    mistakes=[
        Mistake("return three arrays, (dA_prev, dW, db), in this order.",
                lambda a, got: len(got) != 3),
        Mistake("dW is transposed: it must have the shape of W, (n, n_prev); check the order "
                "and the transpose in your product.",
                lambda a, got, e: _close(got[1], np.transpose(e[1]))),
        Mistake(_DB_AXIS, wrong="linear_db_over_axis_0", part=2),
        Mistake(_DB_AXIS, lambda a, got: np.shape(got[2]) != (a[0].shape[0], 1)),
        Mistake("dW and db are both divided by m: dZ already carries the 1/m of the mean "
                "cost (it enters once, at the output), so no further 1/m belongs here.",
                lambda a, got, e: _close(got[1], np.asarray(e[1]) / a[0].shape[1])
                and _close(got[2], np.asarray(e[2]) / a[0].shape[1])),
        Mistake("db is dZ averaged over the examples: dZ already carries the 1/m of the cost, "
                "so the mean applies it a second time.",
                lambda a, got, e: _close(got[2], np.asarray(e[2]) / a[0].shape[1])),
        Mistake("dW (or db) is divided by m: dZ already carries the 1/m of the mean cost, "
                "so no further 1/m belongs here.",
                lambda a, got, e: _close(got[1], np.asarray(e[1]) / a[0].shape[1])),
        Mistake("dA_prev is wrong: it has the shape of A_prev, (n_prev, m); compare your "
                "product with the Linear paragraph above, its order and its transpose.",
                lambda a, got, e: not _close(got[0], e[0])),
    ],
    hint="Each gradient has the shape of its variable, which fixes the order and the "
         "transposes of each product; b is added to every column, and dZ already carries "
         "the 1/m (the Linear paragraph above).",
)


def _delta_args(rng):
    AL = rng.uniform(0.05, 0.95, (1, 6))
    return AL, (rng.random((1, 6)) < 0.5).astype(float)


_DELTA = Exercise(
    id="04.output_delta",
    title="The output delta, derived",
    function="output_delta",
    points=3,
    returns=("dZ_L",),
    tests=[
        Test("m = 6 random probabilities and labels", args=_delta_args,
             shows="AL of shape (1, 6) in (0.05, 0.95), Y of 0/1 labels"),
        Test("m = 2", args=(np.array([[0.8, 0.3]]), np.array([[1.0, 0.0]])),
             shows="AL = [[0.8, 0.3]], Y = [[1., 0.]]"),
    ],
    mistakes=[
        Mistake("you forgot the 1/m of the mean cost: your values are m times too large.",
                lambda a, got, e: _close(got, np.asarray(e) * a[1].shape[1])),
        Mistake("the sign is flipped: look at the order of AL and Y in your subtraction.",
                lambda a, got, e: _close(got, -np.asarray(e))),
        Mistake("you multiplied by sigmoid'(Z) = A(1 - A) once more: for sigmoid + "
                "cross-entropy that factor cancels against the cost's derivative, so it has "
                "no place in dZ_L.",
                lambda a, got, e: _close(got, np.asarray(e) * a[0] * (1 - a[0]))),
    ],
    hint="Differentiate one example's loss with respect to a, multiply by sigmoid'(z) written "
         "in terms of a, and take the mean over the m columns into account.",
)


_FORWARD = Exercise(
    id="04.model_forward",
    title="The forward pass",
    function="model_forward",
    points=2,
    tests=[
        Test("2 layers [3, 4, 1], m = 5: A_L", args=lambda rng: _net(rng, [3, 4, 1], 5)[:2],
             call=_forward_output, shows="params for [3, 4, 1] (random W and b), X (3, 5)"),
        Test("4 layers [2, 5, 4, 3, 1], m = 7: A_L",
             args=lambda rng: _net(rng, [2, 5, 4, 3, 1], 7)[:2], call=_forward_output,
             shows="params for [2, 5, 4, 3, 1] (random W and b), X (2, 7)", seed=1),
    ],
    mistakes=[
        Mistake("A_L looks like the logits Z_L: the output layer's activation is missing.",
                wrong="forward_logits"),
        Mistake("your output layer uses relu: A_L must be a probability; the exercise text "
                "says which activation gives it.",
                wrong="forward_relu_output"),
        Mistake("your A_L matches a net with sigmoid everywhere: check the activation of the "
                "hidden layers.",
                wrong="forward_all_sigmoid"),
    ],
    hint="Go through the layers from the input up, each a linear step followed by the "
         "activation the exercise text gives for that layer; return (A_L, caches).",
)


_GRAD_TESTS = [
    Test("2 layers [3, 4, 1], m = 5", args=lambda rng: _net(rng, [3, 4, 1], 5),
         call=_call_gradients, shows="params for [3, 4, 1], X (3, 5), Y (1, 5)"),
    Test("3 layers [4, 5, 3, 1], m = 8", args=lambda rng: _net(rng, [4, 5, 3, 1], 8),
         call=_call_gradients, shows="params for [4, 5, 3, 1], X (4, 8), Y (1, 8)", seed=1),
    Test("5 layers [2, 6, 5, 4, 3, 1], m = 6",
         args=lambda rng: _net(rng, [2, 6, 5, 4, 3, 1], 6), call=_call_gradients,
         shows="params for [2, 6, 5, 4, 3, 1], X (2, 6), Y (1, 6)", seed=2),
]

_GRAD_MISTAKES = [
    Mistake("return a dict with the keys of params (W1, b1, ..., WL, bL), not dW1, db1, ...",
            lambda a, got: isinstance(got, dict) and "dW1" in got),
    Mistake("your gradients are m times too large: the 1/m of the mean cost is missing; it "
            "enters once, in the output delta.",
            lambda a, got, e: _scaled(got, e, a[1].shape[1])),
    Mistake("every gradient has the wrong sign: the error enters at the output, so look at "
            "the sign of your output delta.",
            lambda a, got, e: _scaled(got, e, -1.0)),
    Mistake("the keys are not those of params: expect exactly W1, b1, ..., WL, bL.",
            lambda a, got, e: isinstance(got, dict) and list(got) != list(e)),
]

_MODEL = Exercise(
    id="04.model_gradients",
    title="Backprop through L layers",
    function="model_gradients",
    points=4,
    tests=_GRAD_TESTS,
    mistakes=_GRAD_MISTAKES,
    hint="Walk the layers from the output down, with the three pieces of Exercises 4.1-4.3 "
         "in the order the exercise text gives; run check_gradients on your gradients to see "
         "which tensor is wrong.",
)


def hunt_net():
    """The net and data of the lesson's bug hunt: ``(params, X, Y)``, a [2, 5, 4, 1] net with
    non-zero biases on 12 points of ``gradkit.datasets.moons`` (as the notebook builds them)."""
    from gradkit import datasets

    rng = np.random.default_rng(4)
    X, Y = datasets.moons(12, seed=0)
    params = mlp.init_params([2, 5, 4, 1], seed=0)
    for l in (1, 2, 3):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    return params, X, Y


_NAME = question(
    "04.name_the_bug", "name_the_bug", points=3, kind="name", options=CANDIDATES,
    variants=N_VARIANTS, title="Name the bug",
    shows="name_the_bug(): the bug hidden in your mystery_gradients, one of CANDIDATES",
    hint="Find the deepest failing layer: the bug is in a piece it uses that no passing "
         "layer has shown right, and the dA_prev the layer above it hands down is one of "
         "them. Then compare entry by entry: is the analytic value a constant multiple of "
         "the numeric one?")


def _current_mystery():
    from gradkit.grading.variants import variant_of

    return make_mystery(variant_of("04.name_the_bug", N_VARIANTS))


_FIX_TESTS = [
    Test("a new net and data: 3 layers [4, 5, 3, 1], m = 10",
         args=lambda rng: _net(rng, [4, 5, 3, 1], 10), call=_call_gradients,
         shows="params for [4, 5, 3, 1], X (4, 10), Y (1, 10)", seed=7),
    Test("a new net and data: 4 layers [3, 6, 5, 4, 1], m = 9",
         args=lambda rng: _net(rng, [3, 6, 5, 4, 1], 9), call=_call_gradients,
         shows="params for [3, 6, 5, 4, 1], X (3, 9), Y (1, 9)", seed=8),
    Test("check_gradients passes on [2, 4, 3, 1], m = 12",
         args=lambda rng: _net(rng, [2, 4, 3, 1], 12), call=_call_gradients, post=_verdict,
         shows="check_gradients(cost, params, fixed_gradients(params, X, Y)).verdict",
         seed=9),
]

_FIX = Exercise(
    id="04.fixed_gradients",
    title="Fix the bug",
    function="fixed_gradients",
    points=3,
    tests=_FIX_TESTS,
    mistakes=[
        Mistake("your gradients still equal those of mystery_gradients: replace the piece "
                "that holds the bug by your own function, through the keyword the exercise "
                "text lists for it.",
                lambda a, got: isinstance(got, dict) and len(a) == 3
                and _close_all(list(got.values()),
                               list(_as_dict(_current_mystery()(*a)).values()))),
        *_GRAD_MISTAKES,
    ],
    hint="Call mystery_gradients with the piece you found replaced by your own function from "
         "Exercises 4.1-4.3; only the faulty piece needs replacing.",
)

_PREDICT = question(
    "04.predict_calls", "predict_calls", points=0.5, kind="number", digits=0,
    title="The cost of the classic loop",
    hint="Count every entry of every W and b (the shapes of Section 1), then ask how many "
         "values of the cost one central difference takes.")

_TWO_ERRORS = question(
    "04.read_two_errors", "read_two_errors", points=1, kind="choice",
    options=("a", "b", "c", "d"), title="Two sizes of a correct check",
    hint="Recall lesson 02's V curve: what sets the error of a central difference at a "
         "given step, for a correct gradient?")

EXERCISES = [_RELU, _LINEAR, _DELTA, _FORWARD, _MODEL, _PREDICT, _NAME, _FIX, _TWO_ERRORS]
