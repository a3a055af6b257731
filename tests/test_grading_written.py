"""Written answers are not auto-graded: the grader carries them to the instructor, in
results.json, a Markdown file (--answers) and the CSV's count."""

import copy
import json
from pathlib import Path

import nbformat

from gradkit.cli import main

ROOT = Path(__file__).resolve().parent.parent
LESSON = ROOT / "lessons" / "04_backprop_deep_net.ipynb"
ANSWER = "The step and the dtype set what a correct gradient scores; 3e-8 may be too high."


def _answered(nb, text, strip_ids=False):
    out = copy.deepcopy(nb)
    done = False
    for cell in out.cells:
        if strip_ids:
            cell.pop("id", None)
        if not done and cell.cell_type == "markdown" and "YOUR ANSWER HERE" in cell.source:
            cell.source = cell.source.replace("YOUR ANSWER HERE", text)
            done = True
    return out


def test_written_answers_reach_the_instructor(tmp_path, capsys):
    lesson = nbformat.read(LESSON, as_version=4)
    paths = {}
    for name, nb in {"ada": _answered(lesson, ANSWER), "bob": lesson,
                     "cy": _answered(lesson, ANSWER + " (cy)", strip_ids=True)}.items():
        paths[name] = tmp_path / f"{name}_04_backprop_deep_net.ipynb"
        nbformat.write(nb, paths[name])
    out = tmp_path / "answers.md"
    main(["grade", *map(str, paths.values()), "--json", str(tmp_path / "r.json"),
          "--csv", str(tmp_path / "g.csv"), "--answers", str(out),
          "--solutions", str(ROOT / "solutions")])
    n = sum("YOUR ANSWER HERE" in c.source for c in lesson.cells if c.cell_type == "markdown")
    assert n >= 1
    text = out.read_text()
    ada = text.split("\n## ada_")[1].split("\n## ")[0]
    assert "### Question 1." in ada and ANSWER in ada and "**Question 1.**" in ada
    assert ada.count("*(not answered)*") == n - 1  # the others were left as they were
    bob = text.split("\n## bob_")[1].split("\n## ")[0]
    assert ANSWER not in bob and bob.count("*(not answered)*") == n  # the negative case
    assert ANSWER + " (cy)" in text  # matched by place when the cell ids are gone
    results = json.loads((tmp_path / "r.json").read_text())["submissions"]
    written = [t for t in results[0]["tests"] if t["name"].startswith("Written answers")]
    assert written and written[0]["max_score"] == 0 and ANSWER in written[0]["output"]
    assert f"1 of {n}" in (tmp_path / "g.csv").read_text()
    assert f"written answers: 1 of {n} answered" in capsys.readouterr().out
