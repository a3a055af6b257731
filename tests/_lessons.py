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
    stripped, without a trailing comment, comments and lines under 25 characters left out."""
    cell = code_cell(notebook, function)
    block = cell.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if len(line) >= 25 and not line.startswith("#")]
