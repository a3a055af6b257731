"""A zoo of layers for testing the layer checker: correct layers and one-line mutants of them.

Every layer here is written independently of ``gradkit.nn`` and
``gradkit.layers``, in the style of the CS231n assignments (``out, cache =
x_forward(...)``, ``dx, dw, ... = x_backward(dout, cache)``) or of the Deep
Learning Specialization (``Z = W @ A + b``, column-major examples, ``m``), or as a
plain ``forward(inputs)`` / ``backward(inputs, dout)`` pair for ``gk.check_vjp``.

A mutant is the source of a correct function with exactly one substring
replaced (``_mutate``): the case records the line as it was and as it is, the
inputs whose gradient it corrupts (``failing``) and, when the bug is one of
the simple patterns, the finding it must produce (``kind``, ``value``).

``CORRECT`` and ``MUTANTS`` are lists of ``Case``; ``case.build()`` returns a
``VJP`` or a ``Layer`` problem with fresh arrays, seeded by the name of the
correct layer (a mutant sees the same data as its parent); ``check(problem)``
runs gradkit on it.
"""

import inspect
import textwrap
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CORRECT", "MUTANTS", "ZOO", "Case", "Layer", "VJP", "check", "as_vjp"]


@dataclass
class VJP:
    """``gk.check_vjp(forward, backward, inputs, **options)``."""

    forward: Callable
    backward: Callable
    inputs: dict
    options: dict = field(default_factory=dict)
    #: For the independent oracle only: a shift of the inputs that moves off every kink to
    #: the side whose derivative the backward pass returns (see tests/test_zoo.py).
    tiebreak: dict | None = None


@dataclass
class Layer:
    """``gk.check_layer(layer_forward, layer_backward, *args, **consts)``."""

    layer_forward: Callable
    layer_backward: Callable
    args: tuple
    consts: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    tiebreak: dict | None = None


@dataclass(frozen=True)
class Case:
    """One layer of the zoo: correct when ``failing`` is empty, else a mutant.

    ``kind`` is the finding the bug must produce for each failing input when
    ``simple`` (a scale, sign, transpose, L2 or zero pattern); ``"mismatch"``
    labels the rest. ``value`` is the expected ``Finding.value`` (the scale
    factor, the L2 factor), when it is known.
    """

    name: str
    build: Callable[[], "VJP | Layer"]
    failing: tuple = ()
    kind: str | None = None
    simple: bool = False
    value: float | None = None
    parent: str | None = None
    bug: str = ""
    mutated: str = ""  # "forward" or "backward": the function the bug is in

    @property
    def correct(self):
        return not self.failing


def check(problem, **options):
    """Run gradkit's layer checker on a problem (extra options: wrt, dout, seed, ...)."""
    import gradkit as gk

    opts = {**problem.options, **options}
    if isinstance(problem, Layer):
        return gk.check_layer(problem.layer_forward, problem.layer_backward, *problem.args,
                              **opts, **problem.consts)
    return gk.check_vjp(problem.forward, problem.backward, problem.inputs, **opts)


def as_vjp(problem):
    """The same problem as (forward(inputs), backward(inputs, dout), inputs, differentiated)."""
    if isinstance(problem, VJP):
        wrt = problem.options.get("wrt")
        names = list(wrt) if wrt is not None else [
            k for k, v in problem.inputs.items()
            if isinstance(v, np.ndarray) and np.issubdtype(v.dtype, np.floating)]
        return problem.forward, problem.backward, problem.inputs, names
    params = list(inspect.signature(problem.layer_forward).parameters)
    names = params[:len(problem.args)]
    consts = problem.consts

    def forward(inputs):
        return problem.layer_forward(*(inputs[k] for k in names), **consts)[0]

    def backward(inputs, dout):
        _, cache = problem.layer_forward(*(inputs[k] for k in names), **consts)
        grads = problem.layer_backward(dout, cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        return dict(zip(names, grads))

    return forward, backward, dict(zip(names, problem.args)), names


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax_rows(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def affine_forward(x, w, b):
    """x (N, d_1, ..., d_k), w (D, M) with D = d_1·...·d_k, b (M,) -> out (N, M)."""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    """dout (N, M) -> dx (N, d_1, ..., d_k), dw (D, M), db (M,)."""
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


def linear_forward(A, W, b):
    """DLS: A (n_prev, m), W (n, n_prev), b (n, 1) -> Z = W @ A + b (n, m)."""
    Z = W @ A + b
    return Z, (A, W, b)


def linear_backward(dZ, cache):
    """dZ (n, m) -> dA_prev (n_prev, m), dW (n, n_prev), db (n, 1)."""
    A, W, b = cache
    dA_prev = W.T @ dZ
    dW = dZ @ A.T
    db = np.sum(dZ, axis=1, keepdims=True)
    return dA_prev, dW, db


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, cache):
    x = cache
    # d relu/dx = 1 where x > 0; at x == 0 the subgradient 0 is taken
    dx = dout * (x > 0)
    return dx


def leaky_relu_forward(inputs):
    x, alpha = inputs["x"], inputs["alpha"]
    return np.where(x > 0, x, alpha * x)


def leaky_relu_backward(inputs, dout):
    x, alpha = inputs["x"], inputs["alpha"]
    dx = np.where(x > 0, dout, alpha * dout)
    return {"x": dx}


def sigmoid_forward(x):
    out = _sigmoid(x)
    return out, (x, out)


def sigmoid_backward(dout, cache):
    x, out = cache
    dx = dout * out * (1 - out)
    return dx


def tanh_forward(x):
    out = np.tanh(x)
    return out, (x, out)


def tanh_backward(dout, cache):
    x, out = cache
    dx = dout * (1 - out**2)
    return dx


def softplus_forward(x):
    out = np.logaddexp(0, x)
    return out, (x, out)


def softplus_backward(dout, cache):
    x, out = cache
    dx = dout * _sigmoid(x)
    return dx


def softmax_loss_forward(x, y):
    """x (N, C) scores, y (N,) integer labels -> mean cross-entropy (a float)."""
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    N = x.shape[0]
    loss = -log_probs[np.arange(N), y].mean()
    return loss, (np.exp(log_probs), y)


def softmax_loss_backward(dout, cache):
    probs, y = cache
    N = probs.shape[0]
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx = dx / N * dout
    return dx


def svm_loss_forward(x, y):
    """x (N, C) scores, y (N,) integer labels -> mean multiclass hinge loss (a float)."""
    N = x.shape[0]
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    return loss, (margins, y)


def svm_loss_backward(dout, cache):
    margins, y = cache
    N = margins.shape[0]
    # each positive margin pushes its score up and the correct score down; margin 0 gives 0
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    dx = dx / N * dout
    return dx


def bce_logits_forward(x, y):
    """x (N,) logits, y (N,) targets in [0, 1] -> mean binary cross-entropy."""
    loss = np.mean(np.logaddexp(0, x) - y * x)
    return loss, (x, y)


def bce_logits_backward(dout, cache):
    x, y = cache
    dx = (_sigmoid(x) - y) / x.size * dout
    return dx


def max_pool_forward(x, pool_param):
    """x (N, C, H, W) -> out (N, C, H', W'), naive loops."""
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].max(axis=(2, 3))
    return out, (x, pool_param)


def max_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
                    # ties: the whole dout goes to the first maximum (one valid subgradient)
                    r, q = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * s + r, j * s + q] += dout[n, c, i, j]
    return dx


def avg_pool_forward(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H, W = x.shape
    Ho, Wo = 1 + (H - ph) // s, 1 + (W - pw) // s
    out = np.empty((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            out[:, :, i, j] = x[:, :, i * s:i * s + ph, j * s:j * s + pw].mean(axis=(2, 3))
    return out, (x, pool_param)


def avg_pool_backward(dout, cache):
    x, pool_param = cache
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    Ho, Wo = dout.shape[2:]
    dx = np.zeros_like(x)
    for i in range(Ho):
        for j in range(Wo):
            share = dout[:, :, i, j][:, :, None, None] / (ph * pw)
            dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += share
    return dx


def batchnorm_forward(x, gamma, beta, bn_param):
    """Train mode: x (N, D), gamma (D,), beta (D,) -> out (N, D)."""
    eps = bn_param.get("eps", 1e-5)
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    out = gamma * xhat + beta
    return out, (x, xhat, gamma, var, eps)


def batchnorm_backward(dout, cache):
    x, xhat, gamma, var, eps = cache
    std = np.sqrt(var + eps)
    dxhat = dout * gamma
    # mu and var depend on every x: their paths subtract the batch means below
    centered = dxhat - dxhat.mean(axis=0)
    dx = (centered - xhat * np.mean(dxhat * xhat, axis=0)) / std
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    return dx, dgamma, dbeta


def bias_batchnorm_forward(inputs):
    """A bias, then batchnorm: x (N, D), b, gamma, beta (D,) -> out (N, D)."""
    z = inputs["x"] + inputs["b"]
    out, _ = batchnorm_forward(z, inputs["gamma"], inputs["beta"], {"eps": 1e-5})
    return out


def bias_batchnorm_backward(inputs, dout):
    z = inputs["x"] + inputs["b"]
    _, cache = batchnorm_forward(z, inputs["gamma"], inputs["beta"], {"eps": 1e-5})
    dz, dgamma, dbeta = batchnorm_backward(dout, cache)
    # the batch mean removes any per-feature shift, so out does not depend on b at all
    db = np.zeros_like(inputs["b"])
    return {"x": dz, "b": db, "gamma": dgamma, "beta": dbeta}


def layernorm_forward(x, gamma, beta, ln_param):
    """x (N, D), gamma (D,), beta (D,): each row normalised over its D features."""
    eps = ln_param.get("eps", 1e-5)
    mu = x.mean(axis=1, keepdims=True)
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - mu) / std
    return gamma * xhat + beta, (x, xhat, gamma, std)


def layernorm_backward(dout, cache):
    x, xhat, gamma, std = cache
    dxhat = dout * gamma
    centered = dxhat - dxhat.mean(axis=1, keepdims=True)
    dx = (centered - xhat * np.mean(dxhat * xhat, axis=1, keepdims=True)) / std
    dgamma = np.sum(dout * xhat, axis=0)
    dbeta = np.sum(dout, axis=0)
    return dx, dgamma, dbeta


def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    """x (N, C, H, W), gamma (C,), beta (C,): batchnorm over N, H, W per channel."""
    N, C, H, W = x.shape
    flat = x.transpose(0, 2, 3, 1).reshape(-1, C)
    out, cache = batchnorm_forward(flat, gamma, beta, bn_param)
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), (cache, x.shape)


def spatial_batchnorm_backward(dout, cache):
    bn_cache, (N, C, H, W) = cache
    dflat = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    dx, dgamma, dbeta = batchnorm_backward(dflat, bn_cache)
    dx = dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)
    return dx, dgamma, dbeta


def groupnorm_forward(x, gamma, beta, G, gn_param):
    """x (N, C, H, W), gamma and beta (1, C, 1, 1), G groups of C // G channels."""
    eps = gn_param.get("eps", 1e-5)
    N = x.shape[0]
    xg = x.reshape(N, G, -1)
    std = np.sqrt(xg.var(axis=2, keepdims=True) + eps)
    xhat = ((xg - xg.mean(axis=2, keepdims=True)) / std).reshape(x.shape)
    return gamma * xhat + beta, (xhat, gamma, std, G)


def groupnorm_backward(dout, cache):
    xhat, gamma, std, G = cache
    N = xhat.shape[0]
    dgamma = np.sum(dout * xhat, axis=(0, 2, 3), keepdims=True)
    dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)
    dxhat = (dout * gamma).reshape(N, G, -1)
    xh = xhat.reshape(N, G, -1)
    centered = dxhat - dxhat.mean(axis=2, keepdims=True)
    dx = (centered - xh * np.mean(dxhat * xh, axis=2, keepdims=True)) / std
    return dx.reshape(xhat.shape), dgamma, dbeta


def dropout_forward(x, dropout_param):
    """Inverted dropout, train mode: keep each unit with probability p, scale by 1/p.

    ``dropout_param = {"p": p, "mode": "train", "seed": seed}``: the seed fixes the mask.
    """
    p = dropout_param["p"]
    keep = np.random.default_rng(dropout_param["seed"]).random(x.shape) < p
    return x * keep / p, (keep, p)


def dropout_backward(dout, cache):
    keep, p = cache
    dx = dout * keep / p
    return dx


def conv_forward(x, w, b, conv_param):
    """Naive convolution (a loop per window): x (N, C, H, W), w (F, C, HH, WW), b (F,)."""
    s, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    Ho, Wo = 1 + (H + 2 * pad - HH) // s, 1 + (W + 2 * pad - WW) // s
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.empty((N, F, Ho, Wo))
    for n in range(N):
        for i in range(Ho):
            for j in range(Wo):
                window = x_pad[n, :, i * s:i * s + HH, j * s:j * s + WW]
                out[n, :, i, j] = np.sum(window * w, axis=(1, 2, 3)) + b
    return out, (x, w, b, conv_param)


def conv_backward(dout, cache):
    x, w, b, conv_param = cache
    s, pad = conv_param["stride"], conv_param["pad"]
    N, F, Ho, Wo = dout.shape
    H, W = x.shape[2:]
    HH, WW = w.shape[2:]
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    window = x_pad[n, :, i * s:i * s + HH, j * s:j * s + WW]
                    dw[f] += window * dout[n, f, i, j]
                    dx_pad[n, :, i * s:i * s + HH, j * s:j * s + WW] += w[f] * dout[n, f, i, j]
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W]
    db = dout.sum(axis=(0, 2, 3))
    return dx, dw, db


def temporal_affine_forward(x, w, b):
    """x (N, T, D), w (D, M), b (M,) -> out (N, T, M)."""
    return x @ w + b, (x, w, b)


def temporal_affine_backward(dout, cache):
    x, w, b = cache
    D, M = w.shape
    dx = dout @ w.T
    dw = x.reshape(-1, D).T @ dout.reshape(-1, M)
    db = dout.sum(axis=(0, 1))
    return dx, dw, db


def embedding_forward(inputs):
    """x (N, T) integer indices into W (V, D) -> out (N, T, D)."""
    return inputs["W"][inputs["x"]]


def embedding_backward(inputs, dout):
    dW = np.zeros_like(inputs["W"])
    # a word used twice collects both gradients: add.at accumulates repeated indices
    np.add.at(dW, inputs["x"], dout)
    return {"W": dW}


def rnn_step_forward(inputs):
    """x (N, D), prev_h (N, H), Wx (D, H), Wh (H, H), b (H,) -> next_h (N, H)."""
    x, prev_h, Wx, Wh, b = (inputs[k] for k in ("x", "prev_h", "Wx", "Wh", "b"))
    return np.tanh(x @ Wx + prev_h @ Wh + b)


def rnn_step_backward(inputs, dnext_h):
    x, prev_h, Wx, Wh, b = (inputs[k] for k in ("x", "prev_h", "Wx", "Wh", "b"))
    next_h = np.tanh(x @ Wx + prev_h @ Wh + b)
    da = dnext_h * (1 - next_h**2)
    return {
        "x": da @ Wx.T,
        "prev_h": da @ Wh.T,
        "Wx": x.T @ da,
        "Wh": prev_h.T @ da,
        "b": da.sum(axis=0),
    }


def _lstm_step(x, prev_h, prev_c, Wx, Wh, b):
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i, f, o = (_sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
    g = np.tanh(a[:, 3 * H:])
    next_c = f * prev_c + i * g
    next_h = o * np.tanh(next_c)
    return next_h, next_c, (i, f, o, g)


def lstm_step_forward(inputs):
    """x (N, D), prev_h and prev_c (N, H), Wx (D, 4H), Wh (H, 4H), b (4H,) -> (next_h, next_c).

    Gate order in the 4H columns: input, forget, output, candidate.
    """
    next_h, next_c, _ = _lstm_step(**inputs)
    return next_h, next_c


def lstm_step_backward(inputs, dout):
    dnext_h, dnext_c = dout
    x, prev_h, prev_c, Wx, Wh = (inputs[k] for k in ("x", "prev_h", "prev_c", "Wx", "Wh"))
    _, next_c, (i, f, o, g) = _lstm_step(**inputs)
    tc = np.tanh(next_c)
    # next_c reaches the loss directly and through next_h = o · tanh(next_c)
    dc = dnext_c + dnext_h * o * (1 - tc**2)
    di, df, do, dg = dc * g, dc * prev_c, dnext_h * tc, dc * i
    da = np.hstack([di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g**2)])
    return {
        "x": da @ Wx.T,
        "prev_h": da @ Wh.T,
        "prev_c": dc * f,
        "Wx": x.T @ da,
        "Wh": prev_h.T @ da,
        "b": da.sum(axis=0),
    }


def two_heads_forward(inputs):
    """x (N, D), w1 (D, K), w2 (D, K) -> {"scores": x @ w1, "gate": sigmoid(x @ w2)}."""
    x, w1, w2 = inputs["x"], inputs["w1"], inputs["w2"]
    return {"scores": x @ w1, "gate": _sigmoid(x @ w2)}


def two_heads_backward(inputs, dout):
    x, w1, w2 = inputs["x"], inputs["w1"], inputs["w2"]
    gate = _sigmoid(x @ w2)
    dz = dout["gate"] * gate * (1 - gate)
    dx = dout["scores"] @ w1.T + dz @ w2.T
    return {"x": dx, "w1": x.T @ dout["scores"], "w2": x.T @ dz}


def logsumexp_forward(inputs):
    """x (N, C) -> log Σ_c exp(x[:, c]) of shape (N,)."""
    x = inputs["x"]
    top = x.max(axis=1, keepdims=True)
    return (top + np.log(np.exp(x - top).sum(axis=1, keepdims=True)))[:, 0]


def logsumexp_backward(inputs, dout):
    x = inputs["x"]
    e = np.exp(x - x.max(axis=1, keepdims=True))
    softmax = e / e.sum(axis=1, keepdims=True)
    return {"x": dout[:, None] * softmax}


def attention_forward(inputs):
    """q (Nq, d), k (Nk, d), v (Nk, dv) -> softmax(q kᵀ / √d) v of shape (Nq, dv)."""
    q, k, v = inputs["q"], inputs["k"], inputs["v"]
    return _softmax_rows(q @ k.T / np.sqrt(q.shape[1])) @ v


def attention_backward(inputs, dout):
    q, k, v = inputs["q"], inputs["k"], inputs["v"]
    d = q.shape[1]
    p = _softmax_rows(q @ k.T / np.sqrt(d))
    dp = dout @ v.T
    # row-wise softmax Jacobian: diag(p) − p pᵀ
    dscores = p * (dp - np.sum(dp * p, axis=1, keepdims=True))
    dscores = dscores / np.sqrt(d)
    return {"q": dscores @ k, "k": dscores.T @ q, "v": p.T @ dout}


def mse_forward(inputs):
    """pred, target (N, K) -> mean squared error over all entries."""
    return np.asarray(np.mean((inputs["pred"] - inputs["target"]) ** 2))


def mse_backward(inputs, dout):
    pred, target = inputs["pred"], inputs["target"]
    d = 2 * (pred - target) / pred.size * dout
    return {"pred": d, "target": -d}


def temporal_softmax_forward(inputs):
    """x (N, T, V) scores, y (N, T) labels, mask (N, T) bool -> masked CE summed over T, / N."""
    x, y, mask = inputs["x"], inputs["y"], inputs["mask"]
    N, T, V = x.shape
    flat = x.reshape(N * T, V)
    shifted = flat - flat.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return np.asarray(-np.sum(mask.ravel() * log_probs[np.arange(N * T), y.ravel()]) / N)


def temporal_softmax_backward(inputs, dout):
    x, y, mask = inputs["x"], inputs["y"], inputs["mask"]
    N, T, V = x.shape
    dflat = _softmax_rows(x.reshape(N * T, V))
    dflat[np.arange(N * T), y.ravel()] -= 1
    dflat = dflat * mask.ravel()[:, None] / N
    return {"x": dflat.reshape(N, T, V) * dout}


def l2_softmax_forward(inputs):
    """CS231n convention: softmax loss of x @ w + b, plus reg · Σ w²."""
    x, w, b, y, reg = (inputs[k] for k in ("x", "w", "b", "y", "reg"))
    loss, _ = softmax_loss_forward(x @ w + b, y)
    return np.asarray(loss + reg * np.sum(w * w))


def l2_softmax_backward(inputs, dout):
    x, w, b, y, reg = (inputs[k] for k in ("x", "w", "b", "y", "reg"))
    _, cache = softmax_loss_forward(x @ w + b, y)
    dscores = softmax_loss_backward(1.0, cache)
    dw = x.T @ dscores + 2 * reg * w
    db = dscores.sum(axis=0)
    return {"w": dw * dout, "b": db * dout}


def dls_l2_cost_forward(inputs):
    """DLS convention: X (n_x, m), Y (1, m); relu then sigmoid; cost + λ/(2m)·Σ‖W‖²."""
    W1, b1, W2, b2, X, Y, lambd = (inputs[k] for k in ("W1", "b1", "W2", "b2", "X", "Y",
                                                       "lambd"))
    m = X.shape[1]
    A1 = np.maximum(0, W1 @ X + b1)
    A2 = _sigmoid(W2 @ A1 + b2)
    cross_entropy = -np.mean(Y * np.log(A2) + (1 - Y) * np.log(1 - A2))
    l2 = lambd / (2 * m) * (np.sum(W1**2) + np.sum(W2**2))
    return np.asarray(cross_entropy + l2)


def dls_l2_cost_backward(inputs, dout):
    W1, b1, W2, b2, X, Y, lambd = (inputs[k] for k in ("W1", "b1", "W2", "b2", "X", "Y",
                                                       "lambd"))
    m = X.shape[1]
    Z1 = W1 @ X + b1
    A1 = np.maximum(0, Z1)
    A2 = _sigmoid(W2 @ A1 + b2)
    dZ2 = (A2 - Y) / m
    dW2 = dZ2 @ A1.T + lambd / m * W2
    db2 = dZ2.sum(axis=1, keepdims=True)
    dZ1 = (W2.T @ dZ2) * (Z1 > 0)
    dW1 = dZ1 @ X.T + lambd / m * W1
    db1 = dZ1.sum(axis=1, keepdims=True)
    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    return {name: g * dout for name, g in grads.items()}


def mlp_forward(inputs):
    """DLS L-layer net, sigmoid everywhere: W{l} (n_l, n_(l-1)), b{l} (n_l, 1); mean CE."""
    X, Y = inputs["X"], inputs["Y"]
    A = X
    for l in range(1, _depth(inputs) + 1):
        A = _sigmoid(inputs[f"W{l}"] @ A + inputs[f"b{l}"])
    return np.asarray(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def mlp_backward(inputs, dout):
    X, Y = inputs["X"], inputs["Y"]
    L, m = _depth(inputs), X.shape[1]
    activations = [X]
    for l in range(1, L + 1):
        activations.append(_sigmoid(inputs[f"W{l}"] @ activations[-1] + inputs[f"b{l}"]))
    grads = {}
    # sigmoid output with cross-entropy: dJ/dZ_L = (A_L − Y) / m
    dZ = (activations[L] - Y) / m
    for l in range(L, 0, -1):
        A_prev = activations[l - 1]
        grads[f"W{l}"] = dZ @ A_prev.T
        grads[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            dZ = (inputs[f"W{l}"].T @ dZ) * A_prev * (1 - A_prev)
    return {name: g * dout for name, g in grads.items()}


def _depth(inputs):
    return sum(1 for k in inputs if k.startswith("W"))


def _mutate(fn, old, new):
    """A copy of ``fn`` with the one occurrence of ``old`` in its source replaced by ``new``."""
    source = textwrap.dedent(inspect.getsource(fn))
    if source.count(old) != 1:
        raise ValueError(f"{fn.__name__}: {old!r} occurs {source.count(old)} times, expected 1")
    namespace = dict(fn.__globals__)
    exec(compile(source.replace(old, new), f"<mutant of {fn.__name__}>", "exec"), namespace)
    return namespace[fn.__name__]


@dataclass(frozen=True)
class _Spec:
    name: str
    forward: Callable
    backward: Callable
    data: Callable  # rng -> dict of name -> value, positional ones first for a layer
    layer: bool = False
    n_args: int = 0  # a layer's positional arguments (the rest are keyword constants)
    options: dict = field(default_factory=dict)
    tiebreak: Callable | None = None  # inputs -> {name: shift} for the oracle

    def build(self, forward=None, backward=None):
        rng = np.random.default_rng(zlib.crc32(self.name.encode()))
        values = self.data(rng)
        shift = self.tiebreak(values) if self.tiebreak else None
        fwd, bwd = forward or self.forward, backward or self.backward
        if self.layer:
            names = list(values)
            args = tuple(values[k] for k in names[:self.n_args])
            consts = {k: values[k] for k in names[self.n_args:]}
            return Layer(fwd, bwd, args, consts, dict(self.options), shift)
        return VJP(fwd, bwd, values, dict(self.options), shift)


def _normal(rng, *shape, scale=1.0):
    return rng.normal(size=shape) * scale


def _away_from_zero(rng, *shape):
    """Random signs, magnitudes in [0.2, 1.7]: no ReLU/hinge kink within any step."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 1.7, size=shape)


def _relu_zero_data(rng):
    x = _away_from_zero(rng, 6, 5)
    x[rng.random(x.shape) < 0.5] = 0.0
    return {"x": x}


def _svm_int_data(rng):
    # integer scores 0 or 1: a margin s_j − s_y + 1 is exactly 0 wherever s_j = 0 and s_y = 1
    return {"x": rng.integers(0, 2, size=(10, 5)).astype(float), "y": rng.integers(0, 5, size=10)}


def _svm_int_shift(values):
    # margins that are 0 become negative (the backward's choice: margin 0 gives 0)
    x, y = values["x"], values["y"]
    shift = np.full(x.shape, -1e-3)
    shift[np.arange(len(y)), y] = 1e-3
    return {"x": shift}


def _pool_int_shift(values):
    # ties broken towards the first maximum in scan order, the one the backward picks
    x = values["x"]
    return {"x": -0.5 * np.arange(x.size).reshape(x.shape) / x.size}


def _mlp_data(rng):
    dims = (4, 6, 6, 6, 6, 6, 6, 6, 6, 6, 1)  # 10 layers
    values = {}
    for l in range(1, len(dims)):
        values[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1])) * np.sqrt(1 / dims[l - 1])
        values[f"b{l}"] = rng.normal(size=(dims[l], 1)) * 0.1
    values["X"] = rng.normal(size=(dims[0], 8)) * 2
    values["Y"] = (rng.random((1, 8)) > 0.5).astype(float)
    return values


_MLP_PARAMS = tuple(f"{p}{l}" for l in range(1, 11) for p in ("W", "b"))
_BN = {"mode": "train", "eps": 1e-5}
_POOL2 = {"pool_height": 2, "pool_width": 2, "stride": 2}

_SPECS = [
    _Spec("affine", affine_forward, affine_backward, lambda r: {
        "x": _normal(r, 3, 2, 3), "w": _normal(r, 6, 4), "b": _normal(r, 4)}, True, 3),
    _Spec("affine_square", affine_forward, affine_backward, lambda r: {
        "x": _normal(r, 5, 4), "w": _normal(r, 4, 4), "b": _normal(r, 4)}, True, 3),
    _Spec("dls_linear", linear_forward, linear_backward, lambda r: {
        "A": _normal(r, 4, 5), "W": _normal(r, 3, 4), "b": _normal(r, 3, 1)}, True, 3),
    _Spec("dls_linear_square", linear_forward, linear_backward, lambda r: {
        "A": _normal(r, 4, 5), "W": _normal(r, 4, 4), "b": _normal(r, 4, 1)}, True, 3),
    _Spec("relu", relu_forward, relu_backward, lambda r: {"x": _away_from_zero(r, 4, 5)},
          True, 1),
    _Spec("relu_zeros", relu_forward, relu_backward, _relu_zero_data, True, 1,
          tiebreak=lambda v: {"x": np.full(v["x"].shape, -1e-3)}),
    _Spec("leaky_relu", leaky_relu_forward, leaky_relu_backward, lambda r: {
        "x": _away_from_zero(r, 4, 5), "alpha": 0.1}),
    _Spec("sigmoid", sigmoid_forward, sigmoid_backward, lambda r: {"x": _normal(r, 4, 5)},
          True, 1),
    _Spec("tanh", tanh_forward, tanh_backward, lambda r: {"x": _normal(r, 4, 5)}, True, 1),
    _Spec("softplus", softplus_forward, softplus_backward, lambda r: {"x": _normal(r, 4, 5)},
          True, 1),
    _Spec("softmax_loss", softmax_loss_forward, softmax_loss_backward, lambda r: {
        "x": _normal(r, 5, 4), "y": r.integers(0, 4, size=5)}, True, 1),
    _Spec("svm_loss", svm_loss_forward, svm_loss_backward, lambda r: {
        "x": _normal(r, 5, 4), "y": r.integers(0, 4, size=5)}, True, 1),
    _Spec("svm_int", svm_loss_forward, svm_loss_backward, _svm_int_data, True, 1,
          tiebreak=_svm_int_shift),
    _Spec("bce_logits", bce_logits_forward, bce_logits_backward, lambda r: {
        "x": _normal(r, 6), "y": r.random(6)}, True, 1),
    _Spec("max_pool_int", max_pool_forward, max_pool_backward, lambda r: {
        "x": r.integers(0, 3, size=(2, 2, 4, 4)).astype(float), "pool_param": _POOL2},
        True, 1, tiebreak=_pool_int_shift),
    _Spec("max_pool", max_pool_forward, max_pool_backward, lambda r: {
        "x": _normal(r, 1, 2, 4, 4),
        "pool_param": {"pool_height": 2, "pool_width": 2, "stride": 1}}, True, 1),
    _Spec("avg_pool", avg_pool_forward, avg_pool_backward, lambda r: {
        "x": _normal(r, 2, 2, 4, 4), "pool_param": _POOL2}, True, 1),
    _Spec("batchnorm", batchnorm_forward, batchnorm_backward, lambda r: {
        "x": _normal(r, 6, 4, scale=1.5) + 0.5, "gamma": 1 + _normal(r, 4, scale=0.3),
        "beta": _normal(r, 4), "bn_param": _BN}, True, 3),
    _Spec("bias_batchnorm", bias_batchnorm_forward, bias_batchnorm_backward, lambda r: {
        "x": _normal(r, 6, 4), "b": _normal(r, 4), "gamma": 1 + _normal(r, 4, scale=0.3),
        "beta": _normal(r, 4)}),
    _Spec("layernorm", layernorm_forward, layernorm_backward, lambda r: {
        "x": _normal(r, 4, 5), "gamma": 1 + _normal(r, 5, scale=0.3), "beta": _normal(r, 5),
        "ln_param": {"eps": 1e-5}}, True, 3),
    _Spec("spatial_batchnorm", spatial_batchnorm_forward, spatial_batchnorm_backward,
          lambda r: {"x": _normal(r, 2, 3, 3, 3), "gamma": 1 + _normal(r, 3, scale=0.3),
                     "beta": _normal(r, 3), "bn_param": _BN}, True, 3),
    _Spec("groupnorm", groupnorm_forward, groupnorm_backward, lambda r: {
        "x": _normal(r, 2, 4, 3, 3), "gamma": 1 + _normal(r, 1, 4, 1, 1, scale=0.3),
        "beta": _normal(r, 1, 4, 1, 1), "G": 2, "gn_param": {"eps": 1e-5}}, True, 3),
    _Spec("dropout", dropout_forward, dropout_backward, lambda r: {
        "x": _normal(r, 4, 5), "dropout_param": {"p": 0.6, "mode": "train", "seed": 3}},
        True, 1),
    _Spec("conv", conv_forward, conv_backward, lambda r: {
        "x": _normal(r, 2, 3, 5, 5), "w": _normal(r, 4, 3, 3, 3, scale=0.5),
        "b": _normal(r, 4), "conv_param": {"stride": 1, "pad": 1}}, True, 3),
    _Spec("conv_stride2", conv_forward, conv_backward, lambda r: {
        "x": _normal(r, 2, 2, 6, 6), "w": _normal(r, 2, 2, 3, 3, scale=0.5),
        "b": _normal(r, 2), "conv_param": {"stride": 2, "pad": 1}}, True, 3),
    _Spec("temporal_affine", temporal_affine_forward, temporal_affine_backward, lambda r: {
        "x": _normal(r, 2, 3, 4), "w": _normal(r, 4, 5), "b": _normal(r, 5)}, True, 3),
    _Spec("embedding", embedding_forward, embedding_backward, lambda r: {
        "x": r.integers(0, 5, size=(3, 4)), "W": _normal(r, 5, 3)}),
    _Spec("rnn_step", rnn_step_forward, rnn_step_backward, lambda r: {
        "x": _normal(r, 3, 4), "prev_h": _normal(r, 3, 5), "Wx": _normal(r, 4, 5, scale=0.5),
        "Wh": _normal(r, 5, 5, scale=0.5), "b": _normal(r, 5)}),
    _Spec("lstm_step", lstm_step_forward, lstm_step_backward, lambda r: {
        "x": _normal(r, 3, 4), "prev_h": _normal(r, 3, 2), "prev_c": _normal(r, 3, 2),
        "Wx": _normal(r, 4, 8, scale=0.5), "Wh": _normal(r, 2, 8, scale=0.5),
        "b": _normal(r, 8)}),
    _Spec("two_heads", two_heads_forward, two_heads_backward, lambda r: {
        "x": _normal(r, 4, 3), "w1": _normal(r, 3, 2), "w2": _normal(r, 3, 2)}),
    _Spec("logsumexp", logsumexp_forward, logsumexp_backward, lambda r: {
        "x": _normal(r, 4, 5)}),
    _Spec("attention", attention_forward, attention_backward, lambda r: {
        "q": _normal(r, 3, 4), "k": _normal(r, 5, 4), "v": _normal(r, 5, 2)}),
    _Spec("mse", mse_forward, mse_backward, lambda r: {
        "pred": _normal(r, 4, 3), "target": _normal(r, 4, 3)}),
    _Spec("temporal_softmax", temporal_softmax_forward, temporal_softmax_backward, lambda r: {
        "x": _normal(r, 3, 4, 5), "y": r.integers(0, 5, size=(3, 4)),
        "mask": r.random((3, 4)) < 0.7}),
    _Spec("l2_softmax", l2_softmax_forward, l2_softmax_backward, lambda r: {
        "x": _normal(r, 5, 4), "w": _normal(r, 4, 3), "b": _normal(r, 3),
        "y": r.integers(0, 3, size=5), "reg": 0.1}, options={"wrt": ("w", "b")}),
    _Spec("dls_l2_cost", dls_l2_cost_forward, dls_l2_cost_backward, lambda r: {
        "W1": _normal(r, 4, 3), "b1": _normal(r, 4, 1, scale=0.1), "W2": _normal(r, 1, 4),
        "b2": _normal(r, 1, 1, scale=0.1), "X": _normal(r, 3, 6),
        "Y": (r.random((1, 6)) > 0.5).astype(float), "lambd": 0.7},
        options={"wrt": ("W1", "b1", "W2", "b2")}),
    _Spec("mlp10_sigmoid", mlp_forward, mlp_backward, _mlp_data,
          options={"wrt": _MLP_PARAMS}),
]
_BY_NAME = {s.name: s for s in _SPECS}

CORRECT = [Case(s.name, s.build) for s in _SPECS]


def _m(parent, name, old, new, failing, kind="mismatch", value=None, where="backward"):
    spec = _BY_NAME[parent]
    fn = getattr(spec, where)
    mutated = _mutate(fn, old, new)

    def build():
        return spec.build(**{where: mutated})

    simple = kind != "mismatch"
    failing = (failing,) if isinstance(failing, str) else tuple(failing)
    return Case(f"{parent}:{name}", build, failing, kind, simple, value, parent,
                f"{old}  ->  {new}", where)


_ALL_BUT_PREV_C = ("x", "prev_h", "Wx", "Wh", "b")

MUTANTS = [
    _m("affine", "dw_doubled", "dw = x2.T @ dout", "dw = 2 * x2.T @ dout", "w", "scale", 2.0),
    _m("affine", "dx_sign", "dx = (dout @ w.T)", "dx = -(dout @ w.T)", "x", "sign", -1.0),
    _m("affine", "db_zero", "db = np.sum(dout, axis=0)", "db = np.zeros_like(b)", "b", "zero"),
    _m("affine", "db_mean", "db = np.sum(dout, axis=0)", "db = np.mean(dout, axis=0)", "b",
       "scale", 1 / 3),
    _m("affine", "dw_ignores_dout", "dw = x2.T @ dout", "dw = x2.T @ np.ones_like(dout)", "w"),
    _m("affine_square", "dw_transposed", "dw = x2.T @ dout", "dw = dout.T @ x2", "w",
       "transpose"),
    _m("affine_square", "dx_w_not_transposed", "dx = (dout @ w.T)", "dx = (dout @ w)", "x"),
    _m("dls_linear", "dW_divided_by_m", "dW = dZ @ A.T", "dW = dZ @ A.T / A.shape[1]", "W",
       "scale", 1 / 5),
    _m("dls_linear", "db_mean", "db = np.sum(dZ, axis=1, keepdims=True)",
       "db = np.mean(dZ, axis=1, keepdims=True)", "b", "scale", 1 / 5),
    _m("dls_linear", "dA_sign", "dA_prev = W.T @ dZ", "dA_prev = -W.T @ dZ", "A", "sign", -1.0),
    _m("dls_linear_square", "dW_transposed", "dW = dZ @ A.T", "dW = A @ dZ.T", "W",
       "transpose"),
    _m("dls_linear_square", "dA_W_not_transposed", "dA_prev = W.T @ dZ", "dA_prev = W @ dZ",
       "A"),
    _m("relu", "mask_reversed", "dx = dout * (x > 0)", "dx = dout * (x < 0)", "x"),
    _m("relu", "ignores_dout", "dx = dout * (x > 0)", "dx = 1.0 * (x > 0)", "x"),
    _m("relu_zeros", "mask_reversed", "dx = dout * (x > 0)", "dx = dout * (x <= 0)", "x"),
    _m("relu_zeros", "doubled", "dx = dout * (x > 0)", "dx = 2 * dout * (x > 0)", "x", "scale",
       2.0),
    _m("leaky_relu", "forgot_alpha", "np.where(x > 0, dout, alpha * dout)",
       "np.where(x > 0, dout, 0.0)", "x"),
    _m("leaky_relu", "slopes_swapped", "np.where(x > 0, dout, alpha * dout)",
       "np.where(x > 0, alpha * dout, dout)", "x"),
    _m("sigmoid", "output_as_input", "dx = dout * out * (1 - out)",
       "dx = dout * _sigmoid(out) * (1 - _sigmoid(out))", "x"),
    _m("sigmoid", "missing_one_minus", "dx = dout * out * (1 - out)", "dx = dout * out", "x"),
    _m("sigmoid", "ignores_dout", "dx = dout * out * (1 - out)", "dx = out * (1 - out)", "x"),
    _m("tanh", "input_instead_of_output", "dx = dout * (1 - out**2)", "dx = dout * (1 - x**2)",
       "x"),
    _m("tanh", "sign", "dx = dout * (1 - out**2)", "dx = dout * (out**2 - 1)", "x", "sign",
       -1.0),
    _m("softplus", "output_as_input", "dx = dout * _sigmoid(x)", "dx = dout * _sigmoid(out)",
       "x"),
    _m("softmax_loss", "forgot_1_over_N", "dx = dx / N * dout", "dx = dx * dout", "x", "scale",
       5.0),
    _m("softmax_loss", "sign", "dx = dx / N * dout", "dx = -dx / N * dout", "x", "sign", -1.0),
    _m("softmax_loss", "label_off_by_one", "dx[np.arange(N), y] -= 1",
       "dx[np.arange(N), y - 1] -= 1", "x"),
    _m("svm_loss", "forgot_1_over_N", "dx = dx / N * dout", "dx = dx * dout", "x", "scale",
       5.0),
    _m("svm_loss", "correct_class_minus_one", "dx[np.arange(N), y] -= dx.sum(axis=1)",
       "dx[np.arange(N), y] -= 1", "x"),
    _m("svm_int", "forgot_1_over_N", "dx = dx / N * dout", "dx = dx * dout", "x", "scale",
       10.0),
    _m("svm_int", "sign", "dx = dx / N * dout", "dx = -dx / N * dout", "x", "sign", -1.0),
    _m("bce_logits", "sign", "(_sigmoid(x) - y)", "(y - _sigmoid(x))", "x", "sign", -1.0),
    _m("bce_logits", "logits_as_probabilities", "(_sigmoid(x) - y)", "(x - y)", "x"),
    _m("max_pool_int", "every_tie_gets_dout", "dx[n, c, i * s + r, j * s + q] +=",
       "dx[n, c, i * s:i * s + ph, j * s:j * s + pw] += (window == window.max()) *", "x"),
    _m("max_pool_int", "window_one_row_short", "window = x[n, c, i * s:i * s + ph, ",
       "window = x[n, c, i * s:i * s + ph - 1, ", "x"),
    _m("max_pool", "row_col_swapped", "dx[n, c, i * s + r, j * s + q]",
       "dx[n, c, i * s + q, j * s + r]", "x"),
    _m("max_pool", "ignores_dout", "+= dout[n, c, i, j]", "+= 1.0", "x"),
    _m("avg_pool", "forgot_window_area", "/ (ph * pw)", "", "x", "scale", 4.0),
    _m("avg_pool", "window_off_by_one", "dx[:, :, i * s:i * s + ph, j * s:j * s + pw] += share",
       "dx[:, :, i * s + 1:i * s + 1 + ph, j * s:j * s + pw] += share", "x"),
    _m("batchnorm", "no_eps_in_backward", "std = np.sqrt(var + eps)", "std = np.sqrt(var)", "x"),
    _m("batchnorm", "missing_mean_term", "centered = dxhat - dxhat.mean(axis=0)",
       "centered = dxhat", "x"),
    _m("batchnorm", "missing_variance_term",
       "dx = (centered - xhat * np.mean(dxhat * xhat, axis=0)) / std", "dx = centered / std",
       "x"),
    _m("batchnorm", "naive_dx", "dx = (centered - xhat * np.mean(dxhat * xhat, axis=0)) / std",
       "dx = dxhat / std", "x"),
    _m("batchnorm", "dgamma_forgot_xhat", "dgamma = np.sum(dout * xhat, axis=0)",
       "dgamma = np.sum(dout, axis=0)", "gamma"),
    _m("batchnorm", "dgamma_sign", "dgamma = np.sum(dout * xhat, axis=0)",
       "dgamma = -np.sum(dout * xhat, axis=0)", "gamma", "sign", -1.0),
    _m("batchnorm", "dbeta_mean", "dbeta = np.sum(dout, axis=0)", "dbeta = np.mean(dout, axis=0)",
       "beta", "scale", 1 / 6),
    _m("bias_batchnorm", "db_like_a_plain_bias", 'db = np.zeros_like(inputs["b"])',
       "db = np.sum(dout, axis=0)", "b"),
    _m("layernorm", "mean_over_batch_axis", "centered = dxhat - dxhat.mean(axis=1, keepdims=True)",
       "centered = dxhat - dxhat.mean(axis=0, keepdims=True)", "x"),
    _m("layernorm", "dgamma_uses_input", "dgamma = np.sum(dout * xhat, axis=0)",
       "dgamma = np.sum(dout * x, axis=0)", "gamma"),
    _m("layernorm", "dbeta_zero", "dbeta = np.sum(dout, axis=0)", "dbeta = np.zeros_like(gamma)",
       "beta", "zero"),
    _m("spatial_batchnorm", "channels_not_moved_last",
       "dflat = dout.transpose(0, 2, 3, 1).reshape(-1, C)", "dflat = dout.reshape(-1, C)",
       ("x", "gamma", "beta")),
    _m("spatial_batchnorm", "dx_reshaped_without_transpose",
       "dx = dx.reshape(N, H, W, C).transpose(0, 3, 1, 2)", "dx = dx.reshape(N, C, H, W)", "x",
       "transpose"),  # with C = H = W the NHWC gradient read as NCHW: its axes permuted
    _m("spatial_batchnorm", "dbeta_sign", "return dx, dgamma, dbeta", "return dx, dgamma, -dbeta",
       "beta", "sign", -1.0),
    _m("groupnorm", "missing_mean_term", "centered = dxhat - dxhat.mean(axis=2, keepdims=True)",
       "centered = dxhat", "x"),
    _m("groupnorm", "dbeta_zero", "dbeta = np.sum(dout, axis=(0, 2, 3), keepdims=True)",
       "dbeta = np.zeros_like(gamma)", "beta", "zero"),
    _m("dropout", "forgot_1_over_p", "dx = dout * keep / p", "dx = dout * keep", "x", "scale",
       0.6),
    _m("dropout", "ignores_mask", "dx = dout * keep / p", "dx = dout / p", "x"),
    _m("conv", "dw_kernel_axes_swapped", "return dx, dw, db",
       "return dx, dw.transpose(0, 1, 3, 2), db", "w", "transpose"),
    _m("conv", "db_zero", "db = dout.sum(axis=(0, 2, 3))", "db = np.zeros_like(b)", "b", "zero"),
    _m("conv", "dx_crop_ignores_pad", "dx = dx_pad[:, :, pad:pad + H, pad:pad + W]",
       "dx = dx_pad[:, :, :H, :W]", "x"),
    _m("conv", "dw_output_index_swapped", "dw[f] += window * dout[n, f, i, j]",
       "dw[f] += window * dout[n, f, j, i]", "w"),
    _m("conv", "dx_ignores_dout", "+= w[f] * dout[n, f, i, j]", "+= w[f]", "x"),
    _m("conv_stride2", "dw_filter_channel_axes_swapped", "return dx, dw, db",
       "return dx, dw.transpose(1, 0, 2, 3), db", "w", "transpose"),
    _m("conv_stride2", "dx_window_without_stride",
       "dx_pad[n, :, i * s:i * s + HH, j * s:j * s + WW]", "dx_pad[n, :, i:i + HH, j:j + WW]",
       "x"),
    _m("conv_stride2", "dw_window_without_stride",
       "window = x_pad[n, :, i * s:i * s + HH, j * s:j * s + WW]",
       "window = x_pad[n, :, i:i + HH, j:j + WW]", "w"),
    _m("temporal_affine", "dw_last_step_only", "dw = x.reshape(-1, D).T @ dout.reshape(-1, M)",
       "dw = x[:, -1].T @ dout[:, -1]", "w"),
    _m("temporal_affine", "db_first_example_only", "db = dout.sum(axis=(0, 1))",
       "db = dout[0].sum(axis=0)", "b"),
    _m("embedding", "repeated_words_overwritten", 'np.add.at(dW, inputs["x"], dout)',
       'dW[inputs["x"]] += dout', "W"),
    _m("embedding", "index_off_by_one", 'np.add.at(dW, inputs["x"], dout)',
       'np.add.at(dW, inputs["x"] - 1, dout)', "W"),
    _m("rnn_step", "tanh_derivative_wrong", "da = dnext_h * (1 - next_h**2)",
       "da = dnext_h * (1 - next_h)", ("x", "prev_h", "Wx", "Wh", "b")),
    _m("rnn_step", "dWh_transposed", '"Wh": prev_h.T @ da', '"Wh": da.T @ prev_h', "Wh",
       "transpose"),
    _m("rnn_step", "dWh_uses_next_h", '"Wh": prev_h.T @ da', '"Wh": next_h.T @ da', "Wh"),
    _m("rnn_step", "dWx_doubled", '"Wx": x.T @ da', '"Wx": 2 * x.T @ da', "Wx", "scale", 2.0),
    _m("lstm_step", "input_forget_gates_mixed", "di, df, do, dg = dc * g, dc * prev_c,",
       "di, df, do, dg = dc * prev_c, dc * g,", _ALL_BUT_PREV_C),
    _m("lstm_step", "cell_misses_h_path", "dc = dnext_c + dnext_h * o * (1 - tc**2)",
       "dc = dnext_c", ("x", "prev_h", "prev_c", "Wx", "Wh", "b")),
    _m("lstm_step", "dprev_c_zero", '"prev_c": dc * f', '"prev_c": np.zeros_like(prev_c)',
       "prev_c", "zero"),
    _m("lstm_step", "output_gate_tanh_derivative", "do * o * (1 - o)", "do * (1 - o**2)",
       _ALL_BUT_PREV_C),
    _m("two_heads", "dx_drops_gate_branch", 'dx = dout["scores"] @ w1.T + dz @ w2.T',
       'dx = dout["scores"] @ w1.T', "x"),
    _m("two_heads", "dw2_no_sigmoid_derivative", '"w2": x.T @ dz', '"w2": x.T @ dout["gate"]',
       "w2"),
    _m("two_heads", "dw1_zero", '"w1": x.T @ dout["scores"]', '"w1": np.zeros_like(w1)', "w1",
       "zero"),
    _m("logsumexp", "softmax_not_normalised", "softmax = e / e.sum(axis=1, keepdims=True)",
       "softmax = e", "x"),
    _m("logsumexp", "softmax_wrong_axis", "softmax = e / e.sum(axis=1, keepdims=True)",
       "softmax = e / e.sum(axis=0, keepdims=True)", "x"),
    _m("attention", "no_softmax_jacobian",
       "dscores = p * (dp - np.sum(dp * p, axis=1, keepdims=True))", "dscores = dp", ("q", "k")),
    _m("attention", "forgot_sqrt_d", "dscores = dscores / np.sqrt(d)", "dscores = dscores",
       ("q", "k"), "scale", 2.0),
    _m("mse", "forgot_2", "d = 2 * (pred - target)", "d = (pred - target)", ("pred", "target"),
       "scale", 0.5),
    _m("mse", "dtarget_sign", '"target": -d', '"target": d', "target", "sign", -1.0),
    _m("temporal_softmax", "ignores_mask", "dflat = dflat * mask.ravel()[:, None] / N",
       "dflat = dflat / N", "x"),
    _m("temporal_softmax", "forgot_1_over_N", "dflat = dflat * mask.ravel()[:, None] / N",
       "dflat = dflat * mask.ravel()[:, None]", "x", "scale", 3.0),
    _m("l2_softmax", "missing_l2", "dw = x.T @ dscores + 2 * reg * w", "dw = x.T @ dscores",
       "w", "missing_l2", 0.2),
    _m("l2_softmax", "l2_gradient_without_2", "+ 2 * reg * w", "+ reg * w", "w", "missing_l2",
       0.1),
    _m("l2_softmax", "extra_l2", "return np.asarray(loss + reg * np.sum(w * w))",
       "return np.asarray(loss)", "w", "extra_l2", 0.2, where="forward"),
    _m("l2_softmax", "bias_regularised", "db = dscores.sum(axis=0)",
       "db = dscores.sum(axis=0) + 2 * reg * b", "b", "extra_l2", 0.2),
    _m("dls_l2_cost", "missing_l2_dW1", "dW1 = dZ1 @ X.T + lambd / m * W1", "dW1 = dZ1 @ X.T",
       "W1", "missing_l2", 0.7 / 6),
    _m("dls_l2_cost", "half_l2_dW2", "+ lambd / m * W2", "+ lambd / (2 * m) * W2", "W2",
       "missing_l2", 0.7 / 12),
    _m("dls_l2_cost", "extra_l2", "return np.asarray(cross_entropy + l2)",
       "return np.asarray(cross_entropy)", ("W1", "W2"), "extra_l2", 0.7 / 6, where="forward"),
    _m("dls_l2_cost", "relu_layer_sigmoid_derivative", "dZ1 = (W2.T @ dZ2) * (Z1 > 0)",
       "dZ1 = (W2.T @ dZ2) * A1 * (1 - A1)", ("W1", "b1")),
    _m("mlp10_sigmoid", "dW1_scaled", 'grads[f"W{l}"] = dZ @ A_prev.T',
       'grads[f"W{l}"] = dZ @ A_prev.T * (1.5 if l == 1 else 1.0)', "W1", "scale", 1.5),
    _m("mlp10_sigmoid", "forgot_1_over_m", "dZ = (activations[L] - Y) / m",
       "dZ = activations[L] - Y", _MLP_PARAMS, "scale", 8.0),
    _m("mlp10_sigmoid", "sigmoid_derivative_missing_one_minus",
       "dZ = (inputs[f\"W{l}\"].T @ dZ) * A_prev * (1 - A_prev)",
       "dZ = (inputs[f\"W{l}\"].T @ dZ) * A_prev", _MLP_PARAMS[:18]),
]

ZOO = CORRECT + MUTANTS
