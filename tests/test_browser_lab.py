"""Lesson 01 in a real JupyterLab, driven by a real browser.

A JupyterLab server runs on 127.0.0.1 (a free port, a random token) over a
temporary directory holding copies of lesson 01 and of its solution, outputs
cleared, so everything read here was computed in this run and the repository
is not touched. Headless Chromium opens each notebook, runs all cells from the
Run menu and reads what a student sees:

- the kernel is this virtualenv's Python;
- the lesson's check cells say "not answered yet" and never "passed";
- the solution's check cells say "public checks passed", every test ticked;
- the secant slider renders with its plot; moved with the keyboard, the plot
  is redrawn, and left alone, it is not.

Jupyter's config, data, runtime, settings and workspaces directories point
into the temporary directory, and no other ``JUPYTERLAB_*`` variable is passed
on, so a developer's own settings cannot change what is tested; the ipywidgets
front end (``jupyterlab_widgets``) still loads from
``<venv>/share/jupyter/labextensions``, which is on the data path through
``sys.prefix``. On failure the message names a screenshot of the page.
"""

import hashlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from _browser import process_tree, screenshot, terminate

from gradkit.grading import exercises_for_lesson

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "01_derivative.ipynb"
EXERCISE_IDS = [e.id for e in exercises_for_lesson("01")]

# Appended to the lesson's copy: which Python the kernel runs.
PROBE = "import sys\nprint(sys.prefix)"

# User settings of the isolated JupyterLab: the notebook's kernel starts without
# a "Select Kernel" dialog, every cell stays in the DOM (no windowing, so
# off-screen outputs can be read), and no news or update toasts.
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"autoStartDefaultKernel": True,
                                               "windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                     "checkForUpdates": False},
}

SERVER_START_S = 60
RUN_ALL_MS = 120_000
WIDGET_MS = 60_000
# How long a redraw that nothing asked for is given to show up: the kernel's
# round trip for a redraw takes well under this.
SETTLE_MS = 1_000


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where it serves, its token, its files and screenshots."""

    url: str
    token: str
    root: Path
    shots: Path

    def notebook_url(self, relpath):
        # ?reset: start from an empty workspace, whatever a previous page left
        return f"{self.url}lab/tree/{relpath}?reset&token={self.token}"

    def api(self, path, method="GET"):
        request = urllib.request.Request(
            f"{self.url}api/{path}", method=method, data=b"" if method == "POST" else None,
            headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.read()


def _copy_notebook(source, dest, probe=None):
    """Copy a notebook with its outputs cleared, optionally with a last cell ``probe``."""
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    if probe:
        nb.cells.append(nbformat.v4.new_code_cell(probe))
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def _write_user_settings(config_dir):
    """Write :data:`USER_SETTINGS` under ``config_dir``; return the settings directory."""
    directory = config_dir / "lab" / "user-settings"
    for plugin, settings in USER_SETTINGS.items():
        path = directory / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(settings))
    return directory


def _log_tail(log):
    return log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"


def _stop(proc, lab):
    """Shut the server down through its API (kernels included), else kill it and its kernels.

    jupyter_client starts each kernel in a session of its own, which killing the
    server's process group does not reach, and once the server is gone nothing
    links a kernel to it: its processes are listed first, while it still runs.
    """
    below = process_tree(proc.pid)
    if lab is not None and proc.poll() is None:
        try:
            lab.api("shutdown", method="POST")
            proc.wait(timeout=20)
        except Exception:  # an unresponsive server is killed below
            pass
    if proc.poll() is None:
        below = sorted({*below, *process_tree(proc.pid)})  # and any started since
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # whatever outlived the server, its API shutdown included
    terminate(below)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    base = tmp_path_factory.mktemp("lab")
    root, runtime, log = base / "root", base / "runtime", base / "server.log"
    _copy_notebook(ROOT / "lessons" / NOTEBOOK, root / "lessons" / NOTEBOOK, probe=PROBE)
    _copy_notebook(ROOT / "solutions" / NOTEBOOK, root / "solutions" / NOTEBOOK)
    settings = _write_user_settings(base / "config")

    env = {k: v for k, v in os.environ.items()
           if k not in ("MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH")
           and not k.startswith("JUPYTERLAB_")}
    env.update(JUPYTER_CONFIG_DIR=str(base / "config"), JUPYTER_DATA_DIR=str(base / "data"),
               JUPYTER_RUNTIME_DIR=str(runtime), IPYTHONDIR=str(base / "ipython"),
               JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"))
    token = secrets.token_hex(16)
    # sys.executable runs the server, and the kernel spec's "python" becomes the
    # server's own interpreter: the kernel is this virtualenv's Python.
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
           "--ServerApp.port=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    shots = tmp_path_factory.mktemp("screenshots")
    running = None
    try:
        # port 0: the server picks a free port and writes it to jpserver-<pid>.json
        info_file = runtime / f"jpserver-{proc.pid}.json"
        deadline = time.monotonic() + SERVER_START_S
        while running is None:
            if proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {proc.returncode}:\n{_log_tail(log)}",
                            pytrace=False)
            if time.monotonic() > deadline:
                pytest.fail(f"JupyterLab did not answer within {SERVER_START_S} s:\n"
                            f"{_log_tail(log)}", pytrace=False)
            try:
                port = json.loads(info_file.read_text())["port"]
                candidate = Lab(f"http://127.0.0.1:{port}/", token, root, shots)
                json.loads(candidate.api("status"))
                running = candidate
            except (OSError, ValueError, KeyError):  # not written or not listening yet
                time.sleep(0.1)
        yield running
    finally:
        _stop(proc, running)


def _fail(page, lab, name, message):
    pytest.fail(f"{message}\n{screenshot(page, lab.shots, name)}\n{_error_outputs(page)}",
                pytrace=False)


def _wait(page, lab, name, expression, what, arg=None, timeout=WIDGET_MS):
    """Wait until ``expression`` holds in the page, or fail with a screenshot."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(expression, arg=arg, timeout=timeout)
    except PlaywrightTimeout:
        _fail(page, lab, name, f"timed out after {timeout / 1000:.0f} s waiting for {what}")


def _error_outputs(page):
    texts = page.evaluate("""() => Array.from(document.querySelectorAll(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
        .map(e => e.textContent.slice(0, 500))""")
    return "stderr/error outputs in the page:\n" + "\n".join(texts) if texts else ""


# The open notebook's kernel, as JupyterLab sees it (window.jupyterapp exists
# through --LabApp.expose_app_in_browser). The toolbar's indicator reads "idle"
# before any kernel is connected, so it cannot tell when a notebook is ready.
_KERNEL_JS = """const kernel = () => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return session && session.kernel;
};
"""

_KERNEL_IDLE = _KERNEL_JS + """() => {
    const k = kernel();
    return !!k && k.connectionStatus === 'connected' && k.status === 'idle';
}"""

# Every code cell has run ("[n]:", none queued "[*]:" or never run "[ ]:") and
# the kernel is idle again.
_ALL_CELLS_RAN = _KERNEL_JS + """() => {
    const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
        .map(e => e.textContent.trim());
    const k = kernel();
    return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p))
        && !!k && k.status === 'idle';
}"""


def open_and_run_all(browser, lab, relpath):
    """Open a notebook in a fresh browser context, run all its cells, return the page."""
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30_000)
    name = relpath.replace("/", "-").removesuffix(".ipynb")
    page.goto(lab.notebook_url(relpath))
    _wait(page, lab, f"{name}-kernel", _KERNEL_IDLE, f"{relpath} to open with an idle kernel")
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    _wait(page, lab, f"{name}-run-all", _ALL_CELLS_RAN, f"every cell of {relpath} to run",
          timeout=RUN_ALL_MS)
    return page


@dataclass(frozen=True)
class Feedback:
    """One check cell's output as rendered: ``marks`` are the table's ✓/✗/· column."""

    source: str
    exercise_id: str
    message: str
    marks: tuple


def read_check_feedback(page):
    """The rendered output of every ``check(...)`` cell, in notebook order."""
    rows = page.evaluate("""() => Array.from(document.querySelectorAll('.jp-CodeCell'))
        .map(cell => [cell, cell.querySelector('.jp-InputArea .cm-content')])
        .filter(([cell, src]) => src && src.textContent.trim().startsWith('check('))
        .map(([cell, src]) => {
            const out = cell.querySelector('.jp-OutputArea-output[data-mime-type="text/html"]');
            const head = out && out.querySelector('p');
            const id = head && head.querySelector('b');
            const area = cell.querySelector('.jp-OutputArea');
            return {
                source: src.textContent.trim(),
                exercise_id: id ? id.textContent : '',
                message: head ? head.textContent : (area ? area.textContent : ''),
                marks: out ? Array.from(out.querySelectorAll('tr')).slice(1)
                    .map(r => r.cells[0].textContent.trim()) : [],
            };
        })""")
    return [Feedback(r["source"], r["exercise_id"], r["message"], tuple(r["marks"]))
            for r in rows]


@dataclass(frozen=True)
class WidgetState:
    """The secant slider's readout and a digest of the plot its output shows."""

    readout: str
    image: str


def read_slider(page):
    """Read the slider of the ``secant_slider(...)`` cell; None when it has not rendered."""
    state = page.evaluate(_SLIDER_JS + "() => { const s = slider(); return s && {"
                          "readout: s.readout.textContent.trim(),"
                          "src: s.img ? s.img.src : ''}; }")
    if state is None:
        return None
    digest = hashlib.sha256(state["src"].encode()).hexdigest()[:16] if state["src"] else ""
    return WidgetState(state["readout"], digest)


def redrawn(before, after):
    """True when the slider's output shows another plot than in ``before``."""
    return bool(after.image) and after.image != before.image


# The widget parts inside the output of the cell that calls secant_slider(...).
_SLIDER_JS = """const slider = () => {
    const cell = Array.from(document.querySelectorAll('.jp-CodeCell')).find(c => {
        const src = c.querySelector('.jp-InputArea .cm-content');
        return src && src.textContent.trim().startsWith('secant_slider(');
    });
    const box = cell && cell.querySelector('.jp-OutputArea-output .jupyter-widgets.widget-vbox');
    const readout = box && box.querySelector('.widget-slider .widget-readout');
    if (!readout) return null;
    return {readout, handle: box.querySelector('.widget-slider .noUi-handle'),
            img: box.querySelector('.widget-output img')};
};
"""


def _settle(page, lab, name):
    """Wait for the kernel to be idle, :data:`SETTLE_MS` more, and for it to be idle again.

    For a test that asserts nothing happens: a bounded wait is the only way to
    give an unwanted kernel round trip (a redraw) the time to show.
    """
    _wait(page, lab, name, _KERNEL_IDLE, "the kernel to be idle")
    page.wait_for_timeout(SETTLE_MS)
    _wait(page, lab, name, _KERNEL_IDLE, "the kernel to be idle again")


# Records every change below the slider's output area from now on: an image
# replaced, an attribute or a text changed. A redraw of the very same plot
# changes no image digest but replaces the <img>, so it is recorded here.
_WATCH_OUTPUT = _SLIDER_JS + """() => {
    if (window.gkOutputObserver) window.gkOutputObserver.disconnect();
    const seen = window.gkOutputChanges = [];
    const describe = r => r.type + ' on ' + r.target.nodeName
        + (r.attributeName ? ' ' + r.attributeName : '')
        + (r.addedNodes.length ? ' +' + r.addedNodes.length : '')
        + (r.removedNodes.length ? ' -' + r.removedNodes.length : '');
    const observer = window.gkOutputObserver = new MutationObserver(
        records => seen.push(...records.map(describe)));
    observer.gkDescribe = describe;
    observer.observe(slider().img.closest('.widget-output'),
        {subtree: true, childList: true, attributes: true, characterData: true});
}"""

# The changes recorded since _WATCH_OUTPUT, after two frames so that a change
# the kernel's last message caused has been rendered.
_OUTPUT_CHANGES = """async () => {
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const observer = window.gkOutputObserver;
    const seen = window.gkOutputChanges;
    seen.push(...observer.takeRecords().map(observer.gkDescribe));
    observer.disconnect();
    return seen;
}"""


@pytest.fixture(scope="module")
def lesson_page(browser, lab):
    page = open_and_run_all(browser, lab, f"lessons/{NOTEBOOK}")
    _wait(page, lab, "lesson-widget", _SLIDER_JS + "() => { const s = slider(); "
          "return !!(s && s.handle && s.img && s.img.src); }",
          "the secant slider to render with its plot")
    yield page
    page.context.close()


def test_kernel_runs_this_virtualenvs_python(lab, lesson_page):
    printed = lesson_page.evaluate("""() => {
        const cells = document.querySelectorAll('.jp-CodeCell');
        return cells[cells.length - 1].querySelector('.jp-OutputArea').textContent.trim(); }""")
    assert Path(printed).resolve() == Path(sys.prefix).resolve(), (
        f"the kernel's sys.prefix is {printed!r}, expected this virtualenv {sys.prefix!r}; "
        + screenshot(lesson_page, lab.shots, "kernel-prefix"))


def test_unanswered_lesson_checks_say_not_answered_yet(lab, lesson_page):
    feedback = read_check_feedback(lesson_page)
    assert [f.exercise_id for f in feedback] == EXERCISE_IDS, (
        feedback, screenshot(lesson_page, lab.shots, "lesson-check-ids"))
    for f in feedback:
        assert "not answered yet" in f.message, (
            f, screenshot(lesson_page, lab.shots, "lesson-checks"))
        # the negative: an unanswered exercise never reads as passed
        assert "passed" not in f.message and "✓" not in f.marks, (
            f, screenshot(lesson_page, lab.shots, "lesson-checks"))


def test_solution_checks_say_public_checks_passed(browser, lab):
    page = open_and_run_all(browser, lab, f"solutions/{NOTEBOOK}")
    try:
        feedback = read_check_feedback(page)
        assert [f.exercise_id for f in feedback] == EXERCISE_IDS, (
            feedback, screenshot(page, lab.shots, "solution-check-ids"))
        for f in feedback:
            n = len(f.marks)
            assert n > 0 and set(f.marks) == {"✓"}, (
                f, screenshot(page, lab.shots, "solution-checks"))
            assert f"public checks passed ({n}/{n})" in f.message, (
                f, screenshot(page, lab.shots, "solution-checks"))
    finally:
        page.context.close()


def test_slider_output_is_unchanged_when_nothing_moves(lab, lesson_page):
    # whichever test ran before on this page, start from what it shows once settled
    _settle(lesson_page, lab, "slider-idle-start")
    before = read_slider(lesson_page)
    assert before is not None and before.image, (
        "the secant slider has no plot; " + screenshot(lesson_page, lab.shots, "slider-idle"))
    lesson_page.evaluate(_WATCH_OUTPUT)
    lesson_page.locator(".widget-slider .noUi-handle").focus()
    # a wrong redraw comes back from the kernel later, so give it the time to
    _settle(lesson_page, lab, "slider-idle-settle")
    changes = lesson_page.evaluate(_OUTPUT_CHANGES)
    after = read_slider(lesson_page)
    assert changes == [] and after == before, (
        f"focusing the slider's handle changed its output: {changes[:5]}, "
        f"{before} -> {after}; " + screenshot(lesson_page, lab.shots, "slider-idle"))


def test_secant_slider_redraws_its_plot_when_moved(lab, lesson_page):
    _settle(lesson_page, lab, "slider-moved-start")
    before = read_slider(lesson_page)
    src = lesson_page.evaluate(_SLIDER_JS + "() => slider().img.src")
    lesson_page.locator(".widget-slider .noUi-handle").press("ArrowRight")
    _wait(lesson_page, lab, "slider-moved",
          _SLIDER_JS + "(old) => { const s = slider(); return !!(s && s.img && s.img.src"
          " && s.img.src !== old); }",
          f"the plot to be redrawn after moving h from {before.readout}", arg=src)
    after = read_slider(lesson_page)
    assert redrawn(before, after), (
        before, after, screenshot(lesson_page, lab.shots, "slider-moved"))
    assert float(after.readout) > float(before.readout), (
        f"ArrowRight should increase h: readout {before.readout} -> {after.readout}; "
        + screenshot(lesson_page, lab.shots, "slider-moved"))
