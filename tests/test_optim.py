"""optim: every method lowers the cost, runs are reproducible, progress leaves no output."""

import numpy as np
import pytest

from gradkit import datasets as ds
from gradkit import mlp, optim

PROBLEMS = {
    "moons": (lambda: ds.moons(200, seed=0), dict(output="sigmoid")),
    "circles": (lambda: ds.circles(200, seed=0), dict(output="sigmoid")),
    "spirals": (lambda: ds.spirals(300, 3, seed=0), dict(output="softmax")),
    "blobs": (lambda: ds.blobs(300, 3, seed=0), dict(output="softmax")),
    "linear_regression": (lambda: ds.linear_regression(200, seed=0), dict(output="linear")),
    "polynomial_regression": (lambda: ds.polynomial_regression(200, seed=0),
                              dict(output="linear", hidden="tanh")),
    "overfit": (lambda: ds.overfit(seed=0), dict(output="sigmoid", lambd=0.5)),
}


def _setup(name):
    make, kw = PROBLEMS[name]
    X, Y = make()
    params = mlp.init_params([X.shape[0], 16, Y.shape[0]], seed=0)
    return params, X, Y, kw


@pytest.mark.parametrize("method", optim.METHODS)
@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_training_lowers_the_cost_on_every_dataset(name, method):
    params, X, Y, kw = _setup(name)
    lr = 0.01 if method == "sgd" else 0.1
    epochs = 200 if method == "gd" else 20  # gd makes one update per epoch
    trained, history = optim.train(params, X, Y, method=method, lr=lr, epochs=epochs, **kw)
    assert mlp.cost(trained, X, Y, **kw) < 0.8 * mlp.cost(params, X, Y, **kw)
    assert history.epoch_cost[-1] < history.epoch_cost[0]


def test_a_diverging_learning_rate_does_not_lower_the_cost():
    # negative control for the test above
    params, X, Y, kw = _setup("linear_regression")
    trained, _ = optim.train(params, X, Y, method="gd", lr=50.0, epochs=20, **kw)
    with np.errstate(over="ignore", invalid="ignore"):
        assert not mlp.cost(trained, X, Y, **kw) < mlp.cost(params, X, Y, **kw)


@pytest.mark.parametrize("method", ["sgd", "minibatch", "momentum"])
def test_stochastic_runs_are_reproducible_with_a_seed(method):
    params, X, Y, kw = _setup("moons")
    a, ha = optim.train(params, X, Y, method=method, epochs=3, seed=7, keep_prob=0.8, **kw)
    b, hb = optim.train(params, X, Y, method=method, epochs=3, seed=7, keep_prob=0.8, **kw)
    c, _ = optim.train(params, X, Y, method=method, epochs=3, seed=8, keep_prob=0.8, **kw)
    np.testing.assert_array_equal(ha.cost, hb.cost)
    for key in params:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["W1"], c["W1"])


def test_update_counts_and_history_shapes():
    params, X, Y, kw = _setup("moons")  # m = 200
    for method, batch, per_epoch in [("gd", 64, 1), ("sgd", 64, 200), ("minibatch", 64, 4),
                                     ("momentum", 50, 4)]:
        _, h = optim.train(params, X, Y, method=method, batch_size=batch, epochs=2, **kw)
        assert h.updates == 2 * per_epoch and h.cost.shape == h.time.shape == (2 * per_epoch,)
        assert h.epoch_cost.shape == h.epoch_time.shape == (2,)
        assert np.all(np.diff(h.time) >= 0) and h.wall_time >= h.time[-1]
        assert h.epoch_cost[0] == pytest.approx(h.cost[:per_epoch].mean())


def test_train_leaves_the_starting_params_untouched():
    params, X, Y, kw = _setup("moons")
    before = {k: v.copy() for k, v in params.items()}
    optim.train(params, X, Y, epochs=2, **kw)
    for key in params:
        np.testing.assert_array_equal(params[key], before[key])


def test_history_text_is_stable_across_runs():
    params, X, Y, kw = _setup("moons")
    _, h1 = optim.train(params, X, Y, epochs=2, **kw)
    _, h2 = optim.train(params, X, Y, epochs=2, **kw)
    assert str(h1) == str(h2) and h1._repr_html_() == h2._repr_html_()
    assert str(h1).startswith("minibatch (batch 64, lr 0.1): 2 epochs, 8 updates")


def test_a_custom_loss_trains_logistic_regression():
    X, Y = ds.blobs(200, 2, seed=1)
    Y = Y[:1]

    def loss(p, Xb, Yb):
        A = 1 / (1 + np.exp(-(p["w"] @ Xb + p["c"])))
        m = Xb.shape[1]
        J = -np.mean(Yb * np.log(A + 1e-12) + (1 - Yb) * np.log(1 - A + 1e-12))
        return J, {"w": (A - Yb) @ Xb.T / m, "c": np.sum(A - Yb, keepdims=True) / m}

    start = {"w": np.zeros((1, 2)), "c": np.zeros((1, 1))}
    trained, h = optim.train(start, X, Y, method="gd", lr=0.5, epochs=50, loss=loss)
    assert h.epoch_cost[-1] < 0.2 < h.epoch_cost[0]
    assert set(trained) == {"w", "c"}


def test_update_rules_and_minibatches():
    params = {"W": np.ones((2, 2))}
    grads = {"W": np.full((2, 2), 2.0)}
    np.testing.assert_array_equal(optim.gd_update(params, grads, 0.1)["W"], 0.8)
    new, v = optim.momentum_update(params, grads, {"W": np.zeros((2, 2))}, lr=0.1, beta=0.9)
    np.testing.assert_allclose(v["W"], 0.2)
    np.testing.assert_allclose(new["W"], 0.98)
    np.testing.assert_array_equal(params["W"], 1.0)
    X, Y = np.arange(10.0)[None, :], np.arange(10.0)[None, :] * 2
    batches = optim.minibatches(X, Y, 4, seed=0)
    assert [b[0].shape[1] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.sort(np.concatenate([b[0] for b in batches], 1)), X)
    for Xb, Yb in batches:
        np.testing.assert_array_equal(Yb, 2 * Xb)  # columns stay paired


def test_train_rejects_bad_arguments():
    params, X, Y, kw = _setup("moons")
    with pytest.raises(ValueError, match=r"method must be one of \['gd', 'sgd'"):
        optim.train(params, X, Y, method="adam")
    with pytest.raises(ValueError, match="batch_size must be a positive integer, got 0"):
        optim.train(params, X, Y, batch_size=0)
    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        optim.train(params, X, Y, epochs=0)
    with pytest.raises(ValueError, match=r"use Y.reshape\(1, -1\)"):
        optim.train(params, X, Y[0])
    with pytest.raises(ValueError, match="pass X.T"):
        optim.train(params, X.T, Y)


class _FakeHandle:
    def __init__(self, log):
        self.log = log

    def update(self, bundle, raw):
        self.log.append(("update", dict(bundle)))


def _fake_display(log):
    def display(bundle, raw, display_id):
        log.append(("display", dict(bundle)))
        return _FakeHandle(log)
    return display


def test_progress_starts_and_ends_empty_so_nbval_sees_nothing():
    # nbval compares display_data as first sent and ignores update_display_data;
    # the saved notebook keeps the last update. Both must therefore be empty.
    log = []
    progress = optim._Progress(100, enabled=True, after=2.0, every=0.5,
                               display=_fake_display(log))
    progress.tick(1.0, 10, 0, 5, 0.5)
    assert log == []  # short runs show nothing
    progress.tick(2.1, 20, 0, 5, 0.4)
    progress.tick(2.2, 21, 0, 5, 0.4)  # throttled
    progress.tick(2.7, 30, 1, 5, 0.3)
    progress.close()
    assert log[0] == ("display", {})
    assert [entry[0] for entry in log] == ["display", "update", "update", "update"]
    assert "epoch 2/5, update 30/100, cost 0.3" in log[2][1]["text/plain"]
    assert log[-1] == ("update", {})


def test_progress_is_off_outside_a_kernel():
    log = []
    progress = optim._Progress(10, enabled=False, after=0.0, display=_fake_display(log))
    progress.tick(5.0, 1, 0, 1, 0.1)
    progress.close()
    assert log == []
    assert not optim._in_kernel()
