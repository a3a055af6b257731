"""Exercise specs of lesson 03, gradient checking (``solutions/03_gradient_checking.ipynb``).

- ``03.relative_error`` — the normwise relative error
  ``‖grad − gradapprox‖ / (‖grad‖ + ‖gradapprox‖)``, 0 when both are zero.
- ``03.gradient_check_n`` — the classic gradient check of any parameter dict
  (any number of layers): flatten with :func:`gradkit.params.dict_to_vector`,
  central differences entry by entry with step ``epsilon``, the relative error.
- ``03.per_tensor_errors`` — the relative error of each named tensor, as
  ``[(name, error), ...]``, so that one wrong small tensor cannot hide in the
  global number.

The tests of ``03.gradient_check_n`` use small networks of :mod:`gradkit.mlp`
with correct gradients and with wrong ones; its results are compared with a
relative tolerance where a bug dominates the error, and only bounded from
above where round-off does (two correct implementations differ there).
"""

import numpy as np

from gradkit import mlp
from gradkit.grading.spec import Exercise, Mistake, Test
from gradkit.numgrad import numerical_gradient
from gradkit.params import dict_to_vector, vector_to_dict

__all__ = ["EXERCISES", "gradient_check_n", "per_tensor_errors", "relative_error"]


def relative_error(grad, gradapprox):
    denominator = np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    if denominator == 0:
        return 0.0
    return float(np.linalg.norm(grad - gradapprox) / denominator)


def gradient_check_n(cost, params, grads, epsilon=1e-7):
    theta, spec = dict_to_vector(params)
    grad, _ = dict_to_vector(grads, spec)  # in the order of params, whatever the order of grads
    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        theta_plus, theta_minus = theta.copy(), theta.copy()
        theta_plus[i] += epsilon
        theta_minus[i] -= epsilon
        J_plus = cost(vector_to_dict(theta_plus, spec))
        J_minus = cost(vector_to_dict(theta_minus, spec))
        gradapprox[i] = (J_plus - J_minus) / (2 * epsilon)
    return relative_error(grad, gradapprox)


def per_tensor_errors(grads, numeric):
    return [(name, relative_error(grads[name], numeric[name])) for name in grads]


def _close(a, b, rtol=1e-4):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=0.0))


_A = np.array([1.0, 2.0, 3.0])
_B = np.array([1.0, 2.0, 3.1])


def _matrices(rng):
    W = rng.standard_normal((4, 3))
    return W, W + 1e-3 * rng.standard_normal((4, 3))


def _norm(v):
    return float(np.linalg.norm(v))


_RELATIVE = Exercise(
    id="03.relative_error",
    title="The relative error",
    function="relative_error",
    points=3,
    reference=relative_error,
    tests=[
        Test("vectors that differ in one entry", args=(_A, _B),
             shows="grad = [1., 2., 3.], gradapprox = [1., 2., 3.1]"),
        Test("a 4x3 weight gradient and a close approximation", args=_matrices, seed=3,
             shows="grad = W (4x3), gradapprox = W + 1e-3 * noise"),
        Test("the same pair in other units (times 1e-8): same error", args=(1e-8 * _A, 1e-8 * _B),
             shows="grad = 1e-8 * [1., 2., 3.], gradapprox = 1e-8 * [1., 2., 3.1]"),
        Test("both zero: 0.0, not nan", args=(np.zeros(3), np.zeros(3)),
             shows="grad = [0., 0., 0.], gradapprox = [0., 0., 0.]"),
        Test("opposite gradients: the largest possible error, 1", args=(_A, -_A),
             shows="grad = [1., 2., 3.], gradapprox = [-1., -2., -3.]"),
    ],
    mistakes=[
        Mistake("when both gradients are zero, 0/0 is nan: return 0.0 in that case.",
                lambda a, got: bool(np.isnan(got))),
        Mistake("that is the absolute difference ‖grad − gradapprox‖; divide it by "
                "‖grad‖ + ‖gradapprox‖ so the error does not depend on the units of the cost.",
                lambda a, got: _close(got, _norm(a[0] - a[1]), 1e-6)),
        Mistake("divide by the sum of both norms, ‖grad‖ + ‖gradapprox‖. Dividing by one of "
                "them, or by the larger one (max, as in CS231n's notes: symmetric too), gives "
                "about twice this error for close gradients, and 2 for opposite ones.",
                lambda a, got: _close(got, _norm(a[0] - a[1]) / _norm(a[0]), 1e-6)
                or _close(got, _norm(a[0] - a[1]) / _norm(a[1]), 1e-6)),  # max is one of them
        Mistake("use the 2-norms (np.linalg.norm) of the whole vectors, not squared norms.",
                lambda a, got: _close(got, _norm(a[0] - a[1]) ** 2
                                      / (_norm(a[0]) ** 2 + _norm(a[1]) ** 2), 1e-6)),
    ],
    hint="Compute np.linalg.norm(grad - gradapprox) / (np.linalg.norm(grad) + "
         "np.linalg.norm(gradapprox)), and return 0.0 when the denominator is 0.",
)


def _net(rng, dims, hidden="tanh", m=6):
    """A small network with random biases, data, its cost function and correct gradients."""
    params = mlp.init_params(dims, seed=int(rng.integers(1000)), scale="xavier")
    for name in params:
        if name.startswith("b"):
            params[name] = 0.1 * rng.standard_normal(params[name].shape)
    X = rng.standard_normal((dims[0], m))
    Y = (rng.random((dims[-1], m)) < 0.5).astype(float)

    def cost(p):
        return mlp.cost(p, X, Y, hidden=hidden)

    return cost, params, mlp.gradients(params, X, Y, hidden=hidden)


def _correct_3_layers(rng):
    return _net(rng, [3, 4, 3, 1])


def _dw2_doubled(rng):
    cost, params, grads = _net(rng, [3, 4, 3, 1])
    grads["W2"] = 2 * grads["W2"]
    return cost, params, grads


def _logistic_db_over_m(rng):
    cost, params, grads = _net(rng, [4, 1], m=8)
    grads["b1"] = grads["b1"] / 8  # db averaged once more: a forgotten-twice 1/m
    return cost, params, grads


def _large_epsilon(rng):
    return (*_net(rng, [2, 3, 1], m=5), 1e-2)


def _grads_in_another_order(rng):
    cost, params, grads = _net(rng, [3, 4, 3, 1])
    return cost, params, dict(reversed(list(grads.items())))


def _params_after(fn, cost, params, grads):
    """Run the check, then say whether it left ``params`` as it found them."""
    before = {name: value.copy() for name, value in params.items()}
    fn(cost, params, grads)
    for name, old in before.items():
        moved = np.abs(np.asarray(params[name], dtype=float) - old)
        if moved.max() > 1e-12:  # restoring with += / -= may leave 1 ulp: not a change
            index = tuple(int(i) for i in np.unravel_index(moved.argmax(), moved.shape))
            return f"changed: {name}{list(index)} moved by {moved.max():.1e}"
    return "unchanged"


def _variant(args, method="central", scale=1.0, epsilon=None, measure="relative"):
    """What a typical wrong implementation returns for these test inputs."""
    cost, params, grads = args[:3]
    eps = epsilon if epsilon is not None else (args[3] if len(args) > 3 else 1e-7)
    numeric = scale * dict_to_vector(numerical_gradient(cost, params, h=eps, method=method))[0]
    grad = dict_to_vector(grads, dict_to_vector(params)[1])[0]
    diff = _norm(grad - numeric)
    return {"relative": diff / (_norm(grad) + _norm(numeric)), "absolute": diff,
            "by_grad": diff / _norm(grad)}[measure]


def _unordered(args):
    """The error when grads is flattened in its own key order instead of params'."""
    cost, params, grads = args[:3]
    numeric = dict_to_vector(numerical_gradient(cost, params, h=1e-7))[0]
    grad = np.concatenate([np.ravel(g) for g in grads.values()])
    return relative_error(grad, numeric)


_ONE_SIDED = ("you used a one-sided difference: your error shrinks like epsilon, not "
              "epsilon². Use (J(theta + epsilon) - J(theta - epsilon)) / (2 * epsilon).")

_CHECK_N = Exercise(
    id="03.gradient_check_n",
    title="The N-dimensional gradient check",
    function="gradient_check_n",
    points=5,
    reference=gradient_check_n,
    tests=[
        Test("correct gradients of a 3-layer net: an error below 1e-6", args=_correct_3_layers,
             seed=1, rtol=0.0, atol=1e-6,
             shows="a 3-layer tanh net (3-4-3-1), correct grads, epsilon = 1e-7"),
        Test("dW2 doubled in a 3-layer net", args=_dw2_doubled, seed=2, rtol=1e-4, atol=0.0,
             shows="a 3-layer tanh net (3-4-3-1), grads['W2'] twice too large"),
        Test("logistic regression (1 layer) with db divided by m once more",
             args=_logistic_db_over_m, seed=3, rtol=1e-4, atol=0.0,
             shows="a 1-layer net (4-1), grads['b1'] 8 times too small"),
        Test("epsilon = 1e-2 is used (truncation error shows)", args=_large_epsilon, seed=4,
             rtol=1e-3, atol=0.0,
             shows="a 2-layer tanh net (2-3-1), correct grads, epsilon = 1e-2"),
        Test("grads given in another key order than params", args=_grads_in_another_order,
             seed=5, rtol=0.0, atol=1e-6,
             shows="a 3-layer net, correct grads with keys b3, W3, ..., W1 (params: W1, b1, ...)"),
        Test("params are left unchanged", args=_correct_3_layers, seed=6, call=_params_after,
             shows="params before and after gradient_check_n(cost, params, grads)"),
    ],
    mistakes=[
        Mistake("your check changed params: perturb copies of theta (theta.copy()) and "
                "build the dicts with vector_to_dict, never write into params.",
                lambda a, got: isinstance(got, str) and got.startswith("changed")),
        Mistake("return one number, the relative error, as a float.",
                lambda a, got: np.size(got) != 1),
        Mistake(_ONE_SIDED, lambda a, got: _close(got, _variant(a, "forward"), 1e-3)),
        Mistake("divide J(theta + epsilon) - J(theta - epsilon) by 2 * epsilon, the distance "
                "between the two points; your gradapprox is twice too large.",
                lambda a, got: _close(got, _variant(a, scale=2.0), 1e-3)),
        Mistake("use the epsilon you are given, not a fixed 1e-7.",
                lambda a, got: len(a) > 3 and float(got) < _variant(a) / 100),
        Mistake("flatten grads in the order of params, with the same spec: "
                "dict_to_vector(grads, spec). Then entry i of grad and of gradapprox is the "
                "same parameter.",
                lambda a, got: _close(got, _unordered(a), 1e-3) and _unordered(a) > 1e-3),
        Mistake("divide ‖grad − gradapprox‖ by ‖grad‖ + ‖gradapprox‖ (the normwise relative "
                "error of Exercise 3.1).",
                lambda a, got: _close(got, _variant(a, measure="absolute"), 1e-3)
                or _close(got, _variant(a, measure="by_grad"), 1e-3)),
    ],
    hint="Flatten params with dict_to_vector, flatten grads with the same spec, then for "
         "each i: J at theta ± epsilon·e_i (through vector_to_dict), the central difference, "
         "and finally the relative error of Exercise 3.1.",
)


def _errors_case(rng, names, wrong):
    grads = {name: rng.standard_normal(shape) for name, shape in names.items()}
    numeric = {name: g + 1e-9 * rng.standard_normal(g.shape) for name, g in grads.items()}
    numeric[wrong] = -grads[wrong]
    return grads, numeric


def _three_tensors(rng):
    return _errors_case(rng, {"W1": (3, 2), "b1": (3, 1), "W2": (1, 3)}, "b1")


def _two_layers(rng):
    return _errors_case(rng, {"W1": (5, 4), "b1": (5, 1), "W2": (2, 5), "b2": (2, 1)}, "W2")


_PER_TENSOR = Exercise(
    id="03.per_tensor_errors",
    title="The relative error of each tensor",
    function="per_tensor_errors",
    points=2,
    reference=per_tensor_errors,
    tests=[
        Test("three tensors, b1 with a flipped sign", args=_three_tensors, seed=7, atol=1e-8,
             shows="grads W1 (3x2), b1 (3x1), W2 (1x3); numeric equal but for -b1"),
        Test("a 2-layer net's tensors, W2 with a flipped sign", args=_two_layers, seed=8,
             atol=1e-8, shows="grads W1, b1, W2, b2; numeric equal but for -W2"),
    ],
    mistakes=[
        Mistake("return a list of pairs (name, error), e.g. [('W1', 1e-10), ('b1', 1.0)].",
                lambda a, got: not all(isinstance(item, list) and len(item) == 2
                                       for item in got)),
        Mistake("give each tensor its own relative error, relative_error(grads[name], "
                "numeric[name]), not the error of all tensors together.",
                lambda a, got: len({round(item[1], 12) for item in got}) == 1),
        Mistake("keep the order of grads: for name in grads.",
                lambda a, got: [item[0] for item in got] != list(a[0])
                and sorted(item[0] for item in got) == sorted(a[0])),
    ],
    hint="For each name in grads, append (name, relative_error(grads[name], numeric[name])).",
)

EXERCISES = [_RELATIVE, _CHECK_N, _PER_TENSOR]
