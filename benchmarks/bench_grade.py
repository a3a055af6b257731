"""Grading speed and memory: isolation's cost, ``--jobs 2`` against sequential, and the
grader's own memory whatever a submission prints.

Run: ``.venv/bin/python benchmarks/bench_grade.py``. Everything is measured in this
process (the memory, in a ``gradkit grade`` process of its own). Targets: one lesson-01
notebook graded with isolation in at most 1.5x the time without it; twenty with
``--jobs 2`` in at most 0.6x the sequential time; the grader under 150 MB while a
submission tries to send it 1 GiB.
"""

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from gradkit.grading.grader import Grader
from gradkit.grading.sandbox import detect

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01_derivative.ipynb"
FLOOD = ("import os\nchunk = b'x' * (1 << 20)\nfor fd in range(3, 40):\n    try:\n"
         "        for _ in range(1024):\n            os.write(fd, chunk)\n"
         "    except OSError:\n        pass\n")


def _grade_all(grader, paths, jobs):
    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        subs = list(pool.map(grader.grade, paths))
    assert all(s.score == s.max_score for s in subs), [s.error for s in subs]
    return time.perf_counter() - start


def _one(grader, path, repeats=5):
    grader.grade(path)  # warm the grader's caches (solution, reference values)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sub = grader.grade(path)
        times.append(time.perf_counter() - start)
        assert sub.score == sub.max_score, sub.cell_errors
    return statistics.median(times)


def _grader_memory(tmp):
    nb = nbformat.read(SOLUTION, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "def secant_line(" in cell.source:
            cell.source = FLOOD
    flood = Path(tmp) / "flood_01_derivative.ipynb"
    nbformat.write(nb, flood)
    code = ("from gradkit.cli import main\n"
            f"main(['grade', {str(flood)!r}, '--json', {str(Path(tmp) / 'f.json')!r}])\n"
            # VmHWM: this process's own peak (ru_maxrss would count the parent it forked from)
            "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
            "print(int(peak.split()[1]) // 1024)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=600)
    result = json.loads((Path(tmp) / "f.json").read_text())
    return int(out.stdout.split()[-1]), result["output"].splitlines()[-1].strip()


def main(n=20):
    isolation = detect()
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(n):
            paths.append(Path(tmp) / f"student{i:02d}_01_derivative.ipynb")
            shutil.copy(SOLUTION, paths[-1])
        isolated = Grader(ROOT / "solutions")
        bare = Grader(ROOT / "solutions", isolation="none")
        one_isolated = _one(isolated, paths[0])
        one_bare = _one(bare, paths[0])
        sequential = _grade_all(isolated, paths, 1)
        parallel = _grade_all(isolated, paths, 2)
        memory, why = _grader_memory(tmp)
    print(f"isolation here: {isolation.description}")
    print(f"one lesson-01 notebook, isolated:      {one_isolated:6.2f} s (median of 5)")
    print(f"one lesson-01 notebook, limits only:   {one_bare:6.2f} s")
    print(f"ratio isolated / not:                  {one_isolated / one_bare:6.2f}"
          "    (target <= 1.5)")
    print(f"{n} submissions, sequential:          {sequential:6.2f} s")
    print(f"{n} submissions, --jobs 2:            {parallel:6.2f} s")
    print(f"ratio jobs 2 / sequential:             {parallel / sequential:6.2f}"
          "    (target <= 0.6)")
    print(f"grader's peak memory, a 1 GiB flood:  {memory:6d} MB   (target < 150)")
    print(f"  the flood's submission: {why}")


if __name__ == "__main__":
    main()
