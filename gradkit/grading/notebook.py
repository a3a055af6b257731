"""Reading notebooks: solution blocks, answer cells, check cells, lesson matching.

Vocabulary, for a solution notebook ``solutions/NN_name.ipynb``:

- an **answer cell** is a code cell holding ``### BEGIN SOLUTION`` …
  ``### END SOLUTION``; in ``lessons/`` the block is a stub raising
  ``NotImplementedError``;
- a **check cell** is a code cell whose statements are all
  ``check("NN.id", ...)`` calls;
- an **instructor cell** is tagged ``instructor``: never shipped;
- every other code cell is **provided**.
"""

import ast
import re
from pathlib import Path

__all__ = [
    "BEGIN",
    "END",
    "NotebookError",
    "answer_names",
    "check_ids",
    "find_answer_cell",
    "is_answer_cell",
    "is_instructor_cell",
    "lesson_name",
    "read_notebook",
    "strip_magics",
    "strip_solutions",
]

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
_CHECK_CALL = re.compile(r"""^\s*check\(\s*["'](\d\d\.\w+)["']""")


class NotebookError(ValueError):
    """A file that is not a readable notebook; the message is one line."""


def read_notebook(path):
    """Read a notebook, or raise :class:`NotebookError` with a one-line reason."""
    import nbformat  # imported here: the sandboxed worker needs this module, not nbformat

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path}: cannot read it as text ({type(exc).__name__})") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if reason.startswith("Notebook does not appear to be JSON"):
            reason = "not valid JSON"
        raise NotebookError(f"{path}: not a Jupyter notebook ({reason[:120]})") from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path}: not a Jupyter notebook (no list of cells)")
    return nb


def is_instructor_cell(cell):
    """True for cells tagged ``instructor``."""
    return "instructor" in cell.get("metadata", {}).get("tags", [])


def is_answer_cell(cell):
    """True for code cells with a ``### BEGIN SOLUTION`` block."""
    return cell.get("cell_type") == "code" and BEGIN in cell.get("source", "")


def check_ids(cell):
    """Exercise ids of a check cell, or ``[]`` if the cell is not only check calls."""
    if cell.get("cell_type") != "code":
        return []
    ids = []
    for line in cell.get("source", "").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _CHECK_CALL.match(line)
        if not match:
            return []
        ids.append(match.group(1))
    return ids


def answer_names(source):
    """Top-level names a cell defines (functions, classes, assignments)."""
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return set(re.findall(r"^def\s+([A-Za-z_]\w*)\s*\(", source, flags=re.M))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def find_answer_cell(student_nb, solution_cell):
    """The student's version of ``solution_cell``, or ``None`` if it was deleted.

    The last code cell defining one of the solution cell's names wins (as
    when the notebook runs top to bottom); failing that, the cell with the
    same cell id.
    """
    wanted = answer_names(solution_cell.source)
    code = [c for c in student_nb.cells if c.get("cell_type") == "code"]
    if wanted:
        for cell in reversed(code):
            if wanted & answer_names(cell.get("source", "")):
                return cell
    cell_id = solution_cell.get("id")
    for cell in code:
        if cell_id and cell.get("id") == cell_id:
            return cell
    return None


def strip_magics(source):
    """Comment out IPython magics and shell escapes so plain Python can run a cell."""
    lines = []
    for line in source.splitlines():
        head = line.lstrip()
        lines.append("# " + line if head.startswith(("%", "!")) else line)
    return "\n".join(lines)


def strip_solutions(source, cell_type="code"):
    """Replace each solution block by a stub; return the new source.

    In code, the block becomes ``# YOUR CODE HERE`` and ``raise
    NotImplementedError`` at the indentation of the ``BEGIN`` line; in
    markdown, ``YOUR ANSWER HERE``.

    Raises
    ------
    ValueError
        If a block is not closed, or an ``END`` comes without a ``BEGIN``.
    """
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith(BEGIN):
            if inside:
                raise ValueError(f"line {number}: {BEGIN} inside another solution block")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            if cell_type == "code":
                out += [f"{indent}# YOUR CODE HERE", f"{indent}raise NotImplementedError"]
            else:
                out.append(f"{indent}YOUR ANSWER HERE")
        elif stripped.startswith(END):
            if not inside:
                raise ValueError(f"line {number}: {END} without a {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError(f"a {BEGIN} block is never closed by {END}")
    return "\n".join(out)


def lesson_name(nb, path, known):
    """Which lesson a notebook is: ``"01_derivative"``, or ``None``.

    Notebook metadata (``metadata.gradkit.lesson``) first, then the file name:
    the lesson whose name appears in it, else the one with its ``NN_`` prefix.
    """
    meta = nb.get("metadata", {}).get("gradkit", {})
    if isinstance(meta, dict) and meta.get("lesson") in known:
        return meta["lesson"]
    stem = Path(path).stem
    for name in sorted(known, key=len, reverse=True):
        if name in stem:
            return name
    prefix = re.match(r"^(\d\d)[_\-. ]", stem)
    if prefix:
        matches = [n for n in known if n.startswith(prefix.group(1) + "_")]
        if len(matches) == 1:
            return matches[0]
    return None
