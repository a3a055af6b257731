"""Exercise specs of lesson 01, the derivative (``solutions/01_derivative.ipynb``).

- ``01.difference_quotient`` — the difference quotient of any ``f``, elementwise.
- ``01.secant_line`` — slope and intercept of the secant through
  ``(x0, f(x0))`` and ``(x0 + h, f(x0 + h))``.
- ``01.backprop_by_hand`` — the reverse-mode (backward) pass of
  ``g(x, y, z) = (x*y + z) * sin(x)``, one local derivative per node.
"""

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test

__all__ = ["EXERCISES"]


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
        Mistake("you stepped back to x - h: compare the points you evaluate f at with the "
                "formula of Exercise 1.1.", wrong="dq_backward"),
        Mistake("you used both x + h and x - h but divided by h only: that mixes two formulas; "
                "reread which two points the quotient of Exercise 1.1 uses.",
                wrong="dq_central_over_h"),
    ],
    hint="Reread the definition at the top of section 1 and write it with the f, x and h you "
         "are given; call f rather than writing a formula for one particular function, so any "
         "f works.",
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

EXERCISES = [_DQ, _SECANT, _BACKPROP]
