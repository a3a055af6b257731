"""The `gradkit` command line: `gradkit --version`, and the course tools."""

import argparse
import sys

__all__ = ["main"]


def _parser():
    from gradkit import __version__

    parser = argparse.ArgumentParser(
        prog="gradkit",
        description="Course tools for gradkit: build lessons, grade submissions.",
    )
    parser.add_argument("--version", action="version", version=f"gradkit {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
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
