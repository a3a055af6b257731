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
