"""``gradkit autograder``: a Gradescope autograder bundle (a zip file).

Layout of the zip (Gradescope unpacks it to ``/autograder/source``)::

    setup.sh          installs gradkit from the bundled source
    run_autograder    grades /autograder/submission/*.ipynb into
                      /autograder/results/results.json
    gradkit-src/      the package source (pyproject.toml, README.md, gradkit/)
    solutions/        the solution notebooks (canonical provided cells)
    hidden/           the instructor's hidden tests (only with --hidden)

Both scripts honour ``AUTOGRADER_ROOT`` (default ``/autograder``), and
``run_autograder`` honours ``GRADKIT_PYTHON`` (default ``python3``), so the
bundle can be tried on a directory laid out the same way.
"""

import zipfile
from pathlib import Path

__all__ = ["RUN_AUTOGRADER", "SETUP_SH", "make_bundle"]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADKIT_PYTHON:-python3}"
if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
  apt-get update && apt-get install -y python3-pip
fi
"$PYTHON" -m pip install "$ROOT/source/gradkit-src[grade]"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission; results go to results/results.json.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${GRADKIT_PYTHON:-python3}"
mkdir -p "$ROOT/results"
HIDDEN=()
if [ -d "$ROOT/source/hidden" ]; then HIDDEN=(--hidden "$ROOT/source/hidden"); fi
mapfile -t NOTEBOOKS < <(find "$ROOT/submission" -name '*.ipynb' \\
  -not -path '*/.ipynb_checkpoints/*' | sort)
cd "$ROOT"
"$PYTHON" -m gradkit grade "${NOTEBOOKS[@]}" --gradescope \\
  --solutions "$ROOT/source/solutions" "${HIDDEN[@]}" \\
  --json "$ROOT/results/results.json" --timeout __TIMEOUT__
# A wrong answer is a grade, not a failure of the autograder.
exit 0
"""


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


def make_bundle(out, solutions_dir, hidden=None, timeout=20.0):
    """Write the Gradescope bundle to ``out`` and return its path.

    Raises
    ------
    ValueError
        If the solutions or hidden directory is missing, or gradkit is not
        installed from a source tree (with ``pyproject.toml``) to bundle.
    """
    import gradkit

    source = Path(gradkit.__file__).resolve().parent.parent
    if not (source / "pyproject.toml").is_file():
        raise ValueError(
            f"gradkit at {source} is not a source tree (no pyproject.toml): run "
            "`gradkit autograder` from a clone installed with `pip install -e .`"
        )
    solutions_dir = Path(solutions_dir)
    notebooks = sorted(solutions_dir.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise ValueError(f"no solution notebooks (NN_name.ipynb) in {str(solutions_dir)!r}")
    if hidden is not None and not Path(hidden).is_dir():
        raise ValueError(f"hidden tests directory {str(hidden)!r} does not exist")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        _executable(archive, "setup.sh", SETUP_SH)
        run = RUN_AUTOGRADER.replace("__TIMEOUT__", f"{timeout:g}")
        _executable(archive, "run_autograder", run)
        for name in ("pyproject.toml", "README.md"):
            if (source / name).is_file():
                archive.write(source / name, f"gradkit-src/{name}")
        _add_tree(archive, source / "gradkit", "gradkit-src/gradkit")
        for notebook in notebooks:
            archive.write(notebook, f"solutions/{notebook.name}")
        if hidden is not None:
            _add_tree(archive, hidden, "hidden")
    return out
