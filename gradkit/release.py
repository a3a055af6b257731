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
from pathlib import Path

from gradkit.grading.notebook import parse_python

__all__ = ["answer_blocks", "leaks", "library_equivalents", "make_release"]

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


def answer_blocks(solutions_dir):
    """``[(where, lines)]``: the distinctive lines (at least 25 characters, not comments)
    of each answer block of the solutions and of each instructor-only function."""
    from gradkit.grading.notebook import BEGIN, END, is_answer_cell, read_notebook

    blocks, shown = [], set()
    notebooks = [(p, read_notebook(p)) for p in
                 sorted(Path(solutions_dir).glob("[0-9][0-9]_*.ipynb"))]
    for _, nb in notebooks:  # what the lessons show anyway is no answer
        for cell in nb.cells:
            if cell.get("cell_type") == "code" and not is_answer_cell(cell):
                shown |= {_norm(line) for line in cell.source.splitlines()}
                shown |= {_norm(line) for line in _printed(cell).splitlines()}
    for path, nb in notebooks:
        for number, cell in enumerate(nb.cells, start=1):
            if not is_answer_cell(cell):
                continue
            inside, lines = False, []
            for line in cell.source.splitlines():
                stripped = line.strip()
                if stripped.startswith(BEGIN):
                    inside, lines = True, []
                elif stripped.startswith(END):
                    inside = False
                    if lines:
                        blocks.append((f"{path.name}, cell {number}", lines))
                elif inside and _distinctive(stripped) and _norm(stripped) not in shown:
                    lines.append(_norm(stripped))
    instructor = Path(solutions_dir) / "instructor"
    for path in sorted(instructor.glob("*.py")) if instructor.is_dir() else ():
        text = path.read_text(encoding="utf-8")
        source = text.splitlines()
        for node in ast.walk(parse_python(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(
                        getattr(body[0], "value", None), ast.Constant):
                    body = body[1:]  # the docstring
                if not body:
                    continue
                text_lines = source[body[0].lineno - 1:node.end_lineno]
                lines = [_norm(x) for x in text_lines if _distinctive(x.strip())]
                if lines:
                    blocks.append((f"instructor/{path.name}, {node.name}", lines))
    return blocks


def _printed(cell):
    """The text a code cell prints or shows when it runs (the capstone prints the script
    a student repairs: its lines are on the student's screen, so they are no answer)."""
    parts = []
    for output in cell.get("outputs", ()):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif output.get("output_type") in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join("".join(p) if isinstance(p, list) else p for p in parts)


def _distinctive(stripped):
    return len(stripped) >= _MIN_LINE and not stripped.startswith("#")


def _norm(line):
    return re.sub(r"\s+", " ", line.split("  #")[0].strip())


def _holds(block, lines):
    """True when a file's ``lines`` hold ``block``: half its distinctive lines (at least
    two), or the whole of a one-line block of 40 characters or more."""
    found = sum(line in lines for line in block)
    if len(block) == 1:
        return found == 1 and len(block[0]) >= 40
    return found >= max(2, (len(block) + 1) // 2)


def leaks(directory, solutions_dir, hidden_dir=None, where=None):
    """Where the edition in ``directory`` holds an answer block of the solutions, an
    instructor function, or a line of a hidden test: a list of ``"file: what (from
    where)"``, empty when there is none. ``where(path) -> bool`` picks the files to scan
    (default: all text files)."""
    blocks = answer_blocks(solutions_dir)
    hidden = []
    if hidden_dir is not None:
        for path in sorted(Path(hidden_dir).glob("*.py")):
            hidden += [(f"hidden test {path.name}", _norm(x)) for x in
                       path.read_text(encoding="utf-8").splitlines() if _distinctive(x.strip())]
    found = []
    for path in sorted(Path(directory).rglob("*")):
        if not path.is_file() or path.suffix not in (".py", ".ipynb", ".json", ".md", ".txt",
                                                     ".toml", ".yml", ".cfg"):
            continue
        if where is not None and not where(path):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":  # JSON strings: compare the lines as the cells hold them
            text = text.replace('\\"', '"').replace("\\n", "\n")
        lines = {_norm(line) for line in text.splitlines()}
        lines |= {_norm(line.strip().strip('",')) for line in text.splitlines()}
        whole = path.suffix == ".ipynb"  # a lesson shows code to fix: only a whole answer counts
        for origin, block in blocks:
            if (all(line in lines for line in block) and len(" ".join(block)) >= 40) \
                    if whole else _holds(block, lines):
                found.append(f"{path.relative_to(directory)}: {block[0][:60]!r} ({origin})")
        for origin, line in hidden:
            if line in lines:
                found.append(f"{path.relative_to(directory)}: {line[:60]!r} ({origin})")
    return found


def library_equivalents(directory, solutions_dir):
    """Answers that the ``gradkit`` library itself implements (later lessons use them), as
    :func:`leaks` finds them in the library's modules (outside ``gradkit/grading``)."""
    return leaks(directory, solutions_dir,
                 where=lambda p: p.suffix == ".py" and "grading" not in p.parts)


def _not_library(path):
    return "grading" in path.parts or path.suffix != ".py"


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
    found = leaks(out, solutions_dir, where=_not_library)
    if found:
        shutil.rmtree(out)
        raise ValueError(f"the edition would hold answers, so nothing was written: {found[0]}"
                         + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""))
    return out
