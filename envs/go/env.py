"""`GoEnv`: Go as a single-agent Gymnasium env against a pluggable opponent (`rlsuite/Go-v0`).

The agent plays one colour; after each of its moves the opponent answers inside the same
`step`. Observations are the AlphaGo Zero planes of `GoGame.encode` from the agent's side, a
plain uint8 `Box` so SB3 works unchanged; the legal moves travel as `info["action_mask"]`
and `action_masks()` (for sb3-contrib's MaskablePPO). Once the game is over the mask offers
only pass, so maskable samplers never meet an all-False row. The reward is +1 / -1 / 0 at
the end, 0 before.

Opponents: "greedy" is `rlsuite.player.GreedyPlayer`; any `Player` object is asked through
its `act` (with a copy of the state, which it may keep); "random" - uniform over the legal
moves, like `RandomPlayer` - is drawn inside the compiled step (`GoGame.step_in_place`) from
the env's seeded generator, so a step is one compiled call.
"""

from __future__ import annotations

from typing import Any, Literal

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from rlsuite.envs.go.coords import check_action
from rlsuite.envs.go.rules import GoGame, Rules, Superko
from rlsuite.envs.go.state import GoState
from rlsuite.player import GreedyPlayer, Player

Colour = Literal["black", "white", "random"]
_DRAWS = 1024  # seeds of random replies drawn from the env's generator at a time


class GoEnv(gym.Env[np.ndarray, np.int64]):
    """Go against an opponent; see the module docstring.

    Args:
        board_size, komi, rules, superko, allow_suicide, max_moves, history: as `GoGame`.
        opponent: "random", "greedy", or a `Player` (kept as given across resets).
        agent_color: "black", "white" or "random" (drawn at each reset).
        illegal_action: "lose" (the default, PettingZoo's convention: the game ends there
            with reward -1 and `info["illegal_move"]` saying why) or "raise" (ValueError
            naming the move and why). An action that is not an integer in range is always a
            ValueError.
        render_mode: None, "human" (a pygame window) or "rgb_array".
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        board_size: int = 9,
        komi: float = 7.5,
        rules: Rules = "tromp-taylor",
        superko: Superko = "positional",
        opponent: str | Player = "random",
        agent_color: Colour = "black",
        illegal_action: Literal["lose", "raise"] = "lose",
        history: int = 8,
        max_moves: int | None = None,
        render_mode: str | None = None,
        allow_suicide: bool = False,
    ) -> None:
        self.game = GoGame(
            board_size,
            komi,
            rules=rules,
            superko=superko,
            allow_suicide=allow_suicide,
            max_moves=max_moves,
            history=history,
        )
        if isinstance(opponent, str) and opponent not in ("random", "greedy"):
            raise ValueError(f"opponent must be 'random', 'greedy' or a Player, got {opponent!r}")
        if not isinstance(opponent, str) and not isinstance(opponent, Player):
            raise ValueError(f"opponent {opponent!r} does not implement reset/act/close")
        if agent_color not in ("black", "white", "random"):
            raise ValueError(
                f"agent_color must be 'black', 'white' or 'random', got {agent_color!r}"
            )
        if illegal_action not in ("raise", "lose"):
            raise ValueError(f"illegal_action must be 'raise' or 'lose', got {illegal_action!r}")
        if render_mode not in (None, "human", "rgb_array"):
            raise ValueError(
                f"render_mode must be None, 'human' or 'rgb_array', got {render_mode!r}"
            )
        self.opponent_spec = opponent
        self.agent_color = agent_color
        self.illegal_action = illegal_action
        self.render_mode = render_mode
        self.observation_space = spaces.Box(0, 1, self.game.observation_shape, np.uint8)
        self.action_space = spaces.Discrete(self.game.num_actions)
        self.opponent: Player | None = None if isinstance(opponent, str) else opponent
        self.agent = 0
        self.state: GoState = self.game.initial_state()
        self._over = False  # also set by an illegal move under illegal_action="lose"
        self._mask = np.zeros(self.game.num_actions, np.bool_)
        self._planes = np.zeros((self.game.observation_shape[0], board_size**2), np.uint8)
        self._obs_view = self._planes.reshape(self.game.observation_shape)
        self._draws = np.empty(0, np.int64)
        self._next_draw = 0
        self._view: Any = None

    # ----- Gymnasium API ------------------------------------------------------------------

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self._draws, self._next_draw = self._draws[:0], 0
        if self.opponent_spec == "greedy":  # a fresh opponent, seeded from the env's RNG
            if self.opponent is not None:
                self.opponent.close()
            self.opponent = GreedyPlayer(int(self.np_random.integers(2**63)))
        if self.agent_color == "random":
            self.agent = int(self.np_random.integers(2))
        else:
            self.agent = 0 if self.agent_color == "black" else 1
        if self.opponent is not None:
            self.opponent.reset(self.game)
        self.state = self.game.initial_state()
        self._over = False
        self._advance(-1)
        return self._observation(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        a = check_action(action, self.game.board_size)
        if self._over:
            raise RuntimeError("the game is over: call reset() before step()")
        error = self._advance(a)
        if error is not None:
            if self.illegal_action == "raise":
                raise ValueError(error)
            self._over = True
            self._mask[:] = False
            self._mask[self.game.pass_action] = True
            return self._observation(), -1.0, True, False, {"illegal_move": error, **self._info()}
        reward = float(self.game.returns(self.state)[self.agent]) if self._over else 0.0
        return self._observation(), reward, self._over, False, self._info()

    def action_masks(self) -> np.ndarray:
        """bool[num_actions] legal actions for the agent (sb3-contrib's MaskablePPO hook)."""
        return self._mask.copy()

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        if self._view is None:
            from rlsuite.envs.go.view import GoBoardView

            self._view = GoBoardView(self.game.board_size, render_mode=self.render_mode)
        return self._view.render(self.game, self.state)

    def close(self) -> None:
        if self._view is not None:
            self._view.close()
            self._view = None
        if self.opponent is not None:
            self.opponent.close()

    # ----- internals ----------------------------------------------------------------------

    def _advance(self, action: int) -> str | None:
        """Play the agent's action (none if negative), then the opponent's reply while it is
        the opponent's turn; refresh mask and planes. Returns why the action is illegal."""
        game, state = self.game, self.state
        if self.opponent is None:  # the built-in random opponent, inside the compiled step
            error = game.step_in_place(
                state, action, self.agent, self._mask, self._planes, self._reply_draw()
            )
        else:
            error = game.step_in_place(state, action, self.agent, self._mask, self._planes)
            if error is None and not game.is_terminal(state) and game.to_play(state) != self.agent:
                reply = self.opponent.act(state.copy())
                try:
                    why = game.move_error(state, reply)
                except ValueError as err:  # not even an action
                    why = str(err)
                if why is not None:
                    raise RuntimeError(f"opponent {getattr(self.opponent, 'name', '?')}: {why}")
                game.step_in_place(state, int(reply), self.agent, self._mask, self._planes)
        if game.is_terminal(state):
            self._over = True
            self._mask[:] = False
            self._mask[game.pass_action] = True
        return error

    def _reply_draw(self) -> int:
        if self._next_draw == len(self._draws):
            self._draws, self._next_draw = self.np_random.integers(2**63, size=_DRAWS), 0
        self._next_draw += 1
        return int(self._draws[self._next_draw - 1])

    def _observation(self) -> np.ndarray:
        return self._obs_view.copy()

    def _info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"action_mask": self._mask.copy()}
        if self._over and self.game.is_terminal(self.state):
            info["score"] = self.game.score(self.state)
        return info
