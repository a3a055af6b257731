"""Lesson 10's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson10.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

A backward rule's test compares the list of cotangents (``[dx]``, or ``[dz, "None"]``
for the cross-entropy), so each rule's mistake returns that list; its ``part=0``
compares the first cotangent. They are written with numpy on the numpy inputs.
"""

import numpy as np


def lse_without_g(res, g):
    x, out = res
    return [np.exp(x - out[:, None])]


def lse_g_along_columns(res, g):
    x, out = res
    return [g[None, :] * np.exp(x - out[:, None])]


def lse_out_along_columns(res, g):
    x, out = res
    return [g[:, None] * np.exp(x - out[None, :])]


def lse_exp_of_x(res, g):
    x, _ = res
    with np.errstate(over="ignore"):  # exp(1000) is inf, as in the code it stands for
        return [g[:, None] * np.exp(x)]


def ce_without_onehot(res, g):
    p, _ = res
    return [g * p / p.shape[0], "None"]


def ste_mask_flipped(x, g):
    return [g * (np.abs(x) > 1)]


def ste_mask_alone(x, g):
    return [1.0 * (np.abs(x) <= 1)]


def vjp_ignoring_dout(f, inputs, dout):
    """The gradient of sum(f(inputs)): a pullback given ones in place of dout."""
    import jax
    import jax.numpy as jnp

    from gradkit.grading.lesson10 import _x64

    with _x64():
        _, pullback = jax.vjp(f, inputs)
        (grads,) = pullback(jnp.ones(np.shape(dout)))
        return {name: np.asarray(value, dtype=float) for name, value in grads.items()}


# ---- the questions: feedback for each wrong answer, and the key of 10.answer_10_5 ------------

FEEDBACK = {
    "10.answer_10_1": {
        "a": "h**2 = 1e-8 is the truncation error alone; in float32 each value of the function "
             "carries a round-off of about eps = 1.2e-7, and the difference divides it by h.",
        "c": "eps / h = 1.2e-7 / 1e-4 is of order 1e-3, not 1e-1: float32 differences work, "
             "to about three digits.",
        "d": "the difference is taken of two float32 values of the function: its round-off is "
             "float32's eps divided by h, not float64's 1e-16.",
    },
    "10.answer_10_2": {
        "a": "at w = 1e-2 the flipped term, 2 w |dJ/dt| (dJ/dt is about 2.9) times the "
             "weights of check_grads' random tangent and cotangent, is about 4e-3: hundreds of "
             "times its absolute tolerance of 1e-5.",
        "b": "at w = 1e-4 the flipped term, 2 w |dJ/dt| (dJ/dt is about 2.9) times the "
             "weights of check_grads' random tangent and cotangent, is still about 4e-5, over "
             "its absolute tolerance of 1e-5.",
        "d": "at w = 1e-5 the flipped term, 2 w |dJ/dt| times the weights of check_grads' "
             "random tangent and cotangent (together about 0.07 here), is already below the "
             "absolute tolerance of 1e-5.",
        "e": "a sign error is a wrong number of size about w |dJ/dt|: once that, times the "
             "random weights, is below the absolute tolerance 1e-5, check_grads cannot tell it "
             "from a difference's error.",
    },
    "10.answer_10_4": {
        "b": "JAX's Gaussian direction and PyTorch's positive one meet different tolerances: "
             "PyTorch's grows with rtol |u . a|, which for a positive gradient sums every "
             "entry; compare one entry's share u_j delta with that.",
        "c": "its weight on entry j is never near zero, but the tolerance it meets grows with "
             "the whole projection u . a, the sum of a positive gradient's entries, next to "
             "which one entry's error is small.",
        "d": "normalizing scales one entry's share u_j delta and the tolerance rtol |u . a| "
             "alike: what decides is their ratio, not the length of u.",
    },
    "10.answer_10_5": {
        35: "35 is the entry of section 6's planted bug, the largest of dJ/dx; your op's bug "
            "is planted by mystery_smax: check smax_mystery itself.",
    },
}


def _numpy_smax(extra=None):
    """``(forward, backward)`` of the lesson's op ``smax_t(x) = t lse(x / t)`` in numpy, for
    ``gk.check_vjp``, with ``extra`` added to ``dJ/dx`` (as ``make_smax`` does)."""
    def lse(z):
        m = np.max(z)
        return m + np.log(np.sum(np.exp(z - m)))

    def forward(p):
        return np.asarray(p["t"] * lse(p["x"] / p["t"]))

    def backward(p, dout):
        x, t = p["x"], p["t"]
        out = t * lse(x / t)
        q = np.exp((x - out) / t)  # softmax(x / t)
        dx = dout * q if extra is None else dout * (q + extra)
        return {"x": dx, "t": dout * (out - np.sum(q * x)) / t}

    return forward, backward


def key_answer_10_5(variant):
    """The entry of ``dJ/dx`` that ``mystery_smax`` makes wrong for ``variant``, found as the
    lesson finds it: ``gk.check_vjp`` of the op, the worst entry of ``x`` it names."""
    import gradkit as gk
    from gradkit.grading.lesson10 import mystery_smax

    rng = np.random.default_rng(1005)
    x, t = rng.standard_normal(64), np.array(0.5)
    right = _numpy_smax()[1]({"x": x, "t": t}, 1.0)["x"]
    forward, backward = mystery_smax(_numpy_smax, variant, 1e-4 * np.linalg.norm(right))
    report = gk.check_vjp(forward, backward, {"x": x, "t": t})
    (found,) = [r for r in report.tensors if r.name == "x"]
    if report.failing != ["x"] or not found.worst:
        raise ValueError(f"variant {variant} of 10.answer_10_5: the check fails "
                         f"{report.failing}, not x alone")
    return int(found.worst[0][0][0])
