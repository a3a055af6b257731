"""The Gradescope bundle, run against a directory laid out like /autograder."""

import ast
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from gradkit.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def autograder(tmp_path):
    bundle = tmp_path / "autograder.zip"
    hidden = tmp_path / "hidden_src"
    hidden.mkdir()
    (hidden / "extra.py").write_text(
        "import numpy as np\nfrom gradkit.grading import Test\n"
        "HIDDEN_TESTS = {'01.secant_line': [Test('cos through 0', args=(np.cos, 0.0, 0.5))]}\n"
    )
    assert main(["autograder", "--out", str(bundle), "--solutions", str(ROOT / "solutions"),
                 "--hidden", str(hidden), "--timeout", "5"]) == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the executable bits
            mode = info.external_attr >> 16
            if mode & stat.S_IXUSR:
                os.chmod(root / "source" / info.filename, mode)
    (root / "submission").mkdir()
    return root


def _run(root):
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), GRADKIT_PYTHON=sys.executable)
    subprocess.run([str(root / "source" / "run_autograder")], env=env, check=True,
                   capture_output=True, timeout=120)
    return json.loads((root / "results" / "results.json").read_text())


def test_bundle_has_the_gradescope_files(autograder):
    source = autograder / "source"
    for name in ("setup.sh", "run_autograder", "gradkit-src/pyproject.toml",
                 "gradkit-src/gradkit/grading/grader.py", "solutions/01_derivative.ipynb",
                 "hidden/extra.py"):
        assert (source / name).is_file(), name
    assert os.access(source / "run_autograder", os.X_OK)
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(source / script)], check=True)
    assert "pip install" in (source / "setup.sh").read_text()


def test_run_autograder_grades_the_submission(autograder):
    shutil.copy(ROOT / "solutions" / "01_derivative.ipynb",
                autograder / "submission" / "my_notebook.ipynb")
    results = _run(autograder)
    assert results["score"] == results["max_score"] == 10.0
    (hidden,) = [t for t in results["tests"] if "cos through 0" in t["name"]]
    assert hidden["visibility"] == "after_published"


def test_run_autograder_without_a_notebook_gives_zero_and_says_why(autograder):
    results = _run(autograder)
    assert results["score"] == 0.0
    assert "No notebook" in results["output"]


def test_bundle_refuses_a_missing_solutions_directory(tmp_path, capsys):
    assert main(["autograder", "--out", str(tmp_path / "a.zip"),
                 "--solutions", str(tmp_path)]) == 2
    assert "no solution notebooks" in capsys.readouterr().err


def test_the_bundle_installs_every_library_the_lessons_import():
    """setup.sh installs gradkit[grade]: the core and the grade extra must cover the imports
    of every solution's code cells (lesson 10 imports jax), or those cells fail on Gradescope."""

    from gradkit.grading.autograder import SETUP_SH

    assert '"$ROOT/source/gradkit-src[grade]"' in SETUP_SH
    toml = (ROOT / "pyproject.toml").read_text()

    def names(block):
        return {n.lower() for n in re.findall(r'"([A-Za-z][A-Za-z0-9_-]*)[<>=\[]', block)}

    core = names(toml.split("dependencies = [", 1)[1].split("]", 1)[0])
    grade = names(toml.split("grade = [", 1)[1].split("]", 1)[0])
    provided_by = {"ipython": "ipywidgets"}  # ipywidgets depends on IPython
    imported = set()
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            code = "\n".join(line for line in cell.source.splitlines()
                             if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    imported |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    imported.add(node.module.split(".")[0])
    third_party = {m.lower() for m in imported
                   if m not in sys.stdlib_module_names and m != "gradkit"}
    assert "jax" in third_party  # the check sees lesson 10's import
    missing = {m for m in third_party if provided_by.get(m, m) not in core | grade}
    assert missing == set(), f"add {sorted(missing)} to the grade extra in pyproject.toml"
