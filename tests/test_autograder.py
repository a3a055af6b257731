"""The Gradescope bundle, run against a directory laid out like /autograder."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

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
