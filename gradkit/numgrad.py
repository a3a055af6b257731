"""Numerical differentiation of a scalar cost: finite differences and the complex step.

The derivative of ``f`` along coordinate ``j`` is approximated from values of
``f`` at a few points ``x + k·h·e_j`` (a *stencil*)::

    forward    (f(x+h) - f(x)) / h                          error O(h)
    backward   (f(x) - f(x-h)) / h                          error O(h)
    central    (f(x+h) - f(x-h)) / 2h                       error O(h²)
    central4   (-f(x+2h) + 8f(x+h) - 8f(x-h) + f(x-2h)) / 12h   error O(h⁴)
    complex    Im f(x + i·h) / h                            error O(h²), no cancellation

A step that is too large leaves truncation error (the Taylor terms the
stencil ignores); a step that is too small amplifies round-off: the two values
of ``f`` agree in most of their digits, and the difference keeps only the
rest. With machine epsilon ``eps`` the best step balances the two, about
``eps^(1/(p+1))`` for a stencil of order ``p``: ``sqrt(eps)`` for one-sided,
``eps^(1/3)`` for central, ``eps^(1/5)`` for fourth order. The complex step
subtracts nothing, so any tiny step works and the result is exact to machine
precision -- but only for code that carries complex numbers through. It is
broken by whatever drops the imaginary part: ``np.abs`` (the modulus, a real
number), ``.real`` or ``np.real``, ``float()``, and casts to a real dtype
(``astype(float)``, ``np.asarray(x, dtype=float)``); if the cost comes back
real, the complex step raises a TypeError. Conjugation (``np.conj``,
``np.vdot``, ``x * x.conj()``) flips the sign of ``i·h`` and gives a wrong
derivative silently, and so does ``np.abs`` inside an expression that stays
complex (``x * np.abs(x) ** 2``). Comparisons and ``np.maximum`` (so ReLU) are
safe: numpy orders complex numbers by real part first, so
``np.maximum(x + i·h, 0)`` is ``x + i·h`` for ``x > 0`` and ``0`` for
``x < 0``; at ``x = 0`` the imaginary parts decide (``np.maximum(1e-20j, 0)``
is ``1e-20j``), which gives relu the right-hand slope 1 there.

Inputs are never left perturbed: ``f`` is evaluated on float64 working copies
(so float32 inputs are differenced in float64), and every perturbation is
undone in a ``finally`` block, also when ``f`` raises.
"""

import numpy as np

from gradkit.params import as_param_dict

__all__ = [
    "METHODS",
    "default_step",
    "directional_derivative",
    "numerical_gradient",
    "relative_error",
]

#: Stencils as ((offset k, weight w), ...): derivative ≈ Σ w·f(x + k·h) / h.
_STENCILS = {
    "forward": ((1, 1.0), (0, -1.0)),
    "backward": ((0, 1.0), (-1, -1.0)),
    "central": ((1, 0.5), (-1, -0.5)),
    "central4": ((-2, 1 / 12), (-1, -8 / 12), (1, 8 / 12), (2, -1 / 12)),
}
#: Order p of the truncation error O(h^p) of each method.
ORDERS = {"forward": 1, "backward": 1, "central": 2, "central4": 4, "complex": 2}
METHODS = tuple(ORDERS)
_COMPLEX_STEP = 1e-20


def _eps(dtype):
    return float(np.finfo(dtype).eps)


def default_step(method="central", dtype=np.float64):
    """The relative step ``h`` that balances truncation and round-off error.

    The step actually used for entry ``x_j`` is ``h · max(1, |x_j|)``, so
    large parameters get proportionally larger steps.

    Parameters
    ----------
    method : str
        One of ``"forward"``, ``"backward"``, ``"central"``, ``"central4"``,
        ``"complex"``.
    dtype : numpy dtype
        The precision ``f`` is evaluated in.

    Returns
    -------
    float
        ``eps^(1/(p+1))`` for a method of order ``p`` (``1e-20`` for the
        complex step, which has no round-off to balance).

    Examples
    --------
    >>> round(default_step("central"), 8)
    6.06e-06
    """
    _check_method(method)
    if method == "complex":
        return _COMPLEX_STEP
    return _eps(dtype) ** (1.0 / (ORDERS[method] + 1))


def estimated_error(method, h, dtype=np.float64):
    """Rough size of the relative error of a difference with step ``h``.

    ``h^p / p + eps / h`` (truncation plus round-off, for a function whose
    derivatives are of order one); its minimum is at ``default_step``. The
    checker scales its tolerance by this when you choose your own ``h``.
    """
    eps = _eps(dtype)
    if method == "complex":
        return h * h / 2 + eps
    p = ORDERS[method]
    return h**p / p + eps / h


def _check_method(method):
    if not isinstance(method, str) or method not in ORDERS:
        raise ValueError(
            f"method={method!r} is not a known difference; "
            f"choose one of {', '.join(repr(m) for m in METHODS)}"
        )


def _as_scalar(value, where):
    """Turn f's return value into a float, or say clearly what is wrong with it."""
    if isinstance(value, tuple):
        raise TypeError(
            f"f returned a tuple of {len(value)} {where}: return only the cost (a float), "
            "e.g. lambda p: cost_and_grads(p)[0]"
        )
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        raise TypeError(
            f"f returned {type(value).__name__} {where}, expected a scalar cost (a float)"
        )
    if arr.size != 1:
        raise ValueError(
            f"f returned an array of shape {arr.shape} {where}, expected a scalar cost: "
            "did you forget np.mean or np.sum over the examples' losses? To check a "
            "layer's backward pass instead, use gk.check_vjp(forward, backward, inputs), "
            "which checks Σ out · dout with a random dout (np.sum of a layer's output can "
            "hide bugs: the sum of a batchnorm output does not depend on its input)"
        )
    return arr.reshape(())[()]


class Evaluator:
    """Calls ``f`` on private working copies of the parameters and counts the calls.

    Every perturbation is undone in ``finally``; the caller's arrays are never
    touched. ``complex_work=True`` makes the copies complex for the complex step.
    """

    def __init__(self, f, params, complex_work=False):
        self.f = f
        work_dtype = np.complex128 if complex_work else np.float64
        self.work = {name: np.array(a, dtype=work_dtype) for name, a in params.items()}
        self.calls = 0
        self.value_dtype = None
        self.changed = False  # did any perturbation change f at all?
        self.on_call = None  # on_call(calls), if set, before each call
        self._f0 = None

    def _call(self, where):
        self.calls += 1
        if self.on_call is not None:  # progress
            self.on_call(self.calls)
        # a fresh dict each call: f may add keys (a cache) without upsetting us
        value = _as_scalar(self.f(dict(self.work)), where)
        if self.value_dtype is None:
            self.value_dtype = np.asarray(value).dtype
        value = complex(value) if np.iscomplexobj(value) else float(value)
        if not np.isfinite(value):
            raise ValueError(
                f"f returned {value} {where}: the cost must be finite "
                "(look for log(0), division by zero or overflow)"
            )
        if self._f0 is not None and value != self._f0:
            self.changed = True
        return value

    def value(self):
        """f at the unperturbed point."""
        value = self._call("at the given params")
        if self._f0 is None:
            self._f0 = value
        return value

    def shifted(self, name, index, delta):
        """f with entry ``index`` of ``name`` moved by ``delta``."""
        w = self.work[name]
        old = w[index]
        w[index] = old + delta
        try:
            return self._call(f"when {name}{list(index)} was perturbed")
        finally:
            w[index] = old

    def along(self, direction, t):
        """f at ``params + t·direction`` (``direction``: dict of arrays, a subset of names)."""
        saved = {name: self.work[name].copy() for name in direction}
        try:
            for name, v in direction.items():
                self.work[name] += t * v
            return self._call("along a random direction")
        finally:
            for name, old in saved.items():
                self.work[name][...] = old


def _steps(x, h, method, dtype=np.float64):
    """Per-entry steps: ``h·max(1, |x|)`` when h is None, else the given h."""
    if h is None:
        return default_step(method, dtype) * np.maximum(1.0, np.abs(x.real))
    h = float(h)
    if not h > 0:
        raise ValueError(f"h must be a positive step, got {h}")
    return np.full(x.shape, h)


def stencil_values(ev, name, index, step, method, f0):
    """f at each stencil point for one entry: dict offset -> value."""
    values = {0: f0}
    for k, _ in _STENCILS[method]:
        if k not in values:
            values[k] = ev.shifted(name, index, k * step)
    return values


def combine(values, step, method):
    """The derivative from stencil values."""
    return sum(w * values[k] for k, w in _STENCILS[method]) / step


def numerical_gradient(f, params, h=None, method="central"):
    """The gradient of a scalar function by finite differences or the complex step.

    Parameters
    ----------
    f : callable
        ``f(params) -> float``, the scalar cost. It receives a dict of float64
        arrays with the same names and shapes as ``params`` (or a bare array if
        ``params`` was one) and must not modify it.
    params : dict of str to ndarray, or ndarray
        The point at which to differentiate. Never modified.
    h : float, optional
        The step. ``None`` (default) picks ``default_step(method)·max(1, |x_j|)``
        per entry; a number is used as the absolute step for every entry.
    method : {"central", "forward", "backward", "central4", "complex"}
        The difference formula. ``"complex"`` needs ``f`` to accept complex
        arrays and keep them complex: no ``np.abs``, ``.real``, ``float()`` or
        cast to a real dtype (``np.maximum`` and comparisons are fine).

    Returns
    -------
    dict of str to ndarray, or ndarray
        The gradient, same structure, names and shapes as ``params`` (float64).

    Raises
    ------
    ValueError, TypeError
        If ``params`` is not numeric, ``f`` does not return a finite scalar, or
        ``method``/``h`` are invalid; a TypeError if ``method="complex"`` and
        ``f`` returns a real number.

    Examples
    --------
    >>> import numpy as np
    >>> g = numerical_gradient(lambda x: np.sum(x ** 2), np.array([1.0, -2.0]))
    >>> np.round(g, 6)
    array([ 2., -4.])
    """
    _check_method(method)
    bare = not isinstance(params, dict)
    pdict = as_param_dict(params, "params")
    ev = Evaluator(_unwrap(f, bare), pdict, complex_work=(method == "complex"))
    out = {}
    f0 = None if method in ("central", "central4", "complex") else ev.value()
    for name, w in ev.work.items():
        steps = _steps(w, h, method)
        g = np.empty(w.shape, dtype=np.float64)
        for index in np.ndindex(w.shape):
            if method == "complex":
                g[index] = _complex_partial(ev, name, index, steps[index])
            else:
                values = stencil_values(ev, name, index, steps[index], method, f0)
                g[index] = combine(values, steps[index], method)
        out[name] = g
    return out["theta"] if bare else out


def _imaginary_slope(value, step, where):
    """Im f(x + i·step) / step, or a clear error when f dropped the imaginary part."""
    if not isinstance(value, complex):
        raise TypeError(
            "method='complex' needs f to carry complex numbers through, but f returned "
            f"a real number {where}: something in f drops the imaginary part, such as "
            "np.abs, .real, float() or a cast to a real dtype (astype(float), "
            "np.asarray(x, dtype=float)). Keep f complex (x * x instead of "
            "np.abs(x) ** 2; np.maximum and comparisons are fine), or use method='central'"
        )
    return value.imag / step


def _complex_partial(ev, name, index, step):
    value = ev.shifted(name, index, 1j * step)
    return _imaginary_slope(value, step, f"when {name}{list(index)} was perturbed")


def _unwrap(f, bare):
    """Let f take a bare array when the user passed a bare array."""
    if not callable(f):
        raise TypeError(f"f must be a function params -> cost, got {type(f).__name__}")
    if not bare:
        return f
    return lambda p: f(p["theta"])


def directional_derivative(f, params, direction, h=None, method="central"):
    """The derivative of ``f`` along ``direction``: ``∇f · direction``, from 2 calls of f.

    Parameters
    ----------
    f : callable
        ``f(params) -> float``.
    params : dict of str to ndarray, or ndarray
        The point. Never modified.
    direction : dict of str to ndarray, or ndarray
        Same structure as ``params`` (a dict may name a subset of the tensors).
    h : float, optional
        Step along the unit direction. ``None`` picks ``default_step(method)``
        times ``max(1, rms of params)``.
    method : {"central", "forward", "backward", "central4", "complex"}

    Returns
    -------
    float
        The numerical ``Σ_j ∂f/∂x_j · direction_j``.

    Examples
    --------
    >>> import numpy as np
    >>> d = directional_derivative(lambda x: np.sum(x ** 2), np.ones(3), np.array([1., 0, 0]))
    >>> round(d, 6)
    2.0
    """
    _check_method(method)
    bare = not isinstance(params, dict)
    pdict = as_param_dict(params, "params")
    ddict = as_param_dict(direction, "direction")
    for name, v in ddict.items():
        if name not in pdict or pdict[name].shape != v.shape:
            raise ValueError(
                f"direction[{name!r}] must match a tensor of params with the same shape"
            )
    norm = np.sqrt(sum(float(np.sum(v * v)) for v in ddict.values()))
    if norm == 0:
        return 0.0
    unit = {name: v / norm for name, v in ddict.items()}
    ev = Evaluator(_unwrap(f, bare), pdict, complex_work=(method == "complex"))
    t = direction_step(pdict, unit, h, method)
    return norm * along_unit(ev, unit, t, method)[0]


def direction_step(params, unit, h, method, dtype=np.float64):
    """Step along a unit direction: like one entry's step, scaled by the rms of x."""
    if h is not None:
        return float(h)
    sq = sum(float(np.sum(np.abs(params[n]) ** 2)) for n in unit)
    size = sum(params[n].size for n in unit)
    return default_step(method, dtype) * max(1.0, np.sqrt(sq / max(size, 1)))


def along_unit(ev, unit, t, method, f0=None):
    """Derivative along a unit direction, and the stencil values (for kink tests)."""
    if method == "complex":
        value = ev.along(unit, 1j * t)
        return _imaginary_slope(value, t, "along a random direction"), {}
    values = {}
    for k, _ in _STENCILS[method]:
        if k == 0:
            values[0] = ev.value() if f0 is None else f0
        else:
            values[k] = ev.along(unit, k * t)
    return combine(values, t, method), values


def relative_error(a, b):
    """Normwise relative error ``‖a − b‖ / (‖a‖ + ‖b‖)`` (0 when both are zero).

    Symmetric, scale-free and bounded by 1 (unless a and b point in opposite
    directions, where it is still ≤ 1: ‖a − b‖ ≤ ‖a‖ + ‖b‖). For dicts, the
    tensors are compared as one long vector.

    Parameters
    ----------
    a, b : ndarray, float, or dict of str to ndarray
        Same shapes (and same keys, for dicts).

    Returns
    -------
    float

    Examples
    --------
    >>> relative_error(1.0, 1.0 + 1e-6) < 1e-6
    True
    """
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or set(a) != set(b):
            raise ValueError("relative_error needs two dicts with the same keys")
        keys = list(a)
        a = np.concatenate([np.ravel(a[k]) for k in keys]) if keys else np.zeros(0)
        b = np.concatenate([np.ravel(b[k]) for k in keys]) if keys else np.zeros(0)
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {b.shape}")
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(a - b) / denom)
