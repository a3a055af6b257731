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
transpose      a ≈ n with axes permuted        A_prev @ dZ.T for dZ @ A_prev.T (square W),
                                               a conv kernel's rows and columns swapped
missing_l2     n − a ≈ k·x, k > 0 (value k)    L2 in the cost, not in the gradient
                                               (k = λ/m, or reg, or 2·reg)
extra_l2       a − n ≈ k·x, k > 0 (value k)    L2 in the gradient, not in the cost
mismatch       none of these                   anything else
=============  ==============================  =====================================
"""

import itertools

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
        return f"a forgotten 1/m: is m = {r} the number of examples?{_power(r)}"
    r = round(1 / c) if c != 0 else 0
    if r >= 3 and abs(1 / c - r) < 1e-3 * r:
        return f"dividing by m twice: is m = {r} the number of examples?{_power(r)}"
    return "a constant factor such as 1/m, 2 or keep_prob"


def _power(r):
    """For r = k**p (p >= 2): the same factor k applied p times, as a bug repeated per layer."""
    for p in (4, 3, 2):
        k = round(r ** (1 / p))
        if k >= 2 and k**p == r:
            return (f" Or a factor {k} applied {p} times ({k}^{p} = {r}), as when a layer "
                    "above passes a scaled gradient down.")
    return ""


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
    permuted = _permutation(name, a, n, e_norm)
    if permuted is not None:
        return permuted
    k, res_l2 = _fit(n - a, x, e_norm)
    if res_l2 < PATTERN_RTOL and k != 0:
        f_ = f"{abs(k):.4g}"
        conventions = (f"(lambd/m)·{name} with lambd/m ≈ {f_}; in CS231n's convention "
                       f"reg·{name} with reg ≈ {f_}, or 2·reg·{name} with reg ≈ "
                       f"{abs(k) / 2:.4g}")
        if k > 0:
            return Finding(
                "missing_l2", name,
                f"{name}: numeric − analytic = {k:.4g} × {name} itself: the L2 term is in "
                f"the cost but missing from the gradient. Add {f_}·{name} to d{name}: "
                f"{conventions}.", value=k)
        return Finding(
            "extra_l2", name,
            f"{name}: analytic − numeric = {-k:.4g} × {name} itself: the gradient has an "
            f"L2 term that the cost does not. Add the L2 term to the cost, or drop "
            f"{f_}·{name} from d{name}: {conventions}.", value=-k)
    bad = np.abs(a - n) > np.maximum(tol * (np.abs(a) + np.abs(n)), atol)
    return Finding(
        "mismatch", name,
        f"{name}: the analytic gradient is wrong (relative error {rel:.2e}) and no simple "
        f"pattern (scale, sign, transpose, L2) explains it. {int(bad.sum())} of {a.size} "
        f"entries disagree; the worst is {_worst_text(name, a, n)}. Compare them entry by "
        "entry, and start with the deepest failing layer: its error flows into all the "
        "layers before it.", value=rel)


def _permutation(name, a, n, e_norm):
    """A ``transpose`` Finding if ``a`` is ``n`` with its axes permuted, else None."""
    if a.ndim < 2 or a.size < 2:
        return None
    for order in itertools.permutations(range(a.ndim)):
        if list(order) == sorted(order) or n.transpose(order).shape != a.shape:
            continue
        moved = n.transpose(order)
        if np.array_equal(moved, n):
            continue  # a symmetric gradient: permuting explains nothing
        if _fit(a, moved, e_norm)[1] < PATTERN_RTOL:
            break
    else:
        return None
    if a.ndim == 2:
        text = ("the analytic gradient is the transpose of the numeric one. For W of "
                "shape (n_out, n_in) (Z = W @ A_prev + b), dW = dZ @ A_prev.T; for w of "
                "shape (n_in, n_out) (out = x @ w + b), dw = x.T @ dout. A square weight "
                "hides this from the shape check.")
    else:
        swapped = [i for i, j in enumerate(order) if i != j]
        text = (f"the analytic gradient has its axes {', '.join(map(str, swapped))} in the "
                f"wrong order: it equals the numeric one transposed as {order}. Check the "
                "order of the axes where the gradient is assembled (for a conv weight "
                "(F, C, HH, WW), the kernel's rows and columns, or filters and channels).")
    return Finding("transpose", name, f"{name}: {text}", value=1.0)


def kink_message(name, a, look):
    """Plain English for the entries of ``name`` that sit on a kink (``look``: kinks.Look)."""
    count = int(look.kinks.sum())
    at_x = np.flatnonzero(look.kinks & ~np.isnan(look.left))
    one = count == 1
    if at_x.size == count:  # the half step still crosses it: at x, to the step's resolution
        where = f"{'sits' if one else 'sit'} on a kink (or closer to one than half a step)"
    elif at_x.size == 0:  # the step crosses a kink nearby
        where = f"{'lies' if one else 'lie'} within one step of a kink"
    else:
        where = "sit on or within one step of a kink"
    head = (f"{name}: {count} entr{'y' if one else 'ies'} {where} "
            "(ReLU/max/abs at 0, a tie in a max), ")
    if at_x.size == 0:
        k = int(np.flatnonzero(look.kinks)[0])
        index = list(int(i) for i in np.unravel_index(k, a.shape))
        return head + (
            f"e.g. {name}{index}: the step crosses one, and at half the step the central "
            f"difference agrees with the analytic {a.flat[k]:.6g}. Not a bug; not counted "
            "as a failure.")
    k = int(at_x[0])
    index = list(int(i) for i in np.unravel_index(k, a.shape))
    left, right, ak = look.left.flat[k], look.right.flat[k], a.flat[k]
    side = int(look.side.flat[k])
    where = {1: "equal to the right-hand one", -1: "equal to the left-hand one",
             0: "between them"}[side]
    return head + (
        f"e.g. {name}{index}: one-sided slopes {left:.6g} (left) and {right:.6g} (right), "
        f"analytic {ak:.6g}, {where}. Not a bug: the analytic value is a valid "
        "subgradient there, while the central difference averages the two sides. Not "
        "counted as a failure.")
