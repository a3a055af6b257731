"""Named parameter dicts <-> one flat vector, keeping names, shapes and order.

A network's parameters live in a dict, ``{"W1": (n1, n0), "b1": (n1, 1), ...}``;
the classic gradient check loops over one flat vector ``theta``. ``ParamSpec``
remembers how to go back and forth, for any number of layers, and which
entry of which tensor a flat index is::

    theta, spec = dict_to_vector(params)
    params_again = vector_to_dict(theta, spec)
    spec.locate(1234)          # -> ("W2", (3, 5))
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["ParamSpec", "as_param_dict", "dict_to_vector", "validate_grads", "vector_to_dict"]


def as_param_dict(params, what="params"):
    """Validate ``params`` and return it as a dict of float arrays (not copies).

    A bare array is named ``"theta"``. Integer, boolean or object arrays are
    rejected: a gradient needs floats.
    """
    if isinstance(params, dict):
        if not params:
            raise ValueError(f"{what} is an empty dict: there is nothing to differentiate")
        items = params.items()
    else:
        items = [("theta", params)]
    out = {}
    for name, value in items:
        if not isinstance(name, str):
            raise TypeError(f"{what} keys must be strings like 'W1', got {name!r}")
        arr = value if isinstance(value, np.ndarray) else np.asarray(value)
        label = f"{what}[{name!r}]" if isinstance(params, dict) else what
        if arr.dtype == object:
            raise TypeError(f"{label} is not a numeric array: give a numpy float array")
        if not np.issubdtype(arr.dtype, np.inexact):
            raise TypeError(
                f"{label} has dtype {arr.dtype}: gradients need floating-point arrays. If "
                "it is a parameter, convert it with .astype(float); if it is data such as "
                "labels or indices, leave it out (use it inside f), or check the layer with "
                "gk.check_vjp, which passes integer inputs through unchanged"
            )
        out[name] = arr
    return out


@dataclass(frozen=True)
class ParamSpec:
    """Names, shapes and dtypes of a parameter dict, in order.

    Attributes
    ----------
    names : tuple of str
    shapes : tuple of tuple of int
    dtypes : tuple of numpy dtype
    """

    names: tuple
    shapes: tuple
    dtypes: tuple

    @property
    def sizes(self):
        return tuple(int(np.prod(s)) for s in self.shapes)

    @property
    def size(self):
        """Total number of entries."""
        return sum(self.sizes)

    @property
    def offsets(self):
        """Start of each tensor in the flat vector."""
        return tuple(int(o) for o in np.cumsum((0,) + self.sizes[:-1]))

    def slice_of(self, name):
        """The slice of the flat vector that holds tensor ``name``."""
        i = self._index(name)
        start = self.offsets[i]
        return slice(start, start + self.sizes[i])

    def locate(self, flat_index):
        """Which tensor and entry a flat index is: ``(name, index tuple)``."""
        flat_index = int(flat_index)
        if not 0 <= flat_index < self.size:
            raise IndexError(f"flat index {flat_index} is outside 0..{self.size - 1}")
        for name, shape, start, size in zip(self.names, self.shapes, self.offsets, self.sizes):
            if flat_index < start + size:
                return name, tuple(int(i) for i in np.unravel_index(flat_index - start, shape))
        raise AssertionError("unreachable")  # pragma: no cover

    def _index(self, name):
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"{name!r} is not one of {', '.join(self.names)}") from None


def dict_to_vector(params, spec=None):
    """Flatten a dict of arrays into one vector, in the dict's order.

    Parameters
    ----------
    params : dict of str to ndarray
        E.g. ``{"W1": (n1, n0), "b1": (n1, 1), ..., "WL": ..., "bL": ...}``,
        any number of layers.
    spec : ParamSpec, optional
        Flatten in this spec's order and check names and shapes against it
        (use the params' spec to flatten their grads in the same order).

    Returns
    -------
    theta : ndarray of shape (P,)
        All entries, tensor after tensor, each in C (row-major) order.
    spec : ParamSpec
        What ``vector_to_dict`` needs to rebuild the dict.

    Examples
    --------
    >>> import numpy as np
    >>> theta, spec = dict_to_vector({"W1": np.ones((2, 3)), "b1": np.zeros((2, 1))})
    >>> theta.shape, spec.locate(6)
    ((8,), ('b1', (0, 0)))
    """
    pdict = as_param_dict(params, "params")
    if spec is None:
        spec = ParamSpec(
            names=tuple(pdict),
            shapes=tuple(a.shape for a in pdict.values()),
            dtypes=tuple(a.dtype for a in pdict.values()),
        )
    else:
        missing = [n for n in spec.names if n not in pdict]
        if missing:
            raise ValueError(f"params has no {', '.join(missing)} (the spec expects them)")
        for name, shape in zip(spec.names, spec.shapes):
            if pdict[name].shape != shape:
                raise ValueError(
                    f"params[{name!r}] has shape {pdict[name].shape}, the spec expects {shape}"
                )
    if not spec.names:
        return np.zeros(0), spec
    theta = np.concatenate([np.ravel(pdict[name]) for name in spec.names])
    return theta, spec


def vector_to_dict(theta, spec):
    """Rebuild the dict of arrays from a flat vector (copies, in the spec's order).

    Parameters
    ----------
    theta : ndarray of shape (P,)
    spec : ParamSpec
        From ``dict_to_vector``.

    Returns
    -------
    dict of str to ndarray
        Each tensor with its original shape (and dtype, unless theta is complex).
    """
    theta = np.asarray(theta)
    if theta.ndim != 1 or theta.size != spec.size:
        raise ValueError(
            f"theta has shape {theta.shape}, expected ({spec.size},) for "
            f"{', '.join(spec.names)}: pass the vector dict_to_vector returned"
        )
    out = {}
    for name, shape, dtype, start, size in zip(
        spec.names, spec.shapes, spec.dtypes, spec.offsets, spec.sizes
    ):
        part = theta[start:start + size].reshape(shape)
        out[name] = part.copy() if np.iscomplexobj(theta) else part.astype(dtype, copy=True)
    return out


def validate_grads(grads, pdict, bare=False):
    """Check that ``grads`` mirrors ``pdict`` (keys, shapes, finite floats); return it as a dict.

    Messages name the parameter and the fix: a reversed shape says
    "transposed?", a ``dW1`` key says to name gradients like the params.
    """
    if bare and isinstance(grads, dict):
        raise TypeError("params is an array but grads is a dict: pass both the same way")
    if not bare and not isinstance(grads, dict):
        raise TypeError(
            f"params is a dict but grads is {type(grads).__name__}: pass grads as a dict "
            f"with the same keys ({', '.join(pdict)})"
        )
    gdict = as_param_dict(grads, "grads")
    missing = [k for k in pdict if k not in gdict]
    extra = [k for k in gdict if k not in pdict]
    if missing or extra:
        msg = "grads must have the same keys as params"
        if missing:
            msg += f"; missing: {', '.join(missing)}"
        if extra:
            msg += f"; not in params: {', '.join(extra)}"
            if any(k.startswith("d") and k[1:] in pdict for k in extra):
                msg += " (name gradients like the params: 'W1', not 'dW1')"
        raise ValueError(msg)
    for name, p in pdict.items():
        g = gdict[name]
        label = f"grads[{name!r}]" if not bare else "grads"
        if g.shape != p.shape:
            msg = (f"{label} has shape {g.shape} but params[{name!r}] has shape {p.shape}: "
                   "a gradient has the shape of its parameter")
            if g.shape == p.shape[::-1] and len(p.shape) == 2:
                msg += "; it looks transposed? (dW = dZ @ A_prev.T has W's shape)"
            elif g.size == p.size:
                msg += f"; reshape it with .reshape{p.shape}"
            elif len(p.shape) == 2 and p.shape[1] == 1:
                msg += "; for a bias, sum over examples with axis=1, keepdims=True"
            raise ValueError(msg)
        bad = ~np.isfinite(g)
        if bad.any():
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ValueError(
                f"{label} contains {int(bad.sum())} NaN/Inf value(s) (first at index "
                f"{first}): the backward pass overflowed or divided by zero"
            )
    return gdict
