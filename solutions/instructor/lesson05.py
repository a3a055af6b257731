"""Lesson 05's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson05.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.
"""

import numpy as np


def l2_with_biases(params, lambd, m):
    return lambd / (2 * m) * sum(float(np.sum(v**2)) for v in params.values())


def l2_norm_not_squared(params, lambd, m):
    return lambd / (2 * m) * sum(float(np.linalg.norm(W)) for name, W in params.items()
                                 if name.startswith("W"))


# Questions: what each known wrong answer overlooks, never the answer.
FEEDBACK = {
    "05.answer_5_1": {
        "a": "a gradient with no L2 term leaves all of lambd/m * W missing: compare the factor "
             "of your findings with the lambd / m the cell printed.",
        "b": "a half term leaves lambd/(2m) * W missing: is the factor of your findings half "
             "the lambd / m the cell printed?",
        "c": "a cost without the penalty makes the gradient's L2 term extra: which kind of "
             "finding does your report give?",
        "d": "a subtracted term leaves twice lambd/m * W missing: is the factor of your "
             "findings twice the lambd / m the cell printed?",
    },
    "05.answer_5_2": {
        "a": "the difference a - n stays the same, but the relative error divides it by "
             "||a|| + ||n||: what does a large lambda do to those norms?",
        "b": "the bug is in the data term, which lambda does not touch: a - n does not grow "
             "with lambda.",
        "d": "count the factors of lambda in ||a|| + ||n|| once the L2 term dominates the "
             "gradient, and in a - n.",
    },
    "05.answer_5_4": {
        "a": "each seed fixes its own mask: the cost is deterministic, but is its gradient the "
             "one computed with the other seed's mask?",
        "b": "with a seed the cost gives the same value at the same point on every call: "
             "check_gradients tests exactly that first.",
        "c": "a different seed draws a whole new mask, not a few changed units: every hidden "
             "unit's mask is drawn afresh.",
    },
    "05.answer_5_5": {
        "b": "truncation error shrinks with h on a smooth function; at Z = 0 the slope itself "
             "changes, on whichever side of the corner the step lies.",
        "c": "the central difference averages the two sides of the corner; each one-sided "
             "slope sees one side only, however small h is.",
        "d": "ReLU is continuous: its value has no jump at 0, only its slope does.",
    },
    "05.answer_5_6": {
        4678: "that is one full check; the question asks for one in every step of the "
              "training.",
        6.9e6: "each parameter is differenced on both sides: a full check calls the cost about "
               "twice per parameter, not once.",
        3000: "that is the number of steps; each of them would add a whole check.",
        6000: "that is the training's own forward and backward passes; the question asks "
              "what the checks would add.",
    },
    "05.answer_5_7": {
        "a": "count it with your answer to Question 5.6: thousands of times what the training "
             "itself computes, and the training uses none of it.",
        "b": "section 6's tanh bug passed the check at weights of size 0.01 and failed once the "
             "weights were larger: one point can hide a bug.",
        "d": "by then the whole run has trained on whatever the backward pass computed, and one "
             "point, trained or not, can hide a bug, as section 6 showed.",
    },
}

# Question 5.1: the bug of each plan of L2_PLANS (gradkit/grading/lesson05.py), by the
# multiples of the L2 term in the cost, the weight gradients and the bias gradients.
_BUG_OF_PLAN = {(1.0, 0.0, 0.0): "a", (1.0, 0.5, 0.0): "b", (0.0, 1.0, 0.0): "c",
                (1.0, -1.0, 0.0): "d"}


def key_answer_5_1(variant):
    from gradkit.grading.lesson05 import L2_PLANS

    return _BUG_OF_PLAN[L2_PLANS[variant][:3]]
