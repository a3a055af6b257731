"""Lesson 08's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, ``(dout, cache)`` as the student's backward
does, and returns what the mistaken backward would; a ``Mistake(wrong="name")``
in ``gradkit/grading/lesson08.py`` matches a received value close to it. These
are near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

A mistake in one value of ``(dx, dgamma, dbeta)`` or ``(dx, dw, db)`` is compared
on that value only (``part=``); the other values are returned as 0.0. Where a
mistaken backward gives the right value on a test's input (no padding to crop,
stride 1, no tie), its function raises: on that input the mistake cannot be told
from the answer, so it does not match.
"""

import numpy as np

from gradkit import conv, layers


def _unless_right(value, right):
    """``value``, unless it is ``right`` (then the mistake does not apply here)."""
    value, right = np.asarray(value, dtype=float), np.asarray(right, dtype=float)
    if value.shape == right.shape and np.allclose(value, right, rtol=1e-9, atol=1e-12):
        raise ValueError("this mistake gives the right value on this input")
    return value


def _at(part, value, right, n=3):
    """A result of ``n`` values with ``value`` at ``part`` (0.0 elsewhere)."""
    out = [0.0] * n
    out[part] = _unless_right(value, right)
    return out


# ---- 08.softmax_cross_entropy_backward ------------------------------------------------------

def softmax_no_subtract(dloss, cache):
    probs, _ = cache
    return dloss * probs / probs.shape[0]


# ---- 08.batchnorm_backward ------------------------------------------------------------------

def _bn_dx(dout, cache, *, mean_term=True, var_term=True, front=None, var_scale=1.0, axis=0,
           with_gamma=True):
    """``[dx, 0.0, 0.0]`` of a batchnorm backward whose dx is the variant asked for."""
    x_hat, inv_std, gamma, _ = cache
    n = x_hat.shape[axis]
    g = dout * gamma if with_gamma else dout
    total = n * g
    if mean_term:
        total = total - g.sum(axis=axis, keepdims=True)
    if var_term:
        total = total - var_scale * x_hat * (g * x_hat).sum(axis=axis, keepdims=True)
    factor = inv_std if front is None else front
    right = layers.batchnorm_backward(dout, cache)[0]
    return _at(0, factor / n * total, right)


def bn_dx_first_term_only(dout, cache):
    return _bn_dx(dout, cache, mean_term=False, var_term=False)


def bn_dx_no_mean_term(dout, cache):
    return _bn_dx(dout, cache, mean_term=False)


def bn_dx_no_variance_term(dout, cache):
    return _bn_dx(dout, cache, var_term=False)


def bn_dx_over_variance(dout, cache):
    inv_std = cache[1]
    return _bn_dx(dout, cache, front=inv_std * inv_std)


def bn_dx_no_front_factor(dout, cache):
    return _bn_dx(dout, cache, front=np.ones_like(cache[1]))


def bn_dx_variance_of_x_hat(dout, cache):
    x_hat = cache[0]
    return _bn_dx(dout, cache, front=1.0 / np.sqrt(x_hat.var(axis=0, keepdims=True) + 1e-5))


def bn_dx_unbiased_variance(dout, cache):
    N = cache[0].shape[0]
    return _bn_dx(dout, cache, var_scale=N / (N - 1))


def bn_dx_over_features(dout, cache):
    return _bn_dx(dout, cache, axis=1)


def bn_dx_without_gamma(dout, cache):
    return _bn_dx(dout, cache, with_gamma=False)


def bn_dgamma_per_row(dout, cache):
    x_hat = cache[0]
    return _at(1, dout * x_hat, layers.batchnorm_backward(dout, cache)[1])


# ---- 08.conv2d_backward ---------------------------------------------------------------------

def _conv_back(dout, cache, *, flip=False, assign=False, step=None, crop=True):
    """(dx, dw) as the variants of a conv backward compute them (``assign``: dx_pad's
    windows written with = once per position, all filters summed)."""
    x, w, _, stride, pad = cache
    step = stride if step is None else step
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    kernel = w[:, :, ::-1, ::-1] if flip else w
    dx_pad = np.zeros_like(x_pad)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, x_pad[:, :, rows, cols], axes=([0], [0]))
            part = np.tensordot(g, kernel, axes=([1], [0]))
            if assign:
                dx_pad[:, :, rows, cols] = part
            else:
                dx_pad[:, :, rows, cols] += part
    dx = dx_pad[:, :, pad:pad + H, pad:pad + W] if crop else dx_pad
    return dx, dw


def _conv_assigned(dout, cache):
    """(dx, dw) written with = in a loop over (n, f, i, j): the last write wins."""
    x, w, _, stride, pad = cache
    N, F, H_out, W_out = dout.shape
    _, _, H, W = x.shape
    _, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n, f, i, j in np.ndindex(N, F, H_out, W_out):
        rows, cols = slice(i * stride, i * stride + HH), slice(j * stride, j * stride + WW)
        dx_pad[n, :, rows, cols] = dout[n, f, i, j] * w[f]
        dw[f] = dout[n, f, i, j] * x_pad[n, :, rows, cols]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw


def _conv_right(dout, cache):
    return conv.conv2d_backward(dout, cache)


def conv_dx_uncropped(dout, cache):
    return _at(0, _conv_back(dout, cache, crop=False)[0], _conv_right(dout, cache)[0])


def conv_dx_flipped_kernel(dout, cache):
    return _at(0, _conv_back(dout, cache, flip=True)[0], _conv_right(dout, cache)[0])


def conv_dx_assigned(dout, cache):
    return _at(0, _conv_assigned(dout, cache)[0], _conv_right(dout, cache)[0])


def conv_dx_assigned_per_window(dout, cache):
    return _at(0, _conv_back(dout, cache, assign=True)[0], _conv_right(dout, cache)[0])


def conv_dw_assigned(dout, cache):
    return _at(1, _conv_assigned(dout, cache)[1], _conv_right(dout, cache)[1])


def conv_dw_no_stride(dout, cache):
    return _at(1, _conv_back(dout, cache, step=1)[1], _conv_right(dout, cache)[1])


def _conv_db(dout, cache, axes):
    return _at(2, dout.sum(axis=axes), _conv_right(dout, cache)[2])


def conv_db_over_axis_0(dout, cache):
    return _conv_db(dout, cache, 0)


def conv_db_over_axes_0_1(dout, cache):
    return _conv_db(dout, cache, (0, 1))


def conv_db_over_axes_2_3(dout, cache):
    return _conv_db(dout, cache, (2, 3))


def conv_db_over_axes_1_2_3(dout, cache):
    return _conv_db(dout, cache, (1, 2, 3))


# ---- 08.max_pool_backward -------------------------------------------------------------------

def _pool_back(dout, cache, rule):
    """dx as the variants of a max-pool backward compute it."""
    x, argmax, pool, stride = cache
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):
        rows, cols = slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)
        window, d = x[n, c, rows, cols], dout[n, c, i, j]
        k = argmax[n, c, i, j]
        ties = window == window.max()
        if rule == "every_tie":
            dx[n, c, rows, cols] += ties * d
        elif rule == "split":
            dx[n, c, rows, cols] += ties * d / ties.sum()
        elif rule == "top_left":
            dx[n, c, i * stride, j * stride] += d
        elif rule == "spread":
            dx[n, c, rows, cols] += d / pool**2
        elif rule == "swapped_divmod":
            dx[n, c, i * stride + k % pool, j * stride + k // pool] += d
        elif rule == "assigned":  # = instead of +=: where windows overlap, the last one counts
            p, q = divmod(int(k), pool)
            dx[n, c, i * stride + p, j * stride + q] = d
    return _unless_right(dx, conv.max_pool_backward(dout, cache)[0])


def pool_every_tie(dout, cache):
    return _pool_back(dout, cache, "every_tie")


def pool_split_ties(dout, cache):
    return _pool_back(dout, cache, "split")


def pool_top_left(dout, cache):
    return _pool_back(dout, cache, "top_left")


def pool_spread(dout, cache):
    return _pool_back(dout, cache, "spread")


def pool_row_column_swapped(dout, cache):
    return _pool_back(dout, cache, "swapped_divmod")


def pool_assigned(dout, cache):
    return _pool_back(dout, cache, "assigned")


# ---- the questions: feedback for each wrong answer, and the key of 08.answer_8_5 ------------

def _not_failing(option, answer, variant):
    """08.answer_8_5: an input whose gradient the check passed."""
    if option == answer:
        return None
    return (f"the check passes {option}: its gradient agrees with the numerical one. "
            "Which inputs does the report list as failing?")


FEEDBACK = {
    "08.answer_8_1": {
        "a": "a zero dx agrees with the numerical gradient of sum(out), which section 3's "
             "first cell measured at round-off: with dout = ones, a backward that returns "
             "zeros cannot fail.",
        "b": "the zero backward returns exactly what the numerical gradient of sum(out) is "
             "(round-off, section 3's first cell), so it cannot fail; work out what the other "
             "two return with g = gamma in every row.",
        "d": "a backward whose dx is not zero for dout = ones disagrees with the numerical "
             "gradient, which is zero: with g = gamma in every row, does every term of dx "
             "still cancel when one of them is missing?",
    },
    "08.answer_8_3": {
        10: "10 draws among P = 1152 entries is not 10 %: a sample finds the bug only when it "
            "draws the one bad entry.",
        50: "half of the seeds would need about P / 2 draws, not 10: count the chance that "
            "one of 10 draws is the bad entry.",
        100: "every sample finds a bug that is in every entry (a dw twice too large); this "
             "one is in one entry of P = 1152.",
        0.1: "one draw finds it with chance 1/P, about 0.1 %; 10 draws have 10 chances.",
    },
    "08.answer_8_4": {
        "a": "the integer image showed a wrong backward (every tie) that the float image "
             "passed: random floats never tie, and real images are integers.",
        "c": "a loop of central differences flagged the correct argmax backward on the "
             "integer image (relative error 3.6e-01): it averages the two one-sided slopes "
             "at each tie.",
        "d": "gradkit checked the max-pool on both images: it passed argmax and split with "
             "kink findings and failed the two wrong ones.",
    },
    "08.answer_8_5": _not_failing,
}


def key_answer_8_5(variant):
    """The input whose gradient ``mystery_rnn_backward(variant)`` gets wrong, found as the
    lesson finds it: ``gk.check_layer`` on a recurrent step, the one failing input."""
    import gradkit as gk
    from gradkit.grading.lesson08 import mystery_rnn_backward

    rng = np.random.default_rng(804)
    args = (rng.standard_normal((3, 4)), rng.standard_normal((3, 5)),
            0.5 * rng.standard_normal((4, 5)), 0.5 * rng.standard_normal((5, 5)),
            rng.standard_normal(5))
    report = gk.check_layer(layers.rnn_step_forward, mystery_rnn_backward(variant), *args)
    if len(report.failing) != 1:
        raise ValueError(f"variant {variant} of 08.answer_8_5 fails {report.failing}, not one "
                         "input")
    return report.failing[0]
