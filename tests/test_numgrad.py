"""Finite differences and the complex step: orders measured, inputs left alone, errors clear."""

import numpy as np
import pytest

import gradkit as gk
from gradkit.numgrad import default_step, directional_derivative, numerical_gradient


def _slope(method, hs, x0=0.7):
    # f = exp(sin(x)) has no special structure at x0: every Taylor term is present.
    f = lambda x: float(np.exp(np.sin(x[0])))  # noqa: E731
    exact = np.cos(x0) * np.exp(np.sin(x0))
    errs = [abs(numerical_gradient(f, np.array([x0]), h=h, method=method)[0] - exact)
            for h in hs]
    return np.polyfit(np.log(hs), np.log(errs), 1)[0]


@pytest.mark.parametrize(
    ("method", "order", "hs"),
    [
        ("forward", 1, np.logspace(-2, -4, 5)),
        ("backward", 1, np.logspace(-2, -4, 5)),
        ("central", 2, np.logspace(-1, -3, 5)),
        ("central4", 4, np.logspace(-0.5, -1.5, 5)),
    ],
)
def test_error_shrinks_with_the_order_of_each_method(method, order, hs):
    assert _slope(method, hs) == pytest.approx(order, abs=0.15)


def test_one_sided_difference_is_not_second_order():
    # The negative of the test above: a forward difference must not look O(h²).
    assert _slope("forward", np.logspace(-2, -4, 5)) < 1.3


def test_complex_step_is_exact_to_machine_precision():
    x0 = 0.7
    f = lambda x: np.exp(np.sin(x[0]))  # noqa: E731
    exact = np.cos(x0) * np.exp(np.sin(x0))
    g = numerical_gradient(f, np.array([x0]), method="complex")[0]
    assert abs(g - exact) / abs(exact) < 1e-15
    central = numerical_gradient(f, np.array([x0]))[0]
    assert abs(central - exact) / abs(exact) > 1e-13  # central cannot do that


def test_complex_step_goes_through_relu():
    # numpy orders complex numbers by real part first: np.maximum(1 + 1e-20j, 0) keeps 1e-20j
    f = lambda x: np.sum(np.maximum(x, 0) ** 2)  # noqa: E731
    assert abs(numerical_gradient(f, np.array([1.0]), method="complex")[0] - 2.0) < 1e-15
    assert numerical_gradient(f, np.array([-1.0]), method="complex")[0] == 0.0
    # at the kink the imaginary parts decide: relu gets its right-hand slope
    relu = lambda x: np.sum(np.maximum(x, 0))  # noqa: E731
    assert numerical_gradient(relu, np.array([0.0]), method="complex")[0] == 1.0


@pytest.mark.parametrize(
    "drop",
    [np.abs, np.real, lambda x: x.real, lambda x: x.astype(float),
     lambda x: np.asarray(x, dtype=float), lambda x: float(x[0])],
    ids=["np.abs", "np.real", ".real", "astype(float)", "asarray(dtype=float)", "float()"],
)
@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
def test_dropping_the_imaginary_part_breaks_the_complex_step_clearly(drop):
    f = lambda x: np.sum(drop(x) ** 2)  # noqa: E731
    assert numerical_gradient(f, np.array([1.0]))[0] == pytest.approx(2.0)  # f itself is fine
    match = (r"method='complex' needs f to carry complex numbers through, but f returned a real "
             r"number (when theta\[0\] was perturbed|along a random direction): .*np.abs, "
             r".real, float\(\) or a cast to a real dtype.*or use method='central'")
    with pytest.raises(TypeError, match=match):
        numerical_gradient(f, np.array([1.0]), method="complex")
    with pytest.raises(TypeError, match=match):
        directional_derivative(f, np.array([1.0]), np.array([1.0]), method="complex")


def test_default_steps_balance_truncation_and_round_off():
    eps = np.finfo(np.float64).eps
    assert default_step("forward") == pytest.approx(eps ** 0.5)
    assert default_step("central") == pytest.approx(eps ** (1 / 3))
    assert default_step("central4") == pytest.approx(eps ** 0.2)
    assert default_step("central", np.float32) == pytest.approx(np.finfo(np.float32).eps ** (1 / 3))


def test_gradient_of_a_dict_matches_the_closed_form(rng):
    A = rng.normal(size=(4, 3))
    y = rng.normal(size=(4, 1))
    params = {"w": rng.normal(size=(3, 1)), "c": np.array([[0.3]])}

    def f(p):
        r = A @ p["w"] + p["c"] - y
        return 0.5 * float(np.sum(r**2)) + float(np.sum(np.exp(p["w"])))

    r = A @ params["w"] + params["c"] - y
    exact = {"w": A.T @ r + np.exp(params["w"]), "c": np.array([[r.sum()]])}
    for method in ("central", "central4", "complex"):
        g = numerical_gradient(f if method != "complex" else _complex_f(A, y), params,
                               method=method)
        assert set(g) == {"w", "c"} and g["w"].shape == (3, 1)
        assert gk.relative_error(g, exact) < 1e-9


def _complex_f(A, y):
    def f(p):
        r = A @ p["w"] + p["c"] - y
        return 0.5 * np.sum(r**2) + np.sum(np.exp(p["w"]))
    return f


def test_float32_inputs_are_differenced_in_float64():
    x = np.array([0.3, -1.2], dtype=np.float32)
    seen = []

    def f(v):
        seen.append(v.dtype)
        return float(np.sum(np.sin(v)))

    g = numerical_gradient(f, x)
    assert set(seen) == {np.dtype(np.float64)}
    assert g.dtype == np.float64
    assert np.max(np.abs(g - np.cos(x.astype(np.float64)))) < 1e-9


def test_inputs_are_restored_even_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    params = {"W": x}
    calls = []

    def f(p):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("boom")
        return float(np.sum(p["W"] ** 2))

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, params)
    assert params["W"] is x and np.array_equal(x, [1.0, 2.0, 3.0])


def test_f_is_never_given_the_callers_array():
    x = np.array([1.0, 2.0])
    got = []
    numerical_gradient(lambda v: got.append(v) or float(np.sum(v)), x)
    assert all(v is not x for v in got)


def test_directional_derivative_is_gradient_dot_direction(rng):
    x = rng.normal(size=(3, 2))
    v = rng.normal(size=(3, 2))
    d = directional_derivative(lambda p: float(np.sum(np.sin(p))), x, v)
    assert d == pytest.approx(float(np.sum(np.cos(x) * v)), rel=1e-8)


def test_relative_error_is_normwise_and_symmetric():
    a, b = np.array([3.0, 4.0]), np.array([3.0, 4.5])
    assert gk.relative_error(a, b) == pytest.approx(0.5 / (5 + np.hypot(3, 4.5)))
    assert gk.relative_error(a, b) == gk.relative_error(b, a)
    assert gk.relative_error(np.zeros(2), np.zeros(2)) == 0.0
    assert gk.relative_error(a, -a) == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("f", "params", "kwargs", "error", "match"),
    [
        (lambda x: x * 2, np.ones(5), {}, ValueError,
         r"f returned an array of shape \(5,\).*expected a scalar cost: did you forget np.mean"),
        (lambda x: float("nan"), np.ones(2), {}, ValueError, r"f returned nan.*must be finite"),
        (lambda x: "cost", np.ones(2), {}, TypeError, "f returned str"),
        (lambda x: np.sum(np.abs(x)), np.ones(2), {"method": "complex"}, TypeError,
         r"f returned a real number when theta\[0\] was perturbed: something in f drops "
         r"the imaginary part, such as np.abs, .real, float\(\) or a cast to a real dtype"
         r".*or use method='central'"),
        (lambda x: float(np.sum(x)), np.ones(2), {"method": "midpoint"}, ValueError,
         r"method='midpoint' is not a known difference; choose one of 'forward'"),
        (lambda x: float(np.sum(x)), np.ones(2), {"h": -1e-3}, ValueError,
         "h must be a positive step"),
        (lambda x: float(np.sum(x)), np.arange(3), {}, TypeError,
         r"params has dtype int64: gradients need floating-point arrays. If it is a parameter, "
         r"convert it"),
        (lambda x: float(np.sum(x)), {}, {}, ValueError, "empty dict"),
        ("not callable", np.ones(2), {}, TypeError, "f must be a function params -> cost"),
    ],
)
def test_bad_input_gets_a_clear_error(f, params, kwargs, error, match):
    with pytest.raises(error, match=match):
        numerical_gradient(f, params, **kwargs)
