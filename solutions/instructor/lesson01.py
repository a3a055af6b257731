"""Lesson 01's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson01.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.
"""

import numpy as np


def dq_no_division(f, x, h):
    return f(x + h) - f(x)


def dq_backward(f, x, h):
    return (f(x) - f(x - h)) / h


def dq_central_over_h(f, x, h):
    return (f(x + h) - f(x - h)) / h


def secant_intercept_plus(f, x0, h):
    slope = (f(x0 + h) - f(x0)) / h
    return [slope, f(x0) + slope * x0]


def backprop_x_only_product(x, y, z):
    return [np.sin(x) * y, 0.0, 0.0]


def backprop_x_only_sin(x, y, z):
    return [(x * y + z) * np.cos(x), 0.0, 0.0]
