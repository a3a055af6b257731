"""dict <-> vector keeps names, shapes, dtypes and order, for any number of layers."""

import numpy as np
import pytest

from gradkit.params import dict_to_vector, vector_to_dict


def _net(rng, dims):
    p = {}
    for l in range(1, len(dims)):
        p[f"W{l}"] = rng.normal(size=(dims[l], dims[l - 1]))
        p[f"b{l}"] = rng.normal(size=(dims[l], 1))
    return p


@pytest.mark.parametrize("dims", [[2, 1], [4, 5, 3, 1], [7, 6, 5, 4, 3, 2]])
def test_round_trip_for_any_depth(rng, dims):
    params = _net(rng, dims)
    theta, spec = dict_to_vector(params)
    assert theta.shape == (sum(a.size for a in params.values()),)
    back = vector_to_dict(theta, spec)
    assert list(back) == list(params)
    for name in params:
        assert back[name].shape == params[name].shape
        assert np.array_equal(back[name], params[name])
        assert back[name] is not params[name]


def test_locate_names_the_tensor_and_entry(rng):
    params = _net(rng, [4, 5, 3, 1])
    theta, spec = dict_to_vector(params)
    for flat in (0, 19, 20, 24, 25, len(theta) - 1):
        name, index = spec.locate(flat)
        assert params[name][index] == theta[flat]
    assert spec.locate(20) == ("b1", (0, 0))
    with pytest.raises(IndexError, match="outside"):
        spec.locate(len(theta))


def test_grads_flatten_in_the_params_order(rng):
    params = _net(rng, [3, 2, 1])
    grads = {k: params[k] * 2 for k in reversed(list(params))}  # other key order
    theta, spec = dict_to_vector(params)
    gvec, _ = dict_to_vector(grads, spec)
    assert np.array_equal(gvec, 2 * theta)


def test_dtypes_survive_the_round_trip():
    params = {"W": np.ones((2, 2), np.float32), "b": np.zeros((2, 1))}
    theta, spec = dict_to_vector(params)
    back = vector_to_dict(theta, spec)
    assert back["W"].dtype == np.float32 and back["b"].dtype == np.float64


def test_mismatches_are_named(rng):
    params = _net(rng, [3, 2, 1])
    theta, spec = dict_to_vector(params)
    with pytest.raises(ValueError, match=r"theta has shape \(5,\), expected \(11,\)"):
        vector_to_dict(theta[:5], spec)
    bad = dict(params, W1=np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"params\['W1'\] has shape \(3, 2\), the spec expects"):
        dict_to_vector(bad, spec)
    with pytest.raises(ValueError, match="params has no b2"):
        dict_to_vector({k: v for k, v in params.items() if k != "b2"}, spec)
