"""A second look, at a smaller step, at the entries where analytic and numeric disagree.

A finite difference whose step crosses a ReLU/max/abs kink, or one with
truncation error at a large parameter, disagrees with a correct gradient.
``second_look`` tells those step artefacts from real bugs with a few more
calls of ``f``, only for the entries that disagree, however many there are
(integer images into a max-pool tie in hundreds of places). ``joint_look``
then asks whether the values found valid one entry at a time are valid
together. ``ctx`` is the checker's context: the evaluator ``ev``, ``f0``,
``method``, ``h``, ``tol``, ``dtype`` and ``atol(step)``.
"""

from dataclasses import dataclass

import numpy as np

from gradkit import numgrad
from gradkit.numgrad import combine, stencil_values

__all__ = ["Look", "joint_look", "second_look"]

# A one-sided slope pair is a kink only when the two differ by far more than
# a smooth cost's curvature or f's round-off could make them differ.
KINK_GAP = 1e-3  # relative gap of the one-sided slopes
JOINT_RTOL = 1e-3  # the joint move must reproduce a·v to this relative accuracy
JOINT_MOVES = 2  # independent joint moves, each of which must reproduce a·v


@dataclass
class Look:
    """What the second look found, entry by entry (arrays of the tensor's shape).

    ``kinks``: entries whose disagreement is a kink of f. ``side``: +1 where the
    analytic value is the right-hand slope at a kink at x, −1 where it is the
    left-hand one, 0 elsewhere. ``unstable``: numeric values that moved with the
    step (not to be fitted by a diagnosis). ``refined``: the numeric gradient,
    improved where the half step settled it (a valid one-sided value counts as
    agreement). ``left``/``right``: the one-sided slopes extrapolated to step 0.
    ``sided``: entries whose one-sided slopes clearly differ, valid or not (a
    diagnosis leaves them out: their central difference averages two sides).
    ``stuck``: entries on a kink at x whose analytic value is neither one-sided
    slope nor between them: the gradient of a piece that moving this entry alone
    does not reach (a ReLU input exactly 0 through several weights), so the
    check cannot tell.
    """

    kinks: np.ndarray
    side: np.ndarray
    unstable: np.ndarray
    refined: np.ndarray
    left: np.ndarray
    right: np.ndarray
    sided: np.ndarray
    stuck: np.ndarray


def second_look(ctx, name, a, n, left, right, steps, atol, only=None):
    """Look again, at half the step, at the entries that disagree.

    An entry whose central difference at half the step agrees with the
    analytic value was a step artefact: truncation error, or a kink that the
    half step no longer crosses (then the one-sided slopes, far apart at the
    full step, come together at half of it). Otherwise the one-sided slopes are
    extrapolated to step 0 (``2·s(h/2) − s(h)`` removes their O(h) error): it is
    a kink at x when they clearly differ and the analytic value equals one of
    them, or lies between them while their gap stays the same at half the step
    (on a smooth function it halves; at a jump of f it doubles). ``only``, a
    mask, limits the look to those entries.
    """
    shape = a.shape
    look = Look(np.zeros(shape, bool), np.zeros(shape, np.int8), np.zeros(shape, bool),
                n.copy(), np.full(shape, np.nan), np.full(shape, np.nan),
                np.zeros(shape, bool), np.zeros(shape, bool))
    bad = np.abs(a - n) > np.maximum(ctx.tol * (np.abs(a) + np.abs(n)), atol)
    if only is not None:
        bad &= only
    if ctx.method == "complex" or not bad.any():
        return look
    if ctx.method != "central":
        return _central_look(ctx, name, a, bad, look)
    gap = np.abs(right - left)
    for index in map(tuple, np.argwhere(bad)):
        half = steps[index] / 2
        values = stencil_values(ctx.ev, name, index, half, "central", ctx.f0)
        l2, r2 = (ctx.f0 - values[-1]) / half, (values[1] - ctx.f0) / half
        c2, ai, noise = combine(values, half, "central"), a[index], atol[index]
        close = max(ctx.tol * (abs(ai) + abs(c2)), 2 * noise)
        # Richardson: (4·c(h/2) − c(h))/3 cancels the h² term
        c2 = min(c2, (4 * c2 - n[index]) / 3, key=lambda c: abs(ai - c))
        g = gap[index]
        if abs(ai - c2) <= close:
            look.refined[index] = c2
            wide = g > KINK_GAP * (abs(left[index]) + abs(right[index])) + 2 * noise
            look.kinks[index] = bool(wide and abs(r2 - l2) < 0.25 * g)  # the gap collapsed
            look.sided[index] = look.kinks[index]
            continue
        if abs(c2 - n[index]) > close:
            look.unstable[index] = True  # the estimate moves with the step: not one to fit
        if np.isnan(g):
            continue
        lx, rx = 2 * l2 - left[index], 2 * r2 - right[index]
        s2 = ctx.tol * (abs(lx) + abs(rx)) + 4 * noise
        distinct = abs(rx - lx) > 4 * s2
        look.sided[index] = distinct
        one_side = distinct and min(abs(ai - lx), abs(ai - rx)) <= s2
        inside = distinct and min(lx, rx) - s2 <= ai <= max(lx, rx) + s2
        steady = 0.75 * g <= abs(r2 - l2) <= 1.5 * g
        if one_side or (steady and inside):
            look.kinks[index] = True
            look.left[index], look.right[index] = lx, rx
            if one_side:
                look.side[index] = 1 if abs(ai - rx) <= abs(ai - lx) else -1
            look.refined[index] = ai  # a valid subgradient at a kink counts as agreement
            look.unstable[index] = False
        elif distinct and steady:
            look.stuck[index] = True
            look.left[index], look.right[index] = lx, rx
    return look


def joint_look(ctx, name, a, look, steps, rng):
    """Are the one-sided values valid together? ``(ok, slope, expected, count)``.

    Each kink entry was checked alone: its analytic value is the slope of f
    on one side. A gradient at a kink must be the gradient of one smooth piece
    of f, so moving all those entries at once, each to the side its value
    claims, must change f at the rate ``a · v``. A max-pool backward that sends
    dout to every tied maximum passes entry by entry and fails here: raising
    all tied entries raises the maximum once, not once per entry.

    Two such moves are made, with independent random weights: along one, the
    excess of several wrong entries can cancel (dout of opposite signs), along
    both only with probability near zero. Each entry moves by at most its half
    step divided by the number of entries moved, so the joint move is a convex
    combination of single moves that were each seen to stay on their side: a
    kink near x (not at it), which a larger joint move could cross, is not
    crossed.
    """
    idx = look.side != 0
    count = int(idx.sum())
    if count < 2:
        return True, None, None, count
    for _ in range(JOINT_MOVES):  # errors of opposite sign can cancel along one move, rarely two
        v = np.zeros(a.shape)
        v[idx] = look.side[idx] * rng.uniform(1 / 3, 1, size=count) * steps[idx] / (2 * count)
        f1 = ctx.ev.along({name: v}, 1.0)
        f2 = ctx.ev.along({name: v}, 0.5)
        slope = 4 * (f2 - ctx.f0) - (f1 - ctx.f0)  # the one-sided rate along v, O(|v|) removed
        expected = float(np.sum(a * v))
        noise = 10 * ctx.atol(1.0)  # a few roundings of f, as a change of f
        ok = abs(slope - expected) <= JOINT_RTOL * (abs(slope) + abs(expected)) + noise
        norm = float(np.linalg.norm(v))  # as rates along the unit direction
        if not ok:
            break
    return bool(ok), slope / norm, expected / norm, count


def _central_look(ctx, name, a, bad, look):
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
            look.refined[index] = c
            l2 = (ctx.f0 - values[-1]) / steps[index]
            r2 = (values[1] - ctx.f0) / steps[index]
            look.kinks[index] = bool(abs(r2 - l2) > KINK_GAP * (abs(l2) + abs(r2))
                                     + 2 * atol[index])
            look.sided[index] = look.kinks[index]
        elif (abs(c - look.refined[index])
              > ctx.tol * (abs(c) + abs(look.refined[index])) + atol[index]):
            look.unstable[index] = True
    return look
