"""Lesson 07's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson07.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them. A function
that does not apply to a test's input raises, and then does not match.

The ``07.hessian_fd`` tests compare ``[H, theta unchanged]``; its mistakes return
that pair, matched on ``H`` (``part=0``).
"""

import numpy as np


def _columns(grad, theta, h, kind):
    theta = np.asarray(theta, dtype=float)
    n = theta.size
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        if kind == "forward":
            H[:, j] = (grad(theta + e) - grad(theta)) / h
        elif kind == "backward":
            H[:, j] = (grad(theta) - grad(theta - e)) / h
        else:
            H[:, j] = (grad(theta + e) - grad(theta - e)) / (2 * h)
    return H


def hessian_forward(grad, theta, h):
    return [_columns(grad, theta, h, "forward"), True]


def hessian_backward(grad, theta, h):
    return [_columns(grad, theta, h, "backward"), True]


def hessian_forward_symmetrized(grad, theta, h):
    H = _columns(grad, theta, h, "forward")
    return [(H + H.T) / 2, True]


def hessian_backward_symmetrized(grad, theta, h):
    H = _columns(grad, theta, h, "backward")
    return [(H + H.T) / 2, True]


def _unsymmetrized(grad, theta, h):
    H = _columns(grad, theta, h, "central")
    if np.allclose(H, H.T, rtol=1e-6, atol=1e-9):
        raise ValueError("the central differences are symmetric here: nothing to tell apart")
    return H


def hessian_unsymmetrized(grad, theta, h):
    return [_unsymmetrized(grad, theta, h), True]


def hessian_unsymmetrized_transposed(grad, theta, h):
    return [_unsymmetrized(grad, theta, h).T, True]


def _by_eigenvalue_signs(values, tol):
    values = np.asarray(values, dtype=float)
    if np.any(values > tol) and np.any(values < -tol):
        return "saddle"
    if np.all(values > tol):
        return "minimum"
    if np.all(values < -tol):
        return "maximum"
    return "inconclusive"


def classify_by_determinant(H, tol):
    # the 2-variable test (det < 0 saddle, det > 0 min or max by H[0, 0]) used in n-D,
    # named only where no rule without a tolerance gives the same answer
    H = np.asarray(H, dtype=float)
    d = np.linalg.det(H)
    if d < 0:
        found = "saddle"
    elif d > 0:
        found = "minimum" if H[0, 0] > 0 else "maximum"
    else:
        raise ValueError("det(H) = 0: the determinant rule says nothing")
    if found == _by_eigenvalue_signs(np.linalg.eigvalsh(H), 0.0):
        raise ValueError("the eigenvalues with tol = 0 give the same answer")
    return found


def classify_by_diagonal(H, tol):
    # the eigenvalue rule applied to the diagonal of H, the curvatures along the axes
    return _by_eigenvalue_signs(np.diag(np.asarray(H, dtype=float)), tol)


def key_answer_7_2(variant):
    """The letter of the bowl of ``variant``, found as section 4 finds it for its g: the
    smallest g'' on a grid (convex or not) and the sign changes of g' (how many
    stationary points; every one lies in |x| <= c / 2, inside the grid)."""
    from gradkit.grading.lesson07 import bowl_coefficient

    c = bowl_coefficient(variant)
    xs = np.linspace(-6, 6, 2000)  # an even count: the grid avoids x = 0 itself
    g_prime = 2 * xs + c * np.sin(2 * xs)
    one = int(np.sum(np.diff(np.sign(g_prime)) != 0)) == 1
    convex = float(np.min(2 + 2 * c * np.cos(2 * xs))) >= 0
    return _BOWL_LETTERS[(convex, one)]


_BOWL_LETTERS = {(True, True): "a", (True, False): "b", (False, True): "c", (False, False): "d"}
_BOWL_CLAIMS = {letter: claim for claim, letter in _BOWL_LETTERS.items()}


def _bowl_feedback(option, answer, variant):
    # which half of the claim the evidence contradicts, never what the evidence says
    if option == answer or option not in _BOWL_CLAIMS:
        return None
    (convex, one), (is_convex, has_one) = _BOWL_CLAIMS[option], _BOWL_CLAIMS[answer]
    said = []
    if convex and not is_convex:
        said.append("a convex g has g'' >= 0 everywhere and passes every chord test: look "
                    "for the smallest g'' of your g on a grid, or a failing segment.")
    if is_convex and not convex:
        said.append("to be not convex, your g needs a point where g'' < 0, or a segment "
                    "whose chord test fails: find one before you claim it.")
    if one and not has_one:
        said.append("count the sign changes of your g' on a grid wide enough to hold every "
                    "stationary point (2x = -c sin 2x keeps them within |x| <= c/2).")
    if has_one and not one:
        said.append("several minima need several sign changes of g': count those of your "
                    "g' on a grid wide enough (every stationary point lies within |x| <= c/2).")
    return " ".join(said) or None


FEEDBACK = {
    "07.answer_7_1": {
        "a": "two positive eigenvalues would curve the cost up in every direction and allow "
             "one minimizer only; the five runs ended at different weights with the same cost.",
        "c": "a negative eigenvalue would let the cost go below the runs' common final cost "
             "along some direction; least squares is convex.",
        "d": "the classifier counts an eigenvalue within tol of 0 as zero: reread the rule of "
             "Exercise 7.3 for what a zero makes of the point.",
    },
    "07.answer_7_2": _bowl_feedback,
    "07.answer_7_4": {
        3.2: "that is 1 / 0.313, the updates for the part along the eigenvector to grow by "
             "0.313 times itself once, not by a factor of 10.",
        2.3: "that is log 10 alone: divide by the log of what one update multiplies the part "
             "by.",
        0.12: "that is log10(1.313), the growth of one update on a log scale; the question "
              "asks for how many updates make a factor of 10.",
        1.3: "that is the factor of one update; the question asks for how many updates make "
             "a factor of 10.",
    },
}
