"""Layer forward/backward pairs, output losses, the L2 penalty and dropout.

Conventions, used by every function here and by :mod:`gradkit.mlp`:

- Column-major examples: ``X`` and every activation ``A`` have shape
  ``(n, m)``, one column per example; ``W_l`` has shape ``(n_l, n_{l-1})`` and
  ``b_l`` has shape ``(n_l, 1)``.
- ``cost = data loss + lambd/(2m) * sum_l ||W_l||^2`` (mean over the ``m``
  examples).
- Every ``dX`` is exactly the derivative of the scalar cost, ``dJ/dX``, with
  the shape of ``X``. The ``1/m`` of the mean enters once, at the loss
  (``dZ_L = (A_L - Y) / m`` for a sigmoid output), and flows back from
  there; so any intermediate ``dA`` or ``dZ`` can itself be gradient-checked.

Each ``*_forward`` returns ``(out, cache)`` and its ``*_backward`` takes the
upstream derivative and that cache, as in::

    Z, lin_cache = linear_forward(A_prev, W, b)
    A, act_cache = relu_forward(Z)
    ...
    dZ = relu_backward(dA, act_cache)
    dA_prev, dW, db = linear_backward(dZ, lin_cache)
"""

import numpy as np

__all__ = [
    "LEAKY_SLOPE",
    "binary_cross_entropy",
    "dropout_backward",
    "dropout_forward",
    "l2_gradient",
    "l2_penalty",
    "leaky_relu_backward",
    "leaky_relu_forward",
    "linear_backward",
    "linear_forward",
    "mse",
    "relu_backward",
    "relu_forward",
    "sigmoid",
    "sigmoid_backward",
    "sigmoid_cross_entropy",
    "sigmoid_forward",
    "softmax",
    "softmax_cross_entropy",
    "tanh_backward",
    "tanh_forward",
]

LEAKY_SLOPE = 0.01
"""Slope of the leaky ReLU for negative inputs."""


def linear_forward(A_prev, W, b):
    """Affine layer ``Z = W @ A_prev + b``.

    Parameters
    ----------
    A_prev : ndarray of shape (n_prev, m)
    W : ndarray of shape (n, n_prev)
    b : ndarray of shape (n, 1)

    Returns
    -------
    Z : ndarray of shape (n, m)
    cache : tuple ``(A_prev, W, b)``
    """
    return W @ A_prev + b, (A_prev, W, b)


def linear_backward(dZ, cache):
    """Backward pass of the affine layer.

    Parameters
    ----------
    dZ : ndarray of shape (n, m)
        ``dJ/dZ`` (already carries the ``1/m`` of the mean).
    cache : tuple ``(A_prev, W, b)`` from :func:`linear_forward`.

    Returns
    -------
    dA_prev : ndarray of shape (n_prev, m)
        ``dJ/dA_prev = W.T @ dZ``.
    dW : ndarray of shape (n, n_prev)
        ``dJ/dW = dZ @ A_prev.T`` (data term only, no L2).
    db : ndarray of shape (n, 1)
        ``dJ/db``: ``dZ`` summed over the examples, because ``b`` is added
        to every column.
    """
    A_prev, W, _ = cache
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)


def relu_forward(Z):
    """``A = max(Z, 0)``; returns ``(A, cache)`` with ``cache = (Z, A)``, shapes ``(n, m)``."""
    A = np.maximum(Z, 0.0)
    return A, (Z, A)


def relu_backward(dA, cache):
    """``dZ = dA * relu'(Z)``, shape ``(n, m)``.

    ``relu'(z) = 1`` where ``z > 0`` and 0 elsewhere: at exactly ``z = 0`` the
    derivative does not exist and 0 is one valid subgradient.
    """
    Z, _ = cache
    return dA * (Z > 0)


def leaky_relu_forward(Z, slope=LEAKY_SLOPE):
    """``A = Z`` where ``Z > 0`` else ``slope * Z``; returns ``(A, (Z, A))``, shapes ``(n, m)``."""
    A = np.where(Z > 0, Z, slope * Z)
    return A, (Z, A)


def leaky_relu_backward(dA, cache, slope=LEAKY_SLOPE):
    """``dZ = dA * (1 if Z > 0 else slope)``, shape ``(n, m)``."""
    Z, _ = cache
    return dA * np.where(Z > 0, 1.0, slope)


def tanh_forward(Z):
    """``A = tanh(Z)``; returns ``(A, (Z, A))``, shapes ``(n, m)``."""
    A = np.tanh(Z)
    return A, (Z, A)


def tanh_backward(dA, cache):
    """``dZ = dA * (1 - A**2)``: tanh' is written with the *activation* A."""
    _, A = cache
    return dA * (1.0 - A * A)


def sigmoid(Z):
    """Logistic function ``1 / (1 + exp(-Z))``, overflow-free for large ``|Z|``."""
    # exp of a non-positive number never overflows
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def sigmoid_forward(Z):
    """``A = sigmoid(Z)``; returns ``(A, (Z, A))``, shapes ``(n, m)``."""
    A = sigmoid(Z)
    return A, (Z, A)


def sigmoid_backward(dA, cache):
    """``dZ = dA * A * (1 - A)``, shape ``(n, m)``."""
    _, A = cache
    return dA * A * (1.0 - A)


def softmax(Z):
    """Column-wise softmax of ``Z`` of shape ``(k, m)``; each column sums to 1."""
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


def binary_cross_entropy(A, Y):
    """Mean binary cross-entropy of probabilities ``A``, and ``dJ/dA``.

    The textbook, unfused form: ``J = -(1/m) sum(Y log A + (1 - Y) log(1 - A))``.
    Chain it with :func:`sigmoid_backward` to get ``dZ = (A - Y) / m``; prefer
    :func:`sigmoid_cross_entropy`, which is exact when ``A`` rounds to 0 or 1.

    Parameters
    ----------
    A : ndarray of shape (n, m), entries in (0, 1)
    Y : ndarray of shape (n, m), labels in {0, 1}

    Returns
    -------
    cost : float
    dA : ndarray of shape (n, m)
        ``dJ/dA = -(Y/A - (1 - Y)/(1 - A)) / m``.
    """
    m = A.shape[1]
    cost = -np.sum(Y * np.log(A) + (1 - Y) * np.log(1 - A)) / m
    return float(cost), -(Y / A - (1 - Y) / (1 - A)) / m


def sigmoid_cross_entropy(Z, Y):
    """Sigmoid output + mean binary cross-entropy, from the logits ``Z``.

    ``J = (1/m) sum(log(1 + exp(Z)) - Y * Z)``, computed without overflow.

    Parameters
    ----------
    Z : ndarray of shape (n, m)
        Logits of the output layer.
    Y : ndarray of shape (n, m)
        Labels in {0, 1}.

    Returns
    -------
    cost : float
    dZ : ndarray of shape (n, m)
        ``dJ/dZ = (sigmoid(Z) - Y) / m``.
    A : ndarray of shape (n, m)
        The probabilities ``sigmoid(Z)``.
    """
    # softplus(z) = log(1 + e^z) = logaddexp(0, z), without overflow for large |z|
    softplus = np.logaddexp(0.0, Z)
    m = Z.shape[1]
    cost = float((softplus - Y * Z).sum()) / m
    # sigmoid(z) = e^z / (1 + e^z) = exp(z - softplus(z)), an exponent <= 0
    A = np.exp(Z - softplus)
    return cost, (A - Y) / m, A


def softmax_cross_entropy(Z, Y):
    """Softmax output + mean cross-entropy with one-hot labels.

    Parameters
    ----------
    Z : ndarray of shape (k, m)
        Logits, one row per class.
    Y : ndarray of shape (k, m)
        One-hot labels (each column sums to 1).

    Returns
    -------
    cost : float
        ``-(1/m) sum(Y * log softmax(Z))``.
    dZ : ndarray of shape (k, m)
        ``dJ/dZ = (softmax(Z) - Y) / m``.
    A : ndarray of shape (k, m)
        The probabilities ``softmax(Z)``.
    """
    m = Z.shape[1]
    shifted = Z - Z.max(axis=0, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=0, keepdims=True))
    log_A = shifted - log_norm
    A = np.exp(log_A)
    return float(-np.sum(Y * log_A) / m), (A - Y) / m, A


def mse(A, Y):
    """Half mean squared error ``J = 1/(2m) sum (A - Y)**2`` for a linear output.

    Parameters
    ----------
    A : ndarray of shape (n, m)
    Y : ndarray of shape (n, m)

    Returns
    -------
    cost : float
    dA : ndarray of shape (n, m)
        ``dJ/dA = (A - Y) / m`` (the 1/2 cancels the 2 of the square).
    """
    m = A.shape[1]
    D = A - Y
    return float(np.sum(D * D) / (2 * m)), D / m


def l2_penalty(params, lambd, m):
    """``lambd/(2m) * sum_l ||W_l||^2`` over the keys of ``params`` starting with ``W``.

    Biases are not penalized.
    """
    if lambd == 0:
        return 0.0
    total = sum(float(np.sum(W * W)) for key, W in params.items() if key.startswith("W"))
    return lambd / (2 * m) * total


def l2_gradient(W, lambd, m):
    """Gradient of the L2 penalty with respect to ``W``: ``lambd/m * W``, same shape as ``W``."""
    return (lambd / m) * W


def dropout_forward(A, keep_prob, rng):
    """Inverted dropout: keep each unit with probability ``keep_prob``, rescale by it.

    Parameters
    ----------
    A : ndarray of shape (n, m)
    keep_prob : float in (0, 1]
    rng : numpy.random.Generator
        The only source of randomness: the same generator state gives the same
        mask, which is what makes a dropout net checkable.

    Returns
    -------
    A_drop : ndarray of shape (n, m)
        ``A * mask / keep_prob``, so the expected activation is unchanged.
    mask : ndarray of bool, shape (n, m)
        ``rng.random((n, m)) < keep_prob``.
    """
    mask = rng.random(A.shape) < keep_prob
    return A * mask / keep_prob, mask


def dropout_backward(dA, mask, keep_prob):
    """``dA * mask / keep_prob``: the dropped units get no gradient, shape ``(n, m)``."""
    return dA * mask / keep_prob
