"""Lesson 11 specs: the references pass, each Mistake fires on the bug it names, every
version of the as-found script fails the exercise that repairs it, the harness is graded
on the grader's side from returned numbers, and each question's key is what the lesson's
own checks find in that variant's script."""

import json
from pathlib import Path

import _lessons as lessons
import numpy as np
import pytest

import gradkit as gk
from gradkit.grading import lesson11 as L
from gradkit.grading import plain
from gradkit.grading.feedback import check_exercise, public_values, run_test
from gradkit.grading.variants import use_student, variant

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "11_capstone.ipynb"
SPECS = {e.id: e for e in L.EXERCISES}
CODE = [e for e in L.EXERCISES if e.question is None]
QUESTIONS = [e for e in L.EXERCISES if e.question is not None]
VERSIONS = [k for _, _, _, k in L.SCRIPT_PIECES]


def _reference(name):
    """The notebook's answer ``name`` (its answer cells run together, as the grader does)."""
    return lessons.reference(f"11.{name}")


def _found(versions=(0, 0, 0), dropout=None):
    """The as-found functions of these versions; ``dropout``, if given, is what
    found_backward calls in place of found_dropout_backward."""
    namespace = {"np": np}
    exec(L.as_found_script(versions), namespace)
    if dropout is not None:
        namespace["found_dropout_backward"] = dropout
    return namespace


def _outcomes(exercise_id, fn):
    exercise = SPECS[exercise_id]
    return {t.name: run_test(exercise, t, fn) for t in exercise.tests}


def _student_whose(piece, wanted):
    """A student id whose version of as-found function ``piece`` (0 cost, 1 dropout,
    2 backward) satisfies ``wanted``."""
    return next(s for s in ("", *(f"s{k:04d}" for k in range(400)))
                if wanted(L.script_versions(s)[piece]))


def _hints(exercise_id, fn):
    return {name: o.hint for name, o in _outcomes(exercise_id, fn).items() if o.status == "fail"}


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_no_mistake_fires_on_the_reference(exercise):
    for test in exercise.tests:
        expected, wrong, _ = public_values(exercise, test)
        assert exercise.mistake_for(test.make_args(), expected, expected, wrong) is None


def _as_found_lines():
    """Every line any as-found script shows (a student sees their own in the notebook)."""
    lines = set()
    for c in range(VERSIONS[0]):
        for d in range(VERSIONS[1]):
            for b in range(VERSIONS[2]):
                lines |= {line.strip() for line in L.as_found_script((c, d, b)).splitlines()}
    return lines


@pytest.mark.parametrize("exercise", CODE, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    """No line of an answer is in the spec, except those the as-found script shows anyway;
    the repair itself (the line no version of the script has) is never there."""
    source = Path(L.__file__).read_text(encoding="utf-8")
    lines = lessons.solution_lines(SOLUTION, exercise.function)
    assert lines, exercise.id
    shown = _as_found_lines()
    assert [line for line in lines if line in source and line not in shown] == []


def test_each_repair_is_a_line_no_version_of_the_script_has():
    shown = _as_found_lines()
    for function, fixes in [("dropout_backward", ["return dA * D / keep_prob"]),
                            ("compute_cost", ["return float(cross_entropy + l2)"])]:
        lines = lessons.solution_lines(SOLUTION, function) + fixes
        assert any(line not in shown for line in lines), function


def test_notebook_forward_is_the_graders_forward():
    ns = {"np": np}
    nb = json.loads(SOLUTION.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and "def forward(" in "".join(cell["source"]):
            exec("".join(cell["source"]), ns)
    params = L.init_params(L.LAYER_DIMS, np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((2, 30))
    a = ns["forward"](params, X, 0.8, np.random.default_rng(2))
    b = L.forward(params, X, 0.8, np.random.default_rng(2))
    assert np.array_equal(a[0], b[0])


def test_reference_backward_matches_an_independent_oracle():
    params = L.init_params(L.LAYER_DIMS, np.random.default_rng(3))
    X, Y = gk.datasets.moons(30, seed=9)
    for lambd, keep_prob in [(0.0, 1.0), (0.4, 1.0), (0.4, 0.8)]:
        _, cache = L.forward(params, X, keep_prob, np.random.default_rng(4))
        grads = _reference("backward")(params, cache, Y, lambd, keep_prob)
        # the same net in gradkit.mlp (independent code), with the cache's masks
        oracle = L._library_gradients(None, params, cache, Y, lambd, keep_prob)
        for key in params:
            np.testing.assert_allclose(grads[key], oracle[key], rtol=1e-7, atol=1e-12)
        if keep_prob == 1.0:
            plain_oracle = gk.mlp.gradients(params, X, Y, lambd=lambd)
            for key in params:
                np.testing.assert_allclose(grads[key], plain_oracle[key], rtol=1e-7, atol=1e-12)
        report = gk.check_gradients(
            lambda p, lambd=lambd, keep_prob=keep_prob: _reference("compute_cost")(
                L.forward(p, X, keep_prob, np.random.default_rng(4))[0], Y, p, lambd),
            params, grads, progress=False)
        assert report.passed, report


def test_the_script_has_36_combinations_and_the_empty_id_gets_the_solutions():
    scripts = {L.as_found_script((c, d, b)) for c in range(3) for d in range(3)
               for b in range(4)}
    assert len(scripts) == 36
    assert L.script_versions("") == (0, 0, 0)
    seen = {L.script_versions(f"s{k:04d}") for k in range(400)}
    assert len(seen) == 36  # students meet every combination
    for _, key, n, k in L.SCRIPT_PIECES:
        assert {variant(f"s{i}", key, n) % k for i in range(200)} == set(range(k))


def test_the_notebook_shows_the_script_of_the_empty_id():
    nb = json.loads(SOLUTION.read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))
    assert L.as_found_script((0, 0, 0)).strip() in text


# ---- every version of each as-found function fails its repair exercise, with its hint

@pytest.mark.parametrize(("version", "words"), [
    (0, "sums the squares of the wrong tensors"),
    (1, "2 times too large"),
    (2, "leaves out one weight matrix"),
])
def test_each_found_cost_fails_with_its_hint(version, words):
    fn = _found((version, 0, 0))["found_compute_cost"]
    with use_student(_student_whose(0, lambda v: v != version)):  # another's bug: named
        out = _outcomes("11.compute_cost", fn)
    assert out["cost value, lambd = 0 (unseen data)"].status == "pass"  # invisible without L2
    assert words in out["cost value, lambd = 0.7 (unseen data)"].hint
    assert out["gradient check with L2 passes (unseen data)"].status == "fail"
    with use_student(_student_whose(0, lambda v: v == version)):  # one's own: not named
        hint = _outcomes("11.compute_cost", fn)["cost value, lambd = 0.7 (unseen data)"].hint
    assert hint.startswith("that is what your found_compute_cost returns") and words not in hint


def test_the_cost_hints_tell_the_other_factors_apart():
    def whole_lambda(AL, Y, params, lambd):  # no 1/(2m) at all
        return _reference("compute_cost")(AL, Y, params, 0.0) + lambd * sum(
            np.sum(params[k] ** 2) for k in ("W1", "W2", "W3"))

    def half_lambda(AL, Y, params, lambd):  # the 1/2, not the 1/m
        return _reference("compute_cost")(AL, Y, params, 0.0) + lambd / 2 * sum(
            np.sum(params[k] ** 2) for k in ("W1", "W2", "W3"))

    def no_l2(AL, Y, params, lambd):
        return _reference("compute_cost")(AL, Y, params, 0.0)

    name = "cost value, lambd = 0.7 (unseen data)"
    assert "2m times too large" in _outcomes("11.compute_cost", whole_lambda)[name].hint
    hint = _outcomes("11.compute_cost", half_lambda)[name].hint
    assert "m times too large" in hint and "2m times" not in hint
    assert "still missing" in _outcomes("11.compute_cost", no_l2)[name].hint


@pytest.mark.parametrize(("version", "words"), [
    (0, "not rescaled"),
    (1, "multiplied by keep_prob"),
    (2, "mask is missing"),
])
def test_each_found_dropout_fails_with_its_hint(version, words):
    fn = _found((0, version, 0))["found_dropout_backward"]
    with use_student(_student_whose(1, lambda v: v != version)):  # another's bug: named
        out = _outcomes("11.dropout_backward", fn)
    assert words in out["a (4, 6) gradient, keep_prob = 0.7"].hint
    assert out["gradient check with one fixed mask passes (unseen data)"].status == "fail"
    with use_student(_student_whose(1, lambda v: v == version)):  # one's own: not named
        hint = _outcomes("11.dropout_backward", fn)["a (4, 6) gradient, keep_prob = 0.7"].hint
    assert hint.startswith("that is what your found_dropout_backward returns")
    assert words not in hint


def _only_backward_bug(version):
    return _found((0, 0, version), dropout=_reference("dropout_backward"))["found_backward"]


@pytest.mark.parametrize(("version", "test", "words"), [
    (1, "gradients, lambd = 0, one fixed dropout mask (unseen data)", "only layer 1's"),
    (2, "gradients, lambd = 0.3, dropout off (unseen data)", "only dW2 is off"),
    (3, "gradients, lambd = 0.3, dropout off (unseen data)", "only layer 1's"),
])
def test_each_found_backward_fails_with_its_hint(version, test, words):
    out = _outcomes("11.backward", _only_backward_bug(version))
    assert words in out[test].hint
    assert out[test].status == "fail"


@pytest.mark.parametrize("version", range(4))
def test_every_found_backward_fails_a_gradient_test(version):
    out = _outcomes("11.backward", _only_backward_bug(version))
    gradient_tests = [name for name in out if name.startswith("gradients")]
    assert any(out[name].status == "fail" for name in gradient_tests), out


def test_the_old_dw1_bug_still_gets_its_hint():
    def backward_missing_m(params, cache, Y, lambd, keep_prob):
        grads = _reference("backward")(params, cache, Y, lambd, keep_prob)
        m = cache[0].shape[1]
        grads["W1"] = grads["W1"] + (m - 1) * (grads["W1"] - lambd / m * params["W1"])
        return grads
    out = _outcomes("11.backward", backward_missing_m)
    assert "only dW1 is off" in out["gradients, lambd = 0.3, dropout off (unseen data)"].hint


def _held_out_accuracy(backward_fn):
    X, Y = L._unseen_data(400, 714)  # the data of the spec's training test
    Xt, Yt = L._unseen_data(400, 814)
    with np.errstate(all="ignore"):
        return L.accuracy(L.train(X, Y, backward_fn, keep_prob=1.0), Xt, Yt)


def test_training_separates_repaired_from_the_default_script():
    assert _held_out_accuracy(_reference("backward")) >= L.TARGET_ACCURACY + 0.04
    assert _held_out_accuracy(_found()["found_backward"]) < L.TARGET_ACCURACY - 0.2
    assert _held_out_accuracy(_only_backward_bug(0)) < L.TARGET_ACCURACY - 0.2


def test_notebook_script_with_found_code_misses_the_target():
    nb = json.loads(SOLUTION.read_text())
    text = "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))
    found_acc = float(text.split("as found: test accuracy ")[1].split()[0])
    repaired_acc = float(text.split("repaired: test accuracy ")[1].split()[0])
    assert found_acc < L.TARGET_ACCURACY <= repaired_acc - 0.04


# ---- verdicts are computed on the grader's side

def _verdict_tests():
    return [(e, t) for e in CODE for t in e.tests if t.post is not None]


@pytest.mark.parametrize(("exercise", "test"), _verdict_tests(),
                         ids=lambda v: getattr(v, "id", getattr(v, "name", "")))
def test_every_verdict_is_computed_after_the_call_from_plain_values(exercise, test):
    raw = test.run(lessons.reference(exercise))
    assert not isinstance(raw, (bool, str))
    expected = public_values(exercise, test)[0]
    assert test.after(test.make_args(), plain.decode(plain.encode(raw))) == expected


def _found_answers():
    ns = _found()

    def harness_without_masks(cost_fn, backward_fn, params, X, Y, batch, lambd, keep_prob,
                              mask_seed):
        return _reference("make_check")(cost_fn, backward_fn, params, X, Y, batch, lambd,
                                        keep_prob, None)
    return {"11.compute_cost": ns["found_compute_cost"], "11.backward": _only_backward_bug(0),
            "11.dropout_backward": ns["found_dropout_backward"],
            "11.make_check": harness_without_masks}


@pytest.mark.parametrize(("exercise", "test"), _verdict_tests(),
                         ids=lambda v: getattr(v, "id", getattr(v, "name", "")))
def test_a_check_faked_in_the_students_process_does_not_pass(exercise, test, monkeypatch):
    """A student's code that replaces gradkit's checker by one that always passes: the
    call runs with it, the verdict is computed afterwards without it."""
    class Passed:
        passed, verdict = True, "pass"

    expected = public_values(exercise, test)[0]
    with monkeypatch.context() as patched:
        patched.setattr(gk, "check_gradients", lambda *args, **kwargs: Passed())
        value = plain.decode(plain.encode(test.run(_found_answers()[exercise.id])))
    try:
        verdict = test.after(test.make_args(), value)
    except ValueError as exc:  # the replayed check asks for costs that were never recorded
        assert "more costs" in str(exc)
    else:
        if exercise.id == "11.make_check" and expected == "fail":
            return  # a buggy net fails with any harness: nothing to fake there
        assert verdict != expected


# ---- the harness

def _harness(*, batch=None, lambd=None, keep_prob=None, seed="same", grads_seed="same",
             grads_batch=None):
    """The reference harness with one thing changed."""
    forward = L.forward

    def make_check(cost_fn, backward_fn, params, X, Y, b, lam, kp, mask_seed):
        b = b if batch is None else batch(X)
        lam = lam if lambd is None else lambd
        kp = kp if keep_prob is None else keep_prob
        f_seed = mask_seed if seed == "same" else seed
        g_seed = mask_seed if grads_seed == "same" else grads_seed
        Xb, Yb = X[:, :b], Y[:, :b]
        gb = b if grads_batch is None else grads_batch(X)

        def f(p):
            return cost_fn(forward(p, Xb, kp, np.random.default_rng(f_seed))[0], Yb, p, lam)

        _, cache = forward(params, X[:, :gb], kp, np.random.default_rng(g_seed))
        return f, backward_fn(params, cache, Y[:, :gb], lam, kp)
    return make_check


@pytest.mark.parametrize(("wrong", "failing", "words"), [
    (_harness(seed=None), [2, 4], "inconclusive"),
    (_harness(lambd=0.0), [1, 2, 3], "got another lambd"),
    (_harness(keep_prob=1.0), [2, 4], "did not run with the dropout"),
    (_harness(batch=lambda X: X.shape[1]), [0, 1, 2, 3, 4], "more (or fewer) examples"),
    (_harness(grads_seed=99), [2], "do not see the same thing"),
])
def test_each_wrong_harness_fails_where_it_should_with_its_hint(wrong, failing, words):
    exercise = SPECS["11.make_check"]
    out = [run_test(exercise, t, wrong) for t in exercise.tests]
    assert [i for i, o in enumerate(out) if o.status == "fail"] == failing
    assert all(words in out[i].hint for i in failing), [out[i].hint for i in failing]


def test_a_harness_whose_gradients_see_another_batch_fails_on_a_correct_net():
    exercise = SPECS["11.make_check"]
    out = [run_test(exercise, t, _harness(grads_batch=lambda X: 20)) for t in exercise.tests]
    assert out[0].status == "fail"


def test_the_harness_verdict_names_what_was_handed_over():
    test = SPECS["11.make_check"].tests[1]
    args = test.make_args()
    value = plain.decode(plain.encode(test.run(_harness(lambd=0.0))))
    assert test.after(args, value) == "the cost got lambd = 0, not 0.5"


def test_the_notebooks_check_model_uses_the_students_harness():
    source = lessons.code_cell(SOLUTION, "check_model")
    assert "make_check(" in source and "check_gradients" in source


# ---- questions

ANSWERS = {q.id: q for q in QUESTIONS}


def _answer(exercise):
    return lessons.reference(exercise)()


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solutions_answer_passes_and_a_stub_is_unanswered(exercise):
    answer = lessons.reference(exercise)
    assert check_exercise(exercise, answer).status == "passed"

    def stub():
        raise NotImplementedError

    assert check_exercise(exercise, stub).status == "unanswered"


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_each_wrong_option_gets_its_own_feedback_and_never_the_answer(exercise):
    answer = _answer(exercise)
    whys = {}
    for option in exercise.question.options:
        if option == answer:
            continue
        result = check_exercise(exercise, lambda option=option: option)
        assert result.status == "failed", option
        o = result.outcomes[0]
        assert o.expected == "(not shown)"
        said = o.expected + o.why + o.hint  # the options themselves are in the input shown
        assert f"'{answer}'" not in said and f'"{answer}"' not in said
        assert f"({answer})" not in said and f"expected {answer!r}" not in repr(result)
        whys[option] = o.hint
    assert len(set(whys.values())) == len(whys), whys  # one explanation per wrong option


def test_a_letter_outside_the_options_is_told_what_to_answer():
    result = check_exercise(SPECS["11.answer_11_1"], lambda: "e")
    assert "one of" in result.outcomes[0].why


def _steps_first_failure(backward_fn):
    """The notebook's method for Question 11.3: steps 1 to 3 through the solution's harness,
    with the solution's cost; the letter of the first step that fails."""
    make_check = _reference("make_check")
    X, Y = gk.datasets.moons(400, noise=0.2, seed=3)
    params = L.init_params(L.LAYER_DIMS, np.random.default_rng(1))
    for letter, lambd, keep_prob in [("a", 0.0, 1.0), ("b", 0.5, 1.0), ("c", 0.0, 0.8)]:
        f, grads = make_check(_reference("compute_cost"), backward_fn, params, X, Y, 40, lambd,
                              keep_prob, 0)
        if not gk.check_gradients(f, params, grads, progress=False).passed:
            return letter
    return "d"


def _layer_finding(dropout_fn):
    """The notebook's step 4 for Question 11.4: check_vjp of the layer alone."""
    rng = np.random.default_rng(2)
    D = rng.random((16, 40)) < 0.8
    A = rng.standard_normal((16, 40))
    report = gk.check_vjp(lambda v: v["A"] * D / 0.8,
                          lambda v, dout: {"A": dropout_fn(dout, D, 0.8)}, {"A": A},
                          progress=False)
    if report.passed:
        return "d"
    if report.kinds() == ["scale"]:
        factor = report.findings[0].value
        return {0.64: "a", 0.8: "c"}[round(factor, 6)]
    return "b"


def _cost_finding(cost_fn):
    """Question 11.5's method: the found cost with the solution's backward, L2 on."""
    make_check = _reference("make_check")
    X, Y = gk.datasets.moons(400, noise=0.2, seed=3)
    params = L.init_params(L.LAYER_DIMS, np.random.default_rng(1))
    f, grads = make_check(cost_fn, _reference("backward"), params, X, Y, 40, 0.5, 1.0, 0)
    report = gk.check_gradients(f, params, grads, progress=False)
    if report.passed:
        return "d"
    if report.failing == ["W3"]:
        return "a"
    return {"extra_l2": "b", "missing_l2": "c"}[report.kinds()[0]]


def _method(exercise_id, v):
    piece = {"11.answer_11_5": 0, "11.answer_11_4": 1, "11.answer_11_3": 2}[exercise_id]
    versions = [0, 0, 0]
    versions[piece] = v % VERSIONS[piece]
    if piece == 2:
        return _steps_first_failure(
            _found(versions, dropout=_reference("dropout_backward"))["found_backward"])
    if piece == 1:
        return _layer_finding(_found(versions)["found_dropout_backward"])
    return _cost_finding(_found(versions)["found_compute_cost"])


VARIANT_QUESTIONS = [q for q in QUESTIONS if q.question.variants]


@pytest.mark.parametrize("exercise", VARIANT_QUESTIONS, ids=lambda e: e.id)
def test_every_variants_key_is_what_the_lessons_checks_find(exercise):
    keys = [lessons.INSTRUCTOR.question_answer(exercise, v)
            for v in range(exercise.question.variants)]
    found = [_method(exercise.id, v) for v in range(exercise.question.variants)]
    assert keys == found
    assert keys[0] == _answer(exercise)  # variant 0 is the solution's
    assert len(set(keys)) >= 3  # the versions have different answers


@pytest.mark.parametrize("exercise", VARIANT_QUESTIONS, ids=lambda e: e.id)
def test_a_student_is_checked_against_their_own_variant(exercise):
    n = exercise.question.variants
    by_variant = {}
    for k in range(500):
        by_variant.setdefault(variant(f"s{k}", exercise.id, n), f"s{k}")
    assert set(by_variant) == set(range(1, n))
    default = _answer(exercise)
    for v, student in sorted(by_variant.items()):
        key = lessons.INSTRUCTOR.question_answer(exercise, v)
        assert check_exercise(exercise, lambda key=key: key, student).status == "passed"
        if key != default:
            result = check_exercise(exercise, lambda: default, student)
            assert result.status == "failed" and result.outcomes[0].expected == "(not shown)"


def test_the_script_of_a_student_holds_the_versions_their_questions_are_keyed_by():
    for k in range(40):
        student = f"s{k}"
        versions = L.script_versions(student)
        for (_, key, n, count), version in zip(L.SCRIPT_PIECES, versions):
            assert variant(student, key, n) % count == version


def test_the_instructor_values_of_a_question_hold_hashes_only():
    from gradkit.grading.references import Instructor

    instructor = Instructor(ROOT / "solutions")
    for exercise in VARIANT_QUESTIONS:
        for v in range(exercise.question.variants):
            entry = instructor.question_entry(exercise, v)
            assert entry["answer"] and all(len(h) == 24 for h in entry["answer"])
            assert not any(key in ("a", "b", "c", "d") for key in entry["feedback"])
