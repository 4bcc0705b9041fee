"""Strength of an AlphaZero agent against GnuGo at fixed colours and komis; last line JSON.

The AlphaZero issue measures a shipped agent as Black at one komi and as White at another, set
so that perfect play wins by half a point for the agent's colour (5x5: Black at 24.5; 7x7:
Black at 8.5, White at 9.5). The arena's round robin alternates colours at one komi, so this
script plays the two series directly: `--games` per colour against GnuGo at `--level`
(Chinese rules, capture all dead), each game with GnuGo's own `--seed` so that its choices
among equal moves vary from game to game. The agent plays as the arena builds it from its
spec (`az:zoo/go-7x7@800` = the shipped net, 800 simulations per move).

    rlsuite bench az_gnugo --agent az:zoo/go-7x7@800 --board-size 7 \\
        --komi-black 8.5 --komi-white 9.5 --games 20

JSON keys: `agent`, `board_size`, `gnugo_level`, `komi_black`, `komi_white`, `wins_black`,
`games_black`, `wins_white`, `games_white`, `win_rate` (both colours together), `records`.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from rich.console import Console

from rlsuite.arena.match import GoConfig, play_game
from rlsuite.arena.players import make_player

COLOURS = ("black", "white")
SEED_BASE = {"black": 1, "white": 101}  # GnuGo seeds 1.. as White, 101.. as Black


def play_series(agent: str, size: int, komi: float, colour: str, games: int, level: int,
                console: Console) -> list[dict[str, Any]]:
    """`games` games of `agent` as `colour` against GnuGo at `level`, komi `komi`."""
    game = GoConfig(board_size=size, komi=komi).build()
    records = []
    for k in range(games):
        seed = SEED_BASE[colour] + k
        ours = make_player(agent, game, seed=seed)
        gnugo = make_player(f"gnugo:{level}", game, seed=seed)
        black, white = (ours, gnugo) if colour == "black" else (gnugo, ours)
        tic = time.perf_counter()
        try:
            outcome = play_game(game, black, white)
        finally:
            ours.close()
            gnugo.close()
        record = {"agent_colour": colour, "komi": komi, "gnugo_seed": seed,
                  "agent_won": outcome.winner == COLOURS.index(colour), "result": outcome.result,
                  "reason": outcome.reason, "moves": len(outcome.actions),
                  "seconds": round(time.perf_counter() - tic, 1)}
        records.append(record)
        console.log(record)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="az:zoo/go-7x7@800")
    parser.add_argument("--board-size", type=int, default=7)
    parser.add_argument("--komi-black", type=float, default=8.5,
                        help="komi of the games the agent plays as Black")
    parser.add_argument("--komi-white", type=float, default=9.5,
                        help="komi of the games the agent plays as White")
    parser.add_argument("--games", type=int, default=20, help="games per colour")
    parser.add_argument("--level", type=int, default=10, help="GnuGo level (0..10)")
    parser.add_argument("--colours", nargs="+", choices=COLOURS, default=list(COLOURS),
                        help="the agent's colours to play (one per process splits the work)")
    args = parser.parse_args()
    console = Console(stderr=True)
    komis = {"black": args.komi_black, "white": args.komi_white}
    records = [r for colour in args.colours for r in play_series(
        args.agent, args.board_size, komis[colour], colour, args.games, args.level, console)]
    games = {c: args.games if c in args.colours else 0 for c in COLOURS}
    wins = {c: sum(r["agent_won"] for r in records if r["agent_colour"] == c) for c in COLOURS}
    console.print(f"{args.agent} against gnugo:{args.level} on {args.board_size}x"
                  f"{args.board_size}: Black {wins['black']}/{games['black']} at komi "
                  f"{args.komi_black}, White {wins['white']}/{games['white']} at "
                  f"{args.komi_white}")
    print(json.dumps({
        "agent": args.agent, "board_size": args.board_size, "gnugo_level": args.level,
        "komi_black": args.komi_black, "komi_white": args.komi_white,
        "wins_black": wins["black"], "games_black": games["black"],
        "wins_white": wins["white"], "games_white": games["white"],
        "win_rate": (wins["black"] + wins["white"]) / len(records),
        "records": records,
    }))


if __name__ == "__main__":
    main()
