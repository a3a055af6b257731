"""Matplotlib figures used by the lessons: loss curves, decision boundaries, check errors.

Each function draws on ``ax`` (a new figure when None) and returns the axes,
so a notebook cell ends with ``plt.show()``. matplotlib is imported here,
not by ``import gradkit``.
"""

import numpy as np

__all__ = ["decision_boundary", "gradient_errors", "loss_curves"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def loss_curves(histories, *, x="update", ax=None, log=True):
    """Cost against updates, epochs or seconds for one or several training runs.

    Parameters
    ----------
    histories : History or dict of str -> History
        From :func:`gradkit.optim.train`; a dict labels each curve.
    x : {"update", "epoch", "time"}, default "update"
        ``"update"``: cost of every mini-batch; ``"epoch"``: mean per epoch;
        ``"time"``: cost of every update against wall-clock seconds, the fair
        comparison between methods whose updates cost different amounts.
    ax : matplotlib Axes, optional
    log : bool, default True
        Logarithmic cost axis.

    Returns
    -------
    ax : matplotlib Axes
    """
    if x not in ("update", "epoch", "time"):
        raise ValueError(f"x must be 'update', 'epoch' or 'time', got {x!r}.")
    if not isinstance(histories, dict):
        histories = {histories.method: histories}
    ax = _axes(ax)
    for label, h in histories.items():
        if x == "update":
            ax.plot(np.arange(1, h.updates + 1), h.cost, label=label, lw=0.8)
        elif x == "epoch":
            ax.plot(np.arange(1, h.epochs + 1), h.epoch_cost, label=label, marker=".")
        else:
            ax.plot(h.time, h.cost, label=label, lw=0.8)
    ax.set_xlabel({"update": "update", "epoch": "epoch", "time": "seconds"}[x])
    ax.set_ylabel("cost")
    if log:
        ax.set_yscale("log")
    ax.legend()
    return ax


def decision_boundary(predict, X, Y, *, ax=None, resolution=200, margin=0.5):
    """Colour the plane by a trained model's prediction and scatter the data on top.

    Parameters
    ----------
    predict : callable
        ``predict(X_grid) -> labels`` with ``X_grid`` of shape ``(2, n)`` and
        labels of shape ``(1, n)`` or ``(n,)``, e.g.
        ``lambda G: gk.mlp.predict(params, G)``.
    X : ndarray of shape (2, m)
    Y : ndarray of shape (1, m) (0/1 labels) or one-hot (k, m)
    ax : matplotlib Axes, optional
    resolution : int, default 200
        Grid points per axis.
    margin : float, default 0.5
        Space around the data.

    Returns
    -------
    ax : matplotlib Axes

    Raises
    ------
    ValueError
        If ``X`` is not 2-D data of shape ``(2, m)``.
    """
    X, Y = np.asarray(X), np.asarray(Y)
    if X.ndim != 2 or X.shape[0] != 2:
        raise ValueError(
            f"decision_boundary draws 2-D data: expected X of shape (2, m), got {X.shape}"
            + ("; pass X.T." if X.ndim == 2 and X.shape[1] == 2 else ".")
        )
    ax = _axes(ax)
    lo, hi = X.min(axis=1) - margin, X.max(axis=1) + margin
    g0, g1 = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    labels = np.asarray(predict(np.stack([g0.ravel(), g1.ravel()]))).reshape(g0.shape)
    y = Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0]
    k = max(int(y.max()) + 1, int(labels.max()) + 1, 2)
    ax.contourf(g0, g1, labels, levels=np.arange(k + 1) - 0.5, cmap="coolwarm", alpha=0.3)
    ax.scatter(X[0], X[1], c=y, cmap="coolwarm", vmin=0, vmax=k - 1, s=12, edgecolors="k",
               linewidths=0.3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def gradient_errors(report, *, ax=None, tol=None):
    """Bar chart of the relative error of each tensor in a ``GradientReport``.

    Failing tensors are red; the tolerance is a dashed line.

    Parameters
    ----------
    report : GradientReport
        From :func:`gradkit.check_gradients`.
    ax : matplotlib Axes, optional
    tol : float, optional
        The line to draw; defaults to the report's own tolerance.

    Returns
    -------
    ax : matplotlib Axes
    """
    if not hasattr(report, "per_parameter"):
        raise TypeError(
            f"gradient_errors expects the GradientReport returned by gk.check_gradients, "
            f"got {type(report).__name__}."
        )
    ax = _axes(ax)
    names = list(report.per_parameter)
    # an exact match would vanish on a log axis: draw it at a visible floor
    errors = np.maximum([report.per_parameter[n] for n in names], 1e-17)
    failing = set(report.failing)
    ax.bar(names, errors, color=["tab:red" if n in failing else "tab:green" for n in names])
    tol = tol if tol is not None else getattr(report, "tolerance", None)
    if tol is not None:
        ax.axhline(tol, color="k", ls="--", lw=1, label=f"tolerance {tol:.0e}")
        ax.legend()
    ax.set_yscale("log")
    ax.set_ylabel("relative error")
    ax.set_title(f"gradient check: {report.verdict}")
    return ax
