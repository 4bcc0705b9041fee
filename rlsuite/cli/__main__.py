"""`python -m rlsuite.cli COMMAND ...`: the `rlsuite` command without its console script."""

import sys

from rlsuite.cli import main

sys.exit(main())
