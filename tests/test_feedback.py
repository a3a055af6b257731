"""What a student reads in a check cell: named values, the worst entry, one hint, no walls of
numbers, and values compared rather than containers."""

import re

import numpy as np
import pytest

from gradkit.grading import Exercise, Mistake, Test, check, plain
from gradkit.grading.feedback import check_exercise
from gradkit.grading.spec import _returned_names


def _grads(dZ, A_prev):
    dW = dZ @ A_prev.T
    db = dZ.sum(axis=1, keepdims=True)
    return dW, db


def _args(rng):
    return rng.standard_normal((8, 10)), rng.standard_normal((12, 10))


def _exercise(**extra):
    return Exercise(
        id="99.grads", function="grads", points=2, reference=_grads,
        tests=[Test("8 units, 12 inputs", args=_args), Test("again", args=_args, seed=1)],
        mistakes=[Mistake("dW is divided by m: dZ already carries the 1/m.",
                          lambda a, got: np.allclose(got[0], a[0] @ a[1].T / 10))],
        hint="dW = dZ @ A_prev.T and db = dZ summed over axis 1.", **extra)


def test_returned_names_are_read_from_the_reference_and_only_when_unambiguous():
    assert _returned_names(_grads) == ("dW", "db")

    def expression(dZ, A_prev):
        return dZ @ A_prev.T, dZ.sum(axis=1)

    def two_ways(x):
        if x:
            return x, x
        a = b = 0
        return a, b

    assert _returned_names(expression) == ()
    assert _returned_names(two_ways) == ()


def test_a_wrong_array_is_summarized_by_name_shape_count_and_worst_entry():
    def one_entry_wrong(dZ, A_prev):
        dW, db = _grads(dZ, A_prev)
        dW = dW.copy()
        dW[3, 7] += 0.5
        return dW, db

    result = check_exercise(_exercise(), one_entry_wrong)
    text = repr(result)
    assert result.status == "failed"
    assert "dW (8, 12): 1 of 96 entries differ; worst dW[3, 7]: expected " in text
    assert "value 1" not in text and "db" not in text.split("hint")[0].replace("dW", "")
    # never a screen of numbers: at most the worst entry's two values per note
    assert max(len(line) for line in text.splitlines()) < 200
    numbers = re.findall(r"-?\d+\.\d+", result._repr_html_())
    assert len(numbers) <= 8, numbers


def test_every_wrong_value_is_named_and_the_one_hint_matches_the_note():
    def both_over_m(dZ, A_prev):
        dW, db = _grads(dZ, A_prev)
        return dW / 10, db / 10

    result = check_exercise(_exercise(), both_over_m)
    text = repr(result)
    assert "dW (8, 12): 96 of 96 entries differ" in text and "db (8, 1): 8 of 8" in text
    assert text.count("hint:") == 1 and "dW is divided by m" in text
    assert result._repr_html_().count("Hint:") == 1


def test_names_given_in_the_spec_win_over_the_reference():
    def wrong_db(dZ, A_prev):
        dW, db = _grads(dZ, A_prev)
        return dW, -db

    text = repr(check_exercise(_exercise(returns=("dW_out", "db_out")), wrong_db))
    assert "db_out (8, 1)" in text


def test_values_not_containers_an_array_for_a_tuple_of_numbers_passes():
    def three(x):
        return x, 2 * x, 3 * x

    ex = Exercise(id="99.three", function="three", points=1, reference=three,
                  tests=[Test("x = 1", args=(1.0,))])
    assert check_exercise(ex, lambda x: np.array([x, 2 * x, 3 * x])).status == "passed"
    assert check_exercise(ex, lambda x: [x, 2 * x, 3 * x]).status == "passed"
    wrong = check_exercise(ex, lambda x: np.array([x, 2 * x, 4 * x]))
    assert wrong.status == "failed" and "expected 3, received 4" in repr(wrong)
    assert check_exercise(ex, lambda x: np.array([x, 2 * x])).status == "failed"


def test_a_wrong_kind_of_value_says_what_to_return_without_a_maths_hint():
    result = check_exercise(_exercise(), lambda dZ, A_prev: {"dW": dZ @ A_prev.T})
    text = repr(result)
    assert "expected 2 values (dW, db) in a tuple or list, received a dict with keys dW" in text
    assert "hint" not in text and "see the notes below" in text
    # the same exercise still gives its maths hint for wrong numbers
    assert "hint: dW = dZ @ A_prev.T" in repr(
        check_exercise(_exercise(), lambda dZ, A_prev: (-dZ @ A_prev.T, dZ.sum(1, keepdims=True))))


def test_dicts_are_compared_key_by_key():
    expected = {"W1": np.ones((2, 2)), "b1": np.zeros((2, 1))}
    assert plain.compare({"b1": np.zeros((2, 1)), "W1": np.ones((2, 2))}, expected)[0]
    ok, why = plain.compare({"W1": np.ones((2, 2)), "b1": np.ones((2, 1))}, expected)
    assert not ok and why.startswith("b1 (2, 1): 2 of 2 entries differ; worst b1[0, 0]")
    ok, why = plain.compare({"W1": np.ones((2, 2)), "db1": np.zeros((2, 1))}, expected)
    assert not ok and why == "missing keys b1; unexpected keys db1"
    back = plain.decode(plain.encode({"W1": np.ones(2), "n": 3}))
    assert list(back) == ["W1", "n"] and back["n"] == 3.0
    assert isinstance(back["W1"], np.ndarray) and back["W1"].shape == (2,)


def test_a_dict_with_non_str_keys_is_refused():
    with pytest.raises(plain.NotPlainError, match="key of type int"):
        plain.encode({1: 2.0})
    with pytest.raises(ValueError, match="not a str"):
        plain.decode({"dict": [[1, 2.0]]})
    with pytest.raises(ValueError, match="pair"):
        plain.decode({"dict": [[1, 2.0, 3.0]]})


def test_the_digits_shown_tell_expected_from_received():
    ok, why = plain.compare(-0.0231011 * (1 + 5e-6), -0.0231011)
    assert not ok
    want, got = re.findall(r"-?\d\.\d+(?:e-?\d+)?|-?0\.\d+", why)
    assert want != got, why
    assert plain.compare(-0.0231011 * (1 + 5e-7), -0.0231011)[0]


def test_nested_values_are_labelled_by_path_not_repeated():
    ok, why = plain.compare([1.0, [2.0, 3.0]], [1.0, [2.0, 4.0]])
    assert not ok and why == "value 2[1]: expected 4, received 3"
    assert "value 2: value 2" not in why


def test_code_in_messages_renders_as_code_not_backticks():
    def stub(f, x, h):
        raise NotImplementedError

    html = check("01.difference_quotient", stub)._repr_html_()
    assert "<code>raise NotImplementedError</code>" in html and "`" not in html


def test_name_value_pairs_are_labelled_by_their_names():
    expected = [["W1", 1e-3], ["b1", 2e-3]]
    assert plain.compare([["W1", 1e-3], ["b1", 2e-3]], expected)[0]
    ok, why = plain.compare([["W1", 1e-3], ["b1", 3e-3]], expected)
    assert not ok and why == "b1: expected 0.002, received 0.003"
    ok, why = plain.compare([["b1", 2e-3], ["W1", 1e-3]], expected)
    assert not ok and why == "expected the names W1, b1 in this order, received b1, W1"


def test_lesson_04_an_extra_one_over_m_on_dw_and_db_gets_one_hint_naming_both():
    def both_over_m(dZ, A_prev, W):
        m = dZ.shape[1]
        return W.T @ dZ, dZ @ A_prev.T / m, dZ.sum(axis=1, keepdims=True) / m

    def db_only(dZ, A_prev, W):
        return W.T @ dZ, dZ @ A_prev.T, dZ.mean(axis=1, keepdims=True)

    text = repr(check("04.linear_backward", both_over_m))
    assert "dW (3, 4): 12 of 12 entries differ" in text and "db (3, 1)" in text
    assert text.count("hint:") == 1 and "dW and db are both divided by m" in text
    text = repr(check("04.linear_backward", db_only))
    assert "dW (" not in text and "hint: db is dZ averaged" in text


def test_lesson_04_gradients_are_named_by_their_keys():
    from gradkit import mlp

    def w2_doubled(params, X, Y):
        grads = mlp.gradients(params, X, Y)
        grads["W2"] = 2 * grads["W2"]
        return grads

    def renamed(params, X, Y):
        return {f"d{k}": v for k, v in mlp.gradients(params, X, Y).items()}

    text = repr(check("04.model_gradients", w2_doubled))
    assert "W2 (1, 4): " in text and "worst W2[" in text and "value" not in text
    text = repr(check("04.model_gradients", renamed))
    assert "missing keys W1, W2, b1, b2; unexpected keys dW1" in text
    assert "hint: return a dict with the keys of params" in text


def test_a_failed_test_never_shows_two_identical_summaries():
    def both_over_m(dZ, A_prev):
        dW, db = _grads(dZ, A_prev)
        return dW / 10, db / 10

    for outcome in check_exercise(_exercise(), both_over_m).outcomes:
        assert outcome.expected == "(array (8, 12), array (8, 1))"
        assert outcome.received == "differs: see the note"
    passed = check_exercise(_exercise(), _grads).outcomes[0]
    assert passed.received == passed.expected == "(array (8, 12), array (8, 1))"


def test_a_single_returned_array_is_named_too():
    def relu_back(dA, Z):
        dZ = dA * (Z > 0)
        return dZ

    assert _returned_names(relu_back) == ("dZ",)
    ex = Exercise(id="99.relu_back", function="relu_back", points=1, reference=relu_back,
                  tests=[Test("4 x 5", args=lambda rng: (rng.standard_normal((4, 5)),
                                                         rng.standard_normal((4, 5))))])
    text = repr(check_exercise(ex, lambda dA, Z: dA * (Z >= 0) * 2))
    assert "dZ (4, 5): " in text and "worst dZ[" in text and "the array" not in text


def test_a_text_compared_with_an_array_is_a_wrong_kind_not_a_crash():
    ok, why = plain.compare("W1", np.ones(3))
    assert not ok and why == "expected an array of shape (3,), received the text 'W1'"
    ok, why = plain.compare(np.ones(3), "W1")
    assert not ok and "expected the text 'W1'" in why


def test_a_crash_shows_its_message_not_a_note_added_after_it():
    def noted(x, y, z):
        exc = ValueError("shapes (3,) and (4,) do not match")
        exc.add_note("(a library's note about removed frames)")
        raise exc

    text = repr(check("01.backprop_by_hand", noted))
    assert "ValueError: shapes (3,) and (4,) do not match" in text and "removed frames" not in text
