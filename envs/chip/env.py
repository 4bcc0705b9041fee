"""`ChipPlacementEnv` (`rlsuite/ChipPlacement-v0`): the Gymnasium adapter of `ChipGame`.

- Observation: `Box(0, 1, (5, rows, cols), float32)`, the planes of `ChipGame.encode`.
- Action: `Discrete(rows * cols)`, the grid cell (row * cols + col) for the next macro.
- Legal actions: `info["action_mask"]` and `action_masks()` (sb3-contrib MaskablePPO).
- Reward "dense": minus the HPWL added by each placement, normalised by circuit_training's
  wirelength scale ((W + H) x total net weight), so an episode sums to minus the normalised
  wirelength gained; "sparse": 0 until the end, then minus the proxy cost. A dead end (next
  macro has no legal cell) ends the episode with `-infeasible_cost` added.
- An action that is not an integer in 0..rows*cols-1 (a string, a float, a bool, None) is
  always a ValueError. A cell outside the mask follows `illegal_action`, named and valued as
  in Go-v0: "lose" (the default, PettingZoo's convention: the episode ends there as a loss,
  reward `-infeasible_cost` like a dead end, with `info["illegal_move"]` saying why), or
  "raise" (ValueError naming the cell).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlsuite.envs.chip.game import ChipGame
from rlsuite.envs.chip.netlist import Netlist
from rlsuite.envs.chip.placement import PlacementState, check_cell

REWARDS = ("dense", "sparse")
ILLEGAL = ("lose", "raise")


class ChipPlacementEnv(gym.Env):
    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        netlist: Netlist | str | Path | None = None,
        grid: int | tuple[int, int] | None = None,
        reward: str = "dense",
        order: str | Sequence[str | int] = "area",
        illegal_action: str = "lose",
        infeasible_cost: float = 2.0,
        congestion_weight: float = 0.5,
        density_weight: float = 1.0,
        render_mode: str | None = None,
        render_size: int = 512,
        show_congestion: bool = False,
    ) -> None:
        if reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS}, got {reward!r}")
        if illegal_action not in ILLEGAL:
            raise ValueError(f"illegal_action must be one of {ILLEGAL}, got {illegal_action!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}")
        self.game = ChipGame(netlist, grid, order, congestion_weight, density_weight,
                             infeasible_cost)
        self.model = self.game.model
        self.reward_mode = reward
        self.illegal_action = illegal_action
        self.render_mode = render_mode
        self.render_size = render_size
        self.show_congestion = show_congestion
        self.observation_space = spaces.Box(0.0, 1.0, self.game.observation_shape, np.float32)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self._norm = self.model.netlist.wirelength_norm
        self._window: Any = None
        self.state: PlacementState = self.game.initial_state()
        self._lost = False  # an illegal move ended the episode (illegal_action="lose")

    # ------------------------------------------------------------------ gymnasium API
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.state = self.game.initial_state(self.np_random)
        self._lost = False
        if self.render_mode == "human":
            self.render()
        return self.game.encode(self.state), self._info()

    def step(self, action):
        if self._lost or self.game.is_terminal(self.state):
            raise RuntimeError("step() called on a finished episode: call reset() first")
        action = check_cell(action, self.game.num_actions)
        info: dict[str, Any] = {}
        if not self.game.legal_mask(self.state)[action]:
            why = (f"illegal action {action}: cell not in the action mask (off the canvas or "
                   "overlapping)")
            if self.illegal_action == "raise":
                raise ValueError(why)
            self._lost = True
            info["illegal_move"] = why
            return (self.game.encode(self.state), -float(self.game.infeasible_cost), True, False,
                    self._info(info))
        self.state, delta = self.model.place(self.state, action)
        reward = -delta / self._norm if self.reward_mode == "dense" else 0.0
        terminated = self.game.is_terminal(self.state)
        if terminated:
            if self.game.is_complete(self.state):
                metrics = self.game.metrics(self.state)
                info["metrics"] = metrics
                if self.reward_mode == "sparse":
                    reward = -metrics["proxy_cost"]
            else:
                info["infeasible"] = True
                reward -= self.game.infeasible_cost
        if self.render_mode == "human":
            self.render()
        return self.game.encode(self.state), float(reward), terminated, False, self._info(info)

    def action_masks(self) -> np.ndarray:
        """bool[rows * cols] legal cells for the next macro (sb3-contrib MaskablePPO)."""
        return self.game.legal_mask(self.state)

    def render(self):
        from rlsuite.envs.chip import view

        if self.render_mode == "rgb_array":
            return view.render_rgb(self.model, self.state, self.render_size, self.show_congestion)
        if self.render_mode == "human":
            if self._window is None:
                self._window = view.PlacementWindow(self.render_size)
            self._window.show(self.model, self.state, self.metadata["render_fps"],
                              self.show_congestion)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    # ------------------------------------------------------------------ helpers
    def _info(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        k = self.state.step
        info: dict[str, Any] = {
            "action_mask": self.game.legal_mask(self.state),
            "macros_placed": k,
            "hpwl": self.state.hpwl,
        }
        if k < self.model.num_macros:
            info["macro"] = self.model.netlist.node_names[int(self.model.order[k])]
        if extra:
            info.update(extra)
        return info

    def macro_centers(self) -> np.ndarray:
        """Centres of the movable macros (`netlist.macro_ids` order; NaN where unplaced)."""
        return self.model.centers(self.state)
