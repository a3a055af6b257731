"""Checks in the notebook, exercise specs, and the autograder.

In a lesson::

    from gradkit.grading import check
    check("01.difference_quotient", difference_quotient)

For instructors: ``gradkit build`` (lessons from solutions), ``gradkit grade``
(grade submissions) and ``gradkit autograder`` (a Gradescope bundle). Each
lesson's exercises live in ``gradkit/grading/lessonNN.py`` (see
:mod:`gradkit.grading.spec` for the format).
"""

from gradkit.grading.feedback import CheckResult, check
from gradkit.grading.spec import Exercise, Mistake, Test, exercises_for_lesson, get_exercise

__all__ = [
    "CheckResult",
    "Exercise",
    "Mistake",
    "Test",
    "check",
    "exercises_for_lesson",
    "get_exercise",
]
