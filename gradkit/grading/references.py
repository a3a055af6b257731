"""The instructor's side of grading: reference answers and what only the grader computes.

Nothing a student installs holds a reference answer. Each reference has one
source, the answer cell of its solution notebook (``solutions/NN_name.ipynb``,
between ``### BEGIN SOLUTION`` and ``### END SOLUTION``); this module runs those
cells, with the imports, functions and the names they use from the provided
cells, in a namespace of its own. Values that would give an answer away if a
student's package computed them (what a typical mistake returns, built from a
near-copy of the reference) live in ``solutions/instructor/lessonNN.py``, beside
the solutions; a :class:`~gradkit.grading.spec.Mistake` names them with
``wrong="function_name"``.

Both are read by the grader, by ``gradkit build`` (which stores the public
tests' expected values and mistake values as check data, see
:mod:`gradkit.grading.checkdata`), and by the course's own tests; never by
``check()`` in a student's kernel.
"""

import ast
import importlib.util
import threading
from pathlib import Path

from gradkit.grading import plain
from gradkit.grading.notebook import (
    is_answer_cell,
    is_instructor_cell,
    parse_python,
    read_notebook,
    strip_magics,
)

__all__ = ["Instructor", "NotInThisEdition", "default_solutions", "load_answers"]


class NotInThisEdition(LookupError):
    """A reference or an instructor value was asked for where the solutions are not."""


def default_solutions():
    """``./solutions`` if it exists, else the ``solutions/`` beside the installed package
    (a clone installed with ``pip install -e .``); may not exist (a student's edition)."""
    here = Path("solutions")
    if here.is_dir():
        return here
    import gradkit

    return Path(gradkit.__file__).resolve().parent.parent / "solutions"


def _loaded_names(tree):
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _target_names(node):
    """The names an assignment binds (``a = ...``, ``X, Y = ...``), or an empty set when it
    binds anything else (an attribute, an item)."""
    names = set()
    for target in node.targets:
        elts = target.elts if isinstance(target, ast.Tuple) else [target]
        if not all(isinstance(e, ast.Name) for e in elts):
            return set()
        names |= {e.id for e in elts}
    return names


_CONFIGURATION = ("config.update", "set_printoptions", "seterr", "filterwarnings",
                  "simplefilter", "set_default_dtype")
"""Calls that set how a library computes for the rest of the notebook
(``jax.config.update("jax_enable_x64", True)``): the references run them too."""


def _is_configuration(node):
    """True for a statement that is a call of one of :data:`_CONFIGURATION` on a module
    (``jax.config.update(...)``, ``np.seterr(...)``)."""
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return False
    parts, func = [], node.value.func
    while isinstance(func, ast.Attribute):
        parts.insert(0, func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or not parts:
        return False
    dotted = ".".join(parts)
    return any(dotted == c or dotted.endswith("." + c) for c in _CONFIGURATION)


def load_answers(path):
    """Run the answer cells of the solution notebook at ``path``; return their namespace.

    Provided cells contribute their imports, configuration calls
    (``jax.config.update("jax_enable_x64", True)``), function and class definitions, and
    the assignments of names that an answer cell uses (``mystery_gradients =
    make_mystery(seed=403)``); nothing else of them runs (no training, no plots).
    """
    nb = read_notebook(path)
    cells = [c for c in nb.cells if c.get("cell_type") == "code" and not is_instructor_cell(c)]
    trees = []
    for cell in cells:
        try:
            trees.append((cell, parse_python(strip_magics(cell.source))))
        except SyntaxError as exc:
            raise ValueError(f"{path}: a code cell does not parse ({exc})") from None
    used = set()
    for cell, tree in trees:
        if is_answer_cell(cell):
            used |= _loaded_names(tree)
    # and, transitively, what those assignments use (mystery = make_mystery(STUDENT_ID))
    assigned = [(_target_names(node), _loaded_names(node)) for cell, tree in trees
                if not is_answer_cell(cell) for node in tree.body
                if isinstance(node, ast.Assign) and _target_names(node)]
    # and the names that provided functions used by the answers read (slope_data's X, Y)
    assigned += [({node.name}, _loaded_names(node)) for cell, tree in trees
                 if not is_answer_cell(cell) for node in tree.body
                 if isinstance(node, ast.FunctionDef)]
    grown = True
    while grown:
        grown = False
        for targets, loads in assigned:
            if targets & used and not loads <= used:
                used |= loads | targets
                grown = True
    ns = {"__name__": f"gradkit_reference_{Path(path).stem}"}
    name = Path(path).name
    for cell, tree in trees:
        if is_answer_cell(cell):
            exec(compile(tree, name, "exec"), ns)  # noqa: S102
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)) or _is_configuration(node):
                exec(compile(ast.Module([node], []), name, "exec"), ns)  # noqa: S102
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) or (
                    isinstance(node, ast.Assign) and _target_names(node)
                    and _target_names(node) & used):
                try:  # built from what only the full notebook defines (a default X=X_train)
                    exec(compile(ast.Module([node], []), name, "exec"), ns)  # noqa: S102
                except Exception:
                    continue
    return ns


def _load_module(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Instructor:
    """References and instructor-only values for the solutions in ``solutions_dir``.

    Thread-safe and cached: each notebook's answers are loaded once.
    """

    def __init__(self, solutions_dir=None):
        self.solutions_dir = Path(solutions_dir if solutions_dir is not None
                                  else default_solutions())
        self._lock = threading.RLock()
        self._answers = {}
        self._modules = {}

    def _notebook(self, lesson):
        found = sorted(self.solutions_dir.glob(f"{lesson}_*.ipynb"))
        if not found:
            raise NotInThisEdition(
                f"no solution notebook {lesson}_*.ipynb in {str(self.solutions_dir)!r}: "
                "reference answers live with the solutions, which a student's edition "
                "does not hold")
        return found[0]

    def answers(self, lesson):
        """The namespace of lesson ``lesson``'s answer cells (``"01"``)."""
        with self._lock:
            if lesson not in self._answers:
                self._answers[lesson] = load_answers(self._notebook(lesson))
            return self._answers[lesson]

    def module(self, lesson):
        """``solutions/instructor/lessonNN.py`` as a module, or None if there is none."""
        with self._lock:
            if lesson not in self._modules:
                path = self.solutions_dir / "instructor" / f"lesson{lesson}.py"
                self._modules[lesson] = (_load_module(path, f"gradkit_instructor_{lesson}")
                                         if path.is_file() else None)
            return self._modules[lesson]

    def reference(self, exercise):
        """The reference answer of ``exercise``: its own ``reference`` if it has one, else
        the object its solution's answer cell defines under ``exercise.function``."""
        if exercise.reference is not None:
            return exercise.reference
        ns = self.answers(exercise.lesson)
        if exercise.function not in ns:
            raise NotInThisEdition(
                f"the solution of lesson {exercise.lesson} defines no {exercise.function!r}")
        return ns[exercise.function]

    def returns(self, exercise):
        """The names in the ``return`` line of ``exercise``'s answer cell (may be empty)."""
        from gradkit.grading.notebook import is_answer_cell
        from gradkit.grading.spec import returned_names_in

        with self._lock:
            key = ("returns", exercise.id)
            if key not in self._answers:
                nb = read_notebook(self._notebook(exercise.lesson))
                found = ()
                for cell in nb.cells:
                    if is_answer_cell(cell):
                        found = found or returned_names_in(cell.source, exercise.function)
                self._answers[key] = tuple(found)
            return self._answers[key]

    def expected(self, exercise, test, args=None):
        """The reference's value on ``test``, decoded as a student's would be."""
        args = test.make_args() if args is None else args
        raw = test.run_with(self.reference(exercise), args)
        return test.after(args, plain.decode(plain.encode(raw)))

    def question_answer(self, exercise, variant=0):
        """The answer of question ``exercise`` for ``variant``: the instructor file's
        ``key(variant)`` for a question with variants, else the solution's answer."""
        from gradkit.grading.spec import _ask

        q = exercise.question
        if q.variants:
            name = q.key or f"key_{exercise.function}"
            fn = getattr(self.module(exercise.lesson), name, None)
            if fn is None:
                raise ValueError(f"{exercise.id}: a question with variants needs {name}(variant) "
                                 f"in {self.solutions_dir}/instructor/lesson{exercise.lesson}.py")
            return fn(int(variant))
        return _ask(self.reference(exercise))

    def question_entry(self, exercise, variant=0):
        """The hashed answers and feedback of question ``exercise`` for ``variant`` (see
        :func:`gradkit.grading.questions.entry`)."""
        from gradkit.grading import questions

        module = self.module(exercise.lesson)
        feedback = getattr(module, "FEEDBACK", {}).get(exercise.id) if module else None
        variant = int(variant) if exercise.question.variants else 0
        return questions.entry(exercise, self.question_answer(exercise, variant), feedback,
                               variant)

    def wrong_values(self, exercise, test, args=None):
        """``{name: value}`` of the exercise's ``wrong=`` mistakes on ``test``'s inputs."""
        names = [m.wrong for m in exercise.mistakes if m.wrong]
        if not names:
            return {}
        module = self.module(exercise.lesson)
        found = {}
        for name in names:
            fn = getattr(module, name, None) if module is not None else None
            if fn is None:
                raise ValueError(
                    f"{exercise.id}: mistake wrong={name!r} is not a function of "
                    f"{self.solutions_dir}/instructor/lesson{exercise.lesson}.py")
            try:
                value = fn(*(test.make_args() if args is None else args))
                found[name] = plain.decode(plain.encode(value))
            except Exception:  # the mistake does not apply to this input
                continue
        return found
