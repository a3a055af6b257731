"""The fast path of :func:`gradkit.optim.train`: the MLP without dropout, on flat buffers.

Per mini-batch it computes what ``mlp.cost_and_gradients`` and the update of
``optim.train`` compute, arranged so that numpy spends its time in the
matrix products rather than in the fixed cost of each call:

- All parameters live in one flat float64 vector ``theta``, all gradients in
  another, so an update is one in-place operation on the whole network.
- Layer ``l`` is the view ``Wb_l = [W_l | b_l]`` of ``theta``, of shape
  ``(n_l, n_{l-1} + 1)``, and each layer's input carries a last row of ones,
  ``[A; 1]``. Then ``Z_l = Wb_l @ [A_{l-1}; 1]`` adds the bias inside the
  product, and ``dZ_l @ [A_{l-1}; 1].T = [dW_l | db_l]``: ``db`` is ``dZ``
  summed over the examples, its product with the ones.
- The step size is folded into the output delta, ``dZ_L = (A_L - Y) lr / b``
  (``(1 - beta) / b`` with momentum), so backprop yields the update itself.
- Each batch size gets its work arrays once; every operation writes into
  them (``out=``); ``dA_0``, which nothing uses, is not computed.
- The loss terms of every example go into arrays that span the epoch; the
  cost of each mini-batch is summed from them once the epoch is over.

The results are those of the general path up to rounding, not to the last
bit: the bias gradient is summed by the matrix product rather than by
``np.sum``, and the step size multiplies earlier. After an epoch parameters
and costs agree to about 1e-13 relative (``tests/test_optim.py`` checks it
for every hidden and output choice, L2 and each method).
"""

import time

import numpy as np

__all__ = []  # private: optim.train is the interface

from gradkit import nn


def _relu(Z, D, zeros):
    # d relu/dz = 1 where z > 0, else 0 (also at the kink, as nn.relu_backward)
    np.greater(Z, 0.0, out=D)
    # max with an array of zeros rather than the scalar 0.0: numpy's loop is faster
    np.maximum(Z, zeros, out=Z)


def _leaky_relu(Z, D, zeros):
    # each unit's slope, then A = slope * Z, exactly nn.leaky_relu_forward's values
    D.fill(nn.LEAKY_SLOPE)
    np.copyto(D, 1.0, where=Z > 0)
    Z *= D


def _tanh(Z, D, zeros):
    # d tanh/dz = 1 - tanh(z)**2
    np.tanh(Z, out=Z)
    np.multiply(Z, Z, out=D)
    np.subtract(1.0, D, out=D)


def _sigmoid(Z, D, zeros):
    # d sigmoid/dz = sigmoid(z) (1 - sigmoid(z))
    Z[...] = nn.sigmoid(Z)
    np.subtract(1.0, Z, out=D)
    D *= Z


# Each activation turns Z into A = g(Z) in place and writes g'(Z) into D, an
# array of the dtype named here; backward, dZ = dA * D.
_HIDDEN = {"relu": (_relu, bool), "leaky_relu": (_leaky_relu, float),
           "tanh": (_tanh, float), "sigmoid": (_sigmoid, float)}


class _Sigmoid:
    """Sigmoid + cross-entropy, per example ``softplus(z) - y z`` (nn.sigmoid_cross_entropy).

    The logits of the epoch land in ``Z``, batch after batch.
    """

    def __init__(self, n, m):
        self.Z, self.softplus = np.empty((n, m)), np.empty((n, m))

    def delta(self, cols, Y, dZ, scale):
        """``dZ = (sigmoid(Z) - Y) * scale`` for the batch in columns ``cols``."""
        Z, softplus = self.Z[:, cols], self.softplus[:, cols]
        np.logaddexp(0.0, Z, out=softplus)
        # sigmoid(z) = exp(z - softplus(z)), an exponent <= 0
        np.subtract(Z, softplus, out=dZ)
        np.exp(dZ, out=dZ)
        dZ -= Y
        dZ *= scale

    def terms(self, cols, Y):
        """Per-entry loss of the columns ``cols`` (``Y`` is theirs)."""
        return self.softplus[:, cols] - Y * self.Z[:, cols]


class _Softmax:
    """Softmax + cross-entropy, per example ``-sum_k y_k log a_k`` (nn.softmax_cross_entropy).

    The logits land in ``Z`` and become ``log softmax(Z)`` there.
    """

    def __init__(self, n, m):
        self.Z = np.empty((n, m))

    def delta(self, cols, Y, dZ, scale):
        log_A = self.Z[:, cols]
        log_A -= log_A.max(axis=0, keepdims=True)
        log_A -= np.log(np.exp(log_A).sum(axis=0, keepdims=True))
        np.exp(log_A, out=dZ)
        dZ -= Y
        dZ *= scale

    def terms(self, cols, Y):
        return -(Y * self.Z[:, cols])


class _Linear:
    """Identity + half squared error, per example ``(z - y)**2 / 2`` (nn.mse).

    The outputs land in ``Z`` and become ``Z - Y`` there.
    """

    def __init__(self, n, m):
        self.Z = np.empty((n, m))

    def delta(self, cols, Y, dZ, scale):
        D = self.Z[:, cols]
        D -= Y
        np.multiply(D, scale, out=dZ)

    def terms(self, cols, Y):
        D = self.Z[:, cols]
        return D * D * 0.5


_OUTPUTS = {"sigmoid": _Sigmoid, "softmax": _Softmax, "linear": _Linear}


def _outer(w, dz, out):
    """``w @ dz`` for ``w`` of shape (n, 1) and ``dz`` of shape (1, b), by broadcasting.

    The same single products, but numpy's multiply takes about a third less
    time than a matrix product whose inner dimension is 1.
    """
    return np.multiply(w, dz, out=out)


class _Workspace:
    """Work arrays for batches of ``b`` examples, allocated once per batch size.

    Layers are counted from 0 here: ``net.Wb[0]`` is ``[W1 | b1]``.
    """

    def __init__(self, net, b, deriv_dtype):
        hidden = net.dims[1:-1]
        A = [np.ones((n + 1, b)) for n in hidden]  # [A_l; 1]
        D = [np.empty((n, b), dtype=deriv_dtype) for n in hidden]
        dZ = [np.empty((n, b)) for n in net.dims[1:]]
        zeros = [np.zeros((n, b)) for n in hidden]
        # Z_l is written into the top rows of [A_l; 1] and turned into A_l there
        self.forward = list(zip(net.Wb, [a[:-1] for a in A], D, zeros, A))
        self.dZ_first, self.dZ_last = dZ[0], dZ[-1]
        # from the last layer down to the second:
        # [dW_l | db_l] = dZ_l [A_{l-1}; 1]^T and dZ_{l-1} = (W_l^T dZ_l) * g'(Z_{l-1})
        self.backward = [(dZ[l], A[l - 1].T, net.dWb[l], net.WT[l], dZ[l - 1], D[l - 1],
                          _outer if net.dims[l + 1] == 1 else np.matmul)
                         for l in range(len(dZ) - 1, 0, -1)]


class FlatMLP:
    """The network's parameters in one flat vector, trained epoch by epoch.

    Parameters
    ----------
    params : dict of ndarray
        Validated ``W1, b1, ..., WL, bL`` of float64 (copied, not modified).
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_L, m)
        Read, never written.
    L : int
        Number of layers.
    hidden, output, lambd
        As in :func:`gradkit.mlp.cost`.
    """

    def __init__(self, params, X, Y, L, *, hidden, output, lambd):
        self.keys = list(params)
        self.dims = [params["W1"].shape[1]] + [params[f"W{l}"].shape[0] for l in range(1, L + 1)]
        size = sum(n * (p + 1) for p, n in zip(self.dims, self.dims[1:]))
        self.theta, self.grad, self.velocity = np.empty(size), np.empty(size), np.zeros(size)
        self.is_weight = np.zeros(size)  # 1 on the entries of the W_l, 0 on the b_l
        self.Wb, self.dWb, self.WT, self.views = [], [], [], {}
        start = 0
        for l, (p, n) in enumerate(zip(self.dims, self.dims[1:]), 1):
            layer = slice(start, start + n * (p + 1))
            Wb = self.theta[layer].reshape(n, p + 1)
            self.views[f"W{l}"], self.views[f"b{l}"] = Wb[:, :p], Wb[:, p:]
            Wb[:, :p], Wb[:, p:] = params[f"W{l}"], params[f"b{l}"]
            self.is_weight[layer].reshape(n, p + 1)[:, :p] = 1.0
            self.Wb.append(Wb)
            self.WT.append(Wb[:, :p].T)
            self.dWb.append(self.grad[layer].reshape(n, p + 1))
            start = layer.stop
        self.X, self.Y = X, Y
        # [X; 1] and Y with their columns in this epoch's order
        self.Xa = np.ones((X.shape[0] + 1, X.shape[1]))
        self.Xa[:-1] = X
        self.Ys = Y.copy()
        self.activation, self.deriv_dtype = _HIDDEN[hidden]
        self.output = _OUTPUTS[output](self.dims[-1], X.shape[1])
        self.lambd = lambd
        self._workspaces = {}

    def params(self):
        """The parameters as a new dict of arrays, in the caller's key order."""
        return {key: self.views[key].copy() for key in self.keys}

    def step(self, i, b, scale):
        """Forward and backward on columns ``i:i+b``: ``grad`` = ``scale * b`` * gradient."""
        ws = self._workspaces.get(b)
        if ws is None:
            ws = self._workspaces[b] = _Workspace(self, b, self.deriv_dtype)
        cols = slice(i, i + b)
        A_prev = X = self.Xa[:, cols]
        activation = self.activation
        for Wb, Z, D, zeros, A in ws.forward:
            np.matmul(Wb, A_prev, out=Z)
            activation(Z, D, zeros)
            A_prev = A
        out = self.output
        np.matmul(self.Wb[-1], A_prev, out=out.Z[:, cols])
        out.delta(cols, self.Ys[:, cols], ws.dZ_last, scale)
        for dZ, A_prev_T, dWb, WT, dZ_prev, D, product in ws.backward:
            np.matmul(dZ, A_prev_T, out=dWb)
            product(WT, dZ, out=dZ_prev)
            np.multiply(dZ_prev, D, out=dZ_prev)
        np.matmul(ws.dZ_first, X.T, out=self.dWb[0])

    def epoch(self, order, bs, *, lr, beta, momentum, costs, times, start, due, report):
        """One pass over the examples in batches of ``bs``, as the general path makes it.

        Parameters
        ----------
        order : ndarray of shape (m,) or None
            The order of the examples this epoch; None keeps the previous one.
        bs : int
            Examples per update (the last batch may be smaller).
        lr, beta, momentum
            Step size, momentum coefficient, and whether to use momentum.
        costs, times : ndarray of shape (updates per epoch,)
            Receive each batch's cost before its update, and the seconds since
            ``start`` after it.
        due, report : callable or None
            After update ``k``, if ``due(seconds)``, ``report(k, seconds, cost)``.
        """
        if order is not None:
            # mode="clip" skips the bounds check and its buffering: order is a permutation
            np.take(self.X, order, axis=1, out=self.Xa[:-1], mode="clip")
            np.take(self.Y, order, axis=1, out=self.Ys, mode="clip")
        m = self.Xa.shape[1]
        starts = np.arange(0, m, bs)
        sizes = np.minimum(bs, m - starts)
        l2 = np.zeros(len(starts))  # sum of the squared weights before each update
        theta, grad, velocity, lambd = self.theta, self.grad, self.velocity, self.lambd
        if lambd:
            weights = np.empty_like(theta)
        for k, i in enumerate(range(0, m, bs)):
            b = min(bs, m - i)
            scale = (1 - beta) / b if momentum else lr / b  # see the module docstring
            self.step(i, b, scale)
            if lambd:
                # L2: cost + lambd/(2b) sum W**2, gradient + lambd/b W; biases are not penalized
                np.multiply(theta, self.is_weight, out=weights)
                l2[k] = weights @ weights
                weights *= scale * lambd
                grad += weights
            if momentum:
                velocity *= beta
                velocity += grad
                np.multiply(velocity, lr, out=grad)
            theta -= grad
            now = times[k] = time.perf_counter() - start
            if due is not None and due(now):
                cols = slice(i, i + b)
                J = float(self.output.terms(cols, self.Ys[:, cols]).sum()) / b
                report(k, now, J + lambd / (2 * b) * l2[k])
        sums = np.add.reduceat(self.output.terms(slice(None), self.Ys).sum(axis=0), starts)
        costs[:] = sums / sizes + lambd / (2 * sizes) * l2
