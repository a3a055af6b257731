"""The layer checker on the zoo (tests/_zoo.py): every correct layer passes, every mutant fails.

A mutant must fail on exactly the inputs its bug corrupts and, when the bug
is a simple pattern (scale, sign, transpose, L2, zero), be diagnosed as that
pattern. Before gradkit is trusted with the labels, an oracle written here
checks them: a plain central-difference loop over the entries of
``sum(out · dout)``, entry by entry. At a kink (ReLU at 0, a hinge margin of
0, tied maxima) the oracle differences the layer at a point shifted off the
kink to the side whose derivative the backward pass returns (the case's
``tiebreak``): there the function is smooth and its gradient is the one the
backward pass must give.
"""

import itertools
import zlib

import numpy as np
import pytest
from _zoo import CORRECT, MUTANTS, ZOO, as_vjp, check

H = 1e-5  # oracle step, relative to max(1, |x|)
EPS = np.finfo(float).eps


def _random_dout(out, rng):
    """Upstream gradient shaped like out; 0.75 for a scalar (so an L2 factor reads back)."""
    if isinstance(out, dict):
        return {k: _random_dout(v, rng) for k, v in out.items()}
    if isinstance(out, (tuple, list)):
        return type(out)(_random_dout(v, rng) for v in out)
    out = np.asarray(out)
    return 0.75 if out.ndim == 0 else rng.normal(size=out.shape)


def _dot(out, dout):
    if isinstance(out, dict):
        return sum(_dot(out[k], dout[k]) for k in out)
    if isinstance(out, (tuple, list)):
        return sum(_dot(o, d) for o, d in zip(out, dout))
    return float(np.sum(np.asarray(out) * dout))


_ORACLE = {}


def _oracle(case):
    """(analytic grads, numeric grads, inputs, dout, f0, names) for a case; numerics cached."""
    problem = case.build()
    forward, backward, inputs, names = as_vjp(problem)
    key = case.parent or case.name
    rng = np.random.default_rng(zlib.crc32(key.encode()) + 1)
    dout = _random_dout(forward(inputs), rng)
    analytic = {k: np.asarray(v, float) for k, v in backward(inputs, dout).items()}
    # mutants of a backward pass share their parent's forward, and so its numerics
    cache_key = (key, getattr(problem, "forward", None) or problem.layer_forward)
    if cache_key not in _ORACLE:
        point = dict(inputs)
        for name, shift in (problem.tiebreak or {}).items():
            point[name] = inputs[name] + shift

        def f(values):
            return _dot(forward(values), dout)

        numeric = {}
        for name in names:
            x = point[name]
            g = np.empty(x.shape)
            for idx in np.ndindex(x.shape):
                step = H * max(1.0, abs(x[idx]))
                plus, minus = x.copy(), x.copy()
                plus[idx] += step
                minus[idx] -= step
                g[idx] = (f({**point, name: plus}) - f({**point, name: minus})) / (2 * step)
            numeric[name] = g
        _ORACLE[cache_key] = numeric, f(point)
    numeric, f0 = _ORACLE[cache_key]
    return analytic, numeric, inputs, dout, f0, names


def _agrees(a, n, f0):
    """Equal up to the oracle's own error: truncation (relative) or round-off of f (absolute)."""
    e = a - n
    atol = 100 * EPS * max(1.0, abs(f0)) / H
    return bool(np.linalg.norm(e) <= 1e-7 * (np.linalg.norm(a) + np.linalg.norm(n))
                or np.all(np.abs(e) <= atol)), atol


@pytest.mark.parametrize("case", ZOO, ids=lambda c: c.name)
def test_oracle_confirms_the_label(case):
    """Correct gradients match the oracle; a mutant is off exactly on the inputs it names."""
    a, n, inputs, dout, f0, names = _oracle(case)
    assert sorted(a) == sorted(names), f"backward returned {sorted(a)}, expected {names}"
    assert set(case.failing) <= set(names)
    for name in names:
        ok, atol = _agrees(a[name], n[name], f0)
        err = np.linalg.norm(a[name] - n[name])
        rel = err / (np.linalg.norm(a[name]) + np.linalg.norm(n[name]))
        if name in case.failing:
            assert not ok and rel > 1e-6 and np.max(np.abs(a[name] - n[name])) > 10 * atol, (
                f"{case.name}: d{name} is labelled wrong but is off by only {rel:.1e}")
        else:
            assert ok, f"{case.name}: d{name} is off by {rel:.1e} (oracle round-off {atol:.1e})"


def _fits(target, basis, error):
    """c in target ≈ c·basis, and whether that explains all but 0.1% of the error."""
    bb = float(np.sum(basis * basis))
    c = float(np.sum(target * basis) / bb) if bb else 0.0
    return c, bool(np.linalg.norm(target - c * basis) <= 1e-3 * error)


def _pattern_holds(kind, a, n, x):
    """(holds, value) for the simple patterns, written apart from gradkit's diagnosis."""
    error = float(np.linalg.norm(a - n))
    if kind == "zero":
        return not np.any(a) and np.any(n), 0.0
    if kind in ("scale", "sign"):
        return _fits(a, n, error)[::-1]
    if kind == "transpose":
        for perm in itertools.permutations(range(n.ndim)):
            if perm != tuple(range(n.ndim)) and n.transpose(perm).shape == a.shape:
                if np.linalg.norm(a - n.transpose(perm)) <= 1e-3 * error:
                    return True, 1.0
        return False, None
    k, holds = _fits(n - a if kind == "missing_l2" else a - n, x, error)
    return holds and k > 0, k


@pytest.mark.parametrize("case", [c for c in MUTANTS if c.simple], ids=lambda c: c.name)
def test_oracle_confirms_the_pattern(case):
    """A mutant labelled scale/sign/transpose/L2/zero really is that pattern, with that value."""
    a, n, inputs, dout, f0, names = _oracle(case)
    for name in case.failing:
        holds, value = _pattern_holds(case.kind, a[name], n[name], inputs[name])
        assert holds, f"{case.name}: d{name} is not a {case.kind} of the true gradient"
        if case.value is not None:
            if case.kind in ("missing_l2", "extra_l2"):
                value = value / dout  # the check is of dout · loss
            assert value == pytest.approx(case.value, rel=1e-3), f"{case.name}: d{name}"


@pytest.mark.parametrize("case", MUTANTS, ids=lambda c: c.name)
def test_mutant_differs_from_its_parent_only_where_labelled(case):
    """The bug changes the gradients it names and leaves every other gradient bit for bit.

    A bug in the forward pass (an L2 term left out of the cost) changes the true
    gradient instead: then the oracle's numerics are compared.
    """
    parent = next(c for c in CORRECT if c.name == case.parent)
    a, n, _, _, f0, names = _oracle(case)
    a0, n0, *_ = _oracle(parent)
    for name in names:
        if case.mutated == "forward":
            same = _agrees(n[name], n0[name], f0)[0]
        else:
            same = np.array_equal(a[name], a0[name])
        assert same != (name in case.failing), f"{case.name}: d{name}"


def _findings_for(report, name):
    return [f for f in report.findings if f.parameter == name]


@pytest.mark.parametrize("case", CORRECT, ids=lambda c: c.name)
def test_correct_layer_passes(case):
    report = check(case.build())
    assert report.verdict == "pass" and not report.failing, f"{case.name}:\n{report}"


@pytest.mark.parametrize("case", MUTANTS, ids=lambda c: c.name)
def test_mutant_fails_on_exactly_its_inputs(case):
    report = check(case.build())
    assert report.verdict == "fail", f"{case.name}: verdict {report.verdict}\n{report}"
    assert sorted(report.failing) == sorted(case.failing), f"{case.name}:\n{report}"
    if case.simple:
        for name in case.failing:
            kinds = [f.kind for f in _findings_for(report, name)]
            assert case.kind in kinds, f"{case.name}: d{name} diagnosed {kinds}\n{report}"


@pytest.mark.parametrize("case", [c for c in MUTANTS if c.simple and c.value is not None],
                         ids=lambda c: c.name)
def test_mutant_finding_value(case):
    """The factor a scale or L2 finding reports is the bug's (for a loss: not times dout)."""
    report = check(case.build())
    for name in case.failing:
        values = [f.value for f in _findings_for(report, name) if f.kind == case.kind]
        assert values and values[0] == pytest.approx(case.value, rel=2e-2), (
            f"{case.name}: d{name} {case.kind} value {values}, expected {case.value:.4g}")
