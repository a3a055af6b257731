"""The progress line of long operations: shown late, updated rarely, emptied at the end."""

import functools

import numpy as np
import pytest

import gradkit as gk
from gradkit import check, progress


class FakeDisplay:
    """Records what a notebook would show: the bundles of one display, in order."""

    def __init__(self):
        self.bundles = []

    def __call__(self, bundle, raw, display_id):
        assert raw and display_id
        self.bundles.append(bundle)
        return self

    def update(self, bundle, raw):
        assert raw
        self.bundles.append(bundle)

    def texts(self):
        return [b.get("text/plain") for b in self.bundles]


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_nothing_shows_before_after_seconds_then_at_most_every_interval():
    shown, clock = FakeDisplay(), Clock()
    with progress.Progress("auto", after=2.0, every=0.5, display=shown, clock=clock) as p:
        for t in (0.5, 1.9, 2.0, 2.1, 2.4, 2.6, 3.0):
            clock.now = t
            p.update(f"at {t}")
    assert shown.texts() == [None, "at 2.0, 2.0 s", "at 2.6, 2.6 s", None]
    assert shown.bundles[0] == {} and shown.bundles[-1] == {}  # starts and ends empty


def test_true_shows_at_once_and_false_never():
    shown, clock = FakeDisplay(), Clock()
    with progress.Progress(True, display=shown, clock=clock) as p:
        p.update("first")
    assert shown.texts() == [None, "first, 0.0 s", None]
    quiet = FakeDisplay()
    with progress.Progress(False, display=quiet, clock=clock) as p:
        clock.now = 100.0
        p.update("never")
        assert p.counter("x", "calls") is None
    assert quiet.bundles == []


def test_the_display_is_emptied_when_the_operation_fails():
    shown, clock = FakeDisplay(), Clock()
    with pytest.raises(RuntimeError), progress.Progress(True, display=shown, clock=clock) as p:
        p.update("working")
        raise RuntimeError("boom")
    assert shown.bundles[-1] == {}


def test_outside_a_kernel_nothing_is_shown_and_bad_values_are_named():
    assert not progress.in_kernel()
    assert not progress.Progress(True).enabled
    with pytest.raises(ValueError, match="progress must be 'auto', True or False"):
        progress.Progress("yes")


def _fake_progress(shown, clock, step):
    def make(enabled="auto", **kw):
        def tick():
            clock.now += step  # every look at the clock is a "slow" call of f
            return clock.now
        return progress.Progress(enabled, display=shown, clock=tick)
    return make


def test_a_long_full_check_shows_its_calls_and_leaves_the_same_report(monkeypatch):
    rng = np.random.default_rng(3)
    A = rng.normal(size=(30, 20))
    x = rng.normal(size=20)

    def f(p):
        return 0.5 * np.sum((A @ p["x"]) ** 2)

    grads = {"x": A.T @ (A @ x)}
    plain = gk.check_gradients(f, {"x": x}, grads, mode="full", progress=False)
    shown, clock = FakeDisplay(), Clock()
    monkeypatch.setattr(check, "Progress", _fake_progress(shown, clock, step=0.1))
    report = gk.check_gradients(f, {"x": x}, grads, mode="full")
    assert str(report) == str(plain) and report.calls == 42
    texts = [t for t in shown.texts() if t]
    assert texts and all("gradient check (full): " in t and "of about 42 calls of f" in t
                         for t in texts)
    assert shown.bundles[-1] == {}


def test_a_quick_check_shows_nothing(monkeypatch):
    shown, clock = FakeDisplay(), Clock()
    monkeypatch.setattr(check, "Progress", functools.partial(
        progress.Progress, display=shown, clock=clock))  # the clock never moves
    x = np.array([1.0, 2.0])
    assert gk.check_gradients(lambda p: np.sum(p ** 2), x, 2 * x).passed
    assert shown.bundles == []


def test_in_kernel_recognises_a_jupyter_kernel_shell(monkeypatch):
    import sys
    import types

    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    monkeypatch.setitem(sys.modules, "IPython", fake)
    assert progress.in_kernel()
    assert progress.Progress("auto").enabled
    fake.get_ipython = lambda: types.SimpleNamespace()  # a terminal IPython: no kernel
    assert not progress.in_kernel()


def test_check_gradients_names_a_bad_progress_value_before_calling_f():
    calls = []

    def f(p):
        calls.append(1)
        return float(np.sum(p ** 2))

    x = np.array([1.0, 2.0])
    with pytest.raises(ValueError, match=r"progress='no': choose 'auto', True or False"):
        gk.check_gradients(f, x, 2 * x, progress="no")
    assert calls == []
