"""The `gradkit` command line: `gradkit --version`, and the course tools.

- ``gradkit build [--check] [--force]`` — lessons/ from solutions/;
- ``gradkit grade NOTEBOOK... [--json OUT] [--csv OUT] [--timeout S] [--jobs N]
  [--hidden DIR]`` — grade submissions;
- ``gradkit autograder --out autograder.zip`` — a Gradescope bundle;
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
    from concurrent.futures import ThreadPoolExecutor

    from gradkit.grading.grader import Grader
    from gradkit.grading.results import (
        gradebook_csv,
        gradescope_json,
        merged_gradescope,
        text_report,
        write_json,
    )

    if not args.notebooks and not args.gradescope:
        print("gradkit grade: give at least one notebook to grade", file=sys.stderr)
        return 2
    try:
        grader = Grader(args.solutions or _default_solutions(), timeout=args.timeout,
                        memory_mb=args.memory, hidden=args.hidden)
    except Exception as exc:  # a broken hidden-tests file is the instructor's to fix
        print(f"gradkit grade: {exc}", file=sys.stderr)
        return 2
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        subs = list(pool.map(grader.grade, args.notebooks))
    for sub in subs:
        if sub.error:
            print(f"gradkit grade: {sub.error}", file=sys.stderr)
        else:
            print(text_report(sub))
    if args.json:
        if args.gradescope:
            data = merged_gradescope([s for s in subs if not s.error] or subs)
        elif len(subs) == 1:
            data = gradescope_json(subs[0])
        else:
            data = {"submissions": [dict(gradescope_json(s), file=s.path) for s in subs]}
        write_json(data, args.json)
    if args.csv:
        gradebook_csv(subs, args.csv)
    return 1 if any(s.error for s in subs) else 0


def _autograder(args):
    from gradkit.grading.autograder import make_bundle

    try:
        out = make_bundle(args.out, args.solutions or _default_solutions(), hidden=args.hidden,
                          timeout=args.timeout)
    except ValueError as exc:
        print(f"gradkit autograder: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}: upload it as the Gradescope autograder (zip)")
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
    grade.add_argument("--timeout", type=float, default=20.0, metavar="S",
                       help="seconds per cell and per exercise (default 20)")
    grade.add_argument("--memory", type=int, default=2048, metavar="MB",
                       help="memory limit of the student's process (default 2048)")
    grade.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="grade N submissions in parallel")
    grade.add_argument("--hidden", metavar="DIR", help="directory of hidden tests (*.py)")
    grade.add_argument("--solutions", metavar="DIR",
                       help="solution notebooks (default ./solutions, else the solutions/ of "
                            "the course gradkit was installed from with pip install -e)")
    grade.add_argument("--gradescope", action="store_true",
                       help="one results object for all notebooks (a Gradescope submission)")
    grade.set_defaults(func=_grade)

    bundle = sub.add_parser("autograder", help="write a Gradescope autograder zip")
    bundle.add_argument("--out", default="autograder.zip")
    bundle.add_argument("--solutions", metavar="DIR")
    bundle.add_argument("--hidden", metavar="DIR")
    bundle.add_argument("--timeout", type=float, default=20.0, metavar="S")
    bundle.set_defaults(func=_autograder)

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
