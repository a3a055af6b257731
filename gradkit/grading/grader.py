"""Grade a submitted notebook: plan, run in a sandbox, compare, score.

The student's notebook is only read, once. Its answer cells (one per solution
answer cell, found by the names they define or by cell id) and the code cells
of its own are run together with the *canonical* provided cells of the
matching solution notebook, in a worker process (:mod:`gradkit.grading.worker`)
isolated by the operating system (:mod:`gradkit.grading.sandbox`), with a
CPU-time limit per step and limits on memory, processes and files; where the
solution has a check cell, that exercise's tests run. Results come back as
untrusted plain data (:class:`_Stream`: bounded, parsed against the plan, first
answer wins, every read has a deadline) and are compared here with the
reference solution's, computed in this process, which also computes every
verdict.
"""

import base64
import json
import os
import pickle
import select
import sys
import threading
import time
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
    student_id,
    student_id_cell,
    written_answers,
)
from gradkit.grading.references import Instructor
from gradkit.grading.sandbox import Limits, SandboxedProcess, detect
from gradkit.grading.spec import exercises_for_lesson, hidden_tests, lesson_forks
from gradkit.grading.variants import normalize_id, use_student, variant_of

__all__ = ["Submission", "TestResult", "Grader"]

MAX_LINE = 4 * 1024 * 1024  # bytes of one event (one test's value)
MAX_TOTAL = 16 * 1024 * 1024  # bytes of all a worker may send, but for calls
MAX_CALL_BYTES = 1024 * 1024 * 1024  # bytes of the calls of another exercise's function
MAX_CALLS = 20000  # reference calls one worker may ask for
_EVENTS = {"cell", "test", "grade_end", "call", "hidden_request", "done"}
_STATUS = {"cell": {"ok", "error", "timeout", "crashed"},
           "test": {"ok", "unanswered", "missing", "error"},
           "grade_end": {"timeout", "crashed"}}


def _has_code(source):
    return any(line.strip() and not line.strip().startswith("#")
               for line in source.splitlines())


class _Stream:
    """Reads a worker's events as untrusted data.

    Bounded (:data:`MAX_LINE` per event, :data:`MAX_TOTAL` in all), every read
    under one deadline, each line parsed as JSON and checked against the plan
    (known event, planned cell or exercise and test, known status); the first
    answer per test wins and nothing after ``done`` is read. ``call`` events (a
    test calling another exercise's function) are answered on the worker's
    stdin with ``answer(name, args)``. A malformed line is skipped and counted;
    a stream past its bounds or its deadline ends with a one-line ``reason``.

    Hidden tests: their inputs (``hidden``, ``{exercise: [{"name", "pickle"}]}``) leave
    the grader only when the worker asks (``hidden_request``) after every visible
    result has come in, and from then on nothing visible is accepted: whatever the
    student's code learns from a hidden input cannot reach the feedback they see.
    """

    def __init__(self, planned_cells, planned_tests, remote, answer, hidden=None):
        self.planned_cells = planned_cells
        self.hidden = hidden or {}
        self.hidden_names = {e: {t["name"] for t in ts} for e, ts in self.hidden.items()}
        self.sealed = False
        self.planned_tests = {e: set(names) | self.hidden_names.get(e, set())
                              for e, names in planned_tests.items()}
        self.visible_tests = planned_tests
        self.remote = remote
        self.answer = answer
        self.events = []
        self.reason = ""
        self.killed = False
        self.malformed = 0
        self.calls = 0
        self._answered = set()
        self._supplied = set()
        self._cells = set()
        self._ended = set()

    def run(self, box, job, deadline):
        out = box.stdout.fileno()
        os.set_blocking(out, False)
        self._in = box.stdin.fileno()
        self._deadline = deadline
        try:
            self._write(job)
        except (OSError, TimeoutError):
            pass  # the worker ended before reading its job: its events (none) say so
        buffer = b""
        self.total = self.call_bytes = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self.reason = "the grader stopped the notebook at its overall time limit"
                self.killed = True
                box.kill()
                return
            ready, _, _ = select.select([out], [], [], min(left, 0.5))
            if not ready:
                if box.proc.poll() is not None and box.reason:
                    return
                continue
            try:
                chunk = os.read(out, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if len(buffer) > MAX_LINE:
                self.reason = (f"your code sent a result larger than {MAX_LINE // 2**20} MB; "
                               "the rest was not read")
                self.killed = True
                box.kill()
                return
            for line in lines:
                if self._take(line):
                    return
                if self.total > MAX_TOTAL or self.call_bytes > MAX_CALL_BYTES:
                    self.reason = (f"your code sent more than {MAX_TOTAL // 2**20} MB to the "
                                   "grader; the rest was not read")
                    self.killed = True
                    box.kill()
                    return

    def _write(self, data):
        view = memoryview(data)
        while view:
            left = self._deadline - time.monotonic()
            if left <= 0 or not select.select([], [self._in], [], left)[1]:
                raise TimeoutError
            view = view[os.write(self._in, view[:1 << 16]):]

    def _take(self, line):
        """Handle one line; True when the stream is over (``done``)."""
        self.total += len(line) + 1
        if len(line) > MAX_LINE:
            self.malformed += 1
            return False
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            self.malformed += 1
            return False
        if not isinstance(event, dict) or event.get("event") not in _EVENTS:
            self.malformed += 1
            return False
        kind = event["event"]
        if kind == "done":
            self.events.append({"event": "done"})
            return True
        if kind == "call":  # answered and dropped: counted apart from what is kept
            self.total -= len(line) + 1
            self.call_bytes += len(line) + 1
            self._reply(event)
            return False
        if kind == "hidden_request":
            self._send_hidden()
            return False
        if self.sealed and kind == "cell":
            return False  # nothing visible after the hidden inputs left
        if kind in _STATUS and event.get("status") not in _STATUS[kind]:
            self.malformed += 1
            return False
        if kind == "cell":
            index = event.get("index")
            if not isinstance(index, (int, str)) or isinstance(index, bool) or \
                    index not in self.planned_cells or index in self._cells:
                self.malformed += 1
                return False
            self._cells.add(index)
            error = event.get("error", "")
            self.events.append({"event": "cell", "index": index, "status": event["status"],
                                "error": error[:300] if isinstance(error, str) else "?"})
            return False
        exercise = event.get("exercise")
        if not isinstance(exercise, str) or exercise not in self.planned_tests:
            self.malformed += 1
            return False
        if kind == "grade_end":
            key = (exercise, self.sealed)
            if key not in self._ended:
                self._ended.add(key)
                self.events.append({"event": "grade_end", "exercise": exercise,
                                    "status": event["status"], "hidden": self.sealed})
            return False
        name = event.get("test")
        if not isinstance(name, str) or name not in self.planned_tests[exercise]:
            self.malformed += 1
            return False
        is_hidden = name in self.hidden_names.get(exercise, ())
        if is_hidden != self.sealed:
            return False  # visible results before the seal, hidden ones after it
        if (exercise, name) in self._answered or (exercise, self.sealed) in self._ended:
            return False  # the first answer wins
        self._answered.add((exercise, name))
        error = event.get("error", "")
        self.events.append({"event": "test", "exercise": exercise, "test": name,
                            "status": event["status"], "value": event.get("value"),
                            "error": error[:500] if isinstance(error, str) else "?"})
        return False

    def _visible_complete(self):
        cells = self.planned_cells <= self._cells
        tests = all((e, False) in self._ended or all((e, n) in self._answered for n in names)
                    for e, names in self.visible_tests.items())
        return cells and tests

    def _send_hidden(self):
        reply = {"hidden": {}}
        if not self.sealed and self._visible_complete():
            reply = {"hidden": self.hidden}
        self.sealed = True
        try:
            self._write((json.dumps(reply) + "\n").encode())
        except (OSError, TimeoutError):
            pass

    def _reply(self, event):
        self.calls += 1
        name = event.get("name")
        exercise = event.get("exercise")
        if isinstance(name, str) and name in self.remote and isinstance(exercise, str) and \
                exercise in self.planned_tests and (exercise, name) not in self._supplied:
            self._supplied.add((exercise, name))
            self.events.append({"event": "supplied", "exercise": exercise, "names": [name]})
        if self.calls > MAX_CALLS or not isinstance(name, str) or name not in self.remote:
            reply = {"error": "not a function the grader supplies"}
        else:
            try:
                reply = {"value": self.answer(name, event.get("args"))}
            except Exception as exc:  # the reference on the student's inputs
                reply = {"error": f"{type(exc).__name__}: {str(exc)[:200]}"}
        try:
            self._write((json.dumps(reply, allow_nan=True) + "\n").encode())
        except (OSError, TimeoutError):
            pass


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
    isolation: str = ""
    notes: list = field(default_factory=list)
    written: list = field(default_factory=list)  # (title, question, answer): the instructor's
    student_id: str = ""  # the id graded with: it picks the student's variants
    id_flag: str = ""  # why the notebook's STUDENT_ID is in doubt, for the instructor

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


MAX_NOTEBOOK = 64 * 1024 * 1024  # bytes of a submitted notebook


def _graded_id(student_nb, ids):
    """``(id graded with, flag)`` for a notebook and the instructor's ``ids``: None when the
    instructor gave none, empty when a roster was given but does not name the notebook."""
    theirs, problem = student_id(student_nb)
    known = []
    for value in ids or ():
        try:
            text = normalize_id(str(value))
        except ValueError:
            continue
        if text and text not in known:
            known.append(text)
    if ids is not None and not known:  # a roster that does not name this notebook
        shown = f"{theirs!r}" if theirs else "the default variant"
        return theirs, (f"not on the roster (--ids): graded with the notebook's own "
                        f"STUDENT_ID, {shown}" + (f" ({problem})" if problem else ""))
    if not known:
        if problem:
            return "", f"STUDENT_ID: {problem}; graded with the default variant"
        if not theirs:
            return "", ("STUDENT_ID is empty: graded with the default variant, the one the "
                        "solutions show")
        return theirs, ""
    if theirs in known:
        return known[0], ""
    said = (f"{theirs!r}" if theirs else f"an unreadable id ({problem})" if problem
            else "nothing")
    return known[0], (f"STUDENT_ID mismatch: the notebook says {said}, the submission belongs to "
                      f"{known[0]!r}; graded with the variants of {known[0]!r}")


def read_submission_bytes(path):
    """A submission's bytes (at most :data:`MAX_NOTEBOOK`), or raise NotebookError."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_NOTEBOOK + 1)
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except OSError as exc:
        raise NotebookError(f"{path}: cannot read it ({type(exc).__name__})") from None
    if len(data) > MAX_NOTEBOOK:
        raise NotebookError(f"{path}: larger than {MAX_NOTEBOOK // 2**20} MB; clear the "
                            "outputs (Edit > Clear Outputs of All Cells) and save")
    return data


def _read_submission(path, data):
    import nbformat

    if data is None:
        data = read_submission_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: cannot read it as text (UnicodeDecodeError)") from None
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if reason.startswith("Notebook does not appear to be JSON"):
            reason = "not valid JSON"
        raise NotebookError(f"{path}: not a Jupyter notebook ({reason[:120]})") from None
    if not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{path}: not a Jupyter notebook (no list of cells)")
    return nb


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
    isolation : str, optional
        ``"bubblewrap"``, ``"user"`` or ``"none"``; default the strongest available
        (:func:`gradkit.grading.sandbox.detect`).
    processes, file_mb : int
        Limits of a submission's sandbox: processes, size of a written file.
    """

    def __init__(self, solutions_dir, timeout=20.0, memory_mb=2048, hidden=None,
                 isolation=None, processes=64, file_mb=64):
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
        self.isolation = detect(isolation)
        self.processes = int(processes)
        self.file_mb = int(file_mb)

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

    def plan(self, student_nb, solution_nb, exercises, student_id=""):
        """The worker's steps, and ``{exercise_id: reason}`` for answers not found.

        The solution's cells give the order: its provided cells (canonical), the
        student's version of each answer cell, and a grade step where a check cell
        stood. Code cells of the student's own (helpers, imports, experiments) run
        too, right after the cell that precedes them in the student's notebook, as
        they do there; the student's check cells and copies of provided cells do not.
        """
        steps, missing, graded = [], {}, set()
        by_id = {e.id: e for e in exercises}
        mine_of = {}  # id(student cell) -> solution index it stands for
        provided = {}
        for index, cell in enumerate(solution_nb.cells):
            if cell.cell_type == "code" and not is_instructor_cell(cell):
                if is_answer_cell(cell):
                    mine = find_answer_cell(student_nb, cell)
                    if mine is not None:
                        mine_of[id(mine)] = index
                else:
                    provided[cell.get("id")] = index
                    provided[cell.source.strip()] = index
        extra_after = {}  # solution index (or -1) -> [(student cell number, cell)]
        last = -1
        theirs = student_id_cell(student_nb)
        ours = student_id_cell(solution_nb)
        for number, cell in enumerate(student_nb.cells, start=1):
            if cell.get("cell_type") != "code" or number - 1 == theirs:
                continue  # the STUDENT_ID cell is read as data, never run
            source = cell.get("source", "")
            if id(cell) in mine_of:
                last = mine_of[id(cell)]
            elif cell.get("id") in provided or source.strip() in provided:
                last = provided.get(cell.get("id"), provided.get(source.strip()))
            elif check_ids(cell) or not _has_code(source):
                continue
            else:
                extra_after.setdefault(last, []).append((number, cell))

        def own_cells(after):
            for number, cell in extra_after.get(after, ()):
                steps.append({"kind": "cell", "index": f"own{number}",
                              "label": f"<your cell {number}>", "source": cell.source,
                              "answer": False, "own": True})

        own_cells(-1)
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
                    own_cells(index)
                    continue
                steps.append({"kind": "cell", "index": index, "label": label,
                              "source": mine.get("source", ""), "answer": True,
                              "defines": sorted(answer_names(cell.source))})
            elif check_ids(cell):
                for exercise_id in check_ids(cell):
                    if exercise_id in by_id and exercise_id not in graded:
                        graded.add(exercise_id)
                        steps.append({"kind": "grade", "exercise": exercise_id})
            elif index == ours:  # the id the grader graded with, as a literal
                steps.append({"kind": "cell", "index": index, "label": label,
                              "source": f"STUDENT_ID = {student_id!r}\n", "answer": False})
            else:
                steps.append({"kind": "cell", "index": index, "label": label,
                              "source": cell.source, "answer": False})
            own_cells(index)
        for e in exercises:
            if e.id not in graded:
                steps.append({"kind": "grade", "exercise": e.id})
        return steps, missing

    def _remote_names(self, exercises):
        """The exercise functions a test may call through the grader's reference."""
        names = []
        for e in exercises:
            try:
                if callable(self.instructor.reference(e)):
                    names.append(e.function)
            except Exception:  # no reference to supply: the student's own is used
                continue
        return names

    def _run_per_exercise(self, steps, exercises, lesson):
        """One inline worker per exercise, each running the cells up to its grade step.

        In exercise k's worker only k's answer cell is the student's; the other
        exercises' functions are the grader's references (through the worker's
        proxies), so an answer that crashes, hangs or ends the process costs its own
        exercise only (its worker is the only one that runs it).
        """
        function = {e.id: e.function for e in exercises}
        remote = set(self._remote_names(exercises))
        events, seen = [], set()
        for k, step in enumerate(steps):
            if step["kind"] != "grade":
                continue
            exercise = step["exercise"]
            prefix = []
            for s in steps[:k]:
                if s["kind"] != "cell":
                    continue
                if s["answer"] and function.get(exercise) not in s["defines"]:
                    prefix.append({"kind": "remote", "names": [
                        n for n in s["defines"] if n in remote]})
                    continue
                prefix.append(s)
            mine = self._run_worker(prefix + [step], exercises, lesson, fork=False)
            own = {s["index"] for s in prefix if s.get("kind") == "cell" and (
                s["answer"] or s.get("own"))}
            for event in mine:
                kind = event.get("event")
                if kind == "cell" and event.get("index") not in seen and \
                        event.get("index") in own:
                    seen.add(event.get("index"))  # a note on the student's own cells only
                    events.append(event)
                elif kind in ("test", "grade_end") and event.get("exercise") == exercise:
                    events.append(event)
                elif kind in ("stream", "note") or (kind == "supplied" and
                                          event.get("exercise") == exercise):
                    events.append(event)
            if not any(e.get("event") == "done" for e in mine) and not any(
                    e.get("event") == "grade_end" and e.get("exercise") == exercise
                    for e in mine):
                killed = any(e.get("event") == "worker_killed" for e in mine)
                events.append({"event": "grade_end", "exercise": exercise,
                               "status": "timeout" if killed else "crashed"})
        events.append({"event": "done"})
        return events

    def _job_tests(self, steps, exercises):
        """``(public, hidden)``: the public tests each grade step runs, by name, and the
        hidden tests' inputs, pickled, which the grader keeps until the worker asks for
        them after every visible result (the worker never sees the hidden tests' files)."""
        by_id = {e.id: e for e in exercises}
        public, hidden = {}, {}
        for step in steps:
            if step["kind"] != "grade" or step["exercise"] not in by_id:
                continue
            exercise = by_id[step["exercise"]]
            public[exercise.id] = [{"name": t.name} for t in exercise.tests]
            for test in self.hidden.get(exercise.id, []):
                try:
                    data = pickle.dumps((test.make_args(), test.call))
                except Exception as exc:
                    raise ValueError(
                        f"hidden test {test.name!r} of {exercise.id}: its inputs and call must "
                        f"be plain values and module-level functions ({exc})") from None
                hidden.setdefault(exercise.id, []).append(
                    {"name": test.name, "pickle": base64.b64encode(data).decode("ascii")})
        return public, hidden

    def _run_worker(self, steps, exercises, lesson, fork=True):
        """Run ``steps`` in a sandboxed worker; return the events it sent, checked."""
        tests, hidden = self._job_tests(steps, exercises)
        remote = self._remote_names(exercises)
        job = {"steps": [{k: v for k, v in s.items() if k != "defines"} for s in steps],
               "timeout": self.timeout, "memory_mb": self.memory_mb, "fork": fork,
               "tests": tests, "remote": remote, "hidden": sorted(hidden)}
        n_steps = sum(s["kind"] != "remote" for s in steps)
        limits = Limits(cpu_seconds=self.timeout * (n_steps + 2), memory_mb=self.memory_mb,
                        processes=self.processes, file_mb=self.file_mb)
        deadline = time.monotonic() + (3 * self.timeout + 2) * (n_steps + 1)
        stream = _Stream(
            planned_cells={s["index"] for s in steps if s["kind"] == "cell"},
            planned_tests={e: {t["name"] for t in ts} for e, ts in tests.items()},
            remote=set(remote), answer=lambda name, args: self._call_reference(
                lesson, name, args), hidden=hidden)
        try:
            box = SandboxedProcess([sys.executable, "-m", "gradkit.grading.worker"], limits,
                                   self.isolation)
        except OSError as exc:
            return [{"event": "stream", "reason": f"the sandbox could not start ({exc})"}]
        try:
            stream.run(box, (json.dumps(job) + "\n").encode(), deadline)
        finally:
            box.close()
        events = stream.events
        if stream.malformed:
            events.append({"event": "note", "text": (
                f"{stream.malformed} line{'s' if stream.malformed > 1 else ''} that your code "
                "wrote to the grader's channel were not results and were ignored")})
        if stream.reason:
            events.append({"event": "stream", "reason": stream.reason})
        if box.reason:
            events.append({"event": "stream", "reason": f"your code {box.reason}"})
        if stream.killed or box.reason:
            events.append({"event": "worker_killed"})
        return events

    def _call_reference(self, lesson, name, args):
        """The reference of another exercise's function on a worker's plain arguments."""
        fn = self.instructor.answers(lesson[:2])[name]
        positional, keywords = plain.decode(args)
        if not isinstance(positional, list) or not isinstance(keywords, dict):
            raise ValueError("malformed call")
        return plain.encode(fn(*positional, **keywords))

    def grade(self, path, data=None, ids=None):
        """Grade one notebook; never raises for a bad submission.

        ``data`` is the file's bytes, read before the batch started (a snapshot that
        no other submission can change); default: read ``path`` now, once. ``ids`` are
        the student's ids as the instructor knows them (a roster, Gradescope's metadata):
        the first one is graded with, and a notebook whose ``STUDENT_ID`` is none of them
        is flagged. Without ``ids``, the notebook's ``STUDENT_ID`` is graded with.
        """
        sub = Submission(str(path), isolation=self.isolation.description)
        try:
            student = _read_submission(path, data)
        except NotebookError as exc:
            sub.error = str(exc)
            return sub
        sub.student_id, sub.id_flag = _graded_id(student, ids)
        lesson = lesson_name(student, path, set(self.lessons), solutions=self._solution)
        if lesson is None:
            sub.error = (f"{path}: cannot tell which lesson this is; name the file like "
                         f"{sorted(self.lessons)[0] if self.lessons else '01_name'}.ipynb")
            return sub
        sub.lesson = lesson
        try:
            exercises = exercises_for_lesson(lesson[:2])
            solution = self._solution(lesson)
            if student_id_cell(solution) is None:  # a lesson without variants: no id to check
                sub.id_flag = ""
            steps, missing = self.plan(student, solution, exercises, sub.student_id)
            if lesson_forks(lesson[:2]):
                events = self._run_worker(steps, exercises, lesson)
            else:
                events = self._run_per_exercise(steps, exercises, lesson)
        except (ValueError, NotebookError) as exc:
            sub.error = f"{path}: {exc}"
            return sub
        with use_student(sub.student_id):
            self._score(sub, exercises, steps, missing, events)
        if sub.id_flag:
            sub.notes.insert(0, sub.id_flag)
        sub.written = written_answers(student, solution)
        return sub

    def _score(self, sub, exercises, steps, missing, events):
        results, ends, cells = {}, {}, {}
        for event in events:
            kind = event.get("event")
            if kind == "test":
                results[(event.get("exercise"), event.get("test"))] = event
            elif kind == "grade_end":
                ends[(event.get("exercise"), bool(event.get("hidden")))] = event.get("status")
            elif kind == "cell":
                cells[event.get("index")] = event
        finished = any(e.get("event") == "done" for e in events)
        stream = [e["reason"] for e in events if e.get("event") == "stream"]
        for reason in dict.fromkeys(stream):
            sub.cell_errors.append(f"grading: {reason}")
        for text in dict.fromkeys(e["text"] for e in events if e.get("event") == "note"):
            sub.cell_errors.append(f"grading: {text}")
        supplied = {}
        for event in events:
            if event.get("event") == "supplied":
                supplied.setdefault(event["exercise"], set()).update(event["names"])
        for exercise_id, names in supplied.items():
            sub.notes.append(
                f"{exercise_id} was graded with the grader's {', '.join(sorted(names))} "
                "(another exercise's function), so that a mistake there costs that "
                "exercise only")
        answer_error = {}
        for step in steps:
            if step["kind"] != "cell":
                continue
            event = cells.get(step["index"], {})
            if event.get("status", "ok") != "ok":
                reason = {"timeout": f"took longer than {self.timeout:g} s and was stopped",
                          "crashed": "ended the process (os._exit, a crash or out of memory)",
                          }.get(event.get("status"), f"raised {event.get('error', '?')}")
                own = " (a cell of your own)" if step.get("own") else ""
                sub.cell_errors.append(f"{step['label']}{own}: {reason}")
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
                                           ends.get((exercise.id, hidden)), missing, answer_error,
                                           finished,
                                           stream)
                passed = output == "passed"
                sub.tests.append(TestResult(
                    exercise.id, f"{exercise.id}: {test.name}", max_score if passed else 0.0,
                    max_score, output,
                    "after_published" if hidden else "visible",
                ))

    def _question_entry(self, exercise, v):
        key = ("question", exercise.id, v)
        with self._lock:
            if key not in self._expected:
                self._expected[key] = self.instructor.question_entry(exercise, v)
            return self._expected[key]

    def _question_output(self, exercise, test, received):
        from gradkit.grading.questions import judge_question

        q = exercise.question
        v = variant_of(exercise.id, q.variants) if q.variants else 0
        try:
            data = self._question_entry(exercise, v)
        except Exception as exc:
            return f"not graded: the answer key failed ({exc})"
        outcome = judge_question(exercise, received, data, v)
        if outcome.status == "pass":
            return "passed"
        text = f"{test.shows}: {outcome.why}"
        return text + (f". Hint: {outcome.hint}" if outcome.hint else "")

    def _test_output(self, exercise, test, event, end, missing, answer_error, finished,
                     stream=()):
        if exercise.id in missing:
            return f"not graded: {missing[exercise.id]}"
        if event is None:
            if stream and not finished:
                return f"not graded: {stream[-1]}"
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
        if exercise.question is not None:
            return self._question_output(exercise, test, received)
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
