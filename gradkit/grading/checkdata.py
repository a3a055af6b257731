"""Public check data: what ``check()`` compares with, computed at build time.

For every public test of a lesson, ``gradkit build`` stores the reference's
value, the values of the exercise's ``wrong=`` mistakes, and the names in the
reference's ``return`` line, in ``gradkit/grading/checkdata/lessonNN.json``.
``check()`` in a student's kernel reads only this file and the public spec
module: no reference answer is installed, in either edition. The grader does
not read it: it computes the same values from the solutions, for public and
hidden tests alike.

The file holds plain data (:mod:`gradkit.grading.plain`), one JSON object::

    {"lesson": "01", "exercises": {"01.difference_quotient": {
        "returns": [...], "tests": {"x**2 at x = 3, h = 0.1": {
            "expected": ..., "wrong": {"name": ...}}}}}}
"""

import json
import threading
from pathlib import Path

from gradkit.grading import plain

__all__ = ["compute", "data_path", "load", "question_data", "stale", "write"]

_DIR = Path(__file__).resolve().parent / "checkdata"
_lock = threading.Lock()
_cache = {}


def data_path(lesson, directory=None):
    """Where lesson ``lesson``'s check data lives (``"01"``)."""
    return Path(directory or _DIR) / f"lesson{lesson}.json"


def compute(lesson, instructor):
    """The check data of lesson ``lesson`` as a dict, from ``instructor``
    (a :class:`~gradkit.grading.references.Instructor`)."""
    from gradkit.grading.notebook import is_answer_cell, read_notebook
    from gradkit.grading.spec import exercises_for_lesson, returned_names_in

    nb = read_notebook(instructor._notebook(lesson))
    sources = [c.source for c in nb.cells if is_answer_cell(c)]
    exercises = {}
    for exercise in exercises_for_lesson(lesson):
        if exercise.question is not None:
            exercises[exercise.id] = {"returns": [], "tests": {}, "question": {
                str(v): instructor.question_entry(exercise, v)
                for v in range(max(1, exercise.question.variants))}}
            continue
        returns = next((list(returned_names_in(s, exercise.function)) for s in sources
                        if returned_names_in(s, exercise.function)), [])
        tests = {}
        for test in exercise.tests:
            expected = instructor.expected(exercise, test)
            wrong = {k: v for k, v in instructor.wrong_values(exercise, test).items()
                     if _kind(v) == _kind(expected)}
            tests[test.name] = {"expected": plain.encode(expected),
                                "wrong": {k: plain.encode(v) for k, v in wrong.items()}}
        exercises[exercise.id] = {"returns": returns, "tests": tests}
    return {"lesson": lesson, "exercises": exercises}


def _kind(value):
    """What kind of value a test compares: text, a mapping, nothing, or numbers. A mistake's
    value of another kind than the expected one can match no student (a mistake written for
    the function's own result, on a test that compares what a call did to its inputs, say):
    it is left out of the check data, where its round-off-level numbers would only make the
    data look stale on another CPU."""
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "mapping"
    return "nothing" if value is None else "numbers"


def write(lesson, instructor, directory=None):
    """Compute and write lesson ``lesson``'s check data; return ``(path, changed)``."""
    path = data_path(lesson, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(compute(lesson, instructor), indent=1, sort_keys=True,
                      allow_nan=True) + "\n"
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    if changed:
        path.write_text(text, encoding="utf-8")
    with _lock:
        _cache.pop(str(path), None)
    return path, changed


def stale(lesson, instructor, directory=None):
    """A one-line reason why the stored check data of ``lesson`` differs from what the
    solutions give now, or "" when it agrees: numbers within the tolerances the test
    judges them with (another CPU or BLAS moves a round-off-level expected value, such
    as a gradient check's 2.6e-9, by more than 1e-9 relative, never past those)."""
    from gradkit.grading.spec import exercises_for_lesson

    tolerance = {(e.id, t.name): (t.rtol, t.atol) for e in exercises_for_lesson(lesson)
                 for t in e.tests}
    path = data_path(lesson, directory)
    if not path.is_file():
        return f"{path} is missing: run `gradkit build`"
    stored = json.loads(path.read_text(encoding="utf-8"))
    fresh = compute(lesson, instructor)
    old, new = stored.get("exercises", {}), fresh["exercises"]
    if set(old) != set(new):
        return f"{path}: the exercises differ from the spec: run `gradkit build`"
    for exercise_id, entry in new.items():
        if "question" in entry or "question" in old[exercise_id]:
            if not _same_question(exercise_id, entry.get("question"),
                                  old[exercise_id].get("question"), instructor):
                return f"{path}: {exercise_id}'s answers or feedback changed: run `gradkit build`"
            continue
        if entry["returns"] != old[exercise_id].get("returns"):
            return f"{path}: {exercise_id}'s return names changed: run `gradkit build`"
        if set(entry["tests"]) != set(old[exercise_id].get("tests", {})):
            return f"{path}: {exercise_id}'s tests changed: run `gradkit build`"
        for name, values in entry["tests"].items():
            before = old[exercise_id]["tests"][name]
            pairs = [(values["expected"], before.get("expected"))]
            if set(values["wrong"]) != set(before.get("wrong", {})):
                return f"{path}: {exercise_id}, {name!r}: the mistakes changed: run `gradkit build`"
            pairs += [(values["wrong"][k], before["wrong"][k]) for k in values["wrong"]]
            rtol, atol = tolerance.get((exercise_id, name), (1e-9, 1e-12))
            for a, b in pairs:
                try:
                    same = plain.compare(plain.decode(a), plain.decode(b),
                                         rtol=max(rtol, 1e-9), atol=max(atol, 1e-12))[0]
                except (ValueError, TypeError):
                    same = False
                if not same:
                    return f"{path}: {exercise_id}, {name!r} is stale: run `gradkit build`"
    return ""


def _same_question(exercise_id, new, old, instructor):
    """Stored question data agrees with fresh data: the same variants, each accepting the
    fresh answer itself, with accepted sets and feedback that differ at most at the edges
    of a number's tolerance (another CPU moves an answer computed from data by round-off)."""
    from gradkit.grading import questions
    from gradkit.grading.spec import get_exercise

    if not isinstance(new, dict) or not isinstance(old, dict) or set(new) != set(old):
        return False
    exercise = get_exercise(exercise_id)
    for v, fresh in new.items():
        stored = old[v]
        if fresh == stored:
            continue
        if exercise.question.kind != "number":
            return False
        answer = instructor.question_answer(exercise, int(v))
        text = questions.canonical(exercise.question, answer)[0]
        if questions.answer_hash(exercise_id, int(v), text) not in stored.get("answer", ()):
            return False
        for key in ("answer", "feedback"):
            if len(set(fresh[key]) ^ set(stored.get(key, ()))) > 4:
                return False
    return True


def load(lesson, directory=None):
    """Lesson ``lesson``'s check data (decoded lazily by :func:`entry`), or None."""
    path = data_path(lesson, directory)
    with _lock:
        if str(path) not in _cache:
            _cache[str(path)] = (json.loads(path.read_text(encoding="utf-8"))
                                 if path.is_file() else None)
        return _cache[str(path)]


def entry(exercise, test):
    """``(expected, wrong, returns)`` of a public test, decoded; None if not stored."""
    data = load(exercise.lesson)
    if not data:
        return None
    found = data.get("exercises", {}).get(exercise.id)
    if not found or test.name not in found.get("tests", {}):
        return None
    values = found["tests"][test.name]
    wrong = {k: plain.decode(v) for k, v in values.get("wrong", {}).items()}
    return plain.decode(values["expected"]), wrong, tuple(found.get("returns", ()))


def question_data(exercise, variant=0):
    """The stored hashes and feedback of question ``exercise`` for ``variant``, or None."""
    data = load(exercise.lesson)
    if not data:
        return None
    found = data.get("exercises", {}).get(exercise.id, {}).get("question", {})
    return found.get(str(int(variant)))
