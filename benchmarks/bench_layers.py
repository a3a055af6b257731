"""How well does the layer checker judge real layers, and what does it cost?

Run:  python benchmarks/bench_layers.py

Accuracy, over the zoo of tests/_zoo.py (correct CS231n/DLS-style layers and
one-line mutants of them, each labelled with the inputs it corrupts): false
alarms on the correct layers, how many mutants fail, how many fail on exactly
the labelled inputs, and how many simple-pattern bugs (scale, sign, transpose,
L2, zero) are diagnosed as that pattern. Every check is check_vjp/check_layer
with its defaults (mode="auto", seed 0); the false alarms are also counted
over seeds 0-4, since the seed draws dout and the random directions.

Cost: calls of forward per correct layer, against 4 + 2 × (differentiated
inputs): two calls to see that forward is deterministic and a random-direction
test (2 calls) per input. Then a correct naive conv layer (x 4×3×8×8,
w 6×3×3×3, b 6, stride 1, pad 1) checked by check_layer against the CS231n
recipe, eval_numerical_gradient_array (2 forward calls per entry of every
input). Times are measured in this process, best of a few repeats for the
fast method; the ratios are what to read.
"""

import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests"))

import _zoo  # noqa: E402

import gradkit as gk  # noqa: E402

SEEDS = range(5)


def run(case, seed=0):
    t0 = time.perf_counter()
    report = _zoo.check(case.build(), seed=seed)
    return report, time.perf_counter() - t0


def kinds_for(report, name):
    return {f.kind for f in report.findings if f.parameter == name}


def pct(k, n):
    return f"{k}/{n} ({100 * k / n:.0f}%)" if n else "0/0"


def accuracy():
    run(_zoo.CORRECT[0])  # warm up, so the first layer's time is not the imports'
    correct = [(c, *run(c)) for c in _zoo.CORRECT]
    mutants = [(c, *run(c)) for c in _zoo.MUTANTS]
    alarms = [c.name for c, r, _ in correct if r.verdict != "pass"]
    per_seed = {s: [c.name for c in _zoo.CORRECT if run(c, s)[0].verdict != "pass"]
                for s in SEEDS}
    detected = [c for c, r, _ in mutants if r.verdict == "fail"]
    localized = [c for c, r, _ in mutants if sorted(r.failing) == sorted(c.failing)]
    simple = [(c, r) for c, r, _ in mutants if c.simple]
    diagnosed = [c for c, r in simple if all(c.kind in kinds_for(r, k) for k in c.failing)]
    others = [(c, r) for c, r, _ in mutants if not c.simple]
    as_mismatch = [c for c, r in others if all("mismatch" in kinds_for(r, k) for k in c.failing)]

    print(f"Accuracy over the zoo: {len(correct)} correct layers, {len(mutants)} mutants "
          f"({len(simple)} simple patterns), check_vjp/check_layer defaults")
    print(f"  false alarms on correct layers (seed 0)     {pct(len(alarms), len(correct))}"
          + (f"  {', '.join(alarms)}" if alarms else ""))
    total = sum(len(v) for v in per_seed.values())
    print(f"  false alarms over seeds {SEEDS.start}-{SEEDS.stop - 1}               "
          f"{pct(total, len(correct) * len(SEEDS))}"
          + "".join(f"  seed {s}: {', '.join(v)}" for s, v in per_seed.items() if v))
    print(f"  mutants detected (verdict fail)             {pct(len(detected), len(mutants))}")
    print(f"  localized exactly (failing == expected)     {pct(len(localized), len(mutants))}")
    print(f"  simple patterns diagnosed as expected kind  {pct(len(diagnosed), len(simple))}")
    print(f"  other bugs diagnosed as mismatch            {pct(len(as_mismatch), len(others))}")
    missed = [(c, r) for c, r, _ in mutants
              if r.verdict != "fail" or sorted(r.failing) != sorted(c.failing)
              or (c.simple and c not in diagnosed)]
    for c, r in missed:
        got = {k: sorted(kinds_for(r, k)) for k in c.failing}
        print(f"    {c.name}: expected {list(c.failing)} {c.kind}; got {r.verdict}, "
              f"failing {r.failing}, kinds {got}")
    return correct


def calls(correct):
    print("\nCalls of forward per correct layer (auto mode), against 4 + 2 × inputs")
    print(f"  {'layer':20s} {'inputs':>6s} {'entries':>7s} {'calls':>6s} {'4+2k':>5s}"
          f" {'ratio':>6s} {'time (ms)':>9s}")
    ratios = []
    for c, r, t in correct:
        _, _, inputs, names = _zoo.as_vjp(c.build())
        k = len(names)
        entries = sum(inputs[name].size for name in names)
        budget = 4 + 2 * k
        ratios.append(r.calls / budget)
        print(f"  {c.name:20s} {k:6d} {entries:7d} {r.calls:6d} {budget:5d}"
              f" {r.calls / budget:6.2f} {1e3 * t:9.1f}")
    ratios = np.array(ratios)
    print(f"  within budget: {pct(int(np.sum(ratios <= 1)), len(ratios))}; ratio median "
          f"{np.median(ratios):.2f}, max {ratios.max():.2f}")


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """CS231n's recipe: central differences of f(x) · df, entry by entry, x changed in place."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        pos = f(x).copy()
        x[ix] = old - h
        neg = f(x).copy()
        x[ix] = old
        grad[ix] = np.sum((pos - neg) * df) / (2 * h)
        it.iternext()
    return grad


def rel_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))


def conv_vs_recipe():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 3, 8, 8))
    w = rng.normal(size=(6, 3, 3, 3)) * 0.3
    b = rng.normal(size=6)
    conv_param = {"stride": 1, "pad": 1}
    print("\nA correct naive conv layer: x 4×3×8×8, w 6×3×3×3, b 6, stride 1, pad 1")

    def auto():
        return gk.check_layer(_zoo.conv_forward, _zoo.conv_backward, x, w, b,
                              conv_param=conv_param)

    best, report = np.inf, None
    for _ in range(3):
        t0 = time.perf_counter()
        report = auto()
        best = min(best, time.perf_counter() - t0)

    counter = {"calls": 0}

    def counted(xx, ww, bb):
        counter["calls"] += 1
        return _zoo.conv_forward(xx, ww, bb, conv_param)[0]

    t0 = time.perf_counter()
    dout = np.random.default_rng(1).normal(size=counted(x, w, b).shape)
    counter["calls"] = 0
    _, cache = _zoo.conv_forward(x, w, b, conv_param)
    dx, dw, db = _zoo.conv_backward(dout, cache)
    xc, wc, bc = x.copy(), w.copy(), b.copy()
    errs = [rel_error(dx, eval_numerical_gradient_array(lambda v: counted(v, wc, bc), xc, dout)),
            rel_error(dw, eval_numerical_gradient_array(lambda v: counted(xc, v, bc), wc, dout)),
            rel_error(db, eval_numerical_gradient_array(lambda v: counted(xc, wc, v), bc, dout))]
    t_recipe = time.perf_counter() - t0
    n_recipe = counter["calls"]

    print(f"  {'method':38s} {'calls':>6s} {'time (s)':>9s} {'verdict / max rel. error':>26s}")
    print(f"  {'CS231n eval_numerical_gradient_array':38s} {n_recipe:6d} {t_recipe:9.3f} "
          f"{'dx {:.1e} dw {:.1e} db {:.1e}'.format(*errs):>26s}")
    print(f"  {'gradkit check_layer (auto)':38s} {report.calls:6d} {best:9.3f} "
          f"{report.verdict:>26s}")
    print(f"  calls: the recipe makes {n_recipe / report.calls:.1f}× as many forward calls; "
          f"time: check_layer is {t_recipe / best:.1f}× faster")


def kinks_at_x():
    """Kinks at x itself meet every random direction: the entries near them are located
    by halving blocks, not by differencing every entry (2 calls each)."""
    from gradkit.conv import max_pool_backward, max_pool_forward

    rng = np.random.default_rng(0)

    def relu_case(x):
        return gk.check_vjp(lambda p: np.maximum(p["x"], 0),
                            lambda p, d: {"x": d * (p["x"] > 0)}, {"x": x})

    x = rng.normal(size=(50, 100))
    one = x.copy()
    one[7, 3] = 0.0
    some = x.copy()
    some[rng.random(x.shape) < 0.01] = 0.0
    ints = rng.integers(-2, 3, size=(50, 100)).astype(float)
    image = rng.integers(0, 256, size=(2, 3, 32, 32)).astype(float)
    binary = (rng.random((2, 1, 28, 28)) < 0.2).astype(float)
    cases = [
        ("relu, no exact zero", x, lambda: relu_case(x)),
        ("relu, one exact zero", one, lambda: relu_case(one)),
        ("relu, 1% exact zeros", some, lambda: relu_case(some)),
        ("relu, integer input (20% zeros)", ints, lambda: relu_case(ints)),
        ("max-pool 2×2, 8-bit image", image,
         lambda: gk.check_layer(max_pool_forward, max_pool_backward, image)),
        ("max-pool 2×2, 0/1 image", binary,
         lambda: gk.check_layer(max_pool_forward, max_pool_backward, binary)),
    ]
    print("\nKinks at x (ties, exact zeros): calls of forward, against 2 per entry")
    print(f"  {'case':34s} {'entries':>7s} {'calls':>6s} {'2/entry':>7s} {'ratio':>6s} verdict")
    for label, arr, run_case in cases:
        report = run_case()
        print(f"  {label:34s} {arr.size:7d} {report.calls:6d} {2 * arr.size:7d} "
              f"{report.calls / (2 * arr.size):6.3f} {report.verdict}")


if __name__ == "__main__":
    correct = accuracy()
    calls(correct)
    kinks_at_x()
    conv_vs_recipe()
