"""`rlsuite gtp --player SPEC`: serve any player as a GTP v2 engine on stdin/stdout, for Sabaki,
GoGui, twogtp or another arena (`gtp:rlsuite gtp --player ...`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from rlsuite.arena.players import PlayerUnavailable, UnknownPlayerSpec, make_player, parse_spec
from rlsuite.gtp.engine import ENGINE_NAME, GtpEngine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rlsuite gtp", description="Speak GTP v2 on stdin/stdout (Sabaki, GoGui, twogtp)."
    )
    parser.add_argument("--player", default="greedy", help="player spec (default: greedy)")
    parser.add_argument("--board-size", type=int, default=9)
    parser.add_argument("--komi", type=float, default=7.5)
    parser.add_argument("--superko", choices=("positional", "simple"), default="positional")
    parser.add_argument("--allow-suicide", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="seed of random/greedy players")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    from rlsuite.envs.go import GoGame

    try:
        spec = parse_spec(args.player)
        game = GoGame(args.board_size, args.komi, superko=args.superko,
                      allow_suicide=args.allow_suicide)
        player = make_player(spec, game, seed=args.seed)
        engine = GtpEngine(
            player, board_size=args.board_size, komi=args.komi, superko=args.superko,
            allow_suicide=args.allow_suicide, name=f"{ENGINE_NAME} ({spec.text})",
        )
    except (UnknownPlayerSpec, PlayerUnavailable, ValueError) as e:
        print(f"rlsuite gtp: {e}", file=sys.stderr)
        return 2
    engine.serve(sys.stdin.buffer, sys.stdout.buffer)
    return 0
