"""``python -m autograder``: same as the ``autograder`` console script."""

from autograder.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
