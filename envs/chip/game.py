"""`ChipGame`: macro placement as a single-player `Game` (rlsuite.game) for search and agents.

One action puts the next macro (in the model's order) on a grid cell. The game ends when every
macro is placed, or at a dead end where the next macro has no legal cell. The return is minus
the proxy cost of the finished placement, or `-infeasible_cost` at a dead end (circuit_training
gives infeasible placements a fixed reward as well, `CircuitEnv.INFEASIBLE_REWARD`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rlsuite.envs.chip.baselines import evaluate_placement
from rlsuite.envs.chip.loader import load_netlist
from rlsuite.envs.chip.netlist import Netlist
from rlsuite.envs.chip.placement import PlacementModel, PlacementState, check_cell
from rlsuite.envs.chip.synthetic import synthetic_netlist

NUM_PLANES = 5
"""occupancy, position mask and wire mask of the current macro, the same two of the next."""


def resolve_netlist(netlist: Netlist | str | Path | None) -> Netlist:
    """A Netlist from itself, a path (`load_netlist`) or None (the seeded default synthetic)."""
    if netlist is None:
        return synthetic_netlist(num_macros=8, num_cells=32, num_nets=48, seed=0)
    if isinstance(netlist, Netlist):
        return netlist
    if isinstance(netlist, str | Path):
        return load_netlist(netlist)
    raise TypeError(f"netlist must be a Netlist, a path or None, got {type(netlist).__name__}")


def _normalised_wire(wire: np.ndarray, legal: np.ndarray) -> np.ndarray:
    """Wire mask scaled to [0, 1] over the legal cells (0 = cheapest); illegal cells are 1."""
    out = np.ones(wire.shape, dtype=np.float32)
    if legal.any():
        vals = wire[legal]
        lo, span = vals.min(), vals.max() - vals.min()
        out[legal] = (vals - lo) / span if span > 0 else 0.0
    return out


class ChipGame:
    """Single-player placement game over a `PlacementModel`.

    Args:
        netlist: a Netlist, a path to one, or None for the default synthetic netlist.
        grid, order: see `PlacementModel`.
        congestion_weight, density_weight: the proxy cost's lambda and gamma.
        infeasible_cost: cost of a dead end (must exceed the costs of real placements).
    """

    num_players = 1

    def __init__(
        self,
        netlist: Netlist | str | Path | None = None,
        grid: int | tuple[int, int] | None = None,
        order: str | Sequence[str | int] = "area",
        congestion_weight: float = 0.5,
        density_weight: float = 1.0,
        infeasible_cost: float = 2.0,
    ) -> None:
        self.netlist = resolve_netlist(netlist)
        self.model = PlacementModel(self.netlist, grid, order)
        self.num_actions = self.model.num_cells
        self.observation_shape = (NUM_PLANES, self.model.rows, self.model.cols)
        self.congestion_weight = congestion_weight
        self.density_weight = density_weight
        self.infeasible_cost = infeasible_cost

    def initial_state(self, rng: np.random.Generator | None = None) -> PlacementState:
        """The empty placement (deterministic: `rng` is accepted for the protocol only)."""
        return self.model.initial_state()

    def next_state(self, state: PlacementState, action: int) -> PlacementState:
        """The state after placing the next macro at cell `action`; ValueError for a foreign
        state, a non-cell action or an illegal cell."""
        self.model.check_state(state)
        return self.model.place(state, check_cell(action, self.num_actions))[0]

    def legal_mask(self, state: PlacementState) -> np.ndarray:
        self.model.check_state(state)
        return self.model.position_mask(state).ravel().copy()

    def to_play(self, state: PlacementState) -> int:
        return 0

    def is_complete(self, state: PlacementState) -> bool:
        return self.model.is_complete(state)

    def is_terminal(self, state: PlacementState) -> bool:
        return self.model.is_complete(state) or not self.model.position_mask(state).any()

    def metrics(self, state: PlacementState) -> dict[str, float]:
        """`evaluate_placement` of a complete placement."""
        if not self.model.is_complete(state):
            raise ValueError("metrics need a complete placement")
        return evaluate_placement(
            self.netlist, self.model.centers(state), (self.model.cols, self.model.rows),
            self.congestion_weight, self.density_weight,
        )

    def returns(self, state: PlacementState) -> np.ndarray:
        if not self.is_terminal(state):
            raise ValueError("returns are defined at terminal states only")
        if not self.model.is_complete(state):
            return np.array([-self.infeasible_cost])
        return np.array([-self.metrics(state)["proxy_cost"]])

    def encode(self, state: PlacementState) -> np.ndarray:
        """float32[5, rows, cols] planes in [0, 1]."""
        m = self.model
        m.check_state(state)
        planes = np.zeros(self.observation_shape, dtype=np.float32)
        planes[0] = state.occupancy
        for slot, k in ((1, state.step), (3, state.step + 1)):
            if k >= m.num_macros:
                continue
            legal = m.position_mask(state, k)
            planes[slot] = legal
            planes[slot + 1] = _normalised_wire(m.wire_mask(state, k), legal)
        return planes

    def greedy_action(self, state: PlacementState, rng: np.random.Generator | None = None) -> int:
        self.model.check_state(state)
        return self.model.greedy_cell(state, rng)

    # batched forms: loops over states (each step is already compiled inside)
    def next_states(self, states: Sequence[PlacementState], actions: Sequence[int]):
        return [self.next_state(s, a) for s, a in zip(states, actions, strict=True)]

    def legal_masks(self, states: Sequence[PlacementState]) -> np.ndarray:
        return np.stack([self.legal_mask(s) for s in states])

    def encode_batch(self, states: Sequence[PlacementState]) -> np.ndarray:
        return np.stack([self.encode(s) for s in states])
