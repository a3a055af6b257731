"""Real-browser tests: the system Chromium driven by Playwright, and when to skip them.

Browser tests use Debian's ``/usr/bin/chromium`` (``apt-get install chromium``)
through the ``playwright`` Python package; Playwright's own browser download
(``playwright install``) is never needed. Without either, the tests skip,
unless ``GRADKIT_REQUIRE_BROWSER=1`` (CI) turns the skip into a failure, so a
missing browser cannot pass silently::

    from _browser import launch_chromium, require_browser

    sync_playwright = require_browser()
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)

A server such as JupyterLab, started for a browser to talk to, is stopped with
its whole process tree: :func:`process_tree` lists it while the server is
alive, :func:`terminate` ends what is left.
"""

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest

__all__ = [
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "REQUIRE_ENV",
    "browser_required",
    "launch_chromium",
    "process_tree",
    "require_browser",
    "screenshot",
    "terminate",
]

CHROMIUM = Path("/usr/bin/chromium")

# Headless and quiet: no sandbox (containers, root), no GPU, and no traffic of
# the browser's own (updates, sync, field trials) that could stall a test offline.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
)

REQUIRE_ENV = "GRADKIT_REQUIRE_BROWSER"


def browser_required():
    """True when ``GRADKIT_REQUIRE_BROWSER`` is set to anything but ``""`` or ``"0"``."""
    return os.environ.get(REQUIRE_ENV, "") not in ("", "0")


def require_browser():
    """Return Playwright's ``sync_playwright``, or skip the test when a browser is missing.

    Returns
    -------
    callable
        ``playwright.sync_api.sync_playwright``.

    Raises
    ------
    pytest.skip.Exception
        When ``/usr/bin/chromium`` or the ``playwright`` package is missing.
    pytest.fail.Exception
        Instead of skipping, when ``GRADKIT_REQUIRE_BROWSER`` is set.
    """
    missing = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the Python package playwright (pip install playwright; it drives "
                       "the system Chromium, `playwright install` is not needed)")
    if missing:
        reason = "browser tests need " + " and ".join(missing)
        if browser_required():
            pytest.fail(f"{reason}; {REQUIRE_ENV} is set, so a missing browser is a failure, "
                        "not a skip", pytrace=False)
        pytest.skip(f"{reason}; set {REQUIRE_ENV}=1 to make this a failure")
    return sync_playwright


def launch_chromium(playwright, **kwargs):
    """Launch the system Chromium headless.

    Parameters
    ----------
    playwright : playwright.sync_api.Playwright
        The object ``sync_playwright()`` enters.
    **kwargs
        Passed on to ``playwright.chromium.launch`` (e.g. ``slow_mo``);
        ``args`` are added after :data:`CHROMIUM_ARGS`.

    Returns
    -------
    playwright.sync_api.Browser
    """
    args = [*CHROMIUM_ARGS, *kwargs.pop("args", ())]
    kwargs.setdefault("headless", True)
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=args, **kwargs)


def screenshot(page, directory, name):
    """Save a full-page screenshot of ``page`` for a failure message; never raises.

    Parameters
    ----------
    page : playwright.sync_api.Page
    directory : path-like
        Created if missing.
    name : str
        The file's stem.

    Returns
    -------
    str
        ``"screenshot: <path>"``, or why none could be taken.
    """
    path = Path(directory) / f"{name}.png"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
    except Exception as exc:  # a dead page must not hide the failure being reported
        return f"no screenshot ({type(exc).__name__}: {exc})"
    return f"screenshot: {path}"


def _stat(pid):
    """``(state, ppid, start time)`` from ``/proc/<pid>/stat``; None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name, in parentheses, may itself hold spaces and parentheses
    fields = stat[stat.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[19])


def process_tree(pid):
    """The processes below ``pid``, at any depth, each as ``(pid, start time)``.

    Children started in a session of their own (``start_new_session``, as
    jupyter_client starts kernels) are out of reach of ``os.killpg`` on the
    parent's group; this finds them through the parent links in ``/proc``,
    which last only while the parent is alive. The start time tells a process
    from a later one that reuses its pid.

    Parameters
    ----------
    pid : int

    Returns
    -------
    list of tuple of (int, int)
        Empty where there is no ``/proc``.
    """
    children = {}
    for entry in Path("/proc").glob("[0-9]*"):
        stat = _stat(entry.name)
        if stat is not None:
            children.setdefault(stat[1], []).append((int(entry.name), stat[2]))
    found, todo = [], [pid]
    while todo:
        below = children.get(todo.pop(), [])
        found += below
        todo += [child for child, _ in below]
    return found


def _alive(processes):
    alive = []
    for pid, start in processes:
        stat = _stat(pid)
        # a zombie has exited already; another start time is another process
        if stat is not None and stat[0] != "Z" and stat[2] == start:
            alive.append((pid, start))
    return alive


def terminate(processes, timeout=10):
    """SIGTERM the ``processes`` still alive, then SIGKILL those left after ``timeout`` s.

    Parameters
    ----------
    processes : list of tuple of (int, int)
        ``(pid, start time)`` pairs from :func:`process_tree`; those that have
        exited, or whose pid now belongs to another process, are left alone.
    timeout : float
        Seconds to wait after each signal.

    Returns
    -------
    list of int
        The pids still alive at the end: empty unless a process outlived SIGKILL.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, _ in _alive(processes):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while _alive(processes) and time.monotonic() < deadline:
            time.sleep(0.05)
    return [pid for pid, _ in _alive(processes)]
