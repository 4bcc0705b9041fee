"""Replay for stacked-frame observations that stores every frame once (Atari).

A DQN observation is a stack of the last 4 frames, so consecutive observations share 3 of them:
storing stacks, as SB3's buffer does, keeps each 84x84 frame 8 times (obs and next_obs) and a
1M-transition buffer needs 56 GB. `FrameReplay` keeps one frame per env step in a
`rlsuite.replay.ReplayBuffer` and rebuilds stacks by index at sampling time: about 7.1 KB per
transition (`bytes_per_transition`), 7 GB for a million.

Storage: one row per vector step, every field with a leading `num_envs` axis, so env e's steps
are column e of consecutive rows and the ring wrap-around is the shared buffer's. Row t holds
the newest frame of the observation at step t plus the step that led to it (action, reward,
terminated, truncated), and a `first` flag for observations that begin an episode. A stack
takes the frames of rows t-3..t of its env, zeroing those before the latest `first` row, which
is exactly the zero-padded stack that `rlsuite.envs.atari.make_atari` shows the agent at the start
of every episode (including after a life loss in training): no stack spans two episodes.

Use with a Gymnasium vector env in NEXT_STEP autoreset mode (make_atari's):

    replay = FrameReplay(1_000_000, num_envs=8, n_step=3, gamma=0.99, prioritized=True)
    obs, _ = env.reset(seed=0)
    replay.start(obs)                     # after every env.reset()
    while training:
        action = agent.act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        replay.add(action, reward, terminated, truncated, obs)   # every step, reset steps too
        batch = replay.sample(32, rng)    # obs, action, reward, next_obs, discount, weight, index
        target = batch["reward"] + batch["discount"] * max_a Q_target(batch["next_obs"], a)
        replay.update_priorities(batch["index"], abs(td_error))   # when prioritized

`add` takes the step's outputs as they come: for an env that reported terminated or truncated
on the previous step, this step is the autoreset step, so its action and reward are ignored and
its observation starts a new episode. N-step returns are computed here, by looking n rows ahead
at sampling time (do not also pass transitions through `rlsuite.replay.NStepAccumulator`):
reward = sum_k gamma^k r_{t+k} over the steps up to n or the episode's end, and
discount = gamma^m, or 0 when the episode terminated within those m steps (truncation
bootstraps). A transition becomes sampleable once its n-step window is complete, so the newest
n - 1 steps of each env wait for their successors.

Prioritized replay (Schaul et al., ICLR 2016) draws transitions with probability proportional
to priority^alpha from a `rlsuite.replay.SumTree` over the same slots, with importance weights
(N P(i))^-beta / max; uniform replay uses the same tree with weight 1 for every sampleable
transition, so both share one code path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from rlsuite.replay import Batch, ReplayBuffer, SumTree


class FrameReplay:
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
        prioritized: bool = False,
        alpha: float = 0.6,
        beta: float = 0.4,
        eps: float = 1e-6,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if stack < 1 or n_step < 1:
            raise ValueError(f"stack and n_step must be >= 1, got {stack} and {n_step}")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
        rows = -(-int(capacity) // num_envs)
        if rows < stack + n_step + 1:
            raise ValueError(
                f"capacity {capacity} is too small: it needs at least "
                f"{(stack + n_step + 1) * num_envs} transitions for {num_envs} envs, "
                f"a stack of {stack} and {n_step}-step returns"
            )
        self.num_envs, self.stack, self.n_step, self.gamma = num_envs, stack, n_step, gamma
        self.frame_shape = tuple(int(d) for d in frame_shape)
        self.prioritized, self.alpha, self.beta, self.eps = prioritized, alpha, beta, eps
        self.storage = ReplayBuffer(
            {
                "frame": ((num_envs, *self.frame_shape), np.uint8),
                "action": ((num_envs,), np.int32),
                "reward": ((num_envs,), np.float32),
                "terminated": ((num_envs,), np.bool_),
                "truncated": ((num_envs,), np.bool_),
                "first": ((num_envs,), np.bool_),
            },
            rows,
        )
        self.rows = rows
        self.capacity = rows * num_envs
        self.tree = SumTree(self.capacity)  # 0 for slots that cannot be sampled
        self.max_priority = 1.0
        self._ready = 0
        self._streaming = False
        self._age = np.zeros(num_envs, dtype=np.int64)  # transitions since the episode began
        self._after_done = np.zeros(num_envs, dtype=bool)
        self._last_row = -1

    def __len__(self) -> int:
        return self._ready

    @property
    def nbytes(self) -> int:
        """Bytes of the preallocated storage and the sampling tree."""
        return self.storage.nbytes + self.tree.tree.nbytes

    @property
    def bytes_per_transition(self) -> float:
        return self.nbytes / self.capacity

    # ---- writing ---------------------------------------------------------------------------

    def start(self, obs: np.ndarray) -> None:
        """Begin every env's stream with the observations returned by `env.reset()`."""
        obs = self._check_obs(obs, "obs")
        self._check_fresh(obs, np.ones(self.num_envs, dtype=bool), "obs")
        zeros = np.zeros(self.num_envs)
        row = self._write(obs[:, -1], zeros, zeros, zeros, zeros, np.ones(self.num_envs, bool))
        self._update_tree(row, np.zeros(0, dtype=np.int64))
        self._age[:] = 0
        self._after_done[:] = False
        self._streaming = True

    def add(
        self,
        action: np.ndarray,
        reward: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        next_obs: np.ndarray,
    ) -> None:
        """Record one vector step: the actions sent and what `env.step` returned."""
        if not self._streaming:
            raise ValueError("call start(obs) with the observations of env.reset() before add()")
        next_obs = self._check_obs(next_obs, "next_obs")
        columns = {"action": action, "reward": reward}
        columns |= {"terminated": terminated, "truncated": truncated}
        for name, value in columns.items():
            if np.shape(value) != (self.num_envs,):
                raise ValueError(
                    f"{name} must have shape ({self.num_envs},), one per env, "
                    f"got {np.shape(value)}"
                )
        if not np.issubdtype(np.asarray(action).dtype, np.integer):
            raise ValueError(f"actions must be integers, got {np.asarray(action).dtype}")
        first = self._after_done.copy()
        self._check_fresh(next_obs, first, "next_obs")
        if self.stack > 1:
            going_on = ~first
            previous = self.storage.fields["frame"][self._last_row]
            if not np.array_equal(next_obs[going_on, -2], previous[going_on]):
                raise ValueError(
                    "next_obs does not continue the stored stream (its second-newest frame is not "
                    "the last frame added); pass the observation env.step returned, and call "
                    "start(obs) after every env.reset()"
                )
        row = self._write(next_obs[:, -1], action, reward, terminated, truncated, first)
        done = np.asarray(terminated, dtype=bool) | np.asarray(truncated, dtype=bool)
        self._age = np.where(first, 0, self._age + 1)
        self._update_tree(row, self._completed(row, first, done & ~first))
        self._after_done = done

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

    def _write(
        self,
        frame: np.ndarray,
        action: Any,
        reward: Any,
        terminated: Any,
        truncated: Any,
        first: np.ndarray,
    ) -> int:
        """Append one row to the storage; return its index."""
        row = self.storage.pos
        self.storage.add(
            {
                "frame": frame,
                "action": np.asarray(action).astype(np.int32),
                "reward": np.asarray(reward, dtype=np.float32),
                "terminated": np.asarray(terminated, dtype=bool),
                "truncated": np.asarray(truncated, dtype=bool),
                "first": first,
            }
        )
        self._last_row = row
        return row

    def _completed(self, row: int, first: np.ndarray, done: np.ndarray) -> np.ndarray:
        """Slots of the transitions whose n-step window ends at `row`.

        Start t = row - k (k <= episode age) completes when k == n, or for every k <= n when
        `row` ends the episode.
        """
        k = np.arange(1, self.n_step + 1)[:, None]
        ks, envs = np.nonzero(~first & (k <= self._age) & (done | (k == self.n_step)))
        return ((row - (ks + 1)) % self.rows) * self.num_envs + envs

    def _update_tree(self, row: int, completed: np.ndarray) -> None:
        """One sum-tree update per write: `completed` slots become sampleable at the largest
        priority; the written row and the stack - 1 rows after it (now the oldest, whose stacks
        would reach into the overwritten row) stop being sampleable; keeps the ready count."""
        stale_rows = (row + np.arange(self.stack)) % self.rows
        stale = (stale_rows[:, None] * self.num_envs + np.arange(self.num_envs)).ravel()
        slots = np.concatenate([stale, completed])  # disjoint: pending starts are the newest
        was_ready = self.tree.get(slots) > 0
        self._ready += int((~was_ready[len(stale) :]).sum()) - int(was_ready[: len(stale)].sum())
        value = self.max_priority**self.alpha if self.prioritized else 1.0
        weights = np.zeros(len(slots))
        weights[len(stale) :] = value
        self.tree.set(slots, weights)

    # ---- reading ---------------------------------------------------------------------------

    def sample(self, batch_size: int, rng: np.random.Generator, beta: float | None = None) -> Batch:
        """`batch_size` transitions, uniform or by priority; see `get` for the fields."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if self._ready == 0:
            raise ValueError(
                "no complete transition to sample yet: add more steps "
                f"(each needs its {self.n_step}-step window)"
            )
        total = self.tree.total
        if self.prioritized:  # stratified: one draw in each of batch_size equal segments
            mass = (np.arange(batch_size) + rng.random(batch_size)) * (total / batch_size)
        else:
            mass = rng.random(batch_size) * total
        index = self.tree.find(np.minimum(mass, np.nextafter(total, 0.0)))
        while (missed := self.tree.get(index) <= 0).any():  # float rounding at segment edges
            index[missed] = self.tree.find(rng.random(int(missed.sum())) * total)
        batch = self.get(index)
        if self.prioritized:
            probs = self.tree.get(index) / total
            weights = (self._ready * probs) ** -(self.beta if beta is None else beta)
            batch["weight"] = (weights / weights.max()).astype(np.float32)
        else:
            batch["weight"] = np.ones(batch_size, dtype=np.float32)
        return batch

    def get(self, index: np.ndarray) -> Batch:
        """Transitions at slot `index` (from `sample` or `ready_index`).

        Fields: obs, next_obs uint8 (B, stack, *frame_shape); action int64 (B,); reward float32
        (B,) the discounted n-step sum; discount float32 (B,) gamma^m, 0 if terminated; terminated
        bool (B,) whether the episode terminated within the window; index int64 (B,).
        """
        index = np.asarray(index, dtype=np.int64)
        f = self.storage.fields
        start, env = np.divmod(index, self.num_envs)
        window = (start[:, None] + np.arange(1, self.n_step + 1)) % self.rows
        ended = f["terminated"][window, env[:, None]] | f["truncated"][window, env[:, None]]
        # Step k counts while no earlier step of the window ended the episode.
        counts = np.concatenate([np.ones_like(ended[:, :1]), ~ended[:, :-1]], axis=1)
        counts = np.cumprod(counts, axis=1).astype(bool)
        steps = counts.sum(axis=1)
        discounts = self.gamma ** np.arange(self.n_step)
        rewards = f["reward"][window, env[:, None]].astype(np.float64)
        end = (start + steps) % self.rows
        terminated = f["terminated"][end, env]
        return {
            "obs": self._stack(start, env),
            "action": f["action"][(start + 1) % self.rows, env].astype(np.int64),
            "reward": (rewards * counts * discounts).sum(axis=1).astype(np.float32),
            "next_obs": self._stack(end, env),
            "discount": np.where(terminated, 0.0, self.gamma**steps).astype(np.float32),
            "terminated": terminated,
            "index": index,
        }

    def _stack(self, rows: np.ndarray, env: np.ndarray) -> np.ndarray:
        """Frames of rows t-stack+1..t, zeroed before the latest episode start."""
        window = (rows[:, None] - np.arange(self.stack - 1, -1, -1)) % self.rows
        frames = self.storage.fields["frame"][window, env[:, None]]
        first = self.storage.fields["first"][window, env[:, None]]
        later_firsts = np.cumsum(first[:, ::-1], axis=1)[:, ::-1] - first
        frames[later_firsts > 0] = 0
        return frames

    def ready_index(self) -> np.ndarray:
        """Slots of every sampleable transition (a scan of the whole buffer: for tests/tools)."""
        return np.flatnonzero(self.tree.get(np.arange(self.capacity)) > 0)

    def update_priorities(self, index: np.ndarray, priorities: np.ndarray) -> None:
        """Set |TD error|-style priorities for slots returned by `sample` (prioritized only).

        Slots overwritten since they were sampled are left alone.
        """
        if not self.prioritized:
            raise ValueError("update_priorities needs FrameReplay(..., prioritized=True)")
        index = np.asarray(index, dtype=np.int64)
        priorities = np.abs(np.asarray(priorities, dtype=np.float64)) + self.eps
        if priorities.shape != index.shape:
            raise ValueError(f"{priorities.shape} priorities for {index.shape} indices")
        if not np.all(np.isfinite(priorities)):
            raise ValueError("priorities must be finite")
        alive = self.tree.get(index) > 0
        if alive.any():
            self.max_priority = max(self.max_priority, float(priorities[alive].max()))
            self.tree.set(index[alive], priorities[alive] ** self.alpha)

    # ---- checkpointing ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Numpy arrays and JSON values. After loading, call `start(obs)` on freshly reset
        envs: a stream cannot continue into an env that was not saved with it."""
        return {
            "storage": self.storage.state_dict(),
            "sample_weights": self.tree.get(np.arange(self.storage.size * self.num_envs)).copy(),
            "max_priority": self.max_priority,
            "config": self._config(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if dict(state["config"]) != self._config():
            raise ValueError(
                f"replay state does not fit this buffer: saved {dict(state['config'])}, "
                f"buffer {self._config()}"
            )
        self.storage.load_state_dict(state["storage"])
        self.tree = SumTree(self.capacity)
        weights = np.asarray(state["sample_weights"], dtype=np.float64)
        if len(weights):
            self.tree.set(np.arange(len(weights)), weights)
        self._ready = int((weights > 0).sum())
        self.max_priority = float(state["max_priority"])
        self._streaming = False

    def _config(self) -> dict[str, Any]:
        return {
            "capacity": self.capacity,
            "num_envs": self.num_envs,
            "frame_shape": list(self.frame_shape),
            "stack": self.stack,
            "n_step": self.n_step,
            "gamma": self.gamma,
            "prioritized": self.prioritized,
            "alpha": self.alpha,
        }
