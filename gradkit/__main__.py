"""`python -m gradkit` is the same as the `gradkit` console script."""

import sys

from gradkit.cli import main

if __name__ == "__main__":
    sys.exit(main())
