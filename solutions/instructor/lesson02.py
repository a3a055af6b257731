"""Lesson 02's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson02.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

``FEEDBACK`` says, for each question, why a known wrong answer is wrong (never what is
right), and ``key_answer_2_3(variant)`` is the order of the student's own mystery
difference.
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


def key_answer_2_3(variant):
    """The order of the variant's mystery difference, measured as the lesson does: the
    least-squares slope of its log-log errors for sin at x = 1 on steps where truncation
    dominates, rounded to a whole number."""
    from gradkit.grading.lesson02 import mystery_difference

    hs = np.logspace(-2.5, -1, 7)
    errors = np.abs(mystery_difference(variant)(np.sin, 1.0, hs) - np.cos(1.0))
    slope = np.polyfit(np.log10(hs), np.log10(errors), 1)[0]
    return int(round(float(slope)))


def _wrong_order(k):
    return (f"an order of {k} does not fit your mystery difference's errors on steps where "
            "they lie on a straight line: plot them on log-log axes, keep the steps where "
            "truncation alone sets the error (for a high-order method round-off bends the "
            "line already near h = 1e-3), and fit the slope there.")


FEEDBACK = {
    "02.answer_2_1": {
        10: "a factor of 10 per ten-fold step is how the one-sided errors shrink, in proportion "
            "to h; the central difference averages a forward and a backward error that are "
            "about equal in size and opposite in sign: their leading terms cancel.",
        2: "averaging does more than halve the errors: the forward and backward errors are "
           "about equal in size and opposite in sign, so their leading terms cancel, and what "
           "is left shrinks faster with h.",
        1000: "that would be an error shrinking like h**3: it is more than the cancellation "
              "of the one-sided errors' leading terms gives.",
        1: "the central error does shrink with h: at h = 0.1 it is already far smaller than "
           "either one-sided error, and a smaller step removes more of it.",
    },
    "02.answer_2_2": {
        "a": "lines are where the forward difference is exact (its error holds f''); the "
             "central difference's first error term holds a higher derivative, so it is exact "
             "for more functions.",
        "b": "a cubic has f''' ≠ 0, and the central error (h**2/6)·f''' remains: the test "
             "with x**3 at h = 0.01 is not exact.",
        "d": "the cancellation is of the even powers of h in f(x + h) - f(x - h), at any x, "
             "not a symmetry of f: sin at x = 1 printed a central error of -9e-4 at h = 0.1.",
    },
    "02.answer_2_3": {0: "a slope near 0 means your errors did not change with h: your steps "
                         "sit near the bottom of the V, where round-off and truncation are "
                         "about equal; take larger steps, where truncation alone sets the "
                         "error.",
                      -1: "a negative slope means your errors grow as h shrinks: that is "
                          "round-off, on the left of the V; take larger steps.",
                      **{k: _wrong_order(k) for k in range(1, 7)}},
    "02.answer_2_4": {
        0: "x**2 is not a line, and above all float32 does not take the step you ask for: "
           "1 + 1e-7 is rounded to the nearest float32 number, whose spacing near 1 is eps.",
        1: "an error of 1 (a difference of 0) is what you get when x + h rounds to x itself; "
           "1e-7 is more than half the spacing of float32 numbers near 1, so x + h moves "
           "to the next float32 number.",
        5e-8: "that is the truncation error h·f''/(2f') alone; in float32 the step actually "
              "taken is not 1e-7, and dividing by 1e-7 is then wrong by far more.",
    },
    "02.answer_2_5": {
        "a": "both differences subtract two values of f, each rounded by about eps·|f|, so "
             "their round-off eps/h is about the same; it is their truncation terms that "
             "differ.",
        "c": "the 2h in the denominator changes the round-off by a factor of 2 only, but the "
             "table's best steps differ by a factor of about 400 (6e-6 against 1.5e-8).",
        "d": "nothing is averaged over noise here: each method's best step is where its "
             "truncation and its round-off are about equal, and the V curves of sin are "
             "smooth on their right.",
    },
}
