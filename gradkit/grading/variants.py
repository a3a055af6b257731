"""Variants per student: the same student id gives the same variant everywhere.

A lesson's second code cell is ``STUDENT_ID = ""``. Exercises whose answer is a finding
(which bug is hidden, which step is best) draw their data from
``variant(STUDENT_ID, key, n)``: ``""`` (a reader on their own) gives variant 0, the one
the solutions and the text show; any other id gives one of ``1 .. n - 1``, the same in
the student's kernel, in ``check()`` and in the grader, which takes the id from the
submission (on Gradescope, from the submission's metadata) and flags a notebook whose
``STUDENT_ID`` says otherwise.

Examples
--------
>>> variant("", "04.bug_hunt", 42)
0
>>> variant("s2024017", "04.bug_hunt", 42) == variant(" S2024017 ", "04.bug_hunt", 42)
True
>>> 1 <= variant("s2024017", "04.bug_hunt", 42) < 42
True
"""

import contextvars
import hashlib
import re
import sys
from contextlib import contextmanager

__all__ = ["current_student", "normalize_id", "student_of_caller", "use_student", "variant",
           "variant_of"]

_STUDENT = contextvars.ContextVar("gradkit_student", default=None)
_ID = re.compile(r"^[\w.@+\-]{0,80}$")


def normalize_id(student_id):
    """The canonical form of a student id: stripped, case-folded.

    Raises
    ------
    TypeError
        If ``student_id`` is not a string.
    ValueError
        If it is longer than 80 characters or holds anything but letters, digits and
        ``. @ + - _`` (an email or a student number).
    """
    if student_id is None:
        return ""
    if not isinstance(student_id, str):
        raise TypeError(f"STUDENT_ID must be a string such as \"s2024017\", got "
                        f"{type(student_id).__name__}: put it in quotes")
    text = student_id.strip().casefold()
    if not _ID.match(text):
        raise ValueError(f"STUDENT_ID {student_id[:40]!r} is not an id: use your student "
                         "number or email as your course gives it (letters, digits, . @ + - _)")
    return text


def variant(student_id, key, n):
    """The variant, in ``range(n)``, of exercise ``key`` for ``student_id``.

    ``""`` gives 0 (the variant the solutions show); any other id gives one of
    ``1 .. n - 1``, from a hash of the id and ``key`` (so two exercises of one student
    are drawn independently).
    """
    if n < 2:
        return 0
    text = normalize_id(student_id)
    if not text:
        return 0
    digest = hashlib.sha256(f"gradkit-variant|{key}|{text}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (n - 1)


def current_student():
    """The student id being checked or graded in this context, or None if none is set."""
    return _STUDENT.get()


@contextmanager
def use_student(student_id):
    """Within the block, :func:`current_student` is ``student_id`` (normalized)."""
    token = _STUDENT.set(normalize_id(student_id))
    try:
        yield
    finally:
        _STUDENT.reset(token)


def student_of_caller(depth=2):
    """``STUDENT_ID`` of the notebook calling (the globals ``depth`` frames up), else ""."""
    try:
        frame = sys._getframe(depth)
    except ValueError:
        return ""
    while frame is not None:
        if "STUDENT_ID" in frame.f_globals:
            value = frame.f_globals["STUDENT_ID"]
            return value if isinstance(value, str) else ""
        frame = frame.f_back
    return ""


def variant_of(key, n):
    """:func:`variant` of exercise ``key`` for :func:`current_student` ("" when unset)."""
    return variant(current_student() or "", key, n)
