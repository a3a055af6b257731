"""Lesson 09's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson09.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

Where a mistaken function gives the right value on a test's input (the rtol given
is the default one, the whole set is the tiny batch), it raises: on that input the
mistake cannot be told from the answer, so it does not match.
"""

import numpy as np

from gradkit.grading import plain


def _same(a, b):
    return plain.compare(plain.decode(plain.encode(a)), plain.decode(plain.encode(b)),
                         rtol=1e-9, atol=1e-12)[0]


def _unless_right(value, right):
    """``value``, unless it is ``right`` (then the mistake does not apply here)."""
    if _same(value, right):
        raise ValueError("this mistake gives the right value on this input")
    return value


# ---- 09.loss_at_init_ok ---------------------------------------------------------------------

def _loss_at_init(cost, k, rtol, expected_of=np.log, relative=True):
    expected = float(expected_of(k))
    bound = rtol * abs(expected) if relative else rtol
    return expected, bool(abs(cost - expected) <= bound)


def _loss_unless_right(value, cost, k, rtol):
    return _unless_right(value, _loss_at_init(cost, k, rtol))


def loss_log10(cost, k, rtol=0.1):
    return _loss_unless_right(_loss_at_init(cost, k, rtol, np.log10), cost, k, rtol)


def loss_log2(cost, k, rtol=0.1):
    return _loss_unless_right(_loss_at_init(cost, k, rtol, np.log2), cost, k, rtol)


def loss_one_over_k(cost, k, rtol=0.1):
    return _loss_unless_right(_loss_at_init(cost, k, rtol, lambda k: 1.0 / k), cost, k, rtol)


def loss_negative(cost, k, rtol=0.1):
    return _loss_unless_right(_loss_at_init(cost, k, rtol, lambda k: -np.log(k)), cost, k, rtol)


def loss_absolute_rtol(cost, k, rtol=0.1):
    return _loss_unless_right(_loss_at_init(cost, k, rtol, relative=False), cost, k, rtol)


def loss_default_rtol(cost, k, *rtol):
    if not rtol:
        raise ValueError("the test gives no rtol")
    return _loss_unless_right(_loss_at_init(cost, k, 0.1), cost, k, rtol[0])


# ---- 09.overfits_tiny_batch -----------------------------------------------------------------

def _overfit(how, train_fn, X, Y, m=10, ratio=0.01):
    """What the variant ``how`` of overfits_tiny_batch returns ("" for the answer)."""
    cols = {"all": slice(None), "last": slice(-m, None)}.get(how, slice(0, m))
    costs = np.asarray(train_fn(X[:, cols], Y[:, cols]), dtype=float)
    first, last = float(costs[0]), float(costs[-1])
    if how == "min":
        last = float(costs.min())
    if how == "absolute":
        return first, last, bool(last <= ratio)
    return first, last, bool(last <= ratio * first)


def _overfit_unless_right(how, *args):
    return _unless_right(_overfit(how, *args), _overfit("", *args))


def overfit_whole_set(*args):
    return _overfit_unless_right("all", *args)


def overfit_last_m(*args):
    return _overfit_unless_right("last", *args)


def overfit_smallest_cost(*args):
    return _overfit_unless_right("min", *args)


def overfit_absolute_ratio(*args):
    return _overfit_unless_right("absolute", *args)


def overfit_default_m_and_ratio(*args):
    """Compared on ``ok`` only: the defaults' verdict where it differs from the one asked."""
    if len(args) <= 3:
        raise ValueError("the test gives neither m nor ratio")
    defaults, right = _overfit("", *args[:3]), _overfit("", *args)
    if defaults[2] == right[2]:
        raise ValueError("the defaults give the same verdict here")
    return defaults


# ---- 09.per_layer_grad_norms ----------------------------------------------------------------

def _norms(grads, norm):
    value = {name: float(norm(np.asarray(g))) for name, g in grads.items()}
    return _unless_right(value, {name: float(np.linalg.norm(g)) for name, g in grads.items()})


def norms_largest_entry(grads):
    return _norms(grads, lambda g: np.abs(g).max())


def norms_spectral(grads):
    return _norms(grads, lambda g: np.linalg.norm(g, 2))
