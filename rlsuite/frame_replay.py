"""n-step replay for stacked-frame observations that stores every frame once (Atari).

A DQN observation is a stack of the last 4 frames, so consecutive observations share 3 of them:
storing stacks, as SB3's buffer does, keeps each 84x84 frame 8 times (obs and next_obs) and a
1M-transition buffer needs 56 GB. `FrameReplay` keeps one frame per env step and rebuilds
stacks by index at sampling time: about 7.1 KB per transition (`bytes_per_transition`), 7 GB
for a million. Slots, n-step windows, sampling and state are `rlsuite.nstep_replay.StepReplay`'s,
shared with the whole-observation `TransitionReplay`.

Row t holds the newest frame of the observation at step t with the step that left it (action,
reward, terminated, truncated). A row whose `valid` flag is off begins an episode (written by
`start`, or the autoreset step after a done); its step data is no transition. The observation
before the step of slot s is the stack of rows s-4..s-1 of its env, zeroed before the latest
episode start, which is exactly the zero-padded stack that `rlsuite.envs.atari.make_atari`
shows the agent at the start of every episode (including after a life loss in training).

Use with a Gymnasium vector env in NEXT_STEP autoreset mode (make_atari's):

    replay = FrameReplay(1_000_000, num_envs=8, n_step=3, gamma=0.99, prioritized=True)
    obs, _ = env.reset(seed=0)
    replay.start(obs)                     # after every env.reset()
    while training:
        action = agent.act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        replay.add(action, reward, terminated, truncated, obs)   # every step, reset steps too
        batch = replay.sample(32, rng)    # a Transitions batch
        target = batch.reward + batch.discount * max_a Q_target(batch.next_obs, a)
        replay.update_priorities(batch.index, abs(td_error))   # when prioritized

`add` takes the step's outputs as they come: for an env that reported terminated or truncated
on the previous step, this step is the autoreset step, so its action and reward are ignored and
its observation starts a new episode.
"""

from __future__ import annotations

from typing import Any, Unpack

import numpy as np

from rlsuite.nstep_replay import Step, StepReplay
from rlsuite.replay import SamplingOptions, Transform


class FrameReplay(StepReplay):
    """Ring replay of frame-stacked transitions from `num_envs` envs, each frame stored once.

    `capacity` counts transitions (env steps over all envs); `len()` is the number of
    transitions ready to sample.
    """

    def __init__(
        self,
        capacity: int,
        num_envs: int,
        *,
        frame_shape: tuple[int, ...] = (84, 84),
        stack: int = 4,
        n_step: int = 1,
        gamma: float = 0.99,
        transform: Transform | None = None,
        **sampling: Unpack[SamplingOptions],
    ) -> None:
        if stack < 1:
            raise ValueError(f"stack must be >= 1, got {stack}")
        self.stack = stack
        self.frame_shape = tuple(int(d) for d in frame_shape)
        super().__init__(capacity, num_envs, {"frame": (self.frame_shape, np.uint8)},
                         lookback=stack, n_step=n_step, gamma=gamma, transform=transform,
                         **sampling)  # fmt: skip
        self._streaming = False

    # ---- writing ---------------------------------------------------------------------------

    def start(self, obs: np.ndarray) -> None:
        """Begin every env's stream with the observations returned by `env.reset()`."""
        obs = self._check_obs(obs, "obs")
        self._check_fresh(obs, np.ones(self.num_envs, dtype=bool), "obs")
        self.restart()
        zeros = np.zeros(self.num_envs)
        no = np.zeros(self.num_envs, dtype=bool)
        self._write({"frame": obs[:, -1]}, zeros.astype(np.int32), zeros.astype(np.float32),
                    no, no, valid=no)  # fmt: skip
        self._streaming = True

    def _record(self, step: Step, next_obs: np.ndarray, obs: np.ndarray | None,
                next_mask: np.ndarray | None, valid: np.ndarray | None) -> None:  # fmt: skip
        """`valid`, if given, must agree with the stream (False exactly on the autoreset step
        after a done). Frames carry no masks."""
        if not self._streaming:
            raise ValueError("call start(obs) with the observations of env.reset() before add()")
        if next_mask is not None:
            raise ValueError("FrameReplay holds unmasked transitions only (next_mask given)")
        next_obs = self._check_obs(next_obs, "next_obs")
        first = self._after_done.copy()
        if valid is not None and not np.array_equal(np.asarray(valid, bool), ~first):
            raise ValueError(
                "valid does not match the stream: FrameReplay needs a NEXT_STEP autoreset env, "
                "whose step after a done (and only that one) is a reset"
            )
        self._check_fresh(next_obs, first, "next_obs")
        if self.stack > 1:
            going_on = ~first
            previous = self.storage.fields["frame"][(self.storage.pos - 1) % self.rows]
            if not np.array_equal(next_obs[going_on, -2], previous[going_on]):
                raise ValueError(
                    "next_obs does not continue the stored stream (its second-newest frame is not "
                    "the last frame added); pass the observation env.step returned, and call "
                    "start(obs) after every env.reset()"
                )
        self._write({"frame": next_obs[:, -1]}, *step, ~first)

    def _check_obs(self, obs: np.ndarray, name: str) -> np.ndarray:
        obs = np.asarray(obs)
        shape = (self.num_envs, self.stack, *self.frame_shape)
        if obs.shape != shape or obs.dtype != np.uint8:
            raise ValueError(f"{name} must be uint8 {shape}, got {obs.dtype} {obs.shape}")
        return obs

    def _check_fresh(self, obs: np.ndarray, first: np.ndarray, name: str) -> None:
        if first.any() and obs[first, :-1].any():
            env = int(np.flatnonzero(first & obs[:, :-1].reshape(self.num_envs, -1).any(1))[0])
            raise ValueError(
                f"{name} of env {env} begins an episode but its older frames are not zero: "
                "FrameReplay rebuilds the zero-padded stacks of make_atari (SB3's VecFrameStack)"
            )

    # ---- reading ---------------------------------------------------------------------------

    def _observations(
        self, row: np.ndarray, last: np.ndarray, env: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, None]:
        return self._stack((row - 1) % self.rows, env), self._stack(last, env), None

    def _stack(self, rows: np.ndarray, env: np.ndarray) -> np.ndarray:
        """Frames of rows t-stack+1..t, zeroed before the latest episode start."""
        window = (rows[:, None] - np.arange(self.stack - 1, -1, -1)) % self.rows
        frames = self.storage.fields["frame"][window, env[:, None]]
        first = ~self.storage.fields["valid"][window, env[:, None]]
        later_firsts = np.cumsum(first[:, ::-1], axis=1)[:, ::-1] - first
        frames[later_firsts > 0] = 0
        return frames

    # ---- checkpointing ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "streaming": self._streaming}

    def load_state_dict(self, state: Any) -> None:
        super().load_state_dict(state)
        self._streaming = bool(state["streaming"])

    def _config(self) -> dict[str, Any]:
        return {**super()._config(), "frame_shape": list(self.frame_shape), "stack": self.stack}
