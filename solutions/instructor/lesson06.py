"""Lesson 06's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson06.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

The ``06.sgd_step`` tests compare ``[new W1, W2, b1, b2 (sorted keys), params
unchanged]``, so its mistakes return that list, with params left unchanged.
"""

import copy

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def logistic_half_entropy(w, b, X, Y):
    # the cross-entropy without its (1 - y) log(1 - a) term; the gradients are right
    m = X.shape[1]
    z = w @ X + b
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = float(np.mean(-Y * np.log(_sigmoid(z))))
    if not np.isfinite(cost):  # log(sigmoid(z)) underflowed: an earlier mistake names that
        raise ValueError("the cost without the (1 - y) term is not finite here")
    dz = (_sigmoid(z) - Y) / m
    return cost, dz @ X.T, np.sum(dz, axis=1, keepdims=True)


def _cut(X, Y, batch_size):
    return [(X[:, i:i + batch_size], Y[:, i:i + batch_size])
            for i in range(0, X.shape[1], batch_size)]


def batches_unshuffled(X, Y, batch_size, rng):
    return _cut(X, Y, batch_size)


def batches_two_permutations(X, Y, batch_size, rng):
    rng = copy.deepcopy(rng)  # the caller's generator keeps its state
    ox, oy = rng.permutation(X.shape[1]), rng.permutation(X.shape[1])
    return _cut(X[:, ox], Y[:, oy], batch_size)


def _step(params, grads, lr, sign):
    return [params[k] + sign * lr * grads[k] for k in sorted(params)] + [True]


def step_uphill(params, grads, lr):
    return _step(params, grads, lr, +1.0)


def step_without_lr(params, grads, lr):
    return _step(params, grads, 1.0, -1.0)
