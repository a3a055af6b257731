"""The README's lesson table says what each lesson grades, as its spec module does.

``graded_summary(lesson)`` is the table's "graded" cell, computed from the specs: the
points, the exercises, the auto-checked questions and predictions (those with a variant
per student), and the written answers an instructor reads. Run this file as a script to
print the cells for the README.
"""

import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gradkit.grading.notebook import read_notebook, written_answers  # noqa: E402
from gradkit.grading.spec import exercises_for_lesson, lesson_numbers  # noqa: E402


def _plural(n, word):
    return f"{n} {word}{'' if n == 1 else 's'}"


def graded_summary(lesson):
    exercises = exercises_for_lesson(lesson)
    points = sum(e.points for e in exercises)
    asked = [e for e in exercises if e.question is not None]
    coded = len(exercises) - len(asked)
    solution = read_notebook(next((ROOT / "solutions").glob(f"{lesson}_*.ipynb")))
    written = len(written_answers(solution, solution))
    varied = [e for e in exercises if e.question is not None and e.question.variants]
    text = f"{points:g} points: {_plural(coded, 'exercise')}, {len(asked)} auto-checked"
    if varied:
        text += f" ({len(varied)} with a variant per student)"
    if written:
        text += f"; {written} written, read by the instructor"
    return text


def _rows():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return {m.group(1): m.group(0) for m in re.finditer(r"^\| (\d\d) \|.*$", text, re.M)}


@pytest.mark.parametrize("lesson", lesson_numbers())
def test_the_readme_table_says_what_each_lesson_grades(lesson):
    row = _rows()[lesson]
    assert row.rstrip(" |").endswith(graded_summary(lesson)), (row, graded_summary(lesson))


def test_a_table_that_disagrees_with_the_specs_is_caught():
    """The negative case: a row with other points does not end with the summary."""
    row = _rows()["04"]
    wrong = re.sub(r"\d+(\.\d+)? points", "99 points", row)
    assert not wrong.rstrip(" |").endswith(graded_summary("04"))


if __name__ == "__main__":
    for number in lesson_numbers():
        print(number, graded_summary(number))
