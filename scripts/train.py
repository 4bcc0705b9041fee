"""`rlsuite train` as a script: `python scripts/train.py ...` (same arguments)."""

import sys

from rlsuite.cli import main

if __name__ == "__main__":
    sys.exit(main(["train", *sys.argv[1:]]))
