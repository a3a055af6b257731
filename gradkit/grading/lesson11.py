"""Exercise specs of lesson 11, the capstone (``solutions/11_capstone.ipynb``).

The notebook gives a complete training script for a 2-16-16-1 ReLU network
with L2 regularization and inverted dropout, "as found", with three bugs of
different kinds. Which version of each bug a student's script holds is their
variant: :func:`script_versions` draws the version of each function with
``variant(STUDENT_ID, question_id, n)``, keyed by the question that asks for that
function's bug (a question's variant is keyed by its own id, so each of the three
questions sees the version it asks about), and :func:`as_found_script` writes the
script (the empty id gives the one the solution shows). The student

- builds the check harness, ``11.make_check``: the cost as a function of the
  params on one fixed mini-batch, with the dropout masks drawn again from one
  seed on every call, and the gradients of the backward pass under test there;
- repairs the script, one function at a time, rechecking after each repair:
  ``11.dropout_backward``, ``11.backward``, ``11.compute_cost``, graded as correct
  code (the same expectations for every variant);
- says what the checks found in their own script (``11.answer_11_3`` to
  ``11.answer_11_5``, one answer per variant, from the instructor's key), and
  predicts two checks' outcomes before running them (``11.answer_11_1``,
  ``11.answer_11_2``).

Grading runs on data the notebook never shows: the repaired gradients must
pass :func:`gradkit.check_gradients` (L2 on, dropout off or with one fixed
mask), and the network trained with the repaired backward pass must reach
``TARGET_ACCURACY`` on held-out data. The harness is graded on cost and
backward functions of the grader's choosing (gradkit's own net, and two of
its bugs): a right harness makes the check pass on the right ones and fail
on the buggy ones.

Those verdicts are computed on the grader's side (each test's ``post``), from what
the student's code returned as plain data: the gradients, the trained params, or the
costs at the points where the gradient check evaluated the student's cost, which the
check, being deterministic, asks for again in the same order. The correct cost and
gradient there are gradkit's own net (``gk.mlp``), the same net with the same masks.
The references are the answer cells of the solution notebook; the mistakes that
need a variant of an answer, and the questions' keys, are functions of
``solutions/instructor/lesson11.py``.
"""

import numpy as np

import gradkit as gk
from gradkit.grading.spec import Exercise, Mistake, Test, question
from gradkit.grading.variants import current_student, variant

__all__ = ["EXERCISES", "SCRIPT_PIECES", "TARGET_ACCURACY", "as_found", "as_found_script",
           "script_versions"]

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


SCRIPT_PIECES = (
    ("found_compute_cost", "11.answer_11_5", 7, 3),
    ("found_dropout_backward", "11.answer_11_4", 7, 3),
    ("found_backward", "11.answer_11_3", 9, 4),
)
"""Per function of the as-found script: the question that asks for its bug (whose id keys
its variant), that question's number of variants, and the function's number of versions
(variant ``v`` holds version ``v % versions``; a student, ``v >= 1``, meets each version)."""

_COST_TEXTS = (
    '''def found_compute_cost(AL, Y, params, lambd):
    """Mean cross-entropy plus lambd / (2m) * sum of ||W_l||^2 (as found)."""
    m = Y.shape[1]
    cross_entropy = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    squares = sum(np.sum(value ** 2) for key, value in params.items() if key.startswith("b"))
    return float(cross_entropy + lambd / (2 * m) * squares)
''',
    '''def found_compute_cost(AL, Y, params, lambd):
    """Mean cross-entropy plus lambd / (2m) * sum of ||W_l||^2 (as found)."""
    m = Y.shape[1]
    cross_entropy = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    squares = sum(np.sum(value ** 2) for key, value in params.items() if key.startswith("W"))
    return float(cross_entropy + lambd / m * squares)
''',
    '''def found_compute_cost(AL, Y, params, lambd):
    """Mean cross-entropy plus lambd / (2m) * sum of ||W_l||^2 (as found)."""
    m = Y.shape[1]
    cross_entropy = -np.mean(Y * np.log(AL) + (1 - Y) * np.log(1 - AL))
    squares = sum(np.sum(params[f"W{l}"] ** 2) for l in range(1, 3))
    return float(cross_entropy + lambd / (2 * m) * squares)
''',
)

_DROPOUT_TEXTS = (
    '''def found_dropout_backward(dA, D, keep_prob):
    """Backward pass of A * D / keep_prob (as found)."""
    return np.where(D, dA, 0.0)
''',
    '''def found_dropout_backward(dA, D, keep_prob):
    """Backward pass of A * D / keep_prob (as found)."""
    return dA * D * keep_prob
''',
    '''def found_dropout_backward(dA, D, keep_prob):
    """Backward pass of A * D / keep_prob (as found)."""
    scale = 1.0 / keep_prob  # the kept units were scaled by 1 / keep_prob
    return scale * dA
''',
)

_BACKWARD_TEXT = '''def found_backward(params, cache, Y, lambd, keep_prob):
    """Gradients of the cost, a dict with the keys and shapes of params (as found)."""
    X, Z1, A1, D1, Z2, A2, D2, AL = cache
    m = X.shape[1]
    dZ3 = {dz3}
    dW3 = dZ3 @ A2.T / m + lambd / m * params["W3"]
    db3 = np.sum(dZ3, axis=1, keepdims=True) / m
    dA2 = params["W3"].T @ dZ3
    if D2 is not None:
        dA2 = found_dropout_backward(dA2, D2, keep_prob)
    dZ2 = dA2 * (Z2 > 0)
    dW2 = dZ2 @ A1.T / m + lambd / m * params[{w2}]
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dA1 = params["W2"]{t} @ dZ2
    if D1 is not None:
        dA1 = found_dropout_backward(dA1, {d1}, keep_prob)
    dZ1 = dA1 * (Z1 > 0)
    dW1 = dZ1 @ X.T / m + lambd / m * params["W1"]
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return {{"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}}
'''

_BACKWARD_SLOTS = (
    {"dz3": "Y - AL", "w2": '"W2"', "t": ".T", "d1": "D1"},
    {"dz3": "AL - Y", "w2": '"W2"', "t": ".T", "d1": "D2"},
    {"dz3": "AL - Y", "w2": '"W3"', "t": ".T", "d1": "D1"},
    {"dz3": "AL - Y", "w2": '"W2"', "t": "", "d1": "D1"},
)


def script_versions(student_id):
    """``(cost, dropout, backward)``: the version of each function of the as-found script
    for ``student_id``; ``""`` gives ``(0, 0, 0)``, the script the solution shows."""
    return tuple(variant(student_id, key, n) % k for _, key, n, k in SCRIPT_PIECES)


def as_found_script(versions=(0, 0, 0)):
    """The source of the as-found script with these ``(cost, dropout, backward)`` versions:
    ``found_compute_cost``, ``found_dropout_backward`` and ``found_backward`` (it needs
    ``np`` to run)."""
    cost, dropout, backward = (int(v) % k for v, (_, _, _, k) in zip(versions, SCRIPT_PIECES))
    return "\n\n".join([_COST_TEXTS[cost], _DROPOUT_TEXTS[dropout],
                         _BACKWARD_TEXT.format(**_BACKWARD_SLOTS[backward])])


def as_found(versions=(0, 0, 0)):
    """The three functions of :func:`as_found_script`, in a namespace of their own."""
    namespace = {"np": np}
    exec(as_found_script(versions), namespace)
    return {name: namespace[name] for name, _, _, _ in SCRIPT_PIECES}


def _own_as_found(name):
    """The function ``name`` of the as-found script of the student being checked or graded
    (the empty id's outside a check)."""
    return as_found(script_versions(current_student() or ""))[name]


def _is_own_as_found_cost(a, got, e):
    return isinstance(got, float) and not _close(got, e) and _close(got, _cost_value(
        _own_as_found("found_compute_cost"), *a))


def _is_own_as_found_dropout(a, got, e):
    return len(a) == 3 and not _close(got, e) and _close(
        got, _dropout_value(_own_as_found("found_dropout_backward"), *a))


_AS_FOUND_HINT = ("that is what your {name} returns, as found: repair it first. {how} (This "
                  "check names a mistake only once your function differs from the as-found "
                  "one: naming this bug is {question}.)")


class _MaskReplay(np.random.Generator):
    """A generator whose ``random(shape)`` hands back given masks, one per call, so that
    gradkit's own net (which draws ``rng.random(A.shape) < keep_prob`` layer by layer, as
    ``forward``) runs with exactly the masks a cache holds."""

    def __init__(self, masks):
        super().__init__(np.random.PCG64(0))
        self._masks = [m for m in masks if m is not None]

    def random(self, size=None, dtype=np.float64, out=None):
        mask = np.asarray(self._masks.pop(0), dtype=bool)
        if size is not None and tuple(np.atleast_1d(size)) != mask.shape:
            raise ValueError(f"the cache's mask has shape {mask.shape}, the layer {size}")
        return np.where(mask, 0.0, 1.0)  # 0 < keep_prob: kept; 1 >= keep_prob: dropped


def _library_cost(AL, Y, params, lambd):
    """A correct cost with the notebook's signature, from gradkit.nn."""
    return gk.nn.binary_cross_entropy(AL, Y)[0] + gk.nn.l2_penalty(params, lambd, Y.shape[1])


def _library_gradients(bug, params, cache, Y, lambd, keep_prob):
    """gradkit's own backward pass of the net (``bug``: one of ``gk.bugs.BUGS`` in its
    place, or None), with the batch and the masks of ``cache``."""
    X, _, _, D1, _, _, D2, _ = cache
    seed = _MaskReplay([D1, D2]) if D1 is not None else None
    run = gk.mlp.gradients if bug is None else gk.bugs.BUGS[bug].gradients
    return run(params, X, Y, lambd=lambd, keep_prob=keep_prob if D1 is not None else 1.0,
               seed=seed)


_PAIRS = {  # what a harness test hands to the student's make_check: (cost, backward piece)
    "correct": None,
    "L2 missing from the gradient": "l2_missing_from_gradient",
    "dropout mask missing from the backward pass": "dropout_mask_missing_in_backward",
}


def _harness_run(fn, pair, params, X, Y, batch, lambd, keep_prob, mask_seed):
    """Call the student's ``make_check`` with the pair of functions ``pair`` (recording what
    they are called with), run the check with its ``f`` and gradients in the student's
    process, and return, as plain data, the costs the check asked for, the gradients and
    what each function saw: ``post`` reruns the check on the grader's side."""
    seen = {"cost": set(), "backward": set()}

    def cost_fn(AL, Y_, params_, lambd_):
        seen["cost"].add((int(np.shape(Y_)[1]), float(lambd_)))
        return _library_cost(AL, Y_, params_, lambd_)

    def backward_fn(params_, cache, Y_, lambd_, keep_prob_):
        masked = cache[3] is not None
        seen["backward"].add((int(np.shape(Y_)[1]), float(lambd_), float(keep_prob_), masked))
        return _library_gradients(_PAIRS[pair], params_, cache, Y_, lambd_, keep_prob_)

    f, grads = fn(cost_fn, backward_fn, params, X, Y, batch, lambd, keep_prob, mask_seed)
    grads = {k: np.asarray(v, dtype=float)
             for k, v in gk.params.validate_grads(grads, params).items()}
    costs, dtypes = [], []

    def recorded(p):
        value = f(p)
        arr = np.asarray(value)
        if arr.dtype.kind in "biuf" and arr.size == 1:
            costs.append(float(arr.reshape(())))
            dtypes.append(arr.dtype.name)
        return value

    gk.check_gradients(recorded, params, grads, progress=False)
    return {"costs": costs, "dtype": dtypes[0] if dtypes else "float64", "grads": grads,
            "cost_calls": sorted(list(c) for c in seen["cost"]),
            "backward_calls": sorted(list(c) for c in seen["backward"])}


def _harness_verdict(args, value):
    """The replayed check's verdict (``"pass"``, ``"fail"``, ``"inconclusive"``), or what the
    harness called the functions with that the test did not ask for."""
    pair, params, X, Y, batch, lambd, keep_prob, mask_seed = args
    if not isinstance(value, dict) or not isinstance(value.get("grads"), dict):
        raise ValueError("expected the costs and gradients recorded during the check")
    for m, lambd_ in value.get("cost_calls", []):
        if int(m) != batch:
            return f"the cost saw {int(m)} examples, not one batch of {batch}"
        if float(lambd_) != lambd:
            return f"the cost got lambd = {lambd_:g}, not {lambd:g}"
    backward_calls = value.get("backward_calls", [])
    if not backward_calls:
        return "the backward pass was never called"
    for m, lambd_, keep_prob_, masked in backward_calls:
        if int(m) != batch:
            return f"the backward pass saw {int(m)} examples, not one batch of {batch}"
        if float(lambd_) != lambd:
            return f"the backward pass got lambd = {lambd_:g}, not {lambd:g}"
        if float(keep_prob_) != keep_prob or bool(masked) != (keep_prob < 1):
            return (f"the backward pass ran with keep_prob = {keep_prob_:g}"
                    f"{' and masks' if masked else ' and no masks'}, the test asked for "
                    f"keep_prob = {keep_prob:g}")
    grads = {k: np.asarray(v, dtype=float) for k, v in value["grads"].items()}
    dtype = np.dtype(value.get("dtype") if value.get("dtype") in _REPLAYED else "float64")
    replay = iter(value.get("costs", []))

    def f(p):
        cost = next(replay, None)
        if cost is None:
            raise ValueError("the check asked for more costs than were recorded")
        return dtype.type(cost)

    report = gk.check_gradients(f, params, gk.params.validate_grads(grads, params),
                                progress=False)
    if next(replay, None) is not None:
        raise ValueError("more costs were recorded than the check asked for")
    return report.verdict


def _harness_args(pair, m, data_seed, batch, lambd, keep_prob, mask_seed):
    def args(rng):
        X, Y = _unseen_data(m, data_seed)
        return pair, init_params(LAYER_DIMS, rng), X, Y, batch, lambd, keep_prob, mask_seed
    return args


def _harness_test(name, pair, lambd, keep_prob, mask_seed, seed, data_seed, weight=1.0):
    dropout = (f"keep_prob = {keep_prob:g}, mask_seed = {mask_seed}" if keep_prob < 1
               else "dropout off")
    return Test(name, args=_harness_args(pair, 120, data_seed, 30, lambd, keep_prob, mask_seed),
                seed=seed, call=_harness_run, post=_harness_verdict, weight=weight,
                shows=f"make_check(cost, backward, params, X (2, 120), Y (1, 120), batch = 30, "
                      f"lambd = {lambd:g}, {dropout}), then check_gradients(f, params, grads)"
                      f".verdict; the cost and backward pass: {pair}")


_HARNESS = Exercise(
    id="11.make_check",
    title="Build the check harness",
    function="make_check",
    points=4,
    tests=[
        _harness_test("a correct net, lambd = 0, dropout off", "correct", 0.0, 1.0, None,
                      11, 731),
        _harness_test("a correct net, lambd = 0.5, dropout off", "correct", 0.5, 1.0, None,
                      12, 732),
        _harness_test("a correct net, lambd = 0.5, dropout with a fixed mask", "correct",
                      0.5, 0.8, 3, 13, 733, weight=2.0),
        _harness_test("a backward pass with an L2 bug, lambd = 0.5", "L2 missing from the "
                      "gradient", 0.5, 1.0, None, 14, 734),
        _harness_test("a backward pass with a dropout bug, keep_prob = 0.8",
                      "dropout mask missing from the backward pass", 0.0, 0.8, 4, 15, 735),
    ],
    mistakes=[
        Mistake("the check is inconclusive: your f gives different costs at the same params, "
                "so something random changes from one call of f to the next (the batch, or "
                "the dropout masks: where does each call get its generator?).",
                lambda a, got: got == "inconclusive"),
        Mistake("a function saw more (or fewer) examples than one mini-batch of `batch`: "
                "both f and the gradients work on the same fixed batch.",
                lambda a, got: isinstance(got, str) and "not one batch" in got),
        Mistake("a function got another lambd than the harness was given: with L2 off, an L2 "
                "bug cannot show, and with it in one function only, a correct net fails.",
                lambda a, got: isinstance(got, str) and "lambd =" in got),
        Mistake("the backward pass did not run with the dropout the harness was given: without "
                "masks (or with keep_prob = 1) a dropout bug cannot show.",
                lambda a, got: isinstance(got, str) and "ran with keep_prob" in got),
        Mistake("a correct cost and backward pass fail your check: f and the gradients do not "
                "see the same thing. Compare the batch, lambd and the masks of the forward pass "
                "your gradients come from with those of every call of f.",
                lambda a, got, e: got == "fail" and e == "pass"),
        Mistake("a buggy backward pass passes your check: the setting that shows its bug (L2 "
                "on, or dropout with a fixed mask) did not reach both functions.",
                lambda a, got, e: got == "pass" and e == "fail"),
    ],
    hint="f(params) runs the forward pass and the cost on one fixed batch; the gradients come "
         "from the backward pass of one forward pass at params; with dropout, every forward "
         "pass draws its masks from a generator made from mask_seed.",
)


def _biased_net_args(m, data_seed, lambd, keep_prob):
    """As :func:`_net_args`, with biases that are not zero (an L2 term over the biases
    then shows)."""
    def args(rng):
        X, Y = _unseen_data(m, data_seed)
        params = init_params(LAYER_DIMS, rng)
        for key in params:
            if key.startswith("b"):
                params[key] = 0.5 * rng.standard_normal(params[key].shape)
        return params, X, Y, lambd, keep_prob
    return args


def _squares(params, keys):
    return sum(float(np.sum(np.asarray(params[k]) ** 2)) for k in keys)


def _cost_over_biases(a, got, e):
    params, X, Y, lambd, _ = a
    m = X.shape[1]
    weights = [k for k in params if k.startswith("W")]
    biases = [k for k in params if k.startswith("b")]
    return lambd > 0 and isinstance(got, float) and _close(
        got, e - lambd / (2 * m) * (_squares(params, weights) - _squares(params, biases)))


def _cost_l2_doubled(a, got, e):
    return a[3] > 0 and isinstance(got, float) and _close(got, e + _l2_term(a))


def _cost_one_w_left_out(a, got, e):
    params, X, Y, lambd, _ = a
    m = X.shape[1]
    return lambd > 0 and isinstance(got, float) and any(
        _close(got, e - lambd / (2 * m) * _squares(params, [k]))
        for k in params if k.startswith("W"))


_COST = Exercise(
    id="11.compute_cost",
    title="Repair: what the L2 check still shows",
    function="compute_cost",
    points=2,
    tests=[
        Test("cost value, lambd = 0 (unseen data)", args=_net_args(60, 701, 0.0, 1.0), seed=1,
             call=_cost_value, shows="a 2-16-16-1 net on 60 unseen examples, lambd = 0"),
        Test("cost value, lambd = 0.7 (unseen data)", args=_biased_net_args(60, 702, 0.7, 1.0),
             seed=2, call=_cost_value,
             shows="a 2-16-16-1 net with non-zero biases on 60 unseen examples, lambd = 0.7"),
        Test("gradient check with L2 passes (unseen data)", args=_net_args(40, 703, 0.5, 1.0),
             seed=3, call=_costs_checked, post=_replayed_check,
             shows="check_gradients(your cost, the correct backward), 40 unseen examples, "
                   "lambd = 0.5, dropout off (True = passed)"),
    ],
    mistakes=[
        Mistake(_AS_FOUND_HINT.format(
            name="found_compute_cost", question="Question 11.5",
            how="Check it with your repaired backward, lambd > 0 and dropout off, and read "
                "which weights fail and with which finding."), _is_own_as_found_cost),
        Mistake("the L2 term is still missing from the cost: the gradient has it, so the "
                "check reports extra_l2. Section 2's text says what the term is.",
                _cost_without_l2),
        Mistake("your L2 term sums the squares of the wrong tensors (it changes with the "
                "biases): compare what it sums over with the formula of section 2.",
                _cost_over_biases),
        Mistake("your L2 term leaves out one weight matrix: does its sum reach every layer?",
                _cost_one_w_left_out),
        Mistake("your L2 term is 2 times too large: compare the factor in front of its sum of "
                "squares with the formula of section 2.", _cost_l2_doubled),
        Mistake("your L2 term is 2m times too large (m, the number of examples): compare the "
                "factor in front of its sum of squares with the formula of section 2.",
                _cost_l2_over_m_missing),
        Mistake("your L2 term is m times too large (m, the number of examples): it has the "
                "1/2 but not the rest of the factor in front of its sum of squares; compare "
                "it with the formula of section 2.", _cost_l2_m_missing),
        Mistake("the gradient check fails: the cost and the (correct) backward pass disagree; "
                "check your compute_cost with your repaired backward, lambd > 0 and dropout "
                "off, and read which weights fail and with which finding.",
                lambda a, got: got is False),
    ],
    hint="The cost is the data loss plus the L2 term of the formula in section 2; check it with "
         "lambd > 0 and read the report's findings.",
)


def _backward_value(fn, params, X, Y, lambd, keep_prob):
    _, cache = _run_forward(params, X, keep_prob, _fixed(keep_prob))
    return _grad_tuple(fn(params, cache, Y, lambd, keep_prob))


_SORTED = ("W1", "W2", "W3", "b1", "b2", "b3")  # the order of _grad_tuple


def _only(names):
    """``when(a, got, e)``: the gradients of exactly ``names`` are off."""
    def when(a, got, e):
        off = {_SORTED[i] for i in range(len(e)) if not _close(got[i], e[i])}
        return off == set(names)
    return when


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
    """The params that 1500 steps of training with ``fn`` give on unseen data, dropout off:
    with it on, each step would call dropout_backward twice, and in grading that is another
    exercise's function, answered by the grader call by call (3000 calls are too slow for the
    time limit); the gradient test with one fixed mask covers the dropout path."""
    X, Y = _unseen_data(400, data_seed)
    with np.errstate(all="ignore"):
        return train(X, Y, fn, keep_prob=1.0)


def _reaches_target(args, params):
    """Held-out accuracy of the trained params >= TARGET_ACCURACY, on the grader's side."""
    _, test_seed = args
    Xt, Yt = _unseen_data(400, test_seed)
    with np.errstate(all="ignore"):
        return bool(accuracy(params, Xt, Yt) >= TARGET_ACCURACY)


_GRADS = "(dW1, dW2, dW3, db1, db2, db3 in sorted order)"

_BACKWARD = Exercise(
    id="11.backward",
    title="Repair: what the network checks still show",
    function="backward",
    points=3,
    tests=[
        Test("gradients, lambd = 0.3, dropout off (unseen data)",
             args=_net_args(50, 711, 0.3, 1.0), seed=4, call=_backward_value, names=_SORTED,
             shows=f"a 2-16-16-1 net on 50 unseen examples, lambd = 0.3, keep_prob = 1 {_GRADS}"),
        Test("gradients, lambd = 0, one fixed dropout mask (unseen data)",
             args=_net_args(50, 715, 0.0, 0.8), seed=8, call=_backward_value, names=_SORTED,
             shows=f"a 2-16-16-1 net on 50 unseen examples, lambd = 0, keep_prob = 0.8, masks "
                   f"from one seed {_GRADS}"),
        Test("gradient check passes, lambd = 0.5, dropout off (unseen data)",
             args=_net_args(40, 712, 0.5, 1.0), seed=5, call=_gradients_of, post=_gradients_pass,
             shows="check_gradients(correct cost, your backward), 40 unseen examples, "
                   "lambd = 0.5, keep_prob = 1 (True = passed)"),
        Test("trains to the target accuracy (unseen data)",
             args=(714, 814), call=_trained, post=_reaches_target, weight=2,
             shows=f"1500 seeded steps, lr 0.5, lambd 0.1, dropout off, on 400 unseen "
                   f"examples; held-out accuracy >= {TARGET_ACCURACY} (True = reached)"),
    ],
    mistakes=[
        Mistake("only dW1 is off: compare its line with those of dW2 and dW3, term by term.",
                _only(["W1"])),
        Mistake("only layer 1's gradients (dW1, db1) are off: compare each step that brings "
                "dA1 down to layer 1 with the same step that brings dA2 down to layer 2.",
                _only(["W1", "b1"])),
        Mistake("only dW2 is off, and only with lambd > 0: compare its L2 term with those of "
                "dW1 and dW3.",
                lambda a, got, e: len(a) == 5 and a[3] > 0 and _only(["W2"])(a, got, e)),
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
    title="Repair: what the layer check shows",
    function="dropout_backward",
    points=2,
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
        Mistake(_AS_FOUND_HINT.format(
            name="found_dropout_backward", question="Question 11.4",
            how="Step 4's report of it says how it differs from the right backward pass."),
            _is_own_as_found_dropout),
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
         "backward takes the derivative of both (reread the forward step in section 2).",
)


_Q1 = question(
    "11.answer_11_1", "answer_11_1", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="Where a failure of step 1 can come from",
    hint="Ask, for each function, whether step 1's setting (lambd = 0, keep_prob = 1) runs the "
         "part of it that could be wrong.")

_Q2 = question(
    "11.answer_11_2", "answer_11_2", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="A check with masks that are not fixed",
    hint="What does f return when it is called twice at the same params?")

_Q3 = question(
    "11.answer_11_3", "answer_11_3", points=1, kind="choice", options=("a", "b", "c", "d"),
    variants=SCRIPT_PIECES[2][2], key="key_answer_11_3",
    title="Which step shows the backward pass's bug",
    hint="Recheck your copy of found_backward (calling your dropout_backward, before any other "
         "change) in each step's setting, and see which is the first to fail.")

_Q4 = question(
    "11.answer_11_4", "answer_11_4", points=1, kind="choice", options=("a", "b", "c", "d"),
    variants=SCRIPT_PIECES[1][2], key="key_answer_11_4",
    title="What the dropout layer's bug is",
    hint="Read step 4's report of found_dropout_backward: a scale finding and its factor, "
         "or no simple pattern.")

_Q5 = question(
    "11.answer_11_5", "answer_11_5", points=1, kind="choice", options=("a", "b", "c", "d"),
    variants=SCRIPT_PIECES[0][2], key="key_answer_11_5",
    title="What the cost's bug is",
    hint="Check found_compute_cost with your repaired backward, lambd > 0 and dropout off: "
         "which weights fail, and with which finding?")

EXERCISES = [_HARNESS, _Q1, _Q2, _DROPOUT, _BACKWARD, _COST, _Q3, _Q4, _Q5]
