"""Lesson 08 specs: each reference passes its own tests, each Mistake fires on the wrong
answer it describes and never on the reference, a wrong answer no hint names gets the generic
hint, the notebook's answers are the references and agree with the library's backward passes,
the spec module holds no answer, and the lesson's claims hold: a dout of ones lets batchnorm
bugs through, a sampled check rarely finds a one-entry bug that a random direction always
finds, and max-pool ties are kinks whose only wrong tie-break fails jointly.

The references are the solution's answer cells (``lessons.reference``); the values of the
``wrong=`` mistakes come from ``solutions/instructor/lesson08.py``."""

import json
from pathlib import Path

import _lessons as lessons
import numpy as np
import pytest

import gradkit as gk
from gradkit import conv, layers
from gradkit.grading import lesson08 as spec
from gradkit.grading import plain
from gradkit.grading.feedback import check_exercise, expected_value, run_test
from gradkit.grading.lesson08 import EXERCISES

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "08_checking_layers.ipynb"
SPECS = {e.id: e for e in EXERCISES}
BACKWARDS = [e for e in EXERCISES if e.question is None]  # the four backward passes
QUESTIONS = [e for e in EXERCISES if e.question is not None]


def _outcomes(exercise_id, answer):
    return lessons.outcomes(SPECS[exercise_id], answer)


def _hints(exercise_id, wrong):
    """The hints of the failed public tests when ``wrong`` answers."""
    return set(lessons.failed_hints(SPECS[exercise_id], wrong))


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_reference_passes_its_own_tests(exercise):
    for test in exercise.tests:
        assert run_test(exercise, test, lessons.reference(exercise)).status == "pass", test.name
        plain.encode(test.run(lessons.reference(exercise)))  # returns plain data


def test_expected_values_are_plain():
    for exercise in BACKWARDS:
        for test in exercise.tests:
            expected_value(exercise, test)


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_no_mistake_fires_on_the_reference(exercise):
    for test in exercise.tests:
        got = expected_value(exercise, test)
        wrong = lessons.INSTRUCTOR.wrong_values(exercise, test)
        for mistake in exercise.mistakes:
            assert not mistake.matches(test.make_args(), got, got, wrong), (
                test.name, mistake.hint)


def test_every_wrong_mistake_has_a_value_on_some_public_test():
    for exercise in BACKWARDS:
        named = {m.wrong for m in exercise.mistakes if m.wrong}
        found = set().union(*(lessons.INSTRUCTOR.wrong_values(exercise, t)
                              for t in exercise.tests))
        assert named <= found, (exercise.id, named - found)


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_the_spec_module_holds_no_answer_body(exercise):
    lessons.assert_spec_holds_no_answer(spec, SOLUTION, exercise.function)


def test_the_integer_pool_tests_have_ties_and_overlap():
    tests = SPECS["08.max_pool_backward"].tests
    for test in tests[1:]:
        _, (x, _, pool, stride) = test.make_args()
        tied = sum(np.sum(w == w.max()) > 1
                   for w in (x[n, c, i:i + pool, j:j + pool]
                             for n, c in np.ndindex(x.shape[:2])
                             for i in range(0, x.shape[2] - pool + 1, stride)
                             for j in range(0, x.shape[3] - pool + 1, stride)))
        assert tied >= 2, test.name
    assert tests[2].make_args()[1][3] < tests[2].make_args()[1][2]  # stride < pool


# --- 08.softmax_cross_entropy_backward ----------------------------------------------------

def _softmax(variant):
    def fn(dloss, cache):
        probs, y = cache
        N = probs.shape[0]
        onehot = np.eye(probs.shape[1])[y]
        d = probs.copy()
        if variant == "columns":
            d[:, y] -= 1.0
            return d * dloss / N
        if variant == "rows":
            d[y] -= 1.0
            return d * dloss / N
        return {"no_1_over_N": (probs - onehot) * dloss,
                "twice": (probs - onehot) * dloss / N**2,
                "sign": (onehot - probs) * dloss / N,
                "no_dloss": (probs - onehot) / N,
                "no_subtract": probs * dloss / N,
                "tuple": ((probs - onehot) * dloss / N,)}[variant]
    return fn


@pytest.mark.parametrize("variant, words", [
    ("no_1_over_N", "forgot the 1/N"),
    ("twice", "divided by N twice"),
    ("sign", "sign is flipped"),
    ("no_dloss", "left out dloss"),
    ("no_subtract", "term of the true class"),
    ("columns", "wrong entries"),
    ("rows", "wrong entries"),
    ("tuple", "not a tuple"),
])
def test_softmax_mistakes_are_named(variant, words):
    hints = _hints("08.softmax_cross_entropy_backward", _softmax(variant))
    assert all(words in h for h in hints), hints


# --- 08.batchnorm_backward ----------------------------------------------------------------

def _batchnorm(variant):
    def fn(dout, cache):
        x_hat, inv_std, gamma, axis = cache
        ax = 1 if variant == "axis_1" else 0
        N = dout.shape[ax]
        g = dout if variant == "no_gamma" else dout * gamma
        mean = g.sum(axis=ax, keepdims=True)
        var = x_hat * (g * x_hat).sum(axis=ax, keepdims=True)
        front = inv_std
        if variant == "first_only":
            mean, var = 0.0, 0.0
        elif variant == "no_mean":
            mean = 0.0
        elif variant == "no_var":
            var = 0.0
        elif variant == "var_not_std":
            front = inv_std**2
        elif variant == "xhat_variance":
            front = 1 / np.sqrt(x_hat.var(axis=0, keepdims=True) + 1e-5)
        elif variant == "unbiased":
            var = var * N / (N - 1)
        dx = front / N * (N * g - mean - var)
        dgamma, dbeta = (dout * x_hat).sum(axis=0), dout.sum(axis=0)
        if variant == "swapped":
            dgamma, dbeta = dbeta, dgamma
        if variant == "per_row":
            dgamma, dbeta = dout * x_hat, dout
        if variant == "two_values":
            return dx, dgamma
        return dx, dgamma, dbeta
    return fn


@pytest.mark.parametrize("variant, words", [
    ("first_only", "only its first term"),
    ("no_mean", "missing the term through the mean"),
    ("no_var", "missing the term through the variance"),
    ("var_not_std", "1 / (var + eps), the square"),
    ("xhat_variance", "the variance of x_hat is 1"),
    ("unbiased", "unbiased variance"),
    ("axis_1", "summed over the features"),
    ("no_gamma", "leaves out gamma"),
    ("swapped", "swapped"),
    ("per_row", "shared by all N rows"),
    ("two_values", "three values"),
])
def test_batchnorm_mistakes_are_named(variant, words):
    hints = _hints("08.batchnorm_backward", _batchnorm(variant))
    assert all(words in h for h in hints), hints


# --- 08.conv2d_backward -------------------------------------------------------------------

def _conv(variant):
    def fn(dout, cache):
        x, w, b, stride, pad = cache
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        _, _, H_out, W_out = dout.shape
        step = 1 if variant == "no_stride" else stride
        kernel = w[:, :, ::-1, ::-1] if variant == "flipped_kernel" else w
        x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
        for n, f, i, j in np.ndindex(N, F, H_out, W_out):
            rows, cols = slice(i * step, i * step + HH), slice(j * step, j * step + WW)
            d = dout[n, f, i, j]
            dw[f] += d * x_pad[n, :, rows, cols]
            if variant == "assign":
                dx_pad[n, :, rows, cols] = d * kernel[f]
            else:
                dx_pad[n, :, rows, cols] += d * kernel[f]
        dx = dx_pad if variant == "uncropped" else dx_pad[:, :, pad:pad + H, pad:pad + W]
        db = dout.sum(axis=(0, 2, 3))
        if variant == "dw_flipped":
            dw = dw[:, :, ::-1, ::-1]
        elif variant == "dw_transposed":
            dw = dw.transpose(1, 0, 2, 3)
        elif variant == "dw_spatial_transposed":
            dw = dw.transpose(0, 1, 3, 2)
        elif variant == "db_over_N":
            db = dout.sum(axis=0)
        elif variant == "db_mean":
            db = dout.mean(axis=(0, 2, 3))
        elif variant == "two_values":
            return dx, dw
        return dx, dw, db
    return fn


@pytest.mark.parametrize("variant, words", [
    ("uncropped", "crop the pad border"),
    ("flipped_kernel", "flipped the kernel"),
    ("dw_flipped", "dw looks flipped"),
    ("dw_transposed", "channel axes swapped"),
    ("dw_spatial_transposed", "transposed in space"),
    ("assign", "overwrites what the windows"),
    ("no_stride", "ignores the stride"),
    ("db_over_N", "db is the sum"),
    ("db_mean", "db is the sum"),
    ("two_values", "three values"),
])
def test_conv_mistakes_are_named(variant, words):
    hints = _hints("08.conv2d_backward", _conv(variant))
    assert all(words in h for h in hints), hints


def test_a_dw_written_with_equals_gets_the_accumulate_hint():
    def dw_assigned(dout, cache):
        dx, dw, db = conv.conv2d_backward(dout, cache)
        x, w, _, stride, pad = cache
        x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        N, F, H_out, W_out = dout.shape
        _, _, HH, WW = w.shape
        dw = np.zeros_like(w)
        for n, f, i, j in np.ndindex(N, F, H_out, W_out):
            dw[f] = dout[n, f, i, j] * x_pad[n, :, i * stride:i * stride + HH,
                                             j * stride:j * stride + WW]
        return dx, dw, db

    hints = _hints("08.conv2d_backward", dw_assigned)
    assert all("overwrites what the windows" in h for h in hints), hints


# --- 08.max_pool_backward -----------------------------------------------------------------

def _pool(variant):
    def fn(dout, cache):
        x, argmax, pool, stride = cache
        dx = np.zeros_like(x)
        for n, c, i, j in np.ndindex(dout.shape):
            rows, cols = slice(i * stride, i * stride + pool), slice(j * stride, j * stride + pool)
            window, d = x[n, c, rows, cols], dout[n, c, i, j]
            p, q = divmod(int(argmax[n, c, i, j]), pool)
            if variant == "every_tie":
                dx[n, c, rows, cols] += (window == window.max()) * d
            elif variant == "split":
                ties = window == window.max()
                dx[n, c, rows, cols] += ties * d / ties.sum()
            elif variant == "top_left":
                dx[n, c, i * stride, j * stride] += d
            elif variant == "spread":
                dx[n, c, rows, cols] += d / pool**2
            elif variant == "swapped":
                dx[n, c, i * stride + q, j * stride + p] += d
            elif variant == "assign":
                dx[n, c, i * stride + p, j * stride + q] = d
            else:
                dx[n, c, i * stride + p, j * stride + q] += d
        return (dx,) if variant == "tuple" else dx
    return fn


@pytest.mark.parametrize("variant, words", [
    ("every_tie", "every tied maximum"),
    ("split", "split dout between the tied maxima"),
    ("top_left", "first (top-left) element"),
    ("spread", "average pooling"),
    ("swapped", "swapped the row and the column"),
    ("assign", "overwrites what the windows"),
    ("tuple", "not a tuple"),
])
def test_pool_mistakes_are_named(variant, words):
    hints = _hints("08.max_pool_backward", _pool(variant))
    assert all(words in h for h in hints), hints


def test_every_tie_and_split_pass_the_test_without_ties():
    exercise = SPECS["08.max_pool_backward"]
    for variant in ("every_tie", "split"):
        assert run_test(exercise, exercise.tests[0], _pool(variant)).status == "pass"


# --- the generic hint ---------------------------------------------------------------------

def _doubled_dx(reference):
    def fn(dout, cache):
        result = reference(dout, cache)
        if isinstance(result, tuple):
            return (2 * result[0],) + result[1:]
        return 2 * result
    return fn


def _dbeta_mean(dout, cache):
    dx, dgamma, _ = layers.batchnorm_backward(dout, cache)
    return dx, dgamma, dout.mean(axis=0)


@pytest.mark.parametrize("exercise_id, wrong", [
    ("08.softmax_cross_entropy_backward",
     lambda dloss, cache: dloss * (cache[0] - np.eye(cache[0].shape[1])[cache[1]])
     / cache[0].shape[1]),  # divided by C, not N
    ("08.batchnorm_backward", _dbeta_mean),
    ("08.conv2d_backward", _doubled_dx(conv.conv2d_backward)),
    ("08.max_pool_backward", _doubled_dx(lambda d, c: conv.max_pool_backward(d, c)[0])),
])
def test_a_mistake_no_hint_names_gets_the_generic_hint(exercise_id, wrong):
    exercise = SPECS[exercise_id]
    assert _hints(exercise_id, wrong) == {exercise.hint}


# --- the notebook's answers ---------------------------------------------------------------

def _notebook_cells():
    nb = json.loads(SOLUTION.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def _notebook_answer(name):
    cell = lessons.code_cell(SOLUTION, name)
    ns = {"np": np, "gk": gk}
    exec(cell, ns)
    return ns[name]


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_the_notebook_answer_is_the_reference(exercise):
    answer = _notebook_answer(exercise.function)
    lessons.assert_answer_is_reference(exercise, answer)


_LIBRARY = {
    "08.softmax_cross_entropy_backward": lambda d, c: layers.softmax_cross_entropy_backward(
        d, c)[0],
    "08.batchnorm_backward": layers.batchnorm_backward,
    "08.conv2d_backward": conv.conv2d_backward,
    "08.max_pool_backward": lambda d, c: conv.max_pool_backward(d, c)[0],
}


@pytest.mark.parametrize("exercise", BACKWARDS, ids=lambda e: e.id)
def test_the_reference_is_the_librarys_backward(exercise):
    lessons.assert_answer_is_reference(exercise, _LIBRARY[exercise.id])


@pytest.mark.parametrize("name, layer", [
    ("softmax_cross_entropy_backward", "softmax"),
    ("batchnorm_backward", "batchnorm"),
    ("conv2d_backward", "conv"),
    ("max_pool_backward", "pool"),
])
def test_the_notebook_answers_pass_check_layer(name, layer, rng):
    backward = _notebook_answer(name)
    if layer == "softmax":
        args = (rng.standard_normal((6, 4)), rng.integers(0, 4, size=6))
        report = gk.check_layer(layers.softmax_cross_entropy_forward, backward, *args)
    elif layer == "batchnorm":
        report = gk.check_layer(layers.batchnorm_forward, backward,
                                rng.standard_normal((6, 4)) * 3 + 1, rng.standard_normal(4),
                                rng.standard_normal(4))
    elif layer == "conv":
        report = gk.check_layer(conv.conv2d_forward, backward, rng.standard_normal((2, 3, 5, 5)),
                                rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4),
                                stride=2, pad=1)
    else:
        report = gk.check_layer(conv.max_pool_forward, backward,
                                rng.integers(0, 4, size=(2, 3, 4, 4)).astype(float))
    assert report.passed, str(report)


# --- the lesson's claims ------------------------------------------------------------------

def _bn_batch(rng):
    x = rng.standard_normal((6, 4)) * [1.0, 3.0, 0.2, 10.0] + [0.0, -2.0, 5.0, 1.0]
    return x, rng.standard_normal(4), rng.standard_normal(4)


def _bn_candidates():
    ns = {"np": np, "gk": gk}
    for cell in _notebook_cells():
        if "def zeros_backward(" in cell:
            exec(cell.split("print(")[0], ns)  # the definitions, not the table
    return ns["candidates"]


def test_the_sum_of_a_batchnorm_output_is_n_times_the_sum_of_beta(rng):
    x, gamma, beta = _bn_batch(rng)
    out, _ = layers.batchnorm_forward(x, gamma, beta)
    assert out.sum() == pytest.approx(6 * beta.sum(), abs=1e-12)
    numeric = gk.numerical_gradient(lambda p: layers.batchnorm_forward(p["x"], gamma, beta)[0]
                                    .sum(), {"x": x})["x"]
    assert np.abs(numeric).max() < 1e-8


def test_a_dout_of_ones_lets_batchnorm_bugs_through_and_a_random_one_does_not(rng):
    x, gamma, beta = _bn_batch(rng)
    ones = np.ones_like(x)
    verdicts = {label: [gk.check_layer(layers.batchnorm_forward, backward, x, gamma, beta,
                                       dout=dout).verdict for dout in (ones, None)]
                for label, backward in _bn_candidates().items()}
    assert verdicts == {
        "correct (gk.layers)": ["inconclusive", "pass"],
        "zeros for dx, dgamma": ["pass", "fail"],
        "no variance term": ["inconclusive", "fail"],
        "no mean term": ["fail", "fail"],
    }


def _one_entry_setup(rng):
    x = rng.standard_normal((2, 8, 3, 3))
    w, b = rng.standard_normal((16, 8, 3, 3)), rng.standard_normal(16)
    bad = (3, 2, 0, 1)

    def one_entry_bug(dout, cache):
        dx, dw, db = conv.conv2d_backward(dout, cache)
        dw[bad] *= 1.5
        return dx, dw, db

    out, cache = conv.conv2d_forward(x, w, b, stride=2, pad=1)
    dout = rng.standard_normal(out.shape)
    return x, w, b, bad, one_entry_bug, dout, cache


def test_random_directions_catch_a_one_entry_bug_and_the_auto_mode_names_it(rng):
    x, w, b, bad, one_entry_bug, dout, cache = _one_entry_setup(rng)
    correct = gk.check_layer(conv.conv2d_forward, conv.conv2d_backward, x, w, b, dout=dout,
                             stride=2, pad=1)
    assert correct.passed and correct.calls == 8
    auto = gk.check_layer(conv.conv2d_forward, one_entry_bug, x, w, b, dout=dout, stride=2, pad=1)
    assert auto.failing == ["w"]
    row = next(t for t in auto.tensors if t.name == "w")
    assert row.worst[0][0] == bad and 2 * w.size <= auto.calls <= 2 * w.size + 20
    dw_bug = one_entry_bug(dout, cache)[1]

    def L(v):
        return np.sum(conv.conv2d_forward(x, v, b, stride=2, pad=1)[0] * dout)

    for seed in range(20):
        v = np.random.default_rng(seed).standard_normal(w.shape)
        assert gk.relative_error(np.sum(dw_bug * v), gk.directional_derivative(L, w, v)) > 1e-6


def test_a_sampled_check_catches_a_one_entry_bug_with_chance_k_over_p(rng):
    x, w, b, bad, one_entry_bug, dout, cache = _one_entry_setup(rng)

    def L(p):
        return np.sum(conv.conv2d_forward(x, p["w"], b, stride=2, pad=1)[0] * dout)

    numeric = gk.numerical_gradient(L, {"w": w})["w"]
    dw_bug = one_entry_bug(dout, cache)[1]
    error = np.abs(dw_bug - numeric) / (np.abs(dw_bug) + np.abs(numeric))
    assert [tuple(int(i) for i in ix) for ix in np.argwhere(error > 1e-6)] == [bad]
    P = w.size
    for k in (10, 800):
        hits = 0
        for seed in range(1000):
            draw = np.random.default_rng(seed)
            hits += bool(np.any(error[tuple(draw.integers(0, m, size=k) for m in w.shape)] > 1e-6))
        p = 1 - (1 - 1 / P) ** k
        assert abs(hits / 1000 - p) < 4 * np.sqrt(p * (1 - p) / 1000) + 1e-3, (k, hits)


def test_at_a_tie_the_one_sided_slopes_are_zero_and_dout_and_a_joint_move_counts_once():
    window = np.array([[[[1.0, 3.0], [3.0, 0.0]]]])

    def L(x):
        return float(np.sum(conv.max_pool_forward(x)[0] * 0.8))

    e1, e2 = np.zeros_like(window), np.zeros_like(window)
    e1[0, 0, 0, 1] = e2[0, 0, 1, 0] = 1.0
    for e in (e1, e2):
        assert (L(window) - L(window - 1e-3 * e)) / 1e-3 == pytest.approx(0.0, abs=1e-12)
        assert (L(window + 1e-3 * e) - L(window)) / 1e-3 == pytest.approx(0.8)
    assert (L(window + 1e-3 * (e1 + e2)) - L(window)) / 1e-3 == pytest.approx(0.8)


@pytest.mark.parametrize("seed", range(3))
def test_ties_pass_as_kinks_and_only_the_wrong_tie_breaks_fail(seed):
    rng = np.random.default_rng(seed)
    x_int = rng.integers(0, 4, size=(2, 3, 4, 4)).astype(float)
    x_float = rng.standard_normal((2, 3, 4, 4))
    verdicts = {}
    for kind, x in (("float", x_float), ("integer", x_int)):
        out, cache = conv.max_pool_forward(x)
        dout = rng.standard_normal(out.shape)
        for variant in ("argmax", "split", "every_tie", "top_left"):
            r = gk.check_layer(conv.max_pool_forward, _pool(variant), x, dout=dout)
            verdicts[kind, variant] = (r.verdict, "kink" in r.kinds())
    assert verdicts == {
        ("float", "argmax"): ("pass", False), ("float", "split"): ("pass", False),
        ("float", "every_tie"): ("pass", False), ("float", "top_left"): ("fail", False),
        ("integer", "argmax"): ("pass", True), ("integer", "split"): ("pass", True),
        ("integer", "every_tie"): ("fail", True), ("integer", "top_left"): ("fail", True),
    }


def test_central_differences_call_the_correct_max_pool_wrong_at_ties(rng):
    x = rng.integers(0, 4, size=(2, 3, 4, 4)).astype(float)
    out, cache = conv.max_pool_forward(x)
    dout = rng.standard_normal(out.shape)
    numeric = gk.numerical_gradient(
        lambda p: np.sum(conv.max_pool_forward(p["x"])[0] * dout), {"x": x}, h=1e-5)["x"]
    assert gk.relative_error(conv.max_pool_backward(dout, cache)[0], numeric) > 0.05


def test_an_rnn_step_with_dwh_transposed_is_diagnosed_on_wh_only(rng):
    args = (rng.standard_normal((3, 4)), rng.standard_normal((3, 5)),
            0.5 * rng.standard_normal((4, 5)), 0.5 * rng.standard_normal((5, 5)),
            rng.standard_normal(5))

    def transposed(dh, cache):
        dx, dh_prev, dWx, dWh, db = layers.rnn_step_backward(dh, cache)
        return dx, dh_prev, dWx, dWh.T, db

    report = gk.check_layer(layers.rnn_step_forward, transposed, *args)
    assert report.failing == ["Wh"] and report.kinds() == ["transpose"]
    ignores = gk.check_layer(layers.rnn_step_forward,
                             lambda dh, c: layers.rnn_step_backward(np.ones_like(dh), c), *args)
    assert ignores.failing == ["x", "h_prev", "Wx", "Wh", "b"]
    assert all("ignores dout" in f.message for f in ignores.findings)


# --- the auto-checked questions -------------------------------------------------------------

INSTRUCTOR_FILE = lessons.INSTRUCTOR.module("08")


def _rnn_inputs(rng):
    return (rng.standard_normal((3, 4)), rng.standard_normal((3, 5)),
            0.5 * rng.standard_normal((4, 5)), 0.5 * rng.standard_normal((5, 5)),
            rng.standard_normal(5))


def _question_answer(exercise, variant=0):
    """The solution's answer function of ``exercise``; 08.answer_8_5's answer cell runs with
    the notebook's names, its mystery backward that of ``variant``."""
    if exercise.id != "08.answer_8_5":
        return lessons.reference(exercise)
    x_t, h_prev, Wx, Wh, b_rnn = _rnn_inputs(np.random.default_rng(0))
    ns = {"gk": gk, "rnn_step_forward": layers.rnn_step_forward, "x_t": x_t, "h_prev": h_prev,
          "Wx": Wx, "Wh": Wh, "b_rnn": b_rnn,
          "mystery_backward": spec.mystery_rnn_backward(variant)}
    exec(lessons.code_cell(SOLUTION, "answer_8_5"), ns)
    return ns["answer_8_5"]


def _shows(result, answer):
    """Does any outcome of ``result`` show ``answer`` (quoted, or as its number)?"""
    if isinstance(answer, str):
        needles = [repr(answer), f'"{answer}"', f"`{answer}`"]
    else:
        needles = [f"{answer:.1f}", f"{answer:.2f}", f"{answer:.3f}"]
    return lessons.shows_any(result, needles)


@pytest.mark.parametrize("exercise", QUESTIONS, ids=lambda e: e.id)
def test_the_solution_answers_each_question_and_a_stub_is_unanswered(exercise):
    lessons.assert_question_answered(exercise, _question_answer(exercise))


def test_the_questions_are_worth_half_a_point_to_one_and_the_derivation_more():
    points = {e.id: e.points for e in EXERCISES}
    assert points["08.answer_8_1"] == points["08.answer_8_3"] == 0.5  # predictions
    assert points["08.answer_8_4"] == points["08.answer_8_5"] == 1
    assert points["08.softmax_cross_entropy_backward"] == 3  # derived, no formula given


@pytest.mark.parametrize("exercise_id", ["08.answer_8_1", "08.answer_8_4"])
def test_each_wrong_choice_gets_its_own_feedback_and_never_the_answer(exercise_id):
    lessons.assert_known_wrong_answers_get_their_feedback(
        SPECS[exercise_id], INSTRUCTOR_FILE.FEEDBACK[exercise_id], _shows)


def test_the_ones_prediction_is_what_the_table_shows(rng):
    """08.answer_8_1's answer, one of the three bugs failing, is the table of section 3."""
    x, gamma, beta = _bn_batch(rng)
    failed = [label for label, backward in _bn_candidates().items()
              if gk.check_layer(layers.batchnorm_forward, backward, x, gamma, beta,
                                dout=np.ones_like(x)).verdict == "fail"]
    assert failed == ["no mean term"]
    assert lessons.reference(SPECS["08.answer_8_1"])() == "c"  # "c": the mean term's alone


def test_the_sampling_prediction_accepts_the_measured_rate_and_names_each_known_mistake():
    exercise = SPECS["08.answer_8_3"]
    predicted = lessons.reference(exercise)()
    assert predicted == pytest.approx(100 * 10 / 1152, rel=0.01)
    for measured in (1.1, 0.8, 1.3):  # the notebook's 1.1 %, and a seed's worth either way
        assert check_exercise(exercise, lambda m=measured: m).status == "passed"
    feedback = INSTRUCTOR_FILE.FEEDBACK["08.answer_8_3"]
    for value, why in feedback.items():
        for near in (value, value * 1.2):  # within the question's rtol of a listed value
            result = check_exercise(exercise, lambda v=near: v)
            assert result.status == "failed" and result.outcomes[0].hint == why, near
            assert not _shows(result, predicted)
    other = check_exercise(exercise, lambda: 3)  # near no listed value
    assert other.status == "failed" and other.outcomes[0].hint == exercise.hint


def test_the_mystery_key_is_the_one_gradient_that_differs_for_every_variant(rng):
    """The key of each variant, found by the lesson's check, is the gradient that differs
    from the library's backward, computed here without a check."""
    key = INSTRUCTOR_FILE.key_answer_8_5
    args = _rnn_inputs(rng)
    out, cache = layers.rnn_step_forward(*args)
    dh = rng.standard_normal(out.shape)
    right = layers.rnn_step_backward(dh, cache)
    answers = []
    for v in range(12):
        got = spec.mystery_rnn_backward(v)(dh, cache)
        differ = [name for name, a, b in zip(spec.RNN_INPUTS, got, right) if not np.allclose(a, b)]
        assert differ == [key(v)], v
        report = gk.check_layer(layers.rnn_step_forward, spec.mystery_rnn_backward(v), *args)
        assert report.failing == [key(v)], v  # solvable by the lesson's method, on any data
        answers.append(key(v))
    assert answers[0] == _question_answer(SPECS["08.answer_8_5"])() == "x"
    assert len(set(answers)) == 5  # every input is somebody's answer


def test_a_student_is_checked_against_their_own_variant():
    from gradkit.grading.variants import variant

    exercise = SPECS["08.answer_8_5"]
    key = INSTRUCTOR_FILE.key_answer_8_5
    student = next(f"s{k}" for k in range(100)
                   if key(variant(f"s{k}", "08.answer_8_5", 12)) != key(0))
    mine = key(variant(student, "08.answer_8_5", 12))
    assert check_exercise(exercise, lambda: mine, student_id=student).status == "passed"
    assert check_exercise(exercise, _question_answer(exercise, variant(student, "08.answer_8_5",
                                                                       12)),
                          student_id=student).status == "passed"
    default = check_exercise(exercise, lambda: key(0), student_id=student)
    assert default.status == "failed"  # the default variant's answer is not theirs
    assert not _shows(default, mine)
    for name in spec.RNN_INPUTS:
        if name != mine:
            result = check_exercise(exercise, lambda n=name: n, student_id=student)
            assert result.status == "failed" and name in result.outcomes[0].hint
            assert not _shows(result, mine)


def test_the_check_data_of_each_question_is_the_instructors_entry():
    from gradkit.grading import checkdata

    for exercise in QUESTIONS:
        for v in range(max(1, exercise.question.variants)):
            entry = lessons.INSTRUCTOR.question_entry(exercise, v)
            assert entry["answer"] and entry["feedback"], (exercise.id, v)
            assert checkdata.question_data(exercise, v) == entry, (exercise.id, v)


def test_the_installed_spec_holds_no_answer_of_a_question():
    source = Path(spec.__file__).read_text(encoding="utf-8")
    assert "key_answer" not in source and "FEEDBACK" not in source
    for exercise in QUESTIONS:
        assert not hasattr(spec, exercise.function)


# --- graded by gradkit grade --------------------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    import nbformat
    from _grading import edited, grade_variants

    solution = nbformat.read(SOLUTION, as_version=4)
    every_tie = edited(solution, "def max_pool_backward",
                       lambda _: "def max_pool_backward(dout, cache):\n"
                                 "    x, argmax, pool, stride = cache\n"
                                 "    dx = np.zeros_like(x)\n"
                                 "    for n, c, i, j in np.ndindex(dout.shape):\n"
                                 "        r = slice(i * stride, i * stride + pool)\n"
                                 "        s = slice(j * stride, j * stride + pool)\n"
                                 "        w = x[n, c, r, s]\n"
                                 "        dx[n, c, r, s] += (w == w.max()) * dout[n, c, i, j]\n"
                                 "    return dx\n")
    lesson = nbformat.read(ROOT / "lessons" / SOLUTION.name, as_version=4)
    # a student whose mystery differs from the default one: the solution's method finds theirs,
    # the default variant's answer, copied, is wrong for them
    student = edited(solution, "STUDENT_ID = ", lambda _: f"STUDENT_ID = {STUDENT!r}")
    copied = edited(student, "def answer_8_5():",
                    lambda _: 'def answer_8_5():\n    return "x"\n')
    return grade_variants(tmp_path_factory.mktemp("lesson08"), "08_checking_layers",
                          {"correct": solution, "every_tie": every_tie, "unanswered": lesson,
                           "student": student, "copied": copied},
                          timeout=60.0)


STUDENT = "s2024017"


def test_the_graded_student_has_a_mystery_other_than_the_default():
    from gradkit.grading.variants import variant

    v = variant(STUDENT, "08.answer_8_5", 12)
    assert INSTRUCTOR_FILE.key_answer_8_5(v) != INSTRUCTOR_FILE.key_answer_8_5(0) == "x"


def test_grader_grades_a_student_against_their_own_variant(graded):
    own, copied = graded["student"], graded["copied"]
    assert own.student_id == STUDENT and own.score == own.max_score == 14
    scores = copied.exercise_scores()
    assert scores["08.answer_8_5"] == 0 and copied.score == 13
    (output,) = [t.output for t in copied.tests if t.exercise == "08.answer_8_5"]
    key = INSTRUCTOR_FILE.key_answer_8_5
    from gradkit.grading.variants import variant

    assert repr(key(variant(STUDENT, "08.answer_8_5", 12))) not in output


def test_grader_gives_the_solution_full_marks(graded):
    sub = graded["correct"]
    assert sub.error is None and not sub.cell_errors, sub.cell_errors
    assert sub.score == sub.max_score == 14


def test_grader_takes_off_the_tie_tests_of_an_every_tie_max_pool(graded):
    sub = graded["every_tie"]
    scores = sub.exercise_scores()
    assert scores["08.softmax_cross_entropy_backward"] == 3 and scores["08.conv2d_backward"] == 3
    assert scores["08.max_pool_backward"] == pytest.approx(2 / 3)  # the float image passes
    outputs = [t.output for t in sub.tests
               if t.exercise == "08.max_pool_backward" and "integer image" in t.name]
    assert outputs and all("every tied maximum" in o for o in outputs), outputs


def test_grader_scores_the_unanswered_lesson_zero(graded):
    sub = graded["unanswered"]
    assert sub.error is None and sub.score == 0
    assert all("not answered yet" in t.output for t in sub.tests)
