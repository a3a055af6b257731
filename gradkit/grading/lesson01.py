"""Exercise specs of lesson 01, the derivative (``solutions/01_derivative.ipynb``).

- ``01.answer_1_1`` — a prediction: the quotient's error for x**3 at x = 2, h = 1e-3.
- ``01.answer_1_2`` — a prediction: which of six steps gives the smallest error.
- ``01.difference_quotient`` — a classmate's difference quotient, its two bugs found and
  fixed: any ``f``, a negative ``h``, elementwise.
- ``01.secant_line`` — slope and intercept of the secant through
  ``(x0, f(x0))`` and ``(x0 + h, f(x0 + h))``.
- ``01.answer_1_3`` — why a smaller step is not always better (a choice).
- ``01.answer_1_4`` — a change of the cost predicted from its derivative, on the data of
  the student's variant (:func:`slope_data`).
- ``01.backprop_by_hand`` — the reverse-mode (backward) pass of
  ``g(x, y, z) = (x*y + z) * sin(x)``, one local derivative per node.
- ``01.answer_1_5`` — a prediction: how many evaluations difference quotients need.

The questions' answers are the solution's answer cells (for ``01.answer_1_4``, the
instructor file's key of each variant); only hashes of them ship, in the check data.
"""

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["EXERCISES", "SLOPES", "slope_data"]

SLOPES = (3.0, 2.0, 4.0, 2.5, 5.0, 3.5, 6.0, 4.5, 2.2, 5.5, 3.2, 2.8)
"""The true slope of the one-weight data of each variant (variant 0: 3, the text's)."""


def slope_data(variant, m=50):
    """The noisy points ``y ≈ a·x`` of section 3 for a variant: ``(X, Y, a)``.

    Variant 0 is the data the text quotes (seed 0, true slope 3); the others have their
    own seed and the true slope ``SLOPES[variant]``.

    Parameters
    ----------
    variant : int
        In ``range(len(SLOPES))``.
    m : int
        The number of points.

    Returns
    -------
    X, Y : ndarray of shape (m,)
    a : float
        The true slope.
    """
    if not 0 <= int(variant) < len(SLOPES):
        raise ValueError(f"variant={variant}: choose one of 0 .. {len(SLOPES) - 1}")
    rng = np.random.default_rng(0 if variant == 0 else 1000 + int(variant))
    a = SLOPES[int(variant)]
    X = rng.uniform(-1.0, 1.0, size=m)
    Y = a * X + 0.1 * rng.standard_normal(m)
    return X, Y, a


def square(x):
    return x**2


def cube(x):
    return x**3


def _close(a, b):
    return bool(np.allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float),
                            rtol=1e-6, atol=1e-9))


_DQ = Exercise(
    id="01.difference_quotient",
    title="The difference quotient",
    function="difference_quotient",
    points=3,
    tests=[
        Test("x**2 at x = 3, h = 0.1", args=(square, 3.0, 0.1),
             shows="f(x) = x**2, x = 3.0, h = 0.1"),
        Test("sin at x = 1, h = 1e-4", args=(np.sin, 1.0, 1e-4),
             shows="f = np.sin, x = 1.0, h = 1e-4"),
        Test("exp at x = 0, negative h = -0.5", args=(np.exp, 0.0, -0.5),
             shows="f = np.exp, x = 0.0, h = -0.5"),
        Test("x**3 on an array of x, h = 1e-3", args=(cube, np.array([-1.0, 0.0, 2.0]), 1e-3),
             shows="f(x) = x**3, x = np.array([-1., 0., 2.]), h = 1e-3"),
    ],
    mistakes=[
        Mistake("you forgot to divide by h: your value is a change in f, not a change per "
                "unit of x.", wrong="dq_no_division"),
        Mistake("you divided by 2h: look at your denominator, the two points you evaluate f "
                "at are only h apart.",
                lambda a, got, e: _close(got, np.asarray(e) / 2)),
        Mistake("the sign is flipped: look at the order of the two values in your subtraction.",
                lambda a, got, e: _close(got, -np.asarray(e))),
        Mistake("for a negative h your value is the quotient of the step |h| to the right of x, "
                "or you stepped back to x - h: a negative h puts the second point to the left of "
                "x, and the quotient is the slope of the chord to that point.",
                wrong="dq_abs_h"),
        Mistake("you stepped back to x - h: compare the points you evaluate f at with the "
                "formula of Exercise 1.1.", wrong="dq_backward"),
        Mistake("you used both x + h and x - h but divided by h only: that mixes two formulas; "
                "reread which two points the quotient of Exercise 1.1 uses.",
                wrong="dq_central_over_h"),
    ],
    hint="Reread the definition at the top of section 1 and what the classmate's function "
         "printed: a numpy array x must stay an array, and the sign of h says where the second "
         "point lies; call f rather than writing a formula for one particular function.",
)

_SECANT = Exercise(
    id="01.secant_line",
    title="The secant line",
    function="secant_line",
    points=3,
    returns=("slope", "intercept"),
    tests=[
        Test("x**2 through x0 = 1 and x0 + h = 2", args=(square, 1.0, 1.0),
             shows="f(x) = x**2, x0 = 1.0, h = 1.0"),
        Test("sin through x0 = 0.5, h = 0.25", args=(np.sin, 0.5, 0.25),
             shows="f = np.sin, x0 = 0.5, h = 0.25"),
        Test("exp through x0 = -1, h = 0.5", args=(np.exp, -1.0, 0.5),
             shows="f = np.exp, x0 = -1.0, h = 0.5"),
    ],
    mistakes=[
        Mistake("return (slope, intercept) in this order; yours look swapped.",
                lambda a, got, e: _close(got, e[::-1])),
        # a wrong slope spoils the intercept too: name it first
        Mistake("the slope is wrong: reread the first sentence of section 2, which says what "
                "the secant's slope is.",
                lambda a, got, e: not _close(got[0], e[0])),
        Mistake("the intercept is the line's height at x = 0, not at x0: use that the line "
                "y = slope·x + intercept passes through (x0, f(x0)).",
                lambda a, got: _close(got[1], a[0](a[1]))),
        Mistake("the intercept has the wrong sign of its slope·x0 term: check the sign when you "
                "move that term to the other side of the line's equation.",
                wrong="secant_intercept_plus", part=1),
    ],
    hint="The line passes through (x0, f(x0)) and (x0 + h, f(x0 + h)): its slope is rise over "
         "run, and its intercept follows from the slope, one of the points and the line's "
         "equation y = slope·x + intercept.",
)


_BACKPROP = Exercise(
    id="01.backprop_by_hand",
    title="Backpropagation by hand",
    function="backprop_by_hand",
    points=4,
    tests=[
        Test("gradient at (x, y, z) = (1, 2, 3)", args=(1.0, 2.0, 3.0),
             shows="x = 1.0, y = 2.0, z = 3.0"),
        Test("gradient at (x, y, z) = (0.5, -1, 2)", args=(0.5, -1.0, 2.0),
             shows="x = 0.5, y = -1.0, z = 2.0"),
        Test("gradient at (x, y, z) = (-2, 0.3, 0)", args=(-2.0, 0.3, 0.0),
             shows="x = -2.0, y = 0.3, z = 0.0"),
    ],
    mistakes=[
        Mistake("dg/dx misses the path through sin(x): x feeds two nodes, a and c, so its "
                "gradient gets a contribution from each; add the one through c = sin(x).",
                wrong="backprop_x_only_product", part=0),
        Mistake("dg/dx misses the path through a = x * y: x feeds two nodes, a and c, so its "
                "gradient gets a contribution from each; add the one through a.",
                wrong="backprop_x_only_sin", part=0),
        Mistake("dg/dx and dg/dy look swapped: check the local derivatives of a = x * y, as in "
                "the example g = bc of the exercise text.",
                lambda a, got, e: _close([got[1], got[0]], e[:2])),
        Mistake("return three numbers, (dg_dx, dg_dy, dg_dz), in this order.",
                lambda a, got: len(got) != 3),
    ],
    hint="Walk the graph backwards from g, starting with dg/dg = 1: multiply each node's "
         "upstream gradient by its local derivative, and add up the contributions where a "
         "variable is used twice (x feeds both a = x * y and c = sin(x)).",
)

_Q11 = question(
    "01.answer_1_1", "answer_1_1", points=0.5, kind="number", digits=2, rtol=0.1,
    title="The quotient's error at h = 0.001 (a prediction)",
    hint="Expand (2 + h)**3, subtract 2**3 and divide by h: the quotient is 12 plus terms in "
         "h; its error is those terms at h = 1e-3.")

_Q12 = question(
    "01.answer_1_2", "answer_1_2", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="The step with the smallest error (a prediction)",
    hint="Weigh the two errors at each step: the truncation error shrinks with h, and the "
         "round-off of f(x + h) - f(x) grows as h shrinks.")

_Q13 = question(
    "01.answer_1_3", "answer_1_3", points=1, kind="choice", options=("a", "b", "c", "d"),
    title="Why smaller is not better",
    hint="Look at the errors printed for h = 1e-6 to 1e-15 and at what the text after them "
         "says about a float's significant digits.")

_Q14 = question(
    "01.answer_1_4", "answer_1_4", points=1, kind="number", digits=2, rtol=0.1, variants=12,
    title="A change of the cost, predicted from its derivative",
    hint="Use the first-order prediction of section 3, J(theta + delta) - J(theta) ≈ "
         "dJ/dtheta · delta, with the derivative your cell printed and delta = 0.01.")

_Q15 = question(
    "01.answer_1_5", "answer_1_5", points=0.5, kind="number", digits=0,
    title="Evaluations for three partial derivatives (a prediction)",
    hint="Count the points each difference quotient evaluates g at, and which of them all "
         "three quotients share.")

EXERCISES = [_Q11, _Q12, _DQ, _SECANT, _Q13, _Q14, _BACKPROP, _Q15]
