"""``gradkit build``: generate ``lessons/`` from ``solutions/``, never destroying a student's work.

Each ``solutions/NN_name.ipynb`` gives ``lessons/NN_name.ipynb``: solution
blocks become stubs (``# YOUR CODE HERE`` / ``raise NotImplementedError``),
outputs and execution counts are cleared, cells tagged ``instructor`` are
dropped, and the kernelspec is ``python3``. The lesson's metadata records
``gradkit.lesson`` (so the grader recognizes a renamed submission) and
``gradkit.generated``, a hash of the cells build wrote. Before overwriting a
lesson, build compares its cells with that hash: a lesson changed since it
was generated is left alone (non-zero exit) unless ``force``, and then it is
first copied to a timestamped backup.

Build also writes each lesson's public check data (the expected values of its
public tests, :mod:`gradkit.grading.checkdata`) from the solutions, into the
package; ``check`` reports it stale when the solutions or specs changed.
"""

import copy
import hashlib
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

from gradkit.grading.notebook import is_instructor_cell, read_notebook, strip_solutions

__all__ = ["BuildResult", "build_lessons", "content_hash", "make_lesson"]

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


def content_hash(nb):
    """SHA-256 of a notebook's cells (type and source): what a student can edit."""
    cells = [[c.get("cell_type"), c.get("source", "")] for c in nb.get("cells", [])]
    return hashlib.sha256(json.dumps(cells, ensure_ascii=False).encode()).hexdigest()


def make_lesson(solution, name):
    """Return the student notebook for ``solution`` (a notebook node) named ``name``.

    Raises
    ------
    ValueError
        If a solution block is malformed; the message names the cell.
    """
    cells = []
    for index, cell in enumerate(solution.cells):
        if is_instructor_cell(cell):
            continue
        new = copy.deepcopy(cell)
        try:
            new.source = strip_solutions(cell.source, cell.cell_type)
        except ValueError as exc:
            raise ValueError(f"{name}, cell {index + 1}: {exc}") from None
        meta = {k: v for k, v in new.metadata.items() if k in ("tags", "editable", "deletable")}
        new.metadata = nbformat.from_dict(meta)
        if new.cell_type == "code":
            new.outputs = []
            new.execution_count = None
        cells.append(new)
    lesson = nbformat.v4.new_notebook(cells=cells)
    lesson.nbformat, lesson.nbformat_minor = 4, max(5, solution.get("nbformat_minor", 5))
    lesson.metadata = nbformat.from_dict({
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "gradkit": {"lesson": name, "generated": content_hash(lesson)},
    })
    return lesson


@dataclass
class BuildResult:
    """What happened to one lesson: ``action`` is one of ``"created"``,
    ``"updated"``, ``"unchanged"``, ``"stale"`` (check mode), ``"refused"``
    (edited, not overwritten) or ``"replaced"`` (edited, overwritten with
    ``force`` after a backup)."""

    name: str
    action: str
    message: str

    @property
    def ok(self):
        return self.action in ("created", "updated", "unchanged", "replaced")


def _edited(existing_text):
    """True when a lesson file's cells differ from what build last wrote there."""
    try:
        nb = nbformat.reads(existing_text, as_version=4)
    except Exception:
        return True
    recorded = nb.get("metadata", {}).get("gradkit", {}).get("generated")
    return recorded != content_hash(nb)


def build_lessons(solutions_dir="solutions", lessons_dir="lessons", check=False, force=False,
                  names=None, checkdata=None):
    """Generate (or, with ``check``, verify) the lessons; return a list of :class:`BuildResult`.

    Parameters
    ----------
    solutions_dir, lessons_dir : path
    check : bool
        Only report lessons that are missing or differ from what build would write.
    force : bool
        Overwrite lessons edited since they were generated, after copying each
        to ``NN_name.backup-YYYYmmdd-HHMMSS.ipynb`` next to it.
    names : list of str, optional
        Only these lessons (``"01_derivative"``); default all solutions.

    Raises
    ------
    ValueError
        If ``solutions_dir`` does not exist or holds no ``NN_name.ipynb``.
    """
    solutions_dir, lessons_dir = Path(solutions_dir), Path(lessons_dir)
    sources = sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb"))
    if not sources:
        raise ValueError(
            f"no solution notebooks (NN_name.ipynb) in {str(solutions_dir)!r}: run gradkit build "
            "from the course directory, or pass --solutions DIR"
        )
    if names:
        sources = [p for p in sources if p.stem in names or p.name in names]
    if checkdata is None:
        import gradkit

        own = Path(gradkit.__file__).resolve().parent.parent / "solutions"
        checkdata = solutions_dir.resolve() == own.resolve()
    results = []
    for source in sources:
        name = source.stem
        target = lessons_dir / source.name
        text = nbformat.writes(make_lesson(read_notebook(source), name)) + "\n"
        existing = target.read_text(encoding="utf-8") if target.exists() else None
        if existing == text:
            results.append(BuildResult(name, "unchanged", f"{target} is up to date"))
        elif check:
            why = "missing" if existing is None else "stale"
            results.append(BuildResult(name, "stale", f"{target} is {why}: run `gradkit build`"))
        elif existing is None:
            lessons_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            results.append(BuildResult(name, "created", f"wrote {target}"))
        elif not _edited(existing):
            target.write_text(text, encoding="utf-8")
            results.append(BuildResult(name, "updated", f"rewrote {target} from its solution"))
        elif not force:
            results.append(BuildResult(name, "refused", (
                f"{target} was edited since `gradkit build` generated it; not overwritten. "
                "Save your work under another name, or run `gradkit build --force` "
                "(a timestamped backup is kept)")))
        else:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            backup = target.with_name(f"{name}.backup-{stamp}.ipynb")
            shutil.copy2(target, backup)
            target.write_text(text, encoding="utf-8")
            results.append(BuildResult(name, "replaced", f"overwrote {target}; backup in {backup}"))
        if checkdata:
            results.append(_build_checkdata(solutions_dir, name, check))
    return results


def _build_checkdata(solutions_dir, name, check):
    from gradkit.grading import checkdata
    from gradkit.grading.references import Instructor
    from gradkit.grading.spec import lesson_numbers

    lesson = name[:2]
    label = f"{name} check data"
    if lesson not in lesson_numbers():
        return BuildResult(label, "unchanged", f"lesson {lesson} has no graded exercises")
    instructor = Instructor(solutions_dir)
    if check:
        why = checkdata.stale(lesson, instructor)
        return BuildResult(label, "stale", why) if why else BuildResult(
            label, "unchanged", f"{checkdata.data_path(lesson)} is up to date")
    path, changed = checkdata.write(lesson, instructor)
    return BuildResult(label, "updated", f"wrote {path}") if changed else BuildResult(
        label, "unchanged", f"{path} is up to date")
