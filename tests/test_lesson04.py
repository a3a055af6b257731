"""Lesson 04 specs: references pass, every hint fires on its mistake, the bug hunt is graded.

The bug hunt depends on one fact shared by the notebook and the spec: the
provided cell hides the bug with ``make_mystery(seed=BUG_SEED)``, and the
grader runs that cell. Both are pinned here, and a real ``gradkit grade``
run scores a wrong bug name, a wrong fix, and answers that fake the verdicts in
their own process.

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
    assert lines or exercise.id in ("04.relu_backward", "04.output_delta"), exercise.id
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


def test_the_notebook_hides_the_bug_with_the_spec_seed():
    nb = nbformat.read(SOLUTION, as_version=4)
    seeds = [int(s) for c in nb.cells if c.cell_type == "code"
             for s in re.findall(r"make_mystery\(seed=(\d+)\)", c.source)]
    assert seeds == [spec.BUG_SEED]
    assert _bug_name() == spec._hidden_bug_name(spec.BUG_SEED)
    # the notebook's reasoning (Question 1) is written for this bug
    assert _bug_name() == "relu_derivative_from_activation"


def _lesson_net():
    """The net and data of the notebook's hunt (cell "X, Y = gk.datasets.moons(12, seed=0)")."""
    rng = np.random.default_rng(4)
    X, Y = gk.datasets.moons(12, seed=0)
    params = gk.mlp.init_params([2, 5, 4, 1], seed=0)
    for l in (1, 2, 3):
        params[f"b{l}"] = 0.1 * rng.standard_normal(params[f"b{l}"].shape)
    return params, X, Y


def _planted(name, params, X, Y, monkeypatch):
    """The full report of mystery_gradients with ``name`` planted."""
    monkeypatch.setattr(spec, "_hidden_bug_name", lambda seed: name)
    grads = spec.make_mystery(spec.BUG_SEED)(params, X, Y)
    return gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), params, grads, mode="full")


def _pattern(report):
    """Per failing tensor: the finding kind and, for a factor, its value to 3 digits."""
    return {f.parameter: (f.kind, None if f.kind == "mismatch" else float(f"{f.value:.3g}"))
            for f in report.findings}


@pytest.mark.parametrize("L", [3, 4])
def test_the_da_prev_candidate_fails_the_planted_bugs_layers_in_another_pattern(L, rng,
                                                                               monkeypatch):
    # a wrong dA_prev of layer L is first used by layer L - 1, like relu_backward: the layer
    # rule leaves both, and only the pattern across the failing layers tells them apart
    params, X, Y = _lesson_net() if L == 3 else _net(rng, (2, 5, 4, 3, 1), 12)
    m = X.shape[1]
    planted = _planted(_bug_name(), params, X, Y, monkeypatch)
    da_prev = _planted("da_prev_divided_by_m", params, X, Y, monkeypatch)
    hidden = [f"{k}{l}" for l in range(1, L) for k in "Wb"]
    assert sorted(planted.failing) == sorted(da_prev.failing) == sorted(hidden)
    assert _pattern(planted) == {k: ("mismatch", None) for k in hidden}
    # layer L - 1 gets dA_prev / m, layer L - 2 that again / m, ...
    assert _pattern(da_prev) == {f"{k}{l}": ("scale", float(f"{m ** -(L - l):.3g}"))
                                 for l in range(1, L) for k in "Wb"}


def test_each_candidate_shows_on_the_lesson_net_the_pattern_its_hint_describes(monkeypatch):
    # what the check says each name would break, whole (the feedback cuts strings at 60)
    assert all(len(spec.what_it_breaks(name)) < 60 for name in spec.CANDIDATES)
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
    seen = {}
    for name in spec.CANDIDATES:
        got = _pattern(_planted(name, params, X, Y, monkeypatch))
        assert set(got) == set(gk.bugs.BUGS[name].corrupts), name  # what_it_breaks names these
        if name == "sigmoid_derivative_twice":
            # dZ_L times A(1 - A): near 0.25 while the net is untrained, not one constant
            assert set(got) == set(params)
            assert all(kind == "scale" and 0.2 < c < 0.25 for kind, c in got.values())
            assert len({c for _, c in got.values()}) > 1
        else:
            assert got == {k: (kind, None if c is None else float(f"{c:.3g}"))
                           for k, (kind, c) in want[name].items()}, name
        seen[name] = tuple(sorted(got.items()))
    # the per-tensor report alone tells every candidate from every other
    assert len(set(seen.values())) == len(spec.CANDIDATES)


@pytest.mark.parametrize("seed", range(20))
def test_every_hidden_bug_keeps_shapes_and_fails_the_check(seed, rng):
    name = spec._hidden_bug_name(seed)
    bug = gk.bugs.BUGS[name]
    assert name in spec.CANDIDATES and not bug.changes_shape and not bug.kwargs
    params, X, Y = _net(rng)
    mystery = spec.make_mystery(seed)(params, X, Y)
    assert all(mystery[k].shape == params[k].shape for k in params)
    report = gk.check_gradients(lambda p: gk.mlp.cost(p, X, Y), params, mystery, mode="full")
    assert sorted(report.failing) == sorted(bug.corrupts)


@pytest.mark.parametrize("name", spec.CANDIDATES)
def test_replacing_the_faulty_piece_fixes_each_candidate_and_others_do_not(name, rng,
                                                                           monkeypatch):
    pieces = {piece: lessons.reference(f"04.{piece}")  # the solution's, loaded before planting
              for piece in ("relu_backward", "linear_backward", "output_delta")}
    monkeypatch.setattr(spec, "_hidden_bug_name", lambda seed: name)
    mystery_gradients = spec.make_mystery(0)
    params, X, Y = _net(rng, (3, 6, 5, 4, 1), 9)
    right = gk.mlp.gradients(params, X, Y)
    for piece, fn in pieces.items():
        got = mystery_gradients(params, X, Y, **{piece: fn})
        fixed = all(np.allclose(got[k], right[k], rtol=1e-12, atol=1e-15) for k in params)
        assert fixed == (piece == spec._PIECE[name]), piece


@pytest.mark.parametrize("other", [n for n in spec.CANDIDATES
                                   if n != spec._hidden_bug_name(spec.BUG_SEED)])
def test_a_wrong_bug_name_is_shown_what_it_would_break_and_never_the_answer(other):
    hints = failing_hints("04.name_the_bug", lambda: other)
    assert f"that is what '{other}' would do" in hints[0]
    result = check("04.name_the_bug", lambda: other)
    assert result.outcomes[0].received == repr(spec.what_it_breaks(other))
    assert _bug_name() not in str(result) + result._repr_html_()


def test_a_name_outside_the_candidates_is_told_to_copy_one():
    hints = failing_hints("04.name_the_bug", lambda: "relu bug")
    assert "one of the names in CANDIDATES" in hints[0]


def test_an_unfixed_mystery_gets_the_replace_the_piece_hint():
    mystery_gradients = spec.make_mystery(spec.BUG_SEED)
    result = check("04.fixed_gradients", mystery_gradients)
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
    mystery = plain.decode(plain.encode(test.run(spec.make_mystery(spec.BUG_SEED))))
    assert test.after(test.make_args(), mystery) == "fail"


def test_the_bug_name_test_sends_the_name_and_judges_what_it_breaks_afterwards():
    (test,) = spec._NAME.tests
    assert test.run(lambda: "dw_doubled") == "dw_doubled"
    assert test.after((), "dw_doubled") == spec.what_it_breaks("dw_doubled")


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


def _fake_bug_name(shown):
    return f"""def name_the_bug():
    import gradkit.grading.lesson04 as spec

    spec.what_it_breaks = lambda name: {shown!r}
    return "dw_doubled"
"""


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    solution = nbformat.read(SOLUTION, as_version=4)
    wrong = edited(solution, "def name_the_bug",
                   lambda _: 'def name_the_bug():\n    return "dw_doubled"\n')
    # replaces a piece that is not at fault
    wrong = edited(wrong, "def fixed_gradients",
                   lambda _: "def fixed_gradients(params, X, Y):\n    return mystery_gradients("
                             "params, X, Y, linear_backward=linear_backward)\n")
    # a student's edit of a provided cell
    wrong = edited(wrong, "make_mystery(seed=",
                   lambda src: src.replace(f"seed={spec.BUG_SEED}", "seed=405"))
    # what the published check data says the hidden bug breaks, faked in the answer's process
    shown = spec.what_it_breaks(spec._hidden_bug_name(spec.BUG_SEED))
    faked = edited(solution, "def name_the_bug", lambda _: _fake_bug_name(shown))
    faked = edited(faked, "def fixed_gradients", lambda _: _FAKE_VERDICT)
    return grade_variants(tmp_path_factory.mktemp("lesson04"), "04_backprop_deep_net",
                          {"correct": solution, "wrong": wrong, "faked": faked}, timeout=10.0)


def test_grader_gives_the_solution_full_marks(graded):
    sub = graded["correct"]
    assert sub.error is None and sub.score == sub.max_score == 19


def test_grader_scores_a_wrong_bug_name_and_a_wrong_fix_zero(graded):
    scores = graded["wrong"].exercise_scores()
    assert scores["04.name_the_bug"] == 0
    assert scores["04.fixed_gradients"] == 0
    assert scores["04.model_gradients"] == 4


def test_grader_judges_the_verdicts_itself_so_faking_them_in_the_answer_scores_zero(graded):
    sub = graded["faked"]
    assert sub.error is None
    verdict = next(t for t in sub.tests if t.name == f"04.fixed_gradients: {_verdict_test().name}")
    assert verdict.score == 0 and "'fail'" in verdict.output, verdict.output
    scores = sub.exercise_scores()
    assert scores["04.name_the_bug"] == 0 and scores["04.fixed_gradients"] == 0
    assert scores["04.model_gradients"] == 4
