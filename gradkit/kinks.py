"""A second look, at a smaller step, at the entries where analytic and numeric disagree.

A finite difference whose step crosses a ReLU/max/abs kink, or one with
truncation error at a large parameter, disagrees with a correct gradient.
``second_look`` tells those step artefacts from real bugs with a few more
calls of ``f``, only for the entries that disagree. ``ctx`` is the checker's
context: the evaluator ``ev``, ``f0``, ``method``, ``h``, ``tol``, ``dtype``
and ``atol(step)``.
"""

import numpy as np

from gradkit import numgrad
from gradkit.numgrad import combine, stencil_values

__all__ = ["second_look"]


def second_look(ctx, name, a, n, left, right, steps, atol):
    """Look again, at half the step, at the entries that disagree.

    Returns a mask of kinks, a mask of entries whose numeric value moved with
    the step (unreliable for diagnosis), and the numeric values refined where
    the half step settles the question. An entry whose central difference at half the step
    agrees with the analytic value was a step artefact: a kink that the half
    step no longer crosses, or truncation error. Otherwise, with the one-sided
    slopes extrapolated to step 0 (``2·s(h/2) − s(h)`` removes their O(h)
    error), it is a kink when the analytic value equals the slope from one
    side (the kink lies on the other side, within the step), or lies between
    the two while their gap stays the same at half the step (on a smooth
    function it halves; at a jump of f it doubles).
    """
    kinks = np.zeros(a.shape, dtype=bool)
    unstable = np.zeros(a.shape, dtype=bool)
    refined = n.copy()
    bad = np.abs(a - n) > np.maximum(ctx.tol * (np.abs(a) + np.abs(n)), atol)
    if ctx.method == "complex" or not bad.any():
        return kinks, unstable, refined
    if ctx.method != "central":
        return _central_look(ctx, name, a, bad, kinks, unstable, refined)
    if bad.sum() > max(64, a.size // 20):
        return kinks, unstable, refined  # so many that it is a bug, not kinks
    gap = np.abs(right - left)
    for index in map(tuple, np.argwhere(bad)):
        half = steps[index] / 2
        values = stencil_values(ctx.ev, name, index, half, "central", ctx.f0)
        l2, r2 = (ctx.f0 - values[-1]) / half, (values[1] - ctx.f0) / half
        c2, ai = combine(values, half, "central"), a[index]
        close = max(ctx.tol * (abs(ai) + abs(c2)), 2 * atol[index])
        if ctx.method == "central":  # Richardson: (4·c(h/2) − c(h))/3 cancels the h² term
            c2 = min(c2, (4 * c2 - n[index]) / 3, key=lambda c: abs(ai - c))
        if abs(ai - c2) <= close:
            refined[index] = c2
            g = gap[index]
            kinks[index] = bool(g > 1e-3 * (abs(left[index]) + abs(right[index])) + atol[index]
                                and abs(abs(r2 - l2) / g - 0.5) > 0.1)
            continue
        if abs(c2 - n[index]) > close:
            unstable[index] = True  # the estimate moves with the step: not one to fit
        if np.isnan(gap[index]):
            continue
        lx, rx = 2 * l2 - left[index], 2 * r2 - right[index]
        s2 = ctx.tol * (abs(lx) + abs(rx)) + 4 * atol[index]
        one_side = min(abs(ai - lx), abs(ai - rx)) <= s2
        inside = min(lx, rx) - s2 <= ai <= max(lx, rx) + s2
        steady = 0.75 * gap[index] <= abs(r2 - l2) <= 1.5 * gap[index]
        if one_side or (steady and inside):
            kinks[index] = True
            refined[index] = ai  # a valid subgradient at a kink counts as agreement
            unstable[index] = False
    return kinks, unstable, refined


def _central_look(ctx, name, a, bad, kinks, unstable, refined):
    """For one-sided and fourth-order methods: re-difference the disagreeing entries centrally.

    Their larger (or lopsided) steps cross ReLU kinks that central differences
    with their small step do not; an entry that agrees then was a step artefact.
    """
    x = ctx.ev.work[name]
    steps = (numgrad._steps(x, None, "central", ctx.dtype) if ctx.h is None
             else np.full(x.shape, ctx.h / 2))
    atol = ctx.atol(steps)
    for index in map(tuple, np.argwhere(bad)):
        values = stencil_values(ctx.ev, name, index, steps[index], "central", ctx.f0)
        c, ai = combine(values, steps[index], "central"), a[index]
        if abs(ai - c) <= max(ctx.tol * (abs(ai) + abs(c)), 2 * atol[index]):
            refined[index] = c
            l2 = (ctx.f0 - values[-1]) / steps[index]
            r2 = (values[1] - ctx.f0) / steps[index]
            kinks[index] = bool(abs(r2 - l2) > 1e-3 * (abs(l2) + abs(r2)) + atol[index])
        elif abs(c - refined[index]) > ctx.tol * (abs(c) + abs(refined[index])) + atol[index]:
            unstable[index] = True
    return kinks, unstable, refined
