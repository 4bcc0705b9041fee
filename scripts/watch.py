"""`rlsuite watch` as a script: `python scripts/watch.py ...` (same arguments)."""

import sys

from rlsuite.cli import main

if __name__ == "__main__":
    sys.exit(main(["watch", *sys.argv[1:]]))
