"""Lesson 09 specs: each reference passes its own tests, each Mistake fires on the wrong answer
it names and never on the reference, the generic hints, the notebook's answers are the
references, the identification exercise never shows its answer, and the lesson's claims hold
(every broken set-up passes the gradient check; each sanity check flags what the lesson says).

The references are the solution's answer cells (``lessons.reference``); the values of the
``wrong=`` mistakes come from ``solutions/instructor/lesson09.py``. The spec module holds no
answer, and the set-up checks of 9.4 and 9.5 judge what the student's function returned after
the call, so an answer cannot fake their verdicts."""

import ast
import functools
import json
from pathlib import Path

import _lessons as lessons
import nbformat
import numpy as np
import pytest
from _grading import edited, grade_variants

import gradkit as gk
from gradkit.grading import check, plain
from gradkit.grading import lesson09 as L
from gradkit.grading.feedback import expected_value, run_test

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "09_what_checks_miss.ipynb"
SPECS = {e.id: e for e in L.EXERCISES}
FUNCTIONS = [e for e in L.EXERCISES if e.question is None]  # the exercises with tests
QUESTIONS = [e for e in L.EXERCISES if e.question is not None]
X_TRAIN, Y_TRAIN, X_TEST, Y_TEST = L.lesson_data()


def _outcomes(exercise_id, answer):
    return lessons.outcomes(SPECS[exercise_id], answer)


def _shown_hint(exercise_id, wrong):
    """The one hint the check cell shows for ``wrong`` (it must fail)."""
    result = check(exercise_id, wrong)
    assert result.status == "failed", repr(result)
    return result.hint


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_reference_passes_its_own_tests_with_plain_values(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name
        expected_value(exercise, test)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_no_mistake_fires_on_the_reference(exercise):
    for test in exercise.tests:
        got = test.after(test.make_args(),
                         plain.decode(plain.encode(test.run(lessons.reference(exercise)))))
        wrong = lessons.INSTRUCTOR.wrong_values(exercise, test)
        assert exercise.mistake_for(test.make_args(), got, got, wrong) is None, test.name


def test_every_wrong_mistake_has_a_value_on_some_public_test():
    for exercise in FUNCTIONS:
        named = {m.wrong for m in exercise.mistakes if m.wrong}
        found = set().union(*(lessons.INSTRUCTOR.wrong_values(exercise, t)
                              for t in exercise.tests))
        assert named <= found, (exercise.id, named - found)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    lessons.assert_spec_holds_no_answer(L, SOLUTION, exercise.function)


@pytest.mark.parametrize("exercise_id", ["09.which_check", "09.repaired_init"])
def test_the_set_up_checks_judge_after_the_call_and_a_faked_verdict_fails(exercise_id):
    exercise = SPECS[exercise_id]
    for test in exercise.tests:
        assert test.post is not None, test.name
        expected = expected_value(exercise, test)
        returned = plain.decode(plain.encode(test.run(lessons.reference(exercise))))
        assert not plain.compare(returned, expected)[0], test.name  # no verdict in the call
        try:
            faked = test.after(test.make_args(), expected)  # a call that sends the verdict
        except Exception:
            continue
        assert not plain.compare(faked, expected)[0], test.name


def test_the_points_add_up_to_ten_and_thought_weighs_more_than_transcription():
    assert sum(e.points for e in L.EXERCISES) == 10
    assert [e.id for e in L.EXERCISES] == [
        "09.answer_9_1", "09.loss_at_init_ok", "09.overfits_tiny_batch", "09.answer_9_2",
        "09.per_layer_grad_norms", "09.answer_9_3", "09.which_check", "09.which_check_yours",
        "09.repaired_init", "09.answer_9_5"]
    points = {e.id: e.points for e in L.EXERCISES}
    assert all(points[q.id] == 0.5 for q in QUESTIONS if q.id != "09.which_check_yours")
    copied = max(points["09.loss_at_init_ok"], points["09.per_layer_grad_norms"])
    assert min(points["09.which_check"], points["09.which_check_yours"],
               points["09.repaired_init"]) > copied


# ---- 09.loss_at_init_ok ------------------------------------------------------------------

def _with(expected_of, absolute=False, reverse=False, rtol_fixed=None):
    def answer(cost, k, rtol=0.1):
        e = float(expected_of(k))
        r = rtol if rtol_fixed is None else rtol_fixed
        ok = abs(cost - e) <= (r if absolute else r * abs(e))
        return e, (not ok) if reverse else ok
    return answer


@pytest.mark.parametrize(("wrong", "words"), [
    (_with(np.log10), "natural logarithm"),
    (_with(np.log2), "natural logarithm"),
    (_with(lambda k: 1.0 / k), "not 1/k itself"),
    (_with(lambda k: -np.log(k)), "sign of log(1/k)"),
    (_with(np.log, absolute=True), "rtol is relative"),
    (_with(np.log, reverse=True), "the opposite"),
    (_with(np.log, rtol_fixed=0.1), "use the rtol you are given"),
    (lambda cost, k, rtol=0.1: abs(cost - np.log(k)) <= rtol * np.log(k), "two values"),
])
def test_loss_at_init_mistakes_get_their_hint(wrong, words):
    assert words in _shown_hint("09.loss_at_init_ok", wrong)


def test_loss_at_init_generic_hint():
    hint = _shown_hint("09.loss_at_init_ok", _with(lambda k: np.log(k + 1)))
    assert hint == SPECS["09.loss_at_init_ok"].hint


# ---- 09.overfits_tiny_batch --------------------------------------------------------------

def _overfit(how):
    def answer(train_fn, X, Y, m=10, ratio=0.01):
        if how == "defaults":
            m, ratio = 10, 0.01
        cols = {"all": slice(None), "last": slice(-m, None)}.get(how, slice(0, m))
        costs = np.asarray(train_fn(X[:, cols], Y[:, cols]), dtype=float)
        first, last = float(costs[0]), float(costs[-1])
        if how == "min":
            last = float(costs.min())
        ok = last <= (ratio if how == "absolute" else ratio * first)
        if how == "swapped":
            return last, first, ok
        if how == "two":
            return last, ok
        return first, last, ok
    return answer


@pytest.mark.parametrize(("how", "words"), [
    ("all", "first m examples only"),
    ("last", "not the last ones"),
    ("min", "not its smallest"),
    ("absolute", "relative to the starting cost"),
    ("defaults", "use the m and the ratio you are given"),
    ("swapped", "in this order"),
    ("two", "three values"),
])
def test_overfit_mistakes_get_their_hint(how, words):
    assert words in _shown_hint("09.overfits_tiny_batch", _overfit(how))


def test_overfit_generic_hint():
    def any_decrease(train_fn, X, Y, m=10, ratio=0.01):  # a rule no hint describes
        first, last, _ = lessons.reference("09.overfits_tiny_batch")(train_fn, X, Y, m, ratio)
        return first, last, last < first
    assert _shown_hint("09.overfits_tiny_batch", any_decrease) == SPECS[
        "09.overfits_tiny_batch"].hint


def test_overfit_fake_curves_say_what_the_tests_claim():
    X = np.zeros((2, 30))
    X[0, 10:] = 3.0
    assert L._depends_on_columns(X[:, :10], None)[-1] == pytest.approx(0.69 * 0.003)
    assert L._depends_on_columns(X, None)[-1] > 0.1 * 0.69


# ---- 09.per_layer_grad_norms -------------------------------------------------------------

@pytest.mark.parametrize(("wrong", "words"), [
    (lambda g: {k: float(np.sum(v ** 2)) for k, v in g.items()}, "squared norm"),
    (lambda g: {k: float(np.abs(v).max()) for k, v in g.items()}, "largest |entry|"),
    (lambda g: {k: float(np.linalg.norm(v) / np.sqrt(v.size)) for k, v in g.items()},
     "number of entries"),
    (lambda g: {k: float(np.linalg.norm(v, 2)) for k, v in g.items()}, "singular value"),
    (lambda g: {k: float(np.linalg.norm(v)) for k, v in g.items() if k.startswith("W")},
     "the biases too"),
    (lambda g: [float(np.linalg.norm(v)) for v in g.values()], "return a dict"),
])
def test_norm_mistakes_get_their_hint(wrong, words):
    assert words in _shown_hint("09.per_layer_grad_norms", wrong)


def test_norm_generic_hint():
    l1 = lambda g: {k: float(np.abs(v).sum()) for k, v in g.items()}  # noqa: E731
    assert _shown_hint("09.per_layer_grad_norms", l1) == SPECS["09.per_layer_grad_norms"].hint


# ---- 09.which_check: graded by evidence, never showing the answer -------------------------

@functools.cache
def _reference():
    """The solution's answer to Exercise 9.4, ``{letter: check}``."""
    return lessons.reference("09.which_check")()


ALIASES = {
    "gradient_check": ["gradient_check", "gradient check"],
    "loss_at_init": ["loss_at_init", "loss at init", "log 2", "log k"],
    "overfit_tiny_batch": ["overfit_tiny_batch", "tiny batch", "10 points"],
    "l2_raises_cost": ["l2_raises_cost", "lambd", "L2 term"],
    "grad_norms": ["grad_norms", "gradient-norm", "identical rows", "dead"],
}


def test_each_mystery_is_flagged_by_its_reference_check_and_by_no_other():
    for letter, setup in L.MYSTERIES.items():
        flagged = [c for c in L.CHECKS if L.evidence(c, setup)[0]]
        assert flagged == [_reference()[letter]], (letter, flagged)


def test_the_healthy_setup_passes_every_check():
    assert not any(L.evidence(c, L.SetUp())[0] for c in L.CHECKS)


def test_the_expected_value_of_every_test_hides_the_answer():
    exercise = SPECS["09.which_check"]
    for test in exercise.tests:
        assert expected_value(exercise, test) == "flags it"
        assert not any(name in test.shows or name in test.name for name in L.CHECKS)


def test_no_hint_of_the_identification_exercise_contains_the_answer():
    exercise = SPECS["09.which_check"]
    hints = [exercise.hint] + [m.hint for m in exercise.mistakes]
    for hint in hints:
        for letter, answer in _reference().items():
            for text in (f"'{letter}': '{answer}'", f"{letter}: {answer}", repr(_reference())):
                assert text not in hint
    # the generic hint names no check at all, and each Mistake names at most one: the choice
    # it is a hint about, never another one to try
    assert not any(alias in exercise.hint for aliases in ALIASES.values() for alias in aliases)
    for mistake in exercise.mistakes:
        named = {c for c, aliases in ALIASES.items() if any(a in mistake.hint for a in aliases)}
        assert len(named) <= 1, (mistake.hint, named)


@pytest.mark.parametrize("letter", list(L.MYSTERIES))
def test_a_wrong_choice_is_told_what_its_check_printed_and_never_the_answer(letter):
    reference = _reference()
    for choice in L.CHECKS:
        if choice == reference[letter]:
            continue
        answer = dict(reference, **{letter: choice})
        result = check("09.which_check", lambda answer=answer: answer)
        assert result.status == "failed"
        row = [o for o in result.outcomes if o.status == "fail"]
        assert [o.name for o in row] == [f"set-up {letter}"]
        assert row[0].received.startswith(repr(f"{choice} passes it")[:-1])
        assert choice in result.hint or "gradient check" in result.hint
        shown = str(result) + result._repr_html_()
        assert not any(alias in shown for alias in ALIASES[reference[letter]]), (
            letter, choice, shown)


def test_all_wrong_answers_reveal_no_reference_check():
    everything_gradient = {letter: "gradient_check" for letter in L.MYSTERIES}
    result = check("09.which_check", lambda: everything_gradient)
    shown = str(result) + result._repr_html_()
    assert "passes every one of these set-ups" in result.hint
    for answer in _reference().values():
        assert not any(alias in shown for alias in ALIASES[answer]), answer


@pytest.mark.parametrize(("wrong", "words"), [
    (lambda: ["overfit_tiny_batch"] * 4, "one entry per set-up"),
    (lambda: {"A": "overfit_tiny_batch"}, "one entry per set-up"),
    (lambda: dict(_reference(), C="loss at init"), "spelled exactly"),
])
def test_which_check_format_mistakes_get_their_hint(wrong, words):
    assert words in _shown_hint("09.which_check", wrong)


def test_which_check_that_raises_gets_the_generic_hint():
    def which_check():
        return {letter: CHOICES[letter] for letter in L.MYSTERIES}  # noqa: F821
    assert _shown_hint("09.which_check", which_check) == SPECS["09.which_check"].hint


# ---- 09.repaired_init --------------------------------------------------------------------

def _init(weights=None, last=0.1, bias=0.0, seeded=True, use_seed=True):
    def answer(layer_dims, seed):
        rng = np.random.default_rng(seed if use_seed else 0) if seeded else (
            np.random.default_rng())
        params = {}
        L_ = len(layer_dims) - 1
        for l in range(1, L_ + 1):
            n_prev, n = layer_dims[l - 1], layer_dims[l]
            W = np.sqrt(2 / n_prev) * rng.standard_normal((n, n_prev))
            if weights is not None:
                W = np.full((n, n_prev), weights)
            params[f"W{l}"] = W * (last if l == L_ else 1.0)
            params[f"b{l}"] = np.full((n, 1), bias if l < L_ else 0.0)
        return params
    return answer


@pytest.mark.parametrize(("wrong", "words"), [
    (_init(weights=0.1, last=1.0), "same weights"),
    (_init(weights=0.0), "exactly zero"),
    (_init(bias=-5.0), "exactly zero"),
    (_init(last=1.0), "far from ln 2"),
    (_init(seeded=False), "same seed gave different parameters"),
    (_init(use_seed=False), "use the seed you are given"),
])
def test_repair_mistakes_get_their_hint(wrong, words):
    assert words in _shown_hint("09.repaired_init", wrong)


def test_repair_generic_hint_for_transposed_weights():
    def transposed(layer_dims, seed):
        return {k: (v.T if k.startswith("W") else v)
                for k, v in lessons.reference("09.repaired_init")(layer_dims, seed).items()}
    assert SPECS["09.repaired_init"].hint in {
        o.hint for o in _outcomes("09.repaired_init", transposed) if o.status == "fail"}


def test_he_everywhere_misses_ln_2_on_the_unseen_data():
    X, Y = L._unseen()
    costs = [L.SetUp().cost(gk.mlp.init_params([2, 16, 16, 1], seed=s), X, Y) for s in range(5)]
    assert max(abs(c / np.log(2) - 1) for c in costs) > 0.1


# ---- the notebook --------------------------------------------------------------------------

def _cells():
    nb = json.loads(SOLUTION.read_text())
    return [("".join(c["source"]), c) for c in nb["cells"] if c["cell_type"] == "code"]


def _answer_cell(name):
    return lessons.code_cell(SOLUTION, name)


@pytest.mark.parametrize("exercise", FUNCTIONS, ids=lambda e: e.id)
def test_the_notebook_answer_is_the_reference(exercise):
    ns = {"np": np}
    exec(_answer_cell(exercise.function), ns)
    lessons.assert_answer_is_reference(exercise, ns[exercise.function])


def _notebook_functions():
    """Every top-level function the notebook defines, answers included."""
    ns = {"np": np, "gk": gk, "CHECKS": L.CHECKS, "X_train": X_TRAIN, "Y_train": Y_TRAIN,
          "X_test": X_TEST, "Y_test": Y_TEST}
    for src, _ in _cells():
        tree = ast.parse(src)
        defs = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        exec(compile(ast.Module(body=defs, type_ignores=[]), "<notebook>", "exec"), ns)
    return ns


def test_the_notebooks_run_check_agrees_with_the_graders_evidence():
    ns = _notebook_functions()
    for setup in [*L.MYSTERIES.values(), L.SetUp(), L.SetUp(weights="constant"),
                  L.SetUp(l2=0.0), L.SetUp(bias_init=-5.0)]:
        for name in L.CHECKS:
            assert ns["run_check"](name, setup, show=False) == L.evidence(name, setup)[0], (
                setup.name, name)


def test_the_notebook_data_and_mysteries_are_the_specs():
    sources = "\n".join(src for src, _ in _cells())
    assert "gk.datasets.moons(400, noise=0.2, seed=0)" in sources
    assert "train_test_split(X, Y, test_size=0.25, seed=0)" in sources
    assert ("from gradkit.grading.lesson09 import CHECKS, MYSTERIES, N_OWN, OWN_MYSTERIES, "
            "SetUp") in sources
    assert 'v = variant(STUDENT_ID, "09.which_check_yours", N_OWN)' in sources
    assert "YOURS = OWN_MYSTERIES[v]" in sources


def test_every_figure_cell_has_alt_text_and_the_metadata_names_the_lesson():
    nb = json.loads(SOLUTION.read_text())
    five = json.loads((ROOT / "solutions" / "05_regularization_dropout.ipynb").read_text())
    assert nb["metadata"]["gradkit"] == {"lesson": "09_what_checks_miss"}
    assert nb["metadata"]["kernelspec"] == five["metadata"]["kernelspec"]
    for src, cell in _cells():
        figures = sum(1 for o in cell.get("outputs", []) if "image/png" in o.get("data", {}))
        assert len(cell["metadata"].get("alt", [])) == figures, src[:80]
    assert "*Expected time: about 70 minutes.*" in "".join(nb["cells"][0]["source"])


# ---- the lesson's claims -------------------------------------------------------------------

def test_the_healthy_setup_is_gradkits_network():
    setup = L.SetUp()
    params = setup.init_params(3)
    for lambd in (0.0, 0.7):
        J, grads = setup.cost_and_gradients(params, X_TRAIN, Y_TRAIN, lambd)
        J_ref, grads_ref = gk.mlp.cost_and_gradients(params, X_TRAIN, Y_TRAIN, lambd=lambd)
        assert J == pytest.approx(J_ref, rel=1e-12)
        for key in params:
            np.testing.assert_allclose(grads[key], grads_ref[key], rtol=1e-10, atol=1e-15)


def _section2():
    perm = np.random.default_rng(9).permutation(X_TRAIN.shape[1])
    return {
        "MSE loss": (L.SetUp(loss="mse"), X_TRAIN),
        "no activation": (L.SetUp(activation=False), X_TRAIN),
        "misaligned labels": (L.SetUp(), X_TRAIN[:, perm]),
        "constant init": (L.SetUp(weights="constant"), X_TRAIN),
        "zero init": (L.SetUp(weights="zero"), X_TRAIN),
        "dead ReLUs": (L.SetUp(bias_init=-5.0), X_TRAIN),
        "lambd ignored": (L.SetUp(l2=0.0), X_TRAIN),
    }


@pytest.mark.parametrize("label", list(_section2()))
def test_every_broken_setup_passes_the_gradient_check(label):
    setup, X = _section2()[label]
    params = setup.init_params(0)
    for lambd in (0.0, 0.5):
        report = gk.check_gradients(lambda p, lambd=lambd: setup.cost(p, X, Y_TRAIN, lambd),
                                    params,
                                    setup.gradients(params, X, Y_TRAIN, lambd))
        assert report.passed, (label, lambd, str(report))


def test_what_the_bugs_cost_after_1000_epochs():
    healthy = L.SetUp()
    acc = {}
    for label, (setup, X) in {"healthy": (healthy, X_TRAIN), **_section2()}.items():
        trained, _ = setup.train(X, Y_TRAIN, epochs=1000)
        acc[label] = setup.accuracy(trained, X_TEST, Y_TEST)
        if label == "constant init":  # the units stay copies of each other
            assert np.abs(trained["W1"] - trained["W1"][:1]).max() < 1e-12
        if label == "zero init":
            assert max(np.abs(trained[k]).max() for k in ("W1", "W2", "W3")) == 0.0
    assert acc["healthy"] == pytest.approx(0.95)
    assert acc["MSE loss"] >= acc["healthy"]  # no harm by 1000 epochs ...
    assert acc["no activation"] == pytest.approx(0.85)
    assert acc["misaligned labels"] < 0.55
    assert acc["constant init"] == pytest.approx(0.84)
    assert acc["zero init"] == acc["dead ReLUs"] == pytest.approx(float(np.mean(Y_TEST)))


def test_mse_learns_more_slowly():
    accs = {}
    for setup in (L.SetUp(), L.SetUp(loss="mse")):
        trained, _ = setup.train(X_TRAIN, Y_TRAIN, epochs=80)
        accs[setup.loss] = setup.accuracy(trained, X_TEST, Y_TEST)
    assert accs == {"cross_entropy": pytest.approx(0.95), "mse": pytest.approx(0.87)}


def test_loss_at_init_needs_a_small_last_layer():
    he = [gk.mlp.cost(gk.mlp.init_params([2, 16, 16, 1], seed=s), X_TRAIN, Y_TRAIN)
          for s in range(10)]
    small = [L.SetUp().cost(L.SetUp().init_params(s), X_TRAIN, Y_TRAIN) for s in range(10)]
    assert min(he) < 0.62 and max(he) > 0.95
    assert max(abs(c / np.log(2) - 1) for c in small) < 0.03
    mse = L.SetUp(loss="mse")
    assert mse.cost(mse.init_params(0), X_TRAIN, Y_TRAIN) == pytest.approx(0.122, abs=5e-4)


def test_loss_at_init_flags_only_the_mse_setup():
    loss_at_init_ok = lessons.reference("09.loss_at_init_ok")
    flagged = [label for label, (s, X) in _section2().items()
               if not loss_at_init_ok(s.cost(s.init_params(0), X, Y_TRAIN), 2)[1]]
    assert flagged == ["MSE loss"]


def test_the_tiny_batch_flags_what_the_lesson_says_and_memorizes_wrong_labels():
    overfits_tiny_batch = lessons.reference("09.overfits_tiny_batch")
    flagged = [label for label, (s, X) in _section2().items()
               if not overfits_tiny_batch(lambda Xs, Ys, s=s: s.train(Xs, Ys)[1], X, Y_TRAIN)[2]]
    assert flagged == ["no activation", "constant init", "zero init", "dead ReLUs"]
    setup, X = _section2()["misaligned labels"]
    _, costs = setup.train(X, Y_TRAIN, epochs=1000)
    assert costs[-1] > 0.6  # the whole misaligned set stays near ln 2


def test_the_l2_check_flags_lambd_ignored_and_the_zero_init():
    flagged = [label for label, (s, X) in _section2().items()
               if not L.l2_raises_cost(lambda p, lambd, s=s, X=X: s.cost(p, X, Y_TRAIN, lambd),
                                       s.init_params(0))[1]]
    assert flagged == ["zero init", "lambd ignored"]
    params = L.SetUp().init_params(0)
    rise, _ = L.l2_raises_cost(lambda p, lambd: L.SetUp().cost(p, X_TRAIN, Y_TRAIN, lambd),
                               params)
    term = sum(np.sum(params[k] ** 2) for k in ("W1", "W2", "W3")) / (2 * 300)
    assert rise == pytest.approx(term) and round(rise, 3) == 0.094


def test_ignoring_lambd_costs_test_accuracy_on_the_overfitting_data():
    Xo, Yo = gk.datasets.overfit(seed=0)
    Xa, Ya, Xb, Yb = gk.datasets.train_test_split(Xo, Yo, test_size=0.7, seed=0)
    acc = [s.accuracy(s.train(Xa, Ya, lambd=0.5, lr=0.6, epochs=1500)[0], Xb, Yb)
           for s in (L.SetUp(), L.SetUp(l2=0.0))]
    assert [round(a, 2) for a in acc] == [0.86, 0.80]


def test_the_gradient_norms_flag_what_the_lesson_says():
    per_layer_grad_norms = lessons.reference("09.per_layer_grad_norms")
    flagged = {}
    for label, (s, X) in _section2().items():
        grads = s.gradients(s.init_params(0), X, Y_TRAIN)
        flagged[label] = L.grad_norm_flags(grads, per_layer_grad_norms(grads))
        assert L.grad_norm_flags(grads) == flagged[label]  # the norms it computes agree
    assert flagged["constant init"] == ["W1 identical rows", "W2 identical rows"]
    assert flagged["dead ReLUs"] == flagged["zero init"] == [
        "W1 zero", "b1 zero", "W2 zero", "b2 zero", "W3 zero"]
    assert {k for k, v in flagged.items() if v} == {"constant init", "zero init", "dead ReLUs"}


def test_sigmoid_gradients_vanish_towards_the_input():
    deep = [2] + [16] * 6 + [1]
    ratios = {}
    for hidden, scale in (("relu", "he"), ("sigmoid", "xavier")):
        g = gk.mlp.gradients(gk.mlp.init_params(deep, seed=0, scale=scale), X_TRAIN, Y_TRAIN,
                             hidden=hidden)
        norms = [np.linalg.norm(g[f"W{l}"]) for l in range(1, 8)]
        ratios[hidden] = max(norms) / min(norms)
    assert ratios["relu"] < 3 and ratios["sigmoid"] > 1000


def test_dead_units_never_recover():
    setup = L.SetUp(bias_init=-5.0)
    for params in (setup.init_params(0), setup.train(X_TRAIN, Y_TRAIN, epochs=1000)[0]):
        Z1 = params["W1"] @ X_TRAIN + params["b1"]
        Z2 = params["W2"] @ np.maximum(Z1, 0) + params["b2"]
        assert np.all(Z1 <= 0) and np.all(Z2 <= 0)


def test_the_lost_update_never_moves():
    _, costs = L.MYSTERIES["A"].train(X_TRAIN[:, :10], Y_TRAIN[:, :10])
    assert np.all(costs == costs[0]) and round(costs[0], 3) == 0.675


# ---- the questions and predictions ------------------------------------------------------

INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("09")
ANSWERS = {"09.answer_9_1": 0.125, "09.answer_9_2": "c", "09.answer_9_3": "a",
           "09.answer_9_5": "d"}


def _raises():
    raise NotImplementedError


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_a_questions_solution_passes_and_a_stub_is_unanswered(exercise):
    answer = lessons.reference(exercise)
    result = check(exercise.id, answer)
    assert result.status == "passed", repr(result)
    assert result.outcomes[0].expected == "(not shown)"
    assert check(exercise.id, _raises).status == "unanswered"


def test_the_solutions_answers_are_these():
    for exercise_id, value in ANSWERS.items():
        assert lessons.reference(exercise_id)() == value, exercise_id
    assert lessons.reference("09.which_check_yours")() == INSTRUCTOR_FILE.key_which_check_yours(0)


@pytest.mark.parametrize("exercise_id", ["09.answer_9_2", "09.answer_9_3", "09.answer_9_5"])
def test_each_wrong_option_gets_its_own_feedback_and_never_the_answer(exercise_id):
    exercise, answer = SPECS[exercise_id], ANSWERS[exercise_id]
    feedback = INSTRUCTOR_FILE.FEEDBACK[exercise_id]
    assert set(feedback) == set(exercise.question.options) - {answer}
    assert len(set(feedback.values())) == len(feedback)  # each its own
    for option in exercise.question.options:
        result = check(exercise_id, lambda option=option: option)
        outcome = result.outcomes[0]
        assert outcome.expected == "(not shown)"
        if option == answer:
            assert result.status == "passed"
            continue
        assert result.status == "failed"
        assert outcome.hint == feedback[option]
        said = outcome.hint + outcome.why + outcome.expected + result.message
        assert f"{answer!r}" not in said and f"{answer})" not in said
        assert f"expected {answer!r}" not in str(result) + result._repr_html_()
    # letters are not what the answer is: a letter outside the options is told the options
    assert "one of" in check(exercise_id, lambda: "e").outcomes[0].why


def test_the_right_letter_varies_between_questions():
    letters = [ANSWERS[i] for i in ("09.answer_9_2", "09.answer_9_3", "09.answer_9_5")]
    assert len(set(letters)) == 3


@pytest.mark.parametrize(("value", "known"), [
    (0.693, 0.693), (0.69, 0.693), (0.25, 0.25), (0.26, 0.25), (0.5, 0.5), (0.0, 0.0)])
def test_a_known_wrong_mse_prediction_gets_its_feedback(value, known):
    result = check("09.answer_9_1", lambda: value)
    assert result.status == "failed"
    hint = result.outcomes[0].hint
    assert hint == INSTRUCTOR_FILE.FEEDBACK["09.answer_9_1"][known]
    assert "0.125" not in str(result) + result._repr_html_() and "1/8" not in hint


def test_the_mse_prediction_accepts_what_the_cell_prints_and_not_an_unlisted_value():
    for value in (0.125, 0.122, 0.12, 0.13, 1 / 8):
        assert check("09.answer_9_1", lambda value=value: value).status == "passed", value
    result = check("09.answer_9_1", lambda: 0.3)
    assert result.status == "failed"
    assert result.outcomes[0].hint == SPECS["09.answer_9_1"].hint
    assert "return a number" in check("09.answer_9_1", lambda: "an eighth").outcomes[0].why


def test_no_question_feedback_names_its_answer():
    for exercise_id, answer in ANSWERS.items():
        exercise = SPECS[exercise_id]
        texts = [exercise.hint, *INSTRUCTOR_FILE.FEEDBACK[exercise_id].values()]
        for text in texts:
            assert f"{answer})" not in text and f"'{answer}'" not in text
            assert "0.125" not in text and "4000" not in text and "4^6" not in text


def test_the_predictions_are_what_the_lesson_computes():
    # 9.1: every probability near 1/2, so the MSE starts near (1/2)^2 / 2
    J = L.SetUp(loss="mse").cost(L.SetUp().init_params(0), X_TRAIN, Y_TRAIN)
    assert abs(J - ANSWERS["09.answer_9_1"]) <= 0.05 * ANSWERS["09.answer_9_1"]
    assert check("09.answer_9_1", lambda: round(J, 3)).status == "passed"
    # 9.2: c, the misaligned labels fall below 1% of their start on 10 examples
    perm = np.random.default_rng(9).permutation(X_TRAIN.shape[1])
    flagged, first, last = L._tiny_batch(L.SetUp(), X_TRAIN[:, perm], Y_TRAIN)
    assert not flagged and last < 0.01 * first
    # 9.3: a, |dW7| / |dW1| about 4^6 for sigmoid (within a factor of 2), about 1 for ReLU
    deep = [2] + [16] * 6 + [1]
    ratio = {}
    for hidden, scale in (("relu", "he"), ("sigmoid", "xavier")):
        g = gk.mlp.gradients(gk.mlp.init_params(deep, seed=0, scale=scale), X_TRAIN, Y_TRAIN,
                             hidden=hidden)
        ratio[hidden] = np.linalg.norm(g["W7"]) / np.linalg.norm(g["W1"])
    assert 4 ** 6 / 2 < ratio["sigmoid"] < 2 * 4 ** 6 and 1 / 3 < ratio["relu"] < 3


# ---- 09.which_check_yours: a mystery per student -------------------------------------------

@functools.cache
def _found_by_the_lessons_method(v):
    """The checks of the notebook's own run_check (the student's functions) that flag
    variant v's set-up, computed here, apart from the instructor's key."""
    ns = _notebook_functions()
    return [name for name in L.CHECKS if ns["run_check"](name, L.OWN_MYSTERIES[v], show=False)]


@pytest.mark.parametrize("v", range(L.N_OWN))
def test_each_variant_passes_the_gradient_check_and_one_check_flags_it(v):
    setup = L.OWN_MYSTERIES[v]
    params = setup.init_params(0)
    report = gk.check_gradients(lambda p: setup.cost(p, X_TRAIN, Y_TRAIN), params,
                                setup.gradients(params, X_TRAIN, Y_TRAIN))
    assert report.passed
    found = _found_by_the_lessons_method(v)
    assert found == [INSTRUCTOR_FILE.key_which_check_yours(v)], (v, found)
    assert setup.change and setup.change not in {m.change for m in L.MYSTERIES.values()}


def test_the_variants_differ_and_variant_0_is_the_solutions():
    keys = [INSTRUCTOR_FILE.key_which_check_yours(v) for v in range(L.N_OWN)]
    assert keys[0] == lessons.reference("09.which_check_yours")()
    assert sorted(set(keys)) == sorted(L.CHECKS[1:])  # each sanity check is somebody's answer
    assert len({s.change for s in L.OWN_MYSTERIES}) == L.N_OWN
    assert L.own_mystery("") is L.OWN_MYSTERIES[0]


def _student_of_variant(v):
    """A student id whose variant of 09.which_check_yours is ``v`` ("" for 0)."""
    from gradkit.grading.variants import variant

    if v == 0:
        return ""
    return next(f"t{n}" for n in range(5000)
                if variant(f"t{n}", "09.which_check_yours", L.N_OWN) == v)


def _student_with(answer):
    """A student id whose variant's answer is (or, with a "!" prefix, is not) ``answer``."""
    from gradkit.grading.variants import variant

    want, negate = answer.lstrip("!"), answer.startswith("!")
    for n in range(1000):
        sid = f"s{n:04d}"
        key = INSTRUCTOR_FILE.key_which_check_yours(variant(sid, "09.which_check_yours",
                                                            L.N_OWN))
        if (key == want) != negate:
            return sid
    raise AssertionError(answer)


def test_a_student_is_judged_on_their_own_variant():
    from gradkit.grading.feedback import check_exercise
    from gradkit.grading.variants import use_student, variant

    exercise = SPECS["09.which_check_yours"]
    sid = _student_with("!" + lessons.reference("09.which_check_yours")())
    v = variant(sid, exercise.id, L.N_OWN)
    assert v != 0 and L.own_mystery(sid) is L.OWN_MYSTERIES[v]
    theirs = INSTRUCTOR_FILE.key_which_check_yours(v)
    assert check_exercise(exercise, lambda: theirs, student_id=sid).status == "passed"
    default = lessons.reference("09.which_check_yours")
    result = check_exercise(exercise, default, student_id=sid)  # the text's answer: not theirs
    assert result.status == "failed" and result.outcomes[0].expected == "(not shown)"
    assert check_exercise(exercise, default).status == "passed"  # the default variant's
    with use_student(sid):  # check() reads the caller's STUDENT_ID, "" in this module
        assert check(exercise.id, lambda: theirs).status == "failed"
    ns = {"STUDENT_ID": sid, "check": check, "theirs": theirs}  # as in the student's notebook
    exec("result = check('09.which_check_yours', lambda: theirs)", ns)
    assert ns["result"].status == "passed"


@pytest.mark.parametrize("v", range(L.N_OWN))
def test_a_wrong_check_is_told_what_it_printed_on_that_variant_and_never_the_answer(v):
    from gradkit.grading.feedback import check_exercise
    from gradkit.grading.references import Instructor

    exercise = SPECS["09.which_check_yours"]
    answer = INSTRUCTOR_FILE.key_which_check_yours(v)
    entry = Instructor(ROOT / "solutions").question_entry(exercise, v)
    assert len(entry["answer"]) == 1 and len(entry["feedback"]) == len(L.CHECKS) - 1
    sid = _student_of_variant(v)
    whys = set()
    for option in L.CHECKS:
        result = check_exercise(exercise, lambda option=option: option, student_id=sid)
        if option == answer:
            assert result.status == "passed"
            continue
        assert result.status == "failed"
        why = result.outcomes[0].hint
        whys.add(why)
        if option != "gradient_check":
            assert why.startswith(f"{option} passes your set-up (")
            assert L.evidence(option, L.OWN_MYSTERIES[v])[1] in why
        shown = str(result) + result._repr_html_()
        assert not any(alias in shown for alias in ALIASES[answer]), (v, option, shown)
    assert len(whys) == len(L.CHECKS) - 1


def test_a_name_outside_the_checks_is_told_to_spell_one():
    result = check("09.which_check_yours", lambda: "tiny batch")
    assert result.status == "failed"
    assert "spelled as there" in result.outcomes[0].why

# ---- grading a submission ------------------------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    solution = nbformat.read(SOLUTION, as_version=4)
    wrong = edited(solution, "def which_check",
                   lambda _: 'def which_check():\n    return {"A": "overfit_tiny_batch", '
                             '"B": "gradient_check", "C": "grad_norms", "D": "grad_norms"}\n')
    wrong = edited(wrong, "def repaired_init",
                   lambda _: "def repaired_init(layer_dims, seed):\n    return {k: "
                             "np.full_like(v, 0.1) if k[0] == 'W' else v for k, v in "
                             "gk.mlp.init_params(layer_dims, seed=seed).items()}\n")
    # answers that rewrite the spec's checks in their own process, as a student could
    faked = edited(solution, "def which_check",
                   lambda _: "def which_check():\n"
                             "    import gradkit.grading.lesson09 as spec\n"
                             "    spec.evidence = lambda check, setup: (True, '')\n"
                             "    return {letter: 'gradient_check' for letter in 'ABCD'}\n")
    faked = edited(faked, "def repaired_init",
                   lambda _: "def repaired_init(layer_dims, seed):\n"
                             "    import gradkit.grading.lesson09 as spec\n"
                             "    spec.grad_norm_flags = lambda grads, norms=None: []\n"
                             "    spec._loss_at_init_flags = lambda cost: False\n"
                             "    spec._tiny_batch = lambda *a, **k: (False, 1.0, 0.0)\n"
                             "    params = gk.mlp.init_params(layer_dims, seed=0)\n"
                             "    return {k: np.full_like(v, 0.1) if k[0] == 'W' else v\n"
                             "            for k, v in params.items()}\n")
    # a student whose variant's answer is not the text's: graded on their own set-up
    sid = _student_with("!" + lessons.reference("09.which_check_yours")())
    theirs = INSTRUCTOR_FILE.key_which_check_yours(L.OWN_MYSTERIES.index(L.own_mystery(sid)))
    with_id = edited(solution, 'STUDENT_ID = ""', lambda _: f"STUDENT_ID = {sid!r}\n")
    own = edited(with_id, "def which_check_yours",
                 lambda _: f"def which_check_yours():\n    return {theirs!r}\n")
    return grade_variants(tmp_path_factory.mktemp("lesson09"), "09_what_checks_miss",
                          {"correct": solution, "wrong": wrong, "faked": faked,
                           "own": own, "copied": with_id}, timeout=20.0)


def test_grader_gives_the_solution_full_marks(graded):
    sub = graded["correct"]
    assert sub.error is None and sub.score == sub.max_score == 10


def test_grader_judges_a_student_on_their_own_variant(graded):
    own, copied = graded["own"].exercise_scores(), graded["copied"].exercise_scores()
    assert graded["own"].score == 10 and own["09.which_check_yours"] == 1.5
    # the default variant's answer, handed in with an id whose set-up is another: no points
    assert copied["09.which_check_yours"] == 0 and graded["copied"].score == 10 - 1.5
    output = next(t.output for t in graded["copied"].tests
                  if t.exercise == "09.which_check_yours")
    answer = INSTRUCTOR_FILE.key_which_check_yours(
        L.OWN_MYSTERIES.index(L.own_mystery(graded["copied"].student_id)))
    assert answer not in output and "passes your set-up" in output


def test_grader_judges_the_set_ups_itself_so_a_faked_check_earns_nothing(graded):
    sub = graded["faked"]
    scores = sub.exercise_scores()
    assert scores["09.which_check"] == 0
    failed = {t.name.split(": ", 1)[1] for t in sub.tests
              if t.exercise == "09.repaired_init" and t.output != "passed"}
    # what a constant init fails honestly (its loss at init and tiny batch are fine)
    assert failed == {"the gradient-norm check passes", "the seed decides",
                      "the gradient-norm check passes on [3, 8, 6, 1]"}, failed
    assert scores["09.repaired_init"] == graded["wrong"].exercise_scores()["09.repaired_init"]


def test_grader_gives_partial_credit_per_setup_and_zero_to_a_constant_init(graded):
    scores = graded["wrong"].exercise_scores()
    assert scores["09.which_check"] == pytest.approx(1.5 * 2 / 4)
    assert scores["09.repaired_init"] < 3
    assert scores["09.loss_at_init_ok"] == 0.5 and scores["09.overfits_tiny_batch"] == 1


# ---- Question 9.5: what tanh cures ----------------------------------------------------------

def test_question_9_5_tanh_revives_dead_units_but_not_zero_weights():
    dims = [2, 16, 16, 1]
    zero = {k: np.zeros_like(v) for k, v in gk.mlp.init_params(dims, seed=0).items()}
    grads = gk.mlp.gradients(zero, X_TRAIN, Y_TRAIN, hidden="tanh")
    assert [k for k, g in grads.items() if np.any(g != 0)] == ["b3"]
    negative = L.SetUp(bias_init=-5.0).init_params(0)
    grads = gk.mlp.gradients(negative, X_TRAIN, Y_TRAIN, hidden="tanh")
    assert all(np.linalg.norm(grads[k]) > 0 for k in grads)
    assert 1 - np.tanh(5.0) ** 2 == pytest.approx(1.8e-4, rel=0.01)
