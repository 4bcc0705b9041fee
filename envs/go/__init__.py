"""Go for rlsuite: compiled Tromp-Taylor rules, Gymnasium and PettingZoo envs, SGF and GTP
coordinates, and a pygame board.

`GoGame` holds the rules (see `rlsuite.envs.go.rules`), `GoState` / `GoBatch` the positions
(layout in `rlsuite.envs.go.state`). The envs and the view load their heavier dependencies
(gymnasium, pettingzoo, pygame) only when first used.
"""

from __future__ import annotations

from typing import Any

from rlsuite.envs.go.coords import action_to_gtp, action_to_sgf, gtp_to_action, sgf_to_action
from rlsuite.envs.go.rules import GoGame
from rlsuite.envs.go.state import GoBatch, GoState, GoStateError

__all__ = [
    "GameRecord",
    "GoBatch",
    "GoBoardView",
    "GoEnv",
    "GoGame",
    "GoState",
    "GoStateError",
    "SGFError",
    "action_to_gtp",
    "action_to_sgf",
    "aec_env",
    "gtp_to_action",
    "read_sgf",
    "sgf_to_action",
    "write_sgf",
]

_LAZY = {
    "GoEnv": ("rlsuite.envs.go.env", "GoEnv"),
    "aec_env": ("rlsuite.envs.go.aec", "aec_env"),
    "GameRecord": ("rlsuite.envs.go.sgf", "GameRecord"),
    "read_sgf": ("rlsuite.envs.go.sgf", "read_sgf"),
    "SGFError": ("rlsuite.envs.go.sgf", "SGFError"),
    "write_sgf": ("rlsuite.envs.go.sgf", "write_sgf"),
    "GoBoardView": ("rlsuite.envs.go.view", "GoBoardView"),
}


def __getattr__(name: str) -> Any:
    """Load the env, SGF and view modules on first use (gymnasium, pettingzoo, pygame)."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attr = _LAZY[name]
    return getattr(importlib.import_module(module), attr)
