"""Lesson 03's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson03.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them. A function
that does not apply to a test's inputs raises, and its mistake does not match.
"""

import numpy as np

from gradkit.numgrad import numerical_gradient
from gradkit.params import dict_to_vector


def _norm(v):
    return float(np.linalg.norm(v))


def relative_absolute(grad, gradapprox):
    return _norm(grad - gradapprox)


def relative_by_grad(grad, gradapprox):
    return _norm(grad - gradapprox) / _norm(grad)


def relative_by_gradapprox(grad, gradapprox):
    return _norm(grad - gradapprox) / _norm(gradapprox)


def relative_squared(grad, gradapprox):
    return _norm(grad - gradapprox) ** 2 / (_norm(grad) ** 2 + _norm(gradapprox) ** 2)


def _vectors(cost, params, grads, epsilon, method="central", scale=1.0):
    """grad flattened in the order of params, and scale times the numerical gradient."""
    numeric = dict_to_vector(numerical_gradient(cost, params, h=epsilon, method=method))[0]
    grad = dict_to_vector(grads, dict_to_vector(params)[1])[0]
    return grad, scale * numeric


def _relative(grad, numeric):
    return _norm(grad - numeric) / (_norm(grad) + _norm(numeric))


def check_one_sided(cost, params, grads, epsilon=1e-7):
    return _relative(*_vectors(cost, params, grads, epsilon, method="forward"))


def check_gradapprox_doubled(cost, params, grads, epsilon=1e-7):
    return _relative(*_vectors(cost, params, grads, epsilon, scale=2.0))


def check_grads_unordered(cost, params, grads, epsilon=1e-7):
    """grads flattened in its own key order instead of params'; only where that matters."""
    numeric = dict_to_vector(numerical_gradient(cost, params, h=epsilon))[0]
    grad = np.concatenate([np.ravel(g) for g in grads.values()])
    error = _relative(grad, numeric)
    if not error > 1e-3:
        raise ValueError("the key order of grads does not change the error here")
    return error


def check_absolute(cost, params, grads, epsilon=1e-7):
    grad, numeric = _vectors(cost, params, grads, epsilon)
    return _norm(grad - numeric)


def check_by_grad(cost, params, grads, epsilon=1e-7):
    grad, numeric = _vectors(cost, params, grads, epsilon)
    return _norm(grad - numeric) / _norm(grad)
