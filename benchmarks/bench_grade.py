"""Grading speed: one lesson notebook, and twenty submissions sequentially vs ``--jobs 2``.

Run: ``.venv/bin/python benchmarks/bench_grade.py``. Prints seconds and the
parallel/sequential ratio, all measured in this process. Targets: one
notebook under 10 s; twenty with ``--jobs 2`` at most 0.65x sequential.
"""

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from gradkit.grading.grader import Grader

ROOT = Path(__file__).resolve().parent.parent


def _grade_all(grader, paths, jobs):
    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        subs = list(pool.map(grader.grade, paths))
    assert all(s.score == s.max_score for s in subs), [s.error for s in subs]
    return time.perf_counter() - start


def main(n=20):
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i in range(n):
            paths.append(Path(tmp) / f"student{i:02d}_01_derivative.ipynb")
            shutil.copy(ROOT / "solutions" / "01_derivative.ipynb", paths[-1])
        grader = Grader(ROOT / "solutions")
        grader.grade(paths[0])  # warm the grader's caches (solution, reference values)
        start = time.perf_counter()
        grader.grade(paths[0])
        one = time.perf_counter() - start
        sequential = _grade_all(grader, paths, 1)
        parallel = _grade_all(grader, paths, 2)
    print(f"one lesson-01 notebook:        {one:6.2f} s   (target < 10 s)")
    print(f"{n} submissions, sequential:  {sequential:6.2f} s")
    print(f"{n} submissions, --jobs 2:    {parallel:6.2f} s")
    print(f"ratio jobs 2 / sequential:     {parallel / sequential:6.2f}    (target <= 0.65)")


if __name__ == "__main__":
    main()
