"""The `rlsuite` command: train | watch | arena | gtp | bench | run.

All argument parsing lives in this package (`parsing`: flags -> typed configs), and nothing
imports it: each sub-command forwards its remaining arguments to a `main(argv) -> int`,
imported only when called (`rlsuite.cli.train`, `.arena`, `.watch`, `.gtp`, `.bench`,
`.run`). scripts/*.py and `python -m rlsuite.cli` call the same.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from rlsuite.cli.train import TRAINERS

COMMANDS = {
    "train": "rlsuite.cli.train:main",
    "watch": "rlsuite.cli.watch:main",
    "arena": "rlsuite.cli.arena:main",
    "gtp": "rlsuite.cli.gtp:main",
    "bench": "rlsuite.cli.bench:main",
    "run": "rlsuite.cli.run:main",
}

USAGE = f"""usage: rlsuite COMMAND [ARGS]

commands:
  train ALGO [ARGS]   train an agent; ALGO is one of {", ".join(TRAINERS)}
  watch DOMAIN [ARGS] watch play in a pygame window (go, chip, atari)
  arena [ARGS]        play matches between players and fit Elo ratings
  gtp [ARGS]          speak GTP v2 on stdin/stdout (for Sabaki, GoGui, GnuGo matches)
  bench NAME [ARGS]   run scripts/bench/NAME.py of a source checkout
  run                 the main job on embedded defaults (what `make run` does)

`rlsuite COMMAND --help` shows each command's options."""


def _call(target: str, argv: Sequence[str], label: str) -> int:
    module_name, func_name = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is not None and module_name.startswith(e.name):
            print(
                f"rlsuite {label}: not yet available ({module_name} is not built)", file=sys.stderr
            )
            return 2
        raise
    func = getattr(module, func_name, None)
    if func is None:
        print(f"rlsuite {label}: not yet available ({target} is missing)", file=sys.stderr)
        return 2
    return int(func(list(argv)) or 0)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command in COMMANDS:
        return _call(COMMANDS[command], rest, command)
    print(f"rlsuite: unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
