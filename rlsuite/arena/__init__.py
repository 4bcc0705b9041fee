"""The arena: players, matches, Elo ratings and the league of stored games.

The pieces are usable on their own: `parse_spec` / `make_player` build players from specs for
any game, `play_game` referees one game, `schedule` and `run_games` a round robin, `fit_elo`
rates results, `League` stores them. `rlsuite arena` (in `rlsuite.cli.arena`) puts them
together.

Names load on first use (PEP 562), so `from rlsuite.arena import fit_elo` costs numpy alone:
no player machinery, no GTP subprocess code, no rich and no pygame.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOME = {
    "rlsuite.arena.elo": ("Rating", "Result", "fit_elo"),
    "rlsuite.arena.league": ("League", "MatchRecord"),
    "rlsuite.arena.match": ("GameTask", "GoConfig", "Outcome", "play_game", "run_games",
                            "schedule"),
    "rlsuite.arena.players": ("PlayerSpec", "PlayerUnavailable", "UnknownPlayerSpec",
                              "make_player", "parse_spec"),
}
_MODULE_OF = {name: module for module, names in _HOME.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rlsuite.arena' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
