"""datasets: shapes, labels, reproducibility, the split helper, and the overfitting set."""

import numpy as np
import pytest

from gradkit import datasets as ds
from gradkit import mlp, optim

BINARY = [ds.moons, ds.circles, ds.overfit]
MULTI = [ds.spirals, ds.blobs]
REGRESSION = [ds.linear_regression, ds.polynomial_regression]


@pytest.mark.parametrize("make", BINARY)
def test_binary_sets_are_column_major_with_0_1_labels(make):
    X, Y = make(101, seed=2)
    assert X.shape == (2, 101) and Y.shape == (1, 101)
    assert set(np.unique(Y)) == {0.0, 1.0}


@pytest.mark.parametrize("make", MULTI)
def test_multiclass_sets_are_one_hot(make):
    X, Y = make(90, 4, seed=2)
    assert X.shape == (2, 90) and Y.shape == (4, 90)
    np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
    np.testing.assert_array_equal(np.bincount(ds.labels(Y)), [23, 23, 22, 22])


@pytest.mark.parametrize("make", REGRESSION)
def test_regression_sets_have_real_targets(make):
    X, Y = make(50, seed=2)
    assert X.shape[1] == 50 and Y.shape == (1, 50)
    assert np.unique(Y).size == 50


@pytest.mark.parametrize("make", BINARY + MULTI + REGRESSION)
def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(make):
    X1, Y1 = make(seed=5)
    X2, Y2 = make(seed=5)
    X3, _ = make(seed=6)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.array_equal(X1, X3)


def test_one_hot_and_labels_round_trip():
    y = np.array([2, 0, 1, 2])
    Y = ds.one_hot(y, 3)
    np.testing.assert_array_equal(Y, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])
    np.testing.assert_array_equal(ds.labels(Y), y)
    np.testing.assert_array_equal(ds.labels(np.array([[0.0, 1.0, 1.0]])), [0, 1, 1])
    with pytest.raises(ValueError, match=r"labels must lie in 0 \.\. 1 for k=2.*larger k"):
        ds.one_hot(y, 2)


def test_generators_reject_a_bad_number_of_examples():
    with pytest.raises(ValueError, match=r"m \(the number of examples\) must be an integer >= 2"):
        ds.moons(1)
    with pytest.raises(ValueError, match="must be an integer"):
        ds.linear_regression(10.5)


def test_train_test_split_partitions_the_examples():
    X, Y = ds.moons(100, seed=0)
    X_train, Y_train, X_test, Y_test = ds.train_test_split(X, Y, test_size=0.3, seed=1)
    assert X_train.shape == (2, 70) and Y_train.shape == (1, 70)
    assert X_test.shape == (2, 30) and Y_test.shape == (1, 30)
    together = np.concatenate([X_train, X_test], axis=1)
    np.testing.assert_array_equal(np.sort(together, axis=1), np.sort(X, axis=1))
    again = ds.train_test_split(X, Y, test_size=0.3, seed=1)
    np.testing.assert_array_equal(again[0], X_train)
    assert ds.train_test_split(X, Y, test_size=10)[2].shape == (2, 10)
    with pytest.raises(ValueError, match="leaves 0 of 100 examples for the test set"):
        ds.train_test_split(X, Y, test_size=0.001)
    with pytest.raises(ValueError, match=r"use Y.reshape\(1, -1\)"):
        ds.train_test_split(X, Y[0])


def test_an_unregularized_net_overfits_the_overfit_set_and_l2_helps():
    X, Y = ds.overfit(seed=0)
    X_train, Y_train, X_test, Y_test = ds.train_test_split(X, Y, test_size=0.7, seed=0)
    acc = {}
    for lambd in (0.0, 0.5):
        params, _ = optim.train(mlp.init_params([2, 64, 32, 1], seed=0), X_train, Y_train,
                                method="gd", lr=0.3, epochs=3000, lambd=lambd, progress=False)
        acc[lambd] = (mlp.accuracy(params, X_train, Y_train), mlp.accuracy(params, X_test, Y_test))
    train0, test0 = acc[0.0]
    assert train0 - test0 > 0.1, acc  # visible overfitting
    assert acc[0.5][1] > test0 + 0.03, acc  # L2 generalizes better
