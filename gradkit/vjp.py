"""Layer checks: a backward pass that takes an upstream gradient, checked without boilerplate.

A layer's backward pass computes a vector-Jacobian product: given the
upstream gradient ``dout`` it returns ``dx = (∂out/∂x)ᵀ · dout`` for each
input. That is exactly the gradient of the scalar ``Σ out · dout``, so
``check_vjp`` differences that scalar and reports like ``check_gradients``
(the same findings, modes and tolerances)::

    report = gk.check_vjp(lambda p: p["x"] @ p["w"] + p["b"],
                          lambda p, dout: {"x": dout @ p["w"].T, "w": p["x"].T @ dout,
                                           "b": dout.sum(axis=0)},
                          {"x": x, "w": w, "b": b})

``check_layer`` takes the cache convention of CS231n and of the Deep
Learning Specialization as it is: ``out, cache = layer_forward(*args)`` and
``layer_backward(dout, cache)``.

Why a random ``dout``: with ``dout`` all ones the check is of ``Σ out``,
whose gradient can be zero whatever the backward pass does. The sum of a
batchnorm output over the batch is ``N·Σ beta``: its ``dx`` and ``dgamma`` are
zero, and a buggy backward cannot fail. A seeded random ``dout`` of mixed
signs catches it, and also a backward that ignores ``dout``.

For a scalar output (a loss), the check divides by ``dout``: the cost is
checked as it is, so a diagnosis reads the same whatever ``dout`` is (a
missing L2 term never turns into an extra one, a factor 2 never into −2).
"""

import copy
import inspect

import numpy as np

from gradkit.check import Words, run_check, validate_options
from gradkit.numgrad import Evaluator
from gradkit.params import validate_grads
from gradkit.report import Finding

__all__ = ["check_layer", "check_vjp"]

_WORDS = Words(subject="forward", argument="inputs", value="output")
LINEARITY_RTOL = 1e-8  # backward(2·dout) must be 2·backward(dout) to round-off


def check_vjp(forward, backward, inputs, *, dout=None, wrt=None, h=None, method="central",
              mode="auto", seed=0, tol=None, progress="auto", _look_nearby=True):
    """Check a backward pass that takes an upstream gradient against differences of forward.

    Parameters
    ----------
    forward : callable
        ``forward(inputs) -> out``: an ndarray (or a float, for a loss), or a
        tuple, list or dict of them (an LSTM step's ``(h, c)``).
    backward : callable
        ``backward(inputs, dout) -> dict``: the gradient of ``Σ out · dout`` for
        every differentiated input, keyed like ``inputs``.
    inputs : dict of str to value
        Float arrays are differentiated (or only those named in ``wrt``);
        integer and boolean arrays (labels, indices, masks) and other values
        (a conv's stride, a dict of options) pass through unchanged. Never modified.
    dout : like out, optional
        The upstream gradient. ``None`` draws a seeded random one (never all
        ones: a backward that ignores ``dout`` must fail); ``report.dout`` holds it.
    wrt : str or list of str, optional
        The inputs to differentiate; default: every float array.
    h, method, mode, seed, tol, progress
        As in ``check_gradients``; ``seed`` also seeds the random ``dout``.

    Returns
    -------
    GradientReport
        As from ``check_gradients``, with ``calls`` counting calls of ``forward``.

    Raises
    ------
    ValueError, TypeError
        Unknown names in ``wrt``, a ``dout`` shaped unlike ``out``, gradients
        missing or misshaped, ``forward`` returning something that is not an
        array, or ``forward`` or ``backward`` modifying ``dout`` or the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1.0, -2.0, 3.0]])
    >>> relu_back = lambda p, dout: {"x": dout * (p["x"] > 0)}
    >>> check_vjp(lambda p: np.maximum(p["x"], 0), relu_back, {"x": x}).passed
    True
    >>> check_vjp(lambda p: np.maximum(p["x"], 0), lambda p, d: {"x": d}, {"x": x}).failing
    ['x']
    """
    validate_options(method, mode, progress, h, tol)
    if not callable(forward) or not callable(backward):
        raise TypeError("forward and backward must be functions: forward(inputs) -> out, "
                        "backward(inputs, dout) -> dict of gradients")
    if not isinstance(inputs, dict) or not inputs:
        raise TypeError(f"inputs must be a non-empty dict of named values, e.g. "
                        f"{{'x': x, 'w': w}}; got {type(inputs).__name__}")
    names = _differentiated(inputs, wrt)
    snapshot = {k: copy.deepcopy(v) for k, v in inputs.items()}
    given = _fresh(inputs)
    out = forward(given)
    _unchanged(given, snapshot, "forward")
    leaves, rebuild = _leaves(out)
    # A float32 layer gets a float32 dout, and its gradients are judged as float32.
    low = min((np.dtype(v.dtype) for v in [*leaves, *(inputs[k] for k in names)]
               if np.issubdtype(v.dtype, np.floating)), key=lambda d: d.itemsize)
    dleaves = [d.astype(low) if low.itemsize < 8 else d
               for d in _upstream(dout, leaves, rebuild, seed)]
    dsnap = [d.copy() for d in dleaves]

    given = _fresh(inputs)
    grads = backward(given, rebuild(dleaves))
    _unchanged(given, snapshot, "backward")
    for d, d0 in zip(dleaves, dsnap):
        if not np.array_equal(d, d0):
            raise ValueError("backward modified dout in place: it must not change its "
                             "argument (write dx = dout * mask, not dout *= mask)")
    grads = raw = _as_grads(grads, names, inputs)
    if low.itemsize < 8:
        grads = {k: g.astype(low) if g.dtype.itemsize > low.itemsize else g
                 for k, g in grads.items()}
    pdict = {k: np.asarray(inputs[k]) for k in names}
    validate_grads(grads, pdict)

    scalar = sum(d.size for d in dsnap) == 1
    scale = float(dsnap[0].reshape(())) if scalar else 1.0
    if scalar and scale == 0:
        raise ValueError("dout is 0: the check is of out · dout, which is then constant; "
                         "give a nonzero dout (or None for a random one)")
    consts = {k: v for k, v in inputs.items() if k not in names}

    def f(params):
        merged = _fresh(consts)  # labels and options: copies, so nothing can change them
        merged.update(params)
        values, _ = _leaves(forward(merged))
        if len(values) != len(dsnap) or any(v.shape != d.shape for v, d in zip(values, dsnap)):
            raise ValueError("forward returned outputs of other shapes when its inputs "
                             "were perturbed: its output must depend only on the inputs' "
                             "values")
        total = sum(np.sum(v * d) for v, d in zip(values, dsnap))
        return total / scale if scalar else total

    magnitude = float(sum(np.sum(np.abs(v * d)) for v, d in zip(leaves, dsnap)))
    if scalar:
        magnitude /= abs(scale)
        grads = {k: g / scale for k, g in grads.items()}
    ev = Evaluator(f, pdict, complex_work=(method == "complex"))
    report = run_check(ev, pdict, grads, h=h, method=method, mode=mode, seed=seed, tol=tol,
                       progress=progress, words=_WORDS, magnitude=magnitude, small=1)
    report.dout = rebuild(dsnap)
    stuck = [t for t in report.tensors if not t.passed and t.stuck_only]
    if _look_nearby and stuck and len(stuck) == len(report.failing):
        # Wrong only exactly on kinks: check again a little off them, where every
        # piece is reached, and let that decide between "cannot tell" and "wrong".
        again = check_vjp(forward, backward, _nearby(inputs, names, seed), dout=report.dout,
                          wrt=names, h=h, method=method, mode=mode, seed=seed, tol=tol,
                          progress=False, _look_nearby=False)
        _decide_stuck(report, again, [t.name for t in stuck])
        return report
    if report.failing:  # why: is the backward linear in dout at all?
        doubled = _as_grads(backward(_fresh(inputs), rebuild([2 * d for d in dsnap])), names,
                            inputs)
        _linearity(report, raw, doubled)
    return report


def check_layer(layer_forward, layer_backward, *args, wrt=None, dout=None, seed=0, h=None,
                method="central", mode="auto", tol=None, **consts):
    """Check a layer written in the cache convention (CS231n, Deep Learning Specialization).

    ``out, cache = layer_forward(*args, **consts)`` and ``layer_backward(dout,
    cache)`` returns one gradient per float-array argument, in order (``dx, dw,
    db`` for ``conv_forward(x, w, b, conv_param)``), or one per positional
    argument with anything (None) for the others; a single gradient may be
    returned bare. The gradients are named after ``layer_forward``'s parameters.
    A forward that returns more than two values returns several outputs and
    the cache last (``next_h, next_c, cache``); its backward takes one upstream
    gradient per output (``lstm_step_backward(dnext_h, dnext_c, cache)``).

    ``wrt``, ``dout``, ``seed``, ``h``, ``method``, ``mode`` and ``tol`` are as
    in ``check_vjp``; every other keyword is passed to ``layer_forward`` unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> def affine_forward(x, w, b):
    ...     return x @ w + b, (x, w)
    >>> def affine_backward(dout, cache):
    ...     x, w = cache
    ...     return dout @ w.T, x.T @ dout, dout.sum(axis=0)
    >>> rng = np.random.default_rng(0)
    >>> x, w, b = rng.normal(size=(4, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    >>> check_layer(affine_forward, affine_backward, x, w, b).passed
    True
    """
    if not callable(layer_forward) or not callable(layer_backward):
        raise TypeError("check_layer(layer_forward, layer_backward, *args): pass the two "
                        "functions first, then the forward's arguments")
    names = _argument_names(layer_forward, len(args))
    ours = {"seed": (seed, 0), "wrt": (wrt, None), "dout": (dout, None), "h": (h, None),
            "method": (method, "central"), "mode": (mode, "auto"), "tol": (tol, None)}
    _no_clash(layer_forward, names, ours)
    inputs = dict(zip(names, args))
    floats = [n for n in names if _is_float_array(inputs[n])]

    def run(values):
        result = layer_forward(*(values[n] for n in names), **consts)
        if not isinstance(result, tuple) or len(result) < 2:
            raise TypeError(f"{_name(layer_forward)} must return (out, cache), as in the "
                            f"cache convention; it returned {type(result).__name__}")
        return result[:-1], result[-1]

    last = []  # the first forward at a point: its cache serves the backward calls there

    def forward(values):
        outs, cache = run(values)
        if not last or not _same(last[0][0], values):
            last[:] = [({k: copy.deepcopy(v) for k, v in values.items()}, outs, cache)]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def backward(values, d):
        if last and _same(last[0][0], values):
            _, outs, cache = last[0]
        else:
            outs, cache = run(values)
        douts = (d,) if len(outs) == 1 else tuple(d)
        grads = layer_backward(*douts, copy.deepcopy(cache))
        if isinstance(grads, dict):
            return grads
        grads = grads if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) == len(names):  # one per argument, None (or anything) for the others
            return {n: g for n, g in zip(names, grads) if n in floats}
        if len(grads) != len(floats):
            kept = [k for k, v in consts.items() if _is_float_array(v)]
            raise ValueError(
                f"{_name(layer_backward)} returned {len(grads)} gradient(s), but "
                f"{_name(layer_forward)} has {len(floats)} float array argument(s) "
                f"({', '.join(floats)}): return one gradient per float argument, in order. "
                "An argument that is data (labels, a mask) is not differentiated when it is "
                "an integer or bool array"
                + (f"; keyword arguments ({', '.join(kept)}) are passed unchanged and never "
                   "differentiated: pass them positionally to check them" if kept else ""))
        return dict(zip(floats, grads))

    return check_vjp(forward, backward, inputs, dout=dout, wrt=wrt, seed=seed, h=h,
                     method=method, mode=mode, tol=tol)


# ---- helpers -------------------------------------------------------------------------------


def _same(a, b):
    """Two dicts of inputs with equal arrays (and the same other values)."""
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] is b[k]
        or a[k] == b[k] for k in a)


def _is_float_array(value):
    return isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating)


def _differentiated(inputs, wrt):
    for key in inputs:
        if not isinstance(key, str):
            raise TypeError(f"inputs keys must be strings like 'x', got {key!r}")
    floats = [k for k, v in inputs.items() if _is_float_array(v)]
    if wrt is None:
        if not floats:
            raise TypeError(
                "inputs holds no float array to differentiate (integer arrays such as "
                "labels pass through unchanged): give x, w, ... as float arrays, e.g. "
                "x.astype(float)")
        return floats
    wanted = [wrt] if isinstance(wrt, str) else list(wrt)
    for k in wanted:
        if k not in inputs:
            raise ValueError(f"wrt names {k!r}, which is not in inputs ({', '.join(inputs)})")
        if not _is_float_array(inputs[k]):
            kind = getattr(inputs[k], "dtype", type(inputs[k]).__name__)
            raise TypeError(
                f"wrt names {k!r}, which is {kind}, not a float array: integer inputs "
                "(labels, indices) have no gradient; leave it out of wrt")
    if not wanted:
        raise ValueError("wrt is empty: name at least one float input to differentiate")
    return wanted


def _fresh(inputs):
    """Copies of the arrays, so that nothing the user owns can be changed."""
    return {k: v.copy() if isinstance(v, np.ndarray) else copy.deepcopy(v)
            for k, v in inputs.items()}


def _unchanged(given, snapshot, who):
    """Did ``who`` change the copies it was given? (The caller's arrays are never given.)"""
    for k, v in given.items():
        if isinstance(v, np.ndarray) and not np.array_equal(v, snapshot[k], equal_nan=True):
            raise ValueError(f"{who} modified inputs[{k!r}] in place: it must not change its "
                             "arguments (work on a copy, e.g. x = x - ..., not x -= ...)")


def _leaves(out):
    """The output as a list of float arrays, and a function that rebuilds its structure."""
    if isinstance(out, dict):
        keys = list(out)
        arrays = [_leaf(out[k], f"out[{k!r}]") for k in keys]
        return arrays, lambda xs: dict(zip(keys, xs))
    if isinstance(out, (tuple, list)):
        kind = type(out)
        arrays = [_leaf(o, f"out[{i}]") for i, o in enumerate(out)]
        return arrays, lambda xs: kind(xs)
    return [_leaf(out, "out")], lambda xs: xs[0]


def _leaf(value, where):
    try:
        arr = np.asarray(value)
    except ValueError:
        arr = np.asarray(None)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        hint = ("" if where == "out" else ". If forward returns (out, cache), it is a layer "
                "in the cache convention: check it with gk.check_layer(layer_forward, "
                "layer_backward, *args)")
        raise TypeError(f"forward returned {type(value).__name__} as {where}: return an "
                        f"array, a float, or a tuple/list/dict of arrays{hint}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"forward returned NaN/Inf in {where}: the check needs finite "
                         "outputs (look for log(0), division by zero or overflow)")
    return arr


def _upstream(dout, leaves, rebuild, seed):
    """The upstream gradient as a list of float64 arrays shaped like the outputs."""
    if dout is None:
        rng = np.random.default_rng([seed, 1])
        out = []
        for leaf in leaves:
            if leaf.size == 1:  # a loss: a random factor of either sign, away from 0 and 1
                out.append(np.full(leaf.shape, rng.choice([-1, 1]) * rng.uniform(0.5, 0.9)))
            else:
                out.append(rng.standard_normal(leaf.shape))
        return out
    given, _ = _leaves(dout)
    if len(given) != len(leaves):
        raise ValueError(f"dout has {len(given)} part(s) but forward returned {len(leaves)}: "
                         "dout must have out's structure")
    for i, (d, leaf) in enumerate(zip(given, leaves)):
        if d.shape != leaf.shape and not (d.size == leaf.size == 1):
            where = "dout" if len(leaves) == 1 else f"dout part {i}"
            raise ValueError(f"{where} has shape {d.shape} but the output has shape "
                             f"{leaf.shape}: dout has the shape of out")
    return [np.array(d, dtype=np.float64).reshape(leaf.shape) for d, leaf in zip(given, leaves)]


def _as_grads(grads, names, inputs):
    if grads is None:
        raise TypeError("backward returned None: is its return statement missing? It must "
                        f"return a dict of gradients keyed like inputs ({', '.join(names)})")
    if not isinstance(grads, dict):
        raise TypeError(f"backward must return a dict of gradients keyed like inputs "
                        f"({', '.join(names)}); it returned {type(grads).__name__}")
    missing = [k for k in names if k not in grads]
    if missing:
        got = ", ".join(map(repr, grads)) or "nothing"
        hint = (" (name gradients like the inputs: 'x', not 'dx')"
                if any(f"d{k}" in grads for k in missing) else "")
        raise ValueError(f"backward returned no gradient for {', '.join(map(repr, missing))} "
                         f"(it returned {got}): return one for every differentiated input "
                         f"({', '.join(names)}){hint}")
    empty = [k for k in names if grads[k] is None]
    if empty:
        raise TypeError(f"backward returned None as the gradient of "
                        f"{', '.join(map(repr, empty))}: return an array shaped like it")
    unknown = [k for k in grads if k not in inputs]
    if unknown:
        raise ValueError(f"backward returned gradients for {', '.join(map(repr, unknown))}, "
                         f"which are not inputs ({', '.join(inputs)})")
    return {k: np.asarray(grads[k]) for k in names}


def _linearity(report, grads, doubled):
    """A backward pass must be linear in dout: say so where doubling dout does not double it."""
    for name, g in grads.items():
        g1, g2 = np.asarray(g), np.asarray(doubled[name])
        low = [a.dtype for a in (g1, g2) if np.issubdtype(a.dtype, np.floating)]
        rtol = max([LINEARITY_RTOL] + [100 * float(np.finfo(d).eps) for d in low])
        g1, g2 = g1.astype(np.float64), g2.astype(np.float64)
        denom = float(np.linalg.norm(g2) + 2 * np.linalg.norm(g1))
        if denom == 0 or np.linalg.norm(g2 - 2 * g1) <= rtol * denom:
            continue
        same = np.linalg.norm(g2 - g1) <= rtol * denom
        why = ("it does not change at all: the backward pass ignores dout. Multiply by the "
               "upstream gradient (e.g. dx = dout * local_gradient)") if same else (
               "a backward pass is linear in dout; does it square dout, add a constant, or "
               "compute something from out instead")
        report.findings = [f for f in report.findings
                           if f.parameter != name or f.kind in ("kink", "low_precision")]
        report.findings.append(Finding(
            "mismatch", name,
            f"{name}: doubling dout does not double the gradient; {why}.", value=None))
        if name not in report.failing:
            report.failing.append(name)
        report.passed, report.verdict = False, "fail"


NEARBY = 1e-4  # how far off the kinks the second check looks, relative to each tensor's rms


def _nearby(inputs, names, seed):
    """The inputs moved a little (seeded) off any kink they sit on."""
    rng = np.random.default_rng([seed, 2])
    moved = dict(inputs)
    for k in names:
        x = np.asarray(inputs[k])
        size = max(float(np.sqrt(np.mean(np.abs(x) ** 2))), 1.0)
        moved[k] = x + (NEARBY * size * rng.standard_normal(x.shape)).astype(x.dtype)
    return moved


def _decide_stuck(report, again, names):
    """Turn the stuck tensors' failure into "cannot tell" or into the nearby diagnosis."""
    report.calls += again.calls
    near = {t.name: t for t in again.tensors}
    keep = [f for f in report.findings if f.parameter not in names or f.kind == "kink"]
    for name in names:
        row = next(t for t in report.tensors if t.name == name)
        if near[name].passed:
            row.passed, row.resolved = True, False
            keep.append(Finding(
                "kink", name,
                f"{name}: some entries sit exactly on kinks, where the analytic value is "
                f"neither one-sided slope; {NEARBY:g}×rms away, off the kinks, the backward "
                f"pass agrees with the forward one (relative error "
                f"{near[name].relative_error:.1e}). At the kinks the check cannot tell: "
                "the value is right if it belongs to a piece that only a joint move of "
                "several entries reaches (several ReLUs at 0 through one input, a tie in "
                "two overlapping windows), wrong if it is a bad value at the kink (a "
                "derivative of 2 at relu's 0). Check at a point off the kinks (a bias "
                "1e-3·randn instead of zeros, a little noise on the input) to be sure.",
                value=near[name].relative_error))
        else:
            keep += [Finding(f.kind, f.parameter, f"at a point {NEARBY:g}×rms away, off the "
                             f"kinks it sits on: {f.message}", f.value)
                     for f in again.findings if f.parameter == name and f.kind != "kink"]
    report.findings = keep
    report.failing = [t.name for t in report.tensors if not t.passed]
    unresolved = any(t.passed and not t.resolved for t in report.tensors)
    report.verdict = "fail" if report.failing else "inconclusive" if unresolved else "pass"
    report.passed = report.verdict == "pass"


def _argument_names(fn, count):
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return [f"arg{i}" for i in range(count)]
    names = []
    for i in range(count):
        if i < len(params) and params[i].kind in (params[i].POSITIONAL_ONLY,
                                                  params[i].POSITIONAL_OR_KEYWORD):
            names.append(params[i].name)
        elif params and params[-1].kind == params[-1].VAR_POSITIONAL:
            names.append(f"{params[-1].name}{i}")
        else:
            raise TypeError(f"{_name(fn)} takes {len(params)} positional argument(s), "
                            f"but {count} were given")
    return names


def _no_clash(fn, names, ours):
    """check_layer's own keywords (seed, wrt, dout, h, ...) must not be meant for the layer."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return
    for key, (value, default) in ours.items():
        p = params.get(key)
        if p is None or key in names:
            continue
        if p.default is p.empty or value is not default and value != default:
            use = {"seed": "to draw dout", "wrt": "for the inputs to differentiate",
                   "dout": "for the upstream gradient"}.get(key, "an option of the check")
            raise TypeError(
                f"{_name(fn)} takes a parameter named {key!r}, but check_layer keeps "
                f"{key}= for itself ({use}): pass the layer's {key} positionally, or wrap "
                f"the layer, e.g. lambda x, w: {_name(fn)}(x, w, {key}=...)")


def _name(fn):
    return getattr(fn, "__name__", "the layer function")
