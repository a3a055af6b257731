"""`gradkit grade` on the command line: results.json, gradebook, hidden tests, errors."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from gradkit.cli import main
from gradkit.grading.spec import exercises_for_lesson

FULL_01 = sum(e.points for e in exercises_for_lesson("01"))
TESTS_01 = sum(len(e.tests) for e in exercises_for_lesson("01"))

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01_derivative.ipynb"
LESSON = ROOT / "lessons" / "01_derivative.ipynb"


def test_help_and_version_still_work(capsys):
    assert main([]) == 0
    assert "build" in capsys.readouterr().out
    out = subprocess.run([sys.executable, "-m", "gradkit", "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert out.startswith("gradkit ")


def test_grade_writes_gradescope_results_json(tmp_path, capsys):
    sub = tmp_path / "alice_01_derivative.ipynb"
    shutil.copy(SOLUTION, sub)
    out = tmp_path / "results.json"
    args = ["grade", str(sub), "--json", str(out), "--solutions", str(ROOT / "solutions")]
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["score"] == data["max_score"] == FULL_01
    assert {"name", "score", "max_score", "output", "visibility"} <= set(data["tests"][0])
    graded = [t for t in data["tests"] if not t["name"].startswith("Written answers")]
    assert len(graded) == TESTS_01 and all(t["output"] == "passed" for t in graded)
    (written,) = [t for t in data["tests"] if t["name"].startswith("Written answers")]
    assert written["max_score"] == 0 and "Question 1" in written["output"]
    printed = capsys.readouterr().out
    assert f"{FULL_01:g} / {FULL_01:g}" in printed
    assert "notebooks:" not in printed  # one notebook: its report is the summary


def test_grade_several_with_jobs_writes_a_gradebook_and_survives_a_corrupt_file(tmp_path, capsys):
    shutil.copy(SOLUTION, tmp_path / "alice_01_derivative.ipynb")
    shutil.copy(LESSON, tmp_path / "bob_01_derivative.ipynb")
    (tmp_path / "carol_01_derivative.ipynb").write_text("not a notebook")
    subs = sorted(str(p) for p in tmp_path.glob("*.ipynb"))
    gradebook = tmp_path / "grades.csv"
    code = main(["grade", *subs, "--jobs", "2", "--csv", str(gradebook),
                 "--json", str(tmp_path / "all.json"), "--solutions", str(ROOT / "solutions")])
    assert code == 1  # one file could not be graded
    out, err = capsys.readouterr()
    summary = out[out.index("3 notebooks: 2 graded, 1 with an error"):]
    assert f"lesson 01_derivative: mean {FULL_01 / 2:.3g} / {FULL_01:g}, lowest 0, " \
           f"highest {FULL_01:g}" in summary
    assert "01.secant_line" in summary and "full points in 1 of 2" in summary
    assert err.count("\n") == 1 and "carol_01_derivative.ipynb: not a Jupyter notebook" in err
    assert "Traceback" not in err
    rows = list(csv.DictReader(gradebook.open()))
    assert [Path(r["submission"]).name[:5] for r in rows] == ["alice", "bob_0", "carol"]
    secant = next(e.points for e in exercises_for_lesson("01") if e.id == "01.secant_line")
    assert float(rows[0]["01.secant_line"]) == secant and rows[1]["01.secant_line"] == "0.0"
    assert rows[2]["error"] and rows[2]["score"] == "0"
    data = json.loads((tmp_path / "all.json").read_text())
    assert [s["score"] for s in data["submissions"]] == [FULL_01, 0.0, 0.0]


def test_hidden_tests_count_and_are_not_visible_before_publishing(tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "lesson01.py").write_text(
        "import numpy as np\nfrom gradkit.grading import Test\n"
        "HIDDEN_TESTS = {'01.difference_quotient': "
        "[Test('cos at x = 2, h = 1e-3', args=(np.cos, 2.0, 1e-3))]}\n"
    )
    sub = tmp_path / "dave_01_derivative.ipynb"
    shutil.copy(SOLUTION, sub)
    out = tmp_path / "results.json"
    assert main(["grade", str(sub), "--json", str(out), "--hidden", str(hidden),
                 "--solutions", str(ROOT / "solutions")]) == 0
    tests = json.loads(out.read_text())["tests"]
    (hidden_test,) = [t for t in tests if "cos at x = 2" in t["name"]]
    assert hidden_test["visibility"] == "after_published" and hidden_test["score"] > 0
    assert sum(t["max_score"] for t in tests if "difference_quotient" in t["name"]) == 3.0


def test_unknown_lesson_and_bad_hidden_dir_are_clear_errors(tmp_path, capsys):
    sub = tmp_path / "homework.ipynb"
    sub.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    assert main(["grade", str(sub), "--solutions", str(ROOT / "solutions")]) == 1
    assert "cannot tell which lesson this is" in capsys.readouterr().err
    assert main(["grade", str(sub), "--hidden", str(tmp_path / "nope"),
                 "--solutions", str(ROOT / "solutions")]) == 2
    assert "does not exist" in capsys.readouterr().err
