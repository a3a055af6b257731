"""Exercise specs of lesson 06, stochastic gradient descent (``solutions/06_sgd.ipynb``).

- ``06.logistic_cost_and_grad`` — mean cross-entropy of logistic regression
  and its gradient ``(cost, dw, db)``.
- ``06.minibatches`` — shuffle the columns with ``rng.permutation`` and cut
  them into mini-batches (the last one may be smaller).
- ``06.sgd_step`` — one update ``theta - lr * grad`` per tensor, as a new dict.

The chord test of convexity, once exercise 6.4, is ``07.is_convex_on_segment``.
"""

import copy

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test

__all__ = ["EXERCISES"]


def _close(a, b, rtol=1e-6, atol=1e-9):
    try:
        return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                                rtol=rtol, atol=atol))
    except (ValueError, TypeError):
        return False


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def logistic_cost_and_grad(w, b, X, Y):
    m = X.shape[1]
    z = w @ X + b
    cost = float(np.mean(np.logaddexp(0.0, z) - Y * z))  # -[y log a + (1-y) log(1-a)]
    dz = (_sigmoid(z) - Y) / m
    return cost, dz @ X.T, np.sum(dz, axis=1, keepdims=True)


def minibatches(X, Y, batch_size, rng):
    order = rng.permutation(X.shape[1])
    Xs, Ys = X[:, order], Y[:, order]
    return [(Xs[:, i:i + batch_size], Ys[:, i:i + batch_size])
            for i in range(0, X.shape[1], batch_size)]


def sgd_step(params, grads, lr):
    return {key: value - lr * grads[key] for key, value in params.items()}


def _logistic_data(m, n_x):
    def args(rng):
        X = rng.standard_normal((n_x, m))
        Y = (rng.random((1, m)) < 0.5).astype(float)
        w = rng.standard_normal((1, n_x))
        b = rng.standard_normal((1, 1))
        return w, b, X, Y
    return args


def _ref(a):
    return logistic_cost_and_grad(*a)


def _half_entropy(a, got):
    with np.errstate(divide="ignore"):
        return _close(got[0], float(np.mean(-a[3] * np.log(_sigmoid(a[0] @ a[2] + a[1])))))


_LOGISTIC = Exercise(
    id="06.logistic_cost_and_grad",
    title="Logistic regression: cost and gradient",
    function="logistic_cost_and_grad",
    points=3,
    reference=logistic_cost_and_grad,
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
        Mistake("dw has the shape of X @ dz.T; w has shape (1, n_x), so dw = dz @ X.T.",
                lambda a, got: _close(np.asarray(got[1]).T, _ref(a)[1])
                and np.asarray(got[1]).shape != _ref(a)[1].shape),
        Mistake("the cost is the sum over the examples; divide by m: the cost is a mean.",
                lambda a, got: _close(got[0], _ref(a)[0] * a[2].shape[1])),
        Mistake("the gradients are m times too large: divide dz = a - y by m, since the "
                "cost is a mean over the m examples.",
                lambda a, got: _close(got[1], _ref(a)[1] * a[2].shape[1])),
        Mistake("the gradients have the wrong sign: dz = a - y, not y - a.",
                lambda a, got: _close(got[1], -_ref(a)[1])),
        Mistake("your cost is inf or nan for large logits: log(sigmoid(z)) underflows. Use "
                "-log(sigmoid(z)) = np.logaddexp(0, -z), or the identity "
                "cost = mean(logaddexp(0, z) - y z).",
                lambda a, got: not np.isfinite(got[0])),
        Mistake("the cost misses the (1 - y) log(1 - a) term of the cross-entropy.",
                _half_entropy),
    ],
    hint="With z = w @ X + b: cost = np.mean(np.logaddexp(0, z) - Y * z) (the cross-entropy "
         "-y log a - (1-y) log(1-a), written so that it stays finite for large |z|), "
         "dz = (gk.nn.sigmoid(z) - Y) / m, dw = dz @ X.T, db = np.sum(dz, axis=1, keepdims=True).",
)


def _batch_data(n_x, m, batch_size, seed):
    def args(rng):
        X = np.arange(n_x * m, dtype=float).reshape(n_x, m)
        Y = (np.arange(m) % 2).astype(float).reshape(1, m)
        return X, Y, batch_size, np.random.default_rng(seed)
    return args


def _fresh(a):
    # mistakes share one args tuple: copy its generator so each one draws the same order
    return a[0], a[1], a[2], copy.deepcopy(a[3])


def _unshuffled(a, got):
    X, Y, bs, _ = a
    ref = [(X[:, i:i + bs], Y[:, i:i + bs]) for i in range(0, X.shape[1], bs)]
    return len(got) == len(ref) and all(_close(g[0], r[0]) for g, r in zip(got, ref))


def _dropped_last(a, got):
    ref = minibatches(*_fresh(a))
    return len(got) == len(ref) - 1 and all(_close(g[0], r[0]) for g, r in zip(got, ref))


def _independent_shuffles(a, got):
    X, Y, bs, rng = _fresh(a)
    ox, oy = rng.permutation(X.shape[1]), rng.permutation(X.shape[1])
    return _close(np.concatenate([g[0] for g in got], axis=1), X[:, ox]) and _close(
        np.concatenate([g[1] for g in got], axis=1), Y[:, oy])


_MINIBATCHES = Exercise(
    id="06.minibatches",
    title="Mini-batches",
    function="minibatches",
    points=3,
    reference=minibatches,
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
        Mistake("your batches are in the original order: shuffle first, with "
                "order = rng.permutation(m), then cut X[:, order] and Y[:, order].", _unshuffled),
        Mistake("the last, smaller batch is missing: when m is not a multiple of batch_size, "
                "keep the remaining examples as a final batch.", _dropped_last),
        Mistake("X and Y were shuffled with two different permutations, so examples and "
                "labels no longer match: draw one permutation and index both with it.",
                _independent_shuffles),
        Mistake("examples are the columns: shuffle and cut along axis 1 (X[:, order]), "
                "not the rows.",
                lambda a, got: np.asarray(got[0][0]).shape[0] != a[0].shape[0]),
    ],
    hint="Draw order = rng.permutation(m) once (a single call, so the result matches the "
         "seed), then return [(X[:, order][:, i:i + batch_size], the same for Y) for i in "
         "range(0, m, batch_size)].",
)


def _step_args(rng):
    params = {"W1": rng.standard_normal((3, 2)), "b1": np.zeros((3, 1)),
              "W2": rng.standard_normal((1, 3)), "b2": np.ones((1, 1))}
    grads = {key: rng.standard_normal(value.shape) for key, value in params.items()}
    return params, grads, 0.1


def _step_call(fn, params, grads, lr):
    before = {key: value.copy() for key, value in params.items()}
    new = fn(params, grads, lr)
    unchanged = all(np.array_equal(before[key], params[key]) for key in params)
    return tuple(np.asarray(new[key], dtype=float) for key in sorted(params)) + (unchanged,)


def _step_ref(a, lr=None, sign=-1.0):
    params, grads, step = a
    step = step if lr is None else lr
    return [params[k] + sign * step * grads[k] for k in sorted(params)]


_SGD_STEP = Exercise(
    id="06.sgd_step",
    title="One SGD update",
    function="sgd_step",
    points=2,
    reference=sgd_step,
    tests=[
        Test("two-layer params, lr = 0.1, inputs left unchanged", args=_step_args,
             call=_step_call, seed=4, names=("W1", "W2", "b1", "b2", "params unchanged"),
             shows="params W1 (3, 2), b1 (3, 1), W2 (1, 3), b2 (1, 1); grads of the same "
                   "shapes; lr = 0.1 (returns the new W1, W2, b1, b2, and whether params is "
                   "unchanged)"),
        Test("one tensor, lr = 2", args=({"theta": np.array([1.0, -2.0])},
                                         {"theta": np.array([0.5, 0.25])}, 2.0),
             call=_step_call, names=("theta", "params unchanged"),
             shows="params = {'theta': [1, -2]}, grads = {'theta': [.5, .25]}, "
                                    "lr = 2"),
    ],
    mistakes=[
        Mistake("you changed the caller's params in place (W -= ...): build and return a new "
                "dict, {key: params[key] - lr * grads[key] for key in params}.",
                lambda a, got: got[-1] is False),
        Mistake("you went uphill: the update subtracts, theta - lr * grad.",
                lambda a, got: _close(got[:-1], _step_ref(a, sign=+1.0))),
        Mistake("the learning rate is missing: theta - lr * grad.",
                lambda a, got: _close(got[:-1], _step_ref(a, lr=1.0))),
    ],
    hint="Return a new dict with the same keys: params[key] - lr * grads[key].",
)


EXERCISES = [_LOGISTIC, _MINIBATCHES, _SGD_STEP]
