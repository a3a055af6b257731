"""Synthetic data sets, generated from a seed (no downloads).

Every generator returns ``(X, Y)`` in the course's column-major layout:
``X`` of shape ``(n_x, m)`` and ``Y`` of shape ``(1, m)`` (binary labels in
{0., 1.} or regression targets) or one-hot of shape ``(k, m)`` for ``k``
classes. The same ``seed`` always gives the same arrays.

Examples
--------
>>> X, Y = moons(200, noise=0.2, seed=0)
>>> X.shape, Y.shape
((2, 200), (1, 200))
>>> X_train, Y_train, X_test, Y_test = train_test_split(X, Y, test_size=0.25, seed=0)
"""

import numbers

import numpy as np

__all__ = [
    "blobs",
    "circles",
    "labels",
    "linear_regression",
    "moons",
    "one_hot",
    "overfit",
    "polynomial_regression",
    "spirals",
    "train_test_split",
]


def _check_m(m, minimum=1):
    if not isinstance(m, numbers.Integral) or m < minimum:
        raise ValueError(f"m (the number of examples) must be an integer >= {minimum}, got {m!r}.")
    return int(m)


def one_hot(labels, k):
    """One-hot encode integer labels.

    Parameters
    ----------
    labels : array-like of int, shape (m,) or (1, m)
        Class indices in ``0 .. k-1``.
    k : int
        Number of classes.

    Returns
    -------
    Y : ndarray of shape (k, m), float
    """
    labels = np.asarray(labels).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(
            f"labels must lie in 0 .. {k - 1} for k={k}, got values from "
            f"{labels.min()} to {labels.max()}; pass a larger k."
        )
    Y = np.zeros((k, labels.size))
    Y[labels.astype(int), np.arange(labels.size)] = 1.0
    return Y


def labels(Y):
    """Class indices of shape ``(m,)`` from one-hot ``(k, m)`` or 0/1 ``(1, m)`` labels."""
    Y = np.asarray(Y)
    return Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0].astype(int)


def _binary(X, y, rng):
    """Shuffle the examples and return column-major ``X (2, m)`` and ``Y (1, m)``."""
    order = rng.permutation(X.shape[1])
    return X[:, order], y[order].astype(float)[None, :]


def moons(m=200, *, noise=0.2, seed=0):
    """Two interleaving half circles, a classic non-linearly separable binary set.

    Returns
    -------
    X : ndarray of shape (2, m)
    Y : ndarray of shape (1, m), labels in {0., 1.}
    """
    m = _check_m(m, 2)
    rng = np.random.default_rng(seed)
    n0 = m // 2
    t0 = np.linspace(0, np.pi, n0)
    t1 = np.linspace(0, np.pi, m - n0)
    X = np.concatenate([np.stack([np.cos(t0), np.sin(t0)]),
                        np.stack([1 - np.cos(t1), 0.5 - np.sin(t1)])], axis=1)
    X += noise * rng.standard_normal(X.shape)
    y = np.r_[np.zeros(n0), np.ones(m - n0)]
    return _binary(X, y, rng)


def circles(m=200, *, noise=0.1, factor=0.5, seed=0):
    """An inner disc (label 1) inside a ring (label 0).

    Parameters
    ----------
    factor : float, default 0.5
        Radius of the inner circle relative to the outer one (of radius 1).

    Returns
    -------
    X : ndarray of shape (2, m)
    Y : ndarray of shape (1, m), labels in {0., 1.}
    """
    m = _check_m(m, 2)
    rng = np.random.default_rng(seed)
    n0 = m // 2
    t = rng.uniform(0, 2 * np.pi, m)
    r = np.r_[np.ones(n0), factor * np.ones(m - n0)]
    X = np.stack([r * np.cos(t), r * np.sin(t)]) + noise * rng.standard_normal((2, m))
    y = np.r_[np.zeros(n0), np.ones(m - n0)]
    return _binary(X, y, rng)


def spirals(m=300, k=3, *, noise=0.2, turns=1.0, seed=0):
    """``k`` interleaved spiral arms, one class per arm (the CS231n toy set).

    Returns
    -------
    X : ndarray of shape (2, m)
    Y : ndarray of shape (k, m), one-hot
    """
    m = _check_m(m, k)
    rng = np.random.default_rng(seed)
    y = np.arange(m) % k
    r = rng.uniform(0.05, 1.0, m)
    theta = 2 * np.pi * (y / k + turns * r) + noise * rng.standard_normal(m)
    X = np.stack([r * np.cos(theta), r * np.sin(theta)])
    order = rng.permutation(m)
    return X[:, order], one_hot(y[order], k)


def blobs(m=300, k=3, *, n_x=2, spread=1.0, seed=0):
    """``k`` Gaussian clusters with centres drawn in ``[-5, 5]^n_x``.

    Returns
    -------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (k, m), one-hot
    """
    m = _check_m(m, k)
    rng = np.random.default_rng(seed)
    centres = rng.uniform(-5, 5, size=(n_x, k))
    y = np.arange(m) % k
    X = centres[:, y] + spread * rng.standard_normal((n_x, m))
    order = rng.permutation(m)
    return X[:, order], one_hot(y[order], k)


def linear_regression(m=100, *, n_x=1, noise=0.1, seed=0):
    """``y = w . x + b + noise`` with ``w`` and ``b`` drawn from the seed.

    Returns
    -------
    X : ndarray of shape (n_x, m), uniform in [-1, 1]
    Y : ndarray of shape (1, m)
    """
    m = _check_m(m)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n_x, m))
    w = rng.standard_normal((1, n_x))
    b = rng.standard_normal()
    return X, w @ X + b + noise * rng.standard_normal((1, m))


def polynomial_regression(m=100, *, degree=3, noise=0.1, seed=0):
    """``y = p(x) + noise`` for a random polynomial ``p`` of the given degree, ``x`` in [-1, 1].

    Returns
    -------
    X : ndarray of shape (1, m)
    Y : ndarray of shape (1, m)
    """
    m = _check_m(m)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, m)
    coefs = rng.standard_normal(degree + 1)
    return x[None, :], np.polyval(coefs, x)[None, :] + noise * rng.standard_normal((1, m))


def overfit(m=300, *, noise=0.25, flip=0.1, seed=0):
    """A small, noisy 2-D binary set that an unregularized wide net overfits.

    The true boundary is a smooth curve, ``x2 > 0.5 sin(2 x1)``; points are
    jittered by ``noise`` and a fraction ``flip`` of the labels is flipped.
    Split it with ``train_test_split(X, Y, test_size=0.7)``: a net such as
    ``[2, 64, 32, 1]`` trained without L2 (batch GD, ``lr=0.3``, 3000 epochs)
    carves islands around the flipped training points, about 93% training
    and 80% test accuracy; with ``lambd=0.5`` the boundary stays smooth and
    the test accuracy rises to about 87% (seed 0).

    Returns
    -------
    X : ndarray of shape (2, m), in about [-2, 2]^2
    Y : ndarray of shape (1, m), labels in {0., 1.}
    """
    m = _check_m(m, 2)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(2, m))
    y = (X[1] > 0.5 * np.sin(2 * X[0])).astype(float)
    y = np.where(rng.random(m) < flip, 1 - y, y)
    X = X + noise * rng.standard_normal((2, m))
    return X, y[None, :]


def train_test_split(X, Y, *, test_size=0.25, seed=0):
    """Shuffle the examples (columns) and split them into a training and a test set.

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_y, m)
    test_size : float in (0, 1) or int
        Fraction (or number) of the ``m`` examples that go to the test set.
    seed : int, default 0

    Returns
    -------
    X_train : ndarray of shape (n_x, m - m_test)
    Y_train : ndarray of shape (n_y, m - m_test)
    X_test : ndarray of shape (n_x, m_test)
    Y_test : ndarray of shape (n_y, m_test)
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"X and Y must be 2-D with one example per column and the same m, got X of shape "
            f"{X.shape} and Y of shape {Y.shape}; for labels of shape (m,) use Y.reshape(1, -1)."
        )
    m = X.shape[1]
    m_test = int(round(test_size * m)) if isinstance(test_size, float) else int(test_size)
    if not 0 < m_test < m:
        raise ValueError(
            f"test_size={test_size!r} leaves {m_test} of {m} examples for the test set; "
            f"use a fraction in (0, 1) or a count between 1 and {m - 1}."
        )
    order = np.random.default_rng(seed).permutation(m)
    test, train = order[:m_test], order[m_test:]
    return X[:, train], Y[:, train], X[:, test], Y[:, test]
