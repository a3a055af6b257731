"""``check()``: run an exercise's public tests in the notebook and explain the result.

A check cell is one line::

    check("01.difference_quotient", difference_quotient)

It shows, per public test, pass or fail, the input, the expected and the
received value, and for a failure a hint naming the likely mistake. It never
raises on a wrong answer: a crash in the student's code is reported like a
wrong value. An exercise whose function still raises ``NotImplementedError``
is "not answered yet". Success reads "public checks passed": the grader may
run hidden tests too.
"""

import html
import traceback
from dataclasses import dataclass

from gradkit.grading import plain
from gradkit.grading.spec import get_exercise

__all__ = ["CheckResult", "TestOutcome", "check", "run_test"]

_MARK = {"pass": "✓", "fail": "✗", "unanswered": "·"}


@dataclass(frozen=True)
class TestOutcome:
    """The result of one test: ``status`` is ``"pass"``, ``"fail"`` or ``"unanswered"``."""

    __test__ = False  # not a pytest test class

    name: str
    status: str
    shows: str
    expected: str = ""
    received: str = ""
    why: str = ""
    hint: str = ""


def _short_error(exc):
    line = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return line if len(line) < 200 else line[:197] + "..."


def expected_value(exercise, test):
    """The reference answer of ``test``, through the same plain conversion."""
    return plain.decode(plain.encode(test.run(exercise.reference)))


def judge(exercise, test, received, expected):
    """Compare a decoded received value with the expected one: a :class:`TestOutcome`."""
    ok, why = plain.compare(received, expected, rtol=test.rtol, atol=test.atol)
    if ok:
        return TestOutcome(test.name, "pass", test.shows, plain.show(expected),
                           plain.show(received))
    return TestOutcome(
        test.name, "fail", test.shows, plain.show(expected), plain.show(received), why,
        exercise.hint_for(test.make_args(), received),
    )


def run_test(exercise, test, fn):
    """Run ``test`` on ``fn`` in this process and return a :class:`TestOutcome`."""
    try:
        expected = expected_value(exercise, test)
    except Exception as exc:  # a broken spec must say so, not blame the student
        return TestOutcome(test.name, "fail", test.shows, why=f"the test itself failed: {exc}")
    try:
        raw = test.run(fn)
    except NotImplementedError:
        return TestOutcome(test.name, "unanswered", test.shows, plain.show(expected))
    except Exception as exc:
        return TestOutcome(
            test.name, "fail", test.shows, plain.show(expected), "",
            f"your code raised {_short_error(exc)}", exercise.hint,
        )
    try:
        received = plain.decode(plain.encode(raw))
    except plain.NotPlainError as exc:
        return TestOutcome(test.name, "fail", test.shows, plain.show(expected), "",
                           f"your code {exc}")
    return judge(exercise, test, received, expected)


@dataclass(frozen=True)
class CheckResult:
    """What ``check()`` returns: a text ``repr`` and an HTML table for notebooks.

    Attributes
    ----------
    exercise_id : str
    status : str
        ``"passed"`` (public checks passed), ``"failed"``, ``"unanswered"``
        or ``"error"`` (the check could not run, e.g. an unknown id).
    outcomes : tuple of TestOutcome
    message : str
        The one-line summary.
    """

    exercise_id: str
    status: str
    outcomes: tuple
    message: str

    @property
    def passed(self):
        """True when every public test passed."""
        return self.status == "passed"

    def __repr__(self):
        lines = [f"{self.exercise_id}: {self.message}"]
        if self.status in ("unanswered", "error"):
            return "\n".join(lines)
        for o in self.outcomes:
            lines.append(f"  {_MARK[o.status]} {o.name}")
            if o.status == "fail":
                lines.append(f"      input: {o.shows}")
                if o.why:
                    lines.append(f"      {o.why}")
                if o.hint:
                    lines.append(f"      hint: {o.hint}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        e = html.escape
        color = {"passed": "#1a7f37", "failed": "#cf222e"}.get(self.status, "#6e7781")
        head = f'<p style="color:{color}"><b>{e(self.exercise_id)}</b>: {e(self.message)}</p>'
        if self.status in ("unanswered", "error"):
            return head
        rows = []
        for o in self.outcomes:
            detail = e(o.why) + (f"<br><i>hint:</i> {e(o.hint)}" if o.hint else "")
            rows.append(
                f"<tr><td>{_MARK[o.status]}</td><td>{e(o.shows)}</td><td><code>{e(o.expected)}"
                f"</code></td><td><code>{e(o.received)}</code></td>"
                f'<td style="text-align:left">{detail}</td></tr>'
            )
        return (
            head + '<table style="font-size:90%"><tr><th></th><th>input</th><th>expected</th>'
            "<th>received</th><th>note</th></tr>" + "".join(rows) + "</table>"
        )


def check(exercise_id, answer):
    """Run the public tests of ``exercise_id`` on ``answer`` and show the result.

    Parameters
    ----------
    exercise_id : str
        E.g. ``"01.difference_quotient"``.
    answer : callable or object
        The student's function (or value, for exercises that ask for one).

    Returns
    -------
    CheckResult
        Rendered as an HTML table in JupyterLab, as text elsewhere. Never
        raises on a wrong or missing answer.

    Examples
    --------
    >>> def difference_quotient(f, x, h):
    ...     raise NotImplementedError
    >>> check("01.difference_quotient", difference_quotient).status
    'unanswered'
    """
    try:
        exercise = get_exercise(exercise_id)
    except ValueError as exc:
        return CheckResult(str(exercise_id), "error", (), f"cannot check: {exc}")
    outcomes = tuple(run_test(exercise, test, answer) for test in exercise.tests)
    if any(o.status == "unanswered" for o in outcomes):
        return CheckResult(
            exercise.id, "unanswered", outcomes,
            "not answered yet: replace `raise NotImplementedError` with your code, then run "
            "the exercise cell and this cell again.",
        )
    failed = sum(o.status == "fail" for o in outcomes)
    n = len(outcomes)
    if failed == 0:
        message = f"public checks passed ({n}/{n}). Grading may run more tests."
        return CheckResult(exercise.id, "passed", outcomes, message)
    message = f"{failed} of {n} public checks failed; see the hints below."
    return CheckResult(exercise.id, "failed", outcomes, message)
