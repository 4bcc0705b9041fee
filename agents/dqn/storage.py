"""Experience storage for DQN, on the shared replay layer. Two stores, one interface:

- `TransitionStore`: n-step windows (`NStepAccumulator`), then a (prioritized) `ReplayBuffer`
  of whole transitions: any observation, legal-action masks. Rows completed by the windows are
  staged and written in one `add` right before the next sampling round: contents, priorities
  and eviction order equal one `add` per env step, at a fraction of the sum-tree updates.
- `FrameStore`: Atari frame stacks through `rlsuite.frame_replay.FrameReplay`, which keeps each
  84x84 frame once and computes n-step returns itself (about 7 KB per transition).

Both take one vector step at a time (`push`), sample n-step batches with `obs`, `action`,
`reward`, `discount`, `next_obs` (and `next_mask`, `weight`, `index`), and split their state in
two: the small part (pending windows) that goes with every checkpoint and the replay itself.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Protocol

import numpy as np

from rlsuite.frame_replay import FrameReplay
from rlsuite.replay import Batch, NStepAccumulator, PrioritizedReplayBuffer, ReplayBuffer


class Store(Protocol):
    def __len__(self) -> int:
        """Transitions ready to sample (after `flush`)."""
        ...

    def start(self, obs: np.ndarray) -> None:
        """Every env was just reset to `obs`: no window may reach back past this point."""
        ...

    def push(self, step: dict[str, np.ndarray], valid: np.ndarray | None) -> None: ...

    def flush(self) -> None: ...

    def sample(self, n: int, rng: np.random.Generator, beta: float) -> Batch: ...

    def update_priorities(self, index: np.ndarray, td_abs: np.ndarray) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def replay_state(self) -> dict[str, Any]: ...

    def load_replay_state(self, state: dict[str, Any]) -> None: ...


def transition_spec(
    obs_shape: tuple[int, ...], obs_dtype: np.dtype, num_actions: int, masked: bool
) -> dict[str, tuple[tuple[int, ...], Any]]:
    """Fields of one stored n-step transition: what `NStepAccumulator` emits, less the
    terminated/truncated flags, whose meaning for learning the discount already carries."""
    spec: dict[str, tuple[tuple[int, ...], Any]] = {
        "obs": (obs_shape, obs_dtype),
        "action": ((), np.int64),
        "reward": ((), np.float32),
        "discount": ((), np.float32),
        "next_obs": (obs_shape, obs_dtype),
    }
    if masked:
        spec["next_mask"] = ((num_actions,), np.bool_)
    return spec


class TransitionStore:
    """`push` one vector step of 1-step transitions, `sample` n-step ones."""

    def __init__(
        self,
        spec: dict[str, tuple[tuple[int, ...], Any]],
        capacity: int,
        *,
        num_envs: int,
        n_step: int,
        gamma: float,
        prioritized: bool,
        alpha: float,
    ) -> None:
        self.buffer: ReplayBuffer = (
            PrioritizedReplayBuffer(spec, capacity, alpha=alpha)
            if prioritized
            else ReplayBuffer(spec, capacity)
        )
        self.prioritized = prioritized
        self.nstep = NStepAccumulator(num_envs, n_step, gamma)
        self._staged: list[Batch] = []

    def __len__(self) -> int:
        return len(self.buffer)

    def start(self, obs: np.ndarray) -> None:
        self.nstep.reset()

    def push(self, step: dict[str, np.ndarray], valid: np.ndarray | None = None) -> None:
        """Add one step of every env. Rows with `valid` False (a next-step auto-reset) are fed
        to the windows as one-step episodes of their own and then dropped, so they neither
        reach the buffer nor join a real window. Pass `valid` on every call or on none."""
        if valid is not None:
            step = dict(step, valid=valid, truncated=step["truncated"] | ~valid)
        rows = self.nstep.push(step)
        if rows is None:
            return
        del rows["terminated"], rows["truncated"]
        if "valid" in rows:
            keep = rows.pop("valid")
            if not keep.any():
                return
            rows = {k: v[keep] for k, v in rows.items()}
        self._staged.append(rows)

    def flush(self) -> None:
        """Write staged rows to the buffer (call before sampling or saving)."""
        if not self._staged:
            return
        if len(self._staged) == 1:
            batch = self._staged[0]
        else:
            batch = {k: np.concatenate([b[k] for b in self._staged]) for k in self._staged[0]}
        self._staged.clear()
        self.buffer.add(batch)

    def sample(self, n: int, rng: np.random.Generator, beta: float) -> Batch:
        if isinstance(self.buffer, PrioritizedReplayBuffer):
            return self.buffer.sample(n, rng, beta=beta)
        return self.buffer.sample(n, rng)

    def update_priorities(self, index: np.ndarray, td_abs: np.ndarray) -> None:
        if isinstance(self.buffer, PrioritizedReplayBuffer):
            self.buffer.update_priorities(index, td_abs)

    def state_dict(self) -> dict[str, Any]:
        """The pending n-step windows."""
        self.flush()
        # arrays are copied: consecutive steps share them (one step's next_obs is the next
        # one's obs) and safetensors refuses tensors that share memory; scalars go to JSON
        windows = [
            [{k: np.array(v) if np.ndim(v) else v for k, v in row.items()} for row in window]
            for window in self.nstep.windows
        ]
        return {"windows": windows}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._staged.clear()
        self.nstep.windows = [
            deque({k: np.asarray(v) for k, v in row.items()} for row in window)
            for window in state["windows"]
        ]

    def replay_state(self) -> dict[str, Any]:
        self.flush()
        return self.buffer.state_dict()

    def load_replay_state(self, state: dict[str, Any]) -> None:
        self.buffer.load_state_dict(state)


class FrameStore:
    """Frame-stacked observations (uint8 (stack, H, W)) from a next-step auto-reset vector env,
    each frame stored once. Unmasked envs only (Atari)."""

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        capacity: int,
        *,
        num_envs: int,
        n_step: int,
        gamma: float,
        prioritized: bool,
        alpha: float,
    ) -> None:
        self.replay = FrameReplay(
            capacity,
            num_envs,
            frame_shape=obs_shape[1:],
            stack=obs_shape[0],
            n_step=n_step,
            gamma=gamma,
            prioritized=prioritized,
            alpha=alpha,
        )
        self.prioritized = prioritized

    def __len__(self) -> int:
        return len(self.replay)

    def start(self, obs: np.ndarray) -> None:
        self.replay.start(obs)

    def push(self, step: dict[str, np.ndarray], valid: np.ndarray | None) -> None:
        """`valid` is implied: FrameReplay recognises the reset steps itself."""
        if "next_mask" in step:
            raise ValueError("FrameStore holds unmasked (Atari) transitions only")
        self.replay.add(
            step["action"], step["reward"], step["terminated"], step["truncated"],
            step["next_obs"],
        )  # fmt: skip

    def flush(self) -> None:
        """Nothing is staged: each `add` updates the frame replay directly."""

    def sample(self, n: int, rng: np.random.Generator, beta: float) -> Batch:
        batch = self.replay.sample(n, rng, beta=beta)
        if not self.prioritized:
            del batch["weight"]  # all ones
        return batch

    def update_priorities(self, index: np.ndarray, td_abs: np.ndarray) -> None:
        if self.prioritized:
            self.replay.update_priorities(index, td_abs)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Nothing to restore: the frame stream restarts at `start` after a resume."""

    def replay_state(self) -> dict[str, Any]:
        return self.replay.state_dict()

    def load_replay_state(self, state: dict[str, Any]) -> None:
        self.replay.load_state_dict(state)
