"""``gradkit release --out DIR``: the graded edition, what an instructor hands to students.

It holds the lessons (``lessons/``, answers stubbed), the ``gradkit`` library
with its install files, the public check data (expected values of the public
tests, computed by ``gradkit build``) and a short README for students. It holds
no solution notebook, no reference answer, no instructor file and no hidden
test: before writing, release checks that the lessons and the check data are
up to date, and after writing, it scans every file it wrote for each answer of
the solutions and each instructor-only function (:func:`leaks`), and removes
the edition again if one is found.

This repository, with ``solutions/``, stays the self-paced edition.
"""

import ast
import re
import shutil
import textwrap
from pathlib import Path

__all__ = ["answer_lines", "leaks", "make_release"]

MARKER = ".gradkit-release"
_MIN_LINE = 25  # shorter lines (``return dx``) are too common to count as an answer

STUDENT_README = """# {title}: the course notebooks

Work through `lessons/` in order, in JupyterLab. Each exercise is a function you
write; the cell after it checks your answer and tells you what is wrong and why.
"public checks passed" means your answer passed the checks you can see; grading
may run more.

## Set up

With Python 3.10 or newer:

    python3 -m venv .venv && .venv/bin/pip install ".[course]" && .venv/bin/jupyter lab lessons/

(on Windows: `.venv\\Scripts\\pip` and `.venv\\Scripts\\jupyter`).

## Hand in

Save your notebook and upload the lesson's `.ipynb` file (one notebook per
assignment, under its own name, e.g. `03_gradient_checking.ipynb`) as your
instructor says. Keep your answers in the answer cells; cells of your own
(helpers, imports) are fine: they run, in order, when your notebook is graded.
"""


def _source_root():
    import gradkit

    return Path(gradkit.__file__).resolve().parent.parent


def answer_lines(solutions_dir):
    """``{line: where}``: each line of each solution's answer blocks (at least 25
    characters, not a comment), and of each instructor-only function."""
    from gradkit.grading.notebook import BEGIN, END, is_answer_cell, read_notebook

    found = {}
    for path in sorted(Path(solutions_dir).glob("[0-9][0-9]_*.ipynb")):
        nb = read_notebook(path)
        for number, cell in enumerate(nb.cells, start=1):
            if not is_answer_cell(cell):
                continue
            inside = False
            for line in cell.source.splitlines():
                stripped = line.strip()
                if stripped.startswith(BEGIN):
                    inside = True
                elif stripped.startswith(END):
                    inside = False
                elif inside and len(stripped) >= _MIN_LINE and not stripped.startswith("#"):
                    found.setdefault(_norm(stripped), f"{path.name}, cell {number}")
    instructor = Path(solutions_dir) / "instructor"
    for path in sorted(instructor.glob("*.py")) if instructor.is_dir() else ():
        text = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = textwrap.dedent("\n".join(
                    text.splitlines()[node.body[0].lineno - 1:node.end_lineno]))
                for line in body.splitlines():
                    stripped = line.strip()
                    if len(stripped) >= _MIN_LINE and not stripped.startswith(("#", '"""')):
                        found.setdefault(_norm(stripped), f"{path.name}, {node.name}")
    return found


def _norm(line):
    return re.sub(r"\s+", " ", line.strip())


def leaks(directory, solutions_dir, hidden_dir=None):
    """Where the edition in ``directory`` holds a line of an answer, of an instructor
    function, or of a hidden test: a list of ``"file: what (from where)"``, empty when
    there is none."""
    wanted = answer_lines(solutions_dir)
    hidden = {}
    if hidden_dir is not None:
        for path in sorted(Path(hidden_dir).glob("*.py")):
            for line in path.read_text(encoding="utf-8").splitlines():
                if len(line.strip()) >= _MIN_LINE and not line.strip().startswith("#"):
                    hidden.setdefault(_norm(line), f"hidden test {path.name}")
    found = []
    for path in sorted(Path(directory).rglob("*")):
        if not path.is_file() or path.suffix not in (".py", ".ipynb", ".json", ".md", ".txt",
                                                     ".toml", ".yml", ".cfg"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":  # JSON strings: compare the lines as the cells hold them
            text = text.replace('\\"', '"').replace("\\n", "\n")
        lines = {_norm(line) for line in text.splitlines()}
        for line, where in list(wanted.items()) + list(hidden.items()):
            if line in lines:
                found.append(f"{path.relative_to(directory)}: {line[:60]!r} ({where})")
    return found


def make_release(out, solutions_dir=None, lessons_dir=None):
    """Write the graded edition to ``out``; return its path.

    Raises
    ------
    ValueError
        If ``out`` holds files that are not an earlier release, the lessons or
        the check data are stale (run ``gradkit build``), or a reference line
        would be in the edition.
    """
    from gradkit.build import build_lessons

    root = _source_root()
    if not (root / "pyproject.toml").is_file():
        raise ValueError(f"gradkit at {root} is not a source tree (no pyproject.toml): run "
                         "`gradkit release` from a clone installed with `pip install -e .`")
    solutions_dir = Path(solutions_dir) if solutions_dir else root / "solutions"
    lessons_dir = Path(lessons_dir) if lessons_dir else root / "lessons"
    stale = [r.message for r in build_lessons(solutions_dir, lessons_dir, check=True)
             if not r.ok]
    if stale:
        raise ValueError(f"lessons or check data are not up to date ({stale[0]}); run "
                         "`gradkit build` first")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise ValueError(f"{out} is not empty and not an earlier release: choose a new "
                         "directory (nothing was written)")
    if out.exists():
        shutil.rmtree(out)
    (out / "lessons").mkdir(parents=True)
    for lesson in sorted(lessons_dir.glob("[0-9][0-9]_*.ipynb")):
        shutil.copy2(lesson, out / "lessons" / lesson.name)
    shutil.copytree(root / "gradkit", out / "gradkit",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(root / "pyproject.toml", out / "pyproject.toml")
    title = "gradkit"
    (out / "README.md").write_text(STUDENT_README.format(title=title), encoding="utf-8")
    (out / MARKER).write_text("a graded edition written by `gradkit release`\n",
                              encoding="utf-8")
    found = leaks(out, solutions_dir)
    if found:
        shutil.rmtree(out)
        raise ValueError(f"the edition would hold answers, so nothing was written: {found[0]}"
                         + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
    return out
