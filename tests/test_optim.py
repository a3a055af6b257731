"""optim: every method lowers the cost, runs are reproducible, progress leaves no output,
the fast path trains as the general path does."""

import re
from dataclasses import replace

import numpy as np
import pytest

from gradkit import datasets as ds
from gradkit import mlp, optim, progress

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


def test_a_long_run_shows_epoch_update_and_cost_then_leaves_nothing(monkeypatch):
    log = []  # bool(enabled): as if the run were already long ("auto" -> True)
    monkeypatch.setattr(optim, "Progress", lambda enabled: progress.Progress(
        bool(enabled), display=_fake_display(log)))
    X, Y = ds.moons(60, seed=1)
    optim.train(mlp.init_params([2, 4, 1], seed=0), X, Y, epochs=40, batch_size=30)
    texts = [bundle.get("text/plain") for _, bundle in log]
    assert log[0] == ("display", {}) and log[-1] == ("update", {})
    assert re.fullmatch(r"epoch \d+/40, update \d+/80, cost [0-9.]+, [0-9.]+ s", texts[1])
    log.clear()
    optim.train(mlp.init_params([2, 4, 1], seed=0), X, Y, epochs=1, batch_size=30,
                progress=False)
    assert log == []


# The fast path (gradkit._fastmlp) against the general path through mlp.cost_and_gradients

DATA = {
    "sigmoid": lambda: ds.moons(60, seed=1),
    "softmax": lambda: ds.blobs(60, 3, seed=1),
    "linear": lambda: ds.polynomial_regression(60, seed=1),
}


def _both_paths(monkeypatch, params, X, Y, **kw):
    """``optim.train`` through the fast path, then through the general path."""
    real, nets = optim._fast_path, []
    with monkeypatch.context() as patch:
        patch.setattr(optim, "_fast_path", lambda *args: nets.append(real(*args)) or nets[-1])
        fast = optim.train(params, X, Y, progress=False, **kw)
    assert nets and nets[0] is not None, "the fast path was not taken"
    with monkeypatch.context() as patch:
        patch.setattr(optim, "_fast_path", lambda *args: None)
        general = optim.train(params, X, Y, progress=False, **kw)
    return fast, general


def _assert_same_run(run, reference, tol=1e-12):
    """Same keys, shapes, parameters and cost history, to ``tol`` of each array's largest entry."""
    (params, history), (ref_params, ref_history) = run, reference
    assert list(params) == list(ref_params), f"keys {list(params)}, expected {list(ref_params)}"
    assert history.updates == ref_history.updates
    pairs = [(key, params[key], ref_params[key]) for key in ref_params]
    pairs += [("cost", history.cost, ref_history.cost),
              ("epoch_cost", history.epoch_cost, ref_history.epoch_cost)]
    for name, got, expected in pairs:
        assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
        err = np.max(np.abs(got - expected)) / (np.max(np.abs(expected)) or 1.0)
        assert err <= tol, f"{name} differs by {err:.1e} of its largest entry (tolerance {tol:g})"


@pytest.mark.parametrize("method", optim.METHODS)
@pytest.mark.parametrize("lambd", [0.0, 0.3])
@pytest.mark.parametrize("output", mlp.OUTPUTS)
@pytest.mark.parametrize("hidden", sorted(mlp.HIDDEN))
def test_fast_path_trains_as_the_general_path(monkeypatch, hidden, output, lambd, method):
    X, Y = DATA[output]()
    params = mlp.init_params([X.shape[0], 6, 5, Y.shape[0]], seed=2)
    # m = 60 in batches of 16: the last batch has 12 examples
    kw = dict(method=method, lr=0.05 if method == "sgd" else 0.3, epochs=3, batch_size=16,
              seed=3, hidden=hidden, output=output, lambd=lambd)
    fast, general = _both_paths(monkeypatch, params, X, Y, **kw)
    _assert_same_run(fast, general)


@pytest.mark.parametrize("layer_dims", [[2, 3], [2, 7, 1], [2, 9, 8, 7, 3]],
                         ids=["no hidden layer", "one", "three"])
def test_fast_path_matches_at_every_depth_over_many_updates(monkeypatch, layer_dims):
    X, Y = ds.spirals(150, 3, seed=4)
    Y = Y if layer_dims[-1] == 3 else Y[:1]
    output = "softmax" if layer_dims[-1] == 3 else "sigmoid"
    params = mlp.init_params(layer_dims, seed=5)
    for method in ("minibatch", "momentum"):
        fast, general = _both_paths(monkeypatch, params, X, Y, method=method, epochs=40,
                                    batch_size=32, beta=0.8, lambd=0.05, output=output)
        assert fast[1].updates == 200
        _assert_same_run(fast, general)


def test_the_comparison_fails_on_a_result_off_by_one_part_in_a_billion(monkeypatch):
    X, Y = DATA["sigmoid"]()
    params = mlp.init_params([2, 6, 1], seed=2)
    (trained, history), general = _both_paths(monkeypatch, params, X, Y, epochs=2)
    _assert_same_run((trained, history), general)
    for key in trained:
        nudged = {k: v.copy() for k, v in trained.items()}
        nudged[key][0, 0] += 1e-9 * np.max(np.abs(nudged[key]))
        with pytest.raises(AssertionError, match=f"{key} differs by 1.0e-09 of its largest"):
            _assert_same_run((nudged, history), general)
    cost = history.cost.copy()
    cost[-1] += 1e-9 * cost.max()
    with pytest.raises(AssertionError, match="cost differs"):
        _assert_same_run((trained, replace(history, cost=cost)), general)


def test_the_comparison_catches_a_fast_path_that_penalizes_the_biases(monkeypatch):
    # a plausible slip: L2 applied to every parameter; the change per update is tiny
    X, Y = DATA["sigmoid"]()
    params = mlp.init_params([2, 6, 1], seed=2)
    kw = dict(epochs=2, lambd=0.3)
    real = optim._fast_path

    def biases_decayed_too(*args):
        net = real(*args)
        net.is_weight[:] = 1.0
        return net

    general = _both_paths(monkeypatch, params, X, Y, **kw)[1]
    monkeypatch.setattr(optim, "_fast_path", biases_decayed_too)
    wrong = optim.train(params, X, Y, progress=False, **kw)
    with pytest.raises(AssertionError, match="b1 differs"):
        _assert_same_run(wrong, general)


def test_dropout_and_custom_losses_take_the_general_path(monkeypatch):
    X, Y = DATA["sigmoid"]()
    params = mlp.init_params([2, 6, 1], seed=2)
    L = mlp._validate(params, X, Y, "relu", "sigmoid", 0.0, 0.8)
    assert optim._fast_path(params, X, Y, L, "relu", "sigmoid", 0.0, 0.8) is None
    assert optim._fast_path(params, X, Y, L, "relu", "sigmoid", 0.0, 1.0) is not None
    calls = []
    monkeypatch.setattr(optim, "_fast_path", lambda *args: calls.append(args))
    optim.train({"w": np.zeros((1, 2))}, X, Y, epochs=1, progress=False,
                loss=lambda p, Xb, Yb: (0.0, {"w": np.zeros((1, 2))}))
    assert calls == []  # a custom loss never reaches the network's fast path


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "general path"])
def test_train_leaves_X_Y_and_params_untouched_and_returns_fresh_arrays(monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(optim, "_fast_path", lambda *args: None)
    X, Y = DATA["softmax"]()
    X = np.asfortranarray(X)  # the datasets' layout, and X[:, order] must not write into it
    params = mlp.init_params([2, 6, 3], seed=2)
    before = [a.copy() for a in (X, Y, *params.values())]
    trained, _ = optim.train(params, X, Y, epochs=2, output="softmax", lambd=0.1)
    for a, b in zip((X, Y, *params.values()), before):
        np.testing.assert_array_equal(a, b)
    for key, value in trained.items():
        assert value.shape == params[key].shape and value.dtype == np.float64
        assert value.flags.c_contiguous and value.base is None, f"{key} is a view"


class _RecordingProgress:
    """Stands in for optim.Progress: every update is due, each text is recorded."""

    log = []

    def __init__(self, enabled):
        self.enabled = True

    def due(self, elapsed=None):
        return True

    def update(self, text, elapsed=None):
        epoch, update, cost = re.fullmatch(r"epoch (\d+)/\d+, update (\d+)/\d+, cost (.+)",
                                           text).groups()
        self.log.append((int(update), int(epoch) - 1, float(cost)))

    def close(self):
        pass


@pytest.mark.parametrize("fast", [True, False], ids=["fast path", "general path"])
def test_progress_sees_each_update_and_the_cost_the_history_records(monkeypatch, fast):
    if not fast:
        monkeypatch.setattr(optim, "_fast_path", lambda *args: None)
    monkeypatch.setattr(optim, "Progress", _RecordingProgress)
    monkeypatch.setattr(_RecordingProgress, "log", [])
    X, Y = DATA["linear"]()
    params = mlp.init_params([1, 6, 1], seed=2)
    _, history = optim.train(params, X, Y, epochs=2, batch_size=16, output="linear", lambd=0.2)
    log = _RecordingProgress.log
    assert [(update, epoch) for update, epoch, _ in log] == [(u, (u - 1) // 4) for u in range(1, 9)]
    np.testing.assert_allclose([cost for *_, cost in log], history.cost, rtol=1e-3)  # :.4g
