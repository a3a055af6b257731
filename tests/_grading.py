"""Grading helpers for tests: failing hints of a check, edited copies of a solution graded by
gradkit grade."""

import copy
from pathlib import Path

import nbformat

from gradkit.grading import check
from gradkit.grading.grader import Grader

ROOT = Path(__file__).resolve().parent.parent


def failing_hints(exercise_id, answer):
    """The hints of the failed public tests when ``answer`` answers ``exercise_id``."""
    result = check(exercise_id, answer)
    assert result.status == "failed", repr(result)
    return [o.hint for o in result.outcomes if o.status == "fail"]


def edited(nb, marker, edit):
    """A copy of ``nb`` where every cell containing ``marker`` gets ``source = edit(source)``."""
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if marker in cell.source:
            cell.source = edit(cell.source)
    return out


def grade_variants(folder, stem, notebooks, timeout=20.0):
    """Write each notebook as ``<name>_<stem>.ipynb`` in ``folder``, grade it, return the results.

    ``"unanswered"`` is written under the lesson's own name, ``<stem>.ipynb``.
    """
    grader = Grader(ROOT / "solutions", timeout=timeout)
    results = {}
    for name, nb in notebooks.items():
        path = Path(folder) / (f"{stem}.ipynb" if name == "unanswered" else f"{name}_{stem}.ipynb")
        nbformat.write(nb, path)
        results[name] = grader.grade(path)
    return results
