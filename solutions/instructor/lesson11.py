"""Lesson 11's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson11.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.
"""

import numpy as np


def dropout_mask_missing(dA, D, keep_prob):
    return np.asarray(dA / keep_prob, dtype=float)
