"""Lesson 10 specs and claims: each reference passes its own tests, each Mistake fires on the
wrong answer it names and never on the reference, the generic hints lead to answers that pass,
the notebook's answers are the references, and the lesson's claims hold when computed again.

JAX is a dependency of the course (and so of the dev extra): these tests need it and are never
skipped when it is missing.
"""

import ast
import json
from pathlib import Path

import _lessons as lessons
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import gradkit as gk
from gradkit.grading import lesson10 as spec
from gradkit.grading import plain
from gradkit.grading.feedback import check_exercise, public_values, run_test
from gradkit.grading.lesson10 import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "10_frameworks.ipynb"
SPECS = {e.id: e for e in EXERCISES}
BACKWARDS = [e for e in EXERCISES if e.question is None]  # the four exercises
QUESTIONS = [e for e in EXERCISES if e.question is not None]


@pytest.fixture(autouse=True)
def x64():
    """JAX's 64-bit mode, as the lesson turns it on, and the previous mode afterwards."""
    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    yield
    jax.config.update("jax_enable_x64", before)


def _outcomes(exercise_id, answer):
    return lessons.outcomes(SPECS[exercise_id], answer)


def _hints(exercise_id, wrong):
    """The hints of the failed public tests when ``wrong`` answers ``exercise_id``."""
    return lessons.failed_hints(SPECS[exercise_id], wrong)


def test_the_exercises_add_up_to_eleven_points_and_the_questions_to_two_and_a_half():
    assert sum(e.points for e in BACKWARDS) == 11 and len(BACKWARDS) >= 3
    assert SPECS["10.lse_bwd"].points > SPECS["10.softmax_ce_bwd"].points  # find and fix
    points = {e.id: e.points for e in QUESTIONS}
    assert points == {"10.answer_10_1": 0.5, "10.answer_10_2": 0.5, "10.answer_10_4": 0.5,
                      "10.answer_10_5": 1}  # three predictions, one finding


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_reference_passes_its_own_tests_with_plain_data(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name
        plain.encode(test.run(lessons.reference(exercise)))


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_no_mistake_fires_on_the_reference(exercise):
    for test in exercise.tests:
        expected, wrong, _ = public_values(exercise, test)
        assert exercise.mistake_for(test.make_args(), expected, expected, wrong) is None


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    source = Path(spec.__file__).read_text(encoding="utf-8")
    lines = lessons.solution_lines(SOLUTION, exercise.function)
    assert lines, exercise.id
    assert [line for line in lines if line in source] == []


def _rows(x, out):
    return x, out[:, None]


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda res, g: g[:, None] * jnp.exp(res[0] - res[1][:, None]), "even when there is only one"),
    (lambda res, g: (g[:, None] * jnp.exp(res[0])
                     / jnp.sum(jnp.exp(res[0]), axis=1, keepdims=True),), "overflows"),
    (lambda res, g: (jnp.exp(res[0] - res[1][:, None]),), "you left out g"),
    (lambda res, g: (g * jnp.exp(res[0] - res[1][:, None]),), "multiplies the columns"),
    (lambda res, g: (g[:, None] * jnp.exp(res[0] - res[1]),), "along the columns"),
    (lambda res, g: (g[:, None] * jnp.exp(res[0]),), "not exp(x)"),
])
def test_lse_mistakes_get_their_hint(wrong, hint):
    assert any(hint in h for h in _hints("10.lse_bwd", wrong))


def _first_version(fix_tuple=False, fix_rows=False):
    """Exercise 10.1's first version (in its cell's comment), with some of its bugs fixed."""
    def lse_bwd(res, g):
        x, _ = res
        p = jnp.exp(x) / jnp.sum(jnp.exp(x), axis=-1, keepdims=True)
        dx = (g[:, None] if fix_rows else g) * p
        return (dx,) if fix_tuple else dx
    return lse_bwd


def test_the_first_version_of_lse_bwd_is_in_its_cell_and_each_of_its_bugs_is_named():
    cell = lessons.code_cell(SOLUTION, "lse_bwd")
    assert "jnp.exp(x) / jnp.sum(jnp.exp(x), axis=-1, keepdims=True)" in cell
    assert "#     return g * p" in cell
    first = _outcomes("10.lse_bwd", _first_version())
    assert all(o.status == "fail" for o in first)
    assert "broadcasting" in first[0].why and "broadcast" in first[0].hint  # (N,) by (N, C)
    assert "one cotangent per input" in first[2].hint  # square: it runs, and is no tuple
    tupled = _outcomes("10.lse_bwd", _first_version(fix_tuple=True))
    assert all(o.status == "fail" for o in tupled)
    assert "multiplies the columns" in tupled[2].hint
    rows = _outcomes("10.lse_bwd", _first_version(fix_tuple=True, fix_rows=True))
    assert [o.status for o in rows] == ["pass", "fail", "pass"] and "overflows" in rows[1].hint


def _ce(kind):
    def bwd(res, g):
        p, y = res
        onehot = jax.nn.one_hot(y, p.shape[1], dtype=p.dtype)
        n = p.shape[0]
        dz = {"sign": g * (onehot - p) / n, "no_n": g * (p - onehot), "no_g": (p - onehot) / n,
              "no_onehot": g * p / n}.get(kind, g * (p - onehot) / n)
        if kind == "bare":
            return dz
        if kind == "one":
            return (dz,)
        if kind == "dy":
            return dz, jnp.ones(y.shape)
        return dz, None
    return bwd


@pytest.mark.parametrize(("kind", "hint"), [
    ("bare", "(dz, None)"), ("one", "has two inputs"), ("dy", "integer labels"),
    ("sign", "sign is flipped"), ("no_n", "N times too large"), ("no_g", "you left out g"),
    ("no_onehot", "yours is p alone"),
])
def test_softmax_ce_mistakes_get_their_hint(kind, hint):
    hints = _hints("10.softmax_ce_bwd", _ce(kind))
    assert hints and all(hint in h for h in hints), hints


def test_zero_cotangents_for_the_labels_are_accepted_as_jax_accepts_them():
    def zeros(res, g):
        dz, _ = _ce("right")(res, g)
        return dz, jnp.zeros(res[1].shape, dtype=res[1].dtype)

    assert all(o.status == "pass" for o in _outcomes("10.softmax_ce_bwd", zeros))
    p, y = jnp.full((2, 3), 1 / 3), jnp.array([0, 2])
    op = jax.custom_vjp(lambda z, y: jnp.sum(z))
    op.defvjp(lambda z, y: (jnp.sum(z), (p, y)), zeros)
    assert jax.grad(op)(jnp.ones((2, 3)), y).shape == (2, 3)  # JAX takes them too


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda x, g: g * (jnp.abs(x) <= 1), "even when there is only one"),
    (lambda x, g: (jnp.zeros_like(g),), "true derivative"),
    (lambda x, g: (g,), "unclipped"),
    (lambda x, g: (g * (jnp.abs(x) > 1),), "wrong way round"),
    (lambda x, g: (1.0 * (jnp.abs(x) <= 1),), "mask alone"),
])
def test_ste_mistakes_get_their_hint(wrong, hint):
    assert any(hint in h for h in _hints("10.ste_bwd", wrong))


def _vjp_tuple(f, inputs, dout):
    _, pullback = jax.vjp(f, inputs)
    return tuple({k: np.asarray(v) for k, v in g.items()} for g in pullback(jnp.asarray(dout)))


def _vjp_ignoring_dout(f, inputs, dout):
    grads = jax.grad(lambda p: jnp.sum(f(p)))(inputs)
    return {k: np.asarray(v) for k, v in grads.items()}


@pytest.mark.parametrize(("wrong", "hint"), [
    (_vjp_tuple, "unpack it"), (_vjp_ignoring_dout, "you ignored dout"),
])
def test_vjp_numpy_mistakes_get_their_hint(wrong, hint):
    hints = _hints("10.vjp_numpy", wrong)
    assert hints and all(hint in h for h in hints), hints


def _as_the_hints_say():
    def lse_bwd(res, g):
        x, out = res
        return (g[:, None] * jnp.exp(x - out[:, None]),)

    def ste_bwd(res, g):
        return (g * (jnp.abs(res) <= 1),)

    def vjp_numpy(f, inputs, dout):
        _, pullback = jax.vjp(f, inputs)
        return {k: np.asarray(v) for k, v in pullback(dout)[0].items()}

    return {"10.lse_bwd": lse_bwd, "10.softmax_ce_bwd": _ce("right"), "10.ste_bwd": ste_bwd,
            "10.vjp_numpy": vjp_numpy}


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_the_generic_hint_describes_an_answer_that_passes(exercise):
    answer = _as_the_hints_say()[exercise.id]
    assert all(o.status == "pass" for o in _outcomes(exercise.id, answer))


@pytest.mark.parametrize(("exercise_id", "wrong"), [
    ("10.lse_bwd", lambda res, g: (2 * g[:, None] * jnp.exp(res[0] - res[1][:, None]),)),
    ("10.softmax_ce_bwd", lambda res, g: (3 * _ce("right")(res, g)[0], None)),
    ("10.ste_bwd", lambda x, g: (g * (jnp.abs(x) <= 0.5),)),
    ("10.vjp_numpy", lambda f, inputs, dout: {k: 2 * v for k, v in
                                              _as_the_hints_say()["10.vjp_numpy"](
                                                  f, inputs, dout).items()}),
])
def test_a_mistake_no_hint_names_gets_the_generic_hint(exercise_id, wrong):
    assert set(_hints(exercise_id, wrong)) == {SPECS[exercise_id].hint}


def test_a_rule_written_with_numpy_is_told_it_cannot_be_traced():
    def with_numpy(res, g):
        return (np.asarray(g)[:, None] * np.exp(np.asarray(res[0]) - np.asarray(res[1])[:, None]),)

    failed = [o for o in _outcomes("10.lse_bwd", with_numpy) if o.status == "fail"]
    assert failed and all("TracerArrayConversionError" in o.why for o in failed)
    assert all("Use jnp, not np" in o.hint for o in failed)


def _definition(name):
    """The source of the notebook's function ``name`` (its ``def`` alone, not its cell)."""
    nb = json.loads(SOLUTION.read_text())
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or f"def {name}(" not in source:
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.FunctionDef) and node.name == name:
                return ast.get_source_segment(source, node)
    raise LookupError(f"the notebook defines no function {name}")


def _namespace(*names):
    """The notebook's functions ``names``, defined in this order in one namespace."""
    ns = {"np": np, "jax": jax, "jnp": jnp, "gk": gk}
    for name in names:
        exec(_definition(name), ns)
    return ns


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_the_notebook_answer_is_the_reference(exercise):
    answer = _namespace(exercise.function)[exercise.function]
    lessons.assert_answer_is_reference(exercise, answer)


def test_jax_defaults_to_float32_and_its_difference_has_a_float32_floor(rng):
    jax.config.update("jax_enable_x64", False)
    assert jnp.asarray(np.ones(3)).dtype == jnp.float32
    jax.config.update("jax_enable_x64", True)
    lse = jax.jit(_namespace("lse_naive")["lse_naive"])
    points = rng.standard_normal((200, 3))
    exact = np.exp(points[:, 0]) / np.sum(np.exp(points), axis=1)

    def median_error(h, dtype):
        up, down = (np.asarray(lse(jnp.asarray(points + [s * h, 0, 0], dtype=dtype)), float)
                    for s in (1, -1))
        return np.median(np.abs((up - down) / (2 * h) - exact) / exact)

    # at check_grads' step 1e-4: under its float32 tolerance 2e-3, far over the float64 one
    assert 2e-4 < median_error(1e-4, jnp.float32) < 2e-3
    assert median_error(1e-4, jnp.float64) < 1e-8
    assert min(median_error(h, jnp.float32) for h in (1e-1, 1e-2, 1e-3, 1e-4)) > 1e-6


def test_naive_forms_overflow_and_the_stable_ones_give_softmax_and_p_minus_onehot():
    ns = _namespace("lse_naive", "lse_stable", "ce_naive", "ce_stable")
    x_big = jnp.array([1000.0, 999.0, 998.0])
    assert np.isinf(ns["lse_naive"](x_big)) and np.all(np.isnan(jax.grad(ns["lse_naive"])(x_big)))
    softmax = np.exp(np.array([0.0, -1.0, -2.0])) / np.sum(np.exp([0.0, -1.0, -2.0]))
    assert np.allclose(jax.grad(ns["lse_stable"])(x_big), softmax, rtol=1e-14)
    z, y = jnp.array([[60.0, -60.0]], dtype=jnp.float32), jnp.array([1])
    assert np.isinf(ns["ce_naive"](z, y)) and np.all(np.isnan(jax.grad(ns["ce_naive"])(z, y)))
    assert float(ns["ce_stable"](z, y)) == 120.0
    assert np.array_equal(jax.grad(ns["ce_stable"])(z, y), [[1.0, -1.0]])


def test_sign_has_zero_gradient_and_gradkit_refuses_to_check_it():
    x = np.array([-1.7, -0.6, -0.05, 0.3, 0.8, 1.4])
    assert not np.any(jax.grad(lambda x: jnp.sum(jnp.arange(1.0, 7.0) * jnp.sign(x)))(x))

    def ste(p, dout):
        return {"x": dout * (np.abs(p["x"]) <= 1)}

    with pytest.raises(ValueError, match="same output for every perturbation"):
        gk.check_vjp(lambda p: np.sign(p["x"]), ste, {"x": x})
    assert gk.check_vjp(lambda p: np.clip(p["x"], -1, 1), ste, {"x": x}).passed


def _smax():
    return _namespace("lse_stable", "smax_forward", "make_smax")


def test_a_custom_vjp_cannot_run_check_grads_default_forward_mode(rng):
    smax = _smax()["make_smax"]()
    with pytest.raises(TypeError, match="forward-mode"):
        check_grads(smax, (rng.standard_normal(8), np.array(0.5)), order=1)


def _check_grads_passes(f, *args):
    try:
        check_grads(f, args, order=1, modes=["rev"])
    except AssertionError:
        return False
    return True


def test_check_grads_passes_a_sign_error_on_a_small_weight_that_gradkit_names(rng):
    ns = _smax()
    smax_bug = ns["make_smax"](t_sign=-1.0)
    x, t = rng.standard_normal(64), np.array(0.5)
    assert _check_grads_passes(ns["make_smax"](), x, t)
    assert not _check_grads_passes(smax_bug, x, t)
    assert _check_grads_passes(lambda x, t: 1e-6 * smax_bug(x, t), x, t)

    def weighted(p):
        return 1e-6 * smax_bug(p["x"], p["t"])

    def backward(p, dout):
        grads = jax.vjp(weighted, p)[1](jnp.asarray(dout))[0]
        return {k: np.asarray(v) for k, v in grads.items()}

    report = gk.check_vjp(lambda p: np.asarray(weighted(p)), backward, {"x": x, "t": t})
    assert report.failing == ["t"]
    assert [(f.kind, f.parameter) for f in report.findings] == [("sign", "t")]
    # PyTorch's entrywise rule (atol 1e-5, rtol 1e-3) passes it too at this weight
    exact = jax.grad(ns["smax_forward"], argnums=(0, 1))(x, t)
    buggy = jax.grad(smax_bug, argnums=(0, 1))(x, t)
    assert all(np.allclose(1e-6 * b, 1e-6 * e, rtol=1e-3, atol=1e-5) for b, e in zip(buggy, exact))
    assert not np.allclose(buggy[1], exact[1], rtol=1e-3, atol=1e-5)


def test_the_rule_the_lesson_copies_is_check_grads_own(rng):
    """check_grads draws from np.random.RandomState(0): its verdict on a one-entry bug is the
    copied rule's, entry by entry."""
    ns = _smax()
    x, t = rng.standard_normal(16), np.array(0.5)
    a_x, a_t = (np.asarray(g) for g in jax.grad(ns["smax_forward"], argnums=(0, 1))(x, t))
    draws = np.random.RandomState(0)
    v_x, v_t, c = draws.standard_normal(16), draws.standard_normal(), draws.standard_normal()
    for r in (1e-4, 1e-3):
        delta = r * np.linalg.norm(a_x)
        copied = [abs(c * v_x[at] * delta) <= 1e-5 + 1e-5 * abs(c * (v_x @ a_x + v_t * a_t))
                  for at in range(16)]
        actual = [_check_grads_passes(ns["make_smax"](extra=delta * np.eye(16)[at]), x, t)
                  for at in range(16)]
        assert copied == actual
    assert 0 < sum(actual) < 16  # at r = 1e-3 some entries are caught, some missed


def test_one_projection_misses_a_one_entry_bug_that_gradkit_catches(rng):
    ns = _smax()
    x, t = rng.standard_normal(64), np.array(0.5)
    a_x, a_t = (np.asarray(g) for g in jax.grad(ns["smax_forward"], argnums=(0, 1))(x, t))
    j = int(np.argmax(a_x))
    mc = np.random.default_rng(1)
    V, V_t, C = mc.standard_normal((5000, 64)), mc.standard_normal(5000), mc.standard_normal(5000)
    U = mc.random((5000, 64))
    U /= np.linalg.norm(U, axis=1, keepdims=True)

    def caught(r):
        delta = r * np.linalg.norm(a_x)
        jax_rule = np.abs(C * V[:, j] * delta) > 1e-5 + 1e-5 * np.abs(C * (V @ a_x + V_t * a_t))
        torch_rule = np.abs(U[:, j] * delta) > 1e-5 * U.sum(axis=1) + 1e-3 * np.abs(U @ a_x)
        return jax_rule.mean(), torch_rule.mean()

    assert 0.1 < caught(1e-4)[0] < 0.5 and 0.7 < caught(1e-3)[0] < 0.95
    assert caught(1e-3)[1] == 0.0 and caught(1e-1)[1] > 0.9
    op = ns["make_smax"](extra=1e-4 * np.linalg.norm(a_x) * np.eye(64)[j])

    def backward(p, dout):
        _, pullback = jax.vjp(op, p["x"], p["t"])
        gx, gt = pullback(jnp.asarray(dout))
        return {"x": np.asarray(gx), "t": np.asarray(gt)}

    forward = jax.jit(ns["smax_forward"])
    reports = [gk.check_vjp(lambda p: np.asarray(forward(p["x"], p["t"])), backward,
                            {"x": x, "t": t}, seed=seed) for seed in range(3)]
    assert all(r.failing == ["x"] for r in reports)
    assert f"x[{j}]" in reports[0].findings[0].message


# --- the auto-checked questions -------------------------------------------------------------

INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("10")


def _shows(result, answer):
    """Does any outcome of ``result`` show ``answer`` (quoted, or as a number)?"""
    return lessons.shows_any(result, [repr(answer), f'"{answer}"', f"`{answer}`"]
                             if isinstance(answer, str)
                             else [f"x[{answer}]", f" {answer} ", f" {answer}."])


def _mystery_answer(variant):
    """The solution's answer_10_5, run with the notebook's names and variant ``variant``'s op."""
    ns = _namespace("lse_stable", "smax_forward", "make_smax")
    x_s, t_s = np.random.default_rng(0).standard_normal(64), np.array(0.5)
    a_x = np.asarray(jax.grad(ns["smax_forward"])(x_s, t_s))
    ns.update(x_s=x_s, t_s=t_s, smax_jit=jax.jit(ns["smax_forward"]),
              smax_mystery=spec.mystery_smax(ns["make_smax"], variant, 1e-4 * np.linalg.norm(a_x)))
    exec(_definition("answer_10_5"), ns)
    return ns["answer_10_5"]


def _answer(exercise):
    return _mystery_answer(0) if exercise.id == "10.answer_10_5" else lessons.reference(exercise)


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answers_each_question_and_a_stub_is_unanswered(exercise):
    lessons.assert_question_answered(exercise, _answer(exercise))


@pytest.mark.parametrize("exercise_id", ["10.answer_10_1", "10.answer_10_2", "10.answer_10_4"])
def test_each_wrong_choice_gets_its_own_feedback_and_never_the_answer(exercise_id):
    lessons.assert_known_wrong_answers_get_their_feedback(
        SPECS[exercise_id], INSTRUCTOR_FILE.FEEDBACK[exercise_id], _shows)


def test_the_right_letters_vary():
    letters = [lessons.reference(SPECS[i])() for i in
               ("10.answer_10_1", "10.answer_10_2", "10.answer_10_4")]
    assert len(set(letters)) == 3


def test_the_predictions_are_what_the_lesson_measures(rng):
    """10.answer_10_1: float32's error at h = 1e-4 is of order 1e-3 (round-off, eps / h);
    10.answer_10_2: check_grads passes the sign error from w = 1e-5 on; 10.answer_10_4:
    PyTorch's positive direction never catches the one-entry bug at r = 1e-3."""
    assert lessons.reference(SPECS["10.answer_10_1"])() == "b"  # "about 1e-3"
    jax.config.update("jax_enable_x64", True)
    ns = _namespace("lse_stable")
    points = rng.standard_normal((200, 3))
    exact = np.exp(points[:, 0]) / np.sum(np.exp(points), axis=1)
    lse = jax.jit(ns["lse_stable"])
    up = np.asarray(lse(jnp.asarray(points + [1e-4, 0, 0], dtype=jnp.float32)), dtype=float)
    down = np.asarray(lse(jnp.asarray(points - [1e-4, 0, 0], dtype=jnp.float32)), dtype=float)
    error = np.median(np.abs((up - down) / 2e-4 - exact) / exact)
    assert 1e-4 < error < 1e-2 and error > 1e4 * 1e-8  # round-off, not h**2

    assert lessons.reference(SPECS["10.answer_10_2"])() == "c"  # "from 1e-5"
    smax = _smax()
    x, t = np.random.default_rng(10).standard_normal(64), np.array(0.5)
    bug = smax["make_smax"](t_sign=-1.0)
    passes = [_check_grads_passes(lambda x, t, w=w: w * bug(x, t), x, t)
              for w in (1.0, 1e-2, 1e-4, 1e-5, 1e-6)]
    assert passes == [False, False, False, True, True]
    assert lessons.reference(SPECS["10.answer_10_4"])() == "a"  # "almost never"


def test_the_mystery_key_is_the_planted_entry_and_the_lessons_check_finds_it():
    """For every variant, the key (gk.check_vjp's worst entry, on its own data) is the entry
    where the op's dJ/dx differs from autodiff's (found here without a check), and the
    solution's answer cell finds it too; variant 0 is the solution's answer."""
    key = INSTRUCTOR_FILE.key_answer_10_5
    ns = _smax()
    x, t = np.random.default_rng(3).standard_normal(64), np.array(0.5)
    exact = np.asarray(jax.grad(ns["smax_forward"])(x, t))
    answers = []
    for v in range(12):
        op = spec.mystery_smax(ns["make_smax"], v, 1e-4 * np.linalg.norm(exact))
        got = np.asarray(jax.vjp(op, x, t)[1](1.0)[0])
        (differ,) = np.flatnonzero(~np.isclose(got, exact, rtol=1e-9, atol=1e-12))
        assert key(v) == differ, v
        answers.append(key(v))
    assert _mystery_answer(0)() == answers[0] == lessons.INSTRUCTOR.question_answer(
        SPECS["10.answer_10_5"], 0)
    assert _mystery_answer(5)() == answers[5]
    assert len(set(answers)) >= 10 and 35 not in answers[:1]


def test_a_student_is_checked_against_their_own_variant():
    from gradkit.grading.variants import variant

    exercise = SPECS["10.answer_10_5"]
    key = INSTRUCTOR_FILE.key_answer_10_5
    student = next(f"s{k}" for k in range(100)
                   if key(variant(f"s{k}", "10.answer_10_5", 12)) != key(0))
    mine = key(variant(student, "10.answer_10_5", 12))
    assert check_exercise(exercise, lambda: mine, student_id=student).status == "passed"
    default = check_exercise(exercise, lambda: key(0), student_id=student)
    assert default.status == "failed" and not _shows(default, mine)
    assert default.outcomes[0].hint == exercise.hint
    planted = check_exercise(exercise, lambda: 35, student_id=student)
    assert planted.status == "failed"
    assert planted.outcomes[0].hint == INSTRUCTOR_FILE.FEEDBACK["10.answer_10_5"][35]
    assert check_exercise(exercise, lambda: mine + 0.5, student_id=student).status == "failed"


def test_the_check_data_of_each_question_is_the_instructors_entry():
    from gradkit.grading import checkdata

    for exercise in QUESTIONS:
        for v in range(max(1, exercise.question.variants)):
            entry = lessons.INSTRUCTOR.question_entry(exercise, v)
            assert entry["answer"], (exercise.id, v)
            assert checkdata.question_data(exercise, v) == entry, (exercise.id, v)
    source = Path(spec.__file__).read_text(encoding="utf-8")
    assert "key_answer" not in source and "FEEDBACK" not in source
