"""Lesson 11 specs: the references pass, each Mistake fires on the bug it names, the
as-found code of the notebook fails its exercises, and training separates the repaired
network (target reached with margin) from the buggy one (target missed)."""

import json
from pathlib import Path

import _lessons as lessons
import numpy as np
import pytest

import gradkit as gk
from gradkit.grading import lesson11 as L
from gradkit.grading import plain
from gradkit.grading.feedback import public_values, run_test

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "11_capstone.ipynb"
SPECS = {e.id: e for e in L.EXERCISES}


def _reference(name):
    """The notebook's answer ``name`` (its answer cells run together, as the grader does)."""
    return lessons.reference(f"11.{name}")


def _found():
    """The notebook's "as found" functions, executed from its provided cells."""
    nb = json.loads((ROOT / "solutions" / "11_capstone.ipynb").read_text())
    ns = {"np": np}
    for cell in nb["cells"]:
        src = "".join(cell["source"])
        if cell["cell_type"] == "code" and ("def found_backward(" in src or "def forward(" in src):
            exec(src, ns)
    return ns


@pytest.fixture(scope="module")
def found():
    return _found()


def _outcomes(exercise_id, fn):
    exercise = SPECS[exercise_id]
    return {t.name: run_test(exercise, t, fn) for t in exercise.tests}


@pytest.mark.parametrize("exercise", L.EXERCISES, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name


@pytest.mark.parametrize("exercise", L.EXERCISES, ids=lambda e: e.id)
def test_no_mistake_fires_on_the_reference(exercise):
    for test in exercise.tests:
        expected, wrong, _ = public_values(exercise, test)
        assert exercise.mistake_for(test.make_args(), expected, expected, wrong) is None


@pytest.mark.parametrize("exercise", L.EXERCISES, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    source = Path(L.__file__).read_text(encoding="utf-8")
    lines = lessons.solution_lines(SOLUTION, exercise.function)
    assert lines, exercise.id
    assert [line for line in lines if line in source] == []


def test_notebook_forward_is_the_graders_forward(found):
    params = L.init_params(L.LAYER_DIMS, np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((2, 30))
    a = found["forward"](params, X, 0.8, np.random.default_rng(2))
    b = L.forward(params, X, 0.8, np.random.default_rng(2))
    assert np.array_equal(a[0], b[0])


def test_reference_backward_matches_an_independent_oracle():
    import gradkit as gk

    params = L.init_params(L.LAYER_DIMS, np.random.default_rng(3))
    X, Y = gk.datasets.moons(30, seed=9)
    for lambd, keep_prob in [(0.0, 1.0), (0.4, 1.0), (0.4, 0.8)]:
        _, cache = L.forward(params, X, keep_prob, np.random.default_rng(4))
        grads = _reference("backward")(params, cache, Y, lambd, keep_prob)
        # the same net in gradkit.mlp (its cost is independent code), dropout off
        if keep_prob == 1.0:
            oracle = gk.mlp.gradients(params, X, Y, lambd=lambd)
            for key in params:
                np.testing.assert_allclose(grads[key], oracle[key], rtol=1e-7, atol=1e-12)
        report = gk.check_gradients(
            lambda p, lambd=lambd, keep_prob=keep_prob: _reference("compute_cost")(
                L.forward(p, X, keep_prob, np.random.default_rng(4))[0], Y, p, lambd),
            params, grads)
        assert report.passed, report


def test_found_cost_fails_with_the_missing_l2_hint(found):
    out = _outcomes("11.compute_cost", found["found_compute_cost"])
    assert out["cost value, lambd = 0 (unseen data)"].status == "pass"  # invisible without L2
    assert "L2 term is still missing" in out["cost value, lambd = 0.7 (unseen data)"].hint
    assert out["gradient check with L2 passes (unseen data)"].status == "fail"


def test_found_dropout_fails_with_the_rescale_hint(found):
    out = _outcomes("11.dropout_backward", found["found_dropout_backward"])
    assert "not rescaled" in out["a (4, 6) gradient, keep_prob = 0.7"].hint
    assert out["gradient check with one fixed mask passes (unseen data)"].status == "fail"


def _only_backward_bug():
    ns = _found()  # a fresh namespace: found_backward looks its helper up here
    ns["found_dropout_backward"] = _reference("dropout_backward")
    return ns["found_backward"]


def test_found_backward_fails_every_test():
    out = _outcomes("11.backward", _only_backward_bug())
    assert all(o.status == "fail" for o in out.values()), out
    assert "only dW1 is off" in out["gradients, lambd = 0.3, dropout off (unseen data)"].hint


def _verdict_tests():
    return [(e, t) for e in L.EXERCISES for t in e.tests
            if isinstance(public_values(e, t)[0], bool)]


@pytest.mark.parametrize(("exercise", "test"), _verdict_tests(),
                         ids=lambda v: getattr(v, "id", getattr(v, "name", "")))
def test_every_verdict_is_computed_after_the_call_from_plain_values(exercise, test):
    raw = test.run(lessons.reference(exercise))
    assert test.post is not None and not isinstance(raw, bool)
    assert test.after(test.make_args(), plain.decode(plain.encode(raw))) is True


def _found_answers():
    ns = _found()
    return {"11.compute_cost": ns["found_compute_cost"], "11.backward": _only_backward_bug(),
            "11.dropout_backward": ns["found_dropout_backward"]}


@pytest.mark.parametrize(("exercise", "test"), _verdict_tests(),
                         ids=lambda v: getattr(v, "id", getattr(v, "name", "")))
def test_a_check_faked_in_the_students_process_does_not_pass(exercise, test, monkeypatch):
    """The old hole: a student's code that replaces gradkit's checker by one that always
    passes. The call runs with it, the verdict is computed afterwards without it."""
    class Passed:
        passed, verdict = True, "pass"

    with monkeypatch.context() as patched:
        patched.setattr(gk, "check_gradients", lambda *args, **kwargs: Passed())
        value = plain.decode(plain.encode(test.run(_found_answers()[exercise.id])))
    try:
        verdict = test.after(test.make_args(), value)
    except ValueError as exc:  # the replayed check asks for costs that were never recorded
        assert "more costs" in str(exc)
    else:
        assert verdict is False


@pytest.mark.parametrize("wrong, words", [
    (lambda dA, D, kp: dA / kp, "mask is missing"),
    (lambda dA, D, kp: dA * D * kp, "multiplied by keep_prob"),
])
def test_dropout_mistakes_are_named(wrong, words):
    out = _outcomes("11.dropout_backward", wrong)
    assert words in out["a (4, 6) gradient, keep_prob = 0.7"].hint


def test_cost_l2_with_wrong_factor_is_named():
    def half_lambda(AL, Y, params, lambd):
        m = Y.shape[1]
        return _reference("compute_cost")(AL, Y, params, 0.0) + lambd / 2 * sum(
            np.sum(params[k] ** 2) for k in ("W1", "W2", "W3")) + 0 * m
    out = _outcomes("11.compute_cost", half_lambda)
    assert "m times too large" in out["cost value, lambd = 0.7 (unseen data)"].hint
    assert "2m times" not in out["cost value, lambd = 0.7 (unseen data)"].hint

    def whole_lambda(AL, Y, params, lambd):  # no 1/(2m) at all
        return _reference("compute_cost")(AL, Y, params, 0.0) + lambd * sum(
            np.sum(params[k] ** 2) for k in ("W1", "W2", "W3"))
    out = _outcomes("11.compute_cost", whole_lambda)
    assert "2m times too large" in out["cost value, lambd = 0.7 (unseen data)"].hint


def _held_out_accuracy(backward_fn):
    X, Y = L._unseen_data(400, 714)  # the data of the spec's training test
    Xt, Yt = L._unseen_data(400, 814)
    with np.errstate(all="ignore"):
        return L.accuracy(L.train(X, Y, backward_fn), Xt, Yt)


def test_training_separates_repaired_from_buggy(found):
    reference = _held_out_accuracy(_reference("backward"))
    assert reference >= L.TARGET_ACCURACY + 0.04  # reached with margin
    assert _held_out_accuracy(found["found_backward"]) < L.TARGET_ACCURACY - 0.2  # all bugs
    assert _held_out_accuracy(_only_backward_bug()) < L.TARGET_ACCURACY - 0.05  # that bug alone


def test_notebook_script_with_found_code_misses_the_target(found):
    nb = json.loads((ROOT / "solutions" / "11_capstone.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))
    found_acc = float(text.split("as found: test accuracy ")[1].split()[0])
    repaired_acc = float(text.split("repaired: test accuracy ")[1].split()[0])
    assert found_acc < L.TARGET_ACCURACY <= repaired_acc - 0.04


def test_the_dropout_layer_alone_shows_the_keep_prob_bug_and_clears_the_repair(found):
    import gradkit as gk

    rng = np.random.default_rng(2)
    D = rng.random((16, 40)) < 0.8
    A = rng.standard_normal((16, 40))

    def layer_check(backward_fn):
        return gk.check_vjp(lambda v: v["A"] * D / 0.8,
                            lambda v, dout: {"A": backward_fn(dout, D, 0.8)}, {"A": A})

    as_found = layer_check(found["found_dropout_backward"])
    assert as_found.verdict == "fail" and as_found.kinds() == ["scale"]
    assert abs(as_found.findings[0].value - 0.8) < 1e-6
    assert layer_check(_reference("dropout_backward")).verdict == "pass"
