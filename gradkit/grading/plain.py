"""Plain data between the student's code and the grader.

What a student's function returns is turned into plain JSON data
(:func:`encode`) in the student's process, checking *exact* types: a float,
an int, a bool, a str, a numpy number, a numeric ndarray, a list/tuple of
those, or a dict of them with str keys. Anything else (an object with
``__eq__`` always true, a float subclass
with a lying ``__float__``) is refused with a message, before any comparison.
The grader rebuilds floats and float arrays from that data (:func:`decode`)
and compares them itself (:func:`compare`). Functions used here are bound at
import, so a student's later monkeypatching of ``numpy`` or ``json`` does not
change them.
"""

import json
import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "Mismatch", "NotPlainError", "compare", "decode", "dumps", "encode", "loads", "mismatch",
    "show",
]

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
    ``{"complex": [re, im]}``; tuples become lists; a dict with str keys
    becomes ``{"dict": [[key, value], ...]}`` (its order kept).
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
    if kind is dict:
        items = []
        for key, item in dict.items(value):
            if type(key) is not str:
                raise NotPlainError(
                    f"returned a dict with a key of type {type(key).__name__}; "
                    "use str keys such as 'W1'")
            items.append([str.__str__(key), encode(item, _depth + 1)])
        return {"dict": items}
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
    if isinstance(data, dict) and set(data) == {"dict"}:
        out = {}
        if not isinstance(data["dict"], list):
            raise ValueError("plain data: a dict that is not a list of pairs")
        for pair in data["dict"]:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise ValueError("plain data: a dict item that is not a [key, value] pair")
            key, item = pair
            if not isinstance(key, str):
                raise ValueError("plain data: a dict key that is not a str")
            out[str(key)] = decode(item, _depth + 1)
        return out
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


def _numbers(value):
    """``value`` as a flat float/complex array when it is a number, an array or a flat
    list of numbers (so a tuple of three numbers and an array of three agree), else None."""
    if _numeric(value):
        return np.asarray(value).ravel()
    if isinstance(value, list) and value and all(_numeric(v) and np.ndim(v) == 0 for v in value):
        return np.asarray(value).ravel()
    return None


def _describe(value):
    """What kind of value this is, in a few words, for a message about containers."""
    if isinstance(value, dict):
        keys = ", ".join(map(str, list(value)[:6])) + (", ..." if len(value) > 6 else "")
        return f"a dict with keys {keys}" if value else "an empty dict"
    if isinstance(value, list):
        return f"{len(value)} values" if len(value) != 1 else "1 value"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape}" if value.ndim else "a number"
    if isinstance(value, bool):
        return f"the bool {value}"
    if isinstance(value, (float, complex)):
        return "a number"
    if isinstance(value, str):
        return f"the text {show(value)}"
    return f"a {type(value).__name__}"


@dataclass(frozen=True)
class Mismatch:
    """Why a received value differs from the expected one.

    ``structural`` is True when the *kind* of value is wrong (a dict where a
    tuple was asked, a text where a number was), so that a hint about the
    maths would mislead.
    """

    text: str
    structural: bool = False


def _pair(expected, received, digits=6):
    """Both numbers with the digits it takes to tell them apart (at most 17)."""
    while digits < 17 and show(expected, digits) == show(received, digits):
        digits += 1
    return show(expected, digits), show(received, digits)


def _label(name, index=None):
    if index is None:
        return name or ""
    where = ", ".join(str(int(i)) for i in index)
    return f"{name}[{where}]" if name else f"entry [{where}]"


def _numeric_mismatch(r, e, rtol, atol, name):
    if r.shape != e.shape and not (r.size == 1 and e.size == 1):
        what = f"{name}: " if name else ""
        return Mismatch(
            f"{what}expected shape {e.shape}, received shape {r.shape}"
            + (": it looks transposed" if r.shape == e.shape[::-1] else "")
        )
    r = r.reshape(e.shape)
    if np.iscomplexobj(r) and not np.iscomplexobj(e):
        if np.any(r.imag != 0):
            return Mismatch(f"{name + ': ' if name else ''}expected a real result, received a "
                            "complex one", structural=True)
        r = r.real
    with np.errstate(invalid="ignore", over="ignore"):
        close = np.isclose(r, e, rtol=rtol, atol=atol, equal_nan=False)
        if close.all():
            return None
        excess = np.abs(r - e) - (atol + rtol * np.abs(e))
    excess = np.where(np.isnan(excess), np.inf, excess)
    excess = np.where(close, -np.inf, excess)
    flat = int(np.argmax(excess))
    want, got = _pair(e.ravel()[flat], r.ravel()[flat])
    if e.size == 1:
        prefix = f"{name}: " if name else ""
        return Mismatch(f"{prefix}expected {want}, received {got}")
    index = np.unravel_index(flat, e.shape)
    bad = int((~close).sum())
    return Mismatch(
        f"{_label(name, None) or 'the array'} {e.shape}: {bad} of {e.size} entries differ; "
        f"worst {_label(name, index)}: expected {want}, received {got}"
    )


def mismatch(received, expected, rtol=1e-6, atol=1e-9, names=None, name=""):
    """Return a :class:`Mismatch` saying how ``received`` differs, or None if it matches.

    Parameters
    ----------
    received, expected : decoded plain values
    rtol, atol : float
        As in ``np.isclose``; NaN never matches.
    names : sequence of str, optional
        Names of the values of a tuple result, e.g. ``("dA_prev", "dW", "db")``,
        used instead of "value 2". Dict results are named by their keys.
    name : str
        The name of this value inside a larger one (used when recursing).
    """
    if names and len(names) == 1 and not name and not isinstance(expected, list):
        name = names[0]  # a function that returns one value, e.g. dx
    if isinstance(expected, dict):
        if not isinstance(received, dict):
            return Mismatch(f"expected {_describe(expected)}, received {_describe(received)}",
                            structural=True)
        missing = [k for k in expected if k not in received]
        extra = [k for k in received if k not in expected]
        if missing or extra:
            parts = ([f"missing keys {', '.join(map(str, missing))}"] if missing else []) + (
                [f"unexpected keys {', '.join(map(str, extra))}"] if extra else [])
            return Mismatch(f"{name + ': ' if name else ''}" + "; ".join(parts), structural=True)
        return _collect([(str(k), received[k], v) for k, v in expected.items()], rtol, atol)
    if isinstance(expected, list):
        want, got = _numbers(expected), _numbers(received)
        if want is not None and got is not None and want.size == got.size and not (
                isinstance(received, list)):
            return _numeric_mismatch(got, want, rtol, atol, name)  # values, not containers
        if not isinstance(received, list):
            listed = f" ({', '.join(names)})" if names and len(names) == len(expected) else ""
            return Mismatch(
                f"{name + ': ' if name else ''}expected {len(expected)} values{listed} "
                f"in a tuple or list, received {_describe(received)}", structural=True)
        if len(received) != len(expected):
            return Mismatch(f"{name + ': ' if name else ''}expected {len(expected)} values, "
                            f"received {len(received)}", structural=True)
        if _named_pairs(expected) and _named_pairs(received):
            # [(name, value), ...]: label each value by its name
            want, got = [k for k, _ in expected], [k for k, _ in received]
            if want != got:
                return Mismatch(f"{name + ': ' if name else ''}expected the names "
                                f"{', '.join(want)} in this order, received {', '.join(got)}")
            return _collect([(f"{name}[{k!r}]" if name else k, r[1], e[1])
                             for k, r, e in zip([k for k, _ in expected], received, expected,
                                                strict=True)], rtol, atol)
        labels = [
            (names[i] if names and len(names) == len(expected) and not name
             else f"{name}[{i}]" if name else f"value {i + 1}")
            for i in range(len(expected))
        ]
        return _collect(list(zip(labels, received, expected, strict=True)), rtol, atol)
    if isinstance(expected, str) or isinstance(received, str):
        if isinstance(expected, str) and isinstance(received, str) and received == expected:
            return None
        if isinstance(expected, str) and isinstance(received, str):
            return Mismatch(f"{name + ': ' if name else ''}expected {show(expected)}, "
                            f"received {show(received)}")
        return Mismatch(f"{name + ': ' if name else ''}expected {_describe(expected)}, "
                        f"received {_describe(received)}", structural=True)
    if isinstance(expected, bool) or isinstance(received, bool):
        if type(received) is type(expected) and received == expected:
            return None
        structural = type(received) is not type(expected)
        return Mismatch(f"{name + ': ' if name else ''}expected {show(expected)}, "
                        f"received {show(received)}", structural=structural)
    got = _numbers(received)
    if not _numeric(expected) or got is None:
        return Mismatch(f"{name + ': ' if name else ''}expected {_describe(expected)}, "
                        f"received {_describe(received)}", structural=True)
    r = np.asarray(received) if _numeric(received) else got
    return _numeric_mismatch(r, np.asarray(expected), rtol, atol, name)


def _named_pairs(value):
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, list) and len(v) == 2 and isinstance(v[0], str) for v in value)


def _collect(items, rtol, atol):
    """Compare named parts; one line naming every part that differs (at most 3 in full)."""
    found = []
    for label, r, e in items:
        m = mismatch(r, e, rtol, atol, name=label)
        if m is not None:
            found.append(m)
    if not found:
        return None
    text = "; ".join(m.text for m in found[:3])
    if len(found) > 3:
        text += f"; and {len(found) - 3} more differ"
    return Mismatch(text, structural=any(m.structural for m in found))


def compare(received, expected, rtol=1e-6, atol=1e-9, names=None):
    """Compare decoded values; return ``(ok, why)`` with ``why`` empty when ok.

    Numbers and arrays must match in shape and agree as in ``np.isclose``
    (NaN never matches); strings must be equal; lists must match item by
    item and dicts key by key. The numbers count, not the container: a plain
    number is accepted where a size-1 result is expected, and an array of
    three numbers where a tuple of three numbers is (and vice versa).
    ``why`` names each value that differs (by ``names`` or dict key), its
    shape, how many entries differ and the worst one, with the digits it
    takes to tell expected from received.
    """
    m = mismatch(received, expected, rtol, atol, names)
    return (True, "") if m is None else (False, m.text)


def show(value, digits=6):
    """Format a decoded value briefly and stably (``digits`` significant digits).

    Arrays of more than 6 entries are summarized by their shape: a student
    reads the worst entry in the message, never a screen of numbers.
    """
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, complex):
        return f"{value.real:.{digits}g}{value.imag:+.{digits}g}j"
    if isinstance(value, str):
        return repr(value if len(value) < 60 else value[:57] + "...")
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return show(value.item(), digits)
        if value.size > 6:
            return f"array {value.shape}"
        return np.array2string(
            value, precision=digits, separator=", ", max_line_width=200, floatmode="maxprec",
        ).replace("\n", "")
    if isinstance(value, dict):
        if len(value) > 4:
            return "{" + ", ".join(map(str, value)) + "}"
        return "{" + ", ".join(f"{k}: {_brief(v, digits)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        items = [_brief(v, digits) for v in value[:6]] + (["..."] if len(value) > 6 else [])
        return "(" + ", ".join(items) + ")"
    return f"<{type(value).__name__}>"


def _brief(value, digits):
    """An item inside a tuple or dict: arrays by their shape, numbers in full."""
    if isinstance(value, np.ndarray) and value.size > 1:
        return f"array {value.shape}"
    if isinstance(value, (list, dict)):
        return f"({len(value)} values)"
    return show(value, digits)
