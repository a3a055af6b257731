"""An independent oracle for the layer tests: autograd's vector-Jacobian product.

Each test writes its layer's forward a second time in ``autograd.numpy``;
``autograd_vjp`` differentiates that copy, and ``assert_gradients_match``
compares it with gradkit's backward, naming the first gradient that differs.
"""

import numpy as np
from autograd import make_vjp

RTOL = 1e-9


def relative_difference(got, want):
    """Normwise ``|got - want| / (|got| + |want|)``: 0 if both are zero, inf if shapes differ."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return np.inf
    scale = np.linalg.norm(got) + np.linalg.norm(want)
    return 0.0 if scale == 0 else float(np.linalg.norm(got - want) / scale)


def autograd_vjp(oracle, arrays, dout):
    """``(out, grads)``: the oracle's output and ``dout`` pulled back to every array argument."""
    vjp, out = make_vjp(oracle, argnum=tuple(range(len(arrays))))(*arrays)
    return out, vjp(dout)


def assert_gradients_match(names, got, want, rtol=RTOL):
    assert len(got) == len(names), f"the backward returned {len(got)} gradients for {names}"
    for name, g, w in zip(names, got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.shape == w.shape, f"{name} has shape {g.shape}, autograd's {w.shape}"
        rel = relative_difference(g, w)
        assert rel < rtol, f"{name}: relative difference {rel:.2e} from autograd (> {rtol:g})"


def changed_arrays(backward, dout, cache):
    """Run ``backward`` and name what it modified: ``dout`` or the cache's arrays."""
    before_dout = np.array(dout, copy=True)
    before = [np.array(item, copy=True) if isinstance(item, np.ndarray) else None
              for item in cache]
    backward(dout, cache)
    changed = [] if np.array_equal(np.asarray(dout), before_dout) else ["dout"]
    changed += [f"cache[{k}]" for k, (item, old) in enumerate(zip(cache, before))
                if old is not None and not np.array_equal(item, old)]
    return changed
