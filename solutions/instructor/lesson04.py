"""Lesson 04's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson04.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

The ``04.model_forward`` tests compare ``A_L`` only, so its mistakes return ``A_L``.
"""

import numpy as np


def relu_times_activation(dA, Z):
    return dA * np.maximum(Z, 0)


def relu_mask_alone(dA, Z):
    return (Z > 0).astype(float)


def relu_mask_at_zero(dA, Z):
    return dA * (Z >= 0)


def relu_mask_flipped(dA, Z):
    return dA * (Z < 0)


def linear_db_over_axis_0(dZ, A_prev, W):
    return [W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=0, keepdims=True)]


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def _forward(params, X, hidden, output):
    L = len(params) // 2
    A = X
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = hidden(Z) if l < L else output(Z)
    return A


def forward_logits(params, X):
    return _forward(params, X, lambda Z: np.maximum(Z, 0), lambda Z: Z)


def forward_relu_output(params, X):
    return _forward(params, X, lambda Z: np.maximum(Z, 0), lambda Z: np.maximum(Z, 0))


def forward_all_sigmoid(params, X):
    return _forward(params, X, _sigmoid, _sigmoid)
