"""Plain data between the student's code and the grader.

What a student's function returns is turned into plain JSON data
(:func:`encode`) in the student's process, checking *exact* types: a float,
an int, a bool, a str, a numpy number, a numeric ndarray, or a list/tuple of
those. Anything else (an object with ``__eq__`` always true, a float subclass
with a lying ``__float__``) is refused with a message, before any comparison.
The grader rebuilds floats and float arrays from that data (:func:`decode`)
and compares them itself (:func:`compare`). Functions used here are bound at
import, so a student's later monkeypatching of ``numpy`` or ``json`` does not
change them.
"""

import json
import math

import numpy as np

__all__ = ["NotPlainError", "compare", "decode", "dumps", "encode", "loads", "show"]

_ndarray = np.ndarray
_view = np.ndarray.view
_tolist = np.ndarray.tolist
_isfinite = math.isfinite
_dumps = json.dumps
_loads = json.loads
_EXACT_SCALARS = (bool, int, float)
_NUMPY_KINDS = "biuf"


class NotPlainError(TypeError):
    """A returned value that is not a number, an array of numbers, or a str."""


def encode(value, _depth=0):
    """Return ``value`` as JSON-ready plain data, or raise :class:`NotPlainError`.

    Arrays become ``{"array": shape, "data": flat list}``; complex numbers
    ``{"complex": [re, im]}``; tuples become lists.
    """
    if _depth > 20:
        raise NotPlainError("the returned value is nested more than 20 levels deep")
    kind = type(value)
    if kind in _EXACT_SCALARS:
        return float(value) if kind is float else int(value) if kind is int else bool(value)
    if kind is complex:
        return {"complex": [complex.__getattribute__(value, "real"), value.imag]}
    if kind is str:
        return str.__str__(value)
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        if value.dtype.kind in _NUMPY_KINDS:
            return value.item()
        if value.dtype.kind == "c":
            return {"complex": [float(value.real), float(value.imag)]}
        raise NotPlainError(f"returned a numpy {value.dtype} scalar, expected a number")
    if isinstance(value, _ndarray):
        base = _view(value, _ndarray)
        if base.dtype.kind in _NUMPY_KINDS:
            return {"array": list(base.shape), "data": _tolist(base.astype(float).ravel())}
        if base.dtype.kind == "c":
            flat = base.astype(complex).ravel()
            return {"array": list(base.shape), "data": _tolist(flat.real),
                    "imag": _tolist(flat.imag)}
        raise NotPlainError(
            f"returned an array of dtype {base.dtype}, expected numbers; "
            "build it with np.array(..., dtype=float)"
        )
    if kind in (list, tuple):
        return [encode(item, _depth + 1) for item in value]
    if value is None:
        raise NotPlainError("returned None: did you forget the `return` statement?")
    raise NotPlainError(
        f"returned an object of type {kind.__name__}; expected a number, a numpy array, "
        "or a tuple of them"
    )


def dumps(value):
    """Encode ``value`` and serialize it to one line of JSON."""
    return _dumps(encode(value), allow_nan=True)


def loads(text):
    """Parse one line of JSON written by :func:`dumps` (no code runs)."""
    return _loads(text)


def decode(data, _depth=0):
    """Rebuild Python floats, complex numbers and float arrays from plain data.

    Raises
    ------
    ValueError
        If ``data`` is not of the shape :func:`encode` writes.
    """
    if _depth > 20:
        raise ValueError("plain data nested too deeply")
    if isinstance(data, bool):
        return bool(data)
    if isinstance(data, (int, float)):
        return float(data)
    if isinstance(data, str):
        return str(data)
    if isinstance(data, list):
        return [decode(item, _depth + 1) for item in data]
    if isinstance(data, dict) and set(data) == {"complex"}:
        re_, im_ = data["complex"]
        return complex(float(re_), float(im_))
    if isinstance(data, dict) and set(data) in ({"array", "data"}, {"array", "data", "imag"}):
        shape = tuple(int(n) for n in data["array"])
        out = np.asarray(data["data"], dtype=float)
        if "imag" in data:
            out = out + 1j * np.asarray(data["imag"], dtype=float)
        return out.reshape(shape)
    raise ValueError(f"not plain data: {type(data).__name__}")


def _numeric(value):
    return isinstance(value, (float, complex, np.ndarray)) and not isinstance(value, bool)


def compare(received, expected, rtol=1e-6, atol=1e-9):
    """Compare decoded values; return ``(ok, why)`` with ``why`` empty when ok.

    Numbers and arrays must match in shape and agree as in ``np.allclose``
    (NaN never matches); strings must be equal; lists must match item by
    item. A plain number is accepted where a shape-``()`` or size-1 result
    is expected, and vice versa.
    """
    if isinstance(expected, list):
        if not isinstance(received, list):
            return False, f"expected {len(expected)} values (a tuple), received {show(received)}"
        if len(received) != len(expected):
            return False, f"expected {len(expected)} values, received {len(received)}"
        for i, (r, e) in enumerate(zip(received, expected, strict=True)):
            ok, why = compare(r, e, rtol, atol)
            if not ok:
                return False, f"value {i + 1}: {why}"
        return True, ""
    if isinstance(expected, str) or isinstance(received, str):
        if received == expected:
            return True, ""
        return False, f"expected {show(expected)}, received {show(received)}"
    if isinstance(expected, bool) or isinstance(received, bool):
        if type(received) is type(expected) and received == expected:
            return True, ""
        return False, f"expected {show(expected)}, received {show(received)}"
    if not (_numeric(received) and _numeric(expected)):
        return False, f"expected {show(expected)}, received {show(received)}"
    r = np.asarray(received)
    e = np.asarray(expected)
    if r.shape != e.shape and not (r.size == 1 and e.size == 1):
        return False, (
            f"expected an array of shape {e.shape}, received shape {r.shape}"
            + (": it looks transposed" if r.shape == e.shape[::-1] else "")
        )
    r = r.reshape(e.shape)
    if np.iscomplexobj(r) and not np.iscomplexobj(e):
        if np.any(r.imag != 0):
            return False, f"expected a real result, received complex {show(received)}"
        r = r.real
    if np.allclose(r, e, rtol=rtol, atol=atol, equal_nan=False):
        return True, ""
    return False, f"expected {show(expected)}, received {show(received)}"


def show(value, digits=6):
    """Format a decoded value briefly and stably (``digits`` significant digits)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, complex):
        return f"{value.real:.{digits}g}{value.imag:+.{digits}g}j"
    if isinstance(value, str):
        return repr(value if len(value) < 60 else value[:57] + "...")
    if isinstance(value, np.ndarray):
        return np.array2string(
            value, precision=digits, threshold=8, edgeitems=2, separator=", ",
            max_line_width=80, floatmode="maxprec",
        ).replace("\n", "")
    if isinstance(value, list):
        return "(" + ", ".join(show(v, digits) for v in value) + ")"
    return f"<{type(value).__name__}>"
