"""`gradkit build`: lessons generated from solutions, and never a student's work lost."""

import json
from pathlib import Path

import nbformat
import pytest

from gradkit.build import build_lessons, make_lesson
from gradkit.cli import main
from gradkit.grading.notebook import strip_solutions

ROOT = Path(__file__).resolve().parent.parent


def _solution():
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "other", "display_name": "Other", "language": "python"}
    answer = nbformat.v4.new_code_cell(
        "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n"
    )
    answer.outputs = [nbformat.v4.new_output("stream", text="secret\n")]
    answer.execution_count = 3
    secret = nbformat.v4.new_code_cell("print('instructor only')")
    secret.metadata["tags"] = ["instructor"]
    written = nbformat.v4.new_markdown_cell(
        "*Your answer:*\n### BEGIN SOLUTION\n42\n### END SOLUTION")
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), answer, secret, written]
    return nb


@pytest.fixture
def course(tmp_path):
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solution(), tmp_path / "solutions" / "01_demo.ipynb")
    return tmp_path


def test_solution_blocks_become_stubs_and_outputs_are_cleared():
    lesson = make_lesson(_solution(), "01_demo")
    code = [c for c in lesson.cells if c.cell_type == "code"]
    assert len(code) == 1  # the instructor cell is dropped
    assert code[0].source == (
        "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError")
    assert code[0].outputs == [] and code[0].execution_count is None
    assert "42" not in lesson.cells[-1].source and "YOUR ANSWER HERE" in lesson.cells[-1].source
    assert lesson.metadata["kernelspec"]["name"] == "python3"
    assert lesson.metadata["gradkit"]["lesson"] == "01_demo"


def test_malformed_solution_blocks_are_refused():
    with pytest.raises(ValueError, match="never closed"):
        strip_solutions("### BEGIN SOLUTION\nx = 1\n")
    with pytest.raises(ValueError, match="END SOLUTION without a"):
        strip_solutions("x = 1\n### END SOLUTION\n")


def test_check_names_each_stale_lesson(course, capsys):
    args = ["build", "--solutions", str(course / "solutions"), "--lessons", str(course / "lessons")]
    assert main([*args, "--check"]) == 1
    assert "lessons/01_demo.ipynb is missing" in capsys.readouterr().err
    assert main(args) == 0
    assert main([*args, "--check"]) == 0
    nb = nbformat.read(course / "solutions" / "01_demo.ipynb", as_version=4)
    nb.cells[0].source = "# New title"
    nbformat.write(nb, course / "solutions" / "01_demo.ipynb")
    assert main([*args, "--check"]) == 1
    assert "01_demo.ipynb is stale" in capsys.readouterr().err


def test_unedited_lesson_is_updated_when_the_solution_changes(course):
    build_lessons(course / "solutions", course / "lessons")
    nb = nbformat.read(course / "solutions" / "01_demo.ipynb", as_version=4)
    nb.cells[0].source = "# New title"
    nbformat.write(nb, course / "solutions" / "01_demo.ipynb")
    (result,) = build_lessons(course / "solutions", course / "lessons")
    assert result.action == "updated"
    assert "# New title" in (course / "lessons" / "01_demo.ipynb").read_text()


def test_build_refuses_to_overwrite_an_edited_lesson(course, capsys):
    build_lessons(course / "solutions", course / "lessons")
    target = course / "lessons" / "01_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[1].source = "def f(x):\n    return 2 * x  # my work\n"
    nbformat.write(nb, target)
    edited = target.read_bytes()
    nb = nbformat.read(course / "solutions" / "01_demo.ipynb", as_version=4)
    nb.cells[0].source = "# New title"
    nbformat.write(nb, course / "solutions" / "01_demo.ipynb")
    args = ["build", "--solutions", str(course / "solutions"), "--lessons", str(course / "lessons")]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "was edited since `gradkit build` generated it; not overwritten" in err
    assert target.read_bytes() == edited


def test_force_overwrites_an_edited_lesson_after_a_backup(course):
    build_lessons(course / "solutions", course / "lessons")
    target = course / "lessons" / "01_demo.ipynb"
    nb = nbformat.read(target, as_version=4)
    nb.cells[1].source = "# my work"
    nbformat.write(nb, target)
    edited = target.read_bytes()
    (result,) = build_lessons(course / "solutions", course / "lessons", force=True)
    assert result.action == "replaced"
    backups = list((course / "lessons").glob("01_demo.backup-*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == edited
    assert "# my work" not in target.read_text()


def test_missing_solutions_directory_is_a_clear_error(tmp_path, capsys):
    assert main(["build", "--solutions", str(tmp_path / "nope")]) == 2
    assert "no solution notebooks" in capsys.readouterr().err


def test_repository_lessons_are_up_to_date():
    results = build_lessons(ROOT / "solutions", ROOT / "lessons", check=True)
    assert results and all(r.action == "unchanged" for r in results), [r.message for r in results]


def test_repository_lessons_ship_no_solutions_or_outputs():
    for path in (ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"):
        if ".backup-" in path.name:
            continue
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3"
        for cell in nb["cells"]:
            assert "BEGIN SOLUTION" not in "".join(cell["source"])
            assert not cell.get("outputs")
