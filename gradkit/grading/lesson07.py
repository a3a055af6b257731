"""Exercise specs of lesson 07, convex and non-convex costs (``solutions/07_convexity.ipynb``).

- ``07.is_convex_on_segment`` — the chord test of convexity at ``n + 1``
  equally spaced points of a segment.
- ``07.hessian_fd`` — a Hessian from central differences of the gradient,
  column by column, symmetrized, ``theta`` left unchanged.
- ``07.classify_stationary_point`` — minimum, maximum, saddle or inconclusive
  from the eigenvalues of a symmetric Hessian, with a tolerance for zero.
- ``07.answer_7_1`` — a prediction: what the Hessian of least squares with a repeated
  feature says at its minimum (a choice).
- ``07.answer_7_2`` — is the student's own bowl ``x**2 + c sin(x)**2`` convex, and how
  many minima has it (a choice, one ``c`` per variant: :func:`bowl_coefficient`).
- ``07.answer_7_4`` — a prediction: how many more updates a start 10 times closer to a
  saddle costs (a number).
"""

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["BOWL_COEFFICIENTS", "EXERCISES", "bowl_coefficient"]


def _close(a, b, rtol=1e-6, atol=1e-9):
    try:
        x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
        return x.shape == y.shape and bool(np.allclose(x, y, rtol=rtol, atol=atol))
    except (ValueError, TypeError):
        return False


# --- 07.is_convex_on_segment ---------------------------------------------------

def _square(x):
    return float(np.sum(np.asarray(x) ** 2))


def _flat_bottom(x):
    return float(max(0.0, abs(float(x)) - 1.0))


def _one_min_nonconvex(x):
    return float(x**2 + 3 * np.sin(x) ** 2)


def _concave(x):
    return float(-(x**2))


def _rank_deficient(w):
    # least squares with two identical features: a valley of minima along w1 + w2 = 2
    w = np.asarray(w, dtype=float)
    X = np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]])
    return float(np.mean((w @ X - 2.0 * X[0]) ** 2))


def _bumped(x):
    # convex x**2 plus a narrow bump at x = 0.25: the chord test fails at t = 1/4 only
    return float(x**2 + np.exp(-200.0 * (x - 0.25) ** 2))


_CONVEX = Exercise(
    id="07.is_convex_on_segment",
    title="The chord test of convexity",
    function="is_convex_on_segment",
    points=3,
    tests=[
        Test("x**2 on [-1, 2]: convex", args=(_square, -1.0, 2.0, 10),
             shows="f(x) = x**2, a = -1, b = 2, n = 10"),
        Test("max(0, |x| - 1) on [-3, 2.5]: convex", args=(_flat_bottom, -3.0, 2.5, 20),
             shows="f(x) = max(0, |x| - 1), a = -3, b = 2.5, n = 20"),
        Test("max(0, |x| - 1) on its flat bottom [-0.8, 0.9]: f equals its chord, convex",
             args=(_flat_bottom, -0.8, 0.9, 10),
             shows="f(x) = max(0, |x| - 1), a = -0.8, b = 0.9, n = 10"),
        Test("x**2 + 3 sin(x)**2 on [0.5, 2.5]: not convex",
             args=(_one_min_nonconvex, 0.5, 2.5, 20),
             shows="f(x) = x**2 + 3 sin(x)**2, a = 0.5, b = 2.5, n = 20"),
        Test("-x**2 on [0, 1]: not convex", args=(_concave, 0.0, 1.0, 4),
             shows="f(x) = -x**2, a = 0, b = 1, n = 4"),
        Test("x**2 plus a bump at 0.25, on [0, 1]: fails at t = 1/4, not at the midpoint",
             args=(_bumped, 0.0, 1.0, 4),
             shows="f(x) = x**2 + exp(-200 (x - 0.25)**2), a = 0, b = 1, n = 4"),
        Test("least squares with a repeated feature, in 2-D: convex",
             args=(_rank_deficient, np.array([3.0, -1.0]), np.array([-2.0, 4.0]), 10),
             shows="f(w) = mean((w @ X - y)**2) with two equal rows in X, a = [3, -1], "
                   "b = [-2, 4], n = 10"),
    ],
    mistakes=[
        Mistake("-x**2 is concave, yet you said convex: the inequality looks reversed. Reread "
                "the definition of section 1: on which side of the chord may the graph lie?",
                lambda a, got: a[0] is _concave and got is True),
        Mistake("on the flat bottom f equals its chord, and equality is allowed: look at the "
                "comparison your test of a violation makes, and at the exercise's tolerance.",
                lambda a, got: a[0] is _flat_bottom and a[1] > -1 and got is False),
        Mistake("x**2 is convex but you said not: check the chord's weights. At t = 0 the "
                "chord must be at f(a), at t = 1 at f(b); is yours?",
                lambda a, got: a[0] is _square and got is False),
        Mistake("the bump at x = 0.25 sits above the chord at t = 1/4 only, and your test "
                "missed it: the exercise asks for all n + 1 values of t, not only the midpoint.",
                lambda a, got: a[0] is _bumped and got is True),
    ],
    hint="Test the inequality of section 1 at each of the n + 1 values of t the exercise "
         "names, with the tolerance it gives, and return False at the first point of the graph "
         "above the chord. a and b may be arrays.",
)


# --- 07.hessian_fd -----------------------------------------------------------------

_A = np.array([[3.0, 1.0, 0.0], [1.0, 2.0, -1.0], [0.0, -1.0, 4.0]])
_B = np.array([1.0, -2.0, 0.5])


def _quadratic_grad(theta):
    # f = theta A theta / 2 + B theta: its Hessian is A, everywhere
    return _A @ theta + _B


def _cubic_grad(theta):
    # f(x, y) = x**3 y + exp(x) y**2: third derivatives make h = 0.1 show
    x, y = theta
    return np.array([3 * x**2 * y + np.exp(x) * y**2, x**3 + 2 * np.exp(x) * y])


def _one_dim_grad(theta):
    # g(x) = x**2 + 3 sin(x)**2, g'(x) = 2x + 3 sin(2x)
    return 2 * theta + 3 * np.sin(2 * theta)


def _hessian_args(grad, theta, h):
    # built anew for each call, so that a function that changes theta in place changes a copy
    def args(rng):
        return grad, np.array(theta, dtype=float), h
    return args


def _hessian_call(fn, grad, theta, h):
    # plain values only: H, then theta as the call left it
    H = fn(grad, theta, h)
    return np.asarray(H, dtype=float), np.array(theta, dtype=float)


def _hessian_post(args, value):
    # [H, theta unchanged], judged against a fresh theta
    H, after = value
    return [H, bool(np.array_equal(args[1], np.asarray(after)))]


_ONE_SIDED = ("that is a one-sided difference, whose error shrinks like h only: difference "
              "the gradient at two points on either side of theta, whose error shrinks like "
              "h**2 (lesson 02).")
_UNSYMMETRIC = ("your H is not symmetric: its columns' truncation errors differ, and the "
                "exercise's text asks you to remove that asymmetry before returning H.")

_HESSIAN = Exercise(
    id="07.hessian_fd",
    title="A Hessian from finite differences of the gradient",
    function="hessian_fd",
    points=4,
    tests=[
        Test("a quadratic in 3 variables: H is its matrix A",
             args=_hessian_args(_quadratic_grad, [0.5, -1.0, 2.0], 1e-4), call=_hessian_call,
             post=_hessian_post,
             names=("H", "theta unchanged"),
             shows="grad(theta) = A @ theta + b with A = [[3, 1, 0], [1, 2, -1], [0, -1, 4]], "
                   "theta = [0.5, -1, 2], h = 1e-4 (returns H, and whether theta is unchanged)"),
        Test("x**3 y + exp(x) y**2 with h = 0.1: central and symmetrized",
             args=_hessian_args(_cubic_grad, [1.0, 0.5], 0.1), call=_hessian_call,
             post=_hessian_post,
             names=("H", "theta unchanged"),
             shows="grad of f(x, y) = x**3 y + exp(x) y**2, theta = [1, 0.5], h = 0.1 "
                   "(returns H, and whether theta is unchanged)"),
        Test("one parameter: a 1 x 1 Hessian, here negative",
             args=_hessian_args(_one_dim_grad, [1.2], 1e-3), call=_hessian_call,
             post=_hessian_post,
             names=("H", "theta unchanged"),
             shows="grad(x) = 2x + 3 sin(2x), theta = [1.2], h = 1e-3 "
                   "(returns H of shape (1, 1), and whether theta is unchanged)"),
    ],
    mistakes=[
        Mistake("theta was changed by your function: build each shifted point as a new array "
                "instead of changing theta's entries. Adding h and subtracting it again does "
                "not always give back the same float.",
                lambda a, got: got[1] is False),
        Mistake("H should be the full n x n matrix (a whole column for each theta_j), not one "
                "number per parameter.",
                lambda a, got: np.asarray(got[0]).shape != (np.size(a[1]), np.size(a[1]))),
        Mistake("your H is twice too large: look at what you divide the central difference "
                "by, and at how far apart its two points are.",
                lambda a, got, e: _close(got[0], 2 * np.asarray(e[0]))),
        # one hint for the forward and backward differences, symmetrized or not
        Mistake(_ONE_SIDED, wrong="hessian_forward", part=0),
        Mistake(_ONE_SIDED, wrong="hessian_backward", part=0),
        Mistake(_ONE_SIDED, wrong="hessian_forward_symmetrized", part=0),
        Mistake(_ONE_SIDED, wrong="hessian_backward_symmetrized", part=0),
        Mistake(_UNSYMMETRIC, wrong="hessian_unsymmetrized", part=0),
        Mistake(_UNSYMMETRIC, wrong="hessian_unsymmetrized_transposed", part=0),
    ],
    hint="Build H column by column: column j from two gradients, at theta shifted by h "
         "either way along theta_j (new arrays, so that theta is left unchanged), divided by "
         "the distance between the two points; then make it symmetric as the text says, and "
         "return it with shape (n, n).",
)


# --- 07.classify_stationary_point --------------------------------------------------

_MIX = np.array([[1.0, 2.0, 0.0], [1.0, 1.0, 3.0], [2.0, 0.0, 1.0]])
_KINDS = ("minimum", "maximum", "saddle", "inconclusive")


def _rotated(*eigenvalues):
    # Q diag(eigenvalues) Q.T for a fixed rotation Q: the same eigenvalues, a full matrix
    Q = np.linalg.qr(_MIX[:len(eigenvalues), :len(eigenvalues)])[0]
    return Q @ np.diag(eigenvalues) @ Q.T


_CLASSIFY = Exercise(
    id="07.classify_stationary_point",
    title="What kind of stationary point?",
    function="classify_stationary_point",
    points=4,
    tests=[
        Test("positive definite: a minimum", args=(np.array([[2.0, 0.5], [0.5, 1.0]]), 1e-8),
             shows="H = [[2, 0.5], [0.5, 1]], tol = 1e-8"),
        Test("negative definite: a maximum",
             args=(np.array([[-2.0, -1.0], [-1.0, -2.0]]), 1e-8),
             shows="H = [[-2, -1], [-1, -2]], tol = 1e-8"),
        Test("positive diagonal, eigenvalues 4 and -2: a saddle",
             args=(np.array([[1.0, 3.0], [3.0, 1.0]]), 1e-8),
             shows="H = [[1, 3], [3, 1]], tol = 1e-8"),
        Test("negative diagonal, eigenvalues 1 and -3: a saddle",
             args=(np.array([[-1.0, 2.0], [2.0, -1.0]]), 1e-8),
             shows="H = [[-1, 2], [2, -1]], tol = 1e-8"),
        Test("eigenvalues -1, -2, 3 (determinant > 0): a saddle",
             args=(_rotated(-1.0, -2.0, 3.0), 1e-8),
             shows="H = Q diag(-1, -2, 3) Q.T for a rotation Q, tol = 1e-8"),
        Test("eigenvalues -2, 0, 3: a zero does not hide a saddle",
             args=(np.diag([-2.0, 0.0, 3.0]), 1e-8), shows="H = diag(-2, 0, 3), tol = 1e-8"),
        Test("eigenvalues -1, -2 and 1e-12: zero within tol, inconclusive",
             args=(np.diag([-1.0, -2.0, 1e-12]), 1e-8),
             shows="H = diag(-1, -2, 1e-12), tol = 1e-8"),
        Test("eigenvalues -2, -3 and -1e-10: zero within tol, inconclusive",
             args=(_rotated(-2.0, -3.0, -1e-10), 1e-8),
             shows="H = Q diag(-2, -3, -1e-10) Q.T for a rotation Q, tol = 1e-8"),
        Test("all zero (a plateau): inconclusive", args=(np.zeros((3, 3)), 1e-8),
             shows="H = np.zeros((3, 3)), tol = 1e-8"),
    ],
    mistakes=[
        Mistake("return exactly one of the strings 'minimum', 'maximum', 'saddle', "
                "'inconclusive'.",
                lambda a, got: got not in _KINDS),
        Mistake("minimum and maximum are swapped: think about which way the cost curves, in "
                "every direction, when all the eigenvalues are positive.",
                lambda a, got, e: {"minimum": "maximum", "maximum": "minimum"}.get(e) == got),
        Mistake("the sign of the determinant is the product of the eigenvalues' signs: two "
                "negative eigenvalues cancel in it. Look at the eigenvalues themselves.",
                wrong="classify_by_determinant"),
        Mistake("a zero eigenvalue does not hide a saddle: the eigenvalues that are not zero "
                "can still say saddle, so test for the saddle first.",
                lambda a, got, e: got == "inconclusive" and e == "saddle"),
        Mistake("an eigenvalue within tol of 0 counts as zero, a flat direction, and you took "
                "its sign at face value. Compare with tol, not with 0.",
                lambda a, got, e: e == "inconclusive"),
        Mistake("that is what the diagonal of H says, but the diagonal gives the curvature "
                "along the axes only: [[1, 3], [3, 1]] curves up along both axes and down "
                "along (1, -1). Section 3 says what gives the curvature along every direction.",
                wrong="classify_by_diagonal"),
    ],
    hint="Read the signs of the eigenvalues of the symmetric H, as the curvature along "
         "every direction lies between the smallest and the largest of them, counting "
         "those within tol of 0 as zero; decide the saddle case before the others.",
)

# --- the questions ----------------------------------------------------------------

_VALLEY = question(
    "07.answer_7_1", "answer_7_1", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="Predict: the Hessian of a valley of minima",
    hint="Not this one: reread what the five runs' final weights and costs had in common.")

#: the c of each variant's bowl g(x) = x**2 + c sin(x)**2; variant 0 is the lesson's own g
BOWL_COEFFICIENTS = (3.0, 0.5, 0.8, 2.0, 2.5, 3.5, 4.0, 6.0, 7.0, 8.0, 10.0, 0.3)


def bowl_coefficient(variant):
    """The ``c`` of the bowl ``g(x) = x**2 + c sin(x)**2`` of ``variant`` (a float)."""
    return BOWL_COEFFICIENTS[int(variant)]


_BOWL = question(
    "07.answer_7_2", "answer_7_2", points=1, kind="choice", options=("a", "b", "c", "d"),
    variants=len(BOWL_COEFFICIENTS), title="Your own bowl: convex? how many minima?",
    hint="Not this one: test your g as section 4 tested its g, both ways: its curvature, "
         "and its stationary points.")

_ESCAPE = question(
    "07.answer_7_4", "answer_7_4", points=0.5, kind="number", digits=2, rtol=0.15,
    title="Predict: the time to leave a saddle",
    hint="Not this one: after k updates the part along that eigenvector has grown by a "
         "factor of 1.313 to the power k; how large must k be for a factor of 10?")

EXERCISES = [_CONVEX, _HESSIAN, _CLASSIFY, _VALLEY, _BOWL, _ESCAPE]
