"""Lesson 11's instructor-only values: what each typical mistake returns, the keys of the
questions whose answer depends on the student's variant, and the feedback for each
wrong option.

Each mistake function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson11.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

The keys find each variant's answer by the lesson's own method: the checks of section 4
run on the as-found function of that variant (``lesson11.as_found``), with the other two
functions correct, on the notebook's batch and params.
"""

import functools

import numpy as np

import gradkit as gk
from gradkit.grading import lesson11 as L


def dropout_mask_missing(dA, D, keep_prob):
    return np.asarray(dA / keep_prob, dtype=float)


def _batch():
    """The notebook's check batch and params (section 3)."""
    X, Y = gk.datasets.moons(400, noise=0.2, seed=3)
    return X[:, :40], Y[:, :40], L.init_params(L.LAYER_DIMS, np.random.default_rng(1))


def _check(cost_fn, backward_fn, lambd, keep_prob, mask_seed=0):
    """The notebook's check_model: one fixed batch, the masks drawn from one seed."""
    X, Y, params = _batch()

    def f(p):
        AL, _ = L.forward(p, X, keep_prob, np.random.default_rng(mask_seed))
        return cost_fn(AL, Y, p, lambd)

    _, cache = L.forward(params, X, keep_prob, np.random.default_rng(mask_seed))
    return gk.check_gradients(f, params, backward_fn(params, cache, Y, lambd, keep_prob),
                              progress=False)


def _with_correct_dropout(version):
    """found_backward of ``version``, calling gradkit's dropout backward in place of the
    found one."""
    namespace = {"np": np, "found_dropout_backward": gk.nn.dropout_backward}
    source = L.as_found_script((0, 0, version)).split("def found_backward", 1)[1]
    exec("def found_backward" + source, namespace)
    return namespace["found_backward"]


def _correct_backward(params, cache, Y, lambd, keep_prob):
    return L._library_gradients(None, params, cache, Y, lambd, keep_prob)


STEPS = {"a": (0.0, 1.0), "b": (0.5, 1.0), "c": (0.0, 0.8)}
"""The settings of steps 1, 2 and 3 (lambd, keep_prob), by the letter of 11.answer_11_3."""


@functools.cache
def _first_failing_step(backward_version):
    backward = _with_correct_dropout(backward_version)
    for letter, (lambd, keep_prob) in STEPS.items():
        if not _check(L._library_cost, backward, lambd, keep_prob).passed:
            return letter
    return "d"


def key_answer_11_3(variant):
    """Which step first shows found_backward's bug, the other two functions correct."""
    return _first_failing_step(variant % L.SCRIPT_PIECES[2][3])


@functools.cache
def _dropout_finding(dropout_version):
    found = L.as_found((0, dropout_version, 0))["found_dropout_backward"]
    rng = np.random.default_rng(2)
    D = rng.random((16, 40)) < 0.8  # step 4's mask and input
    A = rng.standard_normal((16, 40))
    report = gk.check_vjp(lambda v: v["A"] * D / 0.8,
                          lambda v, dout: {"A": found(dout, D, 0.8)}, {"A": A},
                          progress=False)
    if report.passed:
        return "d"
    scale = [f.value for f in report.findings if f.kind == "scale"]
    if scale and abs(scale[0] - 0.8 ** 2) < 1e-6:
        return "a"  # multiplied by keep_prob: the factor is keep_prob squared
    if scale and abs(scale[0] - 0.8) < 1e-6:
        return "c"  # not rescaled: the factor is keep_prob
    return "b"  # no constant factor: the mask is not applied


def key_answer_11_4(variant):
    """What step 4's check of found_dropout_backward says is wrong."""
    return _dropout_finding(variant % L.SCRIPT_PIECES[1][3])


@functools.cache
def _cost_finding(cost_version):
    found = L.as_found((cost_version, 0, 0))["found_compute_cost"]
    report = _check(found, _correct_backward, 0.5, 1.0)
    if report.passed:
        return "d"
    kinds = {f.parameter: f.kind for f in report.findings}
    if report.failing == ["W3"]:
        return "a"  # one weight matrix left out of the L2 term
    if sorted(report.failing) == ["W1", "W2", "W3"] and set(kinds.values()) == {"missing_l2"}:
        return "c"  # the cost's L2 term is larger than the gradient's: twice the formula
    return "b"  # extra_l2 on every W: the cost penalizes no weight


def key_answer_11_5(variant):
    """What the check of found_compute_cost (the backward correct, L2 on) says is wrong."""
    return _cost_finding(variant % L.SCRIPT_PIECES[0][3])


def _feedback(table):
    """FEEDBACK function: the why of a wrong option, whatever the variant's answer."""
    return lambda option, answer, variant: table.get(option) if option != answer else None


FEEDBACK = {
    "11.answer_11_1": {
        "a": "with lambd = 0 the L2 term of the cost is 0 whatever its bug, and with "
             "keep_prob = 1 the forward pass draws no mask: which functions does step 1 "
             "then test at all?",
        "b": "with lambd = 0 the cost still computes its cross-entropy, and a check compares "
             "the backward pass with the cost it is given: which function makes that number?",
        "d": "with keep_prob = 1 the forward pass draws no mask (D1, D2 are None): is the "
             "dropout backward pass called in step 1?",
    },
    "11.answer_11_2": {
        "a": "step 3's scale finding came from comparing a fixed function with its gradient; "
             "with fresh masks on every call, is f the same function from one call to the "
             "next?",
        "b": "the check compares f at nearby points: with fresh masks the difference between "
             "two calls is mostly the change of masks, not of the params.",
        "c": "the checker tests f itself before blaming the gradients: what does it see when "
             "f gives two values at the same params?",
    },
    "11.answer_11_3": _feedback({
        "a": "did step 1 fail on your copy of found_backward, calling your dropout_backward? "
             "A failure that appears only later is not step 1's.",
        "b": "step 2 turns L2 on in both functions, so its failures can be the cost's: does "
             "your copy of found_backward first fail there, or already in step 1, or only "
             "with dropout?",
        "c": "step 3 runs dropout_backward too: with your repaired dropout_backward in place, "
             "is found_backward's failure new in step 3, or did an earlier step show it?",
        "d": "with the dropout layer and the cost repaired, does your copy of found_backward "
             "pass all three steps? Run recheck(compute_cost, ...) on it.",
    }),
    "11.answer_11_4": _feedback({
        "a": "multiplying by keep_prob instead of dividing gives the factor keep_prob squared "
             "(0.64) in step 4: is that the factor of your report?",
        "b": "a missing mask gives no constant factor (the dropped entries get a gradient, "
             "the kept ones the right one): does your step 4 report a scale finding?",
        "c": "a missing rescaling gives the factor keep_prob (0.8) in step 4: is that the "
             "factor of your report?",
        "d": "step 4 checks found_dropout_backward alone, with nothing of found_backward: "
             "did it pass?",
    }),
    "11.answer_11_5": _feedback({
        "a": "one weight matrix left out fails that one matrix only: with your repaired "
             "backward and lambd > 0, how many W fail?",
        "b": "no L2 term on the weights gives extra_l2 on every W (the gradient has the term, "
             "the cost not): is that your report's finding?",
        "c": "a cost's L2 term larger than the gradient's gives missing_l2 on every W: is "
             "that your report's finding?",
        "d": "with your repaired backward and lambd > 0, does found_compute_cost pass the "
             "check? Run it.",
    }),
}
