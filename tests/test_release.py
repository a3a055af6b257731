"""The graded edition (`gradkit release`): installed into a fresh environment, it holds no
answer, solution or hidden test, and every check cell works from its public check data."""

import json
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import gradkit.release as release
from gradkit.grading import checkdata, plain
from gradkit.grading.feedback import run_test
from gradkit.grading.spec import exercises_for_lesson, get_exercise, lesson_numbers

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"

# Run inside the installed edition: which gradkit it is, whether any reference can be had,
# and what check() says for the solutions' answers, for stubs and for typical mistakes.
PROBE = r'''
import json, sys
from pathlib import Path
import gradkit
from gradkit.grading import check, plain
from gradkit.grading.references import Instructor, NotInThisEdition, load_answers
from gradkit.grading.spec import exercises_for_lesson, lesson_numbers
from gradkit.grading import checkdata
from gradkit.grading.feedback import run_test

solutions = Path(sys.argv[1])
out = {"file": gradkit.__file__, "references": [], "passed": {}, "unanswered": {}, "hints": {}}
for lesson in lesson_numbers():
    for exercise in exercises_for_lesson(lesson):
        if exercise.reference is not None:
            out["references"].append(exercise.id)
        try:
            Instructor().reference(exercise)
            out["references"].append(exercise.id + " (Instructor)")
        except NotInThisEdition:
            pass
    answers = load_answers(next(solutions.glob(f"{lesson}_*.ipynb")))  # the test's, not ours
    for exercise in exercises_for_lesson(lesson):
        out["passed"][exercise.id] = check(exercise.id, answers[exercise.function]).status
        def stub(*args, **kwargs):
            raise NotImplementedError
        out["unanswered"][exercise.id] = check(exercise.id, stub).status
        for test in exercise.tests:
            entry = checkdata.entry(exercise, test)
            if test.call is not None or entry is None:
                continue
            for name, value in sorted(entry[1].items()):
                outcome = run_test(exercise, test, lambda *a, v=value: v)
                out["hints"][f"{exercise.id} | {test.name} | {name}"] = outcome.hint
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def edition(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "edition"
    release.make_release(out)
    return out


@pytest.fixture(scope="module")
def installed(edition, tmp_path_factory):
    """The edition pip-installed (not editable) into a new virtual environment whose other
    packages (numpy, ...) come from this one; never this clone's gradkit."""
    venv = tmp_path_factory.mktemp("venv") / "v"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    ours = sysconfig.get_paths()["purelib"]
    Path(site.stdout.strip(), "deps.pth").write_text(ours + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q",
                    "--no-deps", str(edition)],
                   check=True, timeout=300)
    return venv, Path(site.stdout.strip())


def test_release_holds_lessons_library_check_data_and_a_student_readme(edition):
    assert sorted(p.name for p in (edition / "lessons").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "lessons").glob("*.ipynb"))
    assert (edition / "pyproject.toml").is_file()
    assert "Hand in" in (edition / "README.md").read_text()
    for lesson in lesson_numbers():
        assert (edition / "gradkit" / "grading" / "checkdata" / f"lesson{lesson}.json").is_file()
    assert not (edition / "solutions").exists()
    assert not list(edition.rglob("*.backup-*"))


def test_release_holds_no_answer_instructor_function_or_hidden_test(edition, tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "lesson01.py").write_text(
        "from gradkit.grading.spec import Test\nimport numpy as np\n"
        "HIDDEN_TESTS = {'01.secant_line': [Test('cos through 0', args=(np.cos, 0.0, 0.5))]}\n")
    assert release.leaks(edition, SOLUTIONS, hidden, where=release._not_library) == []
    # the negative case: an answer block, an instructor function and a hidden test copied in
    block = next(lines for where, lines in release.answer_blocks(SOLUTIONS)
                 if where.startswith("03_") and len(lines) >= 2)
    origin, instructor = next((where, lines) for where, lines in
                              release.answer_blocks(SOLUTIONS) if where.startswith(
                                  "instructor/") and (len(lines) >= 2 or len(lines[0]) >= 40))
    planted = edition / "gradkit" / "grading" / "planted.py"
    planted.write_text("\n".join(block + instructor) + "\nHIDDEN_TESTS = {'01.secant_line': "
                       "[Test('cos through 0', args=(np.cos, 0.0, 0.5))]}\n")
    try:
        found = release.leaks(edition, SOLUTIONS, hidden, where=release._not_library)
    finally:
        planted.unlink()
    assert any("03_" in f for f in found) and any(origin in f for f in found)
    assert any("hidden test" in f for f in found)


def test_a_line_the_lesson_prints_is_no_answer_but_the_repaired_lines_are(edition):
    # the capstone prints the script a student repairs; the library holds its text
    repair = next(lines for where, lines in release.answer_blocks(SOLUTIONS)
                  if where.startswith("11_") and any("dropout_backward(dA2" in x for x in lines))
    assert "db1 = np.sum(dZ1, axis=1, keepdims=True) / m" not in repair  # printed: shown
    assert "dA2 = dropout_backward(dA2, D2, keep_prob)" in repair  # the repair: an answer
    planted = edition / "gradkit" / "grading" / "planted.py"
    planted.write_text("\n".join(repair) + "\n")
    try:
        found = release.leaks(edition, SOLUTIONS, where=release._not_library)
    finally:
        planted.unlink()
    assert any("planted.py" in f and "11_" in f for f in found)


def test_release_refuses_to_write_an_edition_that_would_hold_an_answer(tmp_path):
    import inspect

    from gradkit.grading import spec

    solutions = tmp_path / "solutions"
    shutil.copytree(SOLUTIONS, solutions)
    # an instructor function that is a copy of a function the package holds
    instructor = solutions / "instructor" / "lesson99.py"
    instructor.write_text(inspect.getsource(spec._names_in_returns))
    with pytest.raises(ValueError, match="would hold answers"):
        release.make_release(tmp_path / "out", solutions_dir=solutions)
    assert not (tmp_path / "out").exists()


def test_release_never_overwrites_a_directory_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("a student's notes")
    with pytest.raises(ValueError, match="not empty"):
        release.make_release(out)
    assert (out / "notes.txt").read_text() == "a student's notes"


def test_installed_edition_has_no_reference_and_every_check_cell_works(installed):
    venv, site = installed
    result = subprocess.run([str(venv / "bin" / "python"), "-c", PROBE, str(SOLUTIONS)],
                            capture_output=True, text=True, cwd=venv, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout)
    assert Path(found["file"]).resolve().is_relative_to(site.resolve())
    assert found["references"] == []
    assert set(found["passed"].values()) == {"passed"}, {
        k: v for k, v in found["passed"].items() if v != "passed"}
    assert set(found["unanswered"].values()) == {"unanswered"}
    # the hints for typical mistakes (each wrong= value on each public test) are the ones
    # this clone gives, and a mistake is named, not only the general hint
    here = {}
    for lesson in lesson_numbers():
        for exercise in exercises_for_lesson(lesson):
            for test in exercise.tests:
                entry = checkdata.entry(exercise, test)
                if test.call is not None or entry is None:
                    continue
                for name, value in sorted(entry[1].items()):
                    outcome = run_test(exercise, test, lambda *a, v=value: v)
                    here[f"{exercise.id} | {test.name} | {name}"] = outcome.hint
    assert found["hints"] == here
    assert len(here) >= 20
    named = [k for k, hint in here.items()
             if hint and hint != get_exercise(k.split(" | ")[0]).hint]
    assert len(named) >= len(here) // 2


def test_installed_edition_cannot_import_a_reference_answer(installed):
    venv, _ = installed
    code = ("import gradkit.grading.lesson01 as m; from gradkit.grading.spec import "
            "get_exercise; print(get_exercise('01.difference_quotient').reference, "
            "hasattr(m, 'difference_quotient'))")
    result = subprocess.run([str(venv / "bin" / "python"), "-c", code], capture_output=True,
                            text=True, cwd=venv, timeout=120)
    assert result.stdout.split() == ["None", "False"], result.stderr[-1000:]


def test_check_data_is_plain_and_matches_the_solutions(tmp_path):
    from gradkit.grading.references import Instructor

    instructor = Instructor(SOLUTIONS)
    for lesson in lesson_numbers():
        assert checkdata.stale(lesson, instructor) == "", lesson
    # the negative case: a changed expected value is reported stale
    data = json.loads(checkdata.data_path("01").read_text())
    first = next(e for e in data["exercises"].values() if e["tests"])
    next(iter(first["tests"].values()))["expected"] = plain.encode(12345.0)
    checkdata.data_path("01", tmp_path).write_text(json.dumps(data))
    assert "stale" in checkdata.stale("01", instructor, tmp_path)
    # and a question whose stored answer is another one's
    data = json.loads(checkdata.data_path("04").read_text())
    questions = data["exercises"]["04.read_two_errors"]["question"]["0"]
    questions["answer"] = data["exercises"]["04.predict_calls"]["question"]["0"]["answer"]
    checkdata.data_path("04", tmp_path).write_text(json.dumps(data))
    assert "answers or feedback changed" in checkdata.stale("04", instructor, tmp_path)


def test_an_environment_under_tmp_grades_in_its_sandbox(installed, tmp_path):
    """The edition's environment lives under the temporary directory, which each sandbox
    replaces with a private one: it is bound into it, and grades there (with the
    instructor's solutions, given from outside the edition)."""
    venv, _ = installed
    result = subprocess.run([str(venv / "bin" / "python"), "-m", "gradkit", "grade",
                             str(SOLUTIONS / "01_derivative.ipynb"), "--solutions",
                             str(SOLUTIONS), "--json", str(tmp_path / "r.json")],
                            capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == data["max_score"] > 0
