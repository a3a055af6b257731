"""Lesson 05's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson05.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.
"""

import numpy as np


def l2_with_biases(params, lambd, m):
    return lambd / (2 * m) * sum(float(np.sum(v**2)) for v in params.values())


def l2_norm_not_squared(params, lambd, m):
    return lambd / (2 * m) * sum(float(np.linalg.norm(W)) for name, W in params.items()
                                 if name.startswith("W"))
