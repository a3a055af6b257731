"""Exercise specs: what each graded exercise is, its tests, its reference answer.

One module per lesson, ``gradkit/grading/lessonNN.py``, defines a list
``EXERCISES`` of :class:`Exercise`. The id of an exercise is
``"NN.function_name"``; the lesson number ``NN`` says which module holds it.

A test does not store an expected value: it stores how to *call* the
function (``args`` and, optionally, ``call``), and the grader calls the
reference solution the same way, in its own process. So a spec works for a
function that takes another function as input (``f``), and the student's
process only ever sends back what their code returned, as plain numbers.

Instructors add hidden tests with files in a separate directory (``--hidden
DIR``): each ``*.py`` file there defines ``HIDDEN_TESTS = {"01.some_id":
[Test(...), ...]}``. Hidden tests never ship in ``lessons/``.

Examples
--------
>>> from gradkit.grading.spec import Exercise, Mistake, Test
>>> def _double(x):
...     return 2 * x
>>> ex = Exercise(
...     id="99.double", function="double", points=2, reference=_double,
...     tests=[Test("x = 3", args=(3.0,))],
...     mistakes=[Mistake("you returned x itself", lambda args, got: got == args[0])],
... )
>>> ex.tests[0].shows
'x = 3'
"""

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "Exercise",
    "Mistake",
    "Question",
    "Test",
    "question",
    "exercises_for_lesson",
    "get_exercise",
    "hidden_tests",
    "lesson_numbers",
]

_ID = re.compile(r"^(\d\d)\.([A-Za-z_]\w*)$")


@dataclass(frozen=True)
class Test:
    """One call of the student's function, graded pass/fail.

    Parameters
    ----------
    name : str
        Says what the test checks, e.g. ``"x**2 at x = 3, h = 0.1"``.
        Unique within its exercise.
    args : tuple or callable
        The inputs. Either a tuple (plain values, functions such as
        ``np.sin``) or ``args(rng) -> tuple`` for random inputs; ``rng`` is
        ``np.random.default_rng(seed)``, the same in grader and student
        process.
    call : callable, optional
        ``call(fn, *args)`` returns what is compared; default ``fn(*args)``.
        Use it to call the function several times (e.g. for several ``h``).
    weight : float
        Share of the exercise's points (default 1).
    rtol, atol : float
        Tolerances for numbers, as in ``np.allclose``.
    shows : str, optional
        The input as the student sees it; defaults to ``name``.
    seed : int
        Seed for ``args(rng)``.
    names : tuple of str, optional
        Names of the values this test's call returns, e.g. ``("dW", "db")``, used
        in feedback instead of "value 2". Without ``call``, the exercise's
        ``returns`` (or the names in its reference's ``return`` line) are used.
    post : callable, optional
        ``post(args, value) -> value``, applied to the plain (decoded) result of
        ``call`` before it is compared, in the grader's process (and in
        ``check()``), with inputs built afresh: a verdict such as "the gradient
        check passes" or "the inputs are unchanged" is computed here from
        returned numbers, never inside the student's process.
    """

    __test__ = False  # not a pytest test class

    name: str
    args: Any = ()
    call: Callable | None = None
    weight: float = 1.0
    rtol: float = 1e-6
    atol: float = 1e-9
    shows: str | None = None
    seed: int = 0
    names: tuple = ()
    post: Callable | None = None

    def __post_init__(self):
        if self.shows is None:
            object.__setattr__(self, "shows", self.name)

    def make_args(self):
        """Return the input tuple, built afresh (callers may mutate it)."""
        if callable(self.args):
            return tuple(self.args(np.random.default_rng(self.seed)))
        return tuple(self.args)

    def run(self, fn):
        """Call ``fn`` as this test says and return its raw result."""
        return self.run_with(fn, self.make_args())

    def run_with(self, fn, args):
        """Call ``fn`` on ``args`` as this test says and return its raw result."""
        if self.call is not None:
            return self.call(fn, *args)
        return fn(*args)

    def after(self, args, value):
        """The value compared: ``post(args, value)``, or ``value`` itself."""
        return value if self.post is None else self.post(args, value)


@dataclass(frozen=True)
class Mistake:
    """A typical wrong answer and the hint that names it.

    Give ``when`` (a test of the received value) or ``wrong`` (the name of a
    function that computes what the mistake returns), not both.

    Parameters
    ----------
    hint : str
        What the student probably did, said without giving the answer away.
    when : callable, optional
        ``when(args, received)`` or ``when(args, received, expected) -> bool``,
        with the test's inputs, the student's result and the reference's, as
        plain data (float, ndarray, list, str). It runs on plain data only,
        never on student objects; exceptions count as False. It ships to
        students, so it must not compute a near-copy of the answer: use
        ``wrong`` for that.
    wrong : str, optional
        The name of a function ``wrong(*args) -> value`` in the instructor's
        ``solutions/instructor/lessonNN.py``: what the mistaken code returns. It
        runs where the solutions are (the grader; ``gradkit build``, which stores
        its values on the public tests as check data); the mistake matches when
        the received value (its item ``part``, if given) is close to it.
    part : int, optional
        Compare only item ``part`` of the received and the wrong value.
    rtol, atol : float, optional
        Tolerances for ``wrong``; default the test's.
    """

    hint: str
    when: Callable | None = None
    wrong: str | None = None
    part: int | None = None
    rtol: float | None = None
    atol: float | None = None

    def __post_init__(self):
        if (self.when is None) == (self.wrong is None):
            raise ValueError(f"Mistake {self.hint[:40]!r}...: give when= or wrong=, not both "
                             "or neither")
        takes = 2
        if self.when is not None:
            try:
                params = inspect.signature(self.when).parameters.values()
                takes = sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
                            and p.default is p.empty for p in params)
            except (TypeError, ValueError):
                takes = 2
        object.__setattr__(self, "_takes", takes)

    def matches(self, args, received, expected=None, wrong=None, rtol=1e-6, atol=1e-9):
        """True when this mistake explains ``received``.

        ``wrong`` is ``{name: value}`` of the wrong values on this test's inputs;
        a ``wrong=`` mistake whose value is not there does not match.
        """
        from gradkit.grading import plain

        if self.when is not None:
            if self._takes >= 3:
                return bool(self.when(args, received, expected))
            return bool(self.when(args, received))
        if not wrong or self.wrong not in wrong:
            return False
        value = wrong[self.wrong]
        if self.part is not None:
            received, value = received[self.part], value[self.part]
        return bool(plain.compare(received, value,
                                  rtol=rtol if self.rtol is None else self.rtol,
                                  atol=atol if self.atol is None else self.atol)[0])


@dataclass(frozen=True)
class Exercise:
    """A graded exercise: a named function (or value) the student writes.

    Parameters
    ----------
    id : str
        ``"NN.name"``, e.g. ``"01.difference_quotient"``.
    function : str
        The name the answer cell defines (a function, or a variable for
        answers that are values).
    points : float
        What the exercise is worth; tests share it by weight.
    tests : sequence of Test
        The public tests, shown by ``check()`` in the notebook.
    mistakes : sequence of Mistake
        Typical wrong answers, tried in order on each failed test.
    hint : str
        Said when a test fails and no mistake matches.
    returns : tuple of str, optional
        Names of the values the function returns, e.g. ``("dA_prev", "dW", "db")``.
        By default they are read from the reference's ``return a, b, c`` line.
    reference : callable or object, optional
        The instructor's answer, used exactly as the student's is. Leave it out
        in a lesson's spec: the reference is the solution notebook's answer cell
        (see :mod:`gradkit.grading.references`), which a student's edition does
        not hold.
    """

    id: str
    function: str
    points: float
    tests: Sequence[Test]
    mistakes: Sequence[Mistake] = ()
    hint: str = "Compare your code with the formula in the text above the exercise."
    title: str = ""
    extra: dict = field(default_factory=dict)
    returns: tuple = ()
    reference: Any = None
    question: Any = None

    def __post_init__(self):
        if not _ID.match(self.id):
            raise ValueError(
                f"exercise id {self.id!r} is not of the form 'NN.name' "
                "(two-digit lesson number, a dot, a Python name), e.g. '01.secant_line'"
            )
        names = [t.name for t in self.tests]
        if len(set(names)) != len(names):
            raise ValueError(f"exercise {self.id}: test names must be unique, got {names}")
        if not self.tests:
            raise ValueError(f"exercise {self.id} has no public tests; add at least one Test")

    @property
    def lesson(self):
        """The two-digit lesson number, e.g. ``"01"``."""
        return self.id[:2]

    def mistake_for(self, args, received, expected=None, wrong=None, rtol=1e-6, atol=1e-9):
        """Return the hint of the first matching mistake, or None (see
        :meth:`Mistake.matches`)."""
        for mistake in self.mistakes:
            try:
                if mistake.matches(args, received, expected, wrong, rtol, atol):
                    return mistake.hint
            except Exception:  # a mistake test that does not apply is no match
                continue
        return None

    def hint_for(self, args, received, expected=None, wrong=None):
        """Return the hint of the first matching mistake, else the generic hint."""
        found = self.mistake_for(args, received, expected, wrong)
        return self.hint if found is None else found

    def names_for(self, test, returned=()):
        """Names of the values ``test`` compares, for feedback (may be empty).

        ``returned`` are the names in the reference's ``return`` line, which the
        check data records (the reference itself is not at hand in a student's
        edition).
        """
        if test.names:
            return tuple(test.names)
        if test.post is not None:
            return ()
        if test.call is not None:
            return ()
        if self.returns:
            return tuple(self.returns)
        if self.reference is not None:
            return _returned_names(self.reference)
        return tuple(returned)


_KINDS = ("choice", "number", "name")


@dataclass(frozen=True)
class Question:
    """What makes an exercise an auto-checked question (see :func:`question`).

    Parameters
    ----------
    kind : {"choice", "number", "name"}
        A letter among ``options``; a number compared on ``digits`` significant digits
        within ``rtol`` (``digits=0``: an exact integer); a name among ``options``.
    options : tuple of str
        The letters (``("a", "b", "c", "d")``) or the names that are answers at all.
    digits : int
        Significant digits a number is compared on (0: an exact integer).
    rtol : float
        A number within ``rtol`` of the answer (relative) is right.
    variants : int
        0: one answer for everybody. ``n``: the answer depends on the student's
        variant ``variants.variant(STUDENT_ID, id, n)``, and the instructor file's
        ``key`` function gives it.
    key : str, optional
        For ``variants``: the name of ``key(variant) -> answer`` in
        ``solutions/instructor/lessonNN.py``; default ``"key_" + function``.

    The answer never ships: the check data holds, per variant, a hash of each accepted
    answer and of each wrong answer the instructor file's ``FEEDBACK`` explains, with
    that explanation. So ``check()`` says whether an answer is right, and why a known
    wrong one is wrong, without showing the answer.
    """

    kind: str
    options: tuple = ()
    digits: int = 2
    rtol: float = 0.0
    variants: int = 0
    key: str | None = None

    def __post_init__(self):
        if self.kind not in _KINDS:
            raise ValueError(f"Question kind {self.kind!r}: expected one of {_KINDS}")
        if self.kind != "number" and not self.options:
            raise ValueError(f"a {self.kind!r} question needs its options")


def _ask(fn):
    """A question's answer: ``fn()``, or ``fn`` itself when it is a value."""
    return fn() if callable(fn) else fn


def question(id, function, points, kind, *, title="", options=(), digits=2, rtol=0.0,
             variants=0, key=None, shows=None, hint="", extra=None):
    """An :class:`Exercise` that asks for one answer (a letter, a number, a name).

    ``function`` is the name of a function of no argument that returns the answer (so
    that a stub can raise ``NotImplementedError``). ``check()`` and the grader compare
    the answer with the solution's (or, with ``variants``, with the instructor's
    ``key(variant)``), never show it, and give the instructor's feedback for a known
    wrong answer; ``hint`` is said for any other wrong answer.
    """
    q = Question(kind, tuple(options), digits, rtol, variants, key)
    what = {"choice": f"one of {', '.join(repr(o) for o in q.options)}",
            "name": "a name", "number": "a number"}[kind]
    return Exercise(
        id=id, function=function, points=points, title=title, question=q,
        tests=[Test("your answer", call=_ask, shows=shows or f"{function}(): {what}",
                    rtol=rtol, atol=0.0)],
        hint=hint or "Not this one: reread the cells just above and what they printed.",
        extra=dict(extra or {}),
    )


def _returned_names(function):
    """The names in ``function``'s ``return a, b, c`` (or ``return dx``) lines, if they all
    agree, else ()."""
    try:
        from gradkit.grading.notebook import parse_python

        tree = parse_python(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return ()
    body = tree.body[0] if tree.body and isinstance(
        tree.body[0], (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if body is None:
        return ()
    return _names_in_returns(body)


def returned_names_in(source, function):
    """:func:`_returned_names` of the function ``function`` defined in ``source`` (a cell)."""
    from gradkit.grading.notebook import parse_python, strip_magics

    try:
        tree = parse_python(strip_magics(source))
    except SyntaxError:
        return ()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            return _names_in_returns(node)
    return ()


def _names_in_returns(body):
    found = set()
    todo = list(body.body)
    while todo:  # the function's own statements, not those of nested functions
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Return):
            value = node.value
            if isinstance(value, ast.Tuple) and all(isinstance(e, ast.Name) for e in value.elts):
                found.add(tuple(e.id for e in value.elts))
            elif isinstance(value, ast.Name):
                found.add((value.id,))
            else:
                return ()
        todo.extend(ast.iter_child_nodes(node))
    return found.pop() if len(found) == 1 else ()


def lesson_numbers():
    """Return the lesson numbers that have a spec module, e.g. ``["01"]``."""
    package = importlib.import_module("gradkit.grading")
    found = []
    for info in pkgutil.iter_modules(package.__path__):
        match = re.fullmatch(r"lesson(\d\d)\w*", info.name)
        if match:
            found.append(match.group(1))
    return sorted(found)


def _lesson_module(number):
    package = importlib.import_module("gradkit.grading")
    for info in pkgutil.iter_modules(package.__path__):
        if re.fullmatch(rf"lesson{number}\w*", info.name):
            return importlib.import_module(f"gradkit.grading.{info.name}")
    return None


def lesson_forks(number):
    """False when lesson ``number``'s spec module sets ``FORK = False`` (see the worker)."""
    module = _lesson_module(f"{int(number):02d}" if str(number).isdigit() else str(number))
    return bool(getattr(module, "FORK", True)) if module is not None else True


def exercises_for_lesson(number):
    """Return the exercises of lesson ``number`` (``"01"``), in lesson order.

    Raises
    ------
    ValueError
        If no ``gradkit/grading/lessonNN.py`` module exists.
    """
    number = f"{int(number):02d}" if str(number).isdigit() else str(number)
    module = _lesson_module(number)
    if module is None:
        raise ValueError(
            f"no exercise specs for lesson {number}: expected a module "
            f"gradkit/grading/lesson{number}.py defining EXERCISES; "
            f"lessons with specs: {', '.join(lesson_numbers()) or 'none'}"
        )
    return list(module.EXERCISES)


def get_exercise(exercise_id):
    """Return the :class:`Exercise` with this id.

    Raises
    ------
    ValueError
        If the id is malformed or unknown; the message lists the known ids.
    """
    match = _ID.match(str(exercise_id))
    if not match:
        raise ValueError(
            f"{exercise_id!r} is not an exercise id: expected 'NN.name', e.g. '01.secant_line'"
        )
    exercises = exercises_for_lesson(match.group(1))
    for exercise in exercises:
        if exercise.id == exercise_id:
            return exercise
    known = ", ".join(e.id for e in exercises)
    raise ValueError(f"unknown exercise {exercise_id!r}; lesson {match.group(1)} has: {known}")


def hidden_tests(directory):
    """Load hidden tests from ``directory``: ``{exercise_id: [Test, ...]}``.

    Every ``*.py`` file in the directory may define ``HIDDEN_TESTS``, a dict
    from exercise id to a list of :class:`Test`. ``None`` gives ``{}``.

    Raises
    ------
    ValueError
        If the directory does not exist, a file's ``HIDDEN_TESTS`` is not a
        dict of lists of Test, or a hidden test reuses a public test's name.
    """
    if directory is None:
        return {}
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"hidden tests directory {str(directory)!r} does not exist")
    found = {}
    for path in sorted(directory.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"gradkit_hidden_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        table = getattr(module, "HIDDEN_TESTS", {})
        if not isinstance(table, dict):
            raise ValueError(f"{path}: HIDDEN_TESTS must be a dict {{exercise_id: [Test, ...]}}")
        for exercise_id, tests in table.items():
            public = {t.name for t in get_exercise(exercise_id).tests}
            for test in tests:
                if not isinstance(test, Test):
                    raise ValueError(f"{path}: HIDDEN_TESTS[{exercise_id!r}] holds a non-Test")
                if test.name in public:
                    raise ValueError(
                        f"{path}: hidden test {test.name!r} of {exercise_id} has the name "
                        "of a public test; give it its own name"
                    )
            found.setdefault(exercise_id, []).extend(tests)
    return found
