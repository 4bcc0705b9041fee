"""The arena: players, matches, Elo ratings and the league of stored games.

`rlsuite arena ...` runs `main`; the pieces are usable on their own: `parse_spec` /
`make_player` build players from specs, `play_game` referees one game, `schedule` and
`run_games` a round robin, `fit_elo` rates results, `League` stores them.
"""

from rlsuite.arena.cli import ArenaConfig, main
from rlsuite.arena.elo import Rating, Result, fit_elo
from rlsuite.arena.league import League, MatchRecord
from rlsuite.arena.match import GameTask, GoConfig, Outcome, play_game, run_games, schedule
from rlsuite.arena.players import (
    PlayerSpec,
    PlayerUnavailable,
    Resign,
    UnknownPlayerSpec,
    make_player,
    parse_spec,
)

__all__ = [
    "ArenaConfig",
    "GameTask",
    "GoConfig",
    "League",
    "MatchRecord",
    "Outcome",
    "PlayerSpec",
    "PlayerUnavailable",
    "Rating",
    "Resign",
    "Result",
    "UnknownPlayerSpec",
    "fit_elo",
    "main",
    "make_player",
    "parse_spec",
    "play_game",
    "run_games",
    "schedule",
]
