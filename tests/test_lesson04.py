"""Lesson 04 specs: references pass, every hint fires on its mistake, the bug hunt is graded.

The bug hunt depends on one fact shared by the notebook and the spec: the provided cell
hides the student's variant with ``make_mystery(STUDENT_ID)``, and the grader runs that
cell with the id it grades. Both are pinned here; every variant is solved by the lesson's
own rule (an oracle written here, from the per-tensor report alone); and a real ``gradkit
grade`` run scores a wrong bug name, a wrong fix, answers that fake the verdicts in their
own process, a student's own variant, and a notebook whose id is not the student's.

The references are the solution's answer cells (``lessons.reference``). Its
``fixed_gradients`` calls the ``mystery_gradients`` that ``make_mystery`` built when
the answers were loaded: tests that plant another bug load them first.
"""

import re
from pathlib import Path

import _lessons as lessons
import nbformat
import numpy as np
import pytest
from _grading import edited, failing_hints, grade_variants

import gradkit as gk
from gradkit.grading import check, plain
from gradkit.grading import lesson04 as spec
from gradkit.grading.feedback import run_test

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "04_backprop_deep_net.ipynb"


def _net(rng, dims=(2, 5, 4, 1), m=12):
    return spec._net(rng, list(dims), m)


def _bug_name():
    """The solution's answer to Exercise 4.6."""
    return lessons.reference("04.name_the_bug")()


@pytest.mark.parametrize("exercise", spec.EXERCISES, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    reference = lessons.reference(exercise)
    for test in exercise.tests:
        assert run_test(exercise, test, reference).status == "pass", test.name
        plain.encode(test.run(reference))  # returns plain data


@pytest.mark.parametrize("exercise", spec.EXERCISES, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    source = Path(spec.__file__).read_text(encoding="utf-8")
    lines = lessons.solution_lines(SOLUTION, exercise.function)
    # a question's answer is a literal, kept out of the check data by hashing (tested below)
    assert lines or exercise.question or exercise.id in (
        "04.relu_backward", "04.output_delta"), exercise.id
    assert [line for line in lines if line in source] == []


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda dA, Z: dA * np.maximum(Z, 0), "activation A"),
    (lambda dA, Z: (Z > 0).astype(float), "mask (Z > 0) alone"),
    (lambda dA, Z: dA * (Z >= 0), "differ only where Z = 0"),
    (lambda dA, Z: dA * (Z < 0), "mask is flipped"),
])
def test_relu_backward_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("04.relu_backward", wrong)
    assert hints and any(hint in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda dZ, A, W: (W.T @ dZ, A @ dZ.T, dZ.sum(axis=1, keepdims=True)), "transposed"),
    (lambda dZ, A, W: (W.T @ dZ, dZ @ A.T, dZ.sum(axis=0, keepdims=True)), "which axis"),
    (lambda dZ, A, W: (W.T @ dZ, dZ @ A.T, dZ.mean(axis=1, keepdims=True)), "a second time"),
    (lambda dZ, A, W: (W.T @ dZ, dZ @ A.T / dZ.shape[1], dZ.sum(axis=1, keepdims=True)),
     "divided by m"),
    (lambda dZ, A, W: (W @ np.ones((W.shape[1], dZ.shape[1])), dZ @ A.T,
                       dZ.sum(axis=1, keepdims=True)), "dA_prev is wrong"),
    (lambda dZ, A, W: (dZ @ A.T, dZ.sum(axis=1, keepdims=True)), "three arrays"),
])
def test_linear_backward_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("04.linear_backward", wrong)
    assert hints and all(hint in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda AL, Y: AL - Y, "1/m"),
    (lambda AL, Y: (Y - AL) / Y.shape[1], "sign is flipped"),
    (lambda AL, Y: (AL - Y) * AL * (1 - AL) / Y.shape[1], "sigmoid'(Z)"),
])
def test_output_delta_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("04.output_delta", wrong)
    assert hints and all(hint in h for h in hints), hints


def _forward_with(out_act, hidden_act=lambda Z: np.maximum(Z, 0)):
    def model_forward(params, X):
        L = len(params) // 2
        A = X
        for l in range(1, L + 1):
            Z = params[f"W{l}"] @ A + params[f"b{l}"]
            A = hidden_act(Z) if l < L else out_act(Z)
        return A, []
    return model_forward


@pytest.mark.parametrize(("wrong", "hint"), [
    (_forward_with(lambda Z: Z), "logits Z_L"),
    (_forward_with(lambda Z: np.maximum(Z, 0)), "output layer uses relu"),
    (_forward_with(gk.nn.sigmoid, gk.nn.sigmoid), "sigmoid everywhere"),
])
def test_model_forward_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("04.model_forward", wrong)
    assert hints and all(hint in h for h in hints), hints


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda p, X, Y: {"d" + k: v for k, v in gk.mlp.gradients(p, X, Y).items()}, "not dW1"),
    (lambda p, X, Y: {k: X.shape[1] * v for k, v in gk.mlp.gradients(p, X, Y).items()},
     "m times too large"),
    (lambda p, X, Y: {k: -v for k, v in gk.mlp.gradients(p, X, Y).items()}, "wrong sign"),
    (lambda p, X, Y: {k: v for k, v in gk.mlp.gradients(p, X, Y).items() if k != "b1"},
     "keys are not those"),
])
def test_model_gradients_mistakes_get_their_hint(wrong, hint):
    hints = failing_hints("04.model_gradients", wrong)
    assert hints and all(hint in h for h in hints), hints



def _instructor():
    return lessons.INSTRUCTOR.module("04")


def test_the_notebook_hides_the_students_variant():
    nb = nbformat.read(SOLUTION, as_version=4)
    calls = [m for c in nb.cells if c.cell_type == "code"
             for m in re.findall(r"make_mystery\(([^)]*)\)", c.source)]
    assert calls == ["STUDENT_ID"]
    # the solution is the default variant's, and the notebook's reasoning is written for it
    assert _bug_name() == _instructor().key_name_the_bug(0) == spec.PLANS[0][0]
    assert _bug_name() == "relu_derivative_from_activation"


def _lesson_net():
    """The net and data of the notebook's hunt, built here as the notebook's cells do."""
    rng = np.random.default_rng(4)
    X, Y = gk.datasets.moons(12, seed=0)
    params = gk.mlp.init_params([2, 5, 4, 1], seed=0)
    for l in (1, 2, 3):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    return params, X, Y


def test_the_hunt_net_is_the_notebooks():
    mine, theirs = _lesson_net(), spec.hunt_net()
    assert all(np.array_equal(mine[0][k], theirs[0][k]) for k in mine[0])
    assert np.array_equal(mine[1], theirs[1]) and np.array_equal(mine[2], theirs[2])


def _variant_of(name, where="all"):
    return spec.PLANS.index((name, where))


def _report(variant, params, X, Y):
    grads = spec.make_mystery(variant)(params, X, Y)
    return gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), params, grads, mode="full")


def _planted(name, params, X, Y):
    """The full report of mystery_gradients with ``name`` planted in every layer."""
    return _report(_variant_of(name), params, X, Y)


def _pattern(report):
    """Per failing tensor: the finding kind and, for a factor, its value to 3 digits."""
    return {f.parameter: (f.kind, None if f.kind == "mismatch" else float(f"{f.value:.3g}"))
            for f in report.findings}


def test_the_hunt_has_at_least_20_variants_each_its_own_mystery():
    params, X, Y = _lesson_net()
    assert spec.N_VARIANTS >= 20 and len(set(spec.PLANS)) == spec.N_VARIANTS
    flat = [np.concatenate([g.ravel() for g in spec.make_mystery(v)(params, X, Y).values()])
            for v in range(spec.N_VARIANTS)]
    for i in range(spec.N_VARIANTS):
        for j in range(i):
            assert not np.allclose(flat[i], flat[j]), (spec.PLANS[i], spec.PLANS[j])
    # ids spread over the variants, never onto the default one; "" gets the default
    from gradkit.grading.variants import variant

    drawn = {variant(f"s{k:07d}", "04.name_the_bug", spec.N_VARIANTS) for k in range(400)}
    assert drawn == set(range(1, spec.N_VARIANTS))
    assert variant("", "04.name_the_bug", spec.N_VARIANTS) == 0


def _deduce(report, m):
    """The lesson's method, from the per-tensor report alone: which candidate explains it."""
    found = _pattern(report)
    failing, params = set(found), {f"{k}{l}" for l in (1, 2, 3) for k in "Wb"}
    kinds = {kind for kind, _ in found.values()}
    if failing == params:  # the error enters at the output: output_delta
        if kinds == {"sign"}:
            return "sign_flip"
        if kinds == {"scale"} and all(abs(c - m) < 1e-6 * m for _, c in found.values()):
            return "missing_one_over_m"
        return "sigmoid_derivative_twice"  # ratios near A(1 - A), not one constant
    if all(t.startswith("W") for t in failing) and kinds == {"scale"}:
        return "dw_doubled"
    if all(t.startswith("b") for t in failing):
        return "db_not_computed" if kinds == {"zero"} else "db_averaged_twice"
    # whole layers fail below a passing one: a dA_prev or relu_backward of that layer
    return "da_prev_divided_by_m" if kinds == {"scale"} else "relu_derivative_from_activation"


@pytest.mark.parametrize("v", range(spec.N_VARIANTS))
def test_every_variant_is_solved_by_the_lessons_rule(v):
    params, X, Y = _lesson_net()
    report = _report(v, params, X, Y)
    assert not report.passed
    assert _deduce(report, X.shape[1]) == _instructor().key_name_the_bug(v) == spec.PLANS[v][0]


@pytest.mark.parametrize("L", [3, 4])
def test_the_da_prev_candidate_fails_the_planted_bugs_layers_in_another_pattern(L, rng):
    # a wrong dA_prev of layer L is first used by layer L - 1, like relu_backward: the layer
    # rule leaves both, and only the pattern across the failing layers tells them apart
    params, X, Y = _lesson_net() if L == 3 else _net(rng, (2, 5, 4, 3, 1), 12)
    m = X.shape[1]
    planted = _planted(_bug_name(), params, X, Y)
    da_prev = _planted("da_prev_divided_by_m", params, X, Y)
    hidden = [f"{k}{l}" for l in range(1, L) for k in "Wb"]
    assert sorted(planted.failing) == sorted(da_prev.failing) == sorted(hidden)
    assert _pattern(planted) == {k: ("mismatch", None) for k in hidden}
    # layer L - 1 gets dA_prev / m, layer L - 2 that again / m, ...
    assert _pattern(da_prev) == {f"{k}{l}": ("scale", float(f"{m ** -(L - l):.3g}"))
                                 for l in range(1, L) for k in "Wb"}


def test_each_candidate_shows_on_the_lesson_net_the_pattern_the_lesson_describes():
    params, X, Y = _lesson_net()
    m = X.shape[1]
    want = {
        "da_prev_divided_by_m": {"W1": ("scale", 1 / m**2), "b1": ("scale", 1 / m**2),
                                 "W2": ("scale", 1 / m), "b2": ("scale", 1 / m)},
        "db_averaged_twice": {f"b{l}": ("scale", 1 / m) for l in (1, 2, 3)},
        "db_not_computed": {f"b{l}": ("zero", 0.0) for l in (1, 2, 3)},
        "dw_doubled": {f"W{l}": ("scale", 2.0) for l in (1, 2, 3)},
        "missing_one_over_m": {k: ("scale", float(m)) for k in params},
        "relu_derivative_from_activation": {k: ("mismatch", None) for k in params
                                            if not k.endswith("3")},
        "sign_flip": {k: ("sign", -1.0) for k in params},
    }
    for name in spec.CANDIDATES:
        got = _pattern(_planted(name, params, X, Y))
        assert set(got) == set(gk.bugs.BUGS[name].corrupts), name
        if name == "sigmoid_derivative_twice":
            # dZ_L times A(1 - A): near 0.25 while the net is untrained, not one constant
            assert set(got) == set(params)
            assert all(kind == "scale" and 0.2 < c < 0.25 for kind, c in got.values())
            assert len({c for _, c in got.values()}) > 1
        else:
            assert got == {k: (kind, None if c is None else float(f"{c:.3g}"))
                           for k, (kind, c) in want[name].items()}, name


@pytest.mark.parametrize("v", range(spec.N_VARIANTS))
def test_every_variant_keeps_shapes_and_fails_only_where_its_bug_reaches(v, rng):
    name, where = spec.PLANS[v]
    bug = gk.bugs.BUGS[name]
    assert name in spec.CANDIDATES and not bug.changes_shape and not bug.kwargs
    params, X, Y = _net(rng)
    mystery = spec.make_mystery(v)(params, X, Y)
    assert all(mystery[k].shape == params[k].shape for k in params)
    report = gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), params, mystery, mode="full")
    if where == "all":
        assert sorted(report.failing) == sorted(bug.corrupts)
    else:
        assert report.failing and set(report.failing) <= set(bug.corrupts)
        # nothing above the faulty layer fails
        assert all(int(t[1:]) <= where for t in report.failing)


@pytest.mark.parametrize("v", range(spec.N_VARIANTS))
def test_replacing_the_faulty_piece_fixes_each_variant_and_others_do_not(v, rng):
    pieces = {piece: lessons.reference(f"04.{piece}")
              for piece in ("relu_backward", "linear_backward", "output_delta")}
    mystery_gradients = spec.make_mystery(v)
    params, X, Y = _net(rng, (3, 6, 5, 4, 1), 9)
    right = gk.mlp.gradients(params, X, Y)
    for piece, fn in pieces.items():
        got = mystery_gradients(params, X, Y, **{piece: fn})
        fixed = all(np.allclose(got[k], right[k], rtol=1e-12, atol=1e-15) for k in params)
        assert fixed == (piece == spec._PIECE[spec.PLANS[v][0]]), piece


@pytest.mark.parametrize("student", ["", "alice", "s2024017"])
def test_a_wrong_bug_name_gets_the_evidence_it_misses_and_never_the_answer(student):
    from gradkit.grading.feedback import check_exercise
    from gradkit.grading.variants import variant

    v = variant(student, "04.name_the_bug", spec.N_VARIANTS)
    answer = spec.PLANS[v][0]
    assert check_exercise(spec._NAME, lambda: answer, student).status == "passed"
    hints = set()
    for other in spec.CANDIDATES:
        if other == answer:
            continue
        result = check_exercise(spec._NAME, lambda other=other: other, student)
        assert result.status == "failed"
        (outcome,) = result.outcomes
        assert outcome.expected == "(not shown)"
        assert outcome.hint != spec._NAME.hint, other  # evidence, not the general hint
        assert any(w in outcome.hint for w in ("cannot make", "does not explain", "would give"))
        text = str(result) + result._repr_html_()
        assert answer not in text.replace(repr(other), ""), (other, text)
        hints.add(outcome.hint)
    assert len(hints) >= 3


def test_the_default_variants_answer_is_wrong_for_a_student_with_another_variant():
    from gradkit.grading.feedback import check_exercise
    from gradkit.grading.variants import variant

    student = next(f"s{k}" for k in range(100) if spec.PLANS[variant(
        f"s{k}", "04.name_the_bug", spec.N_VARIANTS)][0] != _bug_name())
    assert check_exercise(spec._NAME, _bug_name, student).status == "failed"
    assert check_exercise(spec._NAME, _bug_name, "").status == "passed"


def test_the_check_data_holds_no_bug_name_for_any_variant():
    import json

    text = (ROOT / "gradkit" / "grading" / "checkdata" / "lesson04.json").read_text()
    entry = json.loads(text)["exercises"]["04.name_the_bug"]
    assert len(entry["question"]) == spec.N_VARIANTS
    dumped = json.dumps(entry)
    assert [n for n in spec.CANDIDATES if n in dumped] == []
    assert all(len(e["feedback"]) == len(spec.CANDIDATES) - 1 for e in entry["question"].values())


def test_a_name_outside_the_candidates_is_told_to_copy_one():
    result = check("04.name_the_bug", lambda: "relu bug")
    assert result.status == "failed"
    assert "spelled as there" in result.outcomes[0].why


@pytest.mark.parametrize(("answer", "said"), [
    (44, "number of parameters"), (40, "biases"), (176, "not four"), (88, None)])
def test_the_prediction_of_the_loops_calls_gets_feedback_and_never_the_count(answer, said):
    result = check("04.predict_calls", lambda: answer)
    if said is None:
        assert result.status == "passed"
        return
    assert result.status == "failed" and said in result.hint
    assert "88" not in str(result)


@pytest.mark.parametrize(("answer", "said"), [
    ("a", "not more correct"), ("b", "what correct looks like"), ("d", "cancels"),
    ("c", None), ("C", None), ("e", "one of")])
def test_the_two_errors_question_explains_each_wrong_choice(answer, said):
    result = check("04.read_two_errors", lambda: answer)
    if said is None:
        assert result.status == "passed"
        return
    assert result.status == "failed"
    assert said in result.hint + result.outcomes[0].why


def test_an_unfixed_mystery_gets_the_replace_the_piece_hint():
    from gradkit.grading.feedback import check_exercise

    for student in ("", "alice"):
        result = check_exercise(spec._FIX, spec.make_mystery(student), student)
        assert result.status == "failed"
        assert "replace the piece" in result.outcomes[0].hint
        verdict = [o for o in result.outcomes if "check_gradients passes" in o.name][0]
        assert verdict.status == "fail" and "'fail'" in verdict.received


def _verdict_test():
    return next(t for t in spec._FIX.tests if "check_gradients passes" in t.name)


def test_the_verdict_test_calls_for_gradients_and_judges_them_afterwards():
    test = _verdict_test()
    params = test.make_args()[0]
    # what the answer's process sends back: the gradients, as plain data
    sent = plain.decode(plain.encode(test.run(lessons.reference("04.fixed_gradients"))))
    assert isinstance(sent, dict) and sorted(sent) == sorted(params)
    assert test.after(test.make_args(), sent) == "pass"
    mystery = plain.decode(plain.encode(test.run(spec.make_mystery(0))))
    assert test.after(test.make_args(), mystery) == "fail"


# answers that fake a verdict in their own process: the old spec computed both there
_FAKE_VERDICT = """def fixed_gradients(params, X, Y):
    import types

    import gradkit
    import gradkit.grading.lesson04 as spec

    def passes(*args, **kwargs):
        return types.SimpleNamespace(verdict="pass", passed=True)

    spec.check_gradients = gradkit.check_gradients = passes
    return mystery_gradients(params, X, Y)
"""

# an answer that reads the plan of its own mystery in the worker and returns what it says,
# after replacing the check data in its own process: the grader's key decides
_FAKE_NAME = """def name_the_bug():
    import gradkit.grading.checkdata as data

    data.question_data = lambda *a, **k: {"answer": [], "feedback": {}}
    return "dw_doubled"
"""


def _student(nb, student_id):
    return edited(nb, 'STUDENT_ID = ""', lambda _: f"STUDENT_ID = {student_id!r}")


def _someone_with_another_bug():
    from gradkit.grading.variants import variant

    return next(f"s{k}" for k in range(100) if spec.PLANS[variant(
        f"s{k}", "04.name_the_bug", spec.N_VARIANTS)][0] not in (_bug_name(), "dw_doubled"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    solution = nbformat.read(SOLUTION, as_version=4)
    wrong = edited(solution, "def name_the_bug",
                   lambda _: 'def name_the_bug():\n    return "dw_doubled"\n')
    # replaces a piece that is not at fault
    wrong = edited(wrong, "def fixed_gradients",
                   lambda _: "def fixed_gradients(params, X, Y):\n    return mystery_gradients("
                             "params, X, Y, linear_backward=linear_backward)\n")
    # a student's edit of a provided cell: another variant
    wrong = edited(wrong, "make_mystery(STUDENT_ID)",
                   lambda src: src.replace("make_mystery(STUDENT_ID)", "make_mystery(12)"))
    faked = edited(solution, "def name_the_bug", lambda _: _FAKE_NAME)
    faked = edited(faked, "def fixed_gradients", lambda _: _FAKE_VERDICT)
    # a student with an id: the default answer is wrong for them, their own is right
    student = _someone_with_another_bug()
    from gradkit.grading.variants import variant

    theirs = spec.PLANS[variant(student, "04.name_the_bug", spec.N_VARIANTS)][0]
    piece = spec._PIECE[theirs]
    own = _student(solution, student)
    own = edited(own, "def name_the_bug",
                 lambda _: f'def name_the_bug():\n    return "{theirs}"\n')
    own = edited(own, "def fixed_gradients",
                 lambda _: "def fixed_gradients(params, X, Y):\n    return mystery_gradients("
                           f"params, X, Y, {piece}={piece})\n")
    copied = _student(solution, student)  # the default variant's answers under their id
    return student, grade_variants(
        tmp_path_factory.mktemp("lesson04"), "04_backprop_deep_net",
        {"correct": solution, "wrong": wrong, "faked": faked, "own": own, "copied": copied},
        timeout=10.0)


def test_grader_gives_the_solution_full_marks(graded):
    sub = graded[1]["correct"]
    assert sub.error is None and sub.score == sub.max_score == 21
    assert any("STUDENT_ID is empty" in n for n in sub.notes)


def test_grader_scores_a_wrong_bug_name_and_a_wrong_fix_zero(graded):
    scores = graded[1]["wrong"].exercise_scores()
    assert scores["04.name_the_bug"] == 0
    assert scores["04.fixed_gradients"] == 0
    assert scores["04.model_gradients"] == 4


def test_grader_judges_the_verdicts_itself_so_faking_them_in_the_answer_scores_zero(graded):
    sub = graded[1]["faked"]
    assert sub.error is None
    verdict = next(t for t in sub.tests if t.name == f"04.fixed_gradients: {_verdict_test().name}")
    assert verdict.score == 0 and "'fail'" in verdict.output, verdict.output
    scores = sub.exercise_scores()
    assert scores["04.name_the_bug"] == 0 and scores["04.fixed_gradients"] == 0
    assert scores["04.model_gradients"] == 4


def test_grader_grades_a_student_on_their_own_variant(graded):
    student, subs = graded
    own, copied = subs["own"], subs["copied"]
    assert own.error is None and own.score == own.max_score, own.tests
    assert own.student_id == student and not own.id_flag
    # the default variant's answers, handed in under their id, miss their bug
    scores = copied.exercise_scores()
    assert scores["04.name_the_bug"] == 0 and scores["04.fixed_gradients"] == 0
    name = next(t for t in copied.tests if t.exercise == "04.name_the_bug")
    assert _bug_name() not in name.output and "not the answer" in name.output


def test_grader_flags_a_notebook_whose_id_is_not_the_students(tmp_path):
    from gradkit.grading.grader import Grader

    student = _someone_with_another_bug()
    path = tmp_path / "04_backprop_deep_net.ipynb"
    nbformat.write(_student(nbformat.read(SOLUTION, as_version=4), student), path)
    grader = Grader(ROOT / "solutions", timeout=10.0)
    mine = grader.grade(path, ids=[student, f"{student}@uni.example"])
    assert not mine.id_flag and mine.student_id == student
    # a copy of a friend's notebook, handed in by someone else: graded on the submitter's id
    other = grader.grade(path, ids=["someone.else@uni.example"])
    assert other.student_id == "someone.else@uni.example"
    assert "STUDENT_ID mismatch" in other.id_flag and student in other.id_flag
    assert other.notes[0] == other.id_flag
