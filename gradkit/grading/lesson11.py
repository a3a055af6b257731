"""Exercise specs of lesson 11, the capstone (``solutions/11_capstone.ipynb``).

The notebook gives a complete training script for a 2-16-16-1 ReLU network
with L2 regularization and inverted dropout, "as found", with three bugs of
different kinds. The student finds and repairs them, one function each:
``11.compute_cost``, ``11.backward`` and ``11.dropout_backward`` (what is wrong in
each is theirs to find; it is not written here).

Grading runs on data the notebook never shows: the repaired gradients must
pass :func:`gradkit.check_gradients` (L2 on, dropout off or with one fixed
mask), and the network trained with the repaired backward pass must reach
``TARGET_ACCURACY`` on held-out data.

Those verdicts are computed on the grader's side (each test's ``post``), from what
the student's code returned as plain data: the gradients, the trained params, or the
costs at the points where the gradient check evaluated the student's cost, which the
check, being deterministic, asks for again in the same order. The correct cost and
gradient there are gradkit's own net (``gk.mlp``), the same net with the same masks.
The references are the answer cells of the solution notebook; the one mistake that
needs a variant of an answer names a function of ``solutions/instructor/lesson11.py``.
"""

import numpy as np

import gradkit as gk
from gradkit.grading.spec import Exercise, Mistake, Test

__all__ = ["EXERCISES", "TARGET_ACCURACY"]

TARGET_ACCURACY = 0.90
"""Held-out accuracy the repaired network must reach (the reference reaches about 0.96)."""

LAYER_DIMS = (2, 16, 16, 1)


def init_params(layer_dims, rng):
    params = {}
    for l in range(1, len(layer_dims)):
        n_prev, n = layer_dims[l - 1], layer_dims[l]
        params[f"W{l}"] = rng.standard_normal((n, n_prev)) * np.sqrt(2.0 / n_prev)
        params[f"b{l}"] = np.zeros((n, 1))
    return params


def forward(params, X, keep_prob, rng):
    Z1 = params["W1"] @ X + params["b1"]
    A1 = np.maximum(Z1, 0)
    D1 = None
    if keep_prob < 1:
        D1 = rng.random(A1.shape) < keep_prob
        A1 = A1 * D1 / keep_prob
    Z2 = params["W2"] @ A1 + params["b2"]
    A2 = np.maximum(Z2, 0)
    D2 = None
    if keep_prob < 1:
        D2 = rng.random(A2.shape) < keep_prob
        A2 = A2 * D2 / keep_prob
    Z3 = params["W3"] @ A2 + params["b3"]
    AL = 1 / (1 + np.exp(-Z3))
    return AL, (X, Z1, A1, D1, Z2, A2, D2, AL)


def train(X, Y, backward_fn, *, lr=0.5, steps=1500, lambd=0.1, keep_prob=0.85, seed=0):
    """Full-batch gradient descent with a fresh dropout mask per step; returns params."""
    rng = np.random.default_rng(seed)
    params = init_params(LAYER_DIMS, rng)
    for _ in range(steps):
        AL, cache = forward(params, X, keep_prob, rng)
        grads = backward_fn(params, cache, Y, lambd, keep_prob)
        params = {key: value - lr * grads[key] for key, value in params.items()}
    return params


def accuracy(params, X, Y):
    AL, _ = forward(params, X, 1.0, None)
    return float(np.mean((AL > 0.5) == Y))


def _unseen_data(m, seed):
    X, Y = gk.datasets.moons(m, noise=0.2, seed=seed)
    return X, Y


def _net_args(m, data_seed, lambd, keep_prob):
    def args(rng):
        X, Y = _unseen_data(m, data_seed)
        params = init_params(LAYER_DIMS, rng)
        return params, X, Y, lambd, keep_prob
    return args


def _grad_tuple(grads):
    return tuple(np.asarray(grads[key], dtype=float) for key in sorted(grads))


def _fixed(keep_prob, mask_seed=5):
    return None if keep_prob >= 1 else mask_seed


def _run_forward(params, X, keep_prob, mask_seed):
    rng = None if mask_seed is None else np.random.default_rng(mask_seed)
    return forward(params, X, keep_prob, rng)


def _cost_value(fn, params, X, Y, lambd, keep_prob):
    AL, _ = _run_forward(params, X, keep_prob, _fixed(keep_prob))
    return fn(AL, Y, params, lambd)


def _close(a, b):
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                rtol=1e-6, atol=1e-9))
    except (ValueError, TypeError):
        return False


def _correct_gradients(params, X, Y, lambd, keep_prob):
    """The gradient of the correct cost, from gradkit's own net (the same 2-16-16-1 net and
    masks: ``gk.mlp`` draws them layer by layer from ``default_rng(seed)``, as ``forward``)."""
    return gk.mlp.gradients(params, X, Y, lambd=lambd, keep_prob=keep_prob,
                            seed=_fixed(keep_prob))


def _correct_cost(X, Y, lambd, keep_prob):
    """The correct cost as a function of the params, masks fixed as in the tests."""
    return lambda p: gk.mlp.cost(p, X, Y, lambd=lambd, keep_prob=keep_prob,
                                 seed=_fixed(keep_prob))


_REPLAYED = ("float16", "float32")  # the precisions the check tells apart; else float64


def _costs_checked(fn, params, X, Y, lambd, keep_prob):
    """The costs ``fn`` gives where ``check_gradients`` evaluates it against the correct
    gradient, in the order it asks, and their precision: ``{"costs": [float, ...],
    "dtype": "float64"}``, which :func:`_replayed_check` reruns the check on.

    The check sees ``fn``'s values as they are, and says what is wrong with one that is
    not a scalar cost.
    """
    costs, dtypes = [], []

    def f(p):
        value = fn(_run_forward(p, X, keep_prob, _fixed(keep_prob))[0], Y, p, lambd)
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.size == 1:
            costs.append(float(arr.reshape(())))
            dtypes.append(arr.dtype.name)
        return value

    gk.check_gradients(f, params, _correct_gradients(params, X, Y, lambd, keep_prob),
                       progress=False)
    return {"costs": costs, "dtype": dtypes[0] if dtypes else "float64"}


def _replayed_check(args, recorded):
    """``check_gradients(cost, params, correct gradient).passed``, with the costs a call
    recorded in place of the cost: the check is deterministic, so it asks for the same
    points in the same order, and gets the student's costs there."""
    params, X, Y, lambd, keep_prob = args
    if not (isinstance(recorded, dict) and isinstance(recorded.get("costs"), list)):
        raise ValueError("expected the costs recorded during the check")
    dtype = np.dtype(recorded.get("dtype") if recorded.get("dtype") in _REPLAYED
                     else "float64")
    replay = iter(recorded["costs"])

    def f(p):
        value = next(replay, None)
        if value is None:
            raise ValueError("the check asked for more costs than were recorded")
        return dtype.type(value)

    report = gk.check_gradients(f, params, _correct_gradients(params, X, Y, lambd, keep_prob),
                                progress=False)
    if next(replay, None) is not None:
        raise ValueError("more costs were recorded than the check asked for")
    return bool(report.passed)


def _l2_term(a):
    """lambd / (2m) * sum of ||W_l||^2 for a test's inputs (gradkit's penalty)."""
    params, X, Y, lambd, keep_prob = a
    return gk.nn.l2_penalty(params, lambd, X.shape[1])


def _cost_without_l2(a, got, e):
    return a[3] > 0 and isinstance(got, float) and _close(got, e - _l2_term(a))


def _cost_l2_over_m_missing(a, got, e):
    m = a[1].shape[1]
    return a[3] > 0 and isinstance(got, float) and _close(got, e + _l2_term(a) * (2 * m - 1))


def _cost_l2_m_missing(a, got, e):
    m = a[1].shape[1]
    return a[3] > 0 and isinstance(got, float) and _close(got, e + _l2_term(a) * (m - 1))


_COST = Exercise(
    id="11.compute_cost",
    title="Repair the cost",
    function="compute_cost",
    points=3,
    tests=[
        Test("cost value, lambd = 0 (unseen data)", args=_net_args(60, 701, 0.0, 1.0), seed=1,
             call=_cost_value, shows="a 2-16-16-1 net on 60 unseen examples, lambd = 0"),
        Test("cost value, lambd = 0.7 (unseen data)", args=_net_args(60, 702, 0.7, 1.0),
             seed=2, call=_cost_value,
             shows="a 2-16-16-1 net on 60 unseen examples, lambd = 0.7"),
        Test("gradient check with L2 passes (unseen data)", args=_net_args(40, 703, 0.5, 1.0),
             seed=3, call=_costs_checked, post=_replayed_check,
             shows="check_gradients(your cost, the correct backward), 40 unseen examples, "
                   "lambd = 0.5, dropout off (True = passed)"),
    ],
    mistakes=[
        Mistake("the L2 term is still missing from the cost: the gradient has it, so the "
                "check reports extra_l2. The exercise's text says what the term is.",
                _cost_without_l2),
        Mistake("your L2 term is 2m times too large (m, the number of examples): compare the "
                "factor in front of its sum of squares with the exercise's formula.",
                _cost_l2_over_m_missing),
        Mistake("your L2 term is m times too large (m, the number of examples): it has the "
                "1/2 but not the rest of the factor in front of its sum of squares; compare "
                "it with the exercise's formula.", _cost_l2_m_missing),
        Mistake("the gradient check fails: the cost and the (correct) backward pass disagree; "
                "show check_model(compute_cost, found_backward, lambd=0.5, keep_prob=1.0): "
                "once the cost is right, only W1 fails there (the bug of Exercise 11.3).",
                lambda a, got: got is False),
    ],
    hint="The cost is the data loss plus the L2 term of the exercise's formula, weights "
         "only; check it with lambd > 0 and read the report's findings.",
)


def _backward_value(fn, params, X, Y, lambd, keep_prob):
    _, cache = _run_forward(params, X, keep_prob, _fixed(keep_prob))
    return _grad_tuple(fn(params, cache, Y, lambd, keep_prob))


def _w1_only(a, got, e):
    """Every gradient but dW1 is right (sorted order: W1 comes first)."""
    i = sorted(a[0]).index("W1")
    return (not _close(got[i], e[i])) and all(
        _close(got[j], e[j]) for j in range(len(e)) if j != i)


def _gradients_of(fn, params, X, Y, lambd, keep_prob):
    """The gradients ``fn`` returns, as plain data: a dict of float arrays shaped like
    ``params`` (gradkit's own validation says what is wrong with one that is not)."""
    _, cache = _run_forward(params, X, keep_prob, _fixed(keep_prob))
    grads = gk.params.validate_grads(fn(params, cache, Y, lambd, keep_prob), params)
    return {k: np.asarray(v, dtype=float) for k, v in grads.items()}


def _gradients_pass(args, grads):
    """``check_gradients(correct cost, params, grads).passed``, on the grader's side."""
    params, X, Y, lambd, keep_prob = args
    return bool(gk.check_gradients(_correct_cost(X, Y, lambd, keep_prob), params, grads,
                                   progress=False).passed)


def _trained(fn, data_seed, test_seed):
    """The params that 1500 steps of training with ``fn`` give on unseen data."""
    X, Y = _unseen_data(400, data_seed)
    with np.errstate(all="ignore"):
        return train(X, Y, fn)


def _reaches_target(args, params):
    """Held-out accuracy of the trained params >= TARGET_ACCURACY, on the grader's side."""
    _, test_seed = args
    Xt, Yt = _unseen_data(400, test_seed)
    with np.errstate(all="ignore"):
        return bool(accuracy(params, Xt, Yt) >= TARGET_ACCURACY)


_BACKWARD = Exercise(
    id="11.backward",
    title="Repair the backward pass",
    function="backward",
    points=4,
    tests=[
        Test("gradients, lambd = 0.3, dropout off (unseen data)",
             args=_net_args(50, 711, 0.3, 1.0), seed=4, call=_backward_value,
             names=("W1", "W2", "W3", "b1", "b2", "b3"),
             shows="a 2-16-16-1 net on 50 unseen examples, lambd = 0.3, keep_prob = 1 "
                   "(dW1, dW2, dW3, db1, db2, db3 in sorted order)"),
        Test("gradient check passes, lambd = 0.5, dropout off (unseen data)",
             args=_net_args(40, 712, 0.5, 1.0), seed=5, call=_gradients_of, post=_gradients_pass,
             shows="check_gradients(correct cost, your backward), 40 unseen examples, "
                   "lambd = 0.5, keep_prob = 1 (True = passed)"),
        Test("trains to the target accuracy with dropout (uses your dropout_backward)",
             args=(714, 814), call=_trained, post=_reaches_target, weight=2,
             shows=f"1500 seeded steps, lr 0.5, lambd 0.1, keep_prob 0.85, on 400 unseen "
                   f"examples; held-out accuracy >= {TARGET_ACCURACY} (True = reached)"),
    ],
    mistakes=[
        Mistake("only dW1 is off: compare its line with those of dW2 and dW3, term by term.",
                _w1_only),
        Mistake("the network does not reach the target accuracy: run the gradient check "
                "(L2 on, dropout off, then dropout with a fixed mask) before training.",
                lambda a, got: got is False and len(a) == 2),
        Mistake("the gradient check fails: read the report's per-parameter errors and "
                "findings (a scale factor, extra_l2, missing_l2) to see which line to fix.",
                lambda a, got: got is False),
    ],
    hint="The three layers compute their gradients the same way: compare their lines term "
         "by term, and let the gradient check's per-parameter errors say where to look.",
)


def _dropout_args(rng):
    dA = rng.standard_normal((4, 6))
    D = rng.random((4, 6)) < 0.7
    return dA, D, 0.7


def _dropout_value(fn, dA, D, keep_prob):
    return np.asarray(fn(dA, D, keep_prob), dtype=float)


def _gradients_with_dropout(fn, params, X, Y, lambd, keep_prob):
    """The gradients of gradkit's own backward pass of the net with ``fn`` in place of its
    dropout backward (``gk.bugs.Bug`` swaps that one piece), masks fixed by the test's
    seed, as plain data."""
    yours = gk.bugs.Bug("dropout_backward", "the dropout backward under test", "hidden",
                        {"dropout_backward": fn})
    grads = yours.gradients(params, X, Y, lambd=lambd, keep_prob=keep_prob,
                            seed=_fixed(keep_prob))
    return {k: np.asarray(v) for k, v in grads.items()}


_DROPOUT = Exercise(
    id="11.dropout_backward",
    title="Repair the dropout backward pass",
    function="dropout_backward",
    points=3,
    tests=[
        Test("a (4, 6) gradient, keep_prob = 0.7", args=_dropout_args, seed=6,
             call=_dropout_value,
             shows="dA (4, 6) random, D (4, 6) boolean mask, keep_prob = 0.7"),
        Test("gradient check with one fixed mask passes (unseen data)",
             args=_net_args(40, 721, 0.2, 0.8), seed=7, call=_gradients_with_dropout,
             post=_gradients_pass,
             shows="check_gradients with the mask fixed by a seed, 40 unseen examples, "
                   "lambd = 0.2, keep_prob = 0.8 (True = passed)"),
    ],
    mistakes=[
        Mistake("the mask is applied but not rescaled: look at what the forward pass did to "
                "the kept units besides masking them; that step has a derivative too.",
                lambda a, got, e: len(a) == 3 and _close(got, np.asarray(e) * a[2])),
        Mistake("the mask is missing: dropped units had no effect on the cost, so they must "
                "get no gradient.",
                wrong="dropout_mask_missing"),
        Mistake("you multiplied by keep_prob, but the forward pass divided by it: look at the "
                "derivative of that step.",
                lambda a, got, e: len(a) == 3 and _close(got, np.asarray(e) * a[2] ** 2)),
        Mistake("the gradient check with a fixed mask fails: your dropout backward does not "
                "match its forward step; take the derivative of each thing that step does to A.",
                lambda a, got: got is False),
    ],
    hint="The forward step did two things to A, masked it and rescaled the kept units; its "
         "backward takes the derivative of both (reread the exercise's forward step).",
)

EXERCISES = [_COST, _BACKWARD, _DROPOUT]
