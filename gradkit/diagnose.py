"""Why a tensor's gradient is wrong: match the error against the patterns of common bugs.

Given the analytic gradient ``a``, the numeric one ``n`` and the parameter
``x`` (all the same shape), the first pattern that explains the error ``a − n`` up to a
residual of ``PATTERN_RTOL·‖a − n‖`` wins:

=============  ==============================  =====================================
kind           pattern                         typical bug
=============  ==============================  =====================================
zero           a = 0, n ≠ 0                    d{x} never filled, wrong key
sign           a ≈ −n                          Y − A instead of A − Y
scale          a ≈ c·n (value c)               a forgotten 1/m, a doubled term
transpose      a ≈ nᵀ (square x)               A_prev @ dZ.T instead of dZ @ A_prev.T
missing_l2     n − a ≈ k·x, k > 0 (value k)    L2 in the cost, not in the gradient
extra_l2       a − n ≈ k·x, k > 0 (value k)    L2 in the gradient, not in the cost
mismatch       none of these                   anything else
=============  ==============================  =====================================
"""

import numpy as np

from gradkit.report import Finding

__all__ = ["PATTERN_RTOL", "diagnose", "kink_message"]

PATTERN_RTOL = 1e-2  # a pattern fits when it explains all but this much of the error


def _fit(target, basis, error_norm):
    """Least-squares c in target ≈ c·basis, and the residual relative to the error ‖a − n‖.

    Measuring the residual against the error (not against ‖a‖) keeps a
    single wrong entry from passing as "a ≈ 1.000001 × n".
    """
    bb = float(np.sum(basis * basis))
    if bb == 0 or error_norm == 0:
        return 0.0, np.inf
    c = float(np.sum(target * basis) / bb)
    return c, float(np.linalg.norm(target - c * basis) / error_norm)


def _factor_hint(c):
    """What a scale factor usually means."""
    for k, hint in ((2.0, "a doubled term (differentiating x² as 2x twice, or ½ forgotten)"),
                    (0.5, "a missing factor 2 (or an extra ½)")):
        if abs(c - k) < 1e-2 * k:
            return hint
    r = round(c)
    if r >= 3 and abs(c - r) < 1e-3 * r:
        return f"a forgotten 1/m: is m = {r} the number of examples?"
    r = round(1 / c) if c != 0 else 0
    if r >= 3 and abs(1 / c - r) < 1e-3 * r:
        return f"dividing by m twice: is m = {r} the number of examples?"
    return "a constant factor such as 1/m, 2 or keep_prob"


def _worst_text(name, a, n):
    diff = np.abs(a - n)
    k = int(np.argmax(diff))
    index = list(int(i) for i in np.unravel_index(k, a.shape))
    return f"{name}{index}: analytic {a.flat[k]:.6g}, numeric {n.flat[k]:.6g}"


def diagnose(name, a, n, x, rel, tol, atol, trust=None):
    """The Finding that explains why tensor ``name`` fails.

    Parameters
    ----------
    name : str
    a, n, x : ndarray, same shape
        Analytic gradient, numeric gradient, the parameter itself.
    rel : float
        The tensor's relative error.
    tol : float
        The tolerance it exceeds.
    atol : ndarray or float
        Round-off level per entry (entries closer than this agree).
    trust : ndarray of bool, optional
        Entries whose numeric value is smooth (no kink within the step). The
        patterns are fitted on these only, so a kink does not hide a factor.

    Returns
    -------
    Finding
    """
    e_norm = float(np.linalg.norm(a - n))
    if trust is not None and trust.sum() >= max(2, trust.size // 2) and not trust.all():
        # Fit the patterns on the kink-free entries, if they carry the error.
        if float(np.linalg.norm((a - n)[trust])) >= 0.5 * e_norm and np.any(a[trust]):
            fit = diagnose(name, a[trust], n[trust], x[trust], rel, tol,
                           atol[trust] if np.ndim(atol) else atol)
            if fit.kind in ("scale", "sign", "missing_l2", "extra_l2"):
                return fit
    n_norm = float(np.linalg.norm(n))
    if not np.any(a) and n_norm > 0:
        return Finding(
            "zero", name,
            f"{name}: the analytic gradient is all zeros but the numeric one is not "
            f"(norm {n_norm:.3g}): the backward pass never fills d{name}. Is it left at "
            "np.zeros, or stored under another key?", value=0.0)
    c, res = _fit(a, n, e_norm)
    if res < PATTERN_RTOL and abs(c - 1) > 10 * tol:
        if abs(c + 1) < 1e-2:
            return Finding(
                "sign", name,
                f"{name}: the analytic gradient has the wrong sign (it is −1 × the numeric "
                "one); descent with it would climb the cost. Look for a dropped minus, "
                "e.g. Y − A written for A − Y.", value=c)
        return Finding(
            "scale", name,
            f"{name}: the analytic gradient is {c:.4g} × the numeric one: look for "
            f"{_factor_hint(c)} in the backward pass of {name}.", value=c)
    if a.ndim == 2 and a.shape[0] == a.shape[1] and a.shape[0] > 1:
        _, res_t = _fit(a, n.T, e_norm)
        if res_t < PATTERN_RTOL:
            return Finding(
                "transpose", name,
                f"{name}: the analytic gradient is the transpose of the numeric one. "
                "For W of shape (n_l, n_(l-1)), dW = dZ @ A_prev.T, not A_prev @ dZ.T "
                "(a square W hides this from the shape check).", value=1.0)
    k, res_l2 = _fit(n - a, x, e_norm)
    if res_l2 < PATTERN_RTOL and k != 0:
        if k > 0:
            return Finding(
                "missing_l2", name,
                f"{name}: numeric − analytic = {k:.4g} × {name} itself: the L2 term is in "
                f"the cost but missing from the gradient. Add (lambd/m)·{name} to "
                f"d{name} (here lambd/m ≈ {k:.4g}).", value=k)
        return Finding(
            "extra_l2", name,
            f"{name}: analytic − numeric = {-k:.4g} × {name} itself: the gradient has an "
            "L2 term that the cost does not. Add lambd/(2m)·Σ‖W‖² to the cost, or drop "
            f"(lambd/m)·{name} from the gradient.", value=-k)
    bad = np.abs(a - n) > np.maximum(tol * (np.abs(a) + np.abs(n)), atol)
    return Finding(
        "mismatch", name,
        f"{name}: the analytic gradient is wrong (relative error {rel:.2e}) and no simple "
        f"pattern (scale, sign, transpose, L2) explains it. {int(bad.sum())} of {a.size} "
        f"entries disagree; the worst is {_worst_text(name, a, n)}. Compare them entry by "
        "entry, and start with the deepest failing layer: its error flows into all the "
        "layers before it.", value=rel)


def kink_message(name, a, left, right, kinks):
    """Plain English for the entries of ``name`` that sit on a kink."""
    k = int(np.flatnonzero(kinks)[0])
    index = list(int(i) for i in np.unravel_index(k, a.shape))
    count = int(kinks.sum())
    return (
        f"{name}: {count} entr{'y sits' if count == 1 else 'ies sit'} on a kink "
        f"(ReLU/max/abs at 0), e.g. {name}{index}: one-sided slopes "
        f"{left.flat[k]:.6g} and {right.flat[k]:.6g}, analytic {a.flat[k]:.6g} between them. "
        "Not a bug: the analytic value is a valid subgradient, and the central difference "
        "averages the two sides. Not counted as a failure."
    )
