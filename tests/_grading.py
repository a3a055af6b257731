"""Grading variants of a solution notebook in tests: edited copies, graded by gradkit grade."""

import copy
from pathlib import Path

import nbformat

from gradkit.grading.grader import Grader

ROOT = Path(__file__).resolve().parent.parent


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
