"""Exercise specs of lesson 02, finite differences (``solutions/02_finite_differences.ipynb``).

- ``02.forward_difference`` — the one-sided difference, error O(h), as a chord's slope.
- ``02.central_difference`` — the two-sided difference, error O(h²), derived as the slope
  of the chord through both neighbours before its formula is shown.
- ``02.answer_2_1`` — a prediction: how much the central error shrinks per ten-fold step.
- ``02.answer_2_2`` — for which functions the central difference is exact (a choice).
- ``02.loglog_slope`` — the order ``p`` of a method, from measured errors ``≈ C·h^p``.
- ``02.answer_2_3`` — the order of the student's own mystery difference
  (:func:`mystery_difference`), measured on steps the student chooses.
- ``02.answer_2_4`` — a prediction: the float32 forward difference's error with h = 1e-7.
- ``02.answer_2_5`` — why the two-sided difference's best step is larger (a choice).
- ``02.complex_step`` — the complex-step derivative, derived from the expansion of
  ``f(x + ih)`` before its formula is shown.

The reference answers are the solution notebook's answer cells; what a typical
mistake returns, where that takes a near-copy of an answer, is in
``solutions/instructor/lesson02.py``.

The lesson's plots and its widget use one plain helper, :func:`step_errors`
(the relative error of a difference at each step, computed in float64 or
float32), on the functions of :data:`EXAMPLES`. The questions' answers are the
solution's answer cells (for ``02.answer_2_3``, the instructor file's key of each
variant); only hashes of them ship, in the check data.
"""

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test, question
from gradkit.numgrad import combine

__all__ = [
    "EXAMPLES",
    "EXERCISES",
    "MYSTERIES",
    "mystery_difference",
    "step_errors",
]


def _cube(x):
    return x**3


def _dcube(x):
    return 3 * x**2


def _dtanh(x):
    return 1 - np.tanh(x) ** 2


EXAMPLES = {
    "sin(x) at x = 1": (np.sin, np.cos, 1.0),
    "exp(x) at x = 1": (np.exp, np.exp, 1.0),
    "tanh(x) at x = 0.5": (np.tanh, _dtanh, 0.5),
    "x**3 at x = 2": (_cube, _dcube, 2.0),
}
"""name -> (f, its exact derivative, the point): the functions of the lesson's widget."""

_METHODS = ("forward", "backward", "central", "complex")


def _difference(f, x, h, method):
    """The derivative of ``f`` at ``x`` by ``method``, in the dtype of ``x`` and ``h``."""
    if method == "complex":
        # the imaginary part carries h·f'(x): nothing is subtracted, so nothing cancels
        return f(x + 1j * h).imag / h
    # gradkit's stencils, Σ w·f(x + k·h) / h: each of these takes two of the offsets -1, 0, 1
    return combine({k: f(x + k * h) for k in (-1, 0, 1)}, h, method)


def step_errors(f, dfdx, x, hs, method="central", dtype="float64"):
    """Relative error of a difference of ``f`` at ``x``, one per step in ``hs``.

    Everything (``x``, the steps, ``f``'s values, the difference) is computed
    in ``dtype``, so float32 shows its own round-off; the exact derivative is
    taken in float64. (``gradkit.numerical_gradient`` always differences
    float64 copies, so it cannot draw the float32 curve.)

    Parameters
    ----------
    f, dfdx : callable
        The function and its exact derivative, vectorized over numpy arrays
        (``np.sin``, ``np.cos``, ...). ``f`` must keep the dtype of its input.
    x : float
        The point; ``dfdx(x)`` must not be 0.
    hs : array_like of shape (k,)
        The steps.
    method : {"forward", "backward", "central", "complex"}
    dtype : {"float64", "float32"} or numpy float dtype

    Returns
    -------
    ndarray of shape (k,)
        ``|difference - f'(x)| / |f'(x)|`` in float64.

    Raises
    ------
    ValueError
        For an unknown method, a non-float dtype, or ``f'(x) = 0``.

    Examples
    --------
    >>> err = step_errors(np.sin, np.cos, 1.0, [1e-2, 1e-3], "forward")
    >>> bool(9 < err[0] / err[1] < 11)  # O(h): ten times smaller step, ten times smaller error
    True
    """
    if method not in _METHODS:
        raise ValueError(f"method={method!r}: choose one of {', '.join(map(repr, _METHODS))}")
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise ValueError(
            f"dtype={dtype.name!r}: choose a float dtype such as 'float64' or 'float32'")
    exact = float(dfdx(float(x)))
    if exact == 0:
        raise ValueError(
            f"f'({x}) = 0: a relative error needs a nonzero derivative; pick another x")
    # Arrays, not scalars: numpy keeps an array's dtype through every operation.
    steps = np.asarray(hs, dtype=dtype).reshape(-1)
    xs = np.full(steps.shape, x, dtype=dtype)
    approx = np.asarray(_difference(f, xs, steps, method), dtype=np.float64)
    return np.abs(approx - exact) / abs(exact)


MYSTERIES = (
    {0: -1.5, 1: 2.0, 2: -0.5},
    {0: -1.0, 1: 1.0},
    {-2: 1 / 12, -1: -2 / 3, 1: 2 / 3, 2: -1 / 12},
    {0: -11 / 6, 1: 3.0, 2: -1.5, 3: 1 / 3},
    {-1: -1.0, 0: 1.0},
    {-2: -0.25, 2: 0.25},
    {0: 1.5, -1: -2.0, -2: 0.5},
    {-1: -1 / 3, 0: -0.5, 1: 1.0, 2: -1 / 6},
    {0: -0.5, 2: 0.5},
    {0: 11 / 6, -1: -3.0, -2: 1.5, -3: -1 / 3},
    {-1: -0.5, 1: 0.5},
    {-2: 1 / 6, -1: -1.0, 0: 0.5, 1: 1 / 3},
)
"""The weights ``{k: w}`` of each variant's mystery difference ``Σ w·f(x + k·h) / h``."""


def mystery_difference(variant):
    """The mystery difference of a variant: a function ``(f, x, h) -> estimate of f'(x)``.

    It evaluates ``f`` at ``x + k·h`` for the offsets ``k`` of
    ``MYSTERIES[variant]`` and returns ``Σ w·f(x + k·h) / h``, elementwise for
    arrays ``x`` and ``h``. Its order is for the student to measure.

    Raises
    ------
    ValueError
        For a variant outside ``0 .. len(MYSTERIES) - 1``.
    """
    if not 0 <= int(variant) < len(MYSTERIES):
        raise ValueError(f"variant={variant}: choose one of 0 .. {len(MYSTERIES) - 1}")
    weights = MYSTERIES[int(variant)]

    def mystery(f, x, h):
        return sum(w * f(x + k * h) for k, w in weights.items()) / h

    return mystery


def _square(x):
    return x**2


def _close(a, b, rtol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    if np.iscomplexobj(a) != np.iscomplexobj(b) or a.shape != b.shape:
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=0.0))


_X3 = np.array([-1.0, 0.5, 2.0])

# a wrong= mistake is as close as _close asks: relative 1e-6, no absolute slack
_EXACT = {"rtol": 1e-6, "atol": 0.0}

_FORWARD = Exercise(
    id="02.forward_difference",
    title="The forward difference",
    function="forward_difference",
    points=1,
    tests=[
        Test("sin at x = 1, h = 1e-3", args=(np.sin, 1.0, 1e-3),
             shows="f = np.sin, x = 1.0, h = 1e-3"),
        Test("exp at x = 0, h = 0.1", args=(np.exp, 0.0, 0.1),
             shows="f = np.exp, x = 0.0, h = 0.1"),
        Test("x**3 on an array of x, h = 0.01", args=(_cube, _X3, 0.01),
             shows="f(x) = x**3, x = np.array([-1., 0.5, 2.]), h = 0.01"),
    ],
    mistakes=[
        Mistake("you used both neighbours: that is the central difference of the next "
                "exercise; a one-sided difference uses x itself and one neighbour (section 1).",
                wrong="central", **_EXACT),
        Mistake("you stepped back to x - h: that is the backward difference; the forward one "
                "takes its neighbour on the other side of x (section 1).",
                wrong="backward", **_EXACT),
        Mistake("you forgot to divide by h: your value is a change in f, not a slope.",
                wrong="forward_not_divided", **_EXACT),
        Mistake("you divided by 2h: look at your denominator, the two points are only h apart.",
                lambda a, got, e: _close(got, np.asarray(e) / 2)),
        Mistake("the sign is flipped: look at the order of the two values in your subtraction.",
                lambda a, got, e: _close(got, -np.asarray(e))),
    ],
    hint="Reread the forward chord in section 1: its slope is its rise over its run; write "
         "it with the f, x and h you are given, and call f rather than writing a formula for "
         "one function.",
)

_ONE_SIDED = ("you computed a one-sided difference: your error shrinks like h, not h². "
              "Use the neighbours on both sides of x, so that the h·f''/2 terms cancel "
              "(section 2).")

_CENTRAL = Exercise(
    id="02.central_difference",
    title="The central (two-sided) difference",
    function="central_difference",
    points=3,
    tests=[
        Test("sin at x = 1, h = 0.1", args=(np.sin, 1.0, 0.1),
             shows="f = np.sin, x = 1.0, h = 0.1"),
        Test("exp at x = 0, h = 0.25", args=(np.exp, 0.0, 0.25),
             shows="f = np.exp, x = 0.0, h = 0.25"),
        Test("x**3 on an array of x, h = 0.01", args=(_cube, _X3, 0.01),
             shows="f(x) = x**3, x = np.array([-1., 0.5, 2.]), h = 0.01"),
        Test("x**2 at x = 3, h = 2: exact for any h", args=(_square, 3.0, 2.0),
             shows="f(x) = x**2, x = 3.0, h = 2.0"),
    ],
    mistakes=[
        Mistake(_ONE_SIDED, wrong="forward", **_EXACT),
        Mistake(_ONE_SIDED, wrong="backward", **_EXACT),
        Mistake("your values are twice too large: the run of the chord is the distance "
                "between its two points, x - h and x + h.",
                lambda a, got, e: _close(got, 2 * np.asarray(e))),
        Mistake("you forgot to divide by the chord's run: your value is a rise, not a slope.",
                wrong="central_not_divided", **_EXACT),
        Mistake("the sign is flipped: look at the order of the two values in your subtraction.",
                lambda a, got, e: _close(got, -np.asarray(e))),
    ],
    hint="Reread the central chord in section 1: it joins the neighbours on both sides of x, "
         "and its slope is its rise over its run, the distance between those two points.",
)


def _fwd_errors_of_sin():
    hs = np.logspace(-4, -1, 7)
    return hs, abs(np.cos(1.0)) * step_errors(np.sin, np.cos, 1.0, hs, "forward")


def _noisy_power_law(rng):
    hs = np.logspace(-6, -1, 11)
    return hs, 0.5 * hs**2 * np.exp(0.3 * rng.standard_normal(hs.size))


_SLOPE = Exercise(
    id="02.loglog_slope",
    title="The order of a method from a log-log plot",
    function="loglog_slope",
    points=2,
    tests=[
        Test("errors = 3 h² exactly", args=(np.array([1e-1, 1e-2, 1e-3]), 3 * np.array(
            [1e-1, 1e-2, 1e-3]) ** 2), shows="hs = [0.1, 0.01, 0.001], errors = 3 * hs**2"),
        Test("measured forward-difference errors of sin at x = 1", args=_fwd_errors_of_sin(),
             shows="hs = np.logspace(-4, -1, 7), errors of forward_difference(np.sin, 1.0, hs)"),
        Test("errors = 0.5 h² with random scatter", args=_noisy_power_law, seed=2,
             shows="hs = np.logspace(-6, -1, 11), errors = 0.5 * hs**2 * exp(0.3 * noise)"),
    ],
    mistakes=[
        Mistake("return the slope only: np.polyfit(x, y, 1) returns [slope, intercept].",
                lambda a, got: np.size(got) == 2),
        Mistake("your value is 1/p, the slope with the axes swapped: check which of hs and "
                "errors belongs on the horizontal axis of the log-log plot of section 3.",
                lambda a, got, e: _close(got, 1 / float(e), 1e-4)),
        Mistake("you used only the first and last points: the exercise asks for a least-squares "
                "fit through all points, so that one noisy point matters less.",
                wrong="slope_of_endpoints", rtol=1e-4, atol=0.0),
        Mistake("your slope is not the order of a method: a power law C·h^p is a straight line "
                "only on a log-log plot, so check what you fit the line to (section 3).",
                lambda a, got: not 0.5 < float(got) < 5),
    ],
    hint="Section 3 says why the order p is the slope of a straight line on a log-log plot: "
         "fit that line through all the points by least squares and return its slope as a "
         "float.",
)

_COMPLEX = Exercise(
    id="02.complex_step",
    title="The complex step",
    function="complex_step",
    points=3,
    tests=[
        Test("sin at x = 1 with the default h = 1e-20", args=(np.sin, 1.0),
             shows="f = np.sin, x = 1.0 (h left at its default)"),
        Test("exp on an array of x, default h", args=(np.exp, _X3),
             shows="f = np.exp, x = np.array([-1., 0.5, 2.])"),
        Test("x**3 at x = 2 with a large h = 0.1", args=(_cube, 2.0, 0.1),
             shows="f(x) = x**3, x = 2.0, h = 0.1 (the answer is 3x² - h² = 11.99)"),
    ],
    mistakes=[
        Mistake("your result is complex: the function must return a real number, and section 5 "
                "says which part of f(x + ih) carries h·f'(x).",
                lambda a, got: np.iscomplexobj(got)),
        Mistake("your value is h times the derivative: in the expansion of section 5 the "
                "imaginary part carries h·f'(x), not f'(x).", wrong="complex_not_divided",
                **_EXACT),
        Mistake("you got 0: the step must be imaginary, not real; with h = 1e-20 a real step "
                "does not even change x, and a real f(x) has no imaginary part.",
                lambda a, got: bool(np.all(np.asarray(got) == 0))),
        Mistake("that is a real finite difference: the complex step evaluates f once, at a "
                "complex point, and subtracts nothing (section 5).",
                wrong="complex_as_forward", **_EXACT),
        Mistake("you took the real part (or the absolute value) of f(x + ih): in the expansion "
                "of section 5 that part is f(x) plus O(h²); look for the part that carries "
                "f'(x).", wrong="complex_real_part", **_EXACT),
    ],
    hint="Evaluate f once at a complex point, as in section 5, keep the part of the result "
         "that carries h·f'(x), and return a real value; use the h you are given.",
)

_Q21 = question(
    "02.answer_2_1", "answer_2_1", points=0.5, kind="number", digits=0, rtol=0.1,
    title="How fast the central error shrinks (a prediction)",
    hint="Compare the forward and backward errors' sizes and signs at each step: what is left "
         "of them when the two are averaged?")

_Q22 = question(
    "02.answer_2_2", "answer_2_2", points=1, kind="choice", options=("a", "b", "c", "d"),
    title="Where the central difference is exact",
    hint="Look at the central difference's error term in section 2: which derivative of f "
         "does it hold, and for which functions is that derivative 0 everywhere?")

_Q23 = question(
    "02.answer_2_3", "answer_2_3", points=1, kind="number", digits=0, variants=12,
    title="The order of your mystery difference",
    hint="Measure errors of your mystery difference of sin at x = 1 on steps where they lie "
         "on a straight line on log-log axes (truncation only), fit its slope with "
         "loglog_slope, and round it to a whole number.")

_Q24 = question(
    "02.answer_2_4", "answer_2_4", points=0.5, kind="number", digits=2, rtol=0.1,
    title="A float32 step of 1e-7 (a prediction)",
    hint="Work out which float32 number 1 + 1e-7 rounds to (the spacing of float32 numbers "
         "near 1 is their eps), and what the difference of x**2 is then divided by.")

_Q25 = question(
    "02.answer_2_5", "answer_2_5", points=1, kind="choice", options=("a", "b", "c", "d"),
    title="Why the two-sided difference takes a larger step",
    hint="The best step is where truncation and round-off are about equal: compare the two "
         "methods' truncation and round-off terms in section 4.")

EXERCISES = [_FORWARD, _CENTRAL, _Q21, _Q22, _SLOPE, _Q23, _Q24, _Q25, _COMPLEX]
