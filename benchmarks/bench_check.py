"""How fast and how accurate is check_gradients, against the classic loop and torch?

Run:  python benchmarks/bench_check.py

Speed: a correct 3-layer ReLU net, layer sizes 100-64-32-1 (8,641 parameters),
64 examples. Every method checks the same cost; times are the best of a few
repeats, measured in this process, and printed as ratios to the classic loop
(the per-component loop over a flattened parameter vector with epsilon = 1e-7,
as in most course notebooks). torch.autograd.gradcheck is timed on the same
network written in torch, when torch is installed.

Accuracy: the relative error each method reaches on a correct 4-5-3-1 net
(tanh hidden, the cost written to carry complex numbers through), entry by entry.
"""

import time

import numpy as np

import gradkit as gk
from gradkit.params import dict_to_vector, vector_to_dict

REPEATS = 3


def classic_loop(f, params, grads, epsilon=1e-7):
    """The textbook gradient check: one flat vector, two costs per component."""
    theta, spec = dict_to_vector(params)
    grad, _ = dict_to_vector(grads, spec)
    approx = np.zeros_like(theta)
    for i in range(theta.size):
        plus = theta.copy()
        plus[i] += epsilon
        minus = theta.copy()
        minus[i] -= epsilon
        approx[i] = (f(vector_to_dict(plus, spec)) - f(vector_to_dict(minus, spec))) / (2 * epsilon)
    return np.linalg.norm(grad - approx) / (np.linalg.norm(grad) + np.linalg.norm(approx))


def best_time(fn, repeats=REPEATS):
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def torch_gradcheck_time(params, X, Y, fast_mode):
    try:
        import torch
    except ImportError:
        return None
    tp = [torch.tensor(params[k], dtype=torch.float64, requires_grad=True) for k in params]
    tX, tY = torch.tensor(X), torch.tensor(Y)
    L = len(tp) // 2

    def cost(*ps):
        A = tX
        for l in range(L):
            Z = ps[2 * l] @ A + ps[2 * l + 1]
            A = torch.relu(Z) if l < L - 1 else Z
        return torch.nn.functional.binary_cross_entropy_with_logits(A, tY)

    t, ok = best_time(lambda: torch.autograd.gradcheck(cost, tuple(tp), fast_mode=fast_mode))
    assert ok
    return t


def speed():
    dims, m = [100, 64, 32, 1], 64
    rng = np.random.default_rng(0)
    X = rng.normal(size=(dims[0], m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    params = gk.mlp.init_params(dims, seed=0)
    for k in params:  # nonzero biases, so no unit sits exactly on its kink
        if k.startswith("b"):
            params[k] = rng.normal(size=params[k].shape) * 0.1
    grads = gk.mlp.gradients(params, X, Y)
    f = lambda p: gk.mlp.cost(p, X, Y)  # noqa: E731
    n_params = sum(a.size for a in params.values())
    print(f"Speed: correct {'-'.join(map(str, dims))} ReLU net, {n_params} parameters, m={m}")

    t_loop, err_loop = best_time(lambda: classic_loop(f, params, grads), repeats=1)
    t_auto, auto = best_time(lambda: gk.check_gradients(f, params, grads))
    t_full, full = best_time(lambda: gk.check_gradients(f, params, grads, mode="full"),
                             repeats=1)
    rows = [
        ("classic loop (epsilon=1e-7)", t_loop, 2 * n_params, err_loop),
        ("gradkit auto", t_auto, auto.calls, auto.relative_error),
        ("gradkit full", t_full, full.calls, full.relative_error),
    ]
    for fast in (True,):
        t = torch_gradcheck_time(params, X, Y, fast_mode=fast)
        name = f"torch gradcheck(fast_mode={fast})"
        rows.append((name, t, None, None))
    print(f"  {'method':34s} {'time (s)':>10s} {'× faster than loop':>20s} {'calls of f':>11s}"
          f" {'rel. error':>11s}")
    for name, t, calls, err in rows:
        if t is None:
            print(f"  {name:34s} {'(torch not installed)':>10s}")
            continue
        calls_s = "" if calls is None else str(calls)
        err_s = "" if err is None else f"{err:.1e}"
        print(f"  {name:34s} {t:10.4f} {t_loop / t:20.1f} {calls_s:>11s} {err_s:>11s}")
    assert auto.passed and full.passed


def complex_safe_cost(params, X, Y):
    """gk.mlp.cost with hidden="tanh", in operations that carry complex numbers through."""
    L = len(params) // 2
    A = X
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = np.tanh(Z) if l < L else 1 / (1 + np.exp(-Z))
    return -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))


def accuracy():
    dims, m = [4, 5, 3, 1], 10
    rng = np.random.default_rng(1)
    X = rng.normal(size=(dims[0], m))
    Y = (rng.uniform(size=(1, m)) > 0.5).astype(float)
    params = gk.mlp.init_params(dims, seed=1, scale="xavier")
    grads = gk.mlp.gradients(params, X, Y, hidden="tanh")
    f = lambda p: complex_safe_cost(p, X, Y)  # noqa: E731
    assert abs(f(params) - gk.mlp.cost(params, X, Y, hidden="tanh")) < 1e-12
    print(f"\nAccuracy: correct {'-'.join(map(str, dims))} tanh net, float64, entry by entry")
    print(f"  {'method':34s} {'step':>10s} {'rel. error':>11s}")
    print(f"  {'classic loop':34s} {'1e-07':>10s} {classic_loop(f, params, grads):11.1e}")
    for method in ("forward", "central", "central4", "complex"):
        r = gk.check_gradients(f, params, grads, method=method, mode="full")
        err = f"{r.relative_error:11.1e}"
        step = gk.numgrad.default_step(method)
        print(f"  {'gradkit ' + method + ' (default step)':34s} {step:10.1e} {err}")


def import_time():
    """Wall time of `import gradkit` in a fresh interpreter, against `import numpy`."""
    import subprocess
    import sys

    def run(stmt):
        return best_time(lambda: subprocess.run([sys.executable, "-c", stmt], check=True),
                         repeats=5)[0]

    base, full = run("import numpy"), run("import gradkit")
    print(f"\nImport: python -c 'import gradkit' {full:.3f} s; 'import numpy' {base:.3f} s; "
          f"gradkit's own share {full - base:.3f} s")


if __name__ == "__main__":
    speed()
    accuracy()
    import_time()
