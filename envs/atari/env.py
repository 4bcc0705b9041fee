"""Atari on ale-py's native vector environment, under the DQN or the Machado protocol.

`make_atari` returns an `AtariVecEnv`: a Gymnasium `VectorEnv` around
`ale_py.vector_env.AtariVectorEnv`, which steps every emulator in C++ threads and does frame
skip, max-pooling of the last two frames, grayscale, 84x84 area resize and the frame stack
itself. That native env clips rewards by default and has sticky actions off, and it can only
end an episode on a life loss by resetting the whole game; so this wrapper asks it for raw
rewards and real game-overs and adds, in numpy:

- reward clipping to sign(r), in training only, keeping the raw score for `info["episode"]`;
- life loss as a terminal in training (dqn protocol): the game then goes on, and the step after
  the life loss plays NOOP whatever action was sent and starts a fresh, zero-padded frame stack;
- the episode statistics of whole games (raw, unclipped score) and action validation.

Autoreset follows Gymnasium's NEXT_STEP mode (`metadata["autoreset_mode"]`): after an env reports
terminated or truncated, its next `step` ignores the action sent, returns the first observation
of the next episode with reward 0, and is not a transition to learn from. Every episode's first
observation is a zero-padded stack `[0, 0, 0, frame]`, as SB3's `VecFrameStack` resets its stack
on every done, so no stack spans two episodes (the frame replay relies on it).

Protocols (both: frame skip 4 with the max over the last two frames, 84x84 grayscale, a stack of
4, episodes capped at 108,000 frames, i.e. 27,000 agent steps):

- "dqn" (Mnih et al., Nature 2015; SB3 and CleanRL's Atari wrappers): minimal action set, no
  sticky actions, FIRE pressed on reset where the action set has it, then a uniform number of
  NOOP frames so the reset uses 0 to 30 frames in all (ALE's native env draws the count from
  [0, noop_max]; SB3 draws NOOPs from [1, 30]); in training, life loss is terminal and rewards
  are clipped.
- "machado" (Machado et al., JAIR 2018, "Revisiting the ALE"): sticky actions with probability
  0.25, the full 18-action set, no NOOP starts and no FIRE press, episodes end at game over only;
  rewards are clipped in training (as in that paper's DQN), never in evaluation.

Evaluation (`training=False`) never clips and never ends on a life loss; in every mode
`info["episode"]` carries each finished game's raw score.

Known quirk of ale-py 0.12's native env: on the step that ends a game (or hits the frame cap) it
stops before grabbing that step's last two screens, so the newest frame of the final
observation is stale. It only feeds targets of terminal transitions (discount 0) and, rarely,
a truncated one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from gymnasium.spaces import Box, Discrete
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from rlsuite.envs.atari.games import require_ale, resolve_game

FRAME_SIZE = 84
STACK = 4
FRAME_SKIP = 4
MAX_EPISODE_FRAMES = 108_000
NOOP = 0
"""Index of NOOP in both the minimal and the full ALE action sets."""


@dataclass(frozen=True, kw_only=True)
class AtariProtocol:
    """How an Atari experiment is run; `PROTOCOLS` holds the two published ones."""

    name: str
    repeat_action_probability: float
    """Sticky actions: chance that the emulator repeats the previous frame's action."""
    full_action_space: bool
    """All 18 joystick actions instead of the game's minimal set."""
    noop_max: int
    """Reset draws the number of NOOP frames uniformly from [0, noop_max] (FIRE counts as one)."""
    fire_reset: bool
    """Press FIRE on reset in games whose action set has it (starts Breakout's ball)."""
    life_loss_terminal: bool
    """In training, report terminated when a life is lost (the game itself goes on)."""
    clip_rewards: bool
    """In training, report sign(reward)."""
    max_episode_frames: int = MAX_EPISODE_FRAMES


PROTOCOLS: dict[str, AtariProtocol] = {
    "dqn": AtariProtocol(
        name="dqn",
        repeat_action_probability=0.0,
        full_action_space=False,
        noop_max=30,
        fire_reset=True,
        life_loss_terminal=True,
        clip_rewards=True,
    ),
    "machado": AtariProtocol(
        name="machado",
        repeat_action_probability=0.25,
        full_action_space=True,
        noop_max=0,
        fire_reset=False,
        life_loss_terminal=False,
        clip_rewards=True,
    ),
}


class AtariVecEnv(VectorEnv):
    """`num_envs` Atari games stepped together; observations uint8 (num_envs, 4, 84, 84).

    Step infos hold "lives", "frame_number" and "episode_frame_number" per env, and, on the step
    where a game ends (game over or the 108k-frame cap, never a mere life loss),
    `info["episode"] = {"r": raw score, "l": agent steps}` (float64 and int64 arrays over all
    envs) with the boolean mask `info["_episode"]` saying which entries are set, the layout of
    Gymnasium's `RecordEpisodeStatistics`.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_fps": 15}

    def __init__(
        self,
        game: str,
        *,
        num_envs: int,
        protocol: AtariProtocol,
        training: bool,
        seed: int,
        num_threads: int = 0,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if not 0.0 <= protocol.repeat_action_probability < 1.0:
            raise ValueError(
                f"repeat_action_probability must lie in [0, 1), got "
                f"{protocol.repeat_action_probability}"
            )
        if protocol.noop_max < 0:
            raise ValueError(f"noop_max must be >= 0, got {protocol.noop_max}")
        if protocol.max_episode_frames < 1:
            raise ValueError(f"max_episode_frames must be >= 1, got {protocol.max_episode_frames}")
        self.game = resolve_game(game)
        require_ale()
        from ale_py.vector_env import AtariVectorEnv

        self.protocol, self.training, self.seed = protocol, training, int(seed)
        self.clip_rewards = training and protocol.clip_rewards
        self.life_loss_terminal = training and protocol.life_loss_terminal
        self._ale = AtariVectorEnv(
            self.game,
            num_envs,
            num_threads=num_threads,
            max_num_frames_per_episode=protocol.max_episode_frames,
            repeat_action_probability=protocol.repeat_action_probability,
            full_action_space=protocol.full_action_space,
            autoreset_mode=AutoresetMode.NEXT_STEP,
            img_height=FRAME_SIZE,
            img_width=FRAME_SIZE,
            grayscale=True,
            stack_num=STACK,
            frameskip=FRAME_SKIP,
            maxpool=True,
            # The native env draws NOOP frames from [0, noop_max - 1].
            noop_max=protocol.noop_max + 1,
            episodic_life=False,  # it would reset the whole game on a life loss
            life_loss_info=False,
            reward_clipping=False,
            use_fire_reset=protocol.fire_reset,
        )
        self.action_meanings = [a.name for a in self._ale.ale.get_action_set()]
        self.num_envs = num_envs
        self.single_observation_space = Box(0, 255, (STACK, FRAME_SIZE, FRAME_SIZE), np.uint8)
        self.num_actions = len(self.action_meanings)
        self.single_action_space = Discrete(self.num_actions)
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._seeded = False
        self._started = False
        self._zero_state()

    def _zero_state(self) -> None:
        n = self.num_envs
        self._score = np.zeros(n, dtype=np.float64)  # raw score of the game in progress
        self._steps = np.zeros(n, dtype=np.int64)
        self._lives = np.zeros(n, dtype=np.int32)
        self._after_done = np.zeros(n, dtype=bool)  # this step is the one after a done
        self._after_life_loss = np.zeros(n, dtype=bool)  # ... a life-loss done: play NOOP
        self._frames_in_life = np.full(n, STACK, dtype=np.int64)  # frames since a life began

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new game in every env; env i is seeded `seed + i` (default: make_atari's seed
        on the first reset; later resets without a seed continue each env's random stream)."""
        if options:
            raise ValueError(f"AtariVecEnv.reset takes no options, got {sorted(options)}")
        if seed is None and not self._seeded:
            seed = self.seed
        if seed is not None:
            if int(seed) < 0:
                raise ValueError(f"seed must be >= 0, got {seed}")
            self._seeded = True
        obs, info = self._ale.reset(seed=None if seed is None else int(seed))
        self._zero_state()
        self._lives[:] = info["lives"]
        self._started = True
        return obs, self._info(info)

    def step(
        self, actions: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = self._check_actions(actions)
        actions[self._after_life_loss] = NOOP
        obs, raw, game_over, truncated, ale_info = self._ale.step(actions)
        raw = raw.astype(np.float64)
        game_reset = self._after_done & ~self._after_life_loss  # the native env reset the game
        playing = ~game_reset
        self._score[playing] += raw[playing]
        self._steps[playing] += 1

        lives = ale_info["lives"]
        life_lost = playing & (lives > 0) & (lives < self._lives)
        self._lives[:] = lives
        self._pad_new_lives(obs)

        terminated = game_over | (self.life_loss_terminal & life_lost)
        reward = (np.sign(raw) if self.clip_rewards else raw).astype(np.float32)
        reward[self._after_done] = 0.0
        info = self._info(ale_info)
        finished = game_over | truncated
        if finished.any():
            info["episode"] = {
                "r": np.where(finished, self._score, 0.0),
                "l": np.where(finished, self._steps, 0),
            }
            info["_episode"] = finished
            self._score[finished] = 0.0
            self._steps[finished] = 0
        self._after_done = terminated | truncated
        self._after_life_loss = terminated & ~finished
        return obs, reward, terminated, truncated, info

    def _pad_new_lives(self, obs: np.ndarray) -> None:
        """A life is an episode: zero the frames from before the life began, as the native env
        does at a reset (its own stack keeps them, so this lasts STACK - 1 steps)."""
        self._frames_in_life = np.where(
            self._after_life_loss, 1, np.minimum(self._frames_in_life + 1, STACK)
        )
        if (self._frames_in_life < STACK).any():
            stale = np.arange(STACK) < (STACK - self._frames_in_life)[:, None]
            obs[stale] = 0

    def _check_actions(self, actions: Any) -> np.ndarray:
        a = np.asarray(actions)
        n = self.num_actions
        if a.shape != (self.num_envs,):
            raise ValueError(
                f"actions must have shape ({self.num_envs},), one per env, got shape {a.shape}"
            )
        if not np.issubdtype(a.dtype, np.integer):
            raise ValueError(f"actions must be integers, got dtype {a.dtype}")
        bad = (a < 0) | (a >= n)
        if bad.any():
            env = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"action {a[env]} for env {env} is outside the action space Discrete({n}) "
                f"of {self.game} ({', '.join(self.action_meanings)})"
            )
        return a.astype(np.int32)

    @staticmethod
    def _info(ale_info: dict[str, Any]) -> dict[str, Any]:
        return {k: ale_info[k] for k in ("lives", "frame_number", "episode_frame_number")}

    def close_extras(self, **kwargs: Any) -> None:
        self._ale.close()


def make_atari(
    game: str,
    *,
    num_envs: int = 1,
    protocol: Literal["dqn", "machado"] | AtariProtocol = "dqn",
    seed: int = 0,
    training: bool = True,
    num_threads: int = 0,
    **overrides: Any,
) -> AtariVecEnv:
    """A vector of `num_envs` Atari games with uint8 (num_envs, 4, 84, 84) observations.

    Args:
        game: "Pong", "ALE/Pong-v5", "PongNoFrameskip-v4" or the ROM id "pong"; an unknown name
            raises ValueError with close matches.
        protocol: "dqn" or "machado" (see the module docstring), or an `AtariProtocol`.
        seed: env i is seeded `seed + i` on the first reset.
        training: True clips rewards and (dqn) ends episodes on life loss; False reports raw
            rewards and ends at game over, the setting for evaluation.
        num_threads: emulator threads (0: one per env, up to the number of cores).
        overrides: any `AtariProtocol` field, e.g. `repeat_action_probability=0.25`.

    The returned env follows Gymnasium's NEXT_STEP autoreset (see `AtariVecEnv`); raw game
    scores are in `info["episode"]["r"]` on the step where each game ends. Needs ale-py
    (`pip install "rlsuite[atari]"`).
    """
    if isinstance(protocol, str):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}")
        protocol = PROTOCOLS[protocol]
    fields = set(AtariProtocol.__dataclass_fields__) - {"name"}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; protocol options are {sorted(fields)}")
    if overrides:
        protocol = replace(protocol, **overrides)
    return AtariVecEnv(
        game,
        num_envs=num_envs,
        protocol=protocol,
        training=training,
        seed=seed,
        num_threads=num_threads,
    )
