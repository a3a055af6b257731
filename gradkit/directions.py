"""The random-direction test of one tensor, and the sharp test that follows a pass.

A tensor's analytic gradient ``a`` is tested along a random unit direction
``v``: ``a · v`` must match the central difference of ``f`` along ``v`` (2 calls
of ``f``). A pass that is still far above the check's own numeric error
(estimated by comparing steps) is caught by ``sharp_test``. ``ctx`` is the
checker's context (see ``gradkit.check``).
"""

import numpy as np

from gradkit.kinks import KINK_GAP
from gradkit.numgrad import along_unit, direction_step
from gradkit.report import Finding, TensorResult

__all__ = ["by_direction", "locate", "random_unit", "sharp_test", "unresolved"]

DIRECTION_MARGIN = 1e-2  # a direction passes below tol·margin (the estimate is noisy)
KINK_RETRIES = 2
# Within f's round-off but this far off (relative): the check cannot tell right from
# wrong (a float32 cost with float64 steps, a gradient far below the cost's precision).
UNRESOLVED = 0.1
# Under the tolerance but SHARP times above the error estimated by comparing two
# steps: a real difference. Tested only where the error exceeds SHARP_TRIGGER·tol.
SHARP = 100.0
SHARP_TRIGGER = 1e-3


def random_unit(rng, shape):
    # Random signs with magnitudes in [0.5, 1.5]: no entry is ever weighted
    # near zero (a single wrong entry always shows), and no exact cancellation.
    v = rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 1.5, size=shape)
    return v / np.linalg.norm(v)


def _direction_test(ctx, name, a, unit, size=None):
    """(passes, d_analytic, d_numeric, stencil values, step, rel, error estimate, resolved)."""
    t = direction_step({name: ctx.ev.work[name]}, {name: unit}, ctx.h, ctx.method, ctx.dtype)
    d_n, values = along_unit(ctx.ev, {name: unit}, t, ctx.method, ctx.f0)
    d_a = float(np.sum(a * unit))
    err = abs(d_a - d_n)
    e_est, a_norm = err * np.sqrt(size or a.size), float(np.linalg.norm(a))
    denom = a_norm + abs(a_norm - e_est)
    rel = e_est / denom if denom > 0 else 0.0
    passes = err <= ctx.atol(t) or rel <= ctx.tol * DIRECTION_MARGIN
    # An exact zero that f cannot tell from zero is a structurally zero gradient.
    resolved = rel <= max(ctx.tol, UNRESOLVED) or not passes or not np.any(a)
    return passes, d_a, d_n, values, t, rel, e_est, resolved


def _kink_like(ctx, d_a, values, t):
    """Along this direction, do the one-sided slopes differ and bracket the analytic value?"""
    if not _wide(ctx, values, t):
        return False, None, None
    left, right = (ctx.f0 - values[-1]) / t, (values[1] - ctx.f0) / t
    gap = abs(right - left) / 2  # one-sided slopes carry O(t) error: be generous
    return min(left, right) - gap <= d_a <= max(left, right) + gap, left, right


def _wide(ctx, values, t):
    """Do the one-sided slopes along this direction clearly differ (a kink within t)?"""
    if 1 not in values or -1 not in values:
        return False
    left, right = (ctx.f0 - values[-1]) / t, (values[1] - ctx.f0) / t
    return abs(right - left) > KINK_GAP * (abs(left) + abs(right)) + 2 * ctx.atol(t)


def by_direction(ctx, name, a, rng):
    """Random-direction test: ``(result, findings)``; None: go entry by entry; or
    ``"locate"`` when every direction meets kinks at x itself (ties, exact zeros),
    so the entries on them should be found before going entry by entry."""
    unit = random_unit(rng, a.shape)
    passes, d_a, d_n, values, t, rel, e_est, resolved = _direction_test(ctx, name, a, unit)
    findings = []
    kinky, left, right = _kink_like(ctx, d_a, values, t) if not passes else (False, 0, 0)
    if not passes and _wide(ctx, values, t):
        # A kink (ReLU at 0) may lie within t of x along this direction;
        # fresh directions almost never meet it again, a real bug always shows.
        # Kinks at x itself (ties, exact zeros) meet every direction: locate them.
        retries = [_direction_test(ctx, name, a, random_unit(rng, a.shape))
                   for _ in range(KINK_RETRIES)]
        if not any(r[0] for r in retries) and all(_wide(ctx, r[3], r[4]) for r in retries):
            return "locate"
        if kinky and all(r[0] for r in retries):
            passes, rel, e_est = True, max(r[5] for r in retries), max(r[6] for r in retries)
            where = ("between them" if min(left, right) <= d_a <= max(left, right)
                     else "close to them")
            findings.append(Finding(
                "kink", name,
                f"{name}: along one random direction the one-sided slopes differ "
                f"({left:.6g} vs {right:.6g}), far more than a smooth function "
                f"bends over the step, and the analytic value {d_a:.6g} lies {where}: "
                f"a kink (ReLU/max/abs at 0) sits within the step. {KINK_RETRIES} other "
                "directions agree, so this is not a bug.",
            ))
    if not passes:
        return None
    a_norm = float(np.linalg.norm(a))
    scale = d_a / d_n if d_n != 0 else None
    result = TensorResult(name, a.shape, "direction", rel, True, 0, a_norm,
                          abs(a_norm - e_est) if e_est < a_norm else a_norm, e_est,
                          scale=scale, kinks=len(findings), resolved=resolved)
    result.direction = (unit, t, d_a, d_n)
    result.crossed = _wide(ctx, values, t)  # it met a kink: its differences say nothing sharp
    if not resolved:
        findings.append(unresolved(name, ctx.atol(t), a_norm / np.sqrt(a.size)))
    return result, findings


LEAF = 16  # blocks this small are differenced entry by entry
LOCATE_BUDGET = 0.25  # give up locating past this share of an entry-by-entry check's calls


def locate(ctx, name, a, rng):
    """The entries near kinks at x, found by halving blocks: a mask, or None (everywhere).

    A block whose random direction passes is verified by it (2 calls); a
    failing one is halved until it has at most LEAF entries, which are then
    differenced one by one. A few exact zeros among thousands of entries cost
    about 4·log2(size / LEAF) calls each instead of 2 per entry; kinks
    everywhere (an integer image into a max-pool) make the search give up
    early, at a quarter of the cost of going entry by entry.
    """
    size = a.size
    budget, spent = LOCATE_BUDGET * 2 * size, 0
    blocks, leaves = [np.arange(size)], []
    while blocks:
        block = blocks.pop()
        if block.size <= LEAF:
            leaves.append(block)
            continue
        for half in np.array_split(block, 2):
            unit = np.zeros(size)
            unit[half] = random_unit(rng, half.shape)
            unit = unit.reshape(a.shape)
            spent += 2
            if not _direction_test(ctx, name, a * (unit != 0), unit, half.size)[0]:
                blocks.append(half)
        if spent > budget:
            return None
    mask = np.zeros(size, dtype=bool)
    if leaves:
        mask[np.concatenate(leaves)] = True
    return mask.reshape(a.shape)


def sharp_test(ctx, name, a, rng, result):
    """A Finding when the error, under the tolerance, is far above this check's own error.

    The fixed tolerance leaves room for the worst numeric error of any cost;
    comparing the directional differences at steps t, 2t and 4t estimates
    the error of this one (its truncation, about ``|d(2t) − d(t)|/3``, and round-off).
    A backward pass whose error exceeds that estimate SHARP times over differs
    from the cost for real (a forgotten eps), however small the difference.
    """
    if result.relative_error <= ctx.tol * SHARP_TRIGGER or result.crossed:
        return None
    direction = result.direction
    if direction is None:  # entry by entry: test along the error itself, where it is largest
        e = a - result.numeric
        unit = e / np.linalg.norm(e) if np.any(e) else random_unit(rng, a.shape)
        t = direction_step({name: ctx.ev.work[name]}, {name: unit}, ctx.h, "central",
                           ctx.dtype)
        err = float(np.linalg.norm(e))  # what the error along it will be, about
    else:
        unit, t, d_a, d_n = direction
        err = abs(d_a - d_n)
    floor = 1e3 * ctx.eps * float(np.sum(np.abs(a * unit)))  # the backward's own round-off
    rounding = 0.25 * ctx.eps * ctx.magnitude / t
    if err <= SHARP * rounding or err <= floor:
        return None  # round-off alone could explain it: no call of f is spent
    if direction is None:
        d_n = along_unit(ctx.ev, {name: unit}, t, "central", ctx.f0)[0]
        d_a = float(np.sum(a * unit))
        err = abs(d_a - d_n)
    # d(2t) − d(t) is 3× the truncation error at t, plus the round-off of both
    d_2 = along_unit(ctx.ev, {name: unit}, 2 * t, "central", ctx.f0)[0]
    estimate = abs(d_2 - d_n) + rounding
    if err <= SHARP * estimate or err <= floor:
        return None
    # Confirm the alarm: d(4t) − d(2t) is 4 times that truncation, with less round-off
    d_4 = along_unit(ctx.ev, {name: unit}, 4 * t, "central", ctx.f0)[0]
    estimate = max(estimate, abs(d_4 - d_2) / 4 + rounding)
    if err <= SHARP * estimate:
        return None
    ratio = err / estimate
    return Finding(
        "mismatch", name,
        f"{name}: the relative error {result.relative_error:.1e} is under the tolerance "
        f"{ctx.tol:g}, but {ratio:.3g} times the numeric error of this check (estimated by "
        f"comparing the steps {t:.2g}, {2 * t:.2g} and {4 * t:.2g}): the backward pass "
        "differs from the forward one for real, if slightly. Look for a constant left out "
        "of the backward pass or written differently there, e.g. the eps in "
        "sqrt(var + eps), or a float32 constant.", value=ratio)


def unresolved(name, atol, typical):
    return Finding(
        "low_precision", name,
        f"{name}: its analytic and numeric gradients differ, but only by about the "
        f"round-off of f (differences of f resolve about {atol:.1e} here; its entries "
        f"are about {typical:.1e}), so the check cannot tell a right gradient from a wrong "
        "one. Compute the cost in float64, on fewer examples, or check with a larger h.",
        value=atol)
