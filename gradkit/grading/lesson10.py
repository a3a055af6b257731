"""Exercise specs of lesson 10, custom backward passes in JAX (``solutions/10_frameworks.ipynb``).

- ``10.lse_bwd`` — the backward of a stable log-sum-exp over the last axis, from
  the residuals ``(x, out)``, as ``(dx,)``: a first version, wrong in three ways, is found
  and fixed.
- ``10.softmax_ce_bwd`` — the fused backward of the mean softmax cross-entropy,
  from the residuals ``(p, y)``, as ``(dz, None)``.
- ``10.ste_bwd`` — the clipped straight-through estimator of ``sign``, from the
  residual ``x``, as ``(dx,)``.
- ``10.vjp_numpy`` — the vector-Jacobian product of a JAX function ``f`` at a dict of
  numpy inputs, with ``dout``, as a dict of numpy arrays: the backward that
  ``gk.check_vjp`` takes.

A backward rule is written with ``jax.numpy`` and returns a tuple, one cotangent
per input of the forward pass, as ``jax.custom_vjp`` wants. Each test calls it
through ``jax.jit`` (JAX traces a rule, as it does inside ``jax.grad`` of a
compiled function; compiled whole, a test costs one compilation instead of one
per operation) with JAX arrays in float64 (JAX's 64-bit mode is on during the
call), and turns what it returns into plain numbers: arrays as float arrays, a
``None`` cotangent as 0 (JAX reads it as zeros). The labels' cotangent of the
cross-entropy becomes a text, ``"None"`` for None or zeros (JAX accepts both), so
that it is compared as text, never with an array. JAX is imported only when a test
runs, never by importing this module.

The references are the answer cells of the solution notebook; the mistakes that need
a variant of an answer name a function of ``solutions/instructor/lesson10.py``.

And auto-checked questions (a letter or a number): three predictions made before the cell
that measures them (``10.answer_10_1``, the float32 error of a difference at
``check_grads``' step; ``10.answer_10_2``, the weight from which ``check_grads`` passes a
sign error; ``10.answer_10_4``, how often PyTorch's fast mode catches a one-entry bug) and
``10.answer_10_5``, a finding of one's own: which entry of a custom op's ``dJ/dx`` is wrong,
the op built by :func:`mystery_smax` from the student's variant. Their answers and the
feedback for each wrong one live in ``solutions/`` (the answer cells and
``solutions/instructor/lesson10.py``); the check data holds only their hashes.
"""

import contextlib

import numpy as np

from gradkit.grading.spec import Exercise, Mistake, Test, question

__all__ = ["EXERCISES", "mystery_smax"]


def _close(a, b, rtol=1e-6, atol=1e-9):
    try:
        a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    except (ValueError, TypeError):
        return False
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


@contextlib.contextmanager
def _x64():
    """JAX's 64-bit mode during a test, restored afterwards (the lesson turns it on).

    An error keeps its own message as its last line: JAX adds a note to the errors it
    raises (that it removed its frames from the traceback), which would stand in the
    check's note in place of what went wrong.
    """
    import jax

    before = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", True)
    try:
        yield
    except Exception as exc:
        notes = getattr(exc, "__notes__", None)
        if notes:
            exc.__notes__ = [n for n in notes if "removed its internal frames" not in n]
        raise
    finally:
        jax.config.update("jax_enable_x64", before)


def _as_jax(value):
    import jax.numpy as jnp

    if isinstance(value, tuple):
        return tuple(_as_jax(v) for v in value)
    return jnp.asarray(value)


def _plain(value):
    """What an answer returned, as numpy data: float arrays, None as 0, tuples as lists."""
    if value is None:
        return 0.0
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return np.asarray(value).astype(float)


def _bwd_call(fn, res, g):
    import jax

    with _x64():
        return _plain(jax.jit(fn)(_as_jax(res), _as_jax(g)))


def _labels_cotangent(dy):
    """The cotangent of integer labels, as text: "None" for None or zeros, else what it is."""
    if dy is None:
        return "None"
    dy = np.asarray(dy)
    if dy.dtype.kind in "biuf" and not np.any(dy):
        return "None"
    return f"nonzero, of shape {dy.shape}"


def _ce_call(fn, res, g):
    """As _bwd_call, with the labels' cotangent as text (see _labels_cotangent)."""
    import jax

    with _x64():
        got = jax.jit(fn)(_as_jax(res), _as_jax(g))
    if isinstance(got, (tuple, list)) and len(got) == 2:
        return [_plain(got[0]), _labels_cotangent(got[1])]
    return _plain(got)


def _vjp_call(fn, f, inputs, dout):
    with _x64():
        return _plain(fn(f, inputs, dout))


def _bare(got):
    return not isinstance(got, list)


_TUPLE_HINT = ("a backward rule returns a tuple with one cotangent per input of the forward "
               "pass, even when there is only one: return (dx,), not dx.")


def _softmax(logits):
    """The softmax of each row of ``logits`` (the forward pass the residual p comes from)."""
    return np.exp(logits - _lse(logits)[..., None])


def _lse(x):
    m = np.max(x, axis=-1, keepdims=True)
    return m[..., 0] + np.log(np.sum(np.exp(x - m), axis=-1))


def _lse_args(x, g):
    x = np.asarray(x, dtype=float)
    return lambda rng: ((x, _lse(x)), np.asarray(g, dtype=float))


def _random_lse_args(shape, g=None):
    def args(rng):
        x = rng.standard_normal(shape)
        return (x, _lse(x)), (rng.standard_normal(shape[0]) if g is None else np.asarray(g))
    return args


_LSE = Exercise(
    id="10.lse_bwd",
    title="The backward of a stable log-sum-exp",
    function="lse_bwd",
    points=4,  # three bugs to find and fix: more than a formula to copy
    tests=[
        Test("4 rows of 5, random g", args=_random_lse_args((4, 5)), call=_bwd_call,
             names=("dx",), shows="x = rng.standard_normal((4, 5)), out = lse(x), "
                                  "g = rng.standard_normal(4)"),
        Test("large entries: rows (1000, 999, 998) and (-1000, -1001, -1002), g = [3, -1]",
             args=_lse_args([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]], [3.0, -1.0]),
             call=_bwd_call, names=("dx",),
             shows="x = [[1000., 999., 998.], [-1000., -1001., -1002.]], "
                   "out = lse(x) = [1000.41, -999.59], g = [3., -1.]"),
        Test("3 rows of 3, g = [2, -1, 0.5]", args=_random_lse_args((3, 3), [2.0, -1.0, 0.5]),
             call=_bwd_call, names=("dx",), seed=1,
             shows="x = rng.standard_normal((3, 3)), out = lse(x), g = [2., -1., 0.5]"),
    ],
    mistakes=[
        Mistake(_TUPLE_HINT, lambda a, got: _bare(got)),
        Mistake("exp(x) overflows for entries like 1000 (it is inf beyond about 709): the "
                "saved output lets you write the softmax with no positive exponent.",
                lambda a, got: not np.all(np.isfinite(got[0]))),
        Mistake("you left out g, the upstream gradient: the chain rule scales each row by "
                "its own entry of it.", wrong="lse_without_g", part=0),
        Mistake("g has one entry per row of x, but yours multiplies the columns: look at how "
                "a shape (N,) broadcasts against (N, C).", wrong="lse_g_along_columns", part=0),
        Mistake("out has one entry per row of x, but yours is subtracted along the columns: "
                "look at how a shape (N,) broadcasts against (N, C).",
                wrong="lse_out_along_columns", part=0),
        Mistake("the derivative of log-sum-exp is the softmax, not exp(x): yours is missing "
                "the normalization that the saved output holds.", wrong="lse_exp_of_x", part=0),
    ],
    hint="dx is g times the softmax of each row, written with the saved output: out and g "
         "have one entry per row of x, so mind how they broadcast, and return the one-entry "
         "tuple (dx,). Use jnp, not np: JAX traces the rule, and np cannot take traced arrays.",
)


def _ce_args(z, y, g):
    def args(rng):
        logits = rng.standard_normal(z) if isinstance(z, tuple) else np.asarray(z, dtype=float)
        p = _softmax(logits)
        return (p, np.asarray(y)), np.asarray(g, dtype=float)
    return args


def _rows(a):
    """N, the number of rows of the batch of ``a = ((p, y), g)``."""
    return np.shape(a[0][0])[0]


_CE = Exercise(
    id="10.softmax_ce_bwd",
    title="The fused backward of softmax cross-entropy",
    function="softmax_ce_bwd",
    points=3,
    tests=[
        Test("4 rows, 3 classes, g = 1.5", args=_ce_args((4, 3), [0, 2, 1, 1], 1.5),
             call=_ce_call, names=("dz", "dy"),
             shows="p = softmax(rng.standard_normal((4, 3))), y = [0, 2, 1, 1], g = 1.5"),
        Test("2 rows, 5 classes, g = -0.5", args=_ce_args((2, 5), [4, 0], -0.5), seed=1,
             call=_ce_call, names=("dz", "dy"),
             shows="p = softmax(rng.standard_normal((2, 5))), y = [4, 0], g = -0.5"),
        Test("a confident wrong prediction and an undecided one, g = 2",
             args=_ce_args([[60.0, -60.0], [0.0, 0.0]], [1, 0], 2.0), call=_ce_call,
             names=("dz", "dy"),
             shows="p = softmax([[60., -60.], [0., 0.]]) = [[1., 7.7e-53], [0.5, 0.5]], "
                   "y = [1, 0], g = 2."),
    ],
    mistakes=[
        Mistake("a backward rule returns a tuple with one cotangent per input of the forward "
                "pass: softmax_ce(z, y) has two, so return (dz, None).",
                lambda a, got: _bare(got)),
        Mistake("softmax_ce(z, y) has two inputs, z and y, so the rule returns two cotangents: "
                "(dz, None), None for the labels.",
                lambda a, got: len(got) != 2),
        Mistake("y holds integer labels, which have no gradient: return None as their "
                "cotangent, (dz, None).",
                lambda a, got: not (isinstance(got[1], str) and got[1] == "None")),
        Mistake("the sign is flipped: differentiate the loss lse(z) - z_y again and see "
                "which of its two terms gives which sign.",
                lambda a, got, e: _close(got[0], -np.asarray(e[0]))),
        Mistake("yours is N times too large: the loss is the mean over the N rows of the "
                "batch, and its gradient keeps that mean.",
                lambda a, got, e: _close(got[0], _rows(a) * np.asarray(e[0]))),
        Mistake("you left out g, the upstream gradient of the loss (a number): the chain rule "
                "needs it.",
                lambda a, got, e: _close(got[0], np.asarray(e[0]) / float(a[1]))),
        Mistake("yours is p alone: the loss's term -z_y has a gradient too, and it is missing.",
                wrong="ce_without_onehot", part=0),
    ],
    hint="Reread the exercise's formula for dz: it has the upstream g, the batch size N and "
         "the one-hot labels; return (dz, None). Use jnp and jax.nn, not np: JAX traces the "
         "rule.",
)


def _ste_args(x=None, g=None, shape=None):
    def args(rng):
        xs = np.asarray(x, dtype=float) if x is not None else rng.uniform(-2, 2, shape)
        gs = np.asarray(g, dtype=float) if g is not None else rng.standard_normal(xs.shape)
        return xs, gs
    return args


_STE = Exercise(
    id="10.ste_bwd",
    title="A straight-through estimator",
    function="ste_bwd",
    points=2,
    tests=[
        Test("x = [-1.7, -0.6, -0.05, 0.3, 0.8, 1.4], g = 2",
             args=_ste_args([-1.7, -0.6, -0.05, 0.3, 0.8, 1.4], np.full(6, 2.0)),
             call=_bwd_call, names=("dx",),
             shows="x = [-1.7, -0.6, -0.05, 0.3, 0.8, 1.4], g = np.full(6, 2.)"),
        Test("x uniform in (-2, 2) of shape (3, 4), random g", args=_ste_args(shape=(3, 4)),
             call=_bwd_call, names=("dx",), seed=1,
             shows="x = rng.uniform(-2, 2, (3, 4)), g = rng.standard_normal((3, 4))"),
    ],
    mistakes=[
        Mistake(_TUPLE_HINT, lambda a, got: _bare(got)),
        Mistake("that is sign's true derivative, zero almost everywhere, which leaves training "
                "stuck: the straight-through estimator is deliberately something else (section 4).",
                lambda a, got: _close(got[0], np.zeros_like(a[0]))),
        Mistake("this is the unclipped estimator, g everywhere: the lesson's estimator is the "
                "derivative of clip(x, -1, 1), which is not 1 for every x.",
                lambda a, got: _close(got[0], a[1])),
        Mistake("the mask is the wrong way round: yours passes g where the estimator blocks it, "
                "and blocks it where it passes.",
                wrong="ste_mask_flipped", part=0),
        Mistake("you returned the mask alone: the upstream gradient g is missing.",
                wrong="ste_mask_alone", part=0),
    ],
    hint="Reread the straight-through estimator's formula in section 4: g, kept or zeroed by "
         "a condition on x; return the one-entry tuple (dx,). Use jnp, not np: JAX traces the "
         "rule.",
)


def _tanh_affine(p):
    import jax.numpy as jnp

    return jnp.tanh(p["x"] @ p["w"])


def _scaled_square(p):
    import jax.numpy as jnp

    return jnp.sum(p["x"] ** 2) * p["s"][0]


def _sin_times_x(p):
    import jax.numpy as jnp

    return jnp.sin(p["x"]) * p["x"]


def _vjp_args(f, shapes, dout):
    def args(rng):
        import jax

        inputs = {k: rng.standard_normal(s) for k, s in shapes.items()}
        # compiled: its vjp costs two compilations, not one per operation
        return jax.jit(f), inputs, (rng.standard_normal(dout) if isinstance(dout, tuple)
                                    else np.asarray(dout, dtype=float))
    return args


_VJP = Exercise(
    id="10.vjp_numpy",
    title="A JAX function's backward for gradkit",
    function="vjp_numpy",
    points=2,
    tests=[
        Test("f = tanh(x @ w), x (3, 4), w (4, 2), random dout (3, 2)",
             args=_vjp_args(_tanh_affine, {"x": (3, 4), "w": (4, 2)}, (3, 2)), call=_vjp_call,
             shows="f = lambda p: jnp.tanh(p['x'] @ p['w']), inputs = {'x': (3, 4), "
                   "'w': (4, 2)} random, dout = rng.standard_normal((3, 2))"),
        Test("a scalar f = sum(x**2) * s, dout = 0.7",
             args=_vjp_args(_scaled_square, {"x": (5,), "s": (1,)}, 0.7), seed=1,
             call=_vjp_call,
             shows="f = lambda p: jnp.sum(p['x']**2) * p['s'][0], inputs = {'x': (5,), "
                   "'s': (1,)} random, dout = np.array(0.7)"),
        Test("f = sin(x) * x, one input, random dout (6,)",
             args=_vjp_args(_sin_times_x, {"x": (6,)}, (6,)), seed=2, call=_vjp_call,
             shows="f = lambda p: jnp.sin(p['x']) * p['x'], inputs = {'x': (6,)} random, "
                   "dout = rng.standard_normal(6)"),
    ],
    mistakes=[
        Mistake("you returned the pullback's tuple itself: it has one entry per argument of f, "
                "and f has one, the dict, so unpack it.",
                lambda a, got: isinstance(got, list) and len(got) == 1
                and isinstance(got[0], dict)),
        Mistake("you ignored dout: this is the gradient of sum(f(inputs)), as if dout were all "
                "ones, but a vector-Jacobian product weighs the outputs by dout.",
                wrong="vjp_ignoring_dout"),
    ],
    hint="jax.vjp gives f's pullback at inputs, as the paragraph above the exercise says; mind "
         "what the pullback returns, and return a dict keyed like inputs with numpy arrays.",
)

# ---- the questions ------------------------------------------------------------------------

def mystery_smax(make_smax, variant, size, n=64):
    """``make_smax(extra=e)``: the lesson's custom op with ``size`` added to one entry of its
    ``dJ/dx`` (of ``n`` entries), the entry picked by ``variant`` (0 .. 11, from the student
    id). ``make_smax`` is the lesson's factory of section 5; any factory that takes ``extra``
    (a vector added to ``dJ/dx``) will do."""
    entry = int(np.random.default_rng([10, 5, int(variant)]).integers(n))
    return make_smax(extra=size * np.eye(n)[entry])


_Q101 = question("10.answer_10_1", "answer_10_1", points=0.5, kind="choice",
                 options=("a", "b", "c", "d"), title="The float32 error at check_grads' step",
                 hint="Lesson 02: a central difference has a truncation error of order h**2 "
                      "and a round-off error of order eps / h; which is larger at h = 1e-4 "
                      "in float32?")
_Q102 = question("10.answer_10_2", "answer_10_2", points=0.5, kind="choice",
                 options=("a", "b", "c", "d", "e"),
                 title="The weight from which check_grads passes a sign error",
                 hint="The two projections check_grads compares scale with w, and its "
                      "tolerance has an absolute part of 1e-5.")
_Q104 = question("10.answer_10_4", "answer_10_4", points=0.5, kind="choice",
                 options=("a", "b", "c", "d"),
                 title="How often a positive direction sees one entry",
                 hint="PyTorch's tolerance has a part proportional to the projection itself: "
                      "what is the projection of an all-positive gradient on an all-positive "
                      "direction, next to one entry's share of it?")
_Q105 = question("10.answer_10_5", "answer_10_5", points=1, kind="number", digits=0,
                 variants=12, title="Which entry is wrong",
                 hint="Check smax_mystery with gk.check_vjp and vjp_numpy, as the cell above "
                      "checks one_entry_bug, and read which entry of x the report names.")

EXERCISES = [_Q101, _LSE, _CE, _STE, _Q102, _VJP, _Q104, _Q105]

FORK = False
"""JAX compiles on a thread pool that a forked child does not inherit: the grader runs this
lesson inline, one worker per exercise (see :mod:`gradkit.grading.worker`)."""
