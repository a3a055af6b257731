"""An L-layer fully connected network built from :mod:`gradkit.nn`.

``params`` is a dict ``{"W1", "b1", ..., "WL", "bL"}`` with ``W_l`` of shape
``(n_l, n_{l-1})`` and ``b_l`` of shape ``(n_l, 1)``; ``X`` has shape
``(n_x, m)``, one example per column. The cost is::

    J = data loss (mean over the m examples) + lambd/(2m) * sum_l ||W_l||^2

Hidden layers use ``hidden`` in ``relu``, ``leaky_relu``, ``tanh`` or
``sigmoid``; the output layer is

- ``"sigmoid"``: mean binary cross-entropy, ``Y`` of shape ``(n_L, m)`` in {0, 1};
- ``"softmax"``: mean cross-entropy, ``Y`` one-hot of shape ``(k, m)``;
- ``"linear"``: ``1/(2m) * sum (A - Y)**2``.

With ``keep_prob < 1`` every hidden layer applies inverted dropout. The masks
come from ``numpy.random.default_rng(seed)``, drawn layer by layer, so
``cost`` and ``gradients`` called with the same integer ``seed`` see the same
masks and can be checked against each other. With ``seed=None`` the masks are
fresh on every call: the cost is then a random function and no gradient check
can pass.

Examples
--------
>>> import gradkit as gk
>>> X, Y = gk.datasets.moons(200, seed=0)
>>> params = gk.mlp.init_params([2, 8, 1], seed=0)
>>> grads = gk.mlp.gradients(params, X, Y)
>>> report = gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), params, grads)
"""

import functools
import numbers

import numpy as np

from gradkit import nn

__all__ = [
    "HIDDEN",
    "OUTPUTS",
    "accuracy",
    "cost",
    "cost_and_gradients",
    "forward",
    "gradients",
    "init_params",
    "predict",
]

HIDDEN = {
    "relu": (nn.relu_forward, nn.relu_backward),
    "leaky_relu": (nn.leaky_relu_forward, nn.leaky_relu_backward),
    "tanh": (nn.tanh_forward, nn.tanh_backward),
    "sigmoid": (nn.sigmoid_forward, nn.sigmoid_backward),
}
"""Hidden activations: name -> (forward, backward) from :mod:`gradkit.nn`."""

OUTPUTS = ("sigmoid", "softmax", "linear")
"""Output layers (each fused with its loss)."""


def init_params(layer_dims, *, seed=0, scale="he"):
    """Random weights and zero biases for a network of sizes ``layer_dims``.

    Parameters
    ----------
    layer_dims : sequence of int
        ``[n_x, n_1, ..., n_L]``: input size, then each layer's size.
    seed : int, default 0
        Seed of the ``numpy.random.default_rng`` that draws the weights.
    scale : {"he", "xavier"} or float, default "he"
        Standard deviation of ``W_l``: ``sqrt(2 / n_{l-1})`` (He, for ReLU),
        ``sqrt(2 / (n_{l-1} + n_l))`` (Glorot/Xavier, for tanh and sigmoid)
        or the given number for every layer.

    Returns
    -------
    params : dict
        ``W_l`` of shape ``(n_l, n_{l-1})`` and ``b_l`` of shape ``(n_l, 1)``
        (zeros), for ``l = 1 .. L``.

    Raises
    ------
    ValueError
        If ``layer_dims`` has fewer than 2 entries, a non-positive size, or
        ``scale`` is unknown.
    """
    dims = list(layer_dims)
    if len(dims) < 2 or not all(isinstance(n, numbers.Integral) and n > 0 for n in dims):
        raise ValueError(
            f"layer_dims must list at least 2 positive integers [n_x, n_1, ..., n_L], "
            f"got {layer_dims!r}; e.g. [2, 8, 1] for 2 inputs, 8 hidden units, 1 output."
        )
    if not (scale in ("he", "xavier") or isinstance(scale, numbers.Real)):
        raise ValueError(f"scale must be 'he', 'xavier' or a number, got {scale!r}.")
    rng = np.random.default_rng(seed)
    params = {}
    for l in range(1, len(dims)):
        n_prev, n = dims[l - 1], dims[l]
        if scale == "he":
            std = np.sqrt(2.0 / n_prev)
        elif scale == "xavier":
            std = np.sqrt(2.0 / (n_prev + n))
        else:
            std = float(scale)
        params[f"W{l}"] = std * rng.standard_normal((n, n_prev))
        params[f"b{l}"] = np.zeros((n, 1))
    return params


def _n_layers(params):
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict {{'W1', 'b1', ...}} as returned by mlp.init_params, "
            f"got {type(params).__name__}."
        )
    L = sum(1 for key in params if key.startswith("W"))
    expected = [f"{p}{l}" for l in range(1, L + 1) for p in "Wb"]
    if L == 0 or sorted(params) != sorted(expected):
        raise ValueError(
            f"params must have the keys {expected or ['W1', 'b1']} (W1, b1, ..., WL, bL), "
            f"got {sorted(params)}; build them with mlp.init_params(layer_dims)."
        )
    return L


def _validate(params, X, Y, hidden, output, lambd, keep_prob):
    """Check names, shapes and ranges once, with messages that say the fix."""
    L = _n_layers(params)
    if hidden not in HIDDEN:
        raise ValueError(f"hidden must be one of {sorted(HIDDEN)}, got {hidden!r}.")
    if output not in OUTPUTS:
        raise ValueError(f"output must be one of {list(OUTPUTS)}, got {output!r}.")
    if not (isinstance(lambd, numbers.Real) and lambd >= 0):
        raise ValueError(f"lambd must be a number >= 0 (0 turns L2 off), got {lambd!r}.")
    if not (isinstance(keep_prob, numbers.Real) and 0 < keep_prob <= 1):
        raise ValueError(
            f"keep_prob must be in (0, 1] (1 turns dropout off), got {keep_prob!r}."
        )
    X = np.asarray(X)
    n_prev = params["W1"].shape[1]
    if X.ndim != 2 or X.shape[0] != n_prev:
        hint = " If your X is (m, n_x), pass X.T." if X.ndim == 2 and X.shape[1] == n_prev else ""
        raise ValueError(
            f"X has shape {X.shape} but W1 has shape {params['W1'].shape}: expected X of "
            f"shape (n_x, m) = ({n_prev}, m), one example per column.{hint}"
        )
    for l in range(1, L + 1):
        W, b = params[f"W{l}"], params[f"b{l}"]
        if W.ndim != 2 or W.shape[1] != n_prev or b.shape != (W.shape[0], 1):
            raise ValueError(
                f"layer {l}: W{l} has shape {W.shape} and b{l} has shape {b.shape}, expected "
                f"W{l} of shape (n_{l}, {n_prev}) and b{l} of shape (n_{l}, 1)."
            )
        n_prev = W.shape[0]
    if Y is not None:
        Y = np.asarray(Y)
        expected = (n_prev, X.shape[1])
        if Y.shape != expected:
            raise ValueError(
                f"Y has shape {Y.shape}, expected {expected} = (n_L, m) to match the output "
                f"layer; for labels of shape (m,) use Y.reshape(1, -1), for {output!r} with "
                f"k classes pass one-hot labels of shape (k, m)."
            )
    return L


def _mask_rng(keep_prob, seed):
    if keep_prob >= 1:
        return None
    if isinstance(seed, np.random.Generator):
        return seed
    # seed=None: fresh OS entropy, so every call draws new masks (the pitfall)
    return np.random.default_rng(seed)


@functools.lru_cache(maxsize=32)
def _names(L):
    """("W1", "b1"), ..., ("WL", "bL"), built once per depth."""
    return tuple((f"W{l}", f"b{l}") for l in range(1, L + 1))


def _forward(params, X, L, hidden, keep_prob, rng):
    """Hidden layers and the output affine map: returns Z_L and the caches."""
    act_forward = HIDDEN[hidden][0]
    names = _names(L)
    caches = []
    A = X
    for W_name, b_name in names[:-1]:
        Z, lin_cache = nn.linear_forward(A, params[W_name], params[b_name])
        A, act_cache = act_forward(Z)
        mask = None
        if rng is not None:
            A, mask = nn.dropout_forward(A, keep_prob, rng)
        caches.append((lin_cache, act_cache, mask))
    ZL, lin_cache = nn.linear_forward(A, params[names[-1][0]], params[names[-1][1]])
    caches.append((lin_cache, None, None))
    return ZL, caches


def _output_loss(output, ZL, Y):
    """Data loss, dJ/dZ_L and the output activation A_L."""
    if output == "sigmoid":
        return nn.sigmoid_cross_entropy(ZL, Y)
    if output == "softmax":
        return nn.softmax_cross_entropy(ZL, Y)
    loss, dZ = nn.mse(ZL, Y)
    return loss, dZ, ZL


def _output_delta(output, dZ, AL, Y):
    return dZ


def _l2_gradient(W, lambd, m):
    return nn.l2_gradient(W, lambd, m) if lambd else None


# The pieces of the backward pass; gradkit.bugs swaps one of them for a wrong one.
_OPS = {
    "linear_backward": nn.linear_backward,
    "hidden_backward": {name: pair[1] for name, pair in HIDDEN.items()},
    "output_delta": _output_delta,
    "l2_gradient": _l2_gradient,
    "dropout_backward": nn.dropout_backward,
}


def _run(params, X, Y, L, hidden, output, lambd, keep_prob, seed, ops=_OPS, grads=True):
    rng = _mask_rng(keep_prob, seed)
    ZL, caches = _forward(params, X, L, hidden, keep_prob, rng)
    loss, dZ, AL = _output_loss(output, ZL, Y)
    m = X.shape[1]
    loss += nn.l2_penalty(params, lambd, m)
    if not grads:
        return loss, None
    dZ = ops["output_delta"](output, dZ, AL, Y)
    act_backward = ops["hidden_backward"][hidden]
    linear_backward, l2_gradient = ops["linear_backward"], ops["l2_gradient"]
    dA = None  # set by the output layer, the first one visited
    out = {}
    for (W_name, b_name), (lin_cache, act_cache, mask) in zip(_names(L)[::-1], caches[::-1]):
        if act_cache is not None:
            if mask is not None:
                dA = ops["dropout_backward"](dA, mask, keep_prob)
            dZ = act_backward(dA, act_cache)
        dA, dW, db = linear_backward(dZ, lin_cache)
        extra = l2_gradient(lin_cache[1], lambd, m)
        out[W_name] = dW if extra is None else dW + extra
        out[b_name] = db
    return loss, {key: out[key] for key in params}


def forward(params, X, *, hidden="relu", output="sigmoid", keep_prob=1.0, seed=None):
    """Output activations ``A_L`` of shape ``(n_L, m)`` (probabilities or values).

    Same keywords as :func:`cost`; dropout is applied only when ``keep_prob < 1``.
    """
    L = _validate(params, X, None, hidden, output, 0.0, keep_prob)
    ZL, _ = _forward(params, np.asarray(X), L, hidden, keep_prob, _mask_rng(keep_prob, seed))
    if output == "sigmoid":
        return nn.sigmoid(ZL)
    if output == "softmax":
        return nn.softmax(ZL)
    return ZL


def cost(params, X, Y, *, hidden="relu", output="sigmoid", lambd=0.0, keep_prob=1.0,
         seed=None):
    """The scalar cost ``J(params)``: mean data loss + ``lambd/(2m) sum ||W_l||^2``.

    Parameters
    ----------
    params : dict
        ``W_l`` of shape ``(n_l, n_{l-1})``, ``b_l`` of shape ``(n_l, 1)``.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_L, m)
        {0, 1} labels (sigmoid), one-hot (softmax) or targets (linear).
    hidden : {"relu", "leaky_relu", "tanh", "sigmoid"}, default "relu"
    output : {"sigmoid", "softmax", "linear"}, default "sigmoid"
    lambd : float, default 0.0
        L2 strength; biases are not penalized.
    keep_prob : float in (0, 1], default 1.0
        Dropout keep probability of the hidden layers (1 = no dropout).
    seed : int, numpy.random.Generator or None
        Source of the dropout masks; an int gives the same masks on every call.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On unknown keys or names, shapes that do not chain, ``X`` given as
        ``(m, n_x)``, or ``Y`` not of shape ``(n_L, m)``.
    """
    L = _validate(params, X, Y, hidden, output, lambd, keep_prob)
    return _run(params, np.asarray(X), np.asarray(Y), L, hidden, output, lambd, keep_prob,
                seed, grads=False)[0]


def cost_and_gradients(params, X, Y, *, hidden="relu", output="sigmoid", lambd=0.0,
                       keep_prob=1.0, seed=None):
    """``(cost, grads)`` from one forward pass; same keywords as :func:`cost`.

    ``grads`` has the keys and shapes of ``params``: ``dW_l`` of shape
    ``(n_l, n_{l-1})`` (data term ``+ lambd/m * W_l``) and ``db_l`` of shape
    ``(n_l, 1)``.
    """
    L = _validate(params, X, Y, hidden, output, lambd, keep_prob)
    return _run(params, np.asarray(X), np.asarray(Y), L, hidden, output, lambd, keep_prob, seed)


def gradients(params, X, Y, *, hidden="relu", output="sigmoid", lambd=0.0, keep_prob=1.0,
              seed=None):
    """Backpropagation: the gradient of :func:`cost`, a dict with the keys and shapes of ``params``.

    Same keywords as :func:`cost`. With dropout, pass the same integer
    ``seed`` to both so that they use the same masks.
    """
    return cost_and_gradients(params, X, Y, hidden=hidden, output=output, lambd=lambd,
                              keep_prob=keep_prob, seed=seed)[1]


def predict(params, X, *, hidden="relu", output="sigmoid"):
    """Predictions of the network (dropout off).

    Returns
    -------
    ndarray
        ``"sigmoid"``: 0/1 labels of shape ``(n_L, m)`` (threshold 0.5);
        ``"softmax"``: class indices of shape ``(1, m)``;
        ``"linear"``: the outputs, shape ``(n_L, m)``.
    """
    A = forward(params, X, hidden=hidden, output=output)
    if output == "sigmoid":
        return (A > 0.5).astype(int)
    if output == "softmax":
        return A.argmax(axis=0)[None, :]
    return A


def accuracy(params, X, Y, *, hidden="relu", output="sigmoid"):
    """Fraction of correct predictions, a float in [0, 1].

    ``Y`` is ``(n_L, m)`` of {0, 1} for a sigmoid output, one-hot ``(k, m)``
    for softmax.

    Raises
    ------
    ValueError
        For ``output="linear"`` (use :func:`cost` for regression).
    """
    if output == "linear":
        raise ValueError("accuracy is for classification; for output='linear' use mlp.cost.")
    _validate(params, X, Y, hidden, output, 0.0, 1.0)
    P = predict(params, X, hidden=hidden, output=output)
    Y = np.asarray(Y)
    if output == "softmax":
        return float(np.mean(P[0] == Y.argmax(axis=0)))
    return float(np.mean(P == Y))
