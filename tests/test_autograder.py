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
from importlib import metadata
from pathlib import Path

import nbformat
import pytest

from gradkit.cli import main
from gradkit.grading import autograder as ag
from gradkit.grading.autograder import pinned_requirements, select_submission, write_results
from gradkit.grading.spec import exercises_for_lesson

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LESSON_01 = SOLUTIONS / "01_derivative.ipynb"
FULL_01 = sum(e.points for e in exercises_for_lesson("01"))
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$")


def _unpack(bundle, root):
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops the executable bits
            mode = info.external_attr >> 16
            if mode & stat.S_IXUSR:
                os.chmod(root / "source" / info.filename, mode)
    (root / "submission").mkdir()
    return root


def _bundle(tmp_path, *args, name="autograder"):
    bundle = tmp_path / f"{name}.zip"
    assert main(["autograder", "--out", str(bundle), "--solutions", str(SOLUTIONS),
                 "--timeout", "5", *args]) == 0
    return _unpack(bundle, tmp_path / name)


@pytest.fixture
def autograder(tmp_path):
    hidden = tmp_path / "hidden_src"
    hidden.mkdir()
    (hidden / "extra.py").write_text(
        "import numpy as np\nfrom gradkit.grading import Test\n"
        "HIDDEN_TESTS = {'01.secant_line': [Test('cos through 0', args=(np.cos, 0.0, 0.5))]}\n"
    )
    return _bundle(tmp_path, "--hidden", str(hidden))


def _run(root, python=sys.executable, script=None):
    """Run run_autograder as Gradescope does; the results (its exit status is not a grade)."""
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), GRADKIT_PYTHON=str(python))
    subprocess.run(["bash", str(script or root / "source" / "run_autograder")], env=env,
                   capture_output=True, timeout=120)
    return json.loads((root / "results" / "results.json").read_text())


def _commands(script):
    """The script's commands: comments and blank lines dropped, continuations joined."""
    text = re.sub(r"\\\n", " ", Path(script).read_text())
    return [line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def test_bundle_has_the_gradescope_files(autograder):
    source = autograder / "source"
    for name in ("setup.sh", "run_autograder", "requirements.txt",
                 "gradkit-src/pyproject.toml", "gradkit-src/gradkit/grading/grader.py",
                 "solutions/01_derivative.ipynb", "solutions/instructor/lesson01.py",
                 "solutions/lessons.txt", "hidden/extra.py"):
        assert (source / name).is_file(), name
    assert os.access(source / "run_autograder", os.X_OK)
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(source / script)], check=True)
    # the all-lessons bundle holds every solution and every instructor file
    assert ({p.name for p in (source / "solutions").glob("*.ipynb")}
            == {p.name for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb")})
    assert ({p.name for p in (source / "solutions" / "instructor").glob("*.py")}
            == {p.name for p in (SOLUTIONS / "instructor").glob("*.py")})
    assert "--lesson" not in (source / "run_autograder").read_text()


def test_a_lesson_bundle_holds_only_that_lessons_solution(tmp_path):
    source = _bundle(tmp_path, "--lesson", "01") / "source"
    held = {p.relative_to(source / "solutions").as_posix()
            for p in (source / "solutions").rglob("*") if p.is_file()}
    assert held == {"01_derivative.ipynb", "instructor/lesson01.py", "lessons.txt"}
    # every lesson's name, so that another lesson's notebook is still recognised
    assert (source / "solutions" / "lessons.txt").read_text().split() == sorted(
        p.stem for p in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
    grade = [c for c in _commands(source / "run_autograder") if "gradkit grade" in c]
    assert len(grade) == 1 and "--gradescope --lesson 01 " in grade[0]


def test_a_bundle_for_a_lesson_without_a_solution_is_refused(tmp_path, capsys):
    assert main(["autograder", "--out", str(tmp_path / "a.zip"), "--solutions", str(SOLUTIONS),
                 "--lesson", "99"]) == 2
    assert "no solution notebook for lesson '99'" in capsys.readouterr().err
    assert not (tmp_path / "a.zip").exists()


def test_run_autograder_grades_the_submission(autograder):
    shutil.copy(LESSON_01, autograder / "submission" / "my_notebook.ipynb")
    results = _run(autograder)
    # a hidden test shares its exercise's points
    assert results["score"] == results["max_score"] == FULL_01
    (hidden,) = [t for t in results["tests"] if "cos through 0" in t["name"]]
    assert hidden["visibility"] == "after_published"


def test_a_lesson_bundle_grades_its_own_lessons_notebook(tmp_path):
    """Needs the lesson's instructor file: its mistakes name functions defined there."""
    root = _bundle(tmp_path, "--lesson", "01")
    shutil.copy(LESSON_01, root / "submission" / "my_notebook.ipynb")
    results = _run(root)
    assert results["score"] == results["max_score"] == FULL_01


def test_run_autograder_without_a_notebook_gives_zero_and_says_why(autograder):
    results = _run(autograder)
    assert results["score"] == 0.0
    assert "No notebook" in results["output"]
    assert "upload exactly one notebook" in results["output"]


def test_the_same_notebook_twice_is_refused_not_graded_twice(autograder):
    for name in ("01_derivative.ipynb", "01_derivative (1).ipynb"):
        shutil.copy(LESSON_01, autograder / "submission" / name)
    results = _run(autograder)
    assert (results["score"], results["tests"]) == (0.0, [])  # not 20 / 20
    assert results["output"] == (
        "Found 2 notebooks in the submission (01_derivative (1).ipynb, 01_derivative.ipynb): "
        "upload exactly one notebook, your lesson notebook (e.g. 01_derivative.ipynb).")


def test_a_notebook_of_another_lesson_under_this_lessons_name_is_refused(tmp_path):
    root = _bundle(tmp_path, "--lesson", "03")
    shutil.copy(LESSON_01, root / "submission" / "03_gradient_checking.ipynb")
    results = _run(root)
    assert (results["score"], results["tests"]) == (0.0, [])  # not 10 / 10 for lesson 01
    assert results["output"] == (
        "03_gradient_checking.ipynb is the notebook of lesson 01_derivative, not of lesson "
        "03_gradient_checking: upload exactly one notebook, 03_gradient_checking.ipynb.")


def test_select_submission_takes_the_one_notebook_and_ignores_checkpoints(tmp_path):
    sub = tmp_path / "submission"
    (sub / ".ipynb_checkpoints").mkdir(parents=True)
    shutil.copy(LESSON_01, sub / "01_derivative.ipynb")
    shutil.copy(LESSON_01, sub / ".ipynb_checkpoints" / "01_derivative-checkpoint.ipynb")
    (sub / "notes.txt").write_text("not a notebook")
    paths = sorted(sub.rglob("*"))
    assert select_submission(paths, "01", SOLUTIONS) == (sub / "01_derivative.ipynb", None)
    assert select_submission(paths, None, SOLUTIONS) == (sub / "01_derivative.ipynb", None)
    path, message = select_submission(paths, "02", SOLUTIONS)
    assert path is None
    assert message.startswith("01_derivative.ipynb is the notebook of lesson 01_derivative, "
                              "not of lesson 02_finite_differences")


def test_a_renamed_notebook_without_metadata_is_told_by_its_content(tmp_path):
    nb = nbformat.read(LESSON_01, as_version=4)
    del nb.metadata["gradkit"]
    renamed = tmp_path / "03_gradient_checking.ipynb"
    nbformat.write(nb, renamed)
    path, message = select_submission([renamed], "03", SOLUTIONS)
    assert path is None
    assert message.startswith("03_gradient_checking.ipynb is the notebook of lesson "
                              "01_derivative, not of lesson 03_gradient_checking")
    assert select_submission([renamed], "01", SOLUTIONS) == (renamed, None)


def test_select_submission_says_what_to_upload(tmp_path):
    assert select_submission([], "03", SOLUTIONS) == (None, (
        "No notebook (.ipynb) was found in the submission: upload exactly one notebook, "
        "03_gradient_checking.ipynb."))
    many = [tmp_path / f"try{i}.ipynb" for i in range(7)]
    path, message = select_submission(many, "03", SOLUTIONS)
    assert path is None
    assert message == ("Found 7 notebooks in the submission (try0.ipynb, try1.ipynb, try2.ipynb, "
                       "try3.ipynb, try4.ipynb, and 2 more): upload exactly one notebook, "
                       "03_gradient_checking.ipynb.")
    blank = tmp_path / "homework.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), blank)
    path, message = select_submission([blank], "03", SOLUTIONS)
    assert path is None
    assert message.startswith("Cannot tell which lesson homework.ipynb is")
    broken = tmp_path / "03_gradient_checking.ipynb"
    broken.write_text("{not json")
    path, message = select_submission([broken], "03", SOLUTIONS)
    assert path is None
    assert message.endswith(": upload exactly one notebook, 03_gradient_checking.ipynb.")
    with pytest.raises(ValueError, match=r"no solution notebook for lesson '42'.*--lesson NN"):
        select_submission([blank], "42", SOLUTIONS)


def test_grade_gradescope_refuses_an_unknown_lesson(tmp_path, capsys):
    shutil.copy(LESSON_01, tmp_path / "01_derivative.ipynb")
    assert main(["grade", str(tmp_path / "01_derivative.ipynb"), "--gradescope", "--lesson",
                 "42", "--solutions", str(SOLUTIONS), "--json", str(tmp_path / "r.json")]) == 2
    assert "no solution notebook for lesson '42'" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_requirements_pin_every_dependency_exactly(autograder):
    lines = [line for line in (autograder / "source" / "requirements.txt").read_text()
             .splitlines() if line and not line.startswith("#")]
    pins = {}
    for line in lines:
        match = PIN.match(line)
        assert match, f"not pinned with ==: {line!r}"
        pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    for name, version in pins.items():
        assert metadata.version(name) == version, name
    assert "gradkit" not in pins
    # the core, the grade extra, and some of theirs
    assert {"numpy", "matplotlib", "ipywidgets", "nbformat", "jax", "jaxlib", "traitlets",
            "jsonschema"} <= set(pins)
    from packaging.requirements import Requirement

    for name in pins:  # closed: what a pinned distribution needs is pinned too
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                assert req.name.lower().replace("_", "-") in pins, f"{name} needs {req.name}"


def test_a_dependency_that_is_not_installed_cannot_be_pinned(monkeypatch):
    real = metadata.distribution

    def without_traitlets(name):
        if name.lower() == "traitlets":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(ag.metadata, "distribution", without_traitlets)
    with pytest.raises(ValueError, match=r"traitlets \(needed by \w+\) is not installed here"):
        pinned_requirements()


def test_the_bundle_pins_every_library_the_lessons_import(autograder):
    """Every third-party import of the solutions' code cells is a pinned distribution, or
    those cells fail on Gradescope (lesson 10 imports jax)."""
    pinned = {PIN.match(line).group(1).lower().replace("_", "-")
              for line in (autograder / "source" / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    imported = set()
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*.ipynb")):
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
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "gradkit"}
    assert "jax" in third_party  # the check sees lesson 10's import
    provides = metadata.packages_distributions()
    missing = {m for m in third_party
               if not {d.lower().replace("_", "-") for d in provides.get(m, [])} & pinned}
    assert missing == set(), f"add the libraries of {sorted(missing)} to the grade extra"


def _fake_tools(tmp_path, have_venv, have_bwrap):
    """A PATH where apt-get, python3 (and maybe bwrap) are loggers: setup.sh, traced."""
    bash = shutil.which("bash")
    tools = tmp_path / "bin"
    tools.mkdir()
    for tool in ("mkdir", "rm", "touch", "cat", "chmod"):
        os.symlink(shutil.which(tool), tools / tool)
    log, ok = tmp_path / "log", tmp_path / "venv-ok"
    if have_venv:
        ok.touch()
    (tools / "apt-get").write_text(
        f'#!{bash}\necho "apt-get $*" >> {log}\n'
        f'case " $* " in *" python3-venv "*) touch {ok};; esac\n')
    # python3 -m venv DIR fails until python3-venv is installed, as on Debian and Ubuntu
    (tools / "python3").write_text(
        f'#!{bash}\necho "python3 $*" >> {log}\n'
        f'if [ "$1 $2" = "-m venv" ]; then\n  [ -e {ok} ] || exit 1\n'
        f'  mkdir -p "$3/bin"\n'
        f'  printf \'#!{bash}\\n[ "$1" = -c ] && {{ echo "%d.%d"; exit; }}\\n'
        f'echo "venv-python $*" >> {log}\\n\' > "$3/bin/python"\n'
        f'  chmod +x "$3/bin/python"\nfi\n' % sys.version_info[:2])
    if have_bwrap:
        (tools / "bwrap").write_text(f"#!{bash}\n")
    for tool in tools.iterdir():
        tool.chmod(0o755)
    return tools, log


@pytest.mark.parametrize("have", [False, True], ids=["bare image", "ready image"])
def test_setup_sh_installs_pinned_versions_into_its_own_venv(autograder, tmp_path, have):
    tools, log = _fake_tools(tmp_path, have_venv=have, have_bwrap=have)
    env = {"PATH": str(tools), "AUTOGRADER_ROOT": str(autograder)}
    run = subprocess.run([shutil.which("bash"), str(autograder / "source" / "setup.sh")],
                         env=env, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    calls = log.read_text().splitlines()
    venv = f"python3 -m venv {autograder}/venv"
    apt = [c for c in calls if c.startswith("apt-get install")]
    if have:  # nothing to install with apt-get
        assert apt == [] and calls[0] == venv
    else:
        assert [c.split()[-1] for c in apt] == ["bubblewrap", "python3-venv"]
        # tried first, then python3-venv installed, then made
        assert [c for c in calls if c in (venv, apt[-1])] == [venv, apt[-1], venv]
    pip = [c for c in calls if "pip" in c]
    assert pip == [
        f"venv-python -m pip install --no-input --no-cache-dir -r "
        f"{autograder}/source/requirements.txt",
        f"venv-python -m pip install --no-input --no-cache-dir --no-deps "
        f"{autograder}/source/gradkit-src",
    ]  # never the image's own python3 -m pip
    assert "was pinned under Python" not in run.stderr


def test_run_autograder_ends_by_exec_of_the_grader(autograder):
    commands = _commands(autograder / "source" / "run_autograder")
    assert commands[-1].startswith('exec "$PYTHON" -m gradkit grade ')
    assert [c for c in commands if "gradkit" in c] == commands[-1:]
    assert 'PYTHON="${GRADKIT_PYTHON:-$ROOT/venv/bin/python}"' in commands


def _appending_python(tmp_path, script):
    """A GRADKIT_PYTHON that appends a line to run_autograder, then runs the real grading."""
    fake = tmp_path / "python"
    fake.write_text(f"#!{shutil.which('bash')}\n"
                    f"echo 'echo HACK > \"$ROOT/results/x\"' >> '{script}'\n"
                    f'exec "{sys.executable}" "$@"\n')
    fake.chmod(0o755)
    return fake


def test_a_line_appended_to_run_autograder_while_it_runs_is_not_run(tmp_path):
    root = _bundle(tmp_path, "--lesson", "01")
    shutil.copy(LESSON_01, root / "submission" / "01_derivative.ipynb")
    script = root / "run_autograder"  # where Gradescope puts it
    shutil.copy(root / "source" / "run_autograder", script)
    results = _run(root, python=_appending_python(tmp_path, script), script=script)
    assert script.read_text().endswith("echo HACK > \"$ROOT/results/x\"\n")  # it was appended
    assert not (root / "results" / "x").exists()
    assert results["score"] == FULL_01
    # the control: without exec, bash reads on after the grader and runs the appended line
    script.write_text(script.read_text().replace('exec "$PYTHON"', '"$PYTHON"', 1)
                      .replace("echo HACK", "# echo HACK"))
    _run(root, python=_appending_python(tmp_path, script), script=script)
    assert (root / "results" / "x").read_text() == "HACK\n"


def test_run_autograder_leaves_results_to_root_and_not_world_writable(autograder):
    (autograder / "results").mkdir(mode=0o777)
    os.chmod(autograder / "results", 0o777)
    results = _run(autograder)
    assert results["score"] == 0.0
    assert stat.S_IMODE((autograder / "results").stat().st_mode) == 0o755
    assert [p.name for p in (autograder / "results").iterdir()] == ["results.json"]


def test_write_results_replaces_a_planted_symlink_instead_of_following_it(tmp_path):
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep")
    results = tmp_path / "results"
    results.mkdir()
    (results / "results.json").symlink_to(elsewhere)
    write_results({"score": 0.0}, results / "results.json")
    assert not (results / "results.json").is_symlink()
    assert json.loads((results / "results.json").read_text()) == {"score": 0.0}
    assert elsewhere.read_text() == "keep"
    assert [p.name for p in results.iterdir()] == ["results.json"]  # no temporary file left
    # what a plain write does: follow the link
    (results / "results.json").unlink()
    (results / "results.json").symlink_to(elsewhere)
    (results / "results.json").write_text("{}")
    assert elsewhere.read_text() == "{}"
