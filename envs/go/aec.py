"""PettingZoo AEC adapter: two learners take turns on one Go board (`aec_env(...)`).

Agents are "black_0" and "white_0" (PettingZoo's classic naming). Each observation is a dict
of the AlphaGo Zero planes seen from that agent's side and an int8 `action_mask`, nonzero
only for the agent to move. Rewards arrive at the end: +1 / -1 / 0 from `GoGame.returns`.
An illegal move ends the game with -1 for the offender and +1 for the other, its reason in
the offender's `info["illegal_move"]` (PettingZoo's convention, `illegal_action="lose"`, the
default); `illegal_action="raise"` raises ValueError instead.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv
from pettingzoo.utils import wrappers

from rlsuite.envs.go.coords import check_action
from rlsuite.envs.go.rules import GoGame, Rules, Superko

AGENTS = ("black_0", "white_0")


class GoAEC(AECEnv):
    """Go for two agents; see the module docstring. Arguments are those of `GoGame`, plus
    `illegal_action` ("lose" or "raise") and `render_mode` (None, "human", "rgb_array")."""

    metadata = {
        "render_modes": ["human", "rgb_array"],
        "name": "rlsuite_go_v0",
        "is_parallelizable": False,
        "render_fps": 4,
    }

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        rules: Rules = "tromp-taylor",
        superko: Superko = "positional",
        allow_suicide: bool = False,
        max_moves: int | None = None,
        history: int = 8,
        illegal_action: Literal["lose", "raise"] = "lose",
        render_mode: str | None = None,
    ) -> None:
        super().__init__()
        self.game = GoGame(
            board_size,
            komi,
            rules=rules,
            superko=superko,
            allow_suicide=allow_suicide,
            max_moves=max_moves,
            history=history,
        )
        if illegal_action not in ("raise", "lose"):
            raise ValueError(f"illegal_action must be 'raise' or 'lose', got {illegal_action!r}")
        if render_mode not in (None, "human", "rgb_array"):
            raise ValueError(
                f"render_mode must be None, 'human' or 'rgb_array', got {render_mode!r}"
            )
        self.illegal_action = illegal_action
        self.render_mode = render_mode
        self.possible_agents = list(AGENTS)
        obs_space = spaces.Dict(
            {
                "observation": spaces.Box(0, 1, self.game.observation_shape, np.uint8),
                "action_mask": spaces.Box(0, 1, (self.game.num_actions,), np.int8),
            }
        )
        self.observation_spaces = {a: obs_space for a in AGENTS}
        self.action_spaces = {a: spaces.Discrete(self.game.num_actions) for a in AGENTS}
        self.state = self.game.initial_state()
        self._view: Any = None

    def observation_space(self, agent: str) -> spaces.Space:
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space:
        return self.action_spaces[agent]

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        self.state = self.game.initial_state()
        self.agents = list(AGENTS)
        self.rewards = {a: 0.0 for a in AGENTS}
        self._cumulative_rewards = {a: 0.0 for a in AGENTS}
        self.terminations = {a: False for a in AGENTS}
        self.truncations = {a: False for a in AGENTS}
        self.infos: dict[str, dict[str, Any]] = {a: {} for a in AGENTS}
        self.agent_selection = AGENTS[0]
        self._mask = self.game.legal_mask(self.state)

    def observe(self, agent: str) -> dict[str, np.ndarray]:
        me = AGENTS.index(agent)
        mask = np.zeros(self.game.num_actions, np.int8)
        if agent == self.agent_selection and not self.terminations[agent]:
            mask[:] = self._mask
        return {"observation": self.game.encode(self.state, perspective=me), "action_mask": mask}

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        a = check_action(action, self.game.board_size)
        self._cumulative_rewards[agent] = 0.0
        try:
            self.state = self.game.next_state(self.state, a)
        except ValueError as err:
            if self.illegal_action == "raise":
                raise
            me = AGENTS.index(agent)
            self._finish(np.array([-1.0, 1.0] if me == 0 else [1.0, -1.0]))
            self.infos[agent]["illegal_move"] = str(err)
            self._accumulate_rewards()
            return
        if self.game.is_terminal(self.state):
            self._finish(self.game.returns(self.state))
        else:
            self._mask = self.game.legal_mask(self.state)
            self.rewards = {a: 0.0 for a in AGENTS}
        self.agent_selection = AGENTS[self.game.to_play(self.state)]
        self._accumulate_rewards()
        if self.render_mode == "human":
            self.render()

    def _finish(self, returns: np.ndarray) -> None:
        self.rewards = {a: float(returns[i]) for i, a in enumerate(AGENTS)}
        self.terminations = {a: True for a in AGENTS}
        score = self.game.score(self.state)
        self.infos = {a: {"score": score} for a in AGENTS}

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            return None
        if self._view is None:
            from rlsuite.envs.go.view import GoBoardView

            self._view = GoBoardView(self.game.board_size, render_mode=self.render_mode)
        return self._view.render(self.game, self.state)

    def close(self) -> None:
        if self._view is not None:
            self._view.close()
            self._view = None


def aec_env(**kwargs: Any) -> AECEnv:
    """A `GoAEC` behind PettingZoo's order-enforcing wrapper (errors on out-of-order calls)."""
    return wrappers.OrderEnforcingWrapper(GoAEC(**kwargs))
