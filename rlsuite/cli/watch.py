"""`rlsuite watch go|chip|atari`: parse the options of one watch app and run it.

    rlsuite watch go --black greedy --white gnugo:1 --board-size 9
    rlsuite watch chip --netlist PATH --placer greedy
    rlsuite watch atari --env ALE/Pong-v5 --agent dqn:RUN --record pong.gif

Each app and its options live in `rlsuite.ui` (`go`, `chip`, `atari`); only its module is
imported, so watching Go never loads the Atari emulator.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rlsuite.cli.parsing import parse

DOMAINS = ("go", "chip", "atari")


def main(argv: Sequence[str] | None = None) -> int:
    """`rlsuite watch DOMAIN [OPTIONS]` with DOMAIN one of go, chip, atari."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in DOMAINS:
        print(f"usage: rlsuite watch DOMAIN [OPTIONS]; DOMAIN is one of {list(DOMAINS)}\n"
              "       rlsuite watch DOMAIN --help lists its options", file=sys.stderr)
        return 2
    domain, rest = args[0], args[1:]
    prog = f"rlsuite watch {domain}"
    try:
        if domain == "go":
            from rlsuite.ui.go import GoWatchConfig, watch_go

            outcomes = watch_go(parse(GoWatchConfig, rest, prog=prog))
            for outcome in outcomes:
                print(f"result {outcome.result} after {len(outcome.actions)} moves"
                      + (f": {outcome.error}" if outcome.error else ""))
        elif domain == "chip":
            from rlsuite.ui.chip import ChipWatchConfig, watch_chip

            metrics = watch_chip(parse(ChipWatchConfig, rest, prog=prog))
            print("dead end" if metrics is None else
                  "  ".join(f"{k} {v:.6g}" for k, v in metrics.items()))
        else:
            from rlsuite.ui.atari import AtariWatchConfig, watch_atari

            scores = watch_atari(parse(AtariWatchConfig, rest, prog=prog))
            print(f"episode scores: {scores}")
    except (ValueError, RuntimeError, FileNotFoundError) as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    return 0
