"""Batch gradient descent, SGD, mini-batch SGD and momentum, with a training history.

One loop covers the four methods; they differ only in how many examples
each update sees and in the update rule:

===============  =====================  =====================================
``method``       examples per update    update
===============  =====================  =====================================
``"gd"``         all ``m``              ``W -= lr * dW``
``"sgd"``        1 (reshuffled)         ``W -= lr * dW``
``"minibatch"``  ``batch_size``         ``W -= lr * dW``
``"momentum"``   ``batch_size``         ``v = beta v + (1-beta) dW; W -= lr v``
===============  =====================  =====================================

Each epoch visits every example once, in a new order drawn from the
``seed``-ed generator, so a run is reproducible. The cost recorded for an
update is the cost of its mini-batch *before* the update (it comes free with
the forward pass); ``History.epoch_cost`` is its mean over the epoch.

Without dropout and without a custom ``loss``, the network trains on flat
buffers (the private :mod:`gradkit._fastmlp`): the same arithmetic as
:func:`gradkit.mlp.cost_and_gradients` and the updates below, arranged so
that an epoch costs less than twice its matrix products
(``benchmarks/bench_train.py``). Its parameters and costs match the general
path up to rounding, not to the last bit.

Runs longer than about 2 s show a progress line in Jupyter. It is shown in a
display that starts and ends empty, so it leaves nothing in the saved
notebook and nothing for the notebook tests to compare.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from gradkit import _fastmlp, mlp
from gradkit.progress import Progress

__all__ = [
    "METHODS",
    "History",
    "gd_update",
    "minibatches",
    "momentum_update",
    "train",
]

METHODS = ("gd", "sgd", "minibatch", "momentum")


def gd_update(params, grads, lr):
    """One gradient-descent step, ``theta - lr * grad`` for every tensor (a new dict)."""
    return {key: value - lr * grads[key] for key, value in params.items()}


def momentum_update(params, grads, velocity, *, lr, beta=0.9):
    """One momentum step: ``v = beta v + (1 - beta) grad``, ``theta = theta - lr v``.

    Parameters
    ----------
    params, grads, velocity : dict of ndarray
        Same keys and shapes; start with ``velocity`` all zeros.

    Returns
    -------
    params, velocity : dict
        New dicts; the inputs are not modified.
    """
    velocity = {key: beta * velocity[key] + (1 - beta) * grads[key] for key in params}
    return {key: value - lr * velocity[key] for key, value in params.items()}, velocity


def minibatches(X, Y, batch_size=64, *, seed=0):
    """Shuffle the examples and cut them into mini-batches (the last one may be smaller).

    Parameters
    ----------
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_y, m)
    batch_size : int
    seed : int or numpy.random.Generator

    Returns
    -------
    list of (X_batch, Y_batch)
        ``X_batch`` of shape ``(n_x, b)``, ``Y_batch`` of shape ``(n_y, b)``,
        ``b = batch_size`` except possibly for the last batch.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(X.shape[1])
    Xs, Ys = X[:, order], Y[:, order]
    return [(Xs[:, i:i + batch_size], Ys[:, i:i + batch_size])
            for i in range(0, X.shape[1], batch_size)]


@dataclass
class History:
    """What :func:`train` did.

    Attributes
    ----------
    cost : ndarray of shape (updates,)
        Cost of each update's mini-batch, just before the update.
    time : ndarray of shape (updates,)
        Seconds since the start of training at the end of each update.
    epoch_cost : ndarray of shape (epochs,)
        Mean of ``cost`` over each epoch.
    epoch_time : ndarray of shape (epochs,)
        Seconds since the start at the end of each epoch.
    updates : int
    wall_time : float
        Total seconds. Left out of the text and HTML views on purpose, so a
        notebook that displays a history prints the same thing on every run.
    method : str
    batch_size : int
    """

    method: str
    batch_size: int
    lr: float
    cost: np.ndarray = field(repr=False)
    time: np.ndarray = field(repr=False)
    epoch_cost: np.ndarray = field(repr=False)
    epoch_time: np.ndarray = field(repr=False)
    updates: int = 0
    wall_time: float = 0.0

    @property
    def epochs(self):
        return len(self.epoch_cost)

    def __str__(self):
        return (f"{self.method} (batch {self.batch_size}, lr {self.lr:g}): {self.epochs} epochs, "
                f"{self.updates} updates; epoch cost {self.epoch_cost[0]:.4g} -> "
                f"{self.epoch_cost[-1]:.4g}")

    def _repr_html_(self):
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in [
            ("method", f"{self.method} (batch {self.batch_size}, lr {self.lr:g})"),
            ("epochs", self.epochs), ("updates", self.updates),
            ("first epoch cost", f"{self.epoch_cost[0]:.4g}"),
            ("last epoch cost", f"{self.epoch_cost[-1]:.4g}"),
        ])
        return f"<table>{rows}</table>"


def _resolve(method, batch_size, m):
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}.")
    if method == "gd":
        return m
    if method == "sgd":
        return 1
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    return min(batch_size, m)


def _fast_path(params, X, Y, L, hidden, output, lambd, keep_prob):
    """The network on flat buffers (:mod:`gradkit._fastmlp`), or None where it does not apply.

    It covers every hidden and output choice, L2 and every method. Dropout
    takes the general path through :mod:`gradkit.mlp`, which draws its masks
    from the run's generator, batch by batch.
    """
    if keep_prob < 1:
        return None
    return _fastmlp.FlatMLP(params, X, Y, L, hidden=hidden, output=output, lambd=lambd)


def _epoch(loss, params, velocity, Xs, Ys, bs, *, lr, beta, momentum, costs, times, start,
           report):
    """One epoch of the general path: ``loss`` on each mini-batch, then each tensor's update."""
    for k, i in enumerate(range(0, Xs.shape[1], bs)):
        J, grads = loss(params, Xs[:, i:i + bs], Ys[:, i:i + bs])
        for key, g in grads.items():
            if momentum:
                v = velocity[key]
                v *= beta
                v += (1 - beta) * g
                g = v
            params[key] -= lr * g
        costs[k] = J
        times[k] = now = time.perf_counter() - start
        report(k, now, J)


def train(params, X, Y, *, method="minibatch", lr=0.1, epochs=10, batch_size=64, beta=0.9,
          seed=0, hidden="relu", output="sigmoid", lambd=0.0, keep_prob=1.0, loss=None,
          progress="auto"):
    """Train ``params`` and return the trained copy with its :class:`History`.

    Parameters
    ----------
    params : dict of ndarray
        Starting point (not modified), e.g. from :func:`gradkit.mlp.init_params`.
    X : ndarray of shape (n_x, m)
    Y : ndarray of shape (n_y, m)
    method : {"gd", "sgd", "minibatch", "momentum"}, default "minibatch"
    lr : float
        Learning rate.
    epochs : int
        Passes over the ``m`` examples.
    batch_size : int, default 64
        Examples per update for ``"minibatch"`` and ``"momentum"``.
    beta : float, default 0.9
        Momentum coefficient (``"momentum"`` only).
    seed : int, default 0
        Seeds the shuffling and the dropout masks: same seed, same run.
    hidden, output, lambd, keep_prob
        The network's keywords, as in :func:`gradkit.mlp.cost`.
    loss : callable, optional
        ``loss(params, X_batch, Y_batch) -> (cost, grads)`` to train something
        other than the MLP (e.g. logistic regression); then the network
        keywords are ignored.
    progress : {"auto", True, False}
        In Jupyter, ``"auto"`` shows a progress line once the run passes 2 s,
        ``True`` from the start; outside Jupyter nothing is shown.

    Returns
    -------
    params : dict of ndarray
    history : History
    """
    X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    if X.ndim != 2 or Y.ndim != 2 or X.shape[1] != Y.shape[1]:
        fix = ("if your X is (m, n_x), pass X.T" if X.ndim == 2 and Y.ndim == 2
               and X.shape[0] == Y.shape[1] else "for labels of shape (m,) use Y.reshape(1, -1)")
        raise ValueError(
            f"X and Y must be 2-D with one example per column and the same m, got X of shape "
            f"{X.shape} and Y of shape {Y.shape}; {fix}."
        )
    if not (isinstance(epochs, int) and epochs >= 1):
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}.")
    m = X.shape[1]
    bs = _resolve(method, batch_size, m)
    rng = np.random.default_rng(seed)
    params = {key: np.array(value, dtype=float) for key, value in params.items()}
    net = None  # the fast path, where it applies
    if loss is None:
        L = mlp._validate(params, X, Y, hidden, output, lambd, keep_prob)
        net = _fast_path(params, X, Y, L, hidden, output, lambd, keep_prob)

        def loss(p, Xb, Yb):
            # validated once above; per update only the arithmetic runs
            return mlp._run(p, Xb, Yb, L, hidden, output, lambd, keep_prob, rng)

    per_epoch = -(-m // bs)
    total = per_epoch * epochs
    show = Progress(progress)
    costs, times = np.empty(per_epoch * epochs), np.empty(per_epoch * epochs)
    epoch_cost, epoch_time = np.empty(epochs), np.empty(epochs)
    run = dict(lr=lr, beta=beta, momentum=method == "momentum", start=time.perf_counter())
    velocity = {key: np.zeros_like(value) for key, value in params.items()}  # general path
    try:
        for epoch in range(epochs):
            order = rng.permutation(m) if bs < m else None
            done = slice(epoch * per_epoch, (epoch + 1) * per_epoch)  # this epoch's updates

            def report(k, now, J, first=done.start, epoch=epoch):
                show.update(f"epoch {epoch + 1}/{epochs}, update {first + k + 1}/{total}, "
                            f"cost {J:.4g}", elapsed=now)

            if net is not None:
                net.epoch(order, bs, costs=costs[done], times=times[done],
                          due=show.due if show.enabled else None, report=report, **run)
            else:
                Xs, Ys = (X, Y) if order is None else (X[:, order], Y[:, order])
                _epoch(loss, params, velocity, Xs, Ys, bs, costs=costs[done],
                       times=times[done], report=report, **run)
            epoch_cost[epoch] = np.mean(costs[done])
            epoch_time[epoch] = times[done][-1]
    finally:
        show.close()
    if net is not None:
        params = net.params()
    history = History(method=method, batch_size=bs, lr=lr, cost=costs, time=times,
                      epoch_cost=epoch_cost, epoch_time=epoch_time, updates=len(costs),
                      wall_time=time.perf_counter() - run["start"])
    return params, history
