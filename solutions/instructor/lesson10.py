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
