"""Lesson 02's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson02.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.
"""

import numpy as np


def forward(f, x, h):
    return (f(x + h) - f(x)) / h


def backward(f, x, h):
    return (f(x) - f(x - h)) / h


def central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def forward_not_divided(f, x, h):
    return f(x + h) - f(x)


def central_not_divided(f, x, h):
    return f(x + h) - f(x - h)


def slope_of_endpoints(hs, errors):
    x, y = np.log10(hs), np.log10(errors)
    return (y[-1] - y[0]) / (x[-1] - x[0])


def complex_not_divided(f, x, h=1e-20):
    return np.imag(f(x + 1j * h))


def complex_real_part(f, x, h=1e-20):
    return np.real(f(x + 1j * h)) / h


def complex_as_forward(f, x, h=1e-20):
    return forward(f, x, h)
