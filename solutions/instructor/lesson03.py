"""Lesson 03's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson03.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them. A function
that does not apply to a test's inputs raises, and its mistake does not match.
"""

import numpy as np

from gradkit.numgrad import numerical_gradient
from gradkit.params import dict_to_vector


def _norm(v):
    return float(np.linalg.norm(v))


def relative_absolute(grad, gradapprox):
    return _norm(grad - gradapprox)


def relative_by_grad(grad, gradapprox):
    return _norm(grad - gradapprox) / _norm(grad)


def relative_by_gradapprox(grad, gradapprox):
    return _norm(grad - gradapprox) / _norm(gradapprox)


def relative_squared(grad, gradapprox):
    return _norm(grad - gradapprox) ** 2 / (_norm(grad) ** 2 + _norm(gradapprox) ** 2)


def _vectors(cost, params, grads, epsilon, method="central", scale=1.0):
    """grad flattened in the order of params, and scale times the numerical gradient."""
    numeric = dict_to_vector(numerical_gradient(cost, params, h=epsilon, method=method))[0]
    grad = dict_to_vector(grads, dict_to_vector(params)[1])[0]
    return grad, scale * numeric


def _relative(grad, numeric):
    return _norm(grad - numeric) / (_norm(grad) + _norm(numeric))


def check_one_sided(cost, params, grads, epsilon=1e-7):
    return _relative(*_vectors(cost, params, grads, epsilon, method="forward"))


def check_gradapprox_doubled(cost, params, grads, epsilon=1e-7):
    return _relative(*_vectors(cost, params, grads, epsilon, scale=2.0))


def check_grads_unordered(cost, params, grads, epsilon=1e-7):
    """grads flattened in its own key order instead of params'; only where that matters."""
    numeric = dict_to_vector(numerical_gradient(cost, params, h=epsilon))[0]
    grad = np.concatenate([np.ravel(g) for g in grads.values()])
    error = _relative(grad, numeric)
    if not error > 1e-3:
        raise ValueError("the key order of grads does not change the error here")
    return error


def check_absolute(cost, params, grads, epsilon=1e-7):
    grad, numeric = _vectors(cost, params, grads, epsilon)
    return _norm(grad - numeric)


def check_by_grad(cost, params, grads, epsilon=1e-7):
    grad, numeric = _vectors(cost, params, grads, epsilon)
    return _norm(grad - numeric) / _norm(grad)


def relative_norm_difference(grad, gradapprox):
    """The draft's numerator (the difference of the norms) over the right denominator."""
    return abs(_norm(grad) - _norm(gradapprox)) / (_norm(grad) + _norm(gradapprox))


def relative_draft(grad, gradapprox):
    """The classmate's draft of Exercise 3.1, unchanged."""
    return abs(_norm(grad) - _norm(gradapprox)) / max(_norm(grad), _norm(gradapprox))


# Questions: what each known wrong answer overlooks, never the answer.
FEEDBACK = {
    "03.answer_3_1": {
        "a": "truncation does shrink with the step, but lesson 02's V has a second side: what "
             "happens to the round-off of J(theta + eps) - J(theta - eps), divided by 2 eps, as "
             "eps shrinks?",
        "b": "the numeric gradient is computed from rounded costs, and their round-off is "
             "divided by 2 eps: its error is set by the step, far above machine epsilon "
             "(lesson 02's V curve).",
        "d": "lesson 02 measured how the error of a central difference changes with h: the "
             "relative error of a correct gradient inherits that.",
    },
    "03.answer_3_3": {
        2.0: "that is what the max denominator of section 2 gives for opposite gradients; "
             "section 2's normwise measure divides by the sum of both norms.",
        0.0: "a flipped sign leaves the norms equal, but the measure takes the norm of the "
             "difference a - n, not the difference of the norms.",
        0.5: "redo the numerator: with n = -a, what is a - n?",
        1.7e-3: "that is the global error of all tensors together, in which b3's tiny gradient "
                "weighs little; the question asks for b3's own.",
    },
    "03.answer_3_4": {
        210: "that is your gradient_check_n's 2P: mode \"auto\" does not difference entry by "
             "entry while a tensor passes its direction test.",
        212: "that is mode \"full\": every entry, twice, plus the two evaluations at theta; "
             "mode \"auto\" tests each passing tensor along one direction.",
        12: "you left out the two evaluations at theta itself, which test that the cost is "
            "deterministic.",
        7: "a central difference along a direction takes two evaluations of the cost, one on "
           "each side, and there are two at theta as well.",
        8: "a central difference along a direction takes two evaluations of the cost, one on "
           "each side of theta.",
        13: "two evaluations at theta, then two for each of the 6 tensors: count again.",
    },
    "03.answer_3_5": {
        "a": "a wrong db line fails the biases and nothing else: compare that with the status "
             "of the weights in your report.",
        "b": "a wrong dW line fails the weights and leaves every bias right: compare that with "
             "the status of the biases in your report.",
        "c": "the output's dZ feeds every gradient of every layer: a wrong one fails all six "
             "tensors, W3 and b3 included. Does your report fail them all?",
        "d": "a wrong dA_prev reaches only the layers below the one that hands it down: the "
             "last layer's W3 and b3 stay right. Are they right in your report?",
    },
}

# Question 3.5: the line to look at first for each mystery bug of MYSTERY_BUGS
# (gradkit/grading/lesson03.py), as its per-tensor report shows it.
_LINE_OF_BUG = {"db_averaged_twice": "a", "db_not_computed": "a", "dw_doubled": "b",
                "sign_flip": "c", "missing_one_over_m": "c", "da_prev_divided_by_m": "d"}


def key_answer_3_5(variant):
    from gradkit.grading.lesson03 import mystery_bug

    return _LINE_OF_BUG[mystery_bug(variant)]
