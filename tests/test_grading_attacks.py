"""Hostile submissions of lesson 01, graded together by `gradkit grade --jobs 2`.

Each attack was measured on the grader before it was isolated; here each is reproduced
and must cost its own submission only. Where the claim is that the sandbox stops an
attack, the same attack is also run without isolation (``--isolation none``) to show
that the test can fail. Every test is bounded in time; what an attack starts is killed.
"""

import copy
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from gradkit.grading.sandbox import detect
from gradkit.grading.spec import exercises_for_lesson

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01_derivative.ipynb"
LESSON = ROOT / "lessons" / "01_derivative.ipynb"
FULL = {e.id: float(e.points) for e in exercises_for_lesson("01")}
SECRET = "gradkit-grader-secret-7d1f"
HIDDEN_X0 = 0.6180339887  # a hidden test's input: it must never reach a visible output
PORT = 48213

pytestmark = pytest.mark.skipif(
    detect().kind != "bubblewrap" and not os.environ.get("GRADKIT_REQUIRE_SANDBOX"),
    reason="bubblewrap is not available here (CI installs it and sets GRADKIT_REQUIRE_SANDBOX)")

DAEMON = '''
import os, time
def _daemon(action):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            try:
                action()
            finally:
                os._exit(0)
        os._exit(0)
'''

CORRECT_DQ = "\ndef difference_quotient(f, x, h):\n    return (f(x + h) - f(x)) / h\n"


def _with(nb, function, source):
    out = copy.deepcopy(nb)
    for cell in out.cells:
        if cell.cell_type == "code" and f"def {function}(" in cell.source:
            cell.source = source
            return out
    raise LookupError(function)


def _attacks(folder):
    solution = nbformat.read(SOLUTION, as_version=4)
    lesson = nbformat.read(LESSON, as_version=4)
    out, other = {}, folder / "victim_01_derivative.ipynb"
    out["victim"] = copy.deepcopy(solution)
    out["reference_import"] = _with(solution, "difference_quotient", (
        "from gradkit.grading.spec import get_exercise\n"
        "import gradkit.grading.lesson01 as spec\n"
        "def difference_quotient(f, x, h):\n"
        "    ref = get_exercise('01.difference_quotient').reference or getattr(\n"
        "        spec, 'difference_quotient')\n"
        "    return ref(f, x, h)\n"))
    out["solutions_from_path"] = _with(solution, "difference_quotient", (
        "import json\nfrom pathlib import Path\nimport gradkit\n"
        "nb = Path(gradkit.__file__).resolve().parent.parent / 'solutions' / "
        "'01_derivative.ipynb'\n"
        "for cell in json.loads(nb.read_text())['cells']:\n"
        "    if 'BEGIN SOLUTION' in ''.join(cell['source']):\n"
        "        exec(''.join(cell['source']))\n"))
    out["forged_after"] = _with(lesson, "backprop_by_hand", DAEMON + (
        "import json\nfrom gradkit.grading import checkdata\n"
        "from gradkit.grading.spec import get_exercise\n"
        "def _forge():\n    time.sleep(0.5)\n"
        "    ex = get_exercise('01.backprop_by_hand')\n"
        "    for t in ex.tests:\n"
        "        line = json.dumps({'event': 'test', 'exercise': ex.id, 'test': t.name,\n"
        "            'status': 'ok', 'value': [float(v) for v in checkdata.entry(ex, t)[0]]})\n"
        "        for fd in range(3, 40):\n"
        "            try:\n                os.write(fd, (line + '\\n').encode())\n"
        "            except OSError:\n                pass\n"
        "def backprop_by_hand(x, y, z):\n    _daemon(_forge)\n    raise NotImplementedError\n"))
    out["kill_everything"] = _with(solution, "secant_line", (
        "import os, signal\nfor target in (-1, os.getppid(), 1):\n    try:\n"
        "        os.kill(target, signal.SIGKILL)\n    except OSError:\n        pass\n"))
    out["rewrite_victim"] = _with(solution, "difference_quotient", (
        f"open({str(other)!r}, 'w').write('{{}}')\n" + CORRECT_DQ))
    out["flood"] = _with(solution, "secant_line", (
        "import os\nchunk = b'x' * (1 << 20)\nfor fd in range(3, 40):\n"
        "    try:\n        for _ in range(1024):\n            os.write(fd, chunk)\n"
        "    except OSError:\n        pass\n"))
    out["malformed"] = _with(solution, "secant_line", (
        "import os\nbad = (b'{\"event\": \"test\", \"exercise\": [1, 2], \"test\": \"x\"}\\n' +"
        " b'[' * 100000 + b'\\n')\nfor fd in range(3, 40):\n"
        "    try:\n        os.write(fd, bad)\n    except OSError:\n        pass\n"
        "def secant_line(f, x0, h):\n    slope = (f(x0 + h) - f(x0)) / h\n"
        "    return slope, f(x0) - slope * x0\n"))
    out["pipe_held"] = _with(solution, "secant_line", DAEMON + (
        "_daemon(lambda: time.sleep(600))\n"
        "def secant_line(f, x0, h):\n    slope = (f(x0 + h) - f(x0)) / h\n"
        "    return slope, f(x0) - slope * x0\n"))
    out["leak_env"] = _with(solution, "secant_line", (
        "import os, gc\nfound = [k + '=' + v for k, v in os.environ.items()]\n"
        "found += [str(o)[:200] for o in gc.get_objects() if isinstance(o, dict) and "
        "'hidden' in o][:5]\nraise RuntimeError(' '.join(found))\n"))
    out["memory"] = _with(solution, "secant_line", (
        "import os, time\nimport numpy as np\nkids = []\nfor _ in range(5):\n"
        "    pid = os.fork()\n    if pid == 0:\n        a = np.ones(37_500_000)\n"
        "        time.sleep(20)\n        os._exit(0)\n    kids.append(pid)\n"
        "for pid in kids:\n    os.waitpid(pid, 0)\n"))
    out["processes"] = _with(solution, "secant_line", (
        "import os, time\nfor _ in range(100):\n    if os.fork() == 0:\n"
        "        time.sleep(20)\n        os._exit(0)\n"))
    out["json_rewrite"] = _with(solution, "secant_line", DAEMON + (
        f"_daemon(lambda: (time.sleep(2.0), open({str(folder / 'all.json')!r}, 'w')"
        ".write('{\"score\": 100}')))\n"
        "def secant_line(f, x0, h):\n    slope = (f(x0 + h) - f(x0)) / h\n"
        "    return slope, f(x0) - slope * x0\n"))
    out["network"] = _with(solution, "difference_quotient", (
        f"import socket\nsocket.create_connection(('127.0.0.1', {PORT}), timeout=2).close()\n"
        + CORRECT_DQ))
    out["leak_hidden"] = _with(solution, "secant_line", (
        "import gc, sys\n"
        "def secant_line(f, x0, h):\n"
        "    seen = [repr(o)[:300] for o in gc.get_objects() if isinstance(o, dict)"
        " and ('pickle' in o or 'hidden' in o)]\n"
        "    raise RuntimeError(f'inputs {x0!r} {h!r} | ' + ' '.join(seen)[:400])\n"))
    out["big_file"] = _with(solution, "secant_line", (
        "with open('/tmp/big', 'wb') as handle:\n    for _ in range(200):\n"
        "        handle.write(b'0' * (1 << 20))\n"))
    return out, other


def _listen():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", PORT))
    server.listen(5)
    return server


def _grade(folder, notebooks, *extra, timeout=5.0):
    """Run `gradkit grade` as its own process; return (rc, results by file, the grader's
    peak memory in MB, the report)."""
    out = folder / "all.json"
    argv = ["grade", *map(str, notebooks), "--json", str(out), "--csv", str(folder / "g.csv"),
            "--solutions", str(ROOT / "solutions"), "--timeout", str(timeout),
            "--memory", "1024", *extra]
    code = (
        "import sys\nfrom gradkit.cli import main\n"
        f"rc = main({argv!r})\n"
        # VmHWM: this process's own peak (ru_maxrss would count the parent it forked from)
        "peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print('MAXRSS', int(peak.split()[1]) // 1024)\n"
        "sys.exit(rc)\n")
    env = dict(os.environ, GRADKIT_TEST_SECRET=SECRET)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=600, env=env, cwd=folder)
    rss = int(proc.stdout.rsplit("MAXRSS", 1)[1].split()[0])
    data = json.loads(out.read_text())
    subs = data["submissions"] if "submissions" in data else [dict(data, file=notebooks[0])]
    return proc.returncode, {Path(s["file"]).name.split("_01_")[0]: s for s in subs}, rss, \
        proc.stdout


def _scores(result):
    scores = {}
    for t in result["tests"]:
        if t["name"].startswith("Written answers"):  # carried to the instructor, 0 points
            continue
        exercise = t["name"].split(":")[0]
        scores[exercise] = scores.get(exercise, 0.0) + t["score"]
    return {k: round(v, 2) for k, v in scores.items()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    folder = tmp_path_factory.mktemp("attacks")
    notebooks, victim = _attacks(folder)
    paths = []
    for name, nb in notebooks.items():
        path = folder / f"{name}_01_derivative.ipynb"
        nbformat.write(nb, path)
        paths.append(path)
    before = hashlib.sha256(victim.read_bytes()).hexdigest()
    hidden = folder / "hidden"
    hidden.mkdir()
    (hidden / "lesson01.py").write_text(
        "import numpy as np\nfrom gradkit.grading.spec import Test\n"
        "HIDDEN_TESTS = {'01.secant_line': "
        f"[Test('sin through a hidden x0', args=(np.sin, {HIDDEN_X0!r}, 0.25))]}}\n")
    server = _listen()  # a service on this machine that a sandbox must not reach
    started = time.monotonic()
    try:
        rc, results, rss, report = _grade(folder, paths, "--jobs", "2", "--hidden", str(hidden))
    finally:
        server.close()
    elapsed = time.monotonic() - started
    written = (folder / "all.json").read_text()
    time.sleep(3.0)  # a daemon that outlived its sandbox would act now
    leftovers = subprocess.run(["pgrep", "-u", ",".join(str(61000 + i) for i in range(8))],
                               capture_output=True, text=True).stdout.split()
    for pid in leftovers:
        os.kill(int(pid), signal.SIGKILL)
    return {"rc": rc, "results": results, "rss": rss, "elapsed": elapsed, "report": report,
            "json_after": (folder / "all.json").read_text(), "json_written": written,
            "hidden": str(hidden), "victim_before": before,
            "victim_after": hashlib.sha256(victim.read_bytes()).hexdigest(),
            "leftovers": leftovers, "folder": folder}


def test_every_submission_of_the_batch_is_written_and_the_victim_keeps_full_marks(batch):
    assert len(batch["results"]) == 16
    assert _scores(batch["results"]["victim"]) == FULL
    assert batch["victim_before"] == batch["victim_after"]
    assert "isolation: bubblewrap" in batch["report"]
    assert all(r["extra_data"]["isolation"].startswith("bubblewrap")
               for r in batch["results"].values())
    assert batch["leftovers"] == []  # nothing a submission started outlives its grade


def test_a_daemon_cannot_rewrite_the_results_after_the_grader_exits(batch):
    assert batch["json_after"] == batch["json_written"]
    assert _scores(batch["results"]["json_rewrite"]) == FULL


def test_there_is_no_network(batch):
    assert _scores(batch["results"]["network"])["01.difference_quotient"] == 0.0
    assert "unreachable" in batch["results"]["network"]["output"].lower() or \
        "refused" in batch["results"]["network"]["output"].lower()


def test_hidden_inputs_and_files_never_reach_a_visible_output(batch):
    result = batch["results"]["leak_hidden"]
    visible = json.dumps([result["output"]] + [t for t in result["tests"]
                                               if t["visibility"] == "visible"])
    assert repr(HIDDEN_X0) not in visible and batch["hidden"] not in visible
    assert "HIDDEN_TESTS" not in visible
    # the leak channel works: the hidden test's own output, shown after publishing, has it
    hidden = [t for t in result["tests"] if t["visibility"] != "visible"]
    assert hidden and repr(HIDDEN_X0) in hidden[0]["output"]
    assert "inputs 0.5 0.25" in visible  # and a public test's input does reach the feedback


def test_reference_answers_cannot_be_imported_or_read_from_the_solutions(batch):
    for name in ("reference_import", "solutions_from_path"):
        scores = _scores(batch["results"][name])
        assert scores["01.difference_quotient"] == 0.0, name
        assert scores["01.secant_line"] == 3.0, name


def test_events_forged_after_the_exercise_finished_earn_nothing(batch):
    result = batch["results"]["forged_after"]
    assert _scores(result)["01.backprop_by_hand"] == 0.0
    assert all("not answered yet" in t["output"] for t in result["tests"]
               if t["name"].startswith("01.backprop_by_hand"))


def test_killing_the_grader_or_a_sibling_costs_the_attacker_only(batch):
    scores = _scores(batch["results"]["kill_everything"])
    assert scores["01.difference_quotient"] == 3.0  # graded before the attack ran
    assert scores["01.secant_line"] == 0.0


def test_another_submission_cannot_be_rewritten(batch):
    assert _scores(batch["results"]["rewrite_victim"])["01.difference_quotient"] == 0.0


def test_a_flood_costs_the_flooder_and_the_grader_stays_small(batch):
    result = batch["results"]["flood"]
    assert "the rest was not read" in result["output"]
    assert _scores(result)["01.difference_quotient"] == 3.0
    assert batch["rss"] < 150, batch["rss"]


def test_a_malformed_stream_costs_only_what_it_broke(batch):
    """Junk on every descriptor (a list as exercise id, 100,000 "[") is skipped and
    counted; the cell that wrote it into its own step pipe fails, the rest is graded."""
    result = batch["results"]["malformed"]
    scores = _scores(result)
    assert scores["01.difference_quotient"] == 3.0 and scores["01.backprop_by_hand"] == 4.0
    assert "were not results and were ignored" in result["output"]


def test_a_daemon_holding_the_pipe_open_does_not_stall_the_batch(batch):
    assert _scores(batch["results"]["pipe_held"]) == FULL
    assert batch["elapsed"] < 240


def test_the_grader_environment_and_hidden_tests_do_not_reach_the_output(batch):
    result = batch["results"]["leak_env"]
    text = json.dumps(result)
    assert SECRET not in text and "GRADKIT_TEST_SECRET" not in text
    assert "raised RuntimeError" in text  # the leak channel itself works: see the next test


def test_without_isolation_the_same_attacks_succeed(tmp_path):
    """The negative case: with --isolation none the solutions are read from the clone, so
    the test above would fail without the sandbox; the leak channel for the environment
    works too (it prints the sandbox's environment, which holds nothing of the grader's)."""
    notebooks, _ = _attacks(tmp_path)
    paths = []
    for name in ("leak_env", "solutions_from_path", "network"):
        path = tmp_path / f"{name}_01_derivative.ipynb"
        nbformat.write(notebooks[name], path)
        paths.append(path)
    server = _listen()
    try:
        _, results, _, report = _grade(tmp_path, paths, "--isolation", "none")
    finally:
        server.close()
    assert "isolation: limits only" in report
    assert _scores(results["network"])["01.difference_quotient"] == 3.0
    # the environment is the sandbox's own in every mode: what the attack prints is that
    assert "MPLBACKEND=Agg" in json.dumps(results["leak_env"])
    assert SECRET not in json.dumps(results["leak_env"])
    assert _scores(results["solutions_from_path"])["01.difference_quotient"] == 3.0


def test_memory_of_all_processes_together_is_limited(batch):
    result = batch["results"]["memory"]
    assert "more than 1024 MB of memory in all its processes together" in result["output"]
    assert _scores(result)["01.difference_quotient"] == 3.0


def test_processes_and_file_size_are_limited(batch):
    procs = batch["results"]["processes"]
    assert "processes" in procs["output"] or "BlockingIOError" in procs["output"], \
        procs["output"]
    big = batch["results"]["big_file"]
    assert "<cell" in big["output"] and ("ended the process" in big["output"]
                                         or "File too large" in big["output"]), big["output"]
    for name in ("processes", "big_file"):
        assert _scores(batch["results"][name])["01.difference_quotient"] == 3.0


def test_time_limits_are_cpu_time_so_the_number_of_jobs_does_not_change_a_grade(tmp_path):
    """Four copies of a correct notebook whose answer burns 1.2 s of CPU, graded with a
    2 s limit by 4 jobs on fewer cores (wall-clock time per step well above 2 s): all
    keep full marks; the same answer burning 4 s of CPU is stopped."""
    solution = nbformat.read(SOLUTION, as_version=4)

    def burning(seconds):
        return _with(solution, "difference_quotient", (
            "import time\n_t = time.process_time()\n"
            f"while time.process_time() - _t < {seconds}:\n    pass\n" + CORRECT_DQ))

    paths = []
    for i in range(4):
        path = tmp_path / f"cpu{i}_01_derivative.ipynb"
        nbformat.write(burning(1.2), path)
        paths.append(path)
    slow = tmp_path / "slow_01_derivative.ipynb"
    nbformat.write(burning(4.0), slow)
    _, results, _, _ = _grade(tmp_path, [*paths, slow], "--jobs", "4", timeout=2.0)
    for i in range(4):
        assert _scores(results[f"cpu{i}"]) == FULL, results[f"cpu{i}"]["output"]
    assert _scores(results["slow"])["01.difference_quotient"] == 0.0


def test_the_fallback_without_bubblewrap_is_an_unprivileged_user_and_says_so(tmp_path):
    """Where bubblewrap cannot run, a root grader still runs student code as a user of its
    own: it cannot write the grader's files (here a root-owned file beside the
    submission); the same attack without isolation can, which shows the test can fail."""
    target = tmp_path / "results.json"
    target.write_text("{}")
    os.chmod(tmp_path, 0o755)
    nb = _with(nbformat.read(SOLUTION, as_version=4), "difference_quotient",
               f"open({str(target)!r}, 'w').write('score: 10')\n" + CORRECT_DQ)
    path = tmp_path / "writer_01_derivative.ipynb"
    nbformat.write(nb, path)
    if detect("user").kind != "user":  # not root, or this Python is only root's: it says so
        _, _, _, report = _grade(tmp_path, [path], "--isolation", "user")
        assert "isolation: limits only" in report and ("unprivileged" in report or
                                                       os.geteuid() != 0)
        return
    _, results, _, report = _grade(tmp_path, [path], "--isolation", "user")
    assert "isolation: unprivileged user and limits only" in report
    scores = _scores(results["writer"])
    assert scores["01.difference_quotient"] == 0.0
    assert scores["01.secant_line"] == 3.0  # the worker itself ran as that user
    assert target.read_text() == "{}"
    _, results, _, _ = _grade(tmp_path, [path], "--isolation", "none")
    assert _scores(results["writer"])["01.difference_quotient"] == 3.0
    assert target.read_text() == "score: 10"


def test_the_fallback_user_cannot_read_solutions_the_grader_keeps_private(tmp_path):
    """On Gradescope, setup.sh makes the bundle's solutions readable by root only; where
    bubblewrap cannot run, the sandbox's user then cannot read them. The same solutions
    left readable to all are read: the negative case."""
    import shutil
    import tempfile

    if detect("user").kind != "user":
        # the fallback is then "limits only", said in every report (the test above)
        assert detect("user").kind == "none"
        return
    top = Path(tempfile.mkdtemp(prefix="gradkit-bundle-", dir="/tmp"))  # not pytest's 0700
    os.chmod(top, 0o755)
    request_cleanup = top
    solutions = top / "private" / "solutions"
    shutil.copytree(ROOT / "solutions", solutions)
    nb = _with(nbformat.read(SOLUTION, as_version=4), "difference_quotient", (
        "import json\n"
        f"for cell in json.loads(open({str(solutions / '01_derivative.ipynb')!r}).read())"
        "['cells']:\n    if 'BEGIN SOLUTION' in ''.join(cell['source']):\n"
        "        exec(''.join(cell['source']))\n"))
    path = tmp_path / "reader_01_derivative.ipynb"
    nbformat.write(nb, path)
    results = {}
    try:
        for mode in (0o700, 0o755):
            os.chmod(top / "private", mode)
            out = tmp_path / f"r{mode:o}.json"
            subprocess.run([sys.executable, "-m", "gradkit", "grade", str(path), "--isolation",
                            "user", "--solutions", str(solutions), "--json", str(out)],
                           capture_output=True, timeout=300, cwd=tmp_path)
            results[mode] = _scores(json.loads(out.read_text()))
    finally:
        shutil.rmtree(request_cleanup, ignore_errors=True)
    assert results[0o700]["01.difference_quotient"] == 0.0
    assert results[0o700]["01.secant_line"] == 3.0  # the worker itself ran as that user
    assert results[0o755]["01.difference_quotient"] == 3.0
