"""The checker: correct nets pass, each finding kind comes from a real bug, errors are clear.

The network here is written independently of gradkit.nn / gradkit.mlp, with
a ``bug`` switch that plants one of the classic mistakes in its backward pass.
"""

import numpy as np
import pytest

import gradkit as gk
from gradkit.check import tolerance_table


def init(rng, dims):
    p = {}
    for l in range(1, len(dims)):
        p[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1])) * np.sqrt(2 / dims[l - 1])
        p[f"b{l}"] = rng.normal(size=(dims[l], 1)) * 0.1
    return p


def forward(p, X, Y, hidden="tanh", lambd=0.0, keep_prob=1.0, mask_rng=None):
    L = len(p) // 2
    A, caches = X, []
    for l in range(1, L + 1):
        Z = p[f"W{l}"] @ A + p[f"b{l}"]
        if l == L:
            A_next, D = 1 / (1 + np.exp(-Z)), None
        else:
            A_next = np.tanh(Z) if hidden == "tanh" else np.maximum(Z, 0)
            D = None
            if keep_prob < 1:
                D = mask_rng.uniform(size=A_next.shape) < keep_prob
                A_next = A_next * D / keep_prob
        caches.append((A, Z, D))
        A = A_next
    m = X.shape[1]
    J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    J += lambd / (2 * m) * sum(np.sum(p[f"W{l}"] ** 2) for l in range(1, L + 1))
    return float(J), A, caches


def backward(p, X, Y, hidden="tanh", lambd=0.0, keep_prob=1.0, mask_seed=None, bug=None):
    mask_rng = np.random.default_rng(mask_seed)
    _, A, caches = forward(p, X, Y, hidden, 0.0 if bug == "extra_l2" else lambd, keep_prob,
                           mask_rng)
    L, m = len(p) // 2, X.shape[1]
    g = {}
    dZ = (Y - A if bug == "sign" else A - Y) / m
    for l in range(L, 0, -1):
        A_prev, _, _ = caches[l - 1]
        dW = A_prev @ dZ.T if bug == "transpose" and l == 2 else dZ @ A_prev.T
        if bug == "no_1/m" and l == 1:
            dW = dW * m
        if bug == "zero" and l == 1:
            dW = np.zeros_like(dW)
        reg = 0.0 if bug == "missing_l2" else lambd / m
        if bug == "extra_l2":
            reg = 0.7 / m
        g[f"W{l}"] = dW + reg * p[f"W{l}"]
        g[f"b{l}"] = dZ.sum(axis=1, keepdims=True)
        if l > 1:
            _, Z_prev, D = caches[l - 2]
            dA = p[f"W{l}"].T @ dZ
            if D is not None:
                dA = dA * D / keep_prob
            deriv = 1 - np.tanh(Z_prev) ** 2 if hidden == "tanh" else (Z_prev > 0)
            dZ = dA * deriv
    if bug == "one_entry":
        g["W1"] = g["W1"].copy()
        g["W1"][3, 7] += 0.05 * np.abs(g["W1"]).max()
    if bug == "double_W3":
        g["W3"] = 2 * g["W3"]
    return g


def problem(rng, dims=(4, 5, 5, 1), m=10):
    p = init(rng, list(dims))
    X = rng.normal(size=(dims[0], m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    return p, X, Y


def cost_fn(X, Y, **kw):
    seed = kw.pop("mask_seed", None)
    return lambda q: forward(q, X, Y, mask_rng=np.random.default_rng(seed), **kw)[0]


@pytest.mark.parametrize("mode", ["auto", "full"])
@pytest.mark.parametrize("hidden", ["tanh", "relu"])
def test_a_correct_net_passes(rng, mode, hidden):
    p, X, Y = problem(rng)
    report = gk.check_gradients(cost_fn(X, Y, hidden=hidden, lambd=0.3), p,
                                backward(p, X, Y, hidden, lambd=0.3), mode=mode)
    assert report.passed and report.verdict == "pass" and report.failing == []
    assert report.relative_error < 1e-8
    assert set(report.per_parameter) == set(p)


def test_default_step_beats_the_classic_epsilon(rng):
    p, X, Y = problem(rng, dims=(4, 5, 3, 1))
    f, g = cost_fn(X, Y), backward(p, X, Y)
    best = gk.check_gradients(f, p, g, mode="full")
    classic = gk.check_gradients(f, p, g, mode="full", h=1e-7)
    assert best.relative_error <= 1e-9
    assert classic.relative_error > 10 * best.relative_error
    assert classic.passed and classic.tolerance > best.tolerance  # the step sets the bar


@pytest.mark.parametrize(
    ("bug", "kind", "failing"),
    [
        ("sign", "sign", ["W1", "b1", "W2", "b2", "W3", "b3"]),
        ("no_1/m", "scale", ["W1"]),
        ("transpose", "transpose", ["W2"]),
        ("zero", "zero", ["W1"]),
        ("missing_l2", "missing_l2", ["W1", "W2", "W3"]),
        ("extra_l2", "extra_l2", ["W1", "W2", "W3"]),
        ("one_entry", "mismatch", ["W1"]),
    ],
)
def test_each_bug_is_named_with_its_kind(rng, bug, kind, failing):
    dims = (12, 5, 5, 1) if bug == "one_entry" else (4, 5, 5, 1)
    p, X, Y = problem(rng, dims=dims, m=10)
    lambd = 0.5 if bug == "missing_l2" else 0.0
    report = gk.check_gradients(cost_fn(X, Y, lambd=lambd), p,
                                backward(p, X, Y, lambd=lambd, bug=bug))
    assert report.verdict == "fail" and not report.passed
    assert report.failing == failing
    kinds = {f.parameter: f.kind for f in report.findings}
    assert all(kinds[name] == kind for name in failing), report


def test_scale_and_l2_findings_carry_their_factor(rng):
    p, X, Y = problem(rng, m=10)
    scale = gk.check_gradients(cost_fn(X, Y), p, backward(p, X, Y, bug="no_1/m"))
    assert scale.findings[0].value == pytest.approx(10, rel=1e-6)
    assert "forgotten 1/m" in scale.findings[0].message
    l2 = gk.check_gradients(cost_fn(X, Y, lambd=0.5), p,
                            backward(p, X, Y, lambd=0.5, bug="missing_l2"))
    assert l2.findings[0].value == pytest.approx(0.5 / 10, rel=1e-5)


def test_a_single_wrong_entry_in_a_large_tensor_is_found_in_auto_mode(rng):
    p, X, Y = problem(rng, dims=(100, 64, 32, 1), m=64)
    g = backward(p, X, Y, hidden="relu")
    g["W1"] = g["W1"].copy()
    g["W1"][17, 42] += 1e-3 * np.abs(g["W1"]).max()
    report = gk.check_gradients(cost_fn(X, Y, hidden="relu"), p, g)
    assert report.failing == ["W1"]
    (finding,) = [f for f in report.findings if f.parameter == "W1"]
    assert finding.kind == "mismatch" and "1 of 6400 entries" in finding.message
    assert "W1[17, 42]" in finding.message


def test_auto_mode_costs_two_calls_per_large_tensor(rng):
    p, X, Y = problem(rng, dims=(100, 64, 32, 1), m=64)
    f, g = cost_fn(X, Y, hidden="relu"), backward(p, X, Y, hidden="relu")
    auto = gk.check_gradients(f, p, g)
    # 2 calls at the point (determinism), 2 per tensor by direction, 2 for the 1-entry b3
    assert auto.passed and auto.calls == 2 + 2 * 5 + 2
    assert [t.how for t in auto.tensors] == ["direction"] * 5 + ["full"]
    assert "14 calls of f" in str(auto)


def test_full_mode_differences_every_entry(rng):
    p, X, Y = problem(rng)
    report = gk.check_gradients(cost_fn(X, Y), p, backward(p, X, Y), mode="full")
    n_params = sum(a.size for a in p.values())
    assert report.calls == 2 + 2 * n_params
    assert all(t.how == "full" for t in report.tensors)


def test_a_relu_kink_is_reported_but_not_failed_while_a_real_bug_still_fails(rng):
    p, X, Y = problem(rng, dims=(4, 5, 5, 1))
    X[:, 0] = 0.0
    p["b1"][0, 0] = 0.0  # Z1[0, example 0] is exactly 0: a kink in b1[0]
    f = cost_fn(X, Y, hidden="relu")
    clean = gk.check_gradients(f, p, backward(p, X, Y, hidden="relu"), mode="full")
    assert clean.passed, clean
    (kink,) = [k for k in clean.findings if k.kind == "kink"]
    assert kink.parameter == "b1" and "Not a bug" in kink.message

    buggy = gk.check_gradients(f, p, backward(p, X, Y, hidden="relu", bug="double_W3"))
    assert buggy.failing == ["W3"]
    assert {(k.kind, k.parameter) for k in buggy.findings} >= {("kink", "b1"), ("scale", "W3")}


def test_a_bug_at_a_kink_is_not_excused(rng):
    p, X, Y = problem(rng, dims=(4, 5, 5, 1))
    X[:, 0] = 0.0
    p["b1"][0, 0] = 0.0
    g = backward(p, X, Y, hidden="relu")
    g["b1"] = g["b1"].copy()
    g["b1"][0, 0] += 0.5  # outside the interval of the one-sided slopes
    report = gk.check_gradients(cost_fn(X, Y, hidden="relu"), p, g)
    assert report.failing == ["b1"]


def test_dropout_without_a_fixed_mask_is_inconclusive(rng):
    p, X, Y = problem(rng)
    fresh = lambda q: forward(q, X, Y, keep_prob=0.8, mask_rng=np.random.default_rng())[0]  # noqa: E731
    report = gk.check_gradients(fresh, p, backward(p, X, Y, keep_prob=0.8, mask_seed=3))
    assert report.verdict == "inconclusive" and not report.passed
    assert report.kinds() == ["nondeterministic"]
    assert "dropout" in report.findings[0].message and report.calls == 2
    assert "INCONCLUSIVE" in str(report)


def test_dropout_with_a_fixed_mask_is_checkable(rng):
    p, X, Y = problem(rng)
    report = gk.check_gradients(cost_fn(X, Y, keep_prob=0.8, mask_seed=3), p,
                                backward(p, X, Y, keep_prob=0.8, mask_seed=3))
    assert report.passed, report


def test_a_correct_float32_gradient_passes_with_a_low_precision_note(rng):
    p, X, Y = problem(rng)
    g = backward(p, X, Y)
    p32 = {k: v.astype(np.float32) for k, v in p.items()}
    g32 = {k: v.astype(np.float32) for k, v in g.items()}
    report = gk.check_gradients(cost_fn(X, Y), p32, g32)
    assert report.passed and report.kinds() == ["low_precision"]
    assert report.tolerance == pytest.approx(1e-4)
    assert all(v.dtype == np.float32 for v in p32.values())
    bad = dict(g32, W2=2 * g32["W2"])
    assert gk.check_gradients(cost_fn(X, Y), p32, bad).failing == ["W2"]


def test_a_cost_computed_in_float32_gets_a_float32_tolerance(rng):
    p, X, Y = problem(rng)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)

    def f32(q):
        q = {k: v.astype(np.float32) for k, v in q.items()}
        return np.float32(forward(q, X32, Y32)[0])

    report = gk.check_gradients(f32, p, backward(p, X, Y))
    assert report.passed and report.kinds() == ["low_precision"]
    assert report.tolerance == tolerance_table()["central"]["float32"]
    assert "computes in float32" in report.findings[0].message


def test_the_callers_arrays_are_never_perturbed(rng):
    p, X, Y = problem(rng)
    g = backward(p, X, Y, bug="sign")
    snapshot = {k: v.copy() for k, v in p.items()}
    gsnap = {k: v.copy() for k, v in g.items()}
    gk.check_gradients(cost_fn(X, Y), p, g, mode="full")
    calls = []

    def flaky(q):
        calls.append(1)
        if len(calls) == 9:
            raise FloatingPointError("overflow")
        return cost_fn(X, Y)(q)

    with pytest.raises(FloatingPointError):
        gk.check_gradients(flaky, p, g, mode="full")
    for k in p:
        assert np.array_equal(p[k], snapshot[k]) and np.array_equal(g[k], gsnap[k])


def test_the_report_renders_as_text_and_html(rng):
    p, X, Y = problem(rng)
    report = gk.check_gradients(cost_fn(X, Y), p, backward(p, X, Y, bug="no_1/m"))
    text, page = str(report), report._repr_html_()
    for needle in ("FAILED", "W1", "scale", "10 ×", "Tolerance"):
        assert needle in text and needle in page.replace("&#x27;", "'")
    assert "<table>" in page and "FAIL" in page
    assert "PASSED" in str(gk.check_gradients(cost_fn(X, Y), p, backward(p, X, Y)))


def test_same_seed_same_report(rng):
    p, X, Y = problem(rng, dims=(30, 20, 1), m=8)
    f, g = cost_fn(X, Y), backward(p, X, Y)
    r1, r2 = gk.check_gradients(f, p, g, seed=5), gk.check_gradients(f, p, g, seed=5)
    assert r1.per_parameter == r2.per_parameter


def test_a_bare_array_is_named_theta():
    x = np.array([1.0, -2.0, 0.5])
    report = gk.check_gradients(lambda v: float(np.sum(v**3)), x, 3 * x**2)
    assert report.passed and list(report.per_parameter) == ["theta"]
    wrong = gk.check_gradients(lambda v: float(np.sum(v**3)), x, -3 * x**2)
    assert wrong.failing == ["theta"] and wrong.kinds() == ["sign"]


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda g: {k: v for k, v in g.items() if k != "b2"}, ValueError,
         "grads must have the same keys as params; missing: b2"),
        (lambda g: {("d" + k if k == "W1" else k): v for k, v in g.items()}, ValueError,
         r"not in params: dW1 \(name gradients like the params: 'W1', not 'dW1'\)"),
        (lambda g: dict(g, W1=g["W1"].T), ValueError,
         r"grads\['W1'\] has shape \(4, 5\) but params\['W1'\] has shape \(5, 4\).*transposed\?"),
        (lambda g: dict(g, b1=g["b1"].ravel()), ValueError,
         r"grads\['b1'\] has shape \(5,\).*reshape it with .reshape\(5, 1\)"),
        (lambda g: dict(g, b1=np.zeros((5, 10))), ValueError,
         "for a bias, sum over examples with axis=1, keepdims=True"),
        (lambda g: dict(g, W2=np.full((5, 5), np.nan)), ValueError,
         r"grads\['W2'\] contains 25 NaN/Inf value\(s\) \(first at index \(0, 0\)\)"),
        (lambda g: dict(g, W2=np.ones((5, 5), dtype=int)), TypeError,
         r"grads\['W2'\] has dtype int64: gradients need floating-point arrays"),
        (lambda g: g["W1"], TypeError, "params is a dict but grads is ndarray"),
    ],
)
def test_bad_grads_get_a_clear_error(rng, change, error, match):
    p, X, Y = problem(rng)
    with pytest.raises(error, match=match):
        gk.check_gradients(cost_fn(X, Y), p, change(backward(p, X, Y)))


def test_bad_cost_functions_get_a_clear_error(rng):
    p, X, Y = problem(rng)
    g = backward(p, X, Y)
    scalar = r"shape \(1, 10\) at the given params, expected a scalar cost"
    with pytest.raises(ValueError, match=scalar):
        gk.check_gradients(lambda q: forward(q, X, Y)[1], p, g)
    with pytest.raises(ValueError, match=r"f returned inf at the given params"):
        gk.check_gradients(lambda q: np.inf, p, g)

    def mutating(q):
        q["W1"] -= 0.1
        return cost_fn(X, Y)(q)

    with pytest.raises(ValueError, match=r"f modified params\['W1'\] in place"):
        gk.check_gradients(mutating, p, g)
    frozen = {k: v.copy() for k, v in p.items()}
    with pytest.raises(ValueError, match="does it use a global `params` instead of its argument"):
        gk.check_gradients(lambda q: cost_fn(X, Y)(frozen), p, g)
    with pytest.raises(ValueError, match="mode='fast': choose 'auto' or 'full'"):
        gk.check_gradients(cost_fn(X, Y), p, g, mode="fast")


def test_tolerance_table_is_one_documented_table():
    table = tolerance_table()
    assert set(table) == {"forward", "backward", "central", "central4", "complex"}
    assert table["central"]["float64"] < table["forward"]["float64"]
    assert table["central"]["float64"] < table["central"]["float32"]
    import gradkit.check as check

    assert "central    1e-6" in check.__doc__


def test_the_complex_step_checks_to_machine_precision(rng):
    p, X, Y = problem(rng)

    def f(q):  # forward() in complex-safe form: tanh hidden, no float()
        A = X
        for l in (1, 2, 3):
            Z = q[f"W{l}"] @ A + q[f"b{l}"]
            A = np.tanh(Z) if l < 3 else 1 / (1 + np.exp(-Z))
        return -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))

    g = backward(p, X, Y)
    report = gk.check_gradients(f, p, g, method="complex", mode="full")
    assert report.passed and report.relative_error < 1e-13
    assert gk.check_gradients(f, p, dict(g, b2=-g["b2"]), method="complex").failing == ["b2"]


def test_the_report_plots_its_errors_against_the_tolerance(rng):
    import matplotlib

    matplotlib.use("Agg")
    p, X, Y = problem(rng)
    report = gk.check_gradients(cost_fn(X, Y), p, backward(p, X, Y, bug="no_1/m"))
    ax = report.plot()
    assert [t.get_text() for t in ax.get_xticklabels()] == list(p)
    assert ax.get_yscale() == "log" and "fail" in ax.get_title()


def test_a_scale_bug_is_named_even_when_a_kink_sits_in_the_same_tensor(rng):
    p, X, Y = problem(rng, dims=(4, 5, 5, 1))
    X[:, 0] = 0.0
    p["b1"][0, 0] = 0.0  # a kink in b1[0]
    g = backward(p, X, Y, hidden="relu")
    g["b1"] = 1.5 * g["b1"]
    report = gk.check_gradients(cost_fn(X, Y, hidden="relu"), p, g)
    assert report.failing == ["b1"]
    (finding,) = [f for f in report.findings if f.parameter == "b1" and f.kind != "kink"]
    assert finding.kind == "scale" and finding.value == pytest.approx(1.5, rel=1e-6)


def test_a_kink_between_h_and_2h_does_not_fail_fourth_order_differences():
    x = np.array([1e-3, 0.5, -0.3, 2.0])  # x[0] sits between h and 2h from relu's kink
    f = lambda p: float(np.sum(np.maximum(p, 0)))  # noqa: E731
    assert gk.check_gradients(f, x, (x > 0) * 1.0, method="central4").passed
    assert gk.check_gradients(f, x, (x > 0) * 2.0, method="central4").kinds() == ["scale"]


def test_a_jump_in_the_cost_is_not_excused_as_a_kink():
    x = np.array([0.0, 1.0, 2.0])
    f = lambda p: float(np.sum(p**2) + 1.0 * (p[0] >= 0))  # noqa: E731
    report = gk.check_gradients(f, x, np.array([1000.0, 2, 4]), mode="full")
    assert report.failing == ["theta"] and "kink" not in report.kinds()


def test_truncation_error_at_a_large_parameter_is_not_a_failure_or_a_kink(rng):
    x = 1e3 * rng.standard_normal(36)
    report = gk.check_gradients(lambda p: float(np.sum(np.sin(p))), x, np.cos(x), mode="full")
    assert report.passed and "kink" not in report.kinds()


def test_a_zero_dimensional_parameter_is_checked():
    assert gk.check_gradients(lambda p: p**2, np.array(3.0), np.array(6.0)).passed
    assert gk.check_gradients(lambda p: p**2, np.array(3.0), np.array(7.0)).failing == ["theta"]


def test_f_may_add_keys_to_the_dict_it_is_given(rng):
    p, X, Y = problem(rng)

    def f(q):
        q["cache"] = None
        return cost_fn(X, Y)(q)

    assert gk.check_gradients(f, p, backward(p, X, Y)).passed


def test_an_inconclusive_report_still_names_every_parameter(rng):
    p, X, Y = problem(rng)
    fresh = lambda q: forward(q, X, Y, keep_prob=0.5, mask_rng=np.random.default_rng())[0]  # noqa: E731
    report = gk.check_gradients(fresh, p, backward(p, X, Y))
    assert list(report.per_parameter) == list(p)
    assert all(np.isnan(v) for v in report.per_parameter.values())


@pytest.mark.parametrize(
    ("kwargs", "params", "f", "error", "match"),
    [
        ({"h": 0.0}, None, None, ValueError, "h must be a positive step, got 0.0"),
        ({"tol": float("inf")}, None, None, ValueError, "tol must be a relative error between"),
        ({"tol": -1.0}, None, None, ValueError, "tol must be a relative error between"),
        ({"method": ["central"]}, None, None, ValueError, "is not a known difference"),
        ({}, np.array([1.0 + 0j, 2.0]), None, TypeError, "is complex: give a real"),
        ({}, np.zeros(0), None, TypeError, "is empty: give a real, non-empty"),
        ({}, None, lambda v: (float(np.sum(v**2)), 2 * v), TypeError,
         "f returned a tuple of 2 at the given params: return only the cost"),
    ],
)
def test_bad_arguments_get_a_clear_error(kwargs, params, f, error, match):
    x = np.array([1.0, 2.0]) if params is None else params
    f = f or (lambda v: float(np.sum(v**2)))
    with pytest.raises(error, match=match):
        gk.check_gradients(f, x, 2 * x.real, **kwargs)


def test_a_cost_that_cannot_resolve_the_gradient_is_inconclusive_not_passed(rng):
    p, X, Y = problem(rng)
    g = backward(p, X, Y, bug="sign")
    noisy = lambda q: cost_fn(X, Y)(q) + 1e9  # noqa: E731  its round-off swamps the gradient
    report = gk.check_gradients(noisy, p, g)
    assert report.verdict == "inconclusive" and not report.passed
    assert "low_precision" in report.kinds() and "cannot tell" in str(report)
    assert gk.check_gradients(cost_fn(X, Y), p, g).verdict == "fail"  # resolvable: fails


def test_a_float32_cost_still_fails_a_wrong_gradient(rng):
    p, X, Y = problem(rng)
    X32, Y32 = X.astype(np.float32), Y.astype(np.float32)

    def f32(q):
        return np.float32(forward({k: v.astype(np.float32) for k, v in q.items()}, X32, Y32)[0])

    report = gk.check_gradients(f32, p, backward(p, X, Y, bug="sign"))
    assert report.verdict == "fail" and report.relative_error <= 1.0


def test_kink_message_says_on_a_kink_or_within_one_step_of_it():
    w = np.linspace(0.5, 1.5, 6)

    def f(x):
        return float(np.sum(w * np.maximum(x, 0)))

    def grad(x):
        return w * (x > 0)

    # h is about 6e-6: 4e-6 is crossed by the step but not by half of it; 3e-7 is crossed by both
    near = np.array([1.0, -2.0, 4e-6, 0.5, -0.7, 2.0])
    close = np.array([1.0, -2.0, 3e-7, 0.5, -0.7, 2.0])
    at = np.array([1.0, -2.0, 0.0, 0.5, -0.7, 2.0])
    near_text, close_text, at_text = (
        str(gk.check_gradients(f, x, grad(x), mode="full")) for x in (near, close, at))
    assert "1 entry lies within one step of a kink" in near_text and "sits" not in near_text
    assert "at half the step the central difference agrees" in near_text
    for text in (close_text, at_text):
        assert "1 entry sits on a kink (or closer to one than half a step)" in text
        assert "within one step" not in text and "one-sided slopes" in text


def test_scale_hint_names_a_factor_applied_per_layer_only_for_a_power():
    from gradkit.diagnose import _factor_hint

    assert _factor_hint(144.0).startswith("a forgotten 1/m: is m = 144")
    assert "a factor 12 applied 2 times (12^2 = 144)" in _factor_hint(144.0)
    assert "applied" in _factor_hint(1 / 144)
    assert "applied" not in _factor_hint(12.0) and "applied" not in _factor_hint(1 / 12)
