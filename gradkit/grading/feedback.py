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

from gradkit.grading import checkdata, plain
from gradkit.grading.spec import get_exercise

__all__ = ["CheckResult", "TestOutcome", "check", "check_exercise", "run_test"]

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
    # the first line is "Type: message"; notes that libraries add (JAX's) come after it
    line = traceback.format_exception_only(type(exc), exc)[0].strip()
    return line if len(line) < 200 else line[:197] + "..."


def public_values(exercise, test):
    """``(expected, wrong, returns)`` of a public test, as ``check()`` sees them: from the
    check data that ``gradkit build`` stored (:mod:`gradkit.grading.checkdata`), or, for an
    exercise that carries its own ``reference`` (and no check data), computed from it.

    Raises
    ------
    LookupError
        If neither is there: the check data is missing (run ``gradkit build``).
    """
    found = checkdata.entry(exercise, test)
    if found is not None:
        return found
    if exercise.reference is not None:
        args = test.make_args()
        raw = test.run_with(exercise.reference, args)
        return test.after(test.make_args(), plain.decode(plain.encode(raw))), {}, ()
    raise LookupError(f"no check data for {exercise.id}, test {test.name!r}: "
                      "run `gradkit build` in the course directory")


def expected_value(exercise, test):
    """The expected value of public ``test`` (see :func:`public_values`)."""
    return public_values(exercise, test)[0]


def judge(exercise, test, received, expected, wrong=None, returns=()):
    """Compare a decoded received value with the expected one: a :class:`TestOutcome`.

    ``wrong`` holds the values of the exercise's ``wrong=`` mistakes on this
    test, ``returns`` the names of the reference's returned values. The note
    names each value that differs and its worst entry. The hint is the
    matching mistake's; the exercise's general hint is given only when the
    numbers are wrong, not when the kind of value is (a dict for a tuple): then
    the note says what to return, and a hint about the maths would mislead.
    """
    found = plain.mismatch(received, expected, rtol=test.rtol, atol=test.atol,
                           names=exercise.names_for(test, returns))
    if found is None:
        return TestOutcome(test.name, "pass", test.shows, plain.show(expected),
                           plain.show(received))
    hint = exercise.mistake_for(test.make_args(), received, expected, wrong,
                                test.rtol, test.atol)
    if hint is None and not found.structural:
        hint = exercise.hint
    shown = plain.show(received)
    if shown == plain.show(expected):  # the summaries agree (same shapes): the note says where
        shown = "differs: see the note"
    return TestOutcome(
        test.name, "fail", test.shows, plain.show(expected), shown, found.text, hint or "",
    )


def run_test(exercise, test, fn):
    """Run ``test`` on ``fn`` in this process and return a :class:`TestOutcome` (for a
    question, judged from the stored hashes of the current student's variant)."""
    if exercise.question is not None:
        return _question_outcome(exercise, fn)
    try:
        expected, wrong, returns = public_values(exercise, test)
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
    try:
        received = test.after(test.make_args(), received)
    except Exception as exc:
        return TestOutcome(test.name, "fail", test.shows, plain.show(expected), "",
                           f"what your code returned could not be checked ({_short_error(exc)})")
    return judge(exercise, test, received, expected, wrong, returns)


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

    @property
    def hint(self):
        """The one hint of this check: the one most failed tests point to (first on ties)."""
        hints = [o.hint for o in self.outcomes if o.status == "fail" and o.hint]
        if not hints:
            return ""
        return max(hints, key=lambda h: (hints.count(h), -hints.index(h)))

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
        if self.hint:
            lines.append(f"  hint: {self.hint}")
        return "\n".join(lines)

    __str__ = __repr__

    def _repr_html_(self):
        color = {"passed": "#1a7f37", "failed": "#cf222e"}.get(self.status, "#6e7781")
        head = (f'<p style="color:{color}"><b>{html.escape(self.exercise_id)}</b>: '
                f"{_inline(self.message)}</p>")
        if self.status in ("unanswered", "error"):
            return head
        rows = []
        for o in self.outcomes:
            rows.append(
                f"<tr><td>{_MARK[o.status]}</td><td>{html.escape(o.shows)}</td>"
                f"<td><code>{html.escape(o.expected)}</code></td>"
                f"<td><code>{html.escape(o.received)}</code></td>"
                f'<td style="text-align:left">{html.escape(o.why)}</td></tr>'
            )
        hint = f"<p><i>Hint:</i> {_inline(self.hint)}</p>" if self.hint else ""
        return (
            head + '<table style="font-size:90%"><tr><th></th><th>input</th><th>expected</th>'
            "<th>received</th><th>note</th></tr>" + "".join(rows) + "</table>" + hint
        )


def _inline(text):
    """Escape ``text`` for HTML, showing `code` spans as code, not as backticks."""
    parts = html.escape(text).split("`")
    if len(parts) % 2 == 0:  # an odd number of backticks: show them as they are
        return html.escape(text)
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


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
    from gradkit.grading.variants import student_of_caller

    try:
        exercise = get_exercise(exercise_id)
    except ValueError as exc:
        return CheckResult(str(exercise_id), "error", (), f"cannot check: {exc}")
    return check_exercise(exercise, answer, student_of_caller(2))


def _question_outcome(exercise, answer):
    """Run a question's answer in this process and judge it from the stored hashes."""
    from gradkit.grading import questions
    from gradkit.grading.variants import variant_of

    test = exercise.tests[0]
    v = variant_of(exercise.id, exercise.question.variants) if exercise.question.variants else 0
    data = checkdata.question_data(exercise, v)
    if data is None:
        return TestOutcome(test.name, "fail", test.shows,
                           why=f"the test itself failed: no check data for {exercise.id}: "
                               "run `gradkit build` in the course directory")
    try:
        raw = test.run(answer)
    except NotImplementedError:
        return TestOutcome(test.name, "unanswered", test.shows, "(not shown)")
    except Exception as exc:
        return TestOutcome(test.name, "fail", test.shows, "(not shown)", "",
                           f"your code raised {_short_error(exc)}", "")
    try:
        received = plain.decode(plain.encode(raw))
    except plain.NotPlainError as exc:
        return TestOutcome(test.name, "fail", test.shows, "(not shown)", "", f"your code {exc}")
    return questions.judge_question(exercise, received, data, v)


def check_exercise(exercise, answer, student_id=""):
    """:func:`check` for an :class:`~gradkit.grading.spec.Exercise` object, for the student
    ``student_id`` (their variant; "" gives the default one)."""
    from gradkit.grading.variants import normalize_id, use_student

    try:
        normalize_id(student_id)
    except (TypeError, ValueError) as exc:  # a malformed STUDENT_ID: say how to write it
        return CheckResult(exercise.id, "error", (), f"cannot check: {exc}")
    with use_student(student_id):
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
    hinted = any(o.hint for o in outcomes if o.status == "fail")
    message = f"{failed} of {n} public checks failed; see the " + (
        "notes and the hint below." if hinted else "notes below.")
    return CheckResult(exercise.id, "failed", outcomes, message)
