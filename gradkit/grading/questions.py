"""Auto-checked questions: answers compared by hash, feedback per known wrong answer.

A question (:func:`gradkit.grading.spec.question`) asks for a letter, a number or a
name. Its answer is the solution's answer cell (or, for a question with variants, the
instructor file's ``key(variant)``); its feedback for wrong answers is the instructor
file's ``FEEDBACK[exercise_id]``: a dict ``{wrong answer: why}`` or a function
``(wrong answer, answer, variant) -> why or None``. ``gradkit build`` stores, for each
variant, only hashes (:func:`answer_hash`) of the accepted answers and of the wrong
answers with feedback, each feedback sealed with its own wrong answer (:func:`seal`), so
the check data shows neither the answer nor, by elimination, which options its feedback
is about; ``check()`` hashes the student's answer and looks it up. The grader does the
same from the solutions.

A number is compared on its ``digits`` significant digits: every value that rounds to
one within ``rtol`` of the answer is accepted.
"""

import base64
import hashlib
import math

from gradkit.grading import plain
from gradkit.grading.feedback import TestOutcome

__all__ = ["accepted", "answer_hash", "canonical", "entry", "judge_question"]

_MOST = 4000  # grid points enumerated for a number's accepted set


def canonical(question, value):
    """``(text, problem)``: the canonical form of an answer, or None and what is wrong."""
    kind = question.kind
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            try:
                value = float(value)
            except (TypeError, ValueError):
                return None, f"return a number, not {type(value).__name__}"
        value = float(value)
        if not math.isfinite(value):
            return None, f"return a finite number, not {value}"
        if question.digits == 0:
            if value != round(value):
                return None, f"return a whole number, not {value:g}"
            return str(int(round(value))), ""
        return f"{value:.{question.digits - 1}e}", ""
    if not isinstance(value, str):
        return None, (f"return a string such as {question.options[0]!r}, not "
                      f"{type(value).__name__}")
    text = value.strip()
    if kind == "choice":
        text = text.lower().strip("()")
        if text not in question.options:
            return None, f"answer with one of {', '.join(repr(o) for o in question.options)}"
        return text, ""
    for option in question.options:
        if text.casefold() == option.casefold():
            return option, ""
    return None, "return one of the names the exercise lists, spelled as there"


def accepted(question, answer):
    """The canonical forms accepted for ``answer`` (a set)."""
    text, problem = canonical(question, answer)
    if text is None:
        raise ValueError(f"the answer {answer!r} is not one: {problem}")
    if question.kind != "number" or question.digits == 0 or not question.rtol:
        if question.kind == "number" and question.digits == 0 and question.rtol:
            low = math.floor(answer * (1 - question.rtol))
            high = math.ceil(answer * (1 + question.rtol))
            return {str(k) for k in range(int(min(low, high)), int(max(low, high)) + 1)
                    if abs(k - answer) <= abs(answer) * question.rtol}
        return {text}
    value = float(answer)
    low, high = sorted((value * (1 - question.rtol), value * (1 + question.rtol)))
    smallest = min(abs(low), abs(high)) or abs(value) or 1.0
    step = 10.0 ** (math.floor(math.log10(smallest)) - question.digits + 1)
    first, last = math.ceil(low / step), math.floor(high / step)
    if last - first > _MOST:
        raise ValueError(f"rtol {question.rtol} is too wide for {question.digits} digits")
    found = {text}
    for k in range(first, last + 1):
        found.add(canonical(question, k * step)[0])
    return found


def _keystream(exercise_id, variant, text, n):
    out, counter = b"", 0
    while len(out) < n:
        out += hashlib.sha256(
            f"gradkit-feedback|{exercise_id}|{variant}|{text}|{counter}".encode()).digest()
        counter += 1
    return out[:n]


def seal(exercise_id, variant, text, why):
    """``why`` readable only with the answer ``text`` it explains (base64): the check data
    must not show which options are wrong by what their feedback says."""
    data = why.encode("utf-8")
    key = _keystream(exercise_id, variant, text, len(data))
    return base64.b64encode(bytes(a ^ b for a, b in zip(data, key))).decode("ascii")


def unseal(exercise_id, variant, text, sealed):
    """The feedback :func:`seal` sealed for the answer ``text``."""
    data = base64.b64decode(sealed)
    key = _keystream(exercise_id, variant, text, len(data))
    return bytes(a ^ b for a, b in zip(data, key)).decode("utf-8", errors="replace")


def answer_hash(exercise_id, variant, text):
    """The hash the check data stores for a canonical answer ``text``."""
    data = f"gradkit-answer|{exercise_id}|{variant}|{text}".encode()
    return hashlib.sha256(data).hexdigest()[:24]


def entry(exercise, answer, feedback, variant=0):
    """The check data of one variant: ``{"answer": [hash, ...], "feedback": {hash: why}}``.

    ``feedback`` is the instructor's ``FEEDBACK[exercise.id]`` (a dict or a function, see
    the module docstring), or None.
    """
    q = exercise.question
    right = accepted(q, answer)
    wrong = {}
    if callable(feedback):
        for option in q.options:
            why = feedback(option, answer, variant)
            if why and option not in right:
                wrong[option] = why
    elif feedback:
        wrong = dict(feedback)
    out = {}
    for option, why in wrong.items():
        for text in accepted(q, option):
            if text not in right:
                out.setdefault(answer_hash(exercise.id, variant, text),
                               seal(exercise.id, variant, text, why))
    return {"answer": sorted(answer_hash(exercise.id, variant, t) for t in right),
            "feedback": dict(sorted(out.items()))}


def judge_question(exercise, received, data, variant=0):
    """A :class:`~gradkit.grading.feedback.TestOutcome` for a question's answer.

    ``data`` is :func:`entry` of the student's variant. The expected value is never shown.
    """
    test = exercise.tests[0]
    shown = plain.show(received) if received is not None else "None"
    text, problem = canonical(exercise.question, received)
    if text is None:
        return TestOutcome(test.name, "fail", test.shows, "(not shown)", shown, problem, "")
    key = answer_hash(exercise.id, variant, text)
    if key in data.get("answer", ()):
        return TestOutcome(test.name, "pass", test.shows, "(not shown)", shown)
    why = data.get("feedback", {}).get(key)
    if why is not None:
        why = unseal(exercise.id, variant, text, why)
    return TestOutcome(test.name, "fail", test.shows, "(not shown)", shown,
                       "not the answer", why or exercise.hint)
