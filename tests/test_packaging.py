"""The install story: README commands, CI, Binder pins, a light import."""

import re
import subprocess
import sys
from pathlib import Path

from _outputs import text_difference

ROOT = Path(__file__).resolve().parents[1]


def _readme_command(marker):
    text = (ROOT / "README.md").read_text()
    match = re.search(rf"<!-- {marker} -->\n```bash\n(.+)\n```", text)
    assert match, f"README.md has no ```bash block after <!-- {marker} -->"
    return match.group(1)


def test_readme_has_exactly_two_setup_commands():
    course, tests = _readme_command("course-command"), _readme_command("test-command")
    assert "jupyter lab lessons/" in course and '.[course]' in course
    assert "pytest" in tests and '.[dev]' in tests
    assert (ROOT / "README.md").read_text().count("python3 -m venv") == 2


def test_ci_runs_the_readme_test_command():
    out = subprocess.run(
        ["awk", "/<!-- test-command -->/{getline; getline; print; exit}", "README.md"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.strip()
    assert out == _readme_command("test-command")
    assert "awk '/<!-- test-command -->/" in (ROOT / ".ci" / "run").read_text()


def _pins(text, pattern):
    return dict(re.findall(pattern, text, re.M))


def pin_mismatches(environment_yml, pyproject_toml):
    """What differs between environment.yml's pins and pyproject's runtime + course pins.

    Binder installs environment.yml and then gradkit with --no-deps, so every
    package gradkit or the course needs must be there with the same bound;
    development tools (the ``dev`` extra) may also be listed, with the same bound.
    """
    env = _pins(environment_yml, r"^  - ([a-z][a-z0-9-]*)(>=[0-9.]+)$")
    every = _pins(pyproject_toml, r'^\s*"([a-z][a-z0-9-]*)(>=[0-9.]+)",?$')
    core = re.search(r"^dependencies = \[(.*?)\]", pyproject_toml, re.S | re.M).group(1)
    course = re.search(r"^course = \[(.*?)\]", pyproject_toml, re.S | re.M).group(1)
    needed = _pins(core + course, r'"([a-z][a-z0-9-]*)(>=[0-9.]+)"')
    problems = [f"{name}: pyproject {spec}, environment.yml {env.get(name)}"
                for name, spec in needed.items() if env.get(name) != spec]
    problems += [f"{name}: environment.yml {spec}, pyproject {every.get(name)}"
                 for name, spec in env.items() if every.get(name) != spec]
    return problems


def test_environment_yml_pins_match_pyproject():
    env = (ROOT / "environment.yml").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert pin_mismatches(env, pyproject) == []
    for name in ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "latex2mathml"):
        assert f"  - {name}>=" in env, f"environment.yml does not pin {name}"


def test_pin_check_notices_a_drift_either_way():
    env = (ROOT / "environment.yml").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    pin = re.search(r'"numpy(>=[\d.]+)"', pyproject).group(1)
    bumped = pyproject.replace(f'"numpy{pin}"', '"numpy>=9.99"')
    assert bumped != pyproject
    assert pin_mismatches(env, bumped) == [f"numpy: pyproject >=9.99, environment.yml {pin}",
                                           f"numpy: environment.yml {pin}, pyproject >=9.99"]
    dropped = env.replace("  - ipykernel>=6.25\n", "")
    assert pin_mismatches(dropped, pyproject) == [
        "ipykernel: pyproject >=6.25, environment.yml None"]
    extra = env + "  - scipy>=1.10\n"
    assert pin_mismatches(extra, pyproject) == ["scipy: environment.yml >=1.10, pyproject None"]


def test_binder_files_follow_repo2docker_conventions():
    post = ROOT / "postBuild"
    assert post.stat().st_mode & 0o111, "postBuild must be executable"
    assert post.read_text().startswith("#!/usr/bin/env bash")
    assert "pip install --no-deps -e ." in post.read_text()
    assert re.search(r"^  - python=3\.\d+$", (ROOT / "environment.yml").read_text(), re.M)


def test_import_gradkit_stays_light():
    code = ("import sys, gradkit; "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    probe = code.replace("import sys, gradkit", "import sys, gradkit, matplotlib")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['matplotlib']"  # the probe does see a heavy import


def test_the_readme_example_prints_what_the_readme_says():
    text = (ROOT / "README.md").read_text()
    code = re.search(r"## The checker in one screen\n\n```python\n(.+?)```", text, re.S).group(1)
    shown = re.search(r"\nprints\n\n```\n(.+?)```", text, re.S).group(1)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    # The same words, verdict, counts and names; numbers up to another machine's
    # round-off, as for the notebooks (tests/_outputs.py).
    assert text_difference(shown, out) is None, out
    changed = shown.replace("16 calls of f", "18 calls of f")
    assert changed != shown and text_difference(changed, out), "the comparison can fail"
