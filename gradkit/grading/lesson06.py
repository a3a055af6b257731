"""Exercise specs of lesson 06, stochastic gradient descent (``solutions/06_sgd.ipynb``).

- ``06.logistic_cost_and_grad`` — mean cross-entropy of logistic regression
  and its gradient ``(cost, dw, db)``.
- ``06.minibatches`` — shuffled mini-batches of the columns (the last one may be
  smaller), from a seeded ``rng``.
- ``06.sgd_step`` — one gradient-descent update per tensor, as a new dict, after
  finding what is wrong with a draft that runs.
- ``06.answer_6_1`` — a prediction: how many mini-batch updates of 64 do the work of
  one batch-GD update on 10 million examples (a number).
- ``06.answer_6_3`` — a prediction: how the error of a mini-batch gradient shrinks
  with the batch size (a choice).
- ``06.answer_6_4`` — the verdict of a classmate's gradient check of a mini-batch
  method, whose set-up depends on the student's variant (a name); its data builder is
  :func:`classmate_check`.

The chord test of convexity, once exercise 6.4, is ``07.is_convex_on_segment``.
"""

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["CLASSMATE_VARIANTS", "EXERCISES", "classmate_check"]


def _close(a, b, rtol=1e-6, atol=1e-9):
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                rtol=rtol, atol=atol))
    except (ValueError, TypeError):
        return False


def _logistic_data(m, n_x):
    def args(rng):
        X = rng.standard_normal((n_x, m))
        Y = (rng.random((1, m)) < 0.5).astype(float)
        w = rng.standard_normal((1, n_x))
        b = rng.standard_normal((1, 1))
        return w, b, X, Y
    return args


_LOGISTIC = Exercise(
    id="06.logistic_cost_and_grad",
    title="Logistic regression: cost and gradient",
    function="logistic_cost_and_grad",
    points=4,
    returns=("cost", "dw", "db"),
    tests=[
        Test("2 features, 5 examples", args=_logistic_data(5, 2), seed=1,
             shows="w (1, 2), b (1, 1), X (2, 5), Y (1, 5) of 0/1, random (seed 1)"),
        Test("3 features, 40 examples", args=_logistic_data(40, 3), seed=2,
             shows="w (1, 3), b (1, 1), X (3, 40), Y (1, 40) of 0/1, random (seed 2)"),
        Test("large logits stay finite",
             args=(np.array([[30.0, -30.0]]), np.array([[0.0]]),
                   np.array([[1.0, -1.0, 0.5], [-1.0, 1.0, 0.5]]), np.array([[0.0, 1.0, 1.0]])),
             shows="w = [[30, -30]], b = [[0]], X = [[1, -1, .5], [-1, 1, .5]], Y = [[0, 1, 1]]"),
    ],
    mistakes=[
        Mistake("return three values, (cost, dw, db), in this order.",
                lambda a, got: len(got) != 3),
        Mistake("your dw is transposed: it must have the shape of w, (1, n_x); look at the "
                "order of the factors of its product.",
                lambda a, got, e: _close(np.asarray(got[1]).T, e[1])
                and np.asarray(got[1]).shape != np.shape(e[1])),
        Mistake("your cost is the sum over the examples, not their mean: divide by m.",
                lambda a, got, e: _close(got[0], e[0] * a[2].shape[1])),
        Mistake("the gradients are m times too large: the cost is a mean over the m examples, "
                "and its 1/m carries through to dw and db.",
                lambda a, got, e: _close(got[1], np.asarray(e[1]) * a[2].shape[1])),
        Mistake("the gradients have the wrong sign: look at the order of the two terms of dz "
                "(differentiate the cost with respect to z again).",
                lambda a, got, e: _close(got[1], -np.asarray(e[1]))),
        Mistake("your cost is inf or nan for large logits: log(sigmoid(z)) underflows; reread "
                "the identity in the exercise's text, which np.logaddexp computes without "
                "overflow.",
                lambda a, got: not np.isfinite(got[0])),
        Mistake("the cost misses the (1 - y) log(1 - a) term of the cross-entropy.",
                wrong="logistic_half_entropy", part=0),
    ],
    hint="The cost is the mean cross-entropy of section 1, written with np.logaddexp as "
         "the exercise's text says so that it stays finite for large |z|; backpropagate through "
         "the sigmoid (whose derivative is a (1 - a)) to dz, then to dw and db, which have "
         "the shapes of w and b.",
)


def _batch_data(n_x, m, batch_size, seed):
    def args(rng):
        X = np.arange(n_x * m, dtype=float).reshape(n_x, m)
        Y = (np.arange(m) % 2).astype(float).reshape(1, m)
        return X, Y, batch_size, np.random.default_rng(seed)
    return args


def _dropped_last(a, got, e):
    # the expected batches but the last: compare the X part of each batch
    return len(got) == len(e) - 1 and all(_close(g[0], r[0]) for g, r in zip(got, e))


_MINIBATCHES = Exercise(
    id="06.minibatches",
    title="Mini-batches",
    function="minibatches",
    points=3,
    tests=[
        Test("m = 10, batch 4: batches of 4, 4 and 2", args=_batch_data(2, 10, 4, 0),
             shows="X = np.arange(20.).reshape(2, 10), Y = [[0, 1, 0, 1, ...]], batch_size = 4, "
                   "rng = np.random.default_rng(0)"),
        Test("m = 12, batch 3: four full batches", args=_batch_data(3, 12, 3, 7),
             shows="X = np.arange(36.).reshape(3, 12), Y = [[0, 1, 0, 1, ...]], batch_size = 3, "
                   "rng = np.random.default_rng(7)"),
        Test("batch larger than m: one batch", args=_batch_data(1, 5, 8, 3),
             shows="X = np.arange(5.).reshape(1, 5), Y = [[0, 1, 0, 1, 0]], batch_size = 8, "
                   "rng = np.random.default_rng(3)"),
    ],
    mistakes=[
        Mistake("your batches are in the original order: shuffle the columns first, with the "
                "one permutation the exercise's text names, then cut.",
                wrong="batches_unshuffled"),
        Mistake("the last, smaller batch is missing: when m is not a multiple of batch_size, "
                "your loop stops before the examples that are left.", _dropped_last),
        Mistake("X and Y were shuffled with two different permutations, so examples and "
                "labels no longer match: count how many times your code calls rng.permutation.",
                wrong="batches_two_permutations"),
        Mistake("you shuffled and cut the rows: the examples are the columns of X and Y, "
                "along axis 1.",
                lambda a, got: np.asarray(got[0][0]).shape[0] != a[0].shape[0]),
    ],
    hint="Reread section 3: one permutation drawn from rng (a single call, so the result "
         "matches the seed) for both X and Y, then consecutive batches of batch_size columns, "
         "the last one taking what is left.",
)


def _step_args(rng):
    params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": np.ones((1, 1))}
    grads = {key: rng.standard_normal(value.shape) for key, value in params.items()}
    return params, grads, 0.1


def _one_tensor_args(rng):
    # built anew for each call, so that a function that changes params in place changes a copy
    return {"theta": np.array([1.0, -2.0])}, {"theta": np.array([0.5, 0.25])}, 2.0


def _step_call(fn, params, grads, lr):
    # plain values only: the new tensors, then params as the call left them
    keys = sorted(params)
    new = fn(params, grads, lr)
    return ([np.asarray(new[key], dtype=float) for key in keys],
            [np.array(params[key], dtype=float) for key in keys])


def _step_post(args, value):
    # [new tensors (sorted keys)..., params unchanged], judged against a fresh copy of params
    new, after = value
    params = args[0]
    unchanged = all(np.array_equal(params[key], np.asarray(x))
                    for key, x in zip(sorted(params), after, strict=True))
    return list(new) + [bool(unchanged)]


_SGD_STEP = Exercise(
    id="06.sgd_step",
    title="One SGD update",
    function="sgd_step",
    points=3,
    tests=[
        Test("two-layer params, lr = 0.1, inputs left unchanged", args=_step_args,
             call=_step_call, post=_step_post, seed=4,
             names=("W1", "W2", "b1", "b2", "params unchanged"),
             shows="params W1 (3, 2), b1 (3, 1), W2 (1, 3), b2 (1, 1); grads of the same "
                   "shapes; lr = 0.1 (returns the new W1, W2, b1, b2, and whether params is "
                   "unchanged)"),
        Test("one tensor, lr = 2", args=_one_tensor_args,
             call=_step_call, post=_step_post, names=("theta", "params unchanged"),
             shows="params = {'theta': [1, -2]}, grads = {'theta': [.5, .25]}, lr = 2"),
    ],
    mistakes=[
        Mistake("you changed the caller's params in place (W -= ...): leave params as it is "
                "and return a new dict of updated tensors.",
                lambda a, got: got[-1] is False),
        Mistake("you went uphill: a descent step goes against the gradient.",
                wrong="step_uphill"),
        Mistake("the learning rate is missing: your step has the size of the gradient itself, "
                "whatever lr is.",
                wrong="step_without_lr"),
    ],
    hint="Return a new dict with the same keys, each tensor moved by one gradient-descent "
         "step of size lr; leave params unchanged. The draft's two symptoms each point at "
         "one of its lines.",
)


_WORK = question(
    "06.answer_6_1", "answer_6_1", points=0.5, kind="number", digits=3, rtol=0.05,
    title="Predict: GD against mini-batch on 10 million examples",
    hint="Not this one: count the examples one GD update touches, and those one mini-batch "
         "update touches.")

_NOISE = question(
    "06.answer_6_3", "answer_6_3", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="Predict: the noise of a mini-batch gradient",
    hint="Not this one: think of the average of b independent errors, and of its size.")


# --- 06.answer_6_4: a classmate's check, one set-up per variant ----------------------
# Each set-up is code that a student reads before running it; the notebook prints it.

_SETUPS = {
    "reseeded": (
        "def f(p):\n"
        "    idx = np.random.default_rng({seed}).choice(m, size={b}, replace=False)\n"
        "    return mlp.cost(p, X[:, idx], Y[:, idx])\n\n"
        "idx = np.random.default_rng({seed}).choice(m, size={b}, replace=False)\n"
        "grads = mlp.gradients(params, X[:, idx], Y[:, idx])\n"),
    "fresh": (
        "rng = np.random.default_rng({seed})\n\n"
        "def f(p):\n"
        "    idx = rng.choice(m, size={b}, replace=False)\n"
        "    return mlp.cost(p, X[:, idx], Y[:, idx])\n\n"
        "idx = rng.choice(m, size={b}, replace=False)\n"
        "grads = mlp.gradients(params, X[:, idx], Y[:, idx])\n"),
    "full": (
        "def f(p):\n"
        "    return mlp.cost(p, X, Y)\n\n"
        "idx = np.random.default_rng({seed}).choice(m, size={b}, replace=False)\n"
        "grads = mlp.gradients(params, X[:, idx], Y[:, idx])\n"),
    "fixed": (
        "idx = np.random.default_rng({seed}).choice(m, size={b}, replace=False)\n"
        "Xb, Yb = X[:, idx], Y[:, idx]\n\n"
        "def f(p):\n"
        "    return mlp.cost(p, Xb, Yb)\n\n"
        "grads = mlp.gradients(params, Xb, Yb)\n"),
    "other": (
        "def f(p):\n"
        "    idx = np.random.default_rng({seed}).choice(m, size={b}, replace=False)\n"
        "    return mlp.cost(p, X[:, idx], Y[:, idx])\n\n"
        "idx = np.random.default_rng({other}).choice(m, size={b}, replace=False)\n"
        "grads = mlp.gradients(params, X[:, idx], Y[:, idx])\n"),
}

#: (set-up, batch size, seed) of each variant; variant 0 is the one the solution shows
CLASSMATE_VARIANTS = (
    ("reseeded", 32, 5), ("fresh", 16, 1), ("full", 32, 2), ("fixed", 64, 3),
    ("other", 32, 4), ("reseeded", 16, 6), ("fresh", 64, 7), ("full", 16, 8),
    ("other", 64, 9), ("reseeded", 64, 10), ("fresh", 32, 11), ("fixed", 16, 12),
)


def classmate_check(variant, X, Y, params):
    """The set-up of a classmate's gradient check of a mini-batch method, for ``variant``.

    Parameters
    ----------
    variant : int
        In ``range(len(CLASSMATE_VARIANTS))``.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (1, m)
    params : dict of ndarray
        The network's parameters (``gk.mlp`` conventions).

    Returns
    -------
    f : callable
        ``f(params) -> float``, the cost the check differences.
    grads : dict of ndarray
        The gradients the check compares with, at ``params``.
    code : str
        The code that made ``f`` and ``grads``, as the notebook prints it.
    """
    from gradkit import mlp

    kind, b, seed = CLASSMATE_VARIANTS[int(variant)]
    code = _SETUPS[kind].format(seed=seed, b=b, other=seed + 100)
    namespace = {"np": np, "mlp": mlp, "X": X, "Y": Y, "m": X.shape[1], "params": params}
    exec(compile(code, f"<classmate's check, variant {variant}>", "exec"), namespace)  # noqa: S102
    return namespace["f"], namespace["grads"], code


_CLASSMATE = question(
    "06.answer_6_4", "answer_6_4", points=1, kind="name",
    options=("pass", "fail", "inconclusive"), variants=len(CLASSMATE_VARIANTS),
    title="Predict: the verdict of a classmate's check",
    hint="Not this one: reread which examples f uses on each call, and which ones the "
         "gradients use.")


EXERCISES = [_LOGISTIC, _WORK, _MINIBATCHES, _SGD_STEP, _NOISE, _CLASSMATE]
