"""Grading a lesson whose libraries do not survive fork (JAX, lesson 10): steps run inline
with an alarm, one worker per exercise, so one broken answer still costs its exercise only."""

import copy
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from gradkit.grading.grader import Grader
from gradkit.grading.spec import exercises_for_lesson, lesson_forks

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "10_frameworks.ipynb"
FULL = {e.id: float(e.points) for e in exercises_for_lesson("10")}


def _worker(steps, fork, timeout=1.0):
    job = {"steps": steps, "timeout": timeout, "memory_mb": 0, "hidden": None, "fork": fork}
    out = subprocess.run([sys.executable, "-m", "gradkit.grading.worker"],
                         input=json.dumps(job).encode(), capture_output=True, timeout=60).stdout
    return [json.loads(line) for line in out.decode().splitlines()]


def _cell(index, source):
    return {"kind": "cell", "index": index, "label": f"<cell {index}>", "source": source,
            "answer": False}


def test_inline_steps_stop_at_their_time_limit_and_the_next_step_runs():
    steps = [_cell(0, "x = 1"), _cell(1, "while True:\n    pass"), _cell(2, "y = x + 1"),
             _cell(3, "raise ValueError('no')")]
    events = _worker(steps, fork=False)
    status = {e["index"]: e["status"] for e in events if e["event"] == "cell"}
    assert status == {0: "ok", 1: "timeout", 2: "ok", 3: "error"}
    assert events[-1] == {"event": "done"}


def test_inline_threads_survive_and_forked_ones_do_not():
    """Why lesson 10 runs inline: a thread started in one step is gone in a forked next step."""
    steps = [_cell(0, "import threading, queue\nq = queue.Queue()\n"
                      "t = threading.Thread(target=lambda: q.put(q.get() + 1), daemon=True)\n"
                      "t.start()"),
             _cell(1, "q.put(1)\nimport time\ntime.sleep(0.2)\nassert q.get(timeout=1) == 2")]
    inline = {e["index"]: e["status"] for e in _worker(steps, fork=False) if e["event"] == "cell"}
    forked = {e["index"]: e["status"] for e in _worker(steps, fork=True) if e["event"] == "cell"}
    assert inline == {0: "ok", 1: "ok"}
    assert forked[1] != "ok"  # the thread stayed behind in the parent


def _answer_cell(nb, function):
    return next(c for c in nb.cells if c.cell_type == "code" and f"def {function}(" in c.source
                and "### BEGIN SOLUTION" in c.source)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    assert not lesson_forks("10") and lesson_forks("01")
    tmp = tmp_path_factory.mktemp("subs")
    solution = nbformat.read(SOLUTION, as_version=4)
    broken = copy.deepcopy(solution)
    _answer_cell(broken, "lse_bwd").source = "import os\nos._exit(3)"
    hangs = copy.deepcopy(solution)
    _answer_cell(hangs, "ste_bwd").source = "while True:\n    pass"
    paths = []
    for name, nb in (("correct", solution), ("exits", broken), ("hangs", hangs)):
        path = tmp / name / "10_frameworks.ipynb"
        path.parent.mkdir()
        nbformat.write(nb, path)
        paths.append(path)
    grader = Grader(ROOT / "solutions", timeout=8)
    with ThreadPoolExecutor(2) as pool:
        subs = list(pool.map(grader.grade, paths))
    return {Path(s.path).parent.name: s for s in subs}


def test_the_solution_of_a_no_fork_lesson_earns_full_marks(graded):
    assert graded["correct"].exercise_scores() == FULL


def test_an_answer_that_ends_the_process_costs_its_exercise_only(graded):
    scores = graded["exits"].exercise_scores()
    assert scores == dict(FULL, **{"10.lse_bwd": 0.0})
    outputs = [t.output for t in graded["exits"].tests if t.exercise == "10.lse_bwd"]
    assert all("ended the process" in o for o in outputs), outputs


def test_an_endless_answer_costs_its_exercise_only(graded):
    scores = graded["hangs"].exercise_scores()
    assert scores == dict(FULL, **{"10.ste_bwd": 0.0})
    assert any("took longer than 8 s" in note for note in graded["hangs"].cell_errors)
