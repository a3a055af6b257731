"""``gradkit autograder``: a Gradescope autograder bundle (a zip file).

Layout of the zip (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh          makes the virtual environment /autograder/venv (pinned
                      requirements, then gradkit) and installs bubblewrap
    run_autograder    grades the one notebook in /autograder/submission into
                      /autograder/results/results.json
    requirements.txt  gradkit's dependencies (core and ``grade`` extra, and
                      theirs) pinned ``name==version`` as installed here
    gradkit-src/      the package source (pyproject.toml, README.md, gradkit/)
    solutions/        the solution notebooks (every lesson, or the one given
                      with ``--lesson``), the matching ``instructor/lessonNN.py``
                      files, and ``lessons.txt``, the names of all lessons
    hidden/           the instructor's hidden tests (only with --hidden)

A submission is graded only if it holds exactly one notebook, and, for a
bundle made with ``--lesson NN``, only if that notebook is lesson NN's (see
:func:`select_submission`): the same notebook uploaded twice, or last week's
notebook under this week's name, scores 0 with a message saying what to
upload.

Both scripts honour ``AUTOGRADER_ROOT`` (default ``/autograder``), and
``run_autograder`` honours ``GRADKIT_PYTHON`` (default
``$AUTOGRADER_ROOT/venv/bin/python``), so the bundle can be tried on a
directory laid out the same way.
"""

import json
import os
import platform
import re
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

from gradkit.grading.notebook import NotebookError, lesson_name, read_notebook

__all__ = [
    "RUN_AUTOGRADER",
    "SETUP_SH",
    "make_bundle",
    "metadata_ids",
    "pinned_requirements",
    "refused_results",
    "select_submission",
    "write_results",
]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
apt_install() {
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
command -v python3 >/dev/null 2>&1 || apt_install python3
# The grader runs the student's code in a bubblewrap sandbox.
command -v bwrap >/dev/null 2>&1 || apt_install bubblewrap
# A virtual environment of its own: the image's Python is left alone (PEP 668 images
# refuse a system-wide pip install), and only the pinned versions are installed.
# Debian and Ubuntu ship venv's pip bootstrap apart, in python3-venv.
if ! python3 -m venv "$ROOT/venv" >/dev/null 2>&1; then
  rm -rf "$ROOT/venv"
  apt_install python3-venv
  python3 -m venv "$ROOT/venv"
fi
HAVE="$("$ROOT/venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [ "$HAVE" != "__PYTHON__" ]; then
  echo "setup.sh: requirements.txt was pinned under Python __PYTHON__ and this image has" \\
    "Python $HAVE; if pip finds no matching version, make the bundle under Python $HAVE" >&2
fi
"$ROOT/venv/bin/python" -m pip install --no-input --no-cache-dir \\
  -r "$ROOT/source/requirements.txt"
"$ROOT/venv/bin/python" -m pip install --no-input --no-cache-dir --no-deps \\
  "$ROOT/source/gradkit-src"
# The solutions, instructor files and hidden tests are for the grader (root) only: where
# bubblewrap cannot run, student code runs as an unprivileged user, who must not read them.
chmod -R go-rwx "$ROOT/source"
chmod -R go+rX "$ROOT/venv"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission. The grader writes results/results.json
# itself (a temporary file moved into place). The script ends by exec-ing the grader:
# bash then reads no more of this file, so an edit to it during grading runs nothing.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADKIT_PYTHON:-$ROOT/venv/bin/python}"
mkdir -p "$ROOT/results"
# Only the grader (root) writes results; the student's code runs as another user.
chmod 755 "$ROOT/results"
HIDDEN=()
if [ -d "$ROOT/source/hidden" ]; then HIDDEN=(--hidden "$ROOT/source/hidden"); fi
# who submitted: the student id their variants are graded with
META=()
if [ -f "$ROOT/submission_metadata.json" ]; then
  META=(--metadata "$ROOT/submission_metadata.json")
fi
mapfile -d '' -t NOTEBOOKS < <(find "$ROOT/submission" -name '*.ipynb' \\
  -not -path '*/.ipynb_checkpoints/*' -print0 | sort -z)
cd "$ROOT"
exec "$PYTHON" -m gradkit grade "${NOTEBOOKS[@]}" --gradescope __LESSON__\\
  --solutions "$ROOT/source/solutions" "${HIDDEN[@]}" "${META[@]}" \\
  --json "$ROOT/results/results.json" --timeout __TIMEOUT__
"""

# Beside the solution notebooks in a bundle: every lesson's name, so that a bundle
# holding one lesson still recognises a notebook of another.
LESSONS_FILE = "lessons.txt"


def _solution_notebooks(solutions_dir):
    return {p.stem: p for p in sorted(Path(solutions_dir).glob("[0-9][0-9]_*.ipynb"))}


def _known_lessons(solutions_dir):
    known = set(_solution_notebooks(solutions_dir))
    listed = Path(solutions_dir) / LESSONS_FILE
    if listed.is_file():
        known |= {line.strip() for line in listed.read_text(encoding="utf-8").splitlines()
                  if re.fullmatch(r"\d\d_\w+", line.strip())}
    return known


def _lesson_of(lesson, solutions_dir):
    """``"03"`` (or ``"3"``, ``"03_gradient_checking"``) -> ``"03_gradient_checking"``."""
    number = re.match(r"^(\d{1,2})(?:_\w*)?$", str(lesson).strip())
    solutions = _solution_notebooks(solutions_dir)
    found = [] if number is None else [
        name for name in solutions if name.startswith(f"{int(number.group(1)):02d}_")]
    if len(found) != 1:
        have = ", ".join(name[:2] for name in solutions) or "none"
        raise ValueError(f"no solution notebook for lesson {str(lesson)!r} in "
                         f"{str(solutions_dir)!r}: give --lesson NN, one of {have}")
    return found[0]


def _shown(paths, most=5):
    """The notebooks' names as the student sees them (relative to the submission)."""
    base = os.path.commonpath([os.path.dirname(os.path.abspath(p)) for p in paths])
    names = [os.path.relpath(os.path.abspath(p), base) for p in paths]
    more = f", and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def select_submission(paths, lesson, solutions_dir):
    """The one notebook of a Gradescope submission to grade, or why there is none.

    Parameters
    ----------
    paths : list of path
        The submitted files; only ``*.ipynb`` ones count, and none under
        ``.ipynb_checkpoints/`` (Jupyter's autosaves).
    lesson : str or None
        ``"03"``: the notebook must be lesson 03's (by its content, else its
        metadata or file name, see :func:`gradkit.grading.notebook.lesson_name`).
        None: any one lesson's notebook.
    solutions_dir : path
        The solution notebooks (and, in a bundle, ``lessons.txt``).

    Returns
    -------
    (path, None) or (None, message)
        ``message`` says what is wrong and what to upload; it goes to the
        student as the output of a score of 0 (see :func:`refused_results`).

    Raises
    ------
    ValueError
        If ``lesson`` has no solution notebook in ``solutions_dir``.

    Examples
    --------
    >>> path, message = select_submission(["sub/a.ipynb", "sub/b.ipynb"], "01", "solutions")
    >>> print(message)  # doctest: +NORMALIZE_WHITESPACE
    Found 2 notebooks in the submission (a.ipynb, b.ipynb): upload exactly one notebook,
    01_derivative.ipynb.
    """
    expected = None if lesson is None else _lesson_of(lesson, solutions_dir)
    upload = "upload exactly one notebook, " + (
        f"{expected}.ipynb" if expected else "your lesson notebook (e.g. 01_derivative.ipynb)")
    notebooks, seen = [], set()
    for path in map(Path, paths):
        if path.suffix.lower() != ".ipynb" or ".ipynb_checkpoints" in path.parts:
            continue
        if path.resolve() not in seen:
            seen.add(path.resolve())
            notebooks.append(path)
    if not notebooks:
        return None, f"No notebook (.ipynb) was found in the submission: {upload}."
    if len(notebooks) > 1:
        return None, (f"Found {len(notebooks)} notebooks in the submission "
                      f"({_shown(notebooks)}): {upload}.")
    (path,) = notebooks
    if expected is None:
        return path, None
    try:
        nb = read_notebook(path)
    except NotebookError as exc:
        return None, f"{exc}: {upload}."
    # as the grader decides: by content where it matches a solution here, else by name
    found = lesson_name(nb, path, _known_lessons(solutions_dir),
                        solutions=_solution_notebooks(solutions_dir))
    if found is None:
        return None, (f"Cannot tell which lesson {path.name} is (not its content, metadata "
                      f"or name): {upload}.")
    if found != expected:
        return None, (f"{path.name} is the notebook of lesson {found}, not of lesson "
                      f"{expected}: {upload}.")
    return path, None


def metadata_ids(path):
    """The ids of the submitter in Gradescope's ``submission_metadata.json``: the first
    user's ``sid`` (the roster's student id) and email, in that order ([] if none).

    Raises
    ------
    ValueError
        If the file cannot be read as JSON.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read the submission metadata {path}: {exc}") from None
    users = data.get("users") if isinstance(data, dict) else None
    if not isinstance(users, list) or not users or not isinstance(users[0], dict):
        return []
    user = users[0]
    return [str(user[k]) for k in ("sid", "email") if isinstance(user.get(k), (str, int))
            and str(user[k]).strip()]


def refused_results(message):
    """The Gradescope results of a submission that is not graded: score 0, ``message``."""
    return {"score": 0.0, "max_score": 0.0, "output": message, "tests": [],
            "visibility": "visible"}


def write_results(data, path):
    """Write ``data`` as JSON to ``path`` through a temporary file moved into place.

    The move replaces whatever is at ``path`` (a symlink is replaced, not followed),
    and a reader never sees a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps(data, indent=2) + "\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def pinned_requirements(extras=("grade",)):
    """``name==version`` of every distribution gradkit needs, as installed here.

    gradkit's own requirements (the core, and those of ``extras``), then theirs,
    transitively; markers are evaluated for this Python and platform. gradkit
    itself is left out (the bundle installs it from its source).

    Returns
    -------
    list of str
        Sorted by name.

    Raises
    ------
    ValueError
        If gradkit, or one of the distributions it needs, is not installed.
    """
    from packaging.requirements import Requirement  # matplotlib depends on packaging
    from packaging.utils import canonicalize_name

    pins, seen = {}, set()
    todo = [("gradkit", extra, "the bundle") for extra in ("", *extras)]
    while todo:
        name, extra, needed_by = todo.pop()
        if (canonicalize_name(name), extra) in seen:
            continue
        seen.add((canonicalize_name(name), extra))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise ValueError(
                f"{name} (needed by {needed_by}) is not installed here, so its version cannot "
                "be pinned: install gradkit with `pip install -e '.[grade]'` and make the "
                "bundle again") from None
        key = canonicalize_name(dist.metadata["Name"])
        if key != "gradkit":
            pins[key] = f"{dist.metadata['Name']}=={dist.version}"
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not req.marker.evaluate({"extra": extra}):
                continue
            for sub in ("", *sorted(req.extras)):
                todo.append((req.name, sub, dist.metadata["Name"]))
    return [pins[key] for key in sorted(pins)]


def _add_tree(archive, root, arcname, skip=("__pycache__", ".ipynb_checkpoints")):
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and not any(part in skip for part in path.parts):
            if path.suffix in (".pyc", ".egg-info"):
                continue
            archive.write(path, f"{arcname}/{path.relative_to(root).as_posix()}")


def _executable(archive, name, text):
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    archive.writestr(info, text)


def make_bundle(out, solutions_dir, hidden=None, timeout=20.0, lesson=None):
    """Write the Gradescope bundle to ``out`` and return its path.

    Parameters
    ----------
    out : path
        The zip file to write.
    solutions_dir : path
        The solution notebooks, and ``instructor/lessonNN.py`` beside them.
    hidden : path, optional
        Directory of hidden tests.
    timeout : float
        Seconds per cell and per exercise.
    lesson : str, optional
        ``"03"``: a bundle for that lesson only; it refuses a notebook of any
        other lesson. None: every lesson, and any one notebook is graded.

    Raises
    ------
    ValueError
        If the solutions or hidden directory is missing, the lesson has no
        solution, a dependency is not installed, or gradkit is not installed
        from a source tree (with ``pyproject.toml``) to bundle.
    """
    import gradkit

    source = Path(gradkit.__file__).resolve().parent.parent
    if not (source / "pyproject.toml").is_file():
        raise ValueError(
            f"gradkit at {source} is not a source tree (no pyproject.toml): run "
            "`gradkit autograder` from a clone installed with `pip install -e .`"
        )
    solutions_dir = Path(solutions_dir)
    solutions = _solution_notebooks(solutions_dir)
    if not solutions:
        raise ValueError(f"no solution notebooks (NN_name.ipynb) in {str(solutions_dir)!r}")
    if hidden is not None and not Path(hidden).is_dir():
        raise ValueError(f"hidden tests directory {str(hidden)!r} does not exist")
    instructor = solutions_dir / "instructor"
    if lesson is None:
        notebooks, lesson_args = list(solutions.values()), ""
    else:
        only = _lesson_of(lesson, solutions_dir)
        notebooks, lesson_args = [solutions[only]], f"--lesson {only[:2]} "
    requirements = pinned_requirements()
    python = "{}.{}".format(*sys.version_info[:2])
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _executable(archive, "setup.sh", SETUP_SH.replace("__PYTHON__", python))
        run = (RUN_AUTOGRADER.replace("__TIMEOUT__", f"{timeout:g}")
               .replace("__LESSON__", lesson_args))
        _executable(archive, "run_autograder", run)
        archive.writestr("requirements.txt", (
            f"# gradkit's dependencies as installed where this bundle was made (Python "
            f"{platform.python_version()}, {platform.system()} {platform.machine()}).\n"
            + "".join(f"{line}\n" for line in requirements)))
        for name in ("pyproject.toml", "README.md"):
            if (source / name).is_file():
                archive.write(source / name, f"gradkit-src/{name}")
        _add_tree(archive, source / "gradkit", "gradkit-src/gradkit")
        for notebook in notebooks:
            archive.write(notebook, f"solutions/{notebook.name}")
        if lesson is None and instructor.is_dir():
            _add_tree(archive, instructor, "solutions/instructor")
        elif lesson is not None and (instructor / f"lesson{only[:2]}.py").is_file():
            archive.write(instructor / f"lesson{only[:2]}.py",
                          f"solutions/instructor/lesson{only[:2]}.py")
        archive.writestr(f"solutions/{LESSONS_FILE}", "".join(f"{n}\n" for n in solutions))
        if hidden is not None:
            _add_tree(archive, hidden, "hidden")
    return out
