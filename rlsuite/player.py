"""The `Player` protocol and the two players every game supports: random and greedy.

Players are what the arena pits against each other and what single-agent envs use as an
opponent. Stronger players (trained agents, MCTS, GnuGo, a human) live beside their sources.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from rlsuite.game import Game, State


class Resign(Exception):
    """Raised by `Player.act` when the player resigns (a GTP engine answering `resign`, a human)."""


class PlayerFailure(RuntimeError):
    """Raised by `Player.reset` or `Player.act` when the player cannot move at all (its engine
    crashed, hung or broke its protocol). A referee forfeits the game instead of stopping."""


@runtime_checkable
class Player(Protocol):
    """Anything that picks moves: `reset` at the start of a game, `act` per turn (which may
    raise `Resign`), `close` once."""

    name: str

    def reset(self, game: Game) -> None: ...

    def act(self, state: State) -> int: ...

    def close(self) -> None: ...


class _SeededPlayer:
    """Base for players that only need the game and a private random generator."""

    name = "player"

    def __init__(self, seed: int | None = None) -> None:
        self.rng = np.random.default_rng(seed)
        self.game: Game | None = None

    def reset(self, game: Game) -> None:
        self.game = game

    def _require_game(self) -> Game:
        if self.game is None:
            raise RuntimeError(f"{self.name}: call reset(game) before act(state)")
        return self.game

    def close(self) -> None:
        self.game = None


class RandomPlayer(_SeededPlayer):
    """Uniform over the legal actions; the floor every agent must beat."""

    name = "random"

    def act(self, state: State) -> int:
        legal = np.flatnonzero(self._require_game().legal_mask(state))
        if legal.size == 0:
            raise ValueError("random: no legal action in this state")
        return int(legal[self.rng.integers(legal.size)])


class GreedyPlayer(_SeededPlayer):
    """The game's one-step heuristic (`Game.greedy_action`): a cheap, non-trivial baseline."""

    name = "greedy"

    def act(self, state: State) -> int:
        return int(self._require_game().greedy_action(state, self.rng))
