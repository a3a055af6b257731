"""One epoch of mini-batch SGD against the floor set by its matrix products.

Target: one epoch (batch 64) on 10,000 2-D examples with a 2-64-32-1 ReLU /
sigmoid net, run by ``optim.train(..., method="minibatch", epochs=1)``, within
2x of the time its forward + backward matrix products take alone: per batch
``W1 X, W2 A1, W3 A2`` and ``dW3, dA2, dW2, dA1, dW1``, on the same shuffled
batches, in the same process (the floor).

``optim.train`` takes its fast path here (``gradkit._fastmlp``: flat
parameter and gradient buffers, biases folded into the products, work arrays
reused). Two more timings put it in context:

- the general path, one ``mlp.cost_and_gradients`` call and a dict of
  updates per batch (what ``train`` runs with dropout);
- a hand-fused numpy epoch (in-place ops, no caches, no dicts), the
  straightforward way to write the loop by hand.

Timings alternate between the variants and keep the best of ``--repeats``
runs, so that other load on the machine affects them alike. It prints each
time in ms per epoch and per update, and its ratio to the floor.

    python benchmarks/bench_train.py [--repeats 15]
"""

import argparse
import time

import numpy as np

from gradkit import datasets, mlp, optim

M, BATCH, DIMS = 10_000, 64, [2, 64, 32, 1]


def epoch_gradkit(params, X, Y):
    start = time.perf_counter()
    optim.train(params, X, Y, method="minibatch", lr=0.1, epochs=1, batch_size=BATCH, seed=0,
                progress=False)
    return time.perf_counter() - start


def epoch_general(params, X, Y):
    fast_path = optim._fast_path
    optim._fast_path = lambda *args: None  # as with dropout: mlp per batch
    try:
        return epoch_gradkit(params, X, Y)
    finally:
        optim._fast_path = fast_path


def _batches(X, Y):
    order = np.random.default_rng(0).permutation(X.shape[1])
    Xs, Ys = X[:, order], Y[:, order]
    return [(Xs[:, i:i + BATCH], Ys[:, i:i + BATCH]) for i in range(0, X.shape[1], BATCH)]


def epoch_matmuls(params, X, Y):
    W1, W2, W3 = params["W1"], params["W2"], params["W3"]
    start = time.perf_counter()
    order = np.random.default_rng(0).permutation(X.shape[1])
    Xs = X[:, order]
    for i in range(0, X.shape[1], BATCH):
        A0 = Xs[:, i:i + BATCH]
        A1 = W1 @ A0
        A2 = W2 @ A1
        A3 = W3 @ A2
        A3 @ A2.T
        dA2 = W3.T @ A3
        dA2 @ A1.T
        dA1 = W2.T @ dA2
        dA1 @ A0.T
    return time.perf_counter() - start


def epoch_fused(params, X, Y, lr=0.1):
    p = {k: v.copy() for k, v in params.items()}
    W1, b1, W2, b2, W3, b3 = (p[k] for k in ("W1", "b1", "W2", "b2", "W3", "b3"))
    start = time.perf_counter()
    order = np.random.default_rng(0).permutation(X.shape[1])
    Xs, Ys = X[:, order], Y[:, order]
    for i in range(0, X.shape[1], BATCH):
        A0, Yb = Xs[:, i:i + BATCH], Ys[:, i:i + BATCH]
        m = A0.shape[1]
        Z1 = W1 @ A0
        Z1 += b1
        A1 = np.maximum(Z1, 0.0)
        Z2 = W2 @ A1
        Z2 += b2
        A2 = np.maximum(Z2, 0.0)
        Z3 = W3 @ A2
        Z3 += b3
        sp = np.logaddexp(0.0, Z3)
        float((sp - Yb * Z3).sum())
        dZ3 = np.exp(Z3 - sp)
        dZ3 -= Yb
        dZ3 *= 1 / m
        dA2 = W3.T @ dZ3
        dA2 *= Z2 > 0
        dA1 = W2.T @ dA2
        dA1 *= Z1 > 0
        for W, g in ((W3, dZ3 @ A2.T), (b3, dZ3.sum(1, keepdims=True)),
                     (W2, dA2 @ A1.T), (b2, dA2.sum(1, keepdims=True)),
                     (W1, dA1 @ A0.T), (b1, dA1.sum(1, keepdims=True))):
            W -= lr * g
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    X, Y = datasets.moons(M, noise=0.2, seed=0)
    params = mlp.init_params(DIMS, seed=0)
    runs = {"matmuls": epoch_matmuls, "gradkit": epoch_gradkit, "fused": epoch_fused,
            "general": epoch_general}
    best = dict.fromkeys(runs, np.inf)
    for run in runs.values():  # warm-up: BLAS threads, allocator, caches
        run(params, X, Y)
    for _ in range(args.repeats):
        for name, run in runs.items():
            best[name] = min(best[name], run(params, X, Y))
    batches = -(-M // BATCH)
    floor = best["matmuls"]
    print(f"mini-batch SGD, {M} examples, batch {BATCH} ({batches} updates), net {DIMS}")
    print(f"best of {args.repeats}, per epoch (per update), and ratio to the floor:")
    for name, label in [("matmuls", "floor: matrix products only"),
                        ("gradkit", "gradkit optim.train epoch"),
                        ("fused", "hand-fused numpy epoch"),
                        ("general", "optim.train, general path")]:
        t = best[name]
        print(f"  {label:30s} {t * 1e3:7.2f} ms ({t / batches * 1e6:5.1f} us)"
              f"   {t / floor:.2f}x")
    ratio = best["gradkit"] / floor
    print(f"target: gradkit within 2x of the floor -> {ratio:.2f}x, "
          f"{'met' if ratio <= 2 else 'NOT met'} (hand-fused: {best['fused'] / floor:.2f}x)")


if __name__ == "__main__":
    main()
