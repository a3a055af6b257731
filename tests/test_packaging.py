"""The install story: README commands, CI, Binder pins, a light import."""

import re
import subprocess
import sys
from pathlib import Path

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


def _pyproject_pins():
    text = (ROOT / "pyproject.toml").read_text()
    return dict(re.findall(r'"([a-z][a-z0-9-]*)(>=[0-9.]+)"', text))


def test_environment_yml_pins_match_pyproject():
    env = dict(re.findall(r"^  - ([a-z][a-z0-9-]*)(>=[0-9.]+)$",
                          (ROOT / "environment.yml").read_text(), re.M))
    pins = _pyproject_pins()
    assert env, "environment.yml lists no pinned packages"
    for name, spec in env.items():
        assert pins.get(name) == spec, f"{name}: environment.yml {spec}, pyproject {pins.get(name)}"
    for name in ("numpy", "matplotlib", "ipywidgets", "jupyterlab", "nbval"):
        assert name in env, f"environment.yml does not pin {name}"


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
    assert out == shown
