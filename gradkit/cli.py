"""The `gradkit` command line: `gradkit --version`, and the course tools.

- ``gradkit build [--check] [--force]`` — lessons/ from solutions/;
- ``gradkit grade NOTEBOOK... [--json OUT] [--csv OUT] [--timeout S] [--jobs N]
  [--hidden DIR]`` — grade submissions;
- ``gradkit autograder --out autograder.zip [--lesson NN]`` — a Gradescope bundle;
- ``gradkit site --out DIR`` — the reading version, static HTML of the executed solutions.
"""

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _default_solutions():
    here = Path("solutions")
    if here.is_dir():
        return here
    import gradkit

    return Path(gradkit.__file__).resolve().parent.parent / "solutions"


def _build(args):
    from gradkit.build import build_lessons

    try:
        results = build_lessons(args.solutions, args.lessons, check=args.check,
                                force=args.force, names=args.names or None)
    except ValueError as exc:
        print(f"gradkit build: {exc}", file=sys.stderr)
        return 2
    for r in results:
        stream = sys.stdout if r.ok else sys.stderr
        print(f"{r.action:>9}  {r.message}", file=stream)
    return 0 if all(r.ok for r in results) else 1


def _grade(args):
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from gradkit.grading.grader import Grader, Submission, read_submission_bytes
    from gradkit.grading.notebook import NotebookError
    from gradkit.grading.results import text_report

    if not args.notebooks and not args.gradescope:
        print("gradkit grade: give at least one notebook to grade", file=sys.stderr)
        return 2
    try:
        grader = Grader(args.solutions or _default_solutions(), timeout=args.timeout,
                        memory_mb=args.memory, hidden=args.hidden, isolation=args.isolation)
    except Exception as exc:  # a broken hidden-tests file is the instructor's to fix
        print(f"gradkit grade: {exc}", file=sys.stderr)
        return 2
    print(f"isolation: {grader.isolation.description}")
    if args.gradescope:  # one Gradescope submission: exactly one notebook, of --lesson
        from gradkit.grading.autograder import refused_results, select_submission, write_results

        try:
            path, refusal = select_submission(args.notebooks, args.lesson, grader.solutions_dir)
        except ValueError as exc:
            print(f"gradkit grade: {exc}", file=sys.stderr)
            return 2
        if refusal is not None:
            print(f"gradkit grade: {refusal}", file=sys.stderr)
            if args.json:
                write_results(refused_results(refusal), args.json)
            return 1
        args.notebooks = [str(path)]
    try:
        ids = _student_ids(args)
    except ValueError as exc:
        print(f"gradkit grade: {exc}", file=sys.stderr)
        return 2
    # every submission is read before any student code runs: a snapshot nobody can change
    snapshot, unreadable = {}, {}
    for path in args.notebooks:
        try:
            snapshot[path] = read_submission_bytes(path)
        except NotebookError as exc:
            unreadable[path] = str(exc)

    def one(path):
        if path in unreadable:
            return Submission(str(path), error=unreadable[path],
                              isolation=grader.isolation.description)
        try:
            return grader.grade(path, snapshot[path], ids=ids(path))
        except Exception as exc:  # the grader's own failure on one notebook costs it only
            return Submission(str(path), error=f"{path}: the grader failed on it "
                              f"({type(exc).__name__}: {str(exc)[:200]})",
                              isolation=grader.isolation.description)

    subs = [None] * len(args.notebooks)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {pool.submit(one, path): i for i, path in enumerate(args.notebooks)}
        for future in as_completed(futures):
            sub = future.result()
            subs[futures[future]] = sub
            if sub.error:
                print(f"gradkit grade: {sub.error}", file=sys.stderr)
            else:
                print(text_report(sub, answers=getattr(args, "answers", None)), flush=True)
            _write_grades(args, [s for s in subs if s is not None])  # as results come in
    _write_grades(args, subs)
    from gradkit.grading.results import batch_summary

    summary = batch_summary(subs)
    if summary:
        print(summary, flush=True)
    return 1 if any(s.error for s in subs) else 0


def _student_ids(args):
    """``ids(path)``: the ids the instructor knows for a notebook (``--metadata`` of a
    Gradescope submission, or ``--ids``, a CSV of ``notebook,student_id`` rows), or None."""
    import csv

    if getattr(args, "metadata", None):
        from gradkit.grading.autograder import metadata_ids

        known = metadata_ids(args.metadata)
        return lambda path: known or None
    if not getattr(args, "ids", None):
        return lambda path: None
    table = {}
    try:
        with open(args.ids, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                if len(row) >= 2 and row[0].strip() and row[0].strip() != "notebook":
                    table[Path(row[0].strip()).name] = [row[1].strip()]
    except OSError as exc:
        raise ValueError(f"cannot read --ids {args.ids}: {exc}") from None
    if not table:
        raise ValueError(f"--ids {args.ids} holds no row 'notebook,student_id'")
    return lambda path: table.get(Path(path).name, [])  # [] : not on the roster, flagged


def _write_grades(args, subs):
    """Write the JSON and CSV of the submissions graded so far, each file replaced whole."""
    import os

    from gradkit.grading.results import (
        gradebook_csv,
        gradescope_json,
        merged_gradescope,
        write_json,
    )

    if args.json:
        if args.gradescope:
            data = merged_gradescope([s for s in subs if not s.error] or subs)
        elif len(args.notebooks) == 1 and subs:
            data = gradescope_json(subs[0])
        else:
            data = {"submissions": [dict(gradescope_json(s), file=s.path) for s in subs]}
        partial = f"{args.json}.partial"
        write_json(data, partial)
        os.replace(partial, args.json)
    if args.csv:
        partial = f"{args.csv}.partial"
        gradebook_csv(subs, partial)
        os.replace(partial, args.csv)
    if getattr(args, "answers", None):
        from gradkit.grading.results import written_markdown

        partial = f"{args.answers}.partial"
        Path(partial).write_text(written_markdown(subs), encoding="utf-8")
        os.replace(partial, args.answers)


def _autograder(args):
    from gradkit.grading.autograder import make_bundle

    try:
        out = make_bundle(args.out, args.solutions or _default_solutions(), hidden=args.hidden,
                          timeout=args.timeout, lesson=args.lesson)
    except ValueError as exc:
        print(f"gradkit autograder: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it as the Gradescope autograder (zip)")
    return 0


def _release(args):
    from gradkit.release import make_release

    try:
        out = make_release(args.out, solutions_dir=args.solutions)
    except ValueError as exc:
        print(f"gradkit release: {exc}", file=sys.stderr)
        return 2
    print(f"wrote the graded edition to {out}: lessons, library and public check data, "
          "no solutions (hand it to students; keep solutions/ private)")
    return 0


def _site(args):
    from gradkit.site import build_site

    try:
        files = build_site(args.solutions or _default_solutions(), args.out,
                           names=args.names or None)
    except (ValueError, RuntimeError) as exc:
        print(f"gradkit site: {exc}", file=sys.stderr)
        return 2
    pages = [f for f in files[1:] if f.suffix == ".html"]
    print(f"wrote {len(pages)} lesson pages and {files[0]}: open it in a browser")
    return 0


def _parser():
    from gradkit import __version__

    parser = argparse.ArgumentParser(
        prog="gradkit",
        description="Course tools for gradkit: build lessons, grade submissions, write the "
                    "reading version.",
    )
    parser.add_argument("--version", action="version", version=f"gradkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    build = sub.add_parser("build", help="generate lessons/ from solutions/")
    build.add_argument("names", nargs="*", help="only these lessons (e.g. 01_derivative)")
    build.add_argument("--check", action="store_true",
                       help="write nothing; exit 1 and name each stale or missing lesson")
    build.add_argument("--force", action="store_true",
                       help="overwrite lessons edited since generated (a backup is kept)")
    build.add_argument("--solutions", default="solutions", help="default: ./solutions")
    build.add_argument("--lessons", default="lessons", help="default: ./lessons")
    build.set_defaults(func=_build)

    grade = sub.add_parser("grade", help="grade submitted notebooks")
    grade.add_argument("notebooks", nargs="*", metavar="NOTEBOOK")
    grade.add_argument("--json", metavar="OUT", help="write Gradescope-style results.json")
    grade.add_argument("--csv", metavar="OUT", help="write a gradebook: a row per submission")
    grade.add_argument("--answers", metavar="OUT",
                       help="write the written answers (not auto-graded) as Markdown")
    grade.add_argument("--timeout", type=float, default=20.0, metavar="S",
                       help="seconds per cell and per exercise (default 20)")
    grade.add_argument("--memory", type=int, default=2048, metavar="MB",
                       help="memory limit of the student's process (default 2048)")
    grade.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="grade N submissions in parallel")
    grade.add_argument("--hidden", metavar="DIR", help="directory of hidden tests (*.py)")
    grade.add_argument("--isolation", choices=("bubblewrap", "user", "none"),
                       help="how student code is isolated (default: the strongest available; "
                            "the report says which was used)")
    grade.add_argument("--ids", metavar="CSV",
                       help="a CSV of 'notebook,student_id' rows: grade each notebook with "
                            "that id's variants and flag a STUDENT_ID that differs")
    grade.add_argument("--metadata", metavar="FILE",
                       help="Gradescope's submission_metadata.json: the submitter's id")
    grade.add_argument("--solutions", metavar="DIR",
                       help="solution notebooks (default ./solutions, else the solutions/ of "
                            "the course gradkit was installed from with pip install -e)")
    grade.add_argument("--gradescope", action="store_true",
                       help="grade a Gradescope submission: exactly one notebook, else score 0 "
                            "and a message saying what to upload")
    grade.add_argument("--lesson", metavar="NN",
                       help="with --gradescope: the notebook must be lesson NN's")
    grade.set_defaults(func=_grade)

    bundle = sub.add_parser("autograder", help="write a Gradescope autograder zip")
    bundle.add_argument("--out", default="autograder.zip")
    bundle.add_argument("--solutions", metavar="DIR")
    bundle.add_argument("--hidden", metavar="DIR")
    bundle.add_argument("--timeout", type=float, default=20.0, metavar="S")
    bundle.add_argument("--lesson", metavar="NN",
                        help="a bundle for lesson NN only (default: one notebook of any lesson)")
    bundle.set_defaults(func=_autograder)

    release = sub.add_parser("release", help="write the graded edition for students (no "
                             "solutions, references or hidden tests)")
    release.add_argument("--out", required=True, metavar="DIR")
    release.add_argument("--solutions", metavar="DIR", help="default: the clone's solutions/")
    release.set_defaults(func=_release)

    site = sub.add_parser("site", help="write the reading version: static HTML of the solutions")
    site.add_argument("names", nargs="*", help="only these lessons (e.g. 01_derivative)")
    site.add_argument("--out", required=True, metavar="DIR",
                      help="a new or empty directory (or a site written before)")
    site.add_argument("--solutions", metavar="DIR",
                      help="executed notebooks (default ./solutions, else the solutions/ "
                           "of the course gradkit was installed from with pip install -e)")
    site.set_defaults(func=_site)
    return parser


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
