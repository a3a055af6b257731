"""The notebooks themselves: solutions under nbval, lessons in a fresh kernel, widget logic.

- each of ``solutions/`` is re-run in a fresh kernel and its outputs are
  compared with the stored ones in meaning, not digit by digit
  (``tests/_outputs.py``), so that the comparison holds on any machine;
- each lesson runs top to bottom in a fresh kernel, its check cells say
  "not answered yet", and each exercise raises ``NotImplementedError``;
- every solution's check cells say "public checks passed".
"""

import json
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from _outputs import notebook_differences

from gradkit.grading.notebook import check_ids

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
LESSONS = [ROOT / "lessons" / p.name for p in SOLUTIONS]

_PROBE = """
import json as _json
from gradkit.grading import exercises_for_lesson as _exercises
_status = {}
for _e in _exercises("%s"):
    try:
        _e.tests[0].run(globals()[_e.function])
        _status[_e.id] = "returned"
    except NotImplementedError:
        _status[_e.id] = "NotImplementedError"
print(_json.dumps(_status))
"""


def _execute(path, extra_cell=None, timeout=300):
    """A fresh kernel's run of a notebook (plus extra_cell), top to bottom, in its directory."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    if extra_cell is not None:
        nb.cells.append(nbformat.v4.new_code_cell(extra_cell))
    NotebookClient(nb, kernel_name="python3", timeout=timeout,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_reproduces_its_stored_outputs_nbval_style(solution):
    # As nbval does, but number by number (tests/_outputs.py): round-off-level
    # digits may differ on another CPU, BLAS or numpy; verdicts, counts, names,
    # shapes, accuracies and costs may not.
    stored = nbformat.read(solution, as_version=4)
    problems = notebook_differences(stored, _execute(solution))
    assert not problems, f"{solution.name}: outputs differ in meaning\n" + "\n".join(problems)


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.stem)
def test_lesson_runs_in_a_fresh_kernel_and_every_exercise_is_unanswered(lesson):
    nb = _execute(lesson, extra_cell=_PROBE % lesson.stem[:2], timeout=120)
    # Run All runs to the end (no cell raised): check cells say "not answered
    # yet", and a cell that needs an answer says which exercise to answer first.
    for cell in nb.cells[:-1]:
        if check_ids(cell):
            text = cell.outputs[0]["data"]["text/plain"]
            assert "not answered yet" in text, text
        if "except NotImplementedError" in cell.source:
            printed = "".join(o.get("text", "") for o in cell.outputs)
            assert "answer Exercise" in printed, (cell.source[:200], printed)
    status = json.loads(nb.cells[-1].outputs[0]["text"])
    assert status and set(status.values()) == {"NotImplementedError"}, status


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_every_solution_passes_its_own_checks(solution):
    nb = nbformat.read(solution, as_version=4)
    checks = [c for c in nb.cells if check_ids(c)]
    assert len(checks) >= 3, "each lesson has at least 3 graded exercises"
    for cell in checks:
        text = cell.outputs[0]["data"]["text/plain"]
        assert "public checks passed" in text and "failed" not in text, text


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.stem)
def test_solution_follows_the_lesson_standards(solution):
    nb = nbformat.read(solution, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert "After this lesson you can" in nb.cells[0].source
    assert "## Summary" in text and "## Further exercises" in text
    assert "**Question" in text and "*Your answer (your instructor reads it" in text
    for cell in nb.cells:  # a written answer says who reads it
        if cell.cell_type == "markdown" and "### BEGIN SOLUTION" in cell.source:
            assert cell.source.startswith("*Your answer (your instructor reads it; it is not "
                                          "auto-graded):*"), cell.source[:60]
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "default_rng" in code[0].source and "import" in code[0].source
    for i, cell in enumerate(nb.cells[1:], start=1):
        if cell.cell_type == "code":
            assert nb.cells[i - 1].cell_type == "markdown", f"cell {i + 1} has no text before it"
        assert "np.random.seed" not in cell.source and "np.random.rand(" not in cell.source
        if "plt.figure(" in cell.source or "draw_secants(" in cell.source:
            assert "plt.show()" in cell.source
    widget_cells = [c for c in code if "slider" in c.source and "import" not in c.source]
    assert all("nbval-ignore-output" in c.metadata.get("tags", []) for c in widget_cells)


def test_secant_view_converges_to_the_tangent():
    from gradkit.widgets import secant_view

    errors = [abs(secant_view(np.sin, np.cos, 1.0, h).error) for h in (0.1, 0.01, 0.001)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[1] / errors[2] == pytest.approx(10, rel=0.05)  # error proportional to h
    view = secant_view(lambda x: x**2, lambda x: 2 * x, 1.0, 1.0)
    assert (view.slope, view.intercept, view.error) == (3.0, -2.0, 1.0)
    with pytest.raises(ValueError, match="h = 0 gives no secant"):
        secant_view(np.sin, np.cos, 1.0, 0.0)


def test_static_secant_figure_and_slider_work_headless():
    import matplotlib.pyplot as plt

    from gradkit.widgets import draw_secants, secant_slider

    views = draw_secants(np.sin, np.cos, 1.0, [1.0, 0.1])
    assert [v.h for v in views] == [1.0, 0.1]
    assert len(plt.gca().lines) == 1 + 2 * 2 + 1  # f, two secants with their points, tangent
    plt.close("all")
    box = secant_slider(np.sin, np.cos, x0=1.0, h=0.2)
    slider = box.children[0]
    assert slider.value == pytest.approx(0.2)
    slider.value = 0.01  # redraws without a kernel
    plt.close("all")
