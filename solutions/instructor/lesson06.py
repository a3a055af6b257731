"""Lesson 06's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson06.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

The ``06.sgd_step`` tests compare ``[new W1, W2, b1, b2 (sorted keys), params
unchanged]``, so its mistakes return that list, with params left unchanged.
"""

import copy

import numpy as np


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow


def logistic_half_entropy(w, b, X, Y):
    # the cross-entropy without its (1 - y) log(1 - a) term; the gradients are right
    m = X.shape[1]
    z = w @ X + b
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = float(np.mean(-Y * np.log(_sigmoid(z))))
    if not np.isfinite(cost):  # log(sigmoid(z)) underflowed: an earlier mistake names that
        raise ValueError("the cost without the (1 - y) term is not finite here")
    dz = (_sigmoid(z) - Y) / m
    return cost, dz @ X.T, np.sum(dz, axis=1, keepdims=True)


def _cut(X, Y, batch_size):
    return [(X[:, i:i + batch_size], Y[:, i:i + batch_size])
            for i in range(0, X.shape[1], batch_size)]


def batches_unshuffled(X, Y, batch_size, rng):
    return _cut(X, Y, batch_size)


def batches_two_permutations(X, Y, batch_size, rng):
    rng = copy.deepcopy(rng)  # the caller's generator keeps its state
    ox, oy = rng.permutation(X.shape[1]), rng.permutation(X.shape[1])
    return _cut(X[:, ox], Y[:, oy], batch_size)


def _step(params, grads, lr, sign):
    return [params[k] + sign * lr * grads[k] for k in sorted(params)] + [True]


def step_uphill(params, grads, lr):
    return _step(params, grads, lr, +1.0)


def step_without_lr(params, grads, lr):
    return _step(params, grads, 1.0, -1.0)


def key_answer_6_4(variant):
    """The verdict of the classmate's check of ``variant``, found as section 6 finds one:
    by running the checker on the lesson's data and network."""
    import gradkit as gk
    from gradkit import datasets, mlp
    from gradkit.grading.lesson06 import classmate_check

    X, Y = datasets.moons(300, noise=0.25, seed=1)
    net = mlp.init_params([2, 8, 1], seed=0)
    f, grads, _ = classmate_check(variant, X, Y, net)
    return gk.check_gradients(f, net, grads).verdict


def _classmate_feedback(option, answer, variant):
    # what the wrong verdict overlooks in the set-up, never which verdict is right
    if option == answer:
        return None
    if option == "pass":
        if answer == "inconclusive":
            return ("a pass needs f to give the same cost every time it is called at the same "
                    "point: call your f twice with the same params and compare.")
        return ("a pass needs f and the gradients to be of one function, on the same "
                "examples: compare the examples f uses with those the gradients were "
                "computed on.")
    if option == "fail":
        if answer == "inconclusive":
            return ("before comparing anything the checker calls f twice at the same point: "
                    "look at what your f returns the second time.")
        return ("a fail needs f and the gradients to differ as functions: is any example in "
                "f's cost missing from the gradients' batch, or the other way round? Look at "
                "where each batch's random generator is created.")
    if option == "inconclusive":
        return ("inconclusive means f gave two different costs at the same point: does "
                "anything random in your f change from one call to the next? A generator "
                "created anew with a fixed seed draws the same numbers each time.")
    return None


FEEDBACK = {
    "06.answer_6_1": {
        1e7: "that is how many single-example SGD updates one GD update costs: a mini-batch "
             "update touches 64 examples, not 1.",
        64: "that is the size of one mini-batch; the question asks how many mini-batch "
            "updates fit in the work of one GD update.",
        8e8: "that is the number of flops of one GD update, not a number of mini-batch "
             "updates.",
        5120: "that is the number of flops of one mini-batch update, not a number of updates.",
        6.4e-6: "your ratio is upside down: one GD update costs more than one mini-batch "
                "update.",
        1.56e3: "that is how many mini-batch updates one GD update costs at 100 000 "
                "examples; the question is about 10 million.",
    },
    "06.answer_6_3": {
        "a": "dividing by 64 is what happens to the variance of an average of 64 independent "
             "errors; the cell measures the error's size, a norm, not its square.",
        "b": "how far a sample's mean is off depends on how many examples it averages, not "
             "on what fraction of the data it is (until it is most of the data).",
        "d": "unbiased means right on average over all batches; any one batch still misses "
             "the full gradient, as the single example does.",
    },
    "06.answer_6_4": _classmate_feedback,
}
