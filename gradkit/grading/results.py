"""Writing grades: Gradescope ``results.json``, a readable report, a CSV gradebook."""

import csv
import json
from pathlib import Path

__all__ = ["gradebook_csv", "gradescope_json", "merged_gradescope", "text_report",
           "written_markdown"]

WRITTEN = "Written answers (your instructor reads them; not auto-graded)"


def _written_text(sub):
    parts = []
    for title, _, answer in sub.written:
        parts.append(f"{title}: {answer if answer else '(not answered)'}")
    return "\n\n".join(parts)


def gradescope_json(sub):
    """One submission as a Gradescope results object (a dict ready for ``json.dump``)."""
    extra = {"isolation": sub.isolation} if sub.isolation else {}
    if sub.student_id:
        extra["student_id"] = sub.student_id
    if sub.id_flag:
        extra["id_flag"] = sub.id_flag
    if sub.error:
        return {"score": 0.0, "max_score": 0.0, "output": f"Could not grade: {sub.error}",
                "tests": [], "visibility": "visible", "extra_data": extra}
    summary = f"{Path(sub.path).name} (lesson {sub.lesson}): {sub.score:g} / {sub.max_score:g}"
    if sub.cell_errors:
        summary += "\nCells that failed while grading:\n" + "\n".join(
            f"  {line}" for line in sub.cell_errors)
    if sub.notes:
        summary += "\n" + "\n".join(f"Note: {line}" for line in sub.notes)
    return {
        "score": sub.score,
        "max_score": sub.max_score,
        "output": summary,
        "visibility": "visible",
        "extra_data": extra,
        "tests": [
            {"name": t.name, "score": t.score, "max_score": t.max_score, "output": t.output,
             "visibility": t.visibility}
            for t in sub.tests
        ] + ([{"name": WRITTEN, "score": 0.0, "max_score": 0.0, "output": _written_text(sub),
               "visibility": "visible"}] if sub.written else []),
    }


def merged_gradescope(subs):
    """Several notebooks of one student as a single Gradescope results object."""
    if not subs:
        return {"score": 0.0, "max_score": 0.0, "tests": [], "visibility": "visible",
                "output": "No notebook (.ipynb) was found in the submission: upload your "
                          "lesson notebook, e.g. 01_derivative.ipynb."}
    parts = [gradescope_json(s) for s in subs]
    tests = [t for p in parts for t in p["tests"]]
    return {
        "score": round(sum(p["score"] for p in parts), 4),
        "max_score": round(sum(p["max_score"] for p in parts), 4),
        "output": "\n".join(p["output"] for p in parts),
        "visibility": "visible",
        "tests": tests,
        "extra_data": parts[0].get("extra_data", {}),
    }


def text_report(sub, answers=None):
    """A few readable lines for one submission (``answers``: the file the written answers
    go to, if any)."""
    if sub.error:
        return f"ERROR {sub.error}"
    lines = [f"{sub.path}  (lesson {sub.lesson})  {sub.score:g} / {sub.max_score:g}"]
    by_exercise = {}
    for t in sub.tests:
        by_exercise.setdefault(t.exercise, []).append(t)
    for exercise, tests in by_exercise.items():
        got = sum(t.score for t in tests)
        top = sum(t.max_score for t in tests)
        lines.append(f"  {exercise:<32} {got:g} / {top:g}")
        failed = [t for t in tests if t.output != "passed"]
        if len(failed) > 1 and len({t.output for t in failed}) == 1:
            lines.append(f"      ✗ {len(failed)} tests: {failed[0].output}")
            continue
        for t in failed:
            name = t.name.split(": ", 1)[-1]
            lines.append(f"      ✗ {name}: {t.output}")
    for line in sub.cell_errors + sub.notes:
        lines.append(f"  note: {line}")
    if sub.written:
        answered = sum(bool(a) for _, _, a in sub.written)
        where = f"in {answers}" if answers else "--answers FILE writes them"
        lines.append(f"  written answers: {answered} of {len(sub.written)} answered, for you "
                     f"to read ({where})")
    return "\n".join(lines)


def batch_summary(subs):
    """A few lines on a batch of submissions: how many were graded, the mean, lowest and
    highest score, per exercise how many earned its full points, and how many ids were
    flagged; "" for fewer than two submissions."""
    if len(subs) < 2:
        return ""
    graded = [s for s in subs if not s.error]
    errors = len(subs) - len(graded)
    lines = [f"{len(subs)} notebooks: {len(graded)} graded, {errors} with an error"]
    for lesson in sorted({s.lesson for s in graded}):
        group = [s for s in graded if s.lesson == lesson]
        scores = [s.score for s in group]
        lines.append(f"  lesson {lesson}: mean {sum(scores) / len(scores):.3g} / "
                     f"{group[0].max_score:g}, lowest {min(scores):g}, highest {max(scores):g}")
        full = {}
        for sub in group:
            top = {}
            for t in sub.tests:
                top[t.exercise] = top.get(t.exercise, 0.0) + t.max_score
            for exercise, got in sub.exercise_scores().items():
                full.setdefault(exercise, 0)
                full[exercise] += abs(got - top[exercise]) < 1e-9
        for exercise, count in full.items():
            lines.append(f"    {exercise:<32} full points in {count} of {len(group)}")
    flagged = [Path(s.path).name for s in graded if s.id_flag]
    if flagged:
        lines.append(f"  STUDENT_ID flagged in {len(flagged)}: {', '.join(flagged[:5])}"
                     + (", ..." if len(flagged) > 5 else ""))
    return "\n".join(lines)


def written_markdown(subs):
    """The written answers of ``subs`` as one Markdown document, a section per submission."""
    out = ["# Written answers", ""]
    for sub in subs:
        if sub.error or not sub.written:
            continue
        who = f", STUDENT_ID {sub.student_id!r}" if sub.student_id else ""
        out += [f"## {Path(sub.path).name} (lesson {sub.lesson}{who})", ""]
        for title, question, answer in sub.written:
            out += [f"### {title}", "", "> " + question.replace("\n", "\n> "), "",
                    answer if answer else "*(not answered)*", ""]
    return "\n".join(out) + "\n"


def gradebook_csv(subs, path):
    """Write a CSV gradebook: a row per submission, a column per exercise."""
    exercises = []
    for sub in subs:
        for exercise in sub.exercise_scores():
            if exercise not in exercises:
                exercises.append(exercise)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["submission", "lesson", "student id", "score", "max_score",
                         *exercises, "error", "isolation", "written answered", "id flag"])
        for sub in subs:
            scores = sub.exercise_scores()
            writer.writerow([sub.path, sub.lesson or "", sub.student_id, sub.score,
                             sub.max_score, *[scores.get(e, "") for e in exercises],
                             sub.error or "", sub.isolation,
                             f"{sum(bool(a) for _, _, a in sub.written)} of "
                             f"{len(sub.written)}" if sub.written else "", sub.id_flag])


def write_json(data, path):
    """Write ``data`` as indented JSON (creating the parent directory)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
