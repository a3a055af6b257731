"""Batch norm, layer norm, softmax cross-entropy and an RNN step, as forward/backward pairs.

The image layers (convolution, max pooling) live in :mod:`gradkit.conv`, with
the same conventions, which differ from :mod:`gradkit.nn`:

- Row-major examples: a batch ``x`` of shape ``(N, D)`` has one *row* per
  example; parameters such as ``gamma`` and ``b`` are 1-D, shape ``(D,)``.
- ``out, cache = X_forward(x, w, b, ..., **consts)`` and
  ``dx, dw, db = X_backward(dout, cache)``: ``dout`` is ``dJ/dout`` for some
  scalar ``J``, and the backward returns one gradient per positional array of
  the forward, in order, always as a tuple (``(dscores,)`` for the loss).
- The loss is a mean over the ``N`` examples; its backward takes the upstream
  scalar ``dloss`` (1.0 when the loss is the cost itself).
- A backward never modifies ``dout`` or the arrays in its cache.

As in::

    out, bn_cache = batchnorm_forward(x, gamma, beta)
    loss, loss_cache = softmax_cross_entropy_forward(out, y)
    (dout,) = softmax_cross_entropy_backward(1.0, loss_cache)
    dx, dgamma, dbeta = batchnorm_backward(dout, bn_cache)
"""

import numpy as np

from gradkit.conv import _as_inexact

__all__ = [
    "batchnorm_backward",
    "batchnorm_forward",
    "layernorm_backward",
    "layernorm_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
]


def _check_shape(func, name, a, expected, described):
    """Raise a ValueError naming ``a``'s shape and the one expected (``None`` = any size)."""
    if a.ndim != len(expected) or any(e is not None and s != e
                                      for s, e in zip(a.shape, expected)):
        hint = ""
        if len(expected) == 1 and a.size == expected[0]:
            hint = f": use {name}.ravel()"
        raise ValueError(f"{func}: {name} has shape {a.shape}, expected {described}{hint}")


def _normalize_forward(func, x, gamma, beta, eps, axis):
    x, gamma, beta = _as_inexact(x), _as_inexact(gamma), _as_inexact(beta)
    _check_shape(func, "x", x, (None, None), "(N, D)")
    D = x.shape[1]
    _check_shape(func, "gamma", gamma, (D,), f"({D},), one scale per feature of x")
    _check_shape(func, "beta", beta, (D,), f"({D},), one shift per feature of x")
    mu = x.mean(axis=axis, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=axis, keepdims=True)   # biased: divides by the count
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma, axis)


def _normalize_backward(dout, cache):
    x_hat, inv_std, gamma, axis = cache
    n = x_hat.shape[axis]
    dgamma = (dout * x_hat).sum(axis=0)
    dbeta = dout.sum(axis=0)
    dx_hat = dout * gamma
    # x_hat = (x - mu) * inv_std, with mu and var functions of x too: three terms,
    # from x directly, through the mean, and through the variance
    dx = inv_std / n * (n * dx_hat
                        - dx_hat.sum(axis=axis, keepdims=True)
                        - x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True))
    return dx, dgamma, dbeta


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Batch normalization in training mode: statistics of the batch, per feature.

    ``x_hat = (x - mu) / sqrt(var + eps)`` with ``mu`` and ``var`` the mean and
    (biased) variance over the ``N`` examples (axis 0); ``out = gamma * x_hat + beta``.
    No running averages are kept: this is the layer a gradient check sees.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    gamma : ndarray of shape (D,)
        Scale, one per feature.
    beta : ndarray of shape (D,)
        Shift, one per feature.
    eps : float, default 1e-5
        Added to the variance so a constant feature does not divide by 0.

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : tuple ``(x_hat, inv_std, gamma, axis)``
        ``x_hat`` of shape (N, D), ``inv_std = 1/sqrt(var + eps)`` of shape (1, D).

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or ``gamma``, ``beta`` are not of shape (D,).

    Examples
    --------
    >>> x = np.array([[1.0, 10.0], [3.0, 30.0]])
    >>> out, cache = batchnorm_forward(x, np.ones(2), np.zeros(2))
    >>> np.round(out, 3).tolist()
    [[-1.0, -1.0], [1.0, 1.0]]
    """
    return _normalize_forward("batchnorm_forward", x, gamma, beta, eps, axis=0)


def batchnorm_backward(dout, cache):
    """Backward pass of :func:`batchnorm_forward`, with the full gradient through the statistics.

    Parameters
    ----------
    dout : ndarray of shape (N, D)
    cache : tuple from :func:`batchnorm_forward`.

    Returns
    -------
    dx : ndarray of shape (N, D)
        With ``g = dout * gamma``, per feature:
        ``dx = inv_std / N * (N*g - sum_n g - x_hat * sum_n(g * x_hat))``.
        Dropping the last two terms (treating ``mu`` and ``var`` as constants)
        is the classic bug; a gradient check catches it.
    dgamma : ndarray of shape (D,)
        ``sum_n dout * x_hat``.
    dbeta : ndarray of shape (D,)
        ``sum_n dout``.
    """
    return _normalize_backward(dout, cache)


def layernorm_forward(x, gamma, beta, eps=1e-5):
    """Layer normalization: each example normalized over its own ``D`` features (axis 1).

    As :func:`batchnorm_forward`, with ``mu`` and ``var`` per row instead of
    per column; the same in training and at test time.

    Parameters
    ----------
    x : ndarray of shape (N, D)
    gamma : ndarray of shape (D,)
    beta : ndarray of shape (D,)
    eps : float, default 1e-5

    Returns
    -------
    out : ndarray of shape (N, D)
    cache : tuple ``(x_hat, inv_std, gamma, axis)``
        ``inv_std`` of shape (N, 1).

    Raises
    ------
    ValueError
        If ``x`` is not 2-D or ``gamma``, ``beta`` are not of shape (D,).
    """
    return _normalize_forward("layernorm_forward", x, gamma, beta, eps, axis=1)


def layernorm_backward(dout, cache):
    """Backward pass of :func:`layernorm_forward`.

    Returns
    -------
    dx : ndarray of shape (N, D)
        The batch-norm formula with the sums over the features of each row:
        ``dx = inv_std / D * (D*g - sum_d g - x_hat * sum_d(g * x_hat))``, ``g = dout * gamma``.
    dgamma : ndarray of shape (D,)
        ``sum_n dout * x_hat`` (still over the examples: gamma is shared by all rows).
    dbeta : ndarray of shape (D,)
        ``sum_n dout``.
    """
    return _normalize_backward(dout, cache)


def _check_labels(func, y, N, C):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape == (N, C):
        raise ValueError(f"{func}: y has shape {y.shape}, expected integer labels of shape "
                         f"({N},): for one-hot labels pass y.argmax(axis=1)")
    if y.shape != (N,):
        hint = ": use y.ravel()" if y.size == N else ""
        raise ValueError(f"{func}: y has shape {y.shape}, expected ({N},), one integer label "
                         f"per row of scores{hint}")
    if not np.issubdtype(y.dtype, np.integer):
        hint = ""
        if np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0):
            hint = ": they are whole numbers, so pass y.astype(int)"
        raise TypeError(f"{func}: y has dtype {y.dtype}, expected integer class labels{hint}")
    bad = np.flatnonzero((y < 0) | (y >= C))
    if bad.size:
        k = bad[0]
        hint = ""
        if y.min() >= 1 and y.max() == C:
            hint = ": they look 1-based, pass y - 1"
        raise ValueError(f"{func}: y[{k}] = {y[k]}, but labels index the {C} columns of scores, "
                         f"so must be in 0..{C - 1} ({bad.size} of {N} are not){hint}")
    return y


def softmax_cross_entropy_forward(scores, y):
    """Softmax of each row of ``scores`` + mean cross-entropy with integer labels.

    ``loss = -(1/N) sum_n log softmax(scores[n])[y[n]]``, computed from
    ``scores - max`` so that no ``exp`` overflows.

    Parameters
    ----------
    scores : ndarray of shape (N, C)
        Unnormalized log-probabilities, one row per example, one column per class.
    y : ndarray of int, shape (N,)
        The class of each example, in ``0..C-1``.

    Returns
    -------
    loss : float
    cache : tuple ``(probs, y)``
        ``probs`` of shape (N, C) is the row-wise softmax.

    Raises
    ------
    ValueError
        If ``scores`` is not 2-D, or ``y`` has the wrong shape or a label out of range.
    TypeError
        If ``y`` is not of an integer dtype.

    Examples
    --------
    >>> loss, cache = softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(loss, 6) == round(float(np.log(4)), 6)   # uniform over 4 classes
    True
    """
    func = "softmax_cross_entropy_forward"
    scores = _as_inexact(scores)
    _check_shape(func, "scores", scores, (None, None), "(N, C)")
    N, C = scores.shape
    y = _check_labels(func, y, N, C)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(N), y].mean()
    # .item() is a Python float, or a complex under a complex-step check
    return loss.item(), (np.exp(log_probs), y)


def softmax_cross_entropy_backward(dloss, cache):
    """Backward pass of :func:`softmax_cross_entropy_forward`.

    Parameters
    ----------
    dloss : float or 0-d ndarray
        ``dJ/dloss``, 1.0 when the loss is the cost.
    cache : tuple ``(probs, y)`` from :func:`softmax_cross_entropy_forward`.

    Returns
    -------
    (dscores,) : tuple of one ndarray of shape (N, C)
        ``dloss * (probs - onehot(y)) / N``.

    Raises
    ------
    ValueError
        If ``dloss`` is not a scalar.
    """
    if np.ndim(dloss) != 0:
        raise ValueError(f"softmax_cross_entropy_backward: dloss has shape {np.shape(dloss)}, "
                         f"expected a scalar: the loss is one number, so is dJ/dloss "
                         f"(1.0 if the loss is the cost)")
    probs, y = cache
    N = probs.shape[0]
    dscores = probs.copy()        # the cache stays as it was
    dscores[np.arange(N), y] -= 1.0
    return (dscores * (dloss / N),)


def rnn_step_forward(x, h_prev, Wx, Wh, b):
    """One step of a vanilla (tanh) recurrent network: ``h = tanh(x @ Wx + h_prev @ Wh + b)``.

    Parameters
    ----------
    x : ndarray of shape (N, D)
        The inputs at this time step.
    h_prev : ndarray of shape (N, H)
        The hidden state of the previous step.
    Wx : ndarray of shape (D, H)
    Wh : ndarray of shape (H, H)
    b : ndarray of shape (H,)

    Returns
    -------
    h : ndarray of shape (N, H)
    cache : tuple ``(x, h_prev, Wx, Wh, h)``

    Raises
    ------
    ValueError
        If the shapes do not fit together.
    """
    func = "rnn_step_forward"
    x, h_prev, Wx, Wh, b = (_as_inexact(a) for a in (x, h_prev, Wx, Wh, b))
    _check_shape(func, "x", x, (None, None), "(N, D)")
    N, D = x.shape
    _check_shape(func, "h_prev", h_prev, (N, None), f"({N}, H), one row per row of x")
    H = h_prev.shape[1]
    _check_shape(func, "Wx", Wx, (D, H), f"(D, H) = ({D}, {H}) from x and h_prev")
    _check_shape(func, "Wh", Wh, (H, H), f"(H, H) = ({H}, {H}) from h_prev")
    _check_shape(func, "b", b, (H,), f"({H},)")
    h = np.tanh(x @ Wx + h_prev @ Wh + b)
    return h, (x, h_prev, Wx, Wh, h)


def rnn_step_backward(dh, cache):
    """Backward pass of :func:`rnn_step_forward`.

    Parameters
    ----------
    dh : ndarray of shape (N, H)
        ``dJ/dh``: from the output at this step plus from the next step.
    cache : tuple ``(x, h_prev, Wx, Wh, h)`` from :func:`rnn_step_forward`.

    Returns
    -------
    dx : ndarray of shape (N, D)
    dh_prev : ndarray of shape (N, H)
        What flows back to the previous time step.
    dWx : ndarray of shape (D, H)
    dWh : ndarray of shape (H, H)
    db : ndarray of shape (H,)
    """
    x, h_prev, Wx, Wh, h = cache
    # tanh'(a) = 1 - tanh(a)**2, written with the output h
    da = dh * (1.0 - h * h)
    return da @ Wx.T, da @ Wh.T, x.T @ da, h_prev.T @ da, da.sum(axis=0)
