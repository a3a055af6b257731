"""The browser tests' own helpers, checked without a browser so they run everywhere.

- ``require_browser`` skips when Chromium or Playwright is missing, and fails
  instead when ``GRADKIT_REQUIRE_BROWSER=1``, so CI cannot pass by skipping;
- ``process_tree`` and ``terminate`` reach a child started in a session of its
  own (as jupyter_client starts kernels), which killing the parent's process
  group does not.
"""

import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import _browser
import pytest
from _browser import REQUIRE_ENV, process_tree, require_browser, terminate


@pytest.fixture
def no_chromium(monkeypatch, tmp_path):
    monkeypatch.setattr(_browser, "CHROMIUM", tmp_path / "no-chromium")


@pytest.fixture
def chromium(monkeypatch, tmp_path):
    """An executable file where Chromium is looked for; it is never run."""
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\nexit 1\n")
    path.chmod(0o755)
    monkeypatch.setattr(_browser, "CHROMIUM", path)


def _set_require(monkeypatch, value):
    if value is None:
        monkeypatch.delenv(REQUIRE_ENV, raising=False)
    else:
        monkeypatch.setenv(REQUIRE_ENV, value)


def _outcome_of_require_browser(expected, match):
    # Both outcomes are caught: a Skipped escaping pytest.raises(Failed) would
    # turn the test into a skip, the silent pass these tests are here to prevent.
    with pytest.raises((pytest.skip.Exception, pytest.fail.Exception), match=match) as info:
        require_browser()
    assert info.type is expected, (
        f"require_browser raised {info.type.__name__}, expected {expected.__name__}: "
        f"{info.value}")


@pytest.mark.parametrize("value", [None, "", "0"], ids=["unset", "empty", "zero"])
def test_a_missing_chromium_is_a_skip_unless_required(monkeypatch, no_chromium, value):
    _set_require(monkeypatch, value)
    _outcome_of_require_browser(pytest.skip.Exception,
                                r"no-chromium \(apt-get install chromium\).*"
                                rf"set {REQUIRE_ENV}=1 to make this a failure")


def test_a_missing_chromium_is_a_failure_when_required(monkeypatch, no_chromium):
    _set_require(monkeypatch, "1")
    _outcome_of_require_browser(pytest.fail.Exception,
                                rf"no-chromium .*; {REQUIRE_ENV} is set, so a missing browser "
                                "is a failure, not a skip")


@pytest.mark.parametrize(("value", "outcome"), [(None, pytest.skip.Exception),
                                                ("0", pytest.skip.Exception),
                                                ("1", pytest.fail.Exception)],
                         ids=["unset", "zero", "required"])
def test_a_missing_playwright_is_a_skip_or_a_failure(monkeypatch, chromium, value, outcome):
    # None in sys.modules makes `from playwright.sync_api import ...` raise ImportError
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    _set_require(monkeypatch, value)
    _outcome_of_require_browser(outcome, r"^browser tests need the Python package playwright "
                                         rf"\(pip install playwright.*{REQUIRE_ENV}")


def test_with_chromium_and_playwright_there_is_no_skip(monkeypatch, chromium):
    def sync_playwright():
        pass

    monkeypatch.setitem(sys.modules, "playwright.sync_api",
                        types.SimpleNamespace(sync_playwright=sync_playwright))
    _set_require(monkeypatch, "1")
    assert require_browser() is sync_playwright


# A parent that starts a child in a session of its own, as jupyter_client
# starts a kernel, prints the child's pid and waits.
PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                         start_new_session=True)
print(child.pid, flush=True)
time.sleep(60)
"""


def _running(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"  # a zombie has exited already


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_terminate_reaches_a_child_that_killing_the_group_misses():
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    child = None
    try:
        child = int(parent.stdout.readline())
        tree = process_tree(parent.pid)
        assert [pid for pid, _ in tree] == [child], f"{child=}, found {tree}"
        os.killpg(parent.pid, signal.SIGKILL)
        parent.wait(timeout=10)
        # the negative: the child is in another session, so it outlives the group
        assert _running(child), "the child died with its parent's group: the test proves nothing"
        assert terminate(tree, timeout=5) == []
        assert not _running(child), f"the child {child} still runs after terminate"
    finally:
        if parent.poll() is None:
            os.killpg(parent.pid, signal.SIGKILL)
            parent.wait(timeout=10)
        parent.stdout.close()
        if child is not None and _running(child):
            os.kill(child, signal.SIGKILL)


def test_terminate_leaves_alone_a_pid_that_now_names_another_process():
    # this very process, under a start time it does not have: not the one listed
    assert terminate([(os.getpid(), -1)], timeout=0) == []
    assert terminate([], timeout=0) == []
