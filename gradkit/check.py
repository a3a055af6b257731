"""The gradient checker: is the analytic gradient right, and if not, what is wrong?

``check_gradients(f, params, grads)`` compares a backward pass with numerical
differences of the cost and returns a ``GradientReport``. In the default
``mode="auto"`` it first differentiates each tensor along one random
direction (2 calls of ``f``): the analytic ``grad · v`` must match
``(f(x + t·v) − f(x − t·v)) / 2t``. Only a tensor that fails (or is tiny) is
differenced entry by entry, which the diagnosis needs: the failing tensor is
compared with the numeric one for the patterns of common bugs (a constant
factor, a flipped sign, a transpose, a missing or extra L2 term, all zeros).

An entry that disagrees gets a second look at a smaller step (central
differences at half the step, Richardson-extrapolated): a ReLU kink crossed
by the step, or truncation error at a large parameter, then shows as what it
is, however many such entries there are (``gradkit.kinks``). Values that are
valid one entry at a time must also be valid together: a max-pool backward
that sends dout to every tied maximum fails. ``central4`` and the one-sided
methods take larger or lopsided steps and cross ReLU kinks far more often; on
ReLU nets prefer the default ``central``.

A gradient that the backward pass returns as exact zeros, where ``f`` cannot
tell the numeric one from zero either (a bias right before batchnorm),
passes. A tensor that passes the tolerance but whose error is more than 100
times the check's own numeric error, estimated by comparing steps, fails
(``gradkit.directions``): the eps of a batchnorm left out of its backward
pass gives a relative error near 1e-7, far under the tolerance.

Before anything else, ``f`` is evaluated twice at the same point: a cost that
changes (dropout on, unseeded noise) makes every difference meaningless, and
the verdict is ``"inconclusive"``.

Tolerances (relative error, at the default step; ``tolerance_table()``)
-------------------------------------------------------------------------
=========  ========  ========  ========  =====================================
method     float64   float32   float16   why
=========  ========  ========  ========  =====================================
forward    1e-5      5e-2      3e-1      error ≈ h + eps/h ≈ 2·sqrt(eps)
backward   1e-5      5e-2      3e-1      same as forward
central    1e-6      1e-2      1e-1      error ≈ h²/2 + eps/h ≈ 1.5·eps^(2/3)
central4   1e-8      1e-2      1e-1      error ≈ eps^(4/5)
complex    1e-10     1e-5      1e-2      no cancellation: error ≈ eps
=========  ========  ========  ========  =====================================

The dtype is the precision ``f`` computes in: float64, unless ``f`` returns a
float32/float16 value. Correct float64 nets land around 1e-11–1e-9 with the
central default step, and the bugs in ``gradkit.bugs`` land above 1e-4, so
1e-6 leaves two orders of magnitude on both sides. With your own ``h`` the
tolerance grows with the error estimate ``h^p/p + eps/h`` (never above 1e-2):
the classic ``h = 1e-7`` gives errors near 1e-7 on a correct net, and is
allowed 5e-5. Float32 or float16 *gradients* carry their own round-off, so
the tolerance is at least 1e-4 (float32) or 1e-2 (float16). Entries whose
difference is within the round-off of ``f`` itself (``30·eps·|f|/h``) never
fail, so vanishing gradients are not reported as wrong.
"""

from dataclasses import dataclass

import numpy as np

from gradkit import numgrad
from gradkit.diagnose import diagnose, kink_message
from gradkit.directions import UNRESOLVED, by_direction, locate, sharp_test, unresolved
from gradkit.kinks import KINK_GAP, joint_look, second_look
from gradkit.numgrad import Evaluator, combine, stencil_values
from gradkit.params import as_param_dict, validate_grads
from gradkit.progress import Progress
from gradkit.report import Finding, GradientReport, TensorResult

__all__ = ["Finding", "GradientReport", "check_gradients", "tolerance_table"]

_DTYPES = ("float64", "float32", "float16")
TOLERANCES = {
    "forward": (1e-5, 5e-2, 3e-1),
    "backward": (1e-5, 5e-2, 3e-1),
    "central": (1e-6, 1e-2, 1e-1),
    "central4": (1e-8, 1e-2, 1e-1),
    "complex": (1e-10, 1e-5, 1e-2),
}
#: Least tolerance when the analytic gradient itself is in low precision.
GRAD_DTYPE_TOL = {"float32": 1e-4, "float16": 1e-2}
MAX_TOL = 1e-2
NOISE = 30.0  # an entry within NOISE·eps·|f|/h of the numeric value is round-off
SMALL_TENSOR = 4  # tensors this small are always differenced entry by entry


def tolerance_table():
    """The default tolerances: ``{method: {dtype: tol}}`` (see the module docstring)."""
    return {m: dict(zip(_DTYPES, tols)) for m, tols in TOLERANCES.items()}


def check_gradients(f, params, grads, *, h=None, method="central", mode="auto", seed=0,
                    tol=None, progress="auto"):
    """Check an analytic gradient against numerical differences of the cost.

    Parameters
    ----------
    f : callable
        ``f(params) -> float``: the scalar cost. It receives float64 working
        copies shaped like ``params`` and must compute the cost from them.
    params : dict of str to ndarray, or ndarray
        The point, e.g. ``{"W1": (n1, n0), "b1": (n1, 1), ...}``. A bare array
        is named ``"theta"``. Never modified, even when ``f`` raises.
    grads : dict of str to ndarray, or ndarray
        The analytic gradient: same keys and shapes as ``params``.
    h : float, optional
        Absolute step. ``None`` chooses ``eps^(1/(p+1))·max(1, |x_j|)`` per entry.
    method : {"central", "forward", "backward", "central4", "complex"}
    mode : {"auto", "full"}
        ``"auto"``: a random-direction test per tensor, entry by entry only for
        failing or tiny tensors. ``"full"``: every entry of every tensor.
    seed : int
        Seeds the random directions, so a report is reproducible.
    tol : float, optional
        Relative-error tolerance; ``None`` derives it from method, step and
        dtype (see ``tolerance_table``).
    progress : {"auto", True, False}
        In Jupyter, ``"auto"`` shows a progress line (calls of ``f`` so far)
        once the check passes 2 s, e.g. in full mode on a big net; ``True``
        from the start; ``False`` never. It leaves nothing in the saved notebook.

    Returns
    -------
    GradientReport

    Raises
    ------
    ValueError, TypeError
        Mismatched keys or shapes (a reversed shape says "transposed?"),
        non-numeric arrays, NaN/Inf in ``grads``, ``f`` not returning a finite
        scalar, ``f`` modifying its argument, or ``f`` ignoring it.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0])
    >>> check_gradients(lambda p: np.sum(p ** 2), x, 2 * x).passed
    True
    >>> check_gradients(lambda p: np.sum(p ** 2), x, 4 * x).kinds()
    ['scale']
    """
    validate_options(method, mode, progress, h, tol)
    bare = not isinstance(params, dict)
    pdict = as_param_dict(params, "params")
    for name, arr in pdict.items():
        if np.iscomplexobj(arr) or arr.size == 0:
            what = "complex" if arr.size else "empty"
            raise TypeError(f"params[{name!r}] is {what}: give a real, non-empty float array "
                            "(method='complex' adds the imaginary step itself)")
    gdict = validate_grads(grads, pdict, bare)
    ev = Evaluator(numgrad._unwrap(f, bare), pdict, complex_work=(method == "complex"))
    return run_check(ev, pdict, gdict, h=h, method=method, mode=mode, seed=seed, tol=tol,
                     progress=progress)


def validate_options(method, mode, progress, h, tol):
    """The option errors shared by check_gradients and check_vjp."""
    numgrad._check_method(method)
    if mode not in ("auto", "full"):
        raise ValueError(f"mode={mode!r}: choose 'auto' or 'full'")
    if not (progress is True or progress is False or progress == "auto"):
        raise ValueError(f"progress={progress!r}: choose 'auto', True or False")
    if h is not None and not float(h) > 0:
        raise ValueError(f"h must be a positive step, got {h}")
    if tol is not None and not (np.isfinite(tol) and 0 < tol < 1):
        raise ValueError(f"tol must be a relative error between 0 and 1, got {tol}")


@dataclass(frozen=True)
class Words:
    """How messages name the function checked and its argument."""

    subject: str = "f"
    argument: str = "params"
    value: str = "cost"


def run_check(ev, pdict, gdict, *, h, method, mode, seed, tol, progress, words=Words(),
              magnitude=None, small=SMALL_TENSOR):
    """The check itself, on an evaluator whose ``f`` is the scalar to differentiate.

    ``magnitude`` is the size of the terms that ``f`` adds up (for a sum with
    cancellation, such as ``Σ out·dout``, more than ``|f|``): it sets the
    round-off level of ``f``. Tensors of at most ``small`` entries are always
    differenced entry by entry in auto mode.
    """
    before = {name: w.copy() for name, w in ev.work.items()}
    f0 = ev.value()
    _check_not_mutated(ev, before, words)
    f0_again = ev.value()
    if isinstance(f0, complex):
        f0, f0_again = f0.real, f0_again.real

    fdtype = ev.value_dtype.name if ev.value_dtype.name in _DTYPES[1:] else "float64"
    findings = _precision_findings(pdict, gdict, fdtype, words)
    if tol is None:
        tol, reason = _default_tolerance(method, h, fdtype, gdict)
    else:
        tol, reason = float(tol), f"{float(tol):g}, as given"
    base_h = numgrad.default_step(method, np.dtype(fdtype)) if h is None else float(h)

    if abs(f0 - f0_again) > 8 * np.finfo(np.float64).eps * max(abs(f0), magnitude or 0,
                                                                1e-300):
        findings.append(Finding(
            "nondeterministic", None,
            f"{words.subject} returned different {words.value}s at the same "
            f"{words.argument} ({f0:.10g}, then {f0_again:.10g}): it is random, so "
            "differences of it mean nothing. Turn dropout off (keep_prob=1) or fix its mask "
            "with a seed, seed any other noise, and check again.",
            value=abs(f0 - f0_again),
        ))
        unknown = dict.fromkeys(pdict, float("nan"))
        return GradientReport(False, "inconclusive", float("nan"), unknown, [], findings, tol,
                              reason, method, mode, base_h, ev.calls, [], f0,
                              subject=words.subject)

    sharp = (method == "central" and fdtype == "float64"
             and all(g.dtype == np.float64 for g in gdict.values()))
    ctx = _Context(ev, f0, method, h, tol, fdtype, magnitude, sharp)
    ctx.small = small
    rng = np.random.default_rng(seed)
    results = []
    with Progress(progress) as shown:
        points = 1 if method == "complex" else sum(k != 0 for k, _ in numgrad._STENCILS[method])
        total = 2 + points * sum(a.size for a in pdict.values()) if mode == "full" else None
        ev.on_call = shown.counter(f"gradient check ({mode})", f"calls of {words.subject}",
                                   total)
        for name in pdict:
            result, extra = _check_tensor(ctx, name, np.asarray(gdict[name], np.float64), mode,
                                          rng)
            results.append(result)
            findings += extra

    if not ev.changed and any(r.analytic_norm > 0 for r in results):
        raise ValueError(
            f"{words.subject} returned the same {words.value} for every perturbation of "
            f"{words.argument}: {words.subject} must compute it from the {words.argument} it "
            f"is given (does it use a global `{words.argument}` instead of its argument?), and "
            f"its changes must be above its round-off (a loss of 1e-15 computed as "
            f"log(1 + tiny) is flat to the last digit)"
        )
    failing = [r.name for r in results if not r.passed]
    unresolved = [r.name for r in results if r.passed and not r.resolved]
    err2 = sum(r.error_norm**2 for r in results)
    a_norm = np.sqrt(sum(r.analytic_norm**2 for r in results))
    n_norm = np.sqrt(sum(r.numeric_norm**2 for r in results))
    rel = float(np.sqrt(err2) / (a_norm + n_norm)) if a_norm + n_norm > 0 else 0.0
    verdict = "fail" if failing else "inconclusive" if unresolved else "pass"
    return GradientReport(
        passed=verdict == "pass", verdict=verdict, relative_error=rel,
        per_parameter={r.name: r.relative_error for r in results}, failing=failing,
        findings=findings, tolerance=tol, tolerance_reason=reason, method=method,
        mode=mode, h=base_h, calls=ev.calls, tensors=results, cost=f0, subject=words.subject,
    )


class _Context:
    def __init__(self, ev, f0, method, h, tol, dtype, magnitude=None, sharp=False):
        self.ev, self.f0, self.method, self.h, self.tol = ev, f0, method, h, tol
        self.dtype, self.eps = np.dtype(dtype), float(np.finfo(dtype).eps)
        self.magnitude = max(abs(f0), magnitude or 0.0, np.finfo(float).tiny)
        self.sharp = sharp

    def atol(self, step):
        """Round-off level of a derivative estimated with this step."""
        if self.method == "complex":
            return 0.0
        return NOISE * self.eps * self.magnitude / step


def _check_tensor(ctx, name, a, mode, rng):
    calls0 = ctx.ev.calls
    x = ctx.ev.work[name]
    outcome, subset = None, None
    if mode == "auto" and x.size > ctx.small:
        outcome = by_direction(ctx, name, a, rng)
        if outcome == "locate":  # kinks at x: difference only the entries near them
            outcome, subset = None, locate(ctx, name, a, rng)
    if outcome is None:
        outcome = _entry_by_entry(ctx, name, a, rng, subset)
    result, findings = outcome
    if result.passed and result.resolved and ctx.sharp and np.any(a):
        sharp = sharp_test(ctx, name, a, rng, result)
        if sharp is not None:
            result.passed = False
            findings.append(sharp)
    result.calls = ctx.ev.calls - calls0
    return result, findings


def _entry_by_entry(ctx, name, a, rng, subset=None):
    """Difference every entry, or those in ``subset`` (the others passed by direction)."""
    x = ctx.ev.work[name]
    steps = numgrad._steps(x, ctx.h, ctx.method, ctx.dtype)
    n = np.empty(a.shape) if subset is None else a.copy()
    left = np.full(a.shape, np.nan)
    right = np.full(a.shape, np.nan)
    indices = np.ndindex(a.shape) if subset is None else map(tuple, np.argwhere(subset))
    for index in indices:
        step = steps[index]
        if ctx.method == "complex":
            n[index] = numgrad._complex_partial(ctx.ev, name, index, step)
            continue
        values = stencil_values(ctx.ev, name, index, step, ctx.method, ctx.f0)
        n[index] = combine(values, step, ctx.method)
        if 1 in values and -1 in values:
            left[index] = (ctx.f0 - values[-1]) / step
            right[index] = (values[1] - ctx.f0) / step
    atol = ctx.atol(steps)
    two_sided = np.abs(right - left) > KINK_GAP * (np.abs(left) + np.abs(right)) + 2 * atol
    # A simple pattern that explains every error is that bug: only entries whose
    # one-sided slopes differ could be kinks, and only they get a second look.
    only = two_sided if _plain_pattern(ctx, name, a, n, x, atol) else None
    look = second_look(ctx, name, a, n, left, right, steps, atol, only=only)
    n_eff = look.refined
    e = a - n_eff
    e_norm, a_norm, n_norm = (float(np.linalg.norm(v)) for v in (e, a, n_eff))
    rel = e_norm / (a_norm + n_norm) if a_norm + n_norm > 0 else 0.0
    within_tol = e_norm <= ctx.tol * (a_norm + n_norm)
    passed = bool(within_tol or np.all(np.abs(e) <= atol))
    stuck_only = False
    if not passed and look.stuck.any():
        # Wrong only on kinks where the analytic value may belong to a piece that no
        # single entry's move reaches: say so (a layer check then looks nearby).
        known = np.where(look.stuck, 0.0, e)
        stuck_only = bool(np.linalg.norm(known) <= ctx.tol * (a_norm + n_norm)
                          or np.all(np.abs(known) <= atol))
    joint = joint_look(ctx, name, a, look, steps, rng) if passed else (True,)
    if not joint[0]:
        passed, slope, expected, count = False, *joint[1:]
        rel = max(rel, abs(slope - expected) / (abs(slope) + abs(expected)))
    order = np.argsort(-np.abs(e), axis=None)[:3]
    worst = [
        (tuple(int(i) for i in np.unravel_index(k, a.shape)), float(a.flat[k]),
         float(n_eff.flat[k]))
        for k in order if abs(e.flat[k]) > np.broadcast_to(atol, a.shape).flat[k]
    ]
    nn = float(np.sum(n_eff * n_eff))
    scale = float(np.sum(a * n_eff) / nn) if nn > 0 else None
    zero = passed and not np.any(a)  # structurally zero, and f cannot tell it from zero
    if not joint[0]:  # the error is in the joint move, not in any one entry
        e_norm = rel * (a_norm + n_norm)
    how = "full" if subset is None or subset.all() else "direction"
    result = TensorResult(name, a.shape, how, rel, passed, 0, a_norm, n_norm, e_norm,
                          scale=scale, worst=worst, kinks=int(look.kinks.sum()),
                          resolved=bool(within_tol or not passed or rel <= UNRESOLVED or zero))
    # The sharp test looks along the error away from kinks, where differences are smooth.
    result.numeric = np.where(two_sided | look.sided, a, n_eff)
    result.stuck_only = stuck_only
    findings = [] if result.resolved else [unresolved(name, float(np.max(atol)),
                                                       a_norm / np.sqrt(a.size))]
    if look.kinks.any():
        findings.append(Finding("kink", name, kink_message(name, a, look),
                                value=float(look.kinks.sum())))
    if not joint[0]:
        findings.append(Finding(
            "mismatch", name,
            f"{name}: {count} entries sit on kinks, and each one alone takes the slope of f "
            "on one side, but not all together: moving them at once, each to its side, "
            f"changes f at the rate {slope:.6g}, not {expected:.6g} as the analytic "
            "gradient says. A gradient at a kink must come from one piece of f: e.g. "
            "max-pool sends dout to one of several tied maxima, not to each of them.",
            value=rel))
    elif stuck_only:
        findings.append(_stuck(name, a, look))
    elif not passed:
        # Fit the patterns away from kinks: where the one-sided slopes clearly differ,
        # the central difference averages two sides, whatever the analytic value is.
        trust = ~look.sided & ~two_sided & ~look.unstable
        findings.append(diagnose(name, a, n_eff, np.real(x), rel, ctx.tol, atol, trust))
    return result, findings


def _stuck(name, a, look):
    """The entries that are wrong only on kinks where no single move reaches every piece."""
    stuck = look.stuck
    k = int(np.flatnonzero(stuck)[0])
    index = list(int(i) for i in np.unravel_index(k, a.shape))
    count = int(stuck.sum())
    return Finding(
        "mismatch", name,
        f"{name}: {count} entr{'y sits' if count == 1 else 'ies sit'} exactly on kinks, "
        f"and the analytic value is neither one-sided slope, e.g. {name}{index}: slopes "
        f"{look.left.flat[k]:.6g} (left) and {look.right.flat[k]:.6g} (right), analytic "
        f"{a.flat[k]:.6g}; everything else agrees. A wrong value at a kink, or the "
        "gradient of a piece that only a move of several entries reaches (a ReLU input "
        "exactly 0 through several weights, an entry tied in two overlapping windows). "
        "Move the point off the kinks (a bias 1e-3·randn instead of zeros, a little noise "
        "on the input) and check again.", value=float(count))


def _plain_pattern(ctx, name, a, n, x, atol):
    """Does a simple pattern (a factor, a sign, a transpose, L2, zeros) explain every error?

    Then the disagreeing entries are that bug, not kinks: no second look is spent.
    """
    e_norm = float(np.linalg.norm(a - n))
    if e_norm <= ctx.tol * float(np.linalg.norm(a) + np.linalg.norm(n)):
        return False
    rel = e_norm / float(np.linalg.norm(a) + np.linalg.norm(n))
    return diagnose(name, a, n, np.real(x), rel, ctx.tol, atol).kind != "mismatch"


def _check_not_mutated(ev, before, words):
    for name, w in ev.work.items():
        if not np.array_equal(w, before[name]):
            ev.work[name][...] = before[name]
            raise ValueError(
                f"{words.subject} modified {words.argument}[{name!r}] in place: "
                f"{words.subject} must not change its argument "
                f"(write W = W - ... instead of W -= ..., or work on a copy)"
            )


def _precision_findings(pdict, gdict, fdtype, words):
    low = sorted({str(a.dtype) for a in [*pdict.values(), *gdict.values()]}
                 & {"float32", "float16"})
    if not low and fdtype == "float64":
        return []
    if fdtype != "float64":
        msg = (f"{words.subject} computes in {fdtype} (it returned a {fdtype} value): "
               f"differences of {words.subject} "
               "keep only a few digits, so the step and tolerance are for "
               f"{fdtype}. For a sharp check, compute the cost in float64.")
    else:
        msg = (f"{words.argument}/grads are {', '.join(low)}: {words.subject} was evaluated on "
               "float64 copies, so the "
               "numeric gradient is float64; the tolerance allows for the round-off of a "
               f"{low[0]} analytic gradient.")
    return [Finding("low_precision", None, msg)]


def _default_tolerance(method, h, fdtype, gdict):
    base = TOLERANCES[method][_DTYPES.index(fdtype)]
    reason = f"{base:g} for {method} differences in {fdtype} at the default step"
    tol = base
    if h is not None and method != "complex":
        h0 = numgrad.default_step(method, np.dtype(fdtype))
        ratio = (numgrad.estimated_error(method, float(h), np.dtype(fdtype))
                 / numgrad.estimated_error(method, h0, np.dtype(fdtype)))
        if ratio > 1:
            tol = min(base * ratio, MAX_TOL)
            reason = (f"{tol:.2g}: {base:g} for {method} in {fdtype}, times {ratio:.3g} because "
                      f"h={float(h):g} is further from the best step {h0:.2g}")
    gtypes = {str(g.dtype) for g in gdict.values()} & set(GRAD_DTYPE_TOL)
    for gt in gtypes:
        if GRAD_DTYPE_TOL[gt] > tol:
            tol = GRAD_DTYPE_TOL[gt]
            reason = f"{tol:g}: the analytic gradient is {gt}, which carries its own round-off"
    return tol, reason
