"""plotting: each figure draws what it claims, on a non-interactive backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import gradkit as gk  # noqa: E402
from gradkit import datasets, mlp, optim, plotting  # noqa: E402
from gradkit.bugs import BUGS, example  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _histories():
    X, Y = datasets.moons(64, seed=0)
    params = mlp.init_params([2, 4, 1], seed=0)
    return {method: optim.train(params, X, Y, method=method, epochs=3, batch_size=16,
                                progress=False)[1]
            for method in ("gd", "minibatch")}


@pytest.mark.parametrize("x,label", [("update", "update"), ("epoch", "epoch"),
                                     ("time", "seconds")])
def test_loss_curves_draw_one_line_per_run(x, label):
    histories = _histories()
    ax = plotting.loss_curves(histories, x=x)
    assert [line.get_label() for line in ax.get_lines()] == ["gd", "minibatch"]
    assert ax.get_xlabel() == label and ax.get_yscale() == "log"
    n = {"update": histories["minibatch"].updates, "epoch": 3, "time": 12}[x]
    assert len(ax.get_lines()[1].get_xdata()) == n


def test_loss_curves_accept_a_single_history_and_reject_an_unknown_axis():
    h = _histories()["gd"]
    ax = plotting.loss_curves(h, log=False)
    assert ax.get_lines()[0].get_label() == "gd" and ax.get_yscale() == "linear"
    with pytest.raises(ValueError, match="x must be 'update', 'epoch' or 'time', got 'seconds'"):
        plotting.loss_curves(h, x="seconds")


def test_decision_boundary_colours_the_plane_by_the_prediction():
    X, Y = datasets.moons(50, seed=0)

    def left_right(G):
        return (G[0] > 0.5).astype(int)[None, :]

    ax = plotting.decision_boundary(left_right, X, Y, resolution=30)
    assert len(ax.collections) >= 2  # filled regions and the scatter
    offsets = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(offsets), X.T)
    with pytest.raises(ValueError, match=r"expected X of shape \(2, m\), got \(50, 2\); pass X.T"):
        plotting.decision_boundary(left_right, X.T, Y)


def test_decision_boundary_handles_one_hot_labels():
    X, Y = datasets.spirals(60, 3, seed=0)
    params = mlp.init_params([2, 8, 3], seed=0)
    ax = plotting.decision_boundary(lambda G: mlp.predict(params, G, output="softmax"), X, Y,
                                    resolution=20)
    assert ax.get_xlabel() == "$x_1$"


def test_gradient_errors_marks_the_failing_tensors_red():
    bug = BUGS["db_not_computed"]
    params, X, Y = example(bug)
    report = gk.check_gradients(lambda p: mlp.cost(p, X, Y), params,
                                bug.gradients(params, X, Y))
    ax = plotting.gradient_errors(report)
    bars = ax.patches
    assert [t.get_text() for t in ax.get_xticklabels()] == list(params)
    red = matplotlib.colors.to_rgba("tab:red")
    assert {name for name, bar in zip(params, bars) if bar.get_facecolor() == red} == {
        "b1", "b2", "b3"}
    assert "fail" in ax.get_title()
    with pytest.raises(TypeError, match="expects the GradientReport"):
        plotting.gradient_errors({"W1": 1e-3})
