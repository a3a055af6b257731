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
import threading
from fractions import Fraction
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
    "student_id",
    "student_id_cell",
    "written_answers",
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


_PARSE_LOCK = threading.Lock()


def parse_python(source):
    """``ast.parse``, one thread at a time.

    The grader reads notebooks in several threads at once, and CPython before
    3.11.8 and 3.12.2 keeps the AST converter's recursion depth in shared state
    (gh-106905): two parses at once can fail with "SystemError: AST constructor
    recursion depth mismatch". Every parse in gradkit goes through here.
    """
    with _PARSE_LOCK:
        return ast.parse(source)


def answer_names(source):
    """Top-level names a cell defines (functions, classes, assignments)."""
    try:
        tree = parse_python(strip_magics(source))
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
    r"""Comment out IPython magics and shell escapes so plain Python can run a cell.

    A line is a magic (``%timeit f()``) or a shell escape (``!pip install x``)
    only where IPython reads one: at the start of a new statement, so not a
    line inside brackets, inside a string, or after a ``\`` continuation,
    where ``% b`` is the modulo of the expression above. A magic indented
    inside a block becomes ``pass`` so the block keeps a statement. A cell
    magic on the first line (``%%time``) is commented out and its body kept,
    since the body is Python; the whole cell is commented out when the body
    is not Python (``%%bash``, ``%%writefile``, ``%%html``, ...). Code that
    does not parse is handled line by line all the same, never raising.

    Examples
    --------
    >>> print(strip_magics("%matplotlib inline\nx = (7\n     % 4)"))
    # %matplotlib inline
    x = (7
         % 4)
    """
    lines = re.split(r"\r\n|\r|\n", source)
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    head = lines[first].lstrip() if first < len(lines) else ""
    if head.startswith("%%"):
        name = (head[2:].split() or [""])[0]
        if name in _FOREIGN_CELL_MAGICS:
            return "\n".join("# " + line if line.strip() else line for line in lines)
        lines[first] = "# " + lines[first]
        first += 1
    return "\n".join(lines[:first] + _strip_line_magics(lines[first:]))


# Cell magics whose body is not Python run in the notebook's namespace.
_FOREIGN_CELL_MAGICS = frozenset({
    "!", "HTML", "bash", "file", "html", "javascript", "js", "latex", "markdown", "perl",
    "pypy", "python", "python2", "python3", "ruby", "script", "sh", "svg", "system",
    "writefile",
})


def _strip_line_magics(lines):
    out = []
    depth, quote, continued, in_magic = 0, None, False, False
    base = None  # the cell's own indentation: a magic deeper than it is inside a block
    for line in lines:
        head = line.lstrip()
        indent = line[: len(line) - len(head)]
        if base is None and head:
            base = len(indent)
        if in_magic:  # a magic's own backslash continuation is part of the magic
            out.append("# " + line)
        elif depth == 0 and quote is None and not continued and head.startswith(("%", "!")):
            out.append(indent + "pass  # " + head if len(indent) > base else "# " + line)
        else:
            depth, quote, continued = _scan(line, depth, quote)
            out.append(line)
            continue
        in_magic = line.endswith("\\")
    return out


def _scan(line, depth, quote):
    r"""``(depth, quote, continued)`` at the end of ``line``, given them at its start.

    ``depth`` counts open brackets, ``quote`` is the delimiter of an open
    string (a quote or a triple quote) or ``None``, ``continued`` is a ``\``
    ending the line outside a string. Unbalanced code is read as well as it can be:
    a closing bracket too many is ignored, a one-line string left open ends
    with its line.
    """
    i, n = 0, len(line)
    while i < n:
        char = line[i]
        if quote:
            if char == "\\":
                if i == n - 1:
                    return depth, quote, False  # the string goes on at the next line
                i += 2  # an escaped character, also in raw strings: r"\"" is one string
            elif line.startswith(quote, i):
                i, quote = i + len(quote), None
            else:
                i += 1
            continue
        if char == "#":
            break
        if char in "\"'":
            quote = char * 3 if line.startswith(char * 3, i) else char
            i += len(quote)
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth = max(depth - 1, 0)
        elif char == "\\" and i == n - 1:
            return depth, quote, True
        i += 1
    return depth, quote if quote and len(quote) == 3 else None, False


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


def lesson_name(nb, path, known, solutions=None):
    """Which lesson a notebook is: ``"01_derivative"``, or ``None``.

    With ``solutions``, the content decides, so that a renamed notebook
    stripped of its metadata is still graded as what it is. Each known
    lesson scores how much of its solution the notebook's code cells hold:
    the fraction of its answer names they define, plus the fraction of its
    ``check("NN.id", ...)`` calls they make, plus the fraction of its code
    cell ids they keep (each from 0 to 1). The best score wins. The
    notebook metadata (``metadata.gradkit.lesson``), then the file name (the
    lesson whose name appears in it, else the one with its ``NN_`` prefix),
    break a tie with the best and decide alone when no code cell matches any
    lesson, or when ``solutions`` is not given.

    Parameters
    ----------
    nb : nbformat.NotebookNode
        The notebook, as from :func:`read_notebook`.
    path : str or Path
        Its file name, as submitted.
    known : iterable of str
        The lesson names to choose from.
    solutions : mapping or callable, optional
        Lesson name -> solution notebook (or its path), either a mapping or
        a function such as a cached reader; a lesson whose solution is
        missing or unreadable is left out of the comparison.

    Returns
    -------
    str or None
        ``None`` when nothing tells a lesson, or when the content matches
        several lessons equally and the metadata and file name pick none of
        them.
    """
    known = set(known)
    named = _named_lesson(nb, path, known)
    if solutions is None:
        return named
    found = _evidence(nb, answers_only=False)
    scores = {}
    for name in known:
        try:
            solution = solutions(name) if callable(solutions) else solutions[name]
            if isinstance(solution, (str, Path)):
                solution = read_notebook(solution)
        except (LookupError, OSError, ValueError):  # NotebookError is a ValueError
            continue
        wanted = _evidence(solution, answers_only=True)
        scores[name] = sum((Fraction(len(f & w), len(w)) for f, w in zip(found, wanted) if w),
                           Fraction(0))
    best = max(scores.values(), default=0)
    if best == 0 or scores.get(named) == best:
        return named
    winners = [name for name, score in scores.items() if score == best]
    return winners[0] if len(winners) == 1 else None


def _named_lesson(nb, path, known):
    """The lesson the metadata names, else the file name, else ``None``."""
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


def _evidence(nb, answers_only):
    """``(names, check ids, cell ids)`` of a notebook's code cells.

    For a solution (``answers_only``) the names are those its answer cells
    define and instructor cells are left out, as they are never shipped; for
    a submission, the names any code cell defines.
    """
    names, checks, ids = set(), set(), set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code" or (answers_only and is_instructor_cell(cell)):
            continue
        source = cell.get("source", "")
        if not answers_only or is_answer_cell(cell):
            names |= answer_names(source)
        checks.update(m.group(1) for m in map(_CHECK_CALL.match, source.splitlines()) if m)
        if cell.get("id"):
            ids.add(cell["id"])
    return names, checks, ids


ANSWER_HEADER = "*Your answer"
_QUESTION = re.compile(r"\*\*Question[^*]*\*\*")


def _cut(text, n):
    """``text`` cut to at most ``n`` characters at a word boundary, with "…" if cut."""
    if len(text) <= n:
        return text
    return text[:n - 1].rsplit(None, 1)[0].rstrip(",;:") + "…"


def written_answers(student_nb, solution_nb):
    """The student's answers to the written questions: ``[(question, answer), ...]``.

    A written question is a markdown cell of the solution holding a solution block;
    the question is the text of the markdown cell before it (at most 300
    characters, cut at a word), the student's answer the markdown cell with the same cell id, else
    the one at the same place among the cells that start with ``*Your answer``. An
    answer left as ``YOUR ANSWER HERE`` is ``""``.
    """
    found = []
    theirs = [c for c in student_nb.cells if c.get("cell_type") == "markdown"]
    by_id = {c.get("id"): c for c in theirs if c.get("id")}
    headed = [c for c in theirs if c.get("source", "").lstrip().startswith(ANSWER_HEADER)]
    number = 0
    cells = solution_nb.cells
    for index, cell in enumerate(cells):
        if cell.get("cell_type") != "markdown" or BEGIN not in cell.get("source", ""):
            continue
        question = ""
        for before in reversed(cells[:index]):
            if before.get("cell_type") == "markdown":
                question = before.get("source", "").strip()
                break
        mine = by_id.get(cell.get("id"))
        if mine is None and number < len(headed):
            mine = headed[number]
        number += 1
        text = mine.get("source", "") if mine is not None else ""
        lines = [line for line in text.strip().splitlines()
                 if line.strip() not in (BEGIN, END)]
        if lines and lines[0].lstrip().startswith(ANSWER_HEADER):
            lines = lines[1:]
        answer = "\n".join(lines).strip()
        if answer == "YOUR ANSWER HERE":
            answer = ""
        title = _QUESTION.search(question)
        if title:
            question = question[title.start():]
        found.append((title.group(0).strip("* ") if title else _cut(question, 60),
                      _cut(question, 300), answer))
    return found


STUDENT_TAG = "student-id"


def _assigns_student_id(source):
    try:
        tree = parse_python(source)
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets)
        for node in tree.body)


def student_id_cell(nb):
    """The index of the cell that sets ``STUDENT_ID`` (tagged ``student-id``, else the first
    code cell assigning it at top level), or None."""
    cells = nb.get("cells", [])
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and STUDENT_TAG in cell.get(
                "metadata", {}).get("tags", []):
            return index
    for index, cell in enumerate(cells):
        if cell.get("cell_type") == "code" and _assigns_student_id(cell.get("source", "")):
            return index
    return None


def student_id(nb):
    """``(id, problem)``: the string ``STUDENT_ID`` is set to in a notebook, read as a literal
    (never run), and "" or a one-line reason why it cannot be read.

    The id is "" when the notebook has no such cell or leaves it empty.
    """
    from gradkit.grading.variants import normalize_id

    index = student_id_cell(nb)
    if index is None:
        return "", ""
    source = nb["cells"][index].get("source", "")
    try:
        tree = parse_python(source)
    except SyntaxError:
        return "", "the STUDENT_ID cell is not valid Python"
    values = [node.value for node in tree.body if isinstance(node, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "STUDENT_ID" for t in node.targets)]
    if not values:
        return "", "the STUDENT_ID cell does not set STUDENT_ID"
    value = values[-1]
    if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
        return "", 'STUDENT_ID must be a plain string in quotes, such as "s2024017"'
    try:
        return normalize_id(value.value), ""
    except (TypeError, ValueError) as exc:
        return "", str(exc)
