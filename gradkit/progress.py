"""A progress line for long operations that leaves no trace in the notebook.

Training (``optim.train``) and full-mode gradient checks on big nets can take
seconds. In Jupyter they show one line of progress once they pass ``after``
seconds, updated at most every ``every`` seconds.

The notebook tests (like nbval) compare ``display_data`` and ``stream`` outputs; they ignore
``update_display_data`` messages, and a saved notebook keeps a display in its
last state. So the display is created with an empty bundle, only ever
updated while the operation runs, and updated back to empty at the end:
nothing stays in the notebook and nothing differs between runs.

Outside a Jupyter kernel (scripts, tests, the grader) nothing is shown and
IPython is never imported.
"""

import sys
import time

__all__ = ["Progress", "in_kernel"]


def in_kernel():
    """True inside a Jupyter kernel. Looks only at an IPython already imported."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class Progress:
    """Show ``text`` while an operation runs, from ``after`` seconds on.

    Parameters
    ----------
    enabled : {"auto", True, False}
        ``"auto"``: in Jupyter, once the operation passes ``after`` seconds;
        ``True``: in Jupyter, from the start; ``False``: never.
    after, every : float
        Seconds before the first update, and at least between two updates.
    display : callable, optional
        ``IPython.display.display`` by default (a stand-in for tests).
    clock : callable, optional
        ``time.perf_counter`` by default.

    Use it as a context manager (it clears itself on exit, also on errors)
    and call :meth:`update` often: it is cheap when nothing is due.
    """

    def __init__(self, enabled="auto", *, after=2.0, every=0.5, display=None, clock=None):
        if enabled not in ("auto", True, False):
            raise ValueError(f"progress must be 'auto', True or False, got {enabled!r}")
        self.enabled = bool(enabled) and (display is not None or in_kernel())
        self.after = 0.0 if enabled is True else float(after)
        self.every = float(every)
        self._display = display
        self._clock = clock or time.perf_counter
        self._start = self._clock()
        self._next = self.after
        self._handle = None

    def elapsed(self):
        """Seconds since the operation started."""
        return self._clock() - self._start

    def due(self, elapsed=None):
        """True when an update would be shown now (so the caller may build its text).

        ``elapsed`` : seconds by the caller's own clock, if it keeps one.
        """
        if not self.enabled:
            return False
        return (self.elapsed() if elapsed is None else elapsed) >= self._next

    def update(self, text, elapsed=None):
        """Show ``text`` (with the elapsed time) if an update is due."""
        if not self.due(elapsed):
            return
        elapsed = self.elapsed() if elapsed is None else elapsed
        self._next = elapsed + self.every
        if self._handle is None:
            if self._display is None:
                from IPython.display import display

                self._display = display
            self._handle = self._display({}, raw=True, display_id=True)
        self._handle.update({"text/plain": f"{text}, {elapsed:.1f} s"}, raw=True)

    def counter(self, label, unit, total=None):
        """A callback ``f(count)`` that shows "label: count [of about total] unit"; None if off."""
        if not self.enabled:
            return None
        of = f" of about {total:,}" if total else ""

        def show(count):
            if self.due():
                self.update(f"{label}: {count:,}{of} {unit}")

        return show

    def close(self):
        """Empty the display again."""
        if self._handle is not None:
            self._handle.update({}, raw=True)
            self._handle = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
