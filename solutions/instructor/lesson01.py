"""Lesson 01's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson01.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

``FEEDBACK`` says, for each question, why a known wrong answer is wrong (never what is
right), and ``key_answer_1_4(variant)`` is the answer of a question whose data depends on
the student's variant.
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


def dq_abs_h(f, x, h):
    h = abs(h)
    return (f(x + h) - f(x)) / h


def _section3(variant):
    """Section 3's cost and derivative at theta0 = 1 on the variant's data."""
    from gradkit.grading.lesson01 import slope_data

    X, Y, _ = slope_data(variant)
    m = X.size
    theta0 = 1.0
    return (lambda t: np.sum((t * X - Y) ** 2) / (2 * m),
            np.sum((theta0 * X - Y) * X) / m, theta0)


def key_answer_1_4(variant):
    """The first-order prediction dJ/dtheta · 0.01 at theta0 = 1, as the lesson makes it."""
    _, dcost, _ = _section3(variant)
    return float(dcost * 0.01)


def _feedback_1_4():
    # The mistakes' values differ per variant, and a number question's feedback is one
    # dict for all variants: list every variant's. Their ranges do not overlap (the
    # variants' derivatives lie within a factor 5 of each other), so no value gets the
    # feedback of another mistake.
    out = {}
    for v in range(12):
        cost, dcost, theta0 = _section3(v)
        out[float(-dcost * 0.01)] = (
            "your change has the wrong sign: the derivative your cell printed is negative, so "
            "a step to a larger theta lowers the cost.")
        out[float(dcost)] = (
            "that is the derivative itself, the change of the cost per unit of theta; the step "
            "here is a hundredth of a unit.")
        out[float(cost(theta0 + 0.01))] = (
            "that is a value of the cost, not its change: the question asks for "
            "J(theta0 + 0.01) - J(theta0).")
    return out


FEEDBACK = {
    "01.answer_1_1": {
        1.2e-2: "that is f'(2)·h, the derivative times the step: the quotient's error is what "
                "is left of the quotient after its first term, 12; expand (2 + h)**3.",
        1e-3: "that is h itself: the error is proportional to h, but with the factor the "
              "h**2 term of the expansion of (2 + h)**3 gives.",
        3e-3: "check the coefficient of h**2 in your expansion of (2 + h)**3 (binomial "
              "coefficients 1, 3, 3, 1, and powers of 2).",
        1e-6: "that is h**2, the last term of the quotient: after dividing by h, the h**2 "
              "term of (2 + h)**3 leaves a term proportional to h, which is far larger.",
        0: "the quotient is not exact for h > 0: only a straight line has a difference "
           "quotient without error, and x**3 bends.",
    },
    "01.answer_1_2": {
        "a": "that holds if f(x + h) - f(x) were computed exactly; a float keeps about 16 "
             "significant digits, and the two values share more of them the smaller h is.",
        "b": "at h = 1e-6 the error is still the truncation 6h; round-off, about "
             "eps·|f(x)|/h with eps ≈ 2e-16, is far smaller there: weigh the two at the "
             "next steps.",
        "d": "at h = 1e-12 round-off, about eps·|f(x)|/h with eps ≈ 2e-16 and f(2) = 8, "
             "is near 1e-3, far above the truncation 6h.",
    },
    "01.answer_1_3": {
        "a": "the truncation error is 6h + h**2 and shrinks with h: at h = 1e-15 it is about "
             "6e-15, not the error of 1.3 printed there.",
        "c": "h = 1e-15 is a float like any other (numbers down to about 1e-308 are), and "
             "the quotient printed there is finite: nothing divided by zero.",
        "d": "the error was 6e-6 at h = 1e-6 and 1.3 at h = 1e-15: the size of the error "
             "depends on h very much, so 'similar size' does not fit the numbers.",
    },
    "01.answer_1_4": _feedback_1_4(),
    "01.answer_1_5": {
        3: "one shifted evaluation per input is right, but a quotient f(x + h) - f(x) also "
           "needs g at the point itself: count those evaluations too.",
        6: "two evaluations per input is what a two-sided difference takes (lesson 02), or "
           "quotients that each evaluate g at the point again; these three share it.",
        1: "one evaluation is what reverse-mode AD needs; a difference quotient needs g at "
           "a shifted point for each input.",
    },
}
