"""`rlsuite arena` as a script: `python scripts/arena.py ...` (same arguments)."""

import sys

from rlsuite.cli import main

if __name__ == "__main__":
    sys.exit(main(["arena", *sys.argv[1:]]))
