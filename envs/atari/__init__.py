"""Atari on the real Arcade Learning Environment (ale-py's bundled ROMs).

- `make_atari(game, num_envs=, protocol="dqn" | "machado", seed=, training=)`: a Gymnasium
  `VectorEnv` of uint8 (num_envs, 4, 84, 84) observations on ale-py's native C++ vector env.
- `human_normalized_score`, `iqm`, `iqm_with_ci`: scores across games.
- `rlsuite.envs.atari.view`: `AtariView` and `watch`, the pygame view.

ale-py is imported on first use, so this package imports without it; `make_atari` then says how
to install it.
"""

from rlsuite.envs.atari.env import PROTOCOLS, AtariProtocol, AtariVecEnv, make_atari
from rlsuite.envs.atari.games import available_games, resolve_game
from rlsuite.envs.atari.scores import (
    ATARI_57,
    REFERENCE_SCORES,
    human_normalized_score,
    iqm,
    iqm_with_ci,
)

__all__ = [
    "ATARI_57",
    "PROTOCOLS",
    "REFERENCE_SCORES",
    "AtariProtocol",
    "AtariVecEnv",
    "available_games",
    "human_normalized_score",
    "iqm",
    "iqm_with_ci",
    "make_atari",
    "resolve_game",
]
