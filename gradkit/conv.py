"""Convolution and max pooling for images, as forward/backward pairs.

Conventions, shared with :mod:`gradkit.layers` (and different from :mod:`gradkit.nn`):

- Row-major examples: a batch ``x`` has the ``N`` examples on its *first*
  axis, and images have shape ``(N, C, H, W)`` (channels, height, width).
- ``out, cache = X_forward(x, w, b, ..., **consts)`` and
  ``dx, dw, db = X_backward(dout, cache)``: ``dout`` is ``dJ/dout`` for some
  scalar ``J``, and the backward returns one gradient per positional array of
  the forward, in order, always as a tuple (``(dx,)`` for max pooling).
- A backward never modifies ``dout`` or the arrays in its cache, so the same
  cache can be used for several checks.

As in::

    out, cache = conv2d_forward(x, w, b, stride=2, pad=1)
    dx, dw, db = conv2d_backward(dout, cache)

Both layers loop over the output positions and use numpy slicing for the
windows: slow for big images, but each line is one step of the math.
"""

import numpy as np

__all__ = [
    "conv2d_backward",
    "conv2d_forward",
    "max_pool_backward",
    "max_pool_forward",
]


def _as_inexact(a):
    # integer inputs (e.g. an integer-valued test image) become float64; float32
    # and complex arrays keep their dtype, so complex-step checks still work
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.inexact) else a.astype(np.float64)


def _positive_int(func, name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{func}: {name}={value!r} is a {type(value).__name__}, expected an "
                        f"integer >= {minimum}")
    if value < minimum:
        raise ValueError(f"{func}: {name}={value}, expected an integer >= {minimum}")
    return int(value)


def _output_size(func, axis, size, window, window_name, stride, pad=None):
    """Window positions along one axis (``pad=None``: a layer without padding), or a ValueError."""
    letter = axis[0].upper()
    padded = size + 2 * (pad or 0)
    if pad is None:
        extent, change = f"{letter} = {size}", "stride"
    else:
        extent, change = f"{letter} + 2*pad = {size} + 2*{pad} = {padded}", "pad or stride"
    if window > padded:
        raise ValueError(
            f"{func}: the window is larger than the input along the {axis}: "
            f"{window_name}={window} > {extent}: use a smaller window"
            + ("" if pad is None else " or a larger pad"))
    formula = f"{letter} - {window_name}" if pad is None else f"{letter} + 2*pad - {window_name}"
    numbers = f"{size} - {window}" if pad is None else f"{size} + 2*{pad} - {window}"
    if (padded - window) % stride:
        raise ValueError(
            f"{func}: stride={stride} does not tile the {axis}: {formula} = {numbers} = "
            f"{padded - window} is not a multiple of {stride}, so the last window would hang "
            f"over the edge: change {change} (stride=1 always fits)")
    return 1 + (padded - window) // stride


def conv2d_forward(x, w, b, stride=1, pad=0):
    """2-D convolution (cross-correlation, as in every deep-learning library).

    ``out[n, f, i, j] = sum_{c, p, q} x_pad[n, c, i*stride + p, j*stride + q] * w[f, c, p, q]
    + b[f]``, where ``x_pad`` is ``x`` with ``pad`` zeros on each side of H and W.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
        A batch of ``N`` images with ``C`` channels.
    w : ndarray of shape (F, C, HH, WW)
        ``F`` filters, each spanning all ``C`` channels.
    b : ndarray of shape (F,)
        One bias per filter.
    stride : int, default 1
        Step between two window positions, the same along H and W.
    pad : int, default 0
        Zeros added on each side of H and W.

    Returns
    -------
    out : ndarray of shape (N, F, H', W')
        ``H' = 1 + (H + 2*pad - HH) / stride`` and ``W' = 1 + (W + 2*pad - WW) / stride``.
    cache : tuple ``(x, w, b, stride, pad)``

    Raises
    ------
    ValueError
        If a shape does not match, or if ``stride`` does not tile the padded
        input exactly.
    TypeError
        If ``stride`` or ``pad`` is not an integer.

    Examples
    --------
    >>> x, w, b = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3)), np.zeros(1)
    >>> out, cache = conv2d_forward(x, w, b, stride=1, pad=1)
    >>> out.shape
    (1, 1, 4, 4)
    >>> float(out[0, 0, 0, 0])   # a corner window sees 2 x 2 ones
    4.0
    """
    func = "conv2d_forward"
    x, w, b = _as_inexact(x), _as_inexact(w), _as_inexact(b)
    if x.ndim != 4:
        hint = ": add a batch axis with x[None] for a single image" if x.ndim == 3 else ""
        raise ValueError(f"{func}: x has shape {x.shape}, expected (N, C, H, W){hint}")
    if w.ndim != 4:
        raise ValueError(f"{func}: w has shape {w.shape}, expected (F, C, HH, WW)")
    N, C, H, W = x.shape
    F, C_w, HH, WW = w.shape
    if C_w != C:
        raise ValueError(f"{func}: w has shape {w.shape}, so {C_w} channels, but x has "
                         f"shape {x.shape}, so {C}: w must have shape (F, {C}, HH, WW)")
    if b.shape != (F,):
        hint = ": use b.ravel()" if b.size == F else ""
        raise ValueError(f"{func}: b has shape {b.shape}, expected ({F},), one bias per "
                         f"filter of w{hint}")
    stride = _positive_int(func, "stride", stride)
    pad = _positive_int(func, "pad", pad, minimum=0)
    H_out = _output_size(func, "height", H, HH, "HH", stride, pad)
    W_out = _output_size(func, "width", W, WW, "WW", stride, pad)

    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for i in range(H_out):
        for j in range(W_out):
            window = x_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW]
            # (N, C, HH, WW) . (F, C, HH, WW) over C, HH, WW -> (N, F)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return out, (x, w, b, stride, pad)


def conv2d_backward(dout, cache):
    """Backward pass of :func:`conv2d_forward`.

    Parameters
    ----------
    dout : ndarray of shape (N, F, H', W')
        ``dJ/dout``.
    cache : tuple ``(x, w, b, stride, pad)`` from :func:`conv2d_forward`.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        Each window of ``x`` receives ``sum_f dout[n, f, i, j] * w[f]``; where
        windows overlap (``stride < HH``) their contributions add up.
    dw : ndarray of shape (F, C, HH, WW)
        ``sum_{n, i, j} dout[n, f, i, j] * window(n, i, j)``: each filter weight
        touches every window.
    db : ndarray of shape (F,)
        ``dout`` summed over ``N``, ``H'`` and ``W'``, since ``b[f]`` is added
        at every position of every image.
    """
    x, w, _, stride, pad = cache
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros(x_pad.shape, dtype=np.result_type(dout, x, w))
    dw = np.zeros(w.shape, dtype=dx_pad.dtype)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + HH)
            cols = slice(j * stride, j * stride + WW)
            g = dout[:, :, i, j]                                          # (N, F)
            dw += np.tensordot(g, x_pad[:, :, rows, cols], axes=([0], [0]))
            dx_pad[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    # the padding zeros are constants: their gradient is dropped
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W].copy()
    return dx, dw, dout.sum(axis=(0, 2, 3))


def max_pool_forward(x, pool=2, stride=2):
    """Max pooling over ``pool x pool`` windows, channel by channel.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    pool : int, default 2
        Height and width of a window.
    stride : int, default 2
        Step between two windows (``stride < pool`` makes them overlap).

    Returns
    -------
    out : ndarray of shape (N, C, H', W')
        ``H' = 1 + (H - pool) / stride``, ``W' = 1 + (W - pool) / stride``.
    cache : tuple ``(x, argmax, pool, stride)``
        ``argmax`` of shape (N, C, H', W') is the flat index, within its
        window, of the maximum that gets the gradient.

    Raises
    ------
    ValueError
        If ``x`` is not 4-D, or ``stride`` does not tile ``H`` and ``W``.

    Notes
    -----
    Where a window holds several equal maxima the max is not differentiable.
    The backward sends the whole gradient to exactly one of them, the first
    in row-major order (what ``np.argmax`` returns). That is a valid
    subgradient; splitting the gradient between the ties is another one, but
    giving it in full to *each* tie is not.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> out, cache = max_pool_forward(x)
    >>> out[0, 0].tolist()
    [[5.0, 7.0], [13.0, 15.0]]
    """
    func = "max_pool_forward"
    x = _as_inexact(x)
    if x.ndim != 4:
        hint = ": add a batch axis with x[None] for a single image" if x.ndim == 3 else ""
        raise ValueError(f"{func}: x has shape {x.shape}, expected (N, C, H, W){hint}")
    pool = _positive_int(func, "pool", pool)
    stride = _positive_int(func, "stride", stride)
    N, C, H, W = x.shape
    H_out = _output_size(func, "height", H, pool, "pool", stride)
    W_out = _output_size(func, "width", W, pool, "pool", stride)

    out = np.empty((N, C, H_out, W_out), dtype=x.dtype)
    argmax = np.empty((N, C, H_out, W_out), dtype=np.intp)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride:i * stride + pool, j * stride:j * stride + pool]
            flat = window.reshape(N, C, pool * pool)
            k = flat.argmax(axis=2)                                       # first maximum
            argmax[:, :, i, j] = k
            out[:, :, i, j] = np.take_along_axis(flat, k[:, :, None], axis=2)[:, :, 0]
    return out, (x, argmax, pool, stride)


def max_pool_backward(dout, cache):
    """Backward pass of :func:`max_pool_forward`.

    Parameters
    ----------
    dout : ndarray of shape (N, C, H', W')
    cache : tuple ``(x, argmax, pool, stride)`` from :func:`max_pool_forward`.

    Returns
    -------
    (dx,) : tuple of one ndarray of shape (N, C, H, W)
        Zero except at the one maximum of each window, which receives that
        window's ``dout``; with overlapping windows a pixel that is the
        maximum of several collects the sum.
    """
    x, argmax, pool, stride = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros(x.shape, dtype=np.result_type(dout, x))
    n, c = np.ogrid[:N, :C]
    for i in range(H_out):
        for j in range(W_out):
            p, q = np.divmod(argmax[:, :, i, j], pool)
            # one (n, c) pair per target, so no index repeats within this statement;
            # overlapping windows accumulate across iterations of the loop
            dx[n, c, i * stride + p, j * stride + q] += dout[:, :, i, j]
    return (dx,)
