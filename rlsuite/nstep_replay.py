"""n-step replay for Q-learning: vector-env steps in, typed n-step transitions out.

One implementation of the n-step bookkeeping serves two observation layouts:

- `TransitionReplay` stores each step's observation and next observation whole (any shape or
  dtype, plus legal-action masks), for any vector env;
- `rlsuite.frame_replay.FrameReplay` stores one frame per step and rebuilds frame stacks by
  index (Atari: about 7 KB per transition).

Both sit on a `ReplayBuffer` with one row per vector step (every field has a leading
`num_envs` axis, so env e's steps are column e of consecutive rows) and a `Sampler` over
slots `row * num_envs + env`. Slot s names the transition whose first step is stored in row s
(its action, reward, terminated and truncated flags). Its n-step window is rows s .. s+m-1 of
the same env, m <= n steps, cut after the step that ends the episode. Returns are computed at
sample time from the window (`StepReplay.get`), so nothing is staged or flushed: a slot becomes
sampleable in the `add` that completes its window (n steps later, or when the episode ends
sooner) and stops being sampleable when a row it reads is overwritten.

Termination versus truncation: both end the window, but only termination zeroes the discount;
a truncated window bootstraps from its last observation. A row that is no transition (the
reset step of a next-step auto-reset vector env, `valid` False) starts no window and ends the
episode before it.
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from typing import Any, NamedTuple, Unpack

import numba
import numpy as np

from rlsuite.replay import (
    FieldSpec,
    RowStore,
    Sampler,
    SamplingOptions,
    Transform,
    apply_transform,
)


@dataclasses.dataclass(frozen=True, slots=True)
class Transitions:
    """A batch of n-step transitions; B = batch size. A Q-learner's target is
    `reward + discount * Q(next_obs, a*)` with a* among the legal actions (`next_mask`)."""

    obs: np.ndarray
    """(B, *obs_shape) in the stored dtype (uint8 frames stay uint8)"""
    action: np.ndarray
    """int64 (B,): the action taken at `obs`"""
    reward: np.ndarray
    """float32 (B,): sum_k gamma^k r_{t+k} over the m <= n steps of the window"""
    discount: np.ndarray
    """float32 (B,): gamma^m, or 0 when the episode terminated inside the window"""
    next_obs: np.ndarray
    """(B, *obs_shape): the observation after the window's last step"""
    next_mask: np.ndarray | None
    """bool (B, num_actions): legal actions at `next_obs`; None when the replay has no masks"""
    weight: np.ndarray | None
    """float32 (B,): importance weights of prioritized replay (largest 1); None when uniform"""
    index: np.ndarray
    """int64 (B,): the slots drawn, for `update_priorities`"""


def _column_spec(num_envs: int, spec: FieldSpec) -> FieldSpec:
    return {name: ((num_envs, *shape), dtype) for name, (shape, dtype) in spec.items()}


@numba.njit(cache=True)
def _nstep_window(
    reward: np.ndarray,
    terminated: np.ndarray,
    truncated: np.ndarray,
    row: np.ndarray,
    env: np.ndarray,
    n: int,
    gamma: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one n-step rule: for each slot (row, env), the discounted reward sum over its window
    (up to n steps, cut after the step that ends the episode), the window's length m and its
    last row. Compiled (a Python loop per sample is too slow); `get` checks the slots first."""
    rows = reward.shape[0]
    total = np.empty(row.shape[0], dtype=np.float64)
    steps = np.empty(row.shape[0], dtype=np.int64)
    last = np.empty(row.shape[0], dtype=np.int64)
    for i in range(row.shape[0]):
        r, e, acc, discount, m = row[i], env[i], 0.0, 1.0, 1
        while True:
            acc += discount * reward[r, e]
            if m == n or terminated[r, e] or truncated[r, e]:
                break
            discount *= gamma
            r = (r + 1) % rows
            m += 1
        total[i], steps[i], last[i] = acc, m, r
    return total, steps, last


class Step(NamedTuple):
    """The checked step columns of one `add`, one entry per env."""

    action: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class StepReplay(abc.ABC):
    """The stream bookkeeping, n-step returns, sampling and state shared by both layouts.

    Subclasses store their observation fields (`obs_spec`, per env), check and write them in
    `_record` and read them back in `_observations`. `lookback` is how many rows before its
    own a slot's observation reads (the older frames of a stack), so overwriting a row also
    retires the slots that read it.
    """

    def __init__(
        self,
        capacity: int,
        num_envs: int,
        obs_spec: FieldSpec,
        *,
        lookback: int,
        n_step: int,
        gamma: float,
        transform: Transform | None,
        **sampling: Unpack[SamplingOptions],
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if n_step < 1:
            raise ValueError(f"n_step must be >= 1, got {n_step}")
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"gamma must lie in [0, 1], got {gamma}")
        rows = -(-int(capacity) // num_envs)
        if rows < lookback + n_step + 1:
            raise ValueError(
                f"capacity {capacity} is too small: it needs at least "
                f"{(lookback + n_step + 1) * num_envs} transitions for {num_envs} envs and "
                f"{n_step}-step returns" + (f" over stacks of {lookback}" if lookback else "")
            )
        self.num_envs, self.n_step, self.gamma, self.lookback = num_envs, n_step, gamma, lookback
        step_spec = {
            "action": ((), np.int32),
            "reward": ((), np.float32),
            "terminated": ((), np.bool_),
            "truncated": ((), np.bool_),
            "valid": ((), np.bool_),
        }
        self.storage = RowStore(_column_spec(num_envs, {**obs_spec, **step_spec}), rows)
        self.rows = rows
        self.capacity = rows * num_envs
        self.sampler = Sampler(self.capacity, **sampling)
        self.transform = transform
        self._age = np.zeros(num_envs, dtype=np.int64)  # steps of the episode up to the last row
        self._after_done = np.zeros(num_envs, dtype=bool)  # the last row ended an episode
        self._k = np.arange(1, n_step + 1)[:, None]  # window lengths, for `_write`
        self._stale = np.arange(lookback + 1)[:, None] * num_envs + np.arange(num_envs)

    def __len__(self) -> int:
        """Transitions ready to sample."""
        return len(self.sampler)

    @property
    def prioritized(self) -> bool:
        return self.sampler.prioritized

    @property
    def nbytes(self) -> int:
        """Bytes of the preallocated storage and the sampler."""
        return self.storage.nbytes + self.sampler.nbytes

    @property
    def bytes_per_transition(self) -> float:
        return self.nbytes / self.capacity

    # ---- writing ---------------------------------------------------------------------------

    def add(
        self,
        action: np.ndarray,
        reward: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        next_obs: np.ndarray,
        *,
        obs: np.ndarray | None = None,
        next_mask: np.ndarray | None = None,
        valid: np.ndarray | None = None,
    ) -> None:
        """Record one vector step: the actions sent and what `env.step` returned (the final
        observation where an episode ended). `obs`, the observations acted on, is needed by
        `TransitionReplay` (frames keep their own); `next_mask`, the legal actions at
        `next_obs`, exactly when the replay stores masks. `valid` False marks rows that are no
        transition (the reset step of next-step auto-reset); None: every row is one (frames
        know their reset steps)."""
        step = self._check_step(action, reward, terminated, truncated)
        self._record(step, np.asarray(next_obs), obs, next_mask, valid)

    @abc.abstractmethod
    def _record(self, step: Step, next_obs: np.ndarray, obs: np.ndarray | None,
                next_mask: np.ndarray | None, valid: np.ndarray | None) -> None:  # fmt: skip
        """Check the layout's fields and `_write` the row."""

    def _check_step(self, action: Any, reward: Any, terminated: Any, truncated: Any) -> Step:
        step = Step(
            np.asarray(action),
            np.asarray(reward, dtype=np.float32),
            np.asarray(terminated, dtype=bool),
            np.asarray(truncated, dtype=bool),
        )
        for name, value in zip(Step._fields, step, strict=True):
            if value.shape != (self.num_envs,):
                raise ValueError(
                    f"{name} must have shape ({self.num_envs},), one per env, got {value.shape}"
                )
        if step.action.dtype.kind not in "iu":
            raise ValueError(f"actions must be integers, got {step.action.dtype}")
        if not np.isfinite(step.reward).all():
            raise ValueError(f"rewards must be finite, got {step.reward}")
        return step

    def _check_field(self, name: str, value: Any) -> np.ndarray:
        """One per-env observation field of `add`, checked against the storage spec."""
        value = np.asarray(value)
        shape, dtype = self.storage.spec[name]
        if value.shape != shape:
            raise ValueError(f"{name} must have shape {shape}, one row per env, got {value.shape}")
        if not np.can_cast(value.dtype, dtype, casting="same_kind"):
            raise ValueError(f"{name}: dtype {value.dtype} cannot be stored as {dtype}")
        return value

    def _write(self, obs_fields: Mapping[str, np.ndarray], action: np.ndarray,
               reward: np.ndarray, terminated: np.ndarray, truncated: np.ndarray,
               valid: np.ndarray) -> int:  # fmt: skip
        """Append one row; retire the slots it overwrites, enable the windows it completes."""
        row = self.storage.pos
        self.sampler.disable(((row * self.num_envs + self._stale) % self.capacity).ravel())
        self.storage.add_checked_row(
            {**obs_fields, "action": action, "reward": reward, "terminated": terminated,
             "truncated": truncated, "valid": valid}
        )  # fmt: skip
        done = terminated | truncated
        self._age = np.where(valid, np.where(self._after_done, 0, self._age) + 1, 0)
        # slot row-k+1 (k <= its episode's steps so far) is complete when k == n or row ends it
        ks, envs = np.nonzero((self._k <= self._age) & (done | (self._k == self.n_step)))
        self.sampler.enable(((row - ks) % self.rows) * self.num_envs + envs)
        self._after_done = done
        return row

    def restart(self) -> None:
        """Every env begins a new episode: no window reaches back past this point."""
        self._age[:] = 0
        self._after_done[:] = False

    # ---- reading ---------------------------------------------------------------------------

    def sample(
        self, batch_size: int, rng: np.random.Generator, beta: float | None = None
    ) -> Transitions:
        """`batch_size` transitions, uniform or by priority (`beta` overrides the importance
        exponent), passed through the transform hook (which sees every array field but
        `weight` and `index`)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if not len(self):
            raise ValueError(
                "no complete transition to sample yet: add more steps "
                f"(each needs its {self.n_step}-step window)"
            )
        index, weight = self.sampler.sample(batch_size, rng, beta)
        batch = dataclasses.replace(self.get(index), weight=weight)
        if self.transform is None:
            return batch
        names = [f for f in ("obs", "action", "reward", "discount", "next_obs", "next_mask")
                 if getattr(batch, f) is not None]  # fmt: skip
        fields = apply_transform(self.transform, {f: getattr(batch, f) for f in names}, rng)
        return dataclasses.replace(batch, **fields)

    def get(self, index: np.ndarray) -> Transitions:
        """The transitions at `index` (slots from `sample` or `ready_index`), weight None."""
        index = np.asarray(index, dtype=np.int64)
        if index.ndim != 1 or (len(index) and (index.min() < 0 or index.max() >= self.capacity)):
            raise ValueError(f"slots must be a 1-d array in [0, {self.capacity})")
        f = self.storage.fields
        row, env = np.divmod(index, self.num_envs)
        reward, steps, last = _nstep_window(
            f["reward"], f["terminated"], f["truncated"], row, env, self.n_step, self.gamma
        )
        discount = np.where(f["terminated"][last, env], 0.0, self.gamma**steps)
        obs, next_obs, next_mask = self._observations(row, last, env)
        return Transitions(
            obs=obs,
            action=f["action"][row, env].astype(np.int64),
            reward=reward.astype(np.float32),
            discount=discount.astype(np.float32),
            next_obs=next_obs,
            next_mask=next_mask,
            weight=None,
            index=index,
        )

    @abc.abstractmethod
    def _observations(
        self, row: np.ndarray, last: np.ndarray, env: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """obs of the window starting at `row`, next obs and mask after its `last` row."""

    def ready_index(self) -> np.ndarray:
        """Slots of every sampleable transition (a scan of the whole buffer: for tests/tools)."""
        return np.flatnonzero(self.sampler.ready)

    def update_priorities(self, index: np.ndarray, priorities: np.ndarray) -> None:
        """Set |TD error|-style priorities for slots returned by `sample` (prioritized only).
        Slots overwritten since they were sampled are left alone."""
        self.sampler.update_priorities(index, priorities)

    # ---- checkpointing ---------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Numpy arrays and JSON values: the stored rows (under "fields", as a `ReplayBuffer`
        state), the sampler and the open episodes, so that after `load_state_dict` the stream
        continues where it stopped. If the envs cannot continue theirs, call `restart` (or
        `start` for frames) after loading."""
        return {
            **self.storage.state_dict(),
            "replay": self._config(),
            "sampler": self.sampler.state_dict(),
            "age": self._age.copy(),
            "after_done": self._after_done.copy(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if dict(state["replay"]) != self._config():
            raise ValueError(
                f"replay state does not fit this buffer: saved {dict(state['replay'])}, "
                f"buffer {self._config()}"
            )
        self.storage.load_state_dict(state)
        self.sampler.load_state_dict(state["sampler"])
        self._age = np.asarray(state["age"], dtype=np.int64).copy()
        self._after_done = np.asarray(state["after_done"], dtype=bool).copy()

    def _config(self) -> dict[str, Any]:
        return {
            "layout": type(self).__name__,
            "capacity": self.capacity,
            "num_envs": self.num_envs,
            "n_step": self.n_step,
            "gamma": self.gamma,
            "prioritized": self.prioritized,
            "alpha": self.sampler.alpha,
        }


class TransitionReplay(StepReplay):
    """n-step replay of whole observations from `num_envs` envs, in either auto-reset mode.

    `add` takes one vector step: the observations acted on, the actions, what `env.step`
    returned (the final observation where an episode ended) and, for masked envs, the legal
    actions at the next observations. `capacity` counts transitions over all envs.
    """

    def __init__(
        self,
        capacity: int,
        num_envs: int,
        obs_shape: tuple[int, ...],
        obs_dtype: np.dtype | type = np.float32,
        *,
        num_actions: int | None = None,
        n_step: int = 1,
        gamma: float = 0.99,
        transform: Transform | None = None,
        **sampling: Unpack[SamplingOptions],
    ) -> None:
        """`num_actions`: store legal-action masks of that width (`next_mask`); None: none."""
        self.obs_shape = tuple(int(d) for d in obs_shape)
        self.obs_dtype = np.dtype(obs_dtype)
        self.num_actions = num_actions
        spec: dict[str, tuple[tuple[int, ...], Any]] = {
            "obs": (self.obs_shape, self.obs_dtype),
            "next_obs": (self.obs_shape, self.obs_dtype),
        }
        if num_actions is not None:
            spec["next_mask"] = ((num_actions,), np.bool_)
        super().__init__(capacity, num_envs, spec, lookback=0, n_step=n_step, gamma=gamma,
                         transform=transform, **sampling)  # fmt: skip
        self._all_valid = np.ones(num_envs, dtype=bool)

    def _record(self, step: Step, next_obs: np.ndarray, obs: np.ndarray | None,
                next_mask: np.ndarray | None, valid: np.ndarray | None) -> None:  # fmt: skip
        if obs is None:
            raise ValueError("TransitionReplay.add needs obs=, the observations acted on")
        if (next_mask is None) != (self.num_actions is None):
            raise ValueError(
                "next_mask must be given exactly when the replay stores masks "
                f"(num_actions={self.num_actions})"
            )
        fields = {"obs": self._check_field("obs", obs),
                  "next_obs": self._check_field("next_obs", next_obs)}  # fmt: skip
        if next_mask is not None:
            fields["next_mask"] = self._check_field("next_mask", next_mask)
        valid = self._all_valid if valid is None else np.asarray(valid, bool)
        if valid.shape != (self.num_envs,):
            raise ValueError(f"valid must have shape ({self.num_envs},), got {valid.shape}")
        self._write(fields, *step, valid)

    def start(self, obs: np.ndarray) -> None:
        """Every env was just reset to `obs` (the observation arrives with each `add`)."""
        self.restart()

    def _observations(
        self, row: np.ndarray, last: np.ndarray, env: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        f = self.storage.fields
        mask = f["next_mask"][last, env] if self.num_actions is not None else None
        return f["obs"][row, env], f["next_obs"][last, env], mask
