"""check_vjp and check_layer: layer backward passes checked through an upstream gradient.

Each behaviour is shown on a correct layer and on a broken one: what passes
must pass, and what is wrong must fail, named and explained.
"""

import functools

import numpy as np
import pytest

import gradkit as gk


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# ---- small layers, written here (cache convention) --------------------------------------


def affine_forward(x, w, b):
    return x @ w + b, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return dout @ w.T, x.T @ dout, dout.sum(axis=0)


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    xhat = (x - mu) / np.sqrt(var + eps)
    return gamma * xhat + beta, (xhat, gamma, var, eps)


def batchnorm_backward(dout, cache, eps_in_std=True):
    xhat, gamma, var, eps = cache
    n = dout.shape[0]
    std = np.sqrt(var + (eps if eps_in_std else 0.0))
    dxhat = dout * gamma
    dx = (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0)) / (n * std)
    return dx, (dout * xhat).sum(axis=0), dout.sum(axis=0)


def max_pool_forward(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5)), (x,)


def max_pool_backward(dout, cache, every_tie=False):
    (x,) = cache
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        target = dx[n, c, 2 * i:2 * i + 2, 2 * j:2 * j + 2]
        if every_tie:
            target += (window == window.max()) * dout[n, c, i, j]
        else:
            target[np.unravel_index(np.argmax(window), window.shape)] += dout[n, c, i, j]
    return dx


def svm_forward(scores, y):
    n = scores.shape[0]
    margins = np.maximum(0, scores - scores[np.arange(n), y][:, None] + 1)
    margins[np.arange(n), y] = 0
    return margins.sum() / n, (scores, y)


def svm_backward(dloss, cache):
    scores, y = cache
    n = scores.shape[0]
    margins = scores - scores[np.arange(n), y][:, None] + 1
    positive = (margins > 0).astype(float)
    positive[np.arange(n), y] = 0
    positive[np.arange(n), y] = -positive.sum(axis=1)
    return dloss * positive / n, None


def binary_hinge_forward(s, y):  # labels ±1.0, as floats
    return np.mean(np.maximum(0, 1 - y * s)), (s, y)


def binary_hinge_backward(dloss, cache):
    s, y = cache
    return dloss * -y * (1 - y * s > 0) / len(s)


def softmax_ce(p):
    z = p["scores"] - p["scores"].max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(p["y"])), p["y"]].mean()


def softmax_ce_backward(p, dloss):
    z = np.exp(p["scores"] - p["scores"].max(axis=1, keepdims=True))
    probs = z / z.sum(axis=1, keepdims=True)
    probs[np.arange(len(p["y"])), p["y"]] -= 1
    return {"scores": dloss * probs / len(p["y"])}


def dropout_forward(x, seed, p=0.5):
    mask = np.random.default_rng(seed).random(x.shape) < p
    return x * mask / p, mask


def calls_of(fn):
    """fn wrapped so that its calls are counted in .count."""
    @functools.wraps(fn)
    def counted(*args, **kwargs):
        counted.count += 1
        return fn(*args, **kwargs)
    counted.count = 0
    return counted


# ---- the basics ---------------------------------------------------------------------------


def test_a_correct_layer_passes_and_a_transposed_weight_is_named(rng):
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 3)), rng.normal(size=3)
    report = gk.check_layer(affine_forward, affine_backward, x, w, b)
    assert report.passed and report.failing == []
    assert [t.name for t in report.tensors] == ["x", "w", "b"]

    def transposed(dout, cache):
        dx, dw, db = affine_backward(dout, cache)
        return dx, dw.T, db

    bad = gk.check_layer(affine_forward, transposed, x, w, b)
    assert bad.failing == ["w"] and "transpose" in bad.kinds()
    message = next(f.message for f in bad.findings if f.kind == "transpose")
    assert "dw = x.T @ dout" in message and "dW = dZ @ A_prev.T" in message


def test_check_vjp_takes_named_inputs_and_integer_labels_pass_through(rng):
    inputs = {"scores": rng.normal(size=(6, 4)), "y": rng.integers(0, 4, size=6)}
    report = gk.check_vjp(softmax_ce, softmax_ce_backward, inputs)
    assert report.passed and [t.name for t in report.tensors] == ["scores"]
    assert inputs["y"].dtype.kind == "i"  # never converted, never differenced

    def no_mean(p, dloss):
        return {"scores": softmax_ce_backward(p, dloss)["scores"] * len(p["y"])}

    bad = gk.check_vjp(softmax_ce, no_mean, inputs)
    assert bad.failing == ["scores"] and bad.kinds() == ["scale"]
    assert bad.findings[0].value == pytest.approx(6, rel=1e-6)


def test_the_report_counts_calls_of_forward_within_budget(rng):
    x, w, b = rng.normal(size=(5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    forward = calls_of(affine_forward)
    report = gk.check_layer(forward, affine_backward, x, w, b)
    assert report.passed and "calls of forward" in str(report)
    assert forward.count <= 4 + 2 * 3  # the budget: 4 + 2 per differentiated input
    assert report.calls <= forward.count


def test_tuple_and_dict_outputs(rng):
    x = rng.normal(size=(3, 4))

    def forward(p):
        return np.tanh(p["x"]), p["x"] ** 2

    def backward(p, dout):
        dh, dc = dout
        return {"x": dh * (1 - np.tanh(p["x"]) ** 2) + dc * 2 * p["x"]}

    assert gk.check_vjp(forward, backward, {"x": x}).passed

    def forgets_c(p, dout):
        return {"x": dout[0] * (1 - np.tanh(p["x"]) ** 2)}

    assert gk.check_vjp(forward, forgets_c, {"x": x}).failing == ["x"]
    as_dict = gk.check_vjp(lambda p: dict(zip("hc", forward(p))),
                           lambda p, d: backward(p, (d["h"], d["c"])), {"x": x})
    assert as_dict.passed and set(as_dict.dout) == {"h", "c"}


def test_lstm_style_layers_return_several_outputs_and_the_cache_last(rng):
    def step_forward(x, w):
        h = np.tanh(x @ w)
        return h, h * x[:, :1], (x, w, h)

    def step_backward(dh, dc, cache):
        x, w, h = cache
        dh = dh + dc * x[:, :1]
        dz = dh * (1 - h ** 2)
        dx = dz @ w.T
        dx[:, :1] += (dc * h).sum(axis=1, keepdims=True)
        return dx, x.T @ dz

    x, w = rng.normal(size=(4, 3)), rng.normal(size=(3, 2))
    assert gk.check_layer(step_forward, step_backward, x, w).passed

    def wrong_dc(dh, dc, cache):
        return step_backward(dh, 0 * dc, cache)

    assert gk.check_layer(step_forward, wrong_dc, x, w).failing == ["x", "w"]


def test_embedding_with_integer_indices_gets_one_gradient(rng):
    def embed_forward(idx, table):
        return table[idx], (idx, table.shape)

    def embed_backward(dout, cache):
        idx, shape = cache
        d = np.zeros(shape)
        np.add.at(d, idx, dout)
        return d

    def embed_overwrites(dout, cache):  # d[idx] = dout loses repeated indices
        idx, shape = cache
        d = np.zeros(shape)
        d[idx] = dout
        return d

    idx, table = np.array([0, 2, 2, 1]), rng.normal(size=(4, 3))
    report = gk.check_layer(embed_forward, embed_backward, idx, table)
    assert report.passed and [t.name for t in report.tensors] == ["table"]
    assert gk.check_layer(embed_forward, embed_overwrites, idx, table).failing == ["table"]


# ---- dout -----------------------------------------------------------------------------------


def test_the_random_dout_is_seeded_and_never_all_ones(rng):
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    one = gk.check_layer(affine_forward, affine_backward, x, w, b)
    again = gk.check_layer(affine_forward, affine_backward, x, w, b)
    other = gk.check_layer(affine_forward, affine_backward, x, w, b, seed=1)
    assert np.array_equal(one.dout, again.dout) and not np.array_equal(one.dout, other.dout)
    assert one.dout.shape == (5, 2) and (one.dout < 0).any() and (one.dout > 0).any()


def test_an_all_ones_dout_hides_a_batchnorm_bug_that_the_random_one_catches(rng):
    x, gamma, beta = rng.normal(size=(8, 4)), rng.normal(size=4), rng.normal(size=4)

    def no_dx(dout, cache):
        dx, dgamma, dbeta = batchnorm_backward(dout, cache)
        return np.zeros_like(dx), dgamma, dbeta

    ones = gk.check_layer(batchnorm_forward, no_dx, x, gamma, beta, dout=np.ones((8, 4)))
    assert "x" not in ones.failing  # Σ out does not depend on x: the bug hides
    assert gk.check_layer(batchnorm_forward, no_dx, x, gamma, beta).failing == ["x"]


def test_a_backward_that_ignores_dout_is_told_so(rng):
    x = rng.normal(size=(4, 5))

    def relu(p):
        return np.maximum(p["x"], 0)

    def ignores(p, dout):
        return {"x": (p["x"] > 0).astype(float)}

    report = gk.check_vjp(relu, ignores, {"x": x})
    assert report.failing == ["x"] and report.kinds() == ["mismatch"]
    assert "ignores dout" in report.findings[0].message
    inputs = {"scores": rng.normal(size=(6, 4)), "y": rng.integers(0, 4, size=6)}
    scalar = gk.check_vjp(softmax_ce, lambda p, d: softmax_ce_backward(p, 1.0), inputs)
    assert scalar.failing == ["scores"] and "ignores dout" in scalar.findings[0].message


@pytest.mark.parametrize("dout", [0.7, -0.7, -3.0])
def test_for_a_loss_the_sign_and_size_of_dout_never_change_a_diagnosis(rng, dout):
    x, w = rng.normal(size=(6, 3)), rng.normal(size=(3, 1))
    t, reg = rng.normal(size=(6, 1)), 0.3

    def loss(p):
        return 0.5 * np.mean((p["x"] @ p["w"] - t) ** 2) + 0.5 * reg * np.sum(p["w"] ** 2)

    def grads(p, dloss, l2=True, factor=1.0):
        r = (p["x"] @ p["w"] - t) / len(t)
        return {"x": dloss * r @ p["w"].T,
                "w": factor * dloss * (p["x"].T @ r + (reg * p["w"] if l2 else 0))}

    inputs = {"x": x, "w": w}
    assert gk.check_vjp(loss, grads, inputs, dout=dout).passed
    missing = gk.check_vjp(loss, lambda p, d: grads(p, d, l2=False), inputs, dout=dout)
    assert missing.failing == ["w"] and missing.kinds() == ["missing_l2"]
    assert missing.findings[0].value == pytest.approx(reg, rel=1e-4)
    assert "reg ≈ 0.3" in missing.findings[0].message
    doubled = gk.check_vjp(loss, lambda p, d: grads(p, d, factor=2.0), inputs, dout=dout,
                           wrt="w")
    assert doubled.failing == ["w"] and doubled.kinds() == ["scale"]
    assert doubled.findings[0].value == pytest.approx(2, rel=1e-6)
    flipped = gk.check_vjp(loss, lambda p, d: grads(p, d, factor=-1.0), inputs, dout=dout)
    assert flipped.failing == ["w"] and flipped.kinds() == ["sign"]


# ---- what is reported instead of checked -----------------------------------------------


def test_a_backward_that_modifies_dout_or_its_inputs_is_reported(rng):
    x = rng.normal(size=(3, 4))
    saved = x.copy()

    def relu(p):
        return np.maximum(p["x"], 0)

    def in_place(p, dout):
        dout *= p["x"] > 0
        return {"x": dout}

    with pytest.raises(ValueError, match=r"backward modified dout in place"):
        gk.check_vjp(relu, in_place, {"x": x})

    def clobbers(p, dout):
        p["x"] *= 2
        return {"x": dout * (p["x"] > 0)}

    with pytest.raises(ValueError, match=r"backward modified inputs\['x'\] in place"):
        gk.check_vjp(relu, clobbers, {"x": x})

    def forward_clobbers(p):
        p["x"] -= 1
        return p["x"]

    with pytest.raises(ValueError, match=r"forward modified inputs\['x'\] in place"):
        gk.check_vjp(forward_clobbers, lambda p, d: {"x": d}, {"x": x})
    assert np.array_equal(x, saved)


@pytest.mark.parametrize("call, message", [
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"x": d}, {"x": x}, wrt="z"),
     r"wrt names 'z', which is not in inputs \(x\)"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"x": d}, {"x": x, "y": y},
                               wrt="y"),
     r"wrt names 'y', which is int64, not a float array: integer inputs"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"x": d}, {"y": y}),
     r"no float array to differentiate \(integer arrays such as labels pass through"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"x": d}, {"x": x},
                               dout=np.ones(3)),
     r"dout has shape \(3,\) but the output has shape \(3, 4\)"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"w": d}, {"x": x}),
     r"backward returned no gradient for 'x'"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: d, {"x": x}),
     r"backward must return a dict of gradients keyed like inputs \(x\)"),
    (lambda x, y: gk.check_vjp(lambda p: "out", lambda p, d: {"x": d}, {"x": x}),
     r"forward returned str as out: return an array"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"x": d.T}, {"x": x}),
     r"grads\['x'\] has shape \(4, 3\) but params\['x'\] has shape \(3, 4\)"),
    (lambda x, y: gk.check_layer(dropout_forward, lambda d, c: d, x),
     r"dropout_forward takes a parameter named 'seed', but check_layer keeps seed= for "
     r"itself \(to draw dout\): pass the layer's seed positionally"),
    (lambda x, y: gk.check_vjp(lambda p: affine_forward(p["x"], p["x"].T, 0.0),
                               lambda p, d: {"x": d}, {"x": x}),
     r"If forward returns \(out, cache\), it is a layer in the cache convention: check it "
     r"with gk.check_layer"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: None, {"x": x}),
     r"backward returned None: is its return statement missing\?"),
    (lambda x, y: gk.check_vjp(lambda p: p["x"], lambda p, d: {"dx": d}, {"x": x}),
     r"no gradient for 'x' \(it returned 'dx'\).*name gradients like the inputs"),
    (lambda x, y: gk.check_layer(affine_forward, lambda d, c: (d @ c[1].T, None, d.sum(0)),
                                 x, x.T, x[:, 0]),
     r"backward returned None as the gradient of 'w'"),
    (lambda x, y: gk.check_layer(binary_hinge_forward, binary_hinge_backward, x[0],
                                 np.array([1.0, -1.0, 1.0, 1.0])),
     r"has 2 float array argument\(s\) \(s, y\).*is not differentiated when it is an "
     r"integer or bool array"),
    (lambda x, y: gk.check_layer(affine_forward, affine_backward, x, w=x.T, b=x[:, 0]),
     r"keyword arguments \(w, b\) are passed unchanged and never differentiated"),
    (lambda x, y: gk.check_layer(lambda x: x, lambda d, c: d, x),
     r"must return \(out, cache\), as in the cache convention"),
    (lambda x, y: gk.check_layer(affine_forward, lambda d, c: (d, d), x, x.T, x[:, 0]),
     r"returned 2 gradient\(s\), but affine_forward has 3 float array argument\(s\) "
     r"\(x, w, b\)"),
])
def test_bad_input_gets_an_error_that_says_what_to_fix(rng, call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call(rng.normal(size=(3, 4)), np.array([0, 1, 2]))


# ---- kinks and ties: no false alarm, but joint validity ---------------------------------


def test_max_pool_on_integer_images_passes_however_many_ties(rng):
    x = rng.integers(0, 4, size=(2, 3, 8, 8)).astype(float)
    report = gk.check_layer(max_pool_forward, max_pool_backward, x)
    assert report.passed and report.kinds() == ["kink"] and report.findings[0].value > 64
    assert "valid subgradient" in report.findings[0].message


def test_sending_dout_to_every_tied_maximum_fails_jointly(rng):
    x = rng.integers(0, 4, size=(2, 3, 8, 8)).astype(float)
    report = gk.check_layer(max_pool_forward,
                            lambda d, c: max_pool_backward(d, c, every_tie=True), x)
    assert report.failing == ["x"]
    message = next(f.message for f in report.findings if f.kind == "mismatch")
    assert "not all together" in message and "one of several tied maxima" in message


def test_a_hinge_loss_on_integer_scores_passes(rng):
    scores = rng.integers(-2, 3, size=(20, 5)).astype(float)
    y = rng.integers(0, 5, size=20)
    report = gk.check_layer(svm_forward, svm_backward, scores, y)
    assert report.passed and report.findings[0].kind == "kink"

    def zero_margin_half_active(dloss, cache):
        # a margin of exactly 0 counted as active for its own score (`>= 0`), but not in
        # the correct class's count (`> 0`): each entry alone is a one-sided slope
        d, _ = svm_backward(dloss, cache)
        scores, y = cache
        rows = np.arange(len(y))
        zero = scores - scores[rows, y][:, None] + 1 == 0
        zero[rows, y] = False
        return d + dloss * zero / len(y), None

    bad = gk.check_layer(svm_forward, zero_margin_half_active, scores, y)
    assert bad.failing == ["scores"] and "not all together" in bad.findings[-1].message


def test_a_kink_is_reported_only_with_evidence_and_its_message_is_true(rng):
    x = np.array([[1.5, 0.0, -2.0, 0.0, 3.0, 0.0]])
    report = gk.check_vjp(lambda p: np.maximum(p["x"], 0),
                          lambda p, d: {"x": d * (p["x"] > 0)}, {"x": x})
    assert report.passed and report.kinds() == ["kink"]
    assert "equal to the left-hand one" in report.findings[0].message
    # a smooth function whose gradient is off near the tolerance: never a "kink"
    z = rng.normal(size=(6, 7)) * 30

    def lse(p):
        m = p["z"].max(axis=1, keepdims=True)
        return np.sum(m + np.log(np.exp(p["z"] - m).sum(axis=1, keepdims=True)))

    e = np.exp(z - z.max(axis=1, keepdims=True))
    noisy = e / e.sum(axis=1, keepdims=True) * (1 + 3e-6 * rng.normal(size=z.shape))
    smooth = gk.check_gradients(lse, {"z": z}, {"z": noisy}, mode="full")
    assert "kink" not in smooth.kinds()


def test_a_structurally_zero_gradient_returned_as_zeros_passes(rng):
    x, w = rng.normal(size=(8, 3)), rng.normal(size=(3, 4))
    b, gamma, beta = rng.normal(size=4), rng.normal(size=4), rng.normal(size=4)

    def forward(p):  # a bias right before batchnorm cancels out
        return batchnorm_forward(p["x"] @ p["w"] + p["b"], p["gamma"], p["beta"])[0]

    def backward(p, dout, db_wrong=False):
        _, cache = batchnorm_forward(p["x"] @ p["w"] + p["b"], p["gamma"], p["beta"])
        dz, dgamma, dbeta = batchnorm_backward(dout, cache)
        db = dout.sum(axis=0) if db_wrong else np.zeros(4)  # Σ dz is 0 up to round-off
        return {"x": dz @ p["w"].T, "w": p["x"].T @ dz, "b": db, "gamma": dgamma,
                "beta": dbeta}

    inputs = {"x": x, "w": w, "b": b, "gamma": gamma, "beta": beta}
    report = gk.check_vjp(forward, backward, inputs)
    assert report.verdict == "pass"
    for mode in ("auto", "full"):
        assert gk.check_vjp(forward, backward, inputs, mode=mode).verdict == "pass"
    wrong = gk.check_vjp(forward, lambda p, d: backward(p, d, db_wrong=True), inputs)
    assert wrong.failing == ["b"]


# ---- sharper than the tolerance ---------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 3.0, 5.0])
def test_batchnorm_without_eps_in_the_backward_fails_below_the_tolerance(rng, scale):
    x = rng.normal(size=(8, 5)) * scale
    gamma, beta = rng.normal(size=5), rng.normal(size=5)
    assert gk.check_layer(batchnorm_forward, batchnorm_backward, x, gamma, beta).passed
    bad = gk.check_layer(batchnorm_forward,
                         lambda d, c: batchnorm_backward(d, c, eps_in_std=False),
                         x, gamma, beta)
    assert bad.failing == ["x"]
    if bad.per_parameter["x"] < bad.tolerance:
        finding = next(f for f in bad.findings if f.parameter == "x")
        assert "under the tolerance" in finding.message and finding.value > 100


# ---- diagnoses in n-D -------------------------------------------------------------------


def conv_forward(x, w, b):
    n, c, h, wd = x.shape
    f, _, kh, kw = w.shape
    out = np.zeros((n, f, h - kh + 1, wd - kw + 1))
    for i, j in np.ndindex(out.shape[2:]):
        out[:, :, i, j] = np.tensordot(x[:, :, i:i + kh, j:j + kw], w, ((1, 2, 3), (1, 2, 3)))
    return out + b[None, :, None, None], (x, w)


def conv_backward(dout, cache):
    x, w = cache
    kh, kw = w.shape[2:]
    dx, dw = np.zeros_like(x), np.zeros_like(w)
    for i, j in np.ndindex(dout.shape[2:]):
        dx[:, :, i:i + kh, j:j + kw] += np.tensordot(dout[:, :, i, j], w, (1, 0))
        dw += np.tensordot(dout[:, :, i, j], x[:, :, i:i + kh, j:j + kw], (0, 0))
    return dx, dw, dout.sum(axis=(0, 2, 3))


def test_a_conv_weight_with_swapped_kernel_axes_is_a_transpose(rng):
    x, w, b = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    assert gk.check_layer(conv_forward, conv_backward, x, w, b).passed

    def swapped(dout, cache):
        dx, dw, db = conv_backward(dout, cache)
        return dx, dw.transpose(0, 1, 3, 2), db

    report = gk.check_layer(conv_forward, swapped, x, w, b)
    assert report.failing == ["w"] and report.kinds() == ["transpose"]
    assert "(0, 1, 3, 2)" in report.findings[0].message


def test_check_gradients_points_a_layer_or_integer_labels_to_check_vjp(rng):
    x = rng.normal(size=(3, 4))
    with pytest.raises(ValueError, match=r"shape \(3, 4\).*use gk.check_vjp\(forward, backward"):
        gk.check_gradients(lambda p: np.tanh(p["x"]), {"x": x}, {"x": x})
    labels = np.array([0, 2, 1])
    with pytest.raises(TypeError, match=r"params\['y'\] has dtype int64.*labels or indices.*"
                                         r"gk.check_vjp, which passes integer inputs"):
        gk.check_gradients(lambda p: 0.0, {"x": x, "y": labels}, {"x": x, "y": labels})


# ---- the course's own layers ------------------------------------------------------------


def _course_layers(rng):
    from gradkit import conv, layers
    ints = rng.integers(0, 3, size=(2, 3, 6, 6)).astype(float)  # max-pool ties
    return {
        "conv2d": (conv.conv2d_forward, conv.conv2d_backward,
                   (rng.normal(size=(2, 3, 7, 7)), rng.normal(size=(4, 3, 3, 3)),
                    rng.normal(size=4)), {"stride": 2, "pad": 1}),
        "max_pool": (conv.max_pool_forward, conv.max_pool_backward, (ints,), {}),
        "batchnorm": (layers.batchnorm_forward, layers.batchnorm_backward,
                      (rng.normal(size=(8, 5)) * 3, rng.normal(size=5), rng.normal(size=5)),
                      {}),
        "layernorm": (layers.layernorm_forward, layers.layernorm_backward,
                      (rng.normal(size=(4, 6)), rng.normal(size=6), rng.normal(size=6)), {}),
        "softmax_ce": (layers.softmax_cross_entropy_forward,
                       layers.softmax_cross_entropy_backward,
                       (rng.normal(size=(6, 4)), rng.integers(0, 4, size=6)), {}),
        "rnn_step": (layers.rnn_step_forward, layers.rnn_step_backward,
                     (rng.normal(size=(3, 4)), rng.normal(size=(3, 5)),
                      rng.normal(size=(4, 5)), rng.normal(size=(5, 5)), rng.normal(size=5)),
                     {}),
    }


@pytest.mark.parametrize("layer", ["conv2d", "max_pool", "batchnorm", "layernorm",
                                   "softmax_ce", "rnn_step"])
def test_the_course_layers_pass_check_layer_and_a_broken_gradient_fails(rng, layer):
    forward, backward, args, consts = _course_layers(rng)[layer]
    report = gk.check_layer(forward, backward, *args, **consts)
    assert report.verdict == "pass", str(report)

    def first_gradient_halved(dout, cache):
        grads = backward(dout, cache)
        return (grads[0] * 0.5, *grads[1:])

    bad = gk.check_layer(forward, first_gradient_halved, *args, **consts)
    first = [t.name for t in report.tensors][0]
    assert bad.failing == [first]
    scale = next(f for f in bad.findings if f.parameter == first and f.kind != "kink")
    assert scale.kind == "scale" and scale.value == pytest.approx(0.5, rel=1e-4)


def test_a_float32_layer_is_judged_as_float32_and_a_real_bug_still_fails(rng):
    from gradkit import layers
    args = [a.astype(np.float32) for a in (rng.normal(size=(6, 5)), rng.normal(size=5),
                                            rng.normal(size=5))]
    report = gk.check_layer(layers.batchnorm_forward, layers.batchnorm_backward, *args)
    assert report.passed and report.kinds() == ["low_precision"]
    assert report.tolerance == 1e-4

    def one_percent_off(dout, cache):
        dx, dgamma, dbeta = layers.batchnorm_backward(dout, cache)
        return dx * 1.01, dgamma, dbeta

    bad = gk.check_layer(layers.batchnorm_forward, one_percent_off, *args)
    assert bad.failing == ["x"] and "scale" in bad.kinds()


def test_relu_of_an_all_zero_input_passes_with_either_convention_at_zero():
    x = np.zeros((3, 4))

    def relu(p):
        return np.maximum(p["x"], 0)

    for derivative_at_zero in (0.0, 1.0):
        def backward(p, dout, s=derivative_at_zero):
            return {"x": dout * np.where(p["x"] > 0, 1.0, s)}
        report = gk.check_vjp(relu, backward, {"x": x})
        assert report.passed and report.kinds() == ["kink"]
    doubled = gk.check_vjp(relu, lambda p, d: {"x": 2 * d}, {"x": x})
    assert doubled.failing == ["x"]


# ---- exactly on kinks that no single entry's move resolves -------------------------------


def affine_relu_forward(x, w, b):
    z = x @ w + b
    return np.maximum(z, 0), (x, w, z)


def affine_relu_backward(dout, cache, bug=False):
    x, w, z = cache
    dz = dout * (z > 0) * (1.5 if bug else 1.0)
    return dz @ w.T, x.T @ dz, dz.sum(axis=0)


def test_a_zero_input_row_with_zero_biases_is_inconclusive_not_wrong():
    rng = np.random.default_rng(11)
    x, w = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    x[2] = 0  # every ReLU of this row sits at exactly 0, through several weights at once
    report = gk.check_layer(affine_relu_forward, affine_relu_backward, x, w, np.zeros(3))
    assert report.verdict == "inconclusive" and report.failing == []
    message = next(f.message for f in report.findings if "cannot tell" in f.message)
    assert "off the kinks, the backward pass agrees" in message.replace("\n", " ")
    bad = gk.check_layer(affine_relu_forward,
                         lambda d, c: affine_relu_backward(d, c, bug=True), x, w, np.zeros(3))
    assert bad.verdict == "fail" and "x" in bad.failing


def test_a_check_of_gradients_names_entries_stuck_on_kinks():
    rng = np.random.default_rng(11)
    x, w = rng.normal(size=(5, 4)), rng.normal(size=(4, 3))
    x[2] = 0
    _, cache = affine_relu_forward(x, w, np.zeros(3))
    dout = rng.normal(size=(5, 3))

    def f(p):
        return np.sum(affine_relu_forward(p["x"], w, np.zeros(3))[0] * dout)

    report = gk.check_gradients(f, {"x": x}, {"x": affine_relu_backward(dout, cache)[0]})
    assert report.failing == ["x"]  # check_gradients cannot look nearby: it says why
    assert "exactly on kinks, and the analytic value is neither one-sided slope" in (
        report.findings[-1].message)


def overlapping_pool_forward(x):
    n, c, h, w = x.shape
    out = np.empty((n, c, h - 2, w - 2))
    for i, j in np.ndindex(h - 2, w - 2):
        out[:, :, i, j] = x[:, :, i:i + 3, j:j + 3].max(axis=(2, 3))
    return out, (x,)


def overlapping_pool_backward(dout, cache, every_tie=False):
    (x,) = cache
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(dout.shape):
        window = x[n, c, i:i + 3, j:j + 3]
        k = np.unravel_index(np.argmax(window), window.shape)
        dx[n, c, i + k[0], j + k[1]] += dout[n, c, i, j]
    return dx


def test_an_overlapping_max_pool_on_an_integer_image_is_not_called_wrong():
    x = np.random.default_rng(2).integers(0, 4, size=(2, 2, 6, 6)).astype(float)
    for seed in range(3):
        report = gk.check_layer(overlapping_pool_forward, overlapping_pool_backward, x,
                                seed=seed)
        assert report.verdict in ("pass", "inconclusive") and report.failing == []

    def spread(dout, cache):  # dout split over the window: wrong on and off the kinks
        (x,) = cache
        dx = np.zeros_like(x)
        for n, c, i, j in np.ndindex(dout.shape):
            dx[n, c, i:i + 3, j:j + 3] += dout[n, c, i, j] / 9
        return dx

    assert gk.check_layer(overlapping_pool_forward, spread, x).failing == ["x"]


def test_a_float32_layer_whose_backward_promotes_to_float64_keeps_its_diagnosis():
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    report = gk.check_layer(lambda x: (np.tanh(x), np.tanh(x)),
                            lambda d, t: 2.0 * d * (1 - t.astype(np.float64) ** 2), x)
    assert report.failing == ["x"] and "scale" in report.kinds()


def test_a_joint_failure_shows_in_the_headline(rng):
    x = rng.integers(0, 4, size=(2, 3, 8, 8)).astype(float)
    report = gk.check_layer(max_pool_forward,
                            lambda d, c: max_pool_backward(d, c, every_tie=True), x)
    assert report.relative_error > report.tolerance
    assert report.per_parameter["x"] > report.tolerance


def test_check_layer_takes_the_check_options(rng):
    x, w, b = rng.normal(size=(5, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    full = gk.check_layer(affine_forward, affine_backward, x, w, b, mode="full")
    assert full.passed and full.mode == "full" and all(t.how == "full" for t in full.tensors)
    assert gk.check_layer(affine_forward, affine_backward, x, w, b, method="complex").passed


def test_a_few_exact_zeros_are_located_not_paid_for_with_every_entry(rng):
    x = rng.normal(size=(50, 100))
    x[7, 3] = x[40, 90] = 0.0  # two exact zeros among 5,000 entries

    def relu(p):
        return np.maximum(p["x"], 0)

    report = gk.check_vjp(relu, lambda p, d: {"x": d * (p["x"] > 0)}, {"x": x})
    assert report.passed and report.kinds() == ["kink"] and report.findings[0].value == 2
    assert report.calls < 200  # entry by entry would take 10,000
    wrong = gk.check_vjp(relu, lambda p, d: {"x": d * (p["x"] > 0) * 1.01}, {"x": x})
    assert wrong.failing == ["x"] and "scale" in wrong.kinds()
