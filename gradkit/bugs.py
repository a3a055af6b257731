"""The bug zoo: realistic wrong backward passes of :mod:`gradkit.mlp`, each named.

``BUGS`` maps a stable snake_case name to a :class:`Bug`. Each bug is the
correct backpropagation of :func:`gradkit.mlp.gradients` with one piece
replaced by a mistake students really make (a forgotten ``1/m``, a
transposed ``dW``, a derivative taken from the wrong variable, ...). A bug
has

- ``gradients(params, X, Y, **kw)``: same signature as ``mlp.gradients``;
- ``description``: one line, what the code does wrong;
- ``kwargs``: the cost keywords under which it shows (``lambd``,
  ``keep_prob`` + ``seed``, ``hidden``, ``output``); pass them to both
  ``mlp.cost`` and ``gradients``;
- ``corrupts``: the parameters whose gradient is wrong on a 3-layer net,
  and ``changes_shape``: whether those gradients also have the wrong shape
  (a checker then stops with a shape error instead of a diagnosis).

Examples
--------
>>> import gradkit as gk
>>> bug = gk.bugs.BUGS["dw_doubled"]
>>> params, X, Y = gk.bugs.example(bug)
>>> report = gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y, **bug.kwargs), params,
...                             bug.gradients(params, X, Y, **bug.kwargs))
>>> sorted(report.failing) == sorted(bug.corrupts)
True
"""

from dataclasses import dataclass, field

import numpy as np

from gradkit import mlp, nn

__all__ = ["BUGS", "Bug", "example"]


@dataclass(frozen=True)
class Bug:
    """A named wrong backward pass.

    Attributes
    ----------
    name : str
    description : str
        One line saying what the code does wrong.
    layers : {"all", "W", "b", "hidden"}
        Which gradients it makes wrong: every tensor, every ``W_l``, every
        ``b_l``, or the hidden layers' ``W_l, b_l`` (``l < L``).
    kwargs : dict
        Cost keywords needed to expose it.
    changes_shape : bool
        True if the wrong gradients also have the wrong shape.
    """

    name: str
    description: str
    layers: str
    ops: dict = field(repr=False)
    kwargs: dict = field(default_factory=dict)
    changes_shape: bool = False

    def corrupted(self, L):
        """Names of the parameters whose gradient is wrong on an ``L``-layer net, sorted."""
        layers = range(1, L) if self.layers == "hidden" else range(1, L + 1)
        kinds = {"all": "Wb", "hidden": "Wb", "W": "W", "b": "b"}[self.layers]
        return tuple(f"{kind}{l}" for l in layers for kind in kinds)

    @property
    def corrupts(self):
        """Names of the parameters whose gradient is wrong on a 3-layer net."""
        return self.corrupted(3)

    def gradients(self, params, X, Y, *, hidden="relu", output="sigmoid", lambd=0.0,
                  keep_prob=1.0, seed=None):
        """The buggy gradient: a dict with the keys of ``params`` (see :func:`mlp.gradients`)."""
        L = mlp._validate(params, X, Y, hidden, output, lambd, keep_prob)
        ops = dict(mlp._OPS, **self.ops)
        ops["hidden_backward"] = dict(mlp._OPS["hidden_backward"],
                                      **self.ops.get("hidden_backward", {}))
        return mlp._run(params, np.asarray(X), np.asarray(Y), L, hidden, output, lambd,
                        keep_prob, seed, ops=ops)[1]

    def __str__(self):
        return f"{self.name}: {self.description}"


def _dw_doubled(dZ, cache):
    A_prev, W, _ = cache
    return W.T @ dZ, 2 * dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)


def _transposed_dw(dZ, cache):
    A_prev, W, _ = cache
    return W.T @ dZ, A_prev @ dZ.T, dZ.sum(axis=1, keepdims=True)


def _db_wrong_axis(dZ, cache):
    A_prev, W, _ = cache
    return W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=0, keepdims=True)


def _db_not_computed(dZ, cache):
    A_prev, W, b = cache
    return W.T @ dZ, dZ @ A_prev.T, np.zeros_like(b)


def _db_averaged_twice(dZ, cache):
    A_prev, W, _ = cache
    return W.T @ dZ, dZ @ A_prev.T, dZ.mean(axis=1, keepdims=True)


def _da_prev_divided_by_m(dZ, cache):
    # the 1/m belongs to the cost and dZ carries it already; dividing dA_prev again
    # shrinks the gradient handed down by 1/m per layer
    A_prev, W, _ = cache
    return W.T @ dZ / A_prev.shape[1], dZ @ A_prev.T, dZ.sum(axis=1, keepdims=True)


def _relu_from_activation(dA, cache):
    _, A = cache
    return dA * A


def _tanh_with_z(dA, cache):
    Z, _ = cache
    return dA * (1 - Z**2)


def _leaky_relu_slope_ignored(dA, cache):
    Z, _ = cache
    return dA * (Z > 0)


def _missing_one_over_m(output, dZ, AL, Y):
    return AL - Y


def _sign_flip(output, dZ, AL, Y):
    return -dZ


def _sigmoid_derivative_twice(output, dZ, AL, Y):
    return nn.sigmoid_backward(dZ, (None, AL))


def _softmax_forgets_minus_y(output, dZ, AL, Y):
    return AL / AL.shape[1]


def _mse_missing_half(output, dZ, AL, Y):
    return 2 * dZ


def _no_l2_gradient(W, lambd, m):
    return None


def _l2_in_backward_only(W, lambd, m):
    return nn.l2_gradient(W, 0.7, m)


def _dropout_mask_missing(dA, mask, keep_prob):
    return dA / keep_prob


def _dropout_not_rescaled(dA, mask, keep_prob):
    return dA * mask


_DROPOUT = {"keep_prob": 0.8, "seed": 1}

BUGS = {bug.name: bug for bug in [
    Bug("missing_one_over_m",
        "dZ = A - Y at the output: the 1/m of the mean cost is forgotten, every gradient is m x "
        "too large",
        "all", {"output_delta": _missing_one_over_m}),
    Bug("dw_doubled",
        "dW = 2 dZ A_prev.T: a stray factor 2 (from differentiating a square) in every dW",
        "W", {"linear_backward": _dw_doubled}),
    Bug("transposed_dw",
        "dW = A_prev @ dZ.T: the product is taken in the wrong order, giving dW transposed",
        "W", {"linear_backward": _transposed_dw}, changes_shape=True),
    Bug("sign_flip",
        "dZ = (Y - A)/m at the output: the sign of the loss derivative is flipped",
        "all", {"output_delta": _sign_flip}),
    Bug("db_wrong_axis",
        "db = sum(dZ, axis=0): summed over the units instead of over the examples",
        "b", {"linear_backward": _db_wrong_axis}, changes_shape=True),
    Bug("db_not_computed",
        "db is left at zeros: the bias gradient is never computed",
        "b", {"linear_backward": _db_not_computed}),
    Bug("db_averaged_twice",
        "db = mean(dZ, axis=1): dZ already carries the 1/m, so db is divided by m twice",
        "b", {"linear_backward": _db_averaged_twice}),
    Bug("da_prev_divided_by_m",
        "dA_prev = W.T dZ / m: dZ already carries the 1/m, so each layer hands down a dA_prev m "
        "times too small",
        "hidden", {"linear_backward": _da_prev_divided_by_m}),
    Bug("relu_derivative_from_activation",
        "relu backward multiplies dA by the activation A instead of the 0/1 mask (Z > 0)",
        "hidden", {"hidden_backward": {"relu": _relu_from_activation}}),
    Bug("leaky_relu_slope_ignored",
        "leaky relu backward uses the plain relu mask: no gradient flows through negative Z",
        "hidden", {"hidden_backward": {"leaky_relu": _leaky_relu_slope_ignored}},
        {"hidden": "leaky_relu"}),
    Bug("tanh_derivative_with_z",
        "tanh backward uses 1 - Z**2 instead of 1 - A**2 (A = tanh(Z))",
        "hidden", {"hidden_backward": {"tanh": _tanh_with_z}}, {"hidden": "tanh"}),
    Bug("sigmoid_derivative_twice",
        "the output dZ = (A - Y)/m is multiplied by sigmoid'(Z) = A(1 - A) once more",
        "all", {"output_delta": _sigmoid_derivative_twice}),
    Bug("softmax_forgets_minus_y",
        "softmax output: dZ = A/m, the - Y of softmax + cross-entropy is forgotten",
        "all", {"output_delta": _softmax_forgets_minus_y}, {"output": "softmax"}),
    Bug("mse_missing_half",
        "linear output: dZ = 2(A - Y)/m, the 1/2 of the cost 1/(2m) sum (A - Y)^2 is forgotten",
        "all", {"output_delta": _mse_missing_half}, {"output": "linear"}),
    Bug("l2_missing_from_gradient",
        "the L2 penalty is in the cost but lambd/m * W is not added to dW",
        "W", {"l2_gradient": _no_l2_gradient}, {"lambd": 0.7}),
    Bug("l2_in_gradient_not_cost",
        "backward adds the L2 term 0.7/m * W to dW, but the cost is computed without the "
        "penalty (lambd=0)",
        "W", {"l2_gradient": _l2_in_backward_only}, {"lambd": 0.0}),
    Bug("dropout_mask_missing_in_backward",
        "backward divides dA by keep_prob but does not multiply by the dropout mask",
        "hidden", {"dropout_backward": _dropout_mask_missing}, dict(_DROPOUT)),
    Bug("dropout_not_rescaled",
        "backward applies the dropout mask but forgets to divide by keep_prob",
        "hidden", {"dropout_backward": _dropout_not_rescaled}, dict(_DROPOUT)),
]}
"""Every bug of the zoo, by name."""


def example(bug=None, *, m=8, seed=0):
    """A small 3-layer problem on which ``bug`` shows: ``(params, X, Y)``.

    Sizes ``[4, 5, 3, k]`` with ``k = 3`` for a softmax output, 1 otherwise;
    random non-zero biases so that no bias gradient is zero by accident.

    Parameters
    ----------
    bug : Bug, str or None
        A :class:`Bug`, its name, or None for the default keywords.
    m : int, default 8
    seed : int, default 0

    Returns
    -------
    params : dict
    X : ndarray of shape (4, m)
    Y : ndarray of shape (k, m)
    """
    if isinstance(bug, str):
        if bug not in BUGS:
            raise ValueError(f"no bug named {bug!r}; the names are: {', '.join(sorted(BUGS))}.")
        bug = BUGS[bug]
    output = bug.kwargs.get("output", "sigmoid") if bug is not None else "sigmoid"
    rng = np.random.default_rng(seed)
    k = 3 if output == "softmax" else 1
    params = mlp.init_params([4, 5, 3, k], seed=seed)
    for l in (1, 2, 3):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    X = rng.standard_normal((4, m))
    if output == "softmax":
        Y = np.eye(k)[rng.integers(0, k, m)].T
    elif output == "linear":
        Y = rng.standard_normal((1, m))
    else:
        Y = (rng.random((1, m)) < 0.5).astype(float)
    return params, X, Y
