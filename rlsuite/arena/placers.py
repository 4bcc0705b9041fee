"""Chip placers that are neither a trained agent nor a `rlsuite.player` baseline.

`AnnealPlacer` wraps the chip package's simulated annealing as a `Player`, so the `sa` spec
plays in the arena's leaderboard and in `rlsuite watch chip` like any other placer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rlsuite.game import State

if TYPE_CHECKING:
    from rlsuite.envs.chip import ChipGame


class AnnealPlacer:
    """Simulated annealing (the chip package's `sa` baseline) as a placer: it anneals the whole
    placement on `reset`, then `act` replays the annealed cells macro by macro."""

    name = "sa"

    def __init__(self, seed: int | None = None) -> None:
        self.seed = 0 if seed is None else seed
        self.cells: np.ndarray | None = None
        self.game: ChipGame | None = None

    def reset(self, game: Any) -> None:
        from rlsuite.envs.chip import run_baseline

        self.game = game
        self.cells = run_baseline("sa", game.model, seed=self.seed, evaluate=False).cells

    def act(self, state: State) -> int:
        if self.game is None or self.cells is None:
            raise RuntimeError("sa: call reset(game) before act(state)")
        cell = int(self.cells[state.step])
        if cell < 0:  # annealing found no complete placement: fall back to greedy
            return int(self.game.greedy_action(state))
        return cell

    def close(self) -> None:
        self.game = None
