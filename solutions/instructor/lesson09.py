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


# ---- 09.which_check_yours: the key, by the lesson's own method --------------------------------

def key_which_check_yours(variant):
    """The one sanity check that flags ``OWN_MYSTERIES[variant]``: each check of the lesson
    run on it (:func:`gradkit.grading.lesson09.evidence`), the first that flags it."""
    from gradkit.grading.lesson09 import CHECKS, OWN_MYSTERIES, evidence

    setup = OWN_MYSTERIES[int(variant)]
    flagged = [check for check in CHECKS if evidence(check, setup)[0]]
    if len(flagged) != 1:
        raise ValueError(f"variant {variant} is flagged by {flagged}, not by exactly one check")
    return flagged[0]


_PASSES = {
    "loss_at_init": "its loss at initialization is near log 2, as a healthy net's is, so "
                    "whatever is wrong does not show in the starting cost",
    "overfit_tiny_batch": "its cost on 10 examples falls under 1% of where it started, as a "
                          "healthy net's does, so it can still fit and its update moves",
    "l2_raises_cost": "the cost rises with lambd, as it should, so the L2 term is there and "
                      "points the right way",
    "grad_norms": "every tensor gets a gradient and no W has identical rows, so nothing in "
                  "it is dead, missing or symmetric",
}


def _yours_feedback(option, answer, variant):
    """What the wrong check ``option`` prints on the student's set-up, and why that is a
    pass; never which check flags it."""
    from gradkit.grading.lesson09 import OWN_MYSTERIES, evidence

    if option == answer:
        return None
    if option == "gradient_check":
        return ("the gradient check passes your set-up, as it passes every mystery: a pass "
                "says only that the cost and its gradient agree. Name a check that prints "
                "something a healthy set-up does not.")
    flagged, text = evidence(option, OWN_MYSTERIES[int(variant)])
    if flagged:  # cannot happen when the key is unique; say nothing rather than mislead
        return None
    return f"{option} passes your set-up ({text}): {_PASSES[option]}."


FEEDBACK = {
    "09.answer_9_1": {
        0.693: "ln 2 is what cross-entropy gives at a prediction of 1/2; this set-up's cost is "
               "the squared error of section 2.1, another function of the same predictions.",
        0.25: "(A - Y)^2 is 1/4 for either label, but the cost of section 2.1 does not stop "
              "there: look at its denominator.",
        0.5: "|A - Y| = 1/2 for either label, but the cost squares that difference before it "
             "averages, and has one more factor.",
        0.0: "the squared error is 0 only where A = Y; at initialization A is near 1/2 for "
             "both labels.",
    },
    "09.answer_9_2": {
        "a": "wrong labels are what the full training set shows (section 2.3); 10 pairs, right "
             "or wrong, are few enough for this network to learn by heart.",
        "b": "the gradient check passed on these very pairs: the gradient is right, for the "
             "cost of the wrong pairs.",
        "d": "the network does not know which labels are wrong: to it every pair is a point to "
             "fit, and it has many more parameters than there are pairs.",
    },
    "09.answer_9_3": {
        "b": "Glorot's scale keeps the variance of the activations steady; it cannot make up "
             "for the sigmoid's slope, which is at most 1/4 wherever Z is.",
        "c": "that counts one sigmoid; the gradient reaching W1 has crossed every hidden layer "
             "between it and W7.",
        "d": "at initialization the pre-activations are small and the sigmoid is far from "
             "saturated: its slope is near 1/4, small but not 0.",
    },
    "09.answer_9_5": {
        "a": "look at what the zero weights send back: dA_prev = W.T @ dZ is 0 when W is, "
             "whatever the activation's slope, and each dW multiplies by the A below it.",
        "b": "the same gradient norms came from two different causes: in one the slope is 0 "
             "where Z is, in the other the weights themselves are.",
        "c": "with zero weights every hidden output is tanh(0) = 0, so each dW, which "
             "multiplies by the A below it, is 0; and dA_prev = W.T @ dZ is 0 whatever the "
             "slope. A steep slope at 0 has nothing to pass on.",
    },
    "09.which_check_yours": _yours_feedback,
}
