"""Reading submissions: which lines are magics, and which lesson a notebook is.

A ``%`` or ``!`` line is a magic only where IPython reads one, at the start
of a statement; a notebook is the lesson its code cells match, whatever its
file name and metadata say.
"""

import copy
import io
import tokenize
from pathlib import Path

import nbformat
import pytest

from gradkit.grading.grader import Grader
from gradkit.grading.notebook import (
    is_answer_cell,
    lesson_name,
    read_notebook,
    strip_magics,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = {p.stem: read_notebook(p) for p in sorted((ROOT / "solutions").glob("[0-9]*.ipynb"))}
LESSONS = {p.stem: read_notebook(p) for p in sorted((ROOT / "lessons").glob("[0-9]*.ipynb"))}
KNOWN = set(SOLUTIONS)


def _run(source):
    ns = {}
    exec(compile(strip_magics(source), "cell", "exec"), ns)
    return ns


# strip_magics: % and ! lines that are not magics


@pytest.mark.parametrize("source", [
    "x = (7\n     % 4)",
    "x = [7\n     % 4][0]",
    "x = {'v': 7\n     % 4}['v']",
    "x = 7 \\\n    % 4",
    "def f():\n    return (7\n            % 4)\nx = f()",
], ids=["parens", "brackets", "braces", "backslash", "parens-in-def"])
def test_modulo_at_line_start_inside_an_expression_is_kept(source):
    assert strip_magics(source) == source
    assert _run(source)["x"] == 3


@pytest.mark.parametrize("source", [
    'x = """\n%d items\n!done\n""" % 3',
    "x = '''\n%d items\n!done\n''' % 3",
    "x = 'a\\\n%d items' % 3",
    'x = ("%d items"\n     % 3)',
], ids=["triple-double", "triple-single", "escaped-newline", "formatting"])
def test_percent_and_bang_lines_inside_a_string_are_kept(source):
    assert strip_magics(source) == source
    assert "3 items" in _run(source)["x"]


def test_brackets_and_quotes_in_comments_and_strings_do_not_hide_a_magic():
    source = "x = 1  # (see the note, it's long\ns = '(['\n%matplotlib inline\n!ls"
    assert strip_magics(source).splitlines()[2:] == ["# %matplotlib inline", "# !ls"]
    assert _run(source)["s"] == "(["


# strip_magics: real magics and shell escapes


def test_line_magics_and_shell_escapes_at_statement_start_are_commented_out():
    source = "%matplotlib inline\n!pip install x\nx = (1 +\n     2)\n%time y = x"
    assert strip_magics(source) == (
        "# %matplotlib inline\n# !pip install x\nx = (1 +\n     2)\n# %time y = x"
    )
    assert "y" not in _run(source)


def test_a_magic_indented_in_a_block_is_still_a_magic_and_the_block_still_runs():
    source = "calls = []\nf = calls.append\nif True:\n    %timeit f(1)\nx = 1"
    assert strip_magics(source).splitlines()[3] == "    pass  # %timeit f(1)"
    ns = _run(source)
    assert ns["calls"] == [] and ns["x"] == 1


def test_a_magic_continued_by_a_backslash_is_commented_out_whole():
    source = "!pip install numpy \\\n    scipy\nx = 1"
    assert strip_magics(source) == "# !pip install numpy \\\n#     scipy\nx = 1"


@pytest.mark.parametrize("first", ["%%time", "%%capture out", "%%timeit -n 1"])
def test_python_cell_magic_keeps_its_body(first):
    source = f"\n{first}\nx = (7\n     % 4)\n%matplotlib inline"
    assert strip_magics(source) == f"\n# {first}\nx = (7\n     % 4)\n# %matplotlib inline"
    assert _run(source)["x"] == 3


@pytest.mark.parametrize("first", ["%%bash", "%%writefile helper.py", "%%html"])
def test_cell_magic_whose_body_is_not_python_is_commented_out_whole(first):
    source = f"{first}\necho 'it's' (\n\nx = 1"
    assert strip_magics(source) == f"# {first}\n# echo 'it's' (\n\n# x = 1"
    assert "x" not in _run(source)


@pytest.mark.parametrize("source", [
    's = "abc\n%time f()',  # a one-line string left open ends with its line
    "x = 1)\n%time f()",  # a closing bracket too many
    "x = ]]\n!ls",
])
def test_code_that_does_not_tokenize_still_has_its_magics_found(source):
    assert strip_magics(source).splitlines()[1].startswith("# ")


def test_code_that_does_not_tokenize_never_raises():
    for source in ['s = """never closed\n%time f()', "x = (((\n%time f()", "\\", "'", "%%", "!"]:
        assert isinstance(strip_magics(source), str)


_TRICKY = [
    r'''s = r"\"" + '(' ; t = (1,
 2)
''',
    r'''x = f"{a!r:>{width}} ({b})" + """
(
""" ; y = [
  # a quote ' and a bracket ( in a comment
  3]
''',
    r'''def f(a,
      b=')'):
    return a \
        + b
''',
    "z = {'k': \"\"\"x\"\"\", \"j\": '''\n'''}\nw = 'it\\'s' + \"a\\\nb\"\n",
]


def _continuation_rows(source):
    """Rows (1-based) that begin inside a logical line, by Python's own tokenizer."""
    rows, start = set(), None
    quiet = {tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT,
             tokenize.ENDMARKER}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NEWLINE and start is not None:
            rows.update(range(start + 1, token.start[0] + 1))
            start = None
        elif token.type not in quiet and start is None:
            start = token.start[0]
    return rows


def _course_cells():
    sources = list(_TRICKY)
    for nb in [*SOLUTIONS.values(), *LESSONS.values()]:
        sources += [c.source for c in nb.cells if c.cell_type == "code"]
    return sources


def test_statement_starts_agree_with_the_python_tokenizer_on_every_course_cell():
    checked = 0
    for source in _course_cells():
        try:
            continuation = _continuation_rows(source)
        except (tokenize.TokenError, IndentationError, SyntaxError):
            continue
        lines = source.split("\n")
        # a % in front of every continuation line is modulo, formatting or text: kept
        inside = [
            line[: len(line) - len(line.lstrip())] + "%" + line.lstrip()
            if row in continuation else line for row, line in enumerate(lines, start=1)
        ]
        assert strip_magics("\n".join(inside)) == "\n".join(inside), source
        # a % in front of a line that starts a statement makes it a magic
        for row, line in enumerate(lines, start=1):
            if row in continuation or not line.strip():
                continue
            edited = lines[:row - 1] + ["%" + line] + lines[row:]
            assert strip_magics("\n".join(edited)).split("\n")[row - 1] == "# %" + line, source
        checked += 1
    assert checked > 600


def test_correct_answer_with_a_formatting_line_gets_full_marks(tmp_path):
    nb = copy.deepcopy(SOLUTIONS["01_derivative"])
    answer = next(c for c in nb.cells if is_answer_cell(c) and "def secant_line" in c.source)
    answer.source = (
        "def secant_line(f, x0, h):\n"
        "    label = ('secant through x0 and x0 + %s'\n"
        "             % 'h')\n"
        "    slope = (f(x0 + h) - f(x0)) / h\n"
        "    return slope, f(x0) - slope * x0\n"
    )
    path = tmp_path / "01_derivative.ipynb"
    nbformat.write(nb, path)
    sub = Grader(ROOT / "solutions", timeout=10.0).grade(path)
    assert sub.exercise_scores()["01.secant_line"] == 3.0, [t.output for t in sub.tests]


# lesson_name: the content decides


def _stripped(nb):
    out = copy.deepcopy(nb)
    out.metadata = {}
    return out


@pytest.mark.parametrize("edition", ["lessons", "solutions"])
@pytest.mark.parametrize("lesson", sorted(SOLUTIONS))
def test_renamed_notebook_without_metadata_is_recognised_by_its_content(edition, lesson):
    nb = _stripped((LESSONS if edition == "lessons" else SOLUTIONS)[lesson])
    for other in sorted(KNOWN - {lesson}):
        assert lesson_name(nb, f"{other}.ipynb", KNOWN, solutions=SOLUTIONS) == lesson, other


def test_content_wins_over_metadata_naming_another_lesson():
    nb = copy.deepcopy(LESSONS["01_derivative"])
    nb.metadata["gradkit"] = {"lesson": "03_gradient_checking"}
    assert lesson_name(nb, "03_gradient_checking.ipynb", KNOWN, SOLUTIONS) == "01_derivative"


def test_lesson_04_is_not_taken_for_lesson_03_whose_answer_it_provides():
    # lesson 04 defines gradient_check_n, an answer of lesson 03, in a provided cell
    nb = _stripped(LESSONS["04_backprop_deep_net"])
    assert lesson_name(nb, "03_gradient_checking.ipynb", KNOWN, SOLUTIONS) == "04_backprop_deep_net"


def test_answer_cells_pasted_into_a_fresh_notebook_are_recognised():
    # new cell ids, no check cells, no metadata: only the names the answers define are left
    answers = {c.id for c in SOLUTIONS["06_sgd"].cells if is_answer_cell(c)}
    cells = [nbformat.v4.new_code_cell(c.source) for c in LESSONS["06_sgd"].cells
             if c.id in answers]
    assert len(cells) == len(answers) >= 3 and "NotImplementedError" in cells[0].source
    nb = nbformat.v4.new_notebook(cells=cells)
    assert lesson_name(nb, "Untitled.ipynb", KNOWN, SOLUTIONS) == "06_sgd"


def test_solutions_may_be_a_function_or_paths_and_unreadable_ones_are_left_out():
    nb = _stripped(LESSONS["02_finite_differences"])

    def solution(name):
        if name == "05_regularization_dropout":
            raise KeyError(name)
        return SOLUTIONS[name]

    assert lesson_name(nb, "05_x.ipynb", KNOWN, solution) == "02_finite_differences"
    paths = {name: ROOT / "solutions" / f"{name}.ipynb" for name in KNOWN}
    assert lesson_name(nb, "05_x.ipynb", KNOWN, paths) == "02_finite_differences"
    only_05 = {"05_regularization_dropout": SOLUTIONS["05_regularization_dropout"]}
    assert lesson_name(nb, "05_x.ipynb", KNOWN, only_05) == "05_regularization_dropout"


def test_without_solutions_metadata_then_file_name_decide_as_before():
    nb = _stripped(LESSONS["01_derivative"])
    assert lesson_name(nb, "03_gradient_checking.ipynb", KNOWN) == "03_gradient_checking"
    assert lesson_name(nb, "07-late.ipynb", KNOWN) == "07_convexity"
    assert lesson_name(LESSONS["01_derivative"], "x.ipynb", KNOWN) == "01_derivative"
    assert lesson_name(nb, "submission.ipynb", KNOWN) is None


def test_empty_notebook_is_no_lesson():
    nb = nbformat.v4.new_notebook()
    assert lesson_name(nb, "submission.ipynb", KNOWN, SOLUTIONS) is None


def test_empty_notebook_named_after_a_lesson_is_that_lesson():
    # nothing to compare: the name decides, and the grader reports every answer missing
    nb = nbformat.v4.new_notebook()
    assert lesson_name(nb, "03_gradient_checking.ipynb", KNOWN, SOLUTIONS) == (
        "03_gradient_checking")


def test_markdown_only_notebook_is_what_its_metadata_or_file_name_says():
    nb = copy.deepcopy(LESSONS["01_derivative"])
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]
    assert lesson_name(nb, "03_gradient_checking.ipynb", KNOWN, SOLUTIONS) == "01_derivative"
    nb.metadata = {}
    assert lesson_name(nb, "03_gradient_checking.ipynb", KNOWN, SOLUTIONS) == (
        "03_gradient_checking")
    assert lesson_name(nb, "submission.ipynb", KNOWN, SOLUTIONS) is None


def test_notebook_holding_two_lessons_is_the_one_its_name_says_else_none():
    nb = _stripped(LESSONS["01_derivative"])
    nb.cells += copy.deepcopy(LESSONS["02_finite_differences"].cells)
    assert lesson_name(nb, "02_finite_differences.ipynb", KNOWN, SOLUTIONS) == (
        "02_finite_differences")
    assert lesson_name(nb, "01_derivative.ipynb", KNOWN, SOLUTIONS) == "01_derivative"
    assert lesson_name(nb, "submission.ipynb", KNOWN, SOLUTIONS) is None
