"""Exercise specs of lesson 09, what a gradient check cannot see
(``solutions/09_what_checks_miss.ipynb``).

- ``09.answer_9_1`` — a prediction (a number): the MSE set-up's loss at initialization.
- ``09.loss_at_init_ok`` — ``(expected, ok)``: the loss a k-class net should start at,
  and whether a cost is within ``rtol`` of it.
- ``09.overfits_tiny_batch`` — ``(first, last, ok)``: whether training on a tiny batch
  drives its cost down far enough.
- ``09.answer_9_2`` — a prediction (a letter): the misaligned labels on a tiny batch.
- ``09.per_layer_grad_norms`` — a norm per gradient tensor, by name.
- ``09.answer_9_3`` — a prediction (a letter): how far sigmoid gradients vanish.
- ``09.which_check`` — ``{letter: check}`` naming, for each set-up of :data:`MYSTERIES`, a
  check of :data:`CHECKS` that flags it. It is graded by what the named check prints on
  that set-up (:func:`evidence`): the expected value reads "flags it", so the feedback
  never shows which check the reference names.
- ``09.which_check_yours`` — a name, one of :data:`CHECKS`: the check that flags the
  student's own set-up, ``OWN_MYSTERIES[variant]`` (a variant per ``STUDENT_ID``). The
  answer is never shown; a wrong name is told what that check printed.
- ``09.repaired_init`` — an initialization that breaks the symmetry of a constant one:
  graded by the sanity checks it must pass, not by its values.
- ``09.answer_9_5`` — a letter: which of two bugs another activation would cure.

A training set-up is a :class:`SetUp`: a ``[2, 16, 16, 1]`` ReLU network with a sigmoid
output trained by batch gradient descent, written out in numpy, in which each field can
switch on one bug that sits in the cost *and* in its gradient (or outside both), so that a
gradient check passes. The healthy set-up equals :func:`gradkit.mlp.cost_and_gradients`.

The references are the answer cells of the solution notebook, and the mistakes
that need a near-copy of an answer are functions of ``solutions/instructor/lesson09.py`` (see
:mod:`gradkit.grading.references`); neither ships in this module. The tests that
judge a set-up (Exercises 9.4 and 9.6) get back from the student's process only
what their function returned (a name, parameters) and run the checks on it here
(``post=``), in the grader's process and in ``check()``: with the lesson's fixed
settings (two classes, 10 examples), not the exercises' functions.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import gradkit as gk
from gradkit import nn
from gradkit.grading import plain
from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["CHECKS", "EXERCISES", "MYSTERIES", "N_OWN", "OWN_MYSTERIES", "SetUp", "evidence",
           "grad_norm_flags", "l2_raises_cost", "lesson_data", "own_mystery"]

LAYER_DIMS = (2, 16, 16, 1)
OUTPUT_SCALE = 0.1
"""The last W starts this much smaller than He's scale, so the first predictions are near 1/2."""


def lesson_data():
    """The lesson's moons: ``X_train (2, 300), Y_train (1, 300), X_test (2, 100), Y_test``."""
    X, Y = gk.datasets.moons(400, noise=0.2, seed=0)
    return gk.datasets.train_test_split(X, Y, test_size=0.25, seed=0)


@dataclass(frozen=True)
class SetUp:
    """A training set-up: init, cost and gradients, gradient descent; one field, one bug.

    Parameters
    ----------
    name : str
    change : str
        The line of code that differs from the healthy set-up.
    loss : {"cross_entropy", "mse", "positives_only", "negatives_only", "log10", "over_2m"}
        Mean binary cross-entropy of ``sigmoid(Z_L)``; half the mean squared error of the
        probabilities; ``-mean(Y log A)``, cross-entropy without its ``(1 - Y)`` term;
        ``-mean((1 - Y) log(1 - A))``, without its ``Y`` term; cross-entropy with ``log10``
        in place of the natural log; or the summed cross-entropy divided by ``2m``.
    activation : bool
        False: the hidden layers forget their ReLU (``A = Z``), in the forward and the
        backward pass.
    bias : bool or int
        False: ``Z = W @ A_prev`` (no ``+ b``), and ``db = 0``, the true gradient of that;
        a layer number ``l``: only layer ``l`` has no ``+ b``.
    l2 : float
        Sign of the L2 term in the cost and in the gradient: 1, 0 (lambd never used), -1.
    l2_on : {"W", "b"}
        The tensors the L2 term sums over: the weights, or (a bug) the biases.
    weights : {"he", "constant", "zero"}
        He weights (the last layer times :data:`OUTPUT_SCALE`), every weight 0.1, or zeros.
    bias_init : float
        Starting value of the hidden layers' biases.
    update : {"gd", "lost", "biases_only", "last_only"}
        ``"lost"``: the update rebinds a loop variable and never reaches ``params``;
        ``"biases_only"``: it updates only the ``b``; ``"last_only"``: only the last layer.
    output_scale : float
        The factor of He's scale of the last ``W`` (default :data:`OUTPUT_SCALE`).
    init_fn : callable, optional
        ``init_fn(layer_dims, seed) -> params`` replaces ``weights`` and ``bias_init``.
    """

    name: str = "healthy"
    change: str = ""
    loss: str = "cross_entropy"
    activation: bool = True
    bias: bool = True
    l2: float = 1.0
    l2_on: str = "W"
    weights: str = "he"
    bias_init: float = 0.0
    update: str = "gd"
    init_fn: Callable | None = None
    layer_dims: tuple = LAYER_DIMS
    output_scale: float = OUTPUT_SCALE

    def __str__(self):
        return f"{self.name}: {self.change}" if self.change else self.name

    def init_params(self, seed=0):
        """Starting parameters ``W_l (n_l, n_{l-1})``, ``b_l (n_l, 1)``, drawn with ``seed``."""
        if self.init_fn is not None:
            return self.init_fn(list(self.layer_dims), seed)
        params = gk.mlp.init_params(list(self.layer_dims), seed=seed)
        L = len(self.layer_dims) - 1
        params[f"W{L}"] *= self.output_scale
        for l in range(1, len(self.layer_dims)):
            if self.weights == "constant":
                params[f"W{l}"] = np.full_like(params[f"W{l}"], 0.1)
            elif self.weights == "zero":
                params[f"W{l}"] = np.zeros_like(params[f"W{l}"])
            if l < L:
                params[f"b{l}"] = np.full_like(params[f"b{l}"], self.bias_init)
        return params

    def _has_bias(self, l):
        return self.bias is True or (self.bias is not False and l != self.bias)

    def _forward(self, params, X):
        L = len(params) // 2
        A, cache = X, []
        for l in range(1, len(params) // 2 + 1):
            Z = params[f"W{l}"] @ A + (params[f"b{l}"] if self._has_bias(l) else 0.0)
            cache.append((A, Z))
            if l < L:
                A = np.maximum(Z, 0.0) if self.activation else Z
        return Z, cache

    def cost_and_gradients(self, params, X, Y, lambd=0.0):
        """``(cost, grads)``: data loss + ``l2 * lambd/(2m) sum ||W||^2`` and its gradient."""
        ZL, cache = self._forward(params, X)
        m = X.shape[1]
        A = nn.sigmoid(ZL)
        if self.loss == "cross_entropy":
            J = float(np.sum(np.logaddexp(0.0, ZL) - Y * ZL)) / m
            dZ = (A - Y) / m
        elif self.loss == "mse":
            J = float(np.sum((A - Y) ** 2)) / (2 * m)
            dZ = (A - Y) * A * (1 - A) / m  # through the sigmoid: dA/dZ = A(1 - A)
        elif self.loss == "positives_only":  # -mean(Y log A), with log A = -softplus(-Z)
            J = float(np.sum(Y * np.logaddexp(0.0, -ZL))) / m
            dZ = -Y * (1 - A) / m
        elif self.loss == "negatives_only":  # -mean((1 - Y) log(1 - A)), log(1 - A) = -softplus(Z)
            J = float(np.sum((1 - Y) * np.logaddexp(0.0, ZL))) / m
            dZ = (1 - Y) * A / m
        else:  # cross-entropy over another denominator: log10 x = ln x / ln 10, or 2m
            scale = m * np.log(10) if self.loss == "log10" else 2 * m
            J = float(np.sum(np.logaddexp(0.0, ZL) - Y * ZL)) / scale
            dZ = (A - Y) / scale
        L = len(params) // 2
        J += self.l2 * lambd / (2 * m) * sum(float(np.sum(params[f"{self.l2_on}{l}"] ** 2))
                                             for l in range(1, L + 1))
        grads = {}
        for l in range(L, 0, -1):
            A_prev, _ = cache[l - 1]
            W = params[f"W{l}"]
            decay = self.l2 * lambd / m
            grads[f"W{l}"] = dZ @ A_prev.T + (decay * W if self.l2_on == "W" else 0.0)
            grads[f"b{l}"] = (dZ.sum(axis=1, keepdims=True) if self._has_bias(l)
                              else np.zeros_like(params[f"b{l}"]))
            if self.l2_on == "b":
                grads[f"b{l}"] = grads[f"b{l}"] + decay * params[f"b{l}"]
            if l > 1:
                dA = W.T @ dZ
                dZ = dA * (cache[l - 2][1] > 0) if self.activation else dA
        return J, {key: grads[key] for key in params}

    def cost(self, params, X, Y, lambd=0.0):
        """The scalar cost of :meth:`cost_and_gradients`."""
        return self.cost_and_gradients(params, X, Y, lambd)[0]

    def gradients(self, params, X, Y, lambd=0.0):
        """The gradients of :meth:`cost_and_gradients`, keys and shapes of ``params``."""
        return self.cost_and_gradients(params, X, Y, lambd)[1]

    def train(self, X, Y, *, lambd=0.0, lr=1.0, epochs=500, seed=0, params=None):
        """Batch gradient descent from ``init_params(seed)`` (or ``params``).

        Returns
        -------
        params : dict
        costs : ndarray of shape (epochs,)
            The cost before each update.
        """
        params = self.init_params(seed) if params is None else {
            key: value.copy() for key, value in params.items()}
        costs = np.empty(epochs)
        for epoch in range(epochs):
            costs[epoch], grads = self.cost_and_gradients(params, X, Y, lambd)
            if self.update == "lost":
                for key, value in params.items():
                    value = value - lr * grads[key]  # rebinds the name; params is unchanged
            elif self.update in ("biases_only", "last_only"):
                last = str(len(params) // 2)
                moved = [key for key in params if (key[0] == "b" if self.update == "biases_only"
                                                   else key[1:] == last)]
                params = {key: value - lr * grads[key] if key in moved else value
                          for key, value in params.items()}
            else:
                params = {key: value - lr * grads[key] for key, value in params.items()}
        return params, costs

    def predict(self, params, X):
        """0/1 predictions of shape ``(1, m)``: ``sigmoid(Z_L) > 0.5``, i.e. ``Z_L > 0``."""
        return (self._forward(params, X)[0] > 0).astype(float)

    def accuracy(self, params, X, Y):
        """Fraction of correct predictions."""
        return float(np.mean(self.predict(params, X) == Y))


# ---- the lesson's sanity checks -----------------------------------------------------

def l2_raises_cost(cost_fn, params, lambd=1.0):
    """``(rise, ok)``: ``cost_fn(params, lambd) - cost_fn(params, 0)``, which must be > 0."""
    rise = float(cost_fn(params, lambd) - cost_fn(params, 0.0))
    return rise, rise > 0


def grad_norm_flags(grads, norms=None):
    """What the per-layer norms show: tensors with no gradient, ``W`` with identical rows.

    ``norms`` is ``{name: Frobenius norm}`` of ``grads`` (computed when not given). A tensor
    is flagged as zero when its norm is below ``1e-10`` times the largest; a ``W`` whose rows
    (one per unit) are all equal, to ``1e-9`` of its norm, says its units get the same update.
    """
    if norms is None:  # the Frobenius norm: the square root of the sum of the squares
        norms = {key: float(np.sqrt(np.sum(np.square(value)))) for key, value in grads.items()}
    largest = max(norms.values())
    flags = []
    for name, g in grads.items():
        g = np.asarray(g)
        if norms[name] <= 1e-10 * largest:
            flags.append(f"{name} zero")
        elif name.startswith("W") and g.shape[0] > 1 and (
                np.abs(g - g[:1]).max() <= 1e-9 * norms[name]):
            flags.append(f"{name} identical rows")
    return flags


def _loss_at_init_flags(cost):
    """The loss-at-init check with two classes: flagged when ``cost`` is more than 10% away
    from ln 2, what a net that knows nothing scores."""
    return not abs(cost / np.log(2) - 1) <= 0.1


def _tiny_batch(setup, X, Y, params=None):
    """``(flagged, first, last)``: train ``setup`` from ``params`` (default its
    ``init_params(0)``) on the first 10 examples of ``X, Y``; flagged unless the last cost is
    below 1% of the first."""
    start, end = setup.train(X[:, :10], Y[:, :10], params=params)[1][[0, -1]]
    return not end <= 0.01 * start, float(start), float(end)


# ---- Exercise 9.4: the mystery set-ups and the evidence of each check ------------------------

CHECKS = ("gradient_check", "loss_at_init", "overfit_tiny_batch", "l2_raises_cost",
          "grad_norms")
"""The checks a student can name; the gradient check passes every mystery set-up."""

MYSTERIES = {
    "A": SetUp("A", "for key, value in params.items(): value = value - lr * grads[key]",
               update="lost"),
    "B": SetUp("B", "cost = data + ... - lambd/(2m) * sum ||W||^2;  dW = ... - lambd/m * W",
               l2=-1.0),
    "C": SetUp("C", "cost = -np.mean(Y * np.log(A))  (and its gradient dZ = -Y(1 - A)/m)",
               loss="positives_only"),
    "D": SetUp("D", "Z = W @ A_prev  (no + b; and db = 0, the gradient of that)", bias=False),
}
"""Four broken set-ups, each with the one line that differs from the healthy one."""


OWN_MYSTERIES = (
    SetUp("yours", "for key in params: if key.startswith('b'): params[key] -= lr * grads[key]",
          update="biases_only"),
    SetUp("yours", "cost = -np.mean(Y * np.log10(A) + (1 - Y) * np.log10(1 - A))  (and its "
          "gradient)", loss="log10"),
    SetUp("yours", "reg = lambd // (2 * m) * sum ||W||^2;  dW = ... + lambd // m * W", l2=0.0),
    SetUp("yours", "Z2 = W2 @ A1  (no + b2 in layer 2; and db2 = 0, the gradient of that)",
          bias=2),
    SetUp("yours", "for key in ('W3', 'b3'): params[key] = params[key] - lr * grads[key]",
          update="last_only"),
    SetUp("yours", "cost = -np.mean((1 - Y) * np.log(1 - A))  (and its gradient dZ = (1 - Y)A/m)",
          loss="negatives_only"),
    SetUp("yours", "reg = lambd/(2m) * sum ||b||^2 over the biases;  db = ... + lambd/m * b",
          l2_on="b"),
    SetUp("yours", "Z3 = W3 @ A2  (no + b3 in the output layer; and db3 = 0, the gradient of "
          "that)", bias=3),
    SetUp("yours", "new = {key: value - lr * grads[key] for key, value in params.items()}  "
          "(and params is never set to new)", update="lost"),
    SetUp("yours", "cost = np.sum(cross_entropy) / (2 * m)  (and its gradient dZ = (A - Y)/(2m))",
          loss="over_2m"),
    SetUp("yours", "reg = lambd/(2m) * sum(np.sum(params[k] ** 2) for k in params if k == 'W');  "
          "dW likewise", l2=0.0),
    SetUp("yours", "Z1 = W1 @ X  (no + b1 in the first layer; and db1 = 0, the gradient of that)",
          bias=1),
)
"""Exercise 9.5's set-ups, one per variant: ``OWN_MYSTERIES[variant(STUDENT_ID,
"09.which_check_yours", N_OWN)]``; variant 0 (``STUDENT_ID = ""``) is the one the text shows.
Each is flagged by exactly one of the four sanity checks, which the grader finds by running
them."""

N_OWN = len(OWN_MYSTERIES)


def own_mystery(student=""):
    """Your set-up of Exercise 9.5: ``student`` is your ``STUDENT_ID`` ("" gives variant 0),
    or a variant number."""
    from gradkit.grading.variants import variant

    if isinstance(student, str):
        return OWN_MYSTERIES[variant(student, "09.which_check_yours", N_OWN)]
    return OWN_MYSTERIES[int(student)]


def evidence(check, setup):
    """``(flagged, text)``: what ``check`` (one of :data:`CHECKS`) shows on ``setup``.

    Every check runs on :func:`lesson_data`'s training set, at ``setup.init_params(0)``.
    """
    X, Y, _, _ = lesson_data()
    params = setup.init_params(0)
    if check == "gradient_check":
        report = gk.check_gradients(lambda p: setup.cost(p, X, Y), params,
                                    setup.gradients(params, X, Y))
        return not report.passed, f"{report.verdict}, error {report.relative_error:.0e}"
    if check == "loss_at_init":
        cost = setup.cost(params, X, Y)
        return _loss_at_init_flags(cost), f"{cost:.3f}, log 2 = {np.log(2):.3f}"
    if check == "overfit_tiny_batch":
        flagged, first, last = _tiny_batch(setup, X, Y)
        return flagged, f"cost {first:.3f} -> {last:.2g}"
    if check == "l2_raises_cost":
        rise, ok = l2_raises_cost(lambda p, lambd: setup.cost(p, X, Y, lambd), params)
        return not ok, f"rises by {rise:+.3f}"
    flags = grad_norm_flags(setup.gradients(params, X, Y))
    return bool(flags), ", ".join(flags) if flags else "no zero tensor, no equal rows"


def _named(fn, letter):
    """``[kind, detail]``: what ``which_check()`` names for set-up ``letter``, as plain text.
    This runs in the student's process; :func:`_verdict` runs the named check, where the
    grading is."""
    answer = fn()
    if not isinstance(answer, dict):
        return ["not a dict", type(answer).__name__]
    if letter not in answer:
        return ["missing", ""]
    check = answer[letter]
    return ["named", str(check)[:40]]


def _verdict(args, value):
    """What the named check shows on set-up ``args[0]``: ``"flags it"`` or what it printed."""
    (letter,), (kind, detail) = args, value
    if kind == "not a dict":
        return f"which_check() returned a {detail}, not a dict"
    if kind != "named":
        return f"no check named for set-up {letter}"
    if detail not in CHECKS:
        return f"{detail[:20]!r} is not one of CHECKS"
    flagged, text = evidence(detail, MYSTERIES[letter])
    return "flags it" if flagged else f"{detail} passes it: {text}"


def _chose(check):
    return lambda a, got: isinstance(got, str) and got.startswith(f"{check} passes it")


_WHICH = Exercise(
    id="09.which_check",
    title="Which check catches it?",
    function="which_check",
    points=1.5,
    tests=[Test(f"set-up {letter}", args=(letter,), call=_named, post=_verdict,
                shows=f"which_check()[{letter!r}], run on set-up {letter}")
           for letter in MYSTERIES],
    mistakes=[
        Mistake("return a dict with one entry per set-up, {'A': ..., 'B': ..., 'C': ..., "
                "'D': ...}, each value a string.",
                lambda a, got: isinstance(got, str) and (
                    got.startswith("which_check() returned") or got.startswith("no check"))),
        Mistake("name each check by one of the strings in CHECKS, spelled exactly.",
                lambda a, got: isinstance(got, str) and got.endswith("is not one of CHECKS")),
        Mistake("the gradient check passes every one of these set-ups (the cell above the "
                "exercise shows it): a pass says only that the cost and its gradient agree. "
                "Name a check that prints something a healthy set-up does not.",
                _chose("gradient_check")),
        Mistake("run `run_check('loss_at_init', ...)` on this set-up: what does it print? Its "
                "loss at initialization is near log 2, as a healthy net's is, so whatever is "
                "wrong does not show in the starting cost.",
                _chose("loss_at_init")),
        Mistake("run `run_check('overfit_tiny_batch', ...)` on this set-up: what does it print? "
                "Its cost falls to under 1% of where it started, as a healthy net's does, so "
                "this set-up can still fit 10 points.",
                _chose("overfit_tiny_batch")),
        Mistake("run `run_check('l2_raises_cost', ...)` on this set-up: what does it print? "
                "The cost rises with lambd, as it should, so its L2 term points the right way.",
                _chose("l2_raises_cost")),
        Mistake("run `run_check('grad_norms', ...)` on this set-up: what does it print? Every "
                "tensor gets a gradient and no W has identical rows, so nothing in it is dead "
                "or symmetric.",
                _chose("grad_norms")),
    ],
    hint="For each set-up, run the checks with run_check and name one whose result differs "
         "from what the healthy set-up prints; a check that passes a set-up does not catch it.",
)


_YOURS = question(
    "09.which_check_yours", "which_check_yours", points=1.5, kind="name", options=CHECKS,
    variants=N_OWN, title="Your own mystery set-up",
    shows="which_check_yours(): the check in CHECKS that flags your own set-up",
    hint="Read your set-up's changed line: what does it do to the starting cost, to training, "
         "to the L2 term, to the gradients? Then run that check on it with run_check.")


# ---- the questions and predictions -------------------------------------------------------

_Q91 = question(
    "09.answer_9_1", "answer_9_1", points=0.5, kind="number", digits=2, rtol=0.05,
    title="Predict the MSE loss at initialization",
    shows="answer_9_1(): the MSE set-up's loss at initialization, 2 significant digits",
    hint="At initialization every prediction A is near 1/2; work out the cost of section 2.1 "
         "for one example of each label, with every factor of its formula.")

_Q92 = question(
    "09.answer_9_2", "answer_9_2", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="Predict: misaligned labels on a tiny batch",
    hint="The tiny batch asks whether the network can fit 10 given pairs, whatever they are.")

_Q93 = question(
    "09.answer_9_3", "answer_9_3", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="Predict: how far sigmoid gradients vanish",
    hint="Count the sigmoid layers the gradient crosses between W7 and W1, and what each "
         "one multiplies it by at most.")

_Q95 = question(
    "09.answer_9_5", "answer_9_5", points=0.5, kind="choice", options=("a", "b", "c", "d"),
    title="What another activation would cure",
    hint="For each bug, follow what reaches the hidden layers: the value of A, and the "
         "slope of the activation where Z is.")


# ---- Exercise 9.1 ----------------------------------------------------------------------

def _if_wrong(mistakes):
    """Each mistake matches only an answer that differs from the expected value on that test
    (a ``wrong=`` function does not apply where it gives the expected value)."""
    def guard(mistake):
        if mistake.when is None:
            return mistake
        return Mistake(mistake.hint, lambda a, got, e: not plain.compare(got, e)[0]
                       and mistake.matches(a, got, e))
    return [guard(m) for m in mistakes]


def _close(a, b, rtol=1e-9):
    return bool(np.isclose(float(a), float(b), rtol=rtol, atol=1e-12))


def _returned(got, expected, ok):
    return len(got) == 2 and _close(got[0], expected) and got[1] == ok


_NATURAL_LOG = ("expected is in another base: cross-entropy is measured in nats, with the "
                "natural logarithm, and log10 or log2 give another number.")


_LOSS_AT_INIT = Exercise(
    id="09.loss_at_init_ok",
    title="Loss at initialization",
    function="loss_at_init_ok",
    points=0.5,
    returns=("expected", "ok"),
    tests=[
        Test("a healthy binary net: 0.681, k = 2", args=(0.681, 2),
             shows="cost = 0.681, k = 2"),
        Test("softmax over 10 classes: 2.31, k = 10", args=(2.31, 10),
             shows="cost = 2.31, k = 10"),
        Test("what MSE gives at init: 0.122, k = 2", args=(0.122, 2),
             shows="cost = 0.122, k = 2"),
        Test("27% too high: 1.40, k = 3", args=(1.40, 3), shows="cost = 1.40, k = 3"),
        Test("100 classes, 8% off, rtol = 0.1: 4.98, k = 100", args=(4.98, 100, 0.1),
             shows="cost = 4.98, k = 100, rtol = 0.1"),
        Test("a tighter rtol = 0.01: 0.71, k = 2", args=(0.71, 2, 0.01),
             shows="cost = 0.71, k = 2, rtol = 0.01"),
    ],
    mistakes=_if_wrong([
        Mistake("return two values, (expected, ok).",
                lambda a, got: not isinstance(got, list) or len(got) != 2),
        Mistake(_NATURAL_LOG, wrong="loss_log10"),
        Mistake(_NATURAL_LOG, wrong="loss_log2"),
        Mistake("expected is the loss of a net that gives each class probability 1/k, not "
                "1/k itself: reread section 3.1.", wrong="loss_one_over_k"),
        Mistake("expected is negative, but a cross-entropy never is: yours has the sign of "
                "log(1/k), so look at the minus sign of the loss.", wrong="loss_negative"),
        Mistake("rtol is relative, and yours uses it as an absolute tolerance: for log 100 = 4.6 "
                "that is far too tight. Reread how the exercise defines 'within rtol'.",
                wrong="loss_absolute_rtol"),
        Mistake("use the rtol you are given (default 0.1).", wrong="loss_default_rtol"),
        Mistake("ok is True when the cost is close to log k, False when it is far; yours is "
                "the opposite.",
                lambda a, got, e: _returned(got, e[0], not e[1])),
    ]),
    hint="expected is the loss at initialization of section 3.1, and ok compares the cost "
         "with it relatively, as the exercise's inequality says.",
)


# ---- Exercise 9.2 ----------------------------------------------------------------------

def _healthy_curve(Xs, Ys):
    return SetUp().train(Xs, Ys)[1]


def _dead_curve(Xs, Ys):
    return SetUp(bias_init=-5.0).train(Xs, Ys)[1]


def _dip_then_rise(Xs, Ys):
    # a run that diverges after a good start: the last cost counts, not the best one
    return np.array([0.7, 0.2, 0.004, 0.3, 0.45])


def _summed_curve(Xs, Ys):
    # a cost summed over 300 examples: 208 at the start, 1.3 at the end, fitted to 0.6%
    return np.array([208.0, 50.0, 1.3])


def _depends_on_columns(Xs, Ys):
    # the final cost says which examples were passed: the first m of the tests' X give 0.0021
    return [0.69, 0.69 * 0.003 * (1.0 + float(np.sum(Xs[0] ** 2)))]


def _columns_args(rng):
    X = np.zeros((2, 30))
    X[0, 10:] = 3.0  # the first 10 examples are at the origin, the others far from it
    Y = (rng.random((1, 30)) < 0.5).astype(float)
    return _depends_on_columns, X, Y, 10, 0.01


_OVERFIT = Exercise(
    id="09.overfits_tiny_batch",
    title="Overfit a tiny batch",
    function="overfits_tiny_batch",
    points=1,
    returns=("first", "last", "ok"),
    tests=[
        Test("a healthy net on 10 of 40 moons", args=lambda rng: (
            _healthy_curve, *gk.datasets.moons(40, seed=5)),
            shows="train_fn = the healthy set-up's training, X, Y = moons(40, seed=5)"),
        Test("a net whose units are all dead", args=lambda rng: (
            _dead_curve, *gk.datasets.moons(40, seed=5)),
            shows="train_fn = training with hidden biases -5, X, Y = moons(40, seed=5)"),
        Test("a run that dips, then diverges", args=lambda rng: (
            _dip_then_rise, *gk.datasets.moons(20, seed=6)),
            shows="train_fn returns [0.7, 0.2, 0.004, 0.3, 0.45]"),
        Test("which examples reach train_fn (m = 10)", args=_columns_args,
             shows="train_fn's last cost grows with the examples it gets; X (2, 30), m = 10, "
                   "ratio = 0.01"),
        Test("a cost of another scale: 208 -> 1.3", args=lambda rng: (
            _summed_curve, *gk.datasets.moons(20, seed=6)),
            shows="train_fn returns [208.0, 50.0, 1.3]"),
        Test("a larger ratio = 0.7, m = 5", args=lambda rng: (
            _dip_then_rise, *gk.datasets.moons(20, seed=6), 5, 0.7),
            shows="train_fn returns [0.7, 0.2, 0.004, 0.3, 0.45], m = 5, ratio = 0.7"),
    ],
    mistakes=_if_wrong([
        Mistake("return three values, (first, last, ok).",
                lambda a, got: not isinstance(got, list) or len(got) != 3),
        Mistake("yours trains on the whole set: train on the first m examples only. A tiny "
                "batch is what any correct net can memorize; the whole set is not.",
                wrong="overfit_whole_set"),
        Mistake("yours trains on the last m examples: the exercise asks for the first m, not "
                "the last ones.", wrong="overfit_last_m"),
        Mistake("last is where the run ends, not its smallest cost: a run that dips and then "
                "diverges has not fitted the batch.", wrong="overfit_smallest_cost"),
        Mistake("ratio is relative to the starting cost, and yours compares last with ratio "
                "itself: a summed cost that starts at 208 is fitted and still ends above 0.01.",
                wrong="overfit_absolute_ratio"),
        Mistake("use the m and the ratio you are given (defaults 10 and 0.01).",
                wrong="overfit_default_m_and_ratio", part=2),
        Mistake("first and last are swapped: return (first, last, ok) in this order.",
                lambda a, got, e: len(got) == 3 and _close(got[0], e[1], 1e-6)
                and _close(got[1], e[0], 1e-6)),
    ]),
    hint="Train on the tiny batch the exercise describes, and judge the run by where its cost "
         "ends compared with where it started (section 3.2).",
)


# ---- Exercise 9.3 ----------------------------------------------------------------------

def _grads_args(shapes, zero=()):
    def args(rng):
        return ({name: (np.zeros(shape) if name in zero else rng.standard_normal(shape))
                 for name, shape in shapes.items()},)
    return args


def _norms_like(f):
    """A mistake whose norm of each tensor is ``f(expected norm, tensor)``."""
    return lambda a, got, e: isinstance(got, dict) and set(got) == set(a[0]) and all(
        _close(got[k], f(e[k], np.asarray(v)), 1e-6) for k, v in a[0].items())


_NORMS = Exercise(
    id="09.per_layer_grad_norms",
    title="Gradient norms per layer",
    function="per_layer_grad_norms",
    points=0.5,
    tests=[
        Test("a 2-layer net's gradients", args=_grads_args(
            {"W1": (4, 2), "b1": (4, 1), "W2": (1, 4), "b2": (1, 1)}),
            shows="grads = {'W1': (4, 2), 'b1': (4, 1), 'W2': (1, 4), 'b2': (1, 1)}, random"),
        Test("a dead first layer: W1 and b1 zero", args=_grads_args(
            {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3), "b2": (1, 1)}, zero=("W1", "b1")),
            shows="grads with W1 (3, 2) and b1 (3, 1) all zeros", seed=1),
        Test("3 layers, other names", args=_grads_args(
            {"W1": (5, 3), "b1": (5, 1), "W2": (4, 5), "b2": (4, 1), "W3": (2, 4),
             "b3": (2, 1)}), shows="grads of a [3, 5, 4, 2] net, random", seed=2),
    ],
    mistakes=_if_wrong([
        Mistake("return a dict {name: norm} with one entry for every key of grads, the biases "
                "too: a dead layer shows in its b as much as in its W.",
                lambda a, got: not isinstance(got, dict) or set(got) != set(a[0])),
        Mistake("that is the squared norm: compare yours with the exercise's formula, which "
                "has one more step.", _norms_like(lambda norm, g: norm ** 2)),
        Mistake("that is the largest |entry|, not the norm: the Frobenius norm takes every "
                "entry into account.", wrong="norms_largest_entry"),
        Mistake("yours is divided by the number of entries, an average: the lesson compares "
                "the norm of the whole tensor.",
                _norms_like(lambda norm, g: norm / np.sqrt(g.size))),
        Mistake("ord=2 gives a matrix's largest singular value, not its Frobenius norm: see "
                "which ord of np.linalg.norm is the one the exercise defines.",
                wrong="norms_spectral"),
    ]),
    hint="For every name in grads, one float: the Frobenius norm of the whole tensor, as the "
         "exercise defines it.",
)


# ---- Exercise 9.6 ----------------------------------------------------------------------

def _unseen(n_x=2):
    """Data the notebook never shows: 60 moons, with a third input x1 * x2 for n_x = 3."""
    X, Y = gk.datasets.moons(60, noise=0.2, seed=3)
    return (X if n_x == 2 else np.vstack([X, X[:1] * X[1:]])), Y


def _init_at_0(fn, dims):
    return fn(list(dims), 0)


def _init_at_seeds_0_to_4(fn, dims):
    return [fn(list(dims), seed) for seed in range(5)]


def _init_at_7_7_8(fn, dims):
    return [fn(list(dims), 7), fn(list(dims), 7), fn(list(dims), 8)]


# The checks below run where the verdicts are made (post=), on the parameters that the
# student's repaired_init returned, as plain arrays.

def _arrays(params):
    return {name: np.asarray(value, dtype=float) for name, value in params.items()}


def _shapes(args, params):
    return {name: [float(n) for n in np.shape(value)] for name, value in params.items()}


def _flags(args, params):
    (dims,) = args
    X, Y = _unseen(dims[0])
    flags = grad_norm_flags(SetUp(layer_dims=tuple(dims)).gradients(_arrays(params), X, Y))
    return "no flag" if not flags else ", ".join(flags)


def _init_loss(args, seeded):
    X, Y = _unseen()
    for seed, params in enumerate(seeded):
        J = SetUp().cost(_arrays(params), X, Y)
        if _loss_at_init_flags(J):
            return f"seed {seed}: {J:.3f}, {abs(J / np.log(2) - 1):.0%} off ln 2"
    return "within 10% of ln 2 for seeds 0-4"


def _tiny(args, params):
    (dims,) = args
    X, Y = _unseen()
    flagged, first, last = _tiny_batch(SetUp(layer_dims=tuple(dims)), X, Y, _arrays(params))
    return f"cost {first:.3f} -> {last:.3g}" if flagged else "falls below 1% of its start"


def _seeded(args, value):
    a, b, c = value
    same = all(np.array_equal(a[k], b[k]) for k in a)
    other = any(not np.array_equal(a[k], c[k]) for k in a if k.startswith("W"))
    if not same:
        return "same seed, different params"
    return "reproducible" if other else "different seeds, same params"


_REPAIR = Exercise(
    id="09.repaired_init",
    title="Repair the symmetric set-up",
    function="repaired_init",
    points=3,
    tests=[
        Test("shapes for [2, 16, 16, 1]", args=((2, 16, 16, 1),), call=_init_at_0,
             post=_shapes, shows="repaired_init([2, 16, 16, 1], 0): the shape of each tensor"),
        Test("the gradient-norm check passes", args=((2, 16, 16, 1),), call=_init_at_0,
             post=_flags,
             shows="grad_norm_flags at repaired_init([2, 16, 16, 1], 0), moons(60, seed=3)"),
        Test("the gradient-norm check passes on [3, 8, 6, 1]", args=((3, 8, 6, 1),),
             call=_init_at_0, post=_flags, shows="the same on a [3, 8, 6, 1] net and 3 inputs"),
        Test("loss at init near ln 2", args=((2, 16, 16, 1),), call=_init_at_seeds_0_to_4,
             post=_init_loss,
             shows="loss at repaired_init([2, 16, 16, 1], seed), seeds 0-4, moons(60, seed=3)"),
        Test("overfits a tiny batch", args=((2, 16, 16, 1),), call=_init_at_0, post=_tiny,
             shows="overfits_tiny_batch from repaired_init([2, 16, 16, 1], 0)"),
        Test("the seed decides", args=((2, 16, 16, 1),), call=_init_at_7_7_8, post=_seeded,
             shows="repaired_init(dims, 7) twice, and repaired_init(dims, 8)"),
    ],
    mistakes=[
        Mistake("every unit of a layer starts with the same weights, so each gets the same "
                "gradient and stays a copy of the others (section 2.5).",
                lambda a, got: isinstance(got, str) and "identical rows" in got),
        Mistake("a gradient is exactly zero at your initialization: zero weights, or biases "
                "so negative that every ReLU unit is off (section 2.6), pass no gradient down.",
                lambda a, got: isinstance(got, str) and " zero" in got and "rows" not in got),
        Mistake("your loss at initialization is far from ln 2: the output layer starts too "
                "large, so the first predictions are confident. Section 3.1 compares two "
                "scales of the last W.",
                lambda a, got: isinstance(got, str) and "off ln 2" in got),
        Mistake("your network cannot fit 10 points from this start: look at the scale of "
                "each W against what a ReLU layer needs, and at where the biases start.",
                lambda a, got: isinstance(got, str) and got.startswith("cost ")),
        Mistake("the same seed gave different parameters: some of your numbers come from a "
                "generator that the seed does not control.",
                lambda a, got: got == "same seed, different params"),
        Mistake("use the seed you are given: another seed must give other weights.",
                lambda a, got: got == "different seeds, same params"),
    ],
    hint="Each sanity check asks one thing of the start: units of a layer that differ (section "
         "2.5), units that are alive (2.6), a loss near ln 2 (3.1); reread the healthy set-up.",
)


EXERCISES = [_Q91, _LOSS_AT_INIT, _OVERFIT, _Q92, _NORMS, _Q93, _WHICH, _YOURS, _REPAIR, _Q95]
