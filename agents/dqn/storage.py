"""Experience storage for DQN on the shared replay layer: n-step windows, then a (prioritized)
ring buffer. Rows completed by the n-step windows are staged and written in one `add` right
before the next sampling round: the buffer's contents, priorities and eviction order are the
same as with one `add` per env step, at a fraction of the sum-tree updates."""

from __future__ import annotations

from collections import deque
from typing import Any

import numpy as np

from rlsuite.replay import Batch, NStepAccumulator, PrioritizedReplayBuffer, ReplayBuffer


def transition_spec(
    obs_shape: tuple[int, ...], obs_dtype: np.dtype, num_actions: int, masked: bool
) -> dict[str, tuple[tuple[int, ...], Any]]:
    """Fields of one stored n-step transition (what `NStepAccumulator` emits)."""
    spec: dict[str, tuple[tuple[int, ...], Any]] = {
        "obs": (obs_shape, obs_dtype),
        "action": ((), np.int64),
        "reward": ((), np.float32),
        "discount": ((), np.float32),
        "next_obs": (obs_shape, obs_dtype),
        "terminated": ((), np.bool_),
        "truncated": ((), np.bool_),
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
        return len(self.buffer) + sum(len(b["action"]) for b in self._staged)

    def push(self, step: dict[str, np.ndarray], valid: np.ndarray | None = None) -> None:
        """Add one step of every env. Rows with `valid` False (a next-step auto-reset) are fed
        to the windows as one-step episodes of their own and then dropped, so they neither
        reach the buffer nor join a real window. Pass `valid` on every call or on none."""
        if valid is not None:
            step = dict(step, valid=valid, truncated=step["truncated"] | ~valid)
        rows = self.nstep.push(step)
        if rows is None:
            return
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

    def state_dict(self, include_buffer: bool) -> dict[str, Any]:
        """Pending n-step windows always; the buffer itself when `include_buffer`."""
        self.flush()
        # arrays are copied: consecutive steps share them (one step's next_obs is the next
        # one's obs) and safetensors refuses tensors that share memory; scalars go to JSON
        windows = [
            [{k: np.array(v) if np.ndim(v) else v for k, v in row.items()} for row in window]
            for window in self.nstep.windows
        ]
        state: dict[str, Any] = {"windows": windows}
        if include_buffer:
            state["buffer"] = self.buffer.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._staged.clear()
        self.nstep.windows = [
            deque({k: np.asarray(v) for k, v in row.items()} for row in window)
            for window in state["windows"]
        ]
        if "buffer" in state:
            self.buffer.load_state_dict(state["buffer"])
