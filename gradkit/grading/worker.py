"""The sandboxed process that runs a submission's code (``python -m gradkit.grading.worker``).

The grader sends a job as JSON on stdin: the cells to run in order (the
student's answer cells among the canonical provided cells) and a ``grade``
step where each check cell stood. This process answers with JSON lines on
its stdout, and nothing else: the student's prints go to ``/dev/null``.

Isolation by fork: before each step the current process forks; the child
runs the step. For a cell, a child that finishes sends ``ok`` and carries on
as the main line, and its parent exits; a child that hangs past the time
limit is killed, and a child that dies (``os._exit``, a crash) is noticed;
either way the parent carries on without that cell's effects. A ``grade``
step runs the exercise's tests in a child that always exits. So an infinite
loop, ``os._exit`` or a syntax error costs only the steps it happens in.

A lesson whose libraries do not survive ``fork`` (JAX: its compile threads
stay behind in the parent) sets ``FORK = False`` in its spec module; the job
then says ``"fork": false``, steps run inline with an alarm for their time
limit, and the grader runs one such worker per exercise.

Only plain data leaves: each test result is encoded by
:func:`gradkit.grading.plain.encode` (exact types only) before it is written.
"""

import json
import os
import resource
import select
import signal
import sys
import traceback

__all__ = ["main"]


class _Channel:
    """Writes events as JSON lines to the grader's pipe (the original stdout)."""

    def __init__(self, fd):
        self.fd = fd
        self._dumps = json.dumps
        self._write = os.write

    def send(self, **event):
        data = (self._dumps(event, allow_nan=True) + "\n").encode()
        while data:
            data = data[self._write(self.fd, data):]


def _limit_memory(megabytes):
    if megabytes:
        limit = int(megabytes) * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):  # the platform refuses: run without the limit
            pass


def _short_error(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    text = " ".join(line.strip() for line in lines if line.strip())
    return text if len(text) < 300 else text[:297] + "..."


def _wait(pid, r, timeout, is_cell):
    """Wait for the child; return ``"ok"``, ``"done"``, ``"crashed"`` or ``"timeout"``."""
    ready, _, _ = select.select([r], [], [], timeout)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        return "timeout"
    data = os.read(r, 2)
    os.close(r)
    if data == b"ok" and is_cell:
        return "ok"
    os.waitpid(pid, 0)
    return "done" if data == b"ok" else "crashed"


def _close_figures():
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def _run_cell(step, ns, channel):
    from gradkit.grading.notebook import strip_magics

    try:
        code = compile(strip_magics(step["source"]), step["label"], "exec")
        exec(code, ns)
    except _StepTimeout:
        raise
    except BaseException as exc:  # noqa: B036 - SystemExit in a cell is the cell's failure
        channel.send(event="cell", index=step["index"], status="error", error=_short_error(exc))
    else:
        channel.send(event="cell", index=step["index"], status="ok")
    finally:
        _close_figures()


def _run_tests(step, ns, channel, tests):
    from gradkit.grading import plain

    exercise_id = step["exercise"]
    name = step["function"]
    for test in tests:
        if name not in ns:
            channel.send(event="test", exercise=exercise_id, test=test.name, status="missing",
                         error=f"{name} is not defined")
            continue
        try:
            raw = test.run(ns[name])
            value = plain.encode(raw)
        except NotImplementedError:
            channel.send(event="test", exercise=exercise_id, test=test.name, status="unanswered")
        except plain.NotPlainError as exc:
            channel.send(event="test", exercise=exercise_id, test=test.name, status="error",
                         error=f"your code {exc}")
        except _StepTimeout:
            raise
        except BaseException as exc:  # noqa: B036 - includes SystemExit from the answer
            channel.send(event="test", exercise=exercise_id, test=test.name, status="error",
                         error=f"your code raised {_short_error(exc)}")
        else:
            channel.send(event="test", exercise=exercise_id, test=test.name, status="ok",
                         value=value)
        _close_figures()


def _step(step, ns, channel, timeout, tests):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        if step["kind"] == "cell":
            _run_cell(step, ns, channel)
            os.write(w, b"ok")
            os.close(w)
            return True  # this child is now the main line
        _run_tests(step, ns, channel, tests)
        os.write(w, b"ok")
        os._exit(0)
    os.close(w)
    outcome = _wait(pid, r, timeout, is_cell=step["kind"] == "cell")
    if outcome == "ok":
        os._exit(0)  # the child carries on
    if step["kind"] == "cell":
        channel.send(event="cell", index=step["index"], status=outcome)
    elif outcome != "done":
        channel.send(event="grade_end", exercise=step["exercise"], status=outcome)
    return False


class _StepTimeout(BaseException):
    """Raised by the alarm in a step that ran past its time limit (inline mode)."""


def _on_alarm(signum, frame):
    raise _StepTimeout()


def _inline_step(step, ns, channel, timeout, tests):
    """Run a step in this process, with an alarm for its time limit (no fork).

    For libraries whose threads do not survive ``fork`` (JAX compiles on a
    thread pool): the grader then starts one worker per exercise, so a step
    that crashes or hangs here costs that exercise only.
    """
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        if step["kind"] == "cell":
            try:
                _run_cell(step, ns, channel)
            except _StepTimeout:
                channel.send(event="cell", index=step["index"], status="timeout")
        else:
            try:
                _run_tests(step, ns, channel, tests)
            except _StepTimeout:
                channel.send(event="grade_end", exercise=step["exercise"], status="timeout")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main():
    job = json.loads(sys.stdin.read())
    channel = _Channel(os.dup(1))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ["MPLBACKEND"] = "Agg"
    if job.get("workdir"):
        os.chdir(job["workdir"])
    sys.path.insert(0, os.getcwd())

    from gradkit.grading.spec import get_exercise, hidden_tests

    hidden = hidden_tests(job.get("hidden"))
    tests = {}
    for step in job["steps"]:
        if step["kind"] == "grade":
            exercise = get_exercise(step["exercise"])
            step["function"] = exercise.function
            tests[exercise.id] = list(exercise.tests) + hidden.get(exercise.id, [])
    _limit_memory(job.get("memory_mb"))
    import builtins

    ns = {"__name__": "__main__", "__builtins__": builtins}
    try:
        from IPython.display import display

        ns["display"] = display
    except ImportError:  # IPython is optional for grading
        ns["display"] = print
    run = _step if job.get("fork", True) else _inline_step
    for step in job["steps"]:
        run(step, ns, channel, job["timeout"], tests.get(step.get("exercise")))
    channel.send(event="done")
    os._exit(0)


if __name__ == "__main__":
    main()
