"""What every lesson's spec tests share: run an answer through an exercise's public tests,
read the hints a wrong answer gets, find a solution's answer cell, and compare the
notebook's answer with the reference."""

import json
import re
from pathlib import Path

from gradkit.grading import plain
from gradkit.grading.feedback import expected_value, run_test
from gradkit.grading.references import Instructor

INSTRUCTOR = Instructor(Path(__file__).resolve().parent.parent / "solutions")


def reference(exercise):
    """The reference answer of ``exercise`` (an Exercise or its id): its solution
    notebook's answer cell."""
    if isinstance(exercise, str):
        from gradkit.grading.spec import get_exercise

        exercise = get_exercise(exercise)
    return INSTRUCTOR.reference(exercise)


def outcomes(exercise, answer):
    """One TestOutcome per public test of ``exercise`` for ``answer``."""
    return [run_test(exercise, t, answer) for t in exercise.tests]


def failed_hints(exercise, wrong):
    """The hints of the public tests that ``wrong`` fails (it must fail at least one)."""
    failed = [o for o in outcomes(exercise, wrong) if o.status == "fail"]
    assert failed, "the wrong answer passed every test"
    return [o.hint for o in failed]


def code_cell(notebook, function):
    """The source of the code cell of ``notebook`` (a path) that defines ``function``,
    its answer cell when there is one."""
    nb = json.loads(notebook.read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    defining = [c for c in cells if f"def {function}(" in c]
    return next((c for c in defining if "BEGIN SOLUTION" in c), defining[0])


def assert_answer_is_reference(exercise, answer):
    """The notebook's answer gives the reference's values on every public test."""
    for test in exercise.tests:
        got = test.after(test.make_args(), plain.decode(plain.encode(test.run(answer))))
        assert plain.compare(got, expected_value(exercise, test), rtol=1e-12, atol=1e-15)[0], \
            test.name


def solution_lines(notebook, function):
    """The lines of ``function``'s solution block in ``notebook`` worth searching for:
    stripped, with and without a trailing comment; comments and lines under 25 characters
    left out."""
    cell = code_cell(notebook, function)
    block = cell.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    stripped = [line.strip() for line in block.splitlines()]
    lines = stripped + [re.sub(r"\s+#.*$", "", line) for line in stripped]
    return sorted({line for line in lines if len(line) >= 25 and not line.startswith("#")})


def assert_spec_holds_no_answer(spec, notebook, function):
    """The spec module ``spec`` (shipped to students) holds no line of ``function``'s
    solution block in ``notebook``, nor the function itself."""
    source = Path(spec.__file__).read_text(encoding="utf-8")
    lines = solution_lines(notebook, function)
    assert lines, f"{function}: its solution block has no line to search for"
    assert [line for line in lines if line in source] == []
    assert not hasattr(spec, function)


# --- the auto-checked questions -------------------------------------------------------------


def stub(*args, **kwargs):
    """An answer not written yet, as the lessons hand it out."""
    raise NotImplementedError


def feedback_texts(result):
    """Every text a student reads of ``result`` (a CheckResult)."""
    return [o.expected + " " + o.why + " " + o.hint for o in result.outcomes] + [result.message]


def shows_any(result, needles):
    """Does any text of ``result`` hold one of ``needles``?"""
    return any(n in text for text in feedback_texts(result) for n in needles)


def assert_question_answered(exercise, answer):
    """The solution's ``answer`` passes without the answer being shown; a stub is
    "unanswered"."""
    from gradkit.grading.feedback import check_exercise

    result = check_exercise(exercise, answer)
    assert result.status == "passed", repr(result)
    assert all(o.expected == "(not shown)" for o in result.outcomes)
    assert check_exercise(exercise, stub).status == "unanswered"


def assert_known_wrong_answers_get_their_feedback(exercise, feedback, shows_answer,
                                                  nearby=(1.0,)):
    """Each answer ``feedback`` knows (a wrong option, or a wrong number and, for a number,
    the same times each of ``nearby``) fails with exactly its own feedback, never shows the
    expected value, and ``shows_answer(result, answer)`` finds no trace of the answer. For a
    choice, ``feedback`` covers every wrong option."""
    from gradkit.grading.feedback import check_exercise

    answer = reference(exercise)()
    assert len(set(feedback.values())) == len(feedback), "each wrong answer its own feedback"
    factors = nearby if exercise.question.kind == "number" else (None,)
    if exercise.question.kind == "choice":
        assert sorted(feedback) == [o for o in exercise.question.options if o != answer]
    for value, why in feedback.items():
        for factor in factors:
            given = value if factor is None else value * factor
            result = check_exercise(exercise, lambda given=given: given)
            assert result.status == "failed", given
            (outcome,) = result.outcomes
            assert outcome.expected == "(not shown)" and outcome.hint == why, given
            assert not shows_answer(result, answer), given
