"""Lesson 04's instructor-only values: what each typical mistake returns.

Each function takes a test's inputs, as the student's function does, and returns
what the mistaken code would; a ``Mistake(wrong="name")`` in
``gradkit/grading/lesson04.py`` matches a received value close to it. These are
near-copies of the answers, so they stay beside the solutions: the grader and
``gradkit build`` read them, a student's edition never holds them.

The ``04.model_forward`` tests compare ``A_L`` only, so its mistakes return ``A_L``.
"""

import functools

import numpy as np


def relu_times_activation(dA, Z):
    return dA * np.maximum(Z, 0)


def relu_mask_alone(dA, Z):
    return (Z > 0).astype(float)


def relu_mask_at_zero(dA, Z):
    return dA * (Z >= 0)


def relu_mask_flipped(dA, Z):
    return dA * (Z < 0)


def linear_db_over_axis_0(dZ, A_prev, W):
    return [W.T @ dZ, dZ @ A_prev.T, dZ.sum(axis=0, keepdims=True)]


def _sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def _forward(params, X, hidden, output):
    L = len(params) // 2
    A = X
    for l in range(1, L + 1):
        Z = params[f"W{l}"] @ A + params[f"b{l}"]
        A = hidden(Z) if l < L else output(Z)
    return A


def forward_logits(params, X):
    return _forward(params, X, lambda Z: np.maximum(Z, 0), lambda Z: Z)


def forward_relu_output(params, X):
    return _forward(params, X, lambda Z: np.maximum(Z, 0), lambda Z: np.maximum(Z, 0))


def forward_all_sigmoid(params, X):
    return _forward(params, X, _sigmoid, _sigmoid)


# The bug hunt (04.name_the_bug): the answer of each variant, and what a wrong name fails
# to explain in that variant's per-tensor report.

def key_name_the_bug(variant):
    from gradkit.grading.lesson04 import PLANS

    return PLANS[variant][0]


def _pattern(report):
    """Per failing tensor: the finding kind and, for a factor, its value to 2 digits."""
    return {f.parameter: (f.kind, None if f.kind == "mismatch" else float(f"{f.value:.2g}"))
            for f in report.findings if f.parameter}


@functools.lru_cache(maxsize=None)
def _report(variant):
    import gradkit as gk
    from gradkit.grading.lesson04 import hunt_net, make_mystery

    params, X, Y = hunt_net()
    return gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), params,
                              make_mystery(variant)(params, X, Y), mode="full")


def _placements(name):
    """The reports of bug ``name`` planted in every place it can sit."""
    from gradkit.grading.lesson04 import PLANS

    return [_report(v) for v, (bug, _) in enumerate(PLANS) if bug == name]


_ORDER = ("W3", "b3", "W2", "b2", "W1", "b1")


def _listed(names):
    names = [n for n in _ORDER if n in names]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def feedback_name_the_bug(option, answer, variant):
    """Why ``option`` does not explain the report of ``variant``: the evidence it leaves
    out, said without the answer (None for the answer itself)."""
    if option == answer:
        return None
    seen = _pattern(_report(variant))
    failing = set(seen)
    best = None
    for report in _placements(option):
        theirs = _pattern(report)
        score = len(set(theirs) ^ failing)
        if best is None or score < best[0]:
            best = (score, theirs)
    theirs = best[1]
    cannot = failing - set(theirs)
    if cannot:
        one = len(cannot) == 1
        return (f"that bug cannot make {_listed(cannot)} wrong wherever it sits, yet your "
                f"report fails {'it' if one else 'them'}: which pieces "
                f"{'does its gradient' if one else 'do their gradients'} go through?")
    spared = set(theirs) - failing
    if spared:
        one = len(spared) == 1
        return (f"your name does not explain why {_listed(spared)} "
                f"{'passes' if one else 'pass'}: that bug would make "
                f"{'it' if one else 'them'} wrong too.")
    tensor = next(t for t in _ORDER if t in seen and seen[t] != theirs.get(t))
    return (f"that bug would give {tensor} {_said(theirs[tensor])}, and your report finds "
            f"{_said(seen[tensor])} (Step 2).")


def _said(finding):
    kind, value = finding
    if kind == "scale":
        return f"a constant ratio analytic/numeric of about {value:g}"
    return {"sign": "a ratio of -1", "zero": "an all-zero gradient",
            "mismatch": "ratios that vary from entry to entry"}.get(kind, kind)


FEEDBACK = {"04.name_the_bug": feedback_name_the_bug}

FEEDBACK["04.predict_calls"] = {
    44: "44 is the number of parameters P: how many values of the cost does one central "
        "difference take?",
    45: "a central difference needs two costs per entry, and the loop never evaluates the "
        "cost at the point itself.",
    88 + 1: "the loop never evaluates the cost at the point itself: only at +h and -h.",
    40: "count the biases as well: one per unit, b1 (5, 1), b2 (4, 1), b3 (1, 1).",
    80: "count every bias (one per unit), then two costs per entry.",
    176: "one nudge per entry in each direction: two costs per entry, not four.",
}
FEEDBACK["04.read_two_errors"] = {
    "a": "a smaller error at another step is not more correct: what sets the error of a "
         "check of a correct gradient?",
    "b": "a correct gradient checked with a step of 1e-7 leaves round-off near 1e-9 per entry, "
         "which adds up to about 1e-8: that is what correct looks like at that step.",
    "d": "the relative error divides by the norms of both gradients, so the size of J cancels "
         "out, and both checks differentiate the same cost.",
}
