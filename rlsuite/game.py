"""The turn-based `Game` interface shared by the envs, MCTS and the arena.

A Game holds the rules of one configuration (board size, komi, netlist) and no global state;
states are small value objects that copy cheaply, so search can branch from any of them.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np

State = Any
"""Each game defines its own state type; the protocol only passes it around."""


@runtime_checkable
class Game(Protocol):
    """Rules of one game configuration, as seen by MCTS, envs and players."""

    num_actions: int
    num_players: int
    observation_shape: tuple[int, ...]

    def initial_state(self, rng: np.random.Generator | None = None) -> State: ...

    def next_state(self, state: State, action: int) -> State:
        """Return the state after `action`; the input state is left unchanged."""
        ...

    def legal_mask(self, state: State) -> np.ndarray:
        """bool[num_actions]: True where the action is legal."""
        ...

    def to_play(self, state: State) -> int: ...

    def is_terminal(self, state: State) -> bool: ...

    def returns(self, state: State) -> np.ndarray:
        """float[num_players] at a terminal state."""
        ...

    def encode(self, state: State) -> np.ndarray:
        """Network input planes from the view of the player to move."""
        ...

    def greedy_action(self, state: State, rng: np.random.Generator) -> int:
        """The game's own one-step heuristic move (used by `GreedyPlayer` and baselines)."""
        ...
