"""Variants per student and auto-checked questions: the machinery, with its negative cases.

- a student id gives the same variant everywhere, "" the default one, a malformed id an error
  that says how to write it;
- the grader reads ``STUDENT_ID`` as a literal, never runs that cell, grades with the id the
  instructor knows (``--ids``, Gradescope's metadata) and flags a notebook that says otherwise;
- a question's answer and feedback reach the check data only as hashes and sealed text.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from gradkit.cli import main
from gradkit.grading import questions
from gradkit.grading.autograder import metadata_ids
from gradkit.grading.notebook import student_id
from gradkit.grading.spec import question
from gradkit.grading.variants import normalize_id, use_student, variant, variant_of

ROOT = Path(__file__).resolve().parent.parent
LESSON_04 = ROOT / "solutions" / "04_backprop_deep_net.ipynb"


def test_the_same_id_gives_the_same_variant_and_the_empty_id_the_default():
    assert variant("", "04.name_the_bug", 21) == 0
    assert variant("Ada@Uni.example ", "k", 21) == variant("ada@uni.example", "k", 21)
    drawn = [variant(f"s{k}", "k", 21) for k in range(300)]
    assert 0 not in drawn and set(drawn) == set(range(1, 21))
    # two exercises of one student are drawn independently
    assert [variant(f"s{k}", "a", 21) for k in range(50)] != [
        variant(f"s{k}", "b", 21) for k in range(50)]
    with use_student("s1"):
        assert variant_of("k", 21) == variant("s1", "k", 21)
    assert variant_of("k", 21) == 0


@pytest.mark.parametrize(("value", "error", "match"), [
    (1234, TypeError, "in quotes"),
    ("s1; rm -rf", ValueError, "letters, digits"),
    ("x" * 81, ValueError, "not an id"),
])
def test_a_malformed_id_says_how_to_write_it(value, error, match):
    with pytest.raises(error, match=match):
        normalize_id(value)


def _nb(source, tags=("student-id",)):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = list(tags)
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np"), cell]
    return nb


@pytest.mark.parametrize(("source", "got", "problem"), [
    ('STUDENT_ID = "S2024017"', "s2024017", ""),
    ('STUDENT_ID = ""', "", ""),
    ('STUDENT_ID = open("/etc/hostname").read()', "", "plain string in quotes"),
    ('STUDENT_ID = "a" + "b"', "", "plain string in quotes"),
    ("STUDENT_ID = 1234", "", "plain string in quotes"),
    ("STUDENT_ID = (", "", "not valid Python"),
    ('STUDENT_ID = "two words"', "", "letters, digits"),
])
def test_the_id_is_read_as_a_literal_only(source, got, problem):
    found, why = student_id(_nb(source))
    assert found == got and (problem in why if problem else why == "")


def test_an_untagged_id_cell_is_found_by_its_assignment():
    assert student_id(_nb('STUDENT_ID = "ada"', tags=()))[0] == "ada"
    assert student_id(_nb("x = 1", tags=())) == ("", "")


def _with_id(source):
    nb = nbformat.read(LESSON_04, as_version=4)
    for cell in nb.cells:
        if "student-id" in cell.metadata.get("tags", []):
            cell.source = source
    return nb


def test_the_grader_never_runs_the_id_cell_and_flags_an_expression(tmp_path):
    from gradkit.grading.grader import Grader

    marker = tmp_path / "ran"
    path = tmp_path / "04_backprop_deep_net.ipynb"
    nbformat.write(_with_id(f"STUDENT_ID = open({str(marker)!r}, 'w').write('x') and 'ada'"),
                   path)
    sub = Grader(ROOT / "solutions", timeout=10.0, isolation="none").grade(path)
    assert not marker.exists()  # the cell's code did not run, even without isolation
    assert "plain string in quotes" in sub.id_flag and sub.student_id == ""
    assert sub.score == sub.max_score  # the default variant's answers: graded as the default
    # the negative case: a literal id is taken and not flagged
    nbformat.write(_with_id('STUDENT_ID = "ada"'), path)
    sub = Grader(ROOT / "solutions", timeout=10.0).grade(path)
    assert sub.student_id == "ada" and sub.id_flag == ""


def test_an_id_set_again_in_a_cell_of_ones_own_does_not_change_the_graded_variant(tmp_path):
    # the grader decides the variant: a student who rebinds STUDENT_ID later gets no other key
    from gradkit.grading.grader import Grader

    nb = _with_id('STUDENT_ID = "ada"')
    nb.cells.insert(5, nbformat.v4.new_code_cell('STUDENT_ID = ""'))
    path = tmp_path / "04_backprop_deep_net.ipynb"
    nbformat.write(nb, path)
    sub = Grader(ROOT / "solutions", timeout=10.0).grade(path)
    assert sub.student_id == "ada"
    from gradkit.grading import lesson04

    if lesson04.PLANS[variant("ada", "04.name_the_bug", lesson04.N_VARIANTS)][0] != \
            lesson04.PLANS[0][0]:
        assert sub.exercise_scores()["04.name_the_bug"] == 0


def test_grade_with_a_roster_flags_a_notebook_whose_id_differs(tmp_path, capsys):
    path = tmp_path / "ada_04_backprop_deep_net.ipynb"
    nbformat.write(_with_id('STUDENT_ID = "bob"'), path)
    roster = tmp_path / "ids.csv"
    roster.write_text("notebook,student_id\nada_04_backprop_deep_net.ipynb,ada\n")
    csv_out, json_out = tmp_path / "g.csv", tmp_path / "r.json"
    main(["grade", str(path), "--ids", str(roster), "--csv", str(csv_out), "--json",
          str(json_out), "--solutions", str(ROOT / "solutions")])
    out = capsys.readouterr().out
    assert "STUDENT_ID mismatch" in out and "'bob'" in out and "'ada'" in out
    data = json.loads(json_out.read_text())
    assert data["extra_data"]["student_id"] == "ada" and "mismatch" in data["extra_data"]["id_flag"]
    row = csv_out.read_text().splitlines()[1]
    assert ",ada," in row and "mismatch" in row
    # the negative case: the roster agrees with the notebook, nothing is flagged
    roster.write_text("ada_04_backprop_deep_net.ipynb,bob\n")
    main(["grade", str(path), "--ids", str(roster), "--solutions", str(ROOT / "solutions")])
    assert "mismatch" not in capsys.readouterr().out


def test_a_notebook_the_roster_does_not_name_is_flagged(tmp_path, capsys):
    path = tmp_path / "eve_04_backprop_deep_net.ipynb"
    nbformat.write(_with_id('STUDENT_ID = "eve"'), path)
    roster = tmp_path / "ids.csv"
    roster.write_text("notebook,student_id\nada_04_backprop_deep_net.ipynb,ada\n")
    csv_out = tmp_path / "g.csv"
    main(["grade", str(path), "--ids", str(roster), "--csv", str(csv_out),
          "--solutions", str(ROOT / "solutions")])
    out = capsys.readouterr().out
    assert "not on the roster (--ids): graded with the notebook's own STUDENT_ID, 'eve'" in out
    assert "not on the roster" in csv_out.read_text().splitlines()[1]
    # the negative case: without a roster, the notebook's own id is no doubt
    main(["grade", str(path), "--solutions", str(ROOT / "solutions")])
    assert "not on the roster" not in capsys.readouterr().out


def test_a_roster_without_rows_is_refused(tmp_path, capsys):
    roster = tmp_path / "ids.csv"
    roster.write_text("notebook,student_id\n")
    assert main(["grade", str(LESSON_04), "--ids", str(roster)]) == 2
    assert "holds no row" in capsys.readouterr().err


def test_gradescope_metadata_gives_the_submitters_ids(tmp_path):
    meta = tmp_path / "submission_metadata.json"
    meta.write_text(json.dumps({"id": 1, "users": [
        {"email": "Ada@Uni.example", "id": 77, "name": "Ada", "sid": "s2024017"}]}))
    assert metadata_ids(meta) == ["s2024017", "Ada@Uni.example"]
    meta.write_text(json.dumps({"users": [{"email": "bob@uni.example", "id": 78}]}))
    assert metadata_ids(meta) == ["bob@uni.example"]
    meta.write_text("{not json")
    with pytest.raises(ValueError, match="cannot read the submission metadata"):
        metadata_ids(meta)


def test_run_autograder_grades_with_the_submitters_id_and_flags_another(tmp_path):
    bundle = tmp_path / "a.zip"
    assert main(["autograder", "--out", str(bundle), "--lesson", "04", "--solutions",
                 str(ROOT / "solutions"), "--timeout", "10"]) == 0
    import zipfile

    root = tmp_path / "ag"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    (root / "submission").mkdir()
    nbformat.write(_with_id('STUDENT_ID = "s2024017"'), root / "submission" / "mine.ipynb")
    env = dict(os.environ, AUTOGRADER_ROOT=str(root), GRADKIT_PYTHON=sys.executable)

    def run(users):
        (root / "submission_metadata.json").write_text(json.dumps({"users": users}))
        subprocess.run(["bash", str(root / "source" / "run_autograder")], env=env,
                       capture_output=True, timeout=300)
        return json.loads((root / "results" / "results.json").read_text())

    mine = run([{"email": "ada@uni.example", "sid": "s2024017", "id": 1}])
    assert mine["extra_data"]["student_id"] == "s2024017" and "id_flag" not in mine["extra_data"]
    theirs = run([{"email": "bob@uni.example", "id": 2}])
    assert theirs["extra_data"]["student_id"] == "bob@uni.example"
    assert "STUDENT_ID mismatch" in theirs["output"]
    shutil.rmtree(root)


def _q(kind, **kw):
    return question("99.q", "q", 1, kind, **kw)


@pytest.mark.parametrize(("answer", "given", "right"), [
    (0.0123, 0.0123, True), (0.0123, 0.012, True), (0.0123, 0.013, True),
    (0.0123, 0.014, False), (0.0123, 0.011, False), (0.0123, 0.123, False),
    (1.02, 0.97, True), (1.02, 0.9, False), (-5.0, -5.3, True), (-5.0, 5.0, False),
])
def test_a_number_is_right_within_its_tolerance_on_its_digits(answer, given, right):
    q = _q("number", digits=2, rtol=0.07).question
    text = questions.canonical(q, given)[0]
    assert (text in questions.accepted(q, answer)) == right


def test_whole_numbers_compare_exactly_unless_given_a_tolerance():
    q = _q("number", digits=0).question
    assert questions.accepted(q, 88) == {"88"}
    assert questions.canonical(q, 88.5) == (None, "return a whole number, not 88.5")
    loose = _q("number", digits=0, rtol=0.05).question
    assert questions.accepted(loose, 100) == {str(k) for k in range(95, 106)}


@pytest.mark.parametrize(("kind", "value", "problem"), [
    ("choice", "e", "one of 'a', 'b'"), ("choice", 3, "return a string"),
    ("number", "many", "return a number"), ("number", float("nan"), "finite"),
    ("name", "W 1", "spelled as there"),
])
def test_an_answer_of_the_wrong_form_says_what_to_return(kind, value, problem):
    ex = _q(kind, options=("a", "b") if kind == "choice" else ("W1", "b1"))
    assert problem in questions.canonical(ex.question, value)[1]


def test_the_check_data_of_a_question_holds_no_answer_and_seals_its_feedback():
    ex = _q("choice", options=("a", "b", "c", "d"))
    feedback = {"a": "A says the step is too small", "b": "B forgets the mean"}
    entry = questions.entry(ex, "c", feedback)
    dumped = json.dumps(entry)
    assert '"c"' not in dumped and "step is too small" not in dumped and "mean" not in dumped
    assert len(entry["answer"]) == 1 and len(entry["feedback"]) == 2
    right = questions.judge_question(ex, "C", entry)
    assert right.status == "pass" and right.expected == "(not shown)"
    wrong = questions.judge_question(ex, "a", entry)
    assert wrong.status == "fail" and wrong.hint == feedback["a"]
    other = questions.judge_question(ex, "d", entry)
    assert other.status == "fail" and other.hint == ex.hint
    # another variant's hashes do not accept this variant's answer
    assert questions.judge_question(ex, "c", questions.entry(ex, "c", feedback, 3)).status \
        == "fail"


def test_stored_answers_are_stale_only_when_the_answer_itself_moves(monkeypatch):
    # another CPU moves an answer computed from data by round-off: the edges of its accepted
    # set may move, the answer may not
    from gradkit.grading import checkdata, spec

    ex = _q("number", digits=2, rtol=0.07)
    monkeypatch.setattr(spec, "get_exercise", lambda exercise_id: ex)

    class Fake:
        answer = 0.0123

        def question_answer(self, exercise, v):
            return self.answer

    fake = Fake()
    stored = {"0": questions.entry(ex, 0.0123, None)}
    edge = {"0": questions.entry(ex, 0.01230004, None)}
    assert checkdata._same_question("99.q", edge, stored, fake)
    fake.answer = 0.0150
    moved = {"0": questions.entry(ex, 0.0150, None)}
    assert not checkdata._same_question("99.q", moved, stored, fake)
    assert not checkdata._same_question("99.q", {}, stored, fake)
