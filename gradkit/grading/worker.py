"""The process that runs a submission's code (``python -m gradkit.grading.worker``).

It runs inside the sandbox (:mod:`gradkit.grading.sandbox`) and holds nothing
secret: the public spec modules, the job the grader sent, and the student's
code. Everything it writes is treated by the grader as untrusted data.

The grader sends the job as one JSON line on stdin: the cells to run in order
(the student's answer cells and cells of their own among the canonical
provided cells) and a ``grade`` step where each check cell stood, with the
tests to run (public ones by name; hidden ones as inputs the grader built,
pickled). This process answers with JSON lines on its stdout, and nothing
else: the student's prints go to ``/dev/null``.

Isolation by fork: before each step the current process forks; the child
runs the step. For a cell, a child that finishes sends ``ok`` and carries on
as the main line, and its parent exits; a child that runs past its CPU-time
limit (or, sleeping, past a wall-clock backstop) is killed, and a child that
dies (``os._exit``, a crash) is noticed; either way the parent carries on
without that cell's effects. A ``grade`` step runs the exercise's tests in a
child that always exits. So an infinite loop, ``os._exit`` or a syntax error
costs only the steps it happens in. Limits are CPU time, so a grade does not
depend on how busy the machine is.

Fair, independent exercises: while exercise k's tests run, the functions that
answer the lesson's *other* exercises are replaced by proxies that ask the
grader to compute the reference's value (``call`` events, answered on stdin):
a later exercise that calls an earlier one is graded on its own code only,
and no reference ever enters this process.

A lesson whose libraries do not survive ``fork`` (JAX: its compile threads
stay behind in the parent) sets ``FORK = False`` in its spec module; the job
then says ``"fork": false``, steps run inline with a CPU-time alarm, and the
grader runs one such worker per exercise.

Only plain data leaves: each test result is encoded by
:func:`gradkit.grading.plain.encode` (exact types only) before it is written.
"""

import base64
import json
import math
import os
import pickle
import resource
import select
import signal
import sys
import time
import traceback

__all__ = ["main"]

_BACKSTOP = 3.0  # wall-clock backstop of a step, in multiples of its CPU-time limit


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


class _Inbox:
    """Reads the grader's replies (JSON lines) from the original stdin."""

    def __init__(self, fd):
        self.fd = fd
        self.buffer = b""

    def readline(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                raise TimeoutError("the grader did not answer")
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                raise EOFError("the grader closed the channel")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)


def _limit_memory(megabytes):
    if megabytes:
        limit = int(megabytes) * 1024 * 1024
        try:
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        except (ValueError, OSError):  # the platform refuses: run without the limit
            pass


def _cpu_used():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _limit_cpu(seconds):
    """Let this process use ``seconds`` more CPU time, then SIGXCPU ends it."""
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        soft = math.ceil(_cpu_used() + seconds)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _short_error(exc):
    lines = traceback.format_exception_only(type(exc), exc)
    text = " ".join(line.strip() for line in lines if line.strip())
    return text if len(text) < 300 else text[:297] + "..."


def _wait(pid, r, timeout, is_cell):
    """Wait for the child; return ``"ok"``, ``"done"``, ``"crashed"`` or ``"timeout"``."""
    ready, _, _ = select.select([r], [], [], _BACKSTOP * timeout + 2.0)
    if not ready:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(r)
        return "timeout"
    data = os.read(r, 2)
    os.close(r)
    if data == b"ok" and is_cell:
        return "ok"
    if data != b"ok":  # the child did not finish its step (or wrote into its own pipe)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    if data == b"ok":
        return "done"
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
        return "timeout"
    return "crashed"


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


class _Remote:
    """Stands for the function of another exercise: the grader computes its reference."""

    def __init__(self, name, own, channel, inbox, timeout):
        self.__name__ = name
        self._own, self._channel, self._inbox, self._timeout = own, channel, inbox, timeout
        self.exercise = None

    def __call__(self, *args, **kwargs):
        from gradkit.grading import plain

        try:
            data = plain.encode([list(args), dict(kwargs)])
        except plain.NotPlainError:
            if self._own is None:
                raise TypeError(f"{self.__name__} is supplied by the grader here, for numbers "
                                "and arrays only") from None
            return self._own(*args, **kwargs)  # not plain data: the student's own version
        self._channel.send(event="call", name=self.__name__, args=data,
                           exercise=self.exercise)
        reply = self._inbox.readline(self._timeout)
        if isinstance(reply, dict) and "value" in reply:
            return plain.decode(reply["value"])
        raise RuntimeError(f"{self.__name__} (the grader's reference, standing in for yours) "
                           "failed on these inputs: "
                           f"{reply.get('error', '?') if isinstance(reply, dict) else '?'}")


def _run_tests(step, ns, channel, tests, remote):
    from gradkit.grading import plain

    exercise_id = step["exercise"]
    name = step["function"]
    for other, proxy in remote.items():
        if other != name:
            if ns.get(other) is not proxy:
                proxy._own = ns.get(other) if callable(ns.get(other)) else None
            proxy.exercise = exercise_id
            ns[other] = proxy
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


def _step(step, ns, channel, timeout, tests, remote):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        _limit_cpu(timeout)
        if step["kind"] == "cell":
            _run_cell(step, ns, channel)
            os.write(w, b"ok")
            os.close(w)
            return True  # this child is now the main line
        _run_tests(step, ns, channel, tests, remote)
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
    """Raised by the CPU-time alarm in a step that ran past its limit (inline mode)."""


def _on_alarm(signum, frame):
    raise _StepTimeout()


def _inline_step(step, ns, channel, timeout, tests, remote):
    """Run a step in this process, with a CPU-time alarm for its limit (no fork).

    For libraries whose threads do not survive ``fork`` (JAX compiles on a
    thread pool): the grader then starts one worker per exercise, so a step
    that crashes or hangs here costs that exercise only.
    """
    signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, timeout)
    try:
        if step["kind"] == "cell":
            try:
                _run_cell(step, ns, channel)
            except _StepTimeout:
                channel.send(event="cell", index=step["index"], status="timeout")
        else:
            try:
                _run_tests(step, ns, channel, tests, remote)
            except _StepTimeout:
                channel.send(event="grade_end", exercise=step["exercise"], status="timeout")
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _tests_of(planned_by_exercise):
    """``{exercise_id: [Test, ...]}``: public tests from the spec (by name), hidden ones
    from the inputs the grader sent (pickled)."""
    from gradkit.grading.spec import Test, get_exercise

    tests = {}
    for exercise_id, planned in planned_by_exercise.items():
        exercise = get_exercise(exercise_id)
        public = {t.name: t for t in exercise.tests}
        found = []
        for item in planned:
            if "pickle" in item:
                args, call = pickle.loads(base64.b64decode(item["pickle"]))
                found.append(Test(item["name"], args=tuple(args), call=call))
            elif item["name"] in public:
                found.append(public[item["name"]])
        tests[exercise_id] = found
    return tests


def _run_hidden(job, ns, channel, inbox, run, remote):
    """After every visible step: ask the grader for the hidden tests' inputs, run them."""
    from gradkit.grading.spec import get_exercise

    channel.send(event="hidden_request")
    try:
        reply = inbox.readline(job["timeout"])
    except (TimeoutError, EOFError, ValueError):
        return
    hidden = reply.get("hidden", {}) if isinstance(reply, dict) else {}
    for exercise_id, tests in _tests_of(hidden).items():
        step = {"kind": "grade", "exercise": exercise_id,
                "function": get_exercise(exercise_id).function}
        run(step, ns, channel, job["timeout"], tests, remote)


def _seed_matplotlib_cache():
    """Copy the grader's prebuilt font cache into this sandbox's own config directory."""
    source, target = os.environ.get("GRADKIT_MPL_CACHE"), os.environ.get("MPLCONFIGDIR")
    if not source or not target:
        return
    try:
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(source):
            if name.endswith(".json"):
                with open(os.path.join(source, name), "rb") as src, \
                        open(os.path.join(target, name), "wb") as dst:
                    dst.write(src.read())
    except OSError:
        pass


def _drop_to(uid):
    """Become the unprivileged ``uid`` for good (a root grader's sandbox), before the job."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


def _supervise():
    """Stay alive, reaping, while the fork chain runs in a child (each cell's parent
    exits, and a sandbox ends when its first process does)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass
    if os.fork() == 0:
        return
    while True:
        try:
            os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue


def main():
    if "--as-uid" in sys.argv:
        _drop_to(int(sys.argv[sys.argv.index("--as-uid") + 1]))
    _supervise()
    stdin = os.dup(0)
    line = b""
    while not line.endswith(b"\n"):
        chunk = os.read(stdin, 1 << 16)
        if not chunk:
            break
        line += chunk
    head, _, rest = line.partition(b"\n")
    job = json.loads(head)
    inbox = _Inbox(stdin)
    inbox.buffer = rest
    channel = _Channel(os.dup(1))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.environ["MPLBACKEND"] = "Agg"
    _seed_matplotlib_cache()
    sys.path.insert(0, os.getcwd())

    from gradkit.grading.spec import get_exercise

    tests = _tests_of(job.get("tests", {}))
    for step in job["steps"]:
        if step["kind"] == "grade":
            step["function"] = get_exercise(step["exercise"]).function
    remote = {name: _Remote(name, None, channel, inbox, job["timeout"])
              for name in job.get("remote", ())}
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
        if step["kind"] == "remote":  # another exercise's answer: the grader's reference
            for name in step["names"]:
                if name in remote:
                    ns[name] = remote[name]
            continue
        run(step, ns, channel, job["timeout"], tests.get(step.get("exercise")), remote)
    if job.get("hidden"):
        _run_hidden(job, ns, channel, inbox, run, remote)
    channel.send(event="done")
    os._exit(0)


if __name__ == "__main__":
    main()
