"""In-notebook checks, exercise specs, hints, and plain-data comparison."""

import _lessons as lessons
import nbformat
import numpy as np
import pytest

from gradkit.grading import (
    Exercise,
    Mistake,
    Test,
    check,
    exercises_for_lesson,
    get_exercise,
    plain,
)
from gradkit.grading.spec import hidden_tests


def _dq_central(f, x, h):
    return (f(x + h) - f(x - h)) / h


@pytest.mark.parametrize("exercise", [e for lesson in ("01", "02", "03", "04", "05")
                                      for e in exercises_for_lesson(lesson)], ids=lambda e: e.id)
def test_reference_solution_passes_its_own_public_checks(exercise):
    result = check(exercise.id, lessons.reference(exercise))
    assert result.status == "passed"
    assert "public checks passed" in repr(result)
    assert "all passed" not in repr(result).lower()


def test_unanswered_exercise_says_not_answered_yet():
    def difference_quotient(f, x, h):
        raise NotImplementedError

    result = check("01.difference_quotient", difference_quotient)
    assert result.status == "unanswered"
    assert "not answered yet" in repr(result)
    assert "not answered yet" in result._repr_html_()


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda f, x, h: f(x + h) - f(x), "forgot to divide by h"),
    (lambda f, x, h: (f(x + h) - f(x)) / (2 * h), "divided by 2h"),
    (lambda f, x, h: (f(x) - f(x + h)) / h, "sign is flipped"),
    (lambda f, x, h: (f(x) - f(x - h)) / h, "stepped back to x - h"),
    (_dq_central, "used both x + h and x - h"),
])
def test_typical_wrong_difference_quotients_get_their_hint(wrong, hint):
    result = check("01.difference_quotient", wrong)
    assert result.status == "failed"
    assert all(o.status == "fail" and hint in o.hint for o in result.outcomes)


def test_failed_check_shows_input_expected_and_received():
    result = check("01.difference_quotient", lambda f, x, h: (f(x + h) - f(x)) / (2 * h))
    text = repr(result)
    assert "input: f(x) = x**2, x = 3.0, h = 0.1" in text
    assert "expected 6.1, received 3.05" in text
    html = result._repr_html_()
    assert html.startswith("<p") and "<table" in html and "6.1" in html


@pytest.mark.parametrize(("wrong", "hint"), [
    (lambda f, x0, h: lessons.reference("01.secant_line")(f, x0, h)[::-1], "swapped"),
    (lambda f, x0, h: ((f(x0 + h) - f(x0)) / h, f(x0)), "height at x = 0"),
    (lambda f, x0, h: (1.0, 0.0), "slope is wrong"),
])
def test_typical_wrong_secant_lines_get_their_hint(wrong, hint):
    result = check("01.secant_line", wrong)
    assert result.status == "failed"
    assert hint in result.outcomes[0].hint


def test_backprop_missing_a_path_is_named():
    def only_product_path(x, y, z):
        return np.sin(x) * y, x * np.sin(x), np.sin(x)

    result = check("01.backprop_by_hand", only_product_path)
    assert "misses the path through sin(x)" in result.outcomes[0].hint


def test_check_never_raises_on_crashes_or_odd_returns():
    assert check("01.secant_line", lambda f, x0, h: 1 / 0).status == "failed"
    assert "ZeroDivisionError" in repr(check("01.secant_line", lambda f, x0, h: 1 / 0))
    assert "forget the `return`" in repr(check("01.secant_line", lambda f, x0, h: None))
    assert check("01.secant_line", "not a function").status == "failed"
    unknown = check("01.no_such_exercise", print)
    assert unknown.status == "error" and "01.difference_quotient" in repr(unknown)


def test_always_equal_object_fails_the_check():
    class Always:
        def __eq__(self, other):
            return True

    result = check("01.backprop_by_hand", lambda x, y, z: Always())
    assert result.status == "failed"
    assert "object of type Always" in repr(result)


def test_encode_accepts_numbers_arrays_tuples_and_refuses_the_rest():
    assert plain.encode((1.5, np.float32(2), np.array([[1, 2]]))) == [
        1.5, 2.0, {"array": [1, 2], "data": [1.0, 2.0]}]
    assert plain.decode(plain.encode(1 + 2j)) == 1 + 2j

    class Liar(float):
        pass

    with pytest.raises(plain.NotPlainError, match="object of type Liar"):
        plain.encode(Liar(1.0))
    with pytest.raises(plain.NotPlainError, match="dtype object"):
        plain.encode(np.array([object()]))
    with pytest.raises(plain.NotPlainError, match="forget the `return`"):
        plain.encode(None)


def test_compare_reports_shape_transpose_and_nan():
    assert plain.compare(np.ones((2, 3)), np.ones((2, 3)))[0]
    ok, why = plain.compare(np.ones((3, 2)), np.ones((2, 3)))
    assert not ok and "looks transposed" in why
    assert not plain.compare(float("nan"), float("nan"))[0]
    assert not plain.compare([1.0], [1.0, 2.0])[0]
    assert plain.compare("W2", "W2")[0] and not plain.compare("W1", "W2")[0]
    with pytest.raises(ValueError, match="not plain data"):
        plain.decode({"__class__": "os.system"})


def test_spec_validation_messages():
    with pytest.raises(ValueError, match="not of the form 'NN.name'"):
        Exercise(id="derivative", function="f", points=1, reference=abs, tests=[Test("a")])
    with pytest.raises(ValueError, match="test names must be unique"):
        Exercise(id="99.f", function="f", points=1, reference=abs,
                 tests=[Test("a", args=(1.0,)), Test("a", args=(2.0,))])
    with pytest.raises(ValueError, match="has no public tests"):
        Exercise(id="99.f", function="f", points=1, reference=abs, tests=[])
    with pytest.raises(ValueError, match="no exercise specs for lesson 42"):
        exercises_for_lesson("42")
    with pytest.raises(ValueError, match="unknown exercise '01.nope'"):
        get_exercise("01.nope")


def test_mistake_that_raises_is_no_match():
    ex = Exercise(id="99.f", function="f", points=1, reference=abs, tests=[Test("a", args=(1,))],
                  mistakes=[Mistake("boom", lambda a, got: 1 / 0)], hint="generic")
    assert ex.hint_for((1,), 2.0) == "generic"


def test_random_args_are_the_same_for_reference_and_student():
    test = Test("random", args=lambda rng: (rng.standard_normal(3),), seed=7)
    assert np.array_equal(test.make_args()[0], test.make_args()[0])


def test_hidden_tests_load_and_refuse_public_names(tmp_path):
    (tmp_path / "extra.py").write_text(
        "import numpy as np\nfrom gradkit.grading import Test\n"
        "HIDDEN_TESTS = {'01.difference_quotient': [Test('cos at 2', args=(np.cos, 2.0, 1e-3))]}\n"
    )
    assert [t.name for t in hidden_tests(tmp_path)["01.difference_quotient"]] == ["cos at 2"]
    (tmp_path / "bad.py").write_text(
        "from gradkit.grading import Test\n"
        "HIDDEN_TESTS = {'01.secant_line': [Test('sin through x0 = 0.5, h = 0.25')]}\n"
    )
    with pytest.raises(ValueError, match="has the name of a public test"):
        hidden_tests(tmp_path)
    with pytest.raises(ValueError, match="does not exist"):
        hidden_tests(tmp_path / "missing")


def test_references_run_configuration_calls_and_no_other_statement(tmp_path):
    from gradkit.grading.references import load_answers

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\nlog = []"),
        nbformat.v4.new_code_cell('np.seterr(divide="raise")\nlog.append("ran")'),
        nbformat.v4.new_code_cell("def answer():\n    ### BEGIN SOLUTION\n"
                                  "    return np.geterr()['divide'], len(log)\n"
                                  "    ### END SOLUTION"),
    ])
    path = tmp_path / "99_config.ipynb"
    nbformat.write(nb, path)
    before = np.geterr()
    try:
        answers = load_answers(path)
        # the configuration ran, in order; the plain call beside it did not
        assert answers["answer"]() == ("raise", 0)
    finally:
        np.seterr(**before)
