"""Grade a submitted notebook: plan, run in a sandbox, compare, score.

The student's notebook is only read. Its answer cells (one per solution
answer cell, found by the names they define or by cell id) are run together
with the *canonical* provided cells of the matching solution notebook, in a
separate process (:mod:`gradkit.grading.worker`) with a time limit per step
and a memory limit; where the solution has a check cell, that exercise's
tests run. Results come back as plain data and are compared here with the
reference solution's, computed in this process.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from gradkit.grading import plain
from gradkit.grading.feedback import judge
from gradkit.grading.notebook import (
    NotebookError,
    answer_names,
    check_ids,
    find_answer_cell,
    is_answer_cell,
    is_instructor_cell,
    lesson_name,
    read_notebook,
)
from gradkit.grading.references import Instructor
from gradkit.grading.spec import exercises_for_lesson, hidden_tests, lesson_forks

__all__ = ["Submission", "TestResult", "Grader"]


@dataclass
class TestResult:
    """One graded test, as in Gradescope's ``tests[]``."""

    __test__ = False  # not a pytest test class

    exercise: str
    name: str
    score: float
    max_score: float
    output: str
    visibility: str = "visible"


@dataclass
class Submission:
    """The grade of one notebook; ``error`` is a one-line reason when it could not be graded."""

    path: str
    lesson: str | None = None
    tests: list = field(default_factory=list)
    error: str | None = None
    cell_errors: list = field(default_factory=list)

    @property
    def score(self):
        return round(sum(t.score for t in self.tests), 6)

    @property
    def max_score(self):
        return round(sum(t.max_score for t in self.tests), 6)

    def exercise_scores(self):
        """``{exercise_id: score}`` in lesson order."""
        scores = {}
        for t in self.tests:
            scores[t.exercise] = scores.get(t.exercise, 0.0) + t.score
        return {k: round(v, 6) for k, v in scores.items()}


class Grader:
    """Grades notebooks against the solutions in ``solutions_dir``.

    Parameters
    ----------
    solutions_dir : path
        Holds ``NN_name.ipynb`` solution notebooks.
    timeout : float
        Seconds allowed for each cell and for each exercise's tests.
    memory_mb : int
        Address-space limit of the student's process.
    hidden : path, optional
        Directory of hidden tests (see :func:`gradkit.grading.spec.hidden_tests`).
    """

    def __init__(self, solutions_dir, timeout=20.0, memory_mb=2048, hidden=None):
        self.solutions_dir = Path(solutions_dir)
        if not self.solutions_dir.is_dir():
            raise ValueError(
                f"solutions directory {str(self.solutions_dir)!r} does not exist: "
                "pass --solutions DIR (the directory with NN_name.ipynb solution notebooks)"
            )
        self.timeout = float(timeout)
        self.memory_mb = int(memory_mb)
        self.hidden_dir = None if hidden is None else str(Path(hidden).resolve())
        self.hidden = hidden_tests(self.hidden_dir)
        self.lessons = {p.stem: p for p in self.solutions_dir.glob("[0-9][0-9]_*.ipynb")}
        self._lock = threading.Lock()
        self._solutions = {}
        self._expected = {}
        self.instructor = Instructor(self.solutions_dir)

    def _solution(self, lesson):
        with self._lock:
            if lesson not in self._solutions:
                self._solutions[lesson] = read_notebook(self.lessons[lesson])
            return self._solutions[lesson]

    def _expected_of(self, exercise, test):
        """``(expected, wrong values, return names)`` of a test, from the solutions."""
        key = (exercise.id, test.name, id(test))
        with self._lock:
            if key not in self._expected:
                self._expected[key] = (self.instructor.expected(exercise, test),
                                       self.instructor.wrong_values(exercise, test),
                                       self.instructor.returns(exercise))
            return self._expected[key]

    def plan(self, student_nb, solution_nb, exercises):
        """The worker's steps, and ``{exercise_id: reason}`` for answers not found."""
        steps, missing, graded = [], {}, set()
        by_id = {e.id: e for e in exercises}
        for index, cell in enumerate(solution_nb.cells):
            if cell.cell_type != "code" or is_instructor_cell(cell):
                continue
            label = f"<cell {index + 1}>"
            if is_answer_cell(cell):
                mine = find_answer_cell(student_nb, cell)
                if mine is None:
                    for e in exercises:
                        if e.function in answer_names(cell.source):
                            missing[e.id] = "its answer cell was not found in your notebook"
                    continue
                steps.append({"kind": "cell", "index": index, "label": label,
                              "source": mine.get("source", ""), "answer": True,
                              "solution": cell.source})
            elif check_ids(cell):
                for exercise_id in check_ids(cell):
                    if exercise_id in by_id and exercise_id not in graded:
                        graded.add(exercise_id)
                        steps.append({"kind": "grade", "exercise": exercise_id})
            else:
                steps.append({"kind": "cell", "index": index, "label": label,
                              "source": cell.source, "answer": False})
        for e in exercises:
            if e.id not in graded:
                steps.append({"kind": "grade", "exercise": e.id})
        return steps, missing

    def _run_per_exercise(self, steps, exercises):
        """One inline worker per exercise, each running the cells up to its grade step.

        In exercise k's worker only k's answer cell is the student's; the other answer
        cells are the solution's, so an answer that crashes, hangs or ends the process
        costs its own exercise only (its worker is the only one that runs it).
        """
        function = {e.id: e.function for e in exercises}
        steps_by = {s["index"]: s for s in steps if s["kind"] == "cell"}
        events, seen = [], set()
        for k, step in enumerate(steps):
            if step["kind"] != "grade":
                continue
            exercise = step["exercise"]
            prefix = []
            for s in steps[:k]:
                if s["kind"] != "cell":
                    continue
                if s["answer"] and function.get(exercise) not in answer_names(s["solution"]):
                    s = dict(s, source=s["solution"])
                prefix.append(s)
            mine = self._run_worker(prefix + [step], fork=False)
            for event in mine:
                kind = event.get("event")
                if kind == "cell" and event.get("index") not in seen and any(
                        s.get("index") == event.get("index") and s["source"] is steps_by[
                            event.get("index")]["source"] for s in prefix):
                    seen.add(event.get("index"))  # a note on the student's own cells only
                    events.append(event)
                elif kind in ("test", "grade_end") and event.get("exercise") == exercise:
                    events.append(event)
            if not any(e.get("event") == "done" for e in mine) and not any(
                    e.get("event") == "grade_end" and e.get("exercise") == exercise
                    for e in mine):
                killed = any(e.get("event") == "worker_killed" for e in mine)
                events.append({"event": "grade_end", "exercise": exercise,
                               "status": "timeout" if killed else "crashed"})
        events.append({"event": "done"})
        return events

    def _run_worker(self, steps, fork=True):
        job = {"steps": steps, "timeout": self.timeout, "memory_mb": self.memory_mb,
               "hidden": self.hidden_dir, "fork": fork}
        env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1",
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
        deadline = self.timeout * (len(steps) + 2)
        with tempfile.TemporaryDirectory(prefix="gradkit-grade-") as workdir:
            job["workdir"] = workdir
            proc = subprocess.Popen(
                [sys.executable, "-m", "gradkit.grading.worker"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=workdir, env=env,
                start_new_session=True,
            )
            killed = False
            try:
                out, _ = proc.communicate(json.dumps(job).encode(), timeout=deadline)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                out, _ = proc.communicate()
                killed = True
            finally:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the student's code
                except (ProcessLookupError, PermissionError):
                    pass
        events = []
        for line in out.decode("utf-8", errors="replace").splitlines():
            try:
                event = plain.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") != "worker_killed":
                events.append(event)
        if killed:
            events.append({"event": "worker_killed"})
        return events

    def grade(self, path):
        """Grade one notebook file; never raises for a bad submission."""
        sub = Submission(str(path))
        try:
            student = read_notebook(path)
        except NotebookError as exc:
            sub.error = str(exc)
            return sub
        lesson = lesson_name(student, path, set(self.lessons))
        if lesson is None:
            sub.error = (f"{path}: cannot tell which lesson this is; name the file like "
                         f"{sorted(self.lessons)[0] if self.lessons else '01_name'}.ipynb")
            return sub
        sub.lesson = lesson
        try:
            exercises = exercises_for_lesson(lesson[:2])
            solution = self._solution(lesson)
        except (ValueError, NotebookError) as exc:
            sub.error = f"{path}: {exc}"
            return sub
        steps, missing = self.plan(student, solution, exercises)
        if lesson_forks(lesson[:2]):
            events = self._run_worker(steps)
        else:
            events = self._run_per_exercise(steps, exercises)
        self._score(sub, exercises, steps, missing, events)
        return sub

    def _score(self, sub, exercises, steps, missing, events):
        results, ends, cells = {}, {}, {}
        for event in events:
            kind = event.get("event")
            if kind == "test":
                results[(event.get("exercise"), event.get("test"))] = event
            elif kind == "grade_end":
                ends[event.get("exercise")] = event.get("status")
            elif kind == "cell":
                cells[event.get("index")] = event
        finished = any(e.get("event") == "done" for e in events)
        answer_error = {}
        for step in steps:
            if step["kind"] != "cell":
                continue
            event = cells.get(step["index"], {})
            if event.get("status", "ok") != "ok":
                reason = {"timeout": f"took longer than {self.timeout:g} s and was stopped",
                          "crashed": "ended the process (os._exit, a crash or out of memory)",
                          }.get(event.get("status"), f"raised {event.get('error', '?')}")
                sub.cell_errors.append(f"{step['label']}: {reason}")
                if step["answer"]:
                    for name in answer_names(step["source"]):
                        answer_error[name] = f"your answer cell {reason}"
        for exercise in exercises:
            public = list(exercise.tests)
            tests = public + self.hidden.get(exercise.id, [])
            total = sum(t.weight for t in tests)
            for test in tests:
                max_score = exercise.points * test.weight / total
                hidden = not any(test is p for p in public)
                output = self._test_output(exercise, test, results.get((exercise.id, test.name)),
                                           ends.get(exercise.id), missing, answer_error, finished)
                passed = output == "passed"
                sub.tests.append(TestResult(
                    exercise.id, f"{exercise.id}: {test.name}", max_score if passed else 0.0,
                    max_score, output,
                    "after_published" if hidden else "visible",
                ))

    def _test_output(self, exercise, test, event, end, missing, answer_error, finished):
        if exercise.id in missing:
            return f"not graded: {missing[exercise.id]}"
        if event is None:
            if end == "timeout":
                return f"your code took longer than {self.timeout:g} s and was stopped"
            if end == "crashed" or finished:
                return "your code ended the process (os._exit, a crash or out of memory)"
            return "not graded: the grader stopped before this test (time limit of the notebook)"
        status = event.get("status")
        if status == "unanswered":
            return "not answered yet (raises NotImplementedError)"
        if status == "missing":
            why = answer_error.get(exercise.function, "")
            return f"{exercise.function} is not defined" + (f": {why}" if why else "")
        if status == "error":
            return str(event.get("error", "your code failed"))[:500]
        try:
            received = plain.decode(event.get("value"))
        except (ValueError, TypeError):
            return "your code returned something that is not a number"
        try:
            expected, wrong, returns = self._expected_of(exercise, test)
        except Exception as exc:
            return f"not graded: the reference failed on this test ({exc})"
        try:
            received = test.after(test.make_args(), received)
        except Exception as exc:
            return f"what your code returned could not be checked ({type(exc).__name__})"
        outcome = judge(exercise, test, received, expected, wrong, returns)
        if outcome.status == "pass":
            return "passed"
        text = f"input: {test.shows}; {outcome.why}"
        return text + (f". Hint: {outcome.hint}" if outcome.hint else "")
