"""One replay layer for every agent: a typed ring buffer and the samplers built on it.

`ReplayBuffer` preallocates one numpy array per field, so memory is known up front and a batch
is a fancy index away. On that storage sit:

- uniform sampling (`ReplayBuffer.sample`), for DQN and AlphaZero;
- prioritized sampling (`PrioritizedReplayBuffer`, a sum tree; Schaul et al. 2016);
- n-step returns across a vector of envs (`NStepAccumulator`), which turns per-step
  transitions into n-step ones before they are added;
- rollout iteration (`ReplayBuffer.minibatches`), shuffled minibatches over a full rollout, for PPO.

State dicts hold numpy arrays and JSON values only, so `rlsuite.checkpoint` stores them without
pickle.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

import numba
import numpy as np
from numpy.typing import DTypeLike

FieldSpec = Mapping[str, tuple[tuple[int, ...], DTypeLike]]
"""Field name -> (shape of one row, dtype)."""

Batch = dict[str, np.ndarray]
"""Field name -> array with a leading batch dimension."""


class ReplayBuffer:
    """Preallocated ring storage of named fields.

    Rows live in `[0, len(self))`; once full, the oldest row is overwritten first, so the buffer
    always holds the newest `capacity` rows.
    """

    def __init__(self, spec: FieldSpec, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be positive, got {capacity}")
        if not spec:
            raise ValueError("spec must name at least one field")
        self.spec: dict[str, tuple[tuple[int, ...], np.dtype]] = {
            name: (tuple(int(d) for d in shape), np.dtype(dtype))
            for name, (shape, dtype) in spec.items()
        }
        self.capacity = int(capacity)
        self.fields: dict[str, np.ndarray] = {
            name: np.zeros((self.capacity, *shape), dtype=dtype)
            for name, (shape, dtype) in self.spec.items()
        }
        self.pos = 0
        self.size = 0
        self.total_added = 0

    def __len__(self) -> int:
        return self.size

    @property
    def nbytes(self) -> int:
        """Bytes held by the preallocated storage."""
        return sum(a.nbytes for a in self.fields.values())

    def validate(self, batch: Mapping[str, Any]) -> tuple[Batch, int]:
        """Check names, shapes and dtypes; return the batch as arrays with a batch dimension."""
        missing = sorted(set(self.spec) - set(batch))
        unexpected = sorted(set(batch) - set(self.spec))
        if missing or unexpected:
            raise ValueError(
                f"batch fields do not match the spec: missing {missing}, unexpected {unexpected}"
            )
        arrays: Batch = {}
        rows: int | None = None
        for name, (shape, dtype) in self.spec.items():
            arr = np.asarray(batch[name])
            if arr.shape == shape:
                arr = arr[None]
            elif arr.shape[1:] != shape:
                raise ValueError(
                    f"field {name!r}: shape {arr.shape} is neither one row {shape} "
                    f"nor a batch (n, {', '.join(map(str, shape))})"
                )
            if not np.can_cast(arr.dtype, dtype, casting="same_kind"):
                raise ValueError(f"field {name!r}: dtype {arr.dtype} cannot be stored as {dtype}")
            if rows is not None and arr.shape[0] != rows:
                raise ValueError(f"field {name!r}: {arr.shape[0]} rows, other fields have {rows}")
            rows = arr.shape[0]
            arrays[name] = arr
        assert rows is not None
        return arrays, rows

    def add(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Append one row or a batch of rows; return the indices written."""
        arrays, rows = self.validate(batch)
        if rows > self.capacity:  # only the newest rows can survive
            arrays = {k: v[-self.capacity :] for k, v in arrays.items()}
            self.total_added += rows - self.capacity
            rows = self.capacity
        index = (self.pos + np.arange(rows)) % self.capacity
        for name, arr in arrays.items():
            self.fields[name][index] = arr
        self.pos = (self.pos + rows) % self.capacity
        self.size = min(self.size + rows, self.capacity)
        self.total_added += rows
        self._written(index)
        return index

    def _written(self, index: np.ndarray) -> None:
        """Hook for subclasses that keep per-row metadata (priorities)."""

    def get(self, index: np.ndarray) -> Batch:
        """Rows at `index`, plus the indices themselves under "index"."""
        index = np.asarray(index, dtype=np.int64)
        batch = {name: arr[index] for name, arr in self.fields.items()}
        batch["index"] = index
        return batch

    def sample_index(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform indices over the stored rows."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer: add rows first")
        return rng.integers(0, self.size, size=n)

    def sample(self, n: int, rng: np.random.Generator) -> Batch:
        """n rows drawn uniformly with replacement."""
        return self.get(self.sample_index(n, rng))

    def minibatches(
        self, minibatch_size: int, rng: np.random.Generator, epochs: int = 1
    ) -> Iterator[Batch]:
        """Shuffled minibatches over every stored row, `epochs` passes (rollout iteration)."""
        if self.size == 0:
            raise ValueError("cannot iterate over an empty replay buffer: collect a rollout first")
        if minibatch_size <= 0:
            raise ValueError(f"minibatch_size must be positive, got {minibatch_size}")
        for _ in range(epochs):
            order = rng.permutation(self.size)
            for start in range(0, self.size, minibatch_size):
                yield self.get(order[start : start + minibatch_size])

    def time_major(self, name: str, num_envs: int) -> np.ndarray:
        """View of a field as (steps, num_envs, ...) for a rollout added one env step at a time."""
        if self.size % num_envs:
            raise ValueError(f"{self.size} rows do not split into steps of {num_envs} envs")
        arr = self.fields[name][: self.size]
        return arr.reshape(self.size // num_envs, num_envs, *arr.shape[1:])

    def clear(self) -> None:
        self.pos = 0
        self.size = 0

    def state_dict(self) -> dict[str, Any]:
        """Numpy arrays and JSON values only; rows outside `[0, len)` are not stored."""
        return {
            "spec": {n: [list(s), d.str] for n, (s, d) in self.spec.items()},
            "capacity": self.capacity,
            "pos": self.pos,
            "size": self.size,
            "total_added": self.total_added,
            "fields": {name: arr[: self.size].copy() for name, arr in self.fields.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        spec = {n: [list(s), d.str] for n, (s, d) in self.spec.items()}
        if state["spec"] != spec or state["capacity"] != self.capacity:
            raise ValueError(
                f"replay state does not fit this buffer: saved spec {state['spec']} with capacity "
                f"{state['capacity']}, buffer has {spec} with capacity {self.capacity}"
            )
        size = int(state["size"])
        for name, arr in state["fields"].items():
            self.fields[name][:size] = arr
        self.pos, self.size = int(state["pos"]), size
        self.total_added = int(state["total_added"])


@numba.njit(cache=True)
def _sum_tree_set(tree: np.ndarray, leaves: int, index: np.ndarray, values: np.ndarray) -> None:
    for i in range(index.shape[0]):
        node = leaves + index[i]
        tree[node] = values[i]
        node //= 2
        while node >= 1:
            tree[node] = tree[2 * node] + tree[2 * node + 1]
            node //= 2


class SumTree:
    """Binary tree whose internal nodes hold the sum of their leaves: O(log n) prefix search."""

    def __init__(self, capacity: int) -> None:
        self.leaves = 1 << max(0, (capacity - 1).bit_length())
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def get(self, index: np.ndarray) -> np.ndarray:
        return self.tree[self.leaves + np.asarray(index)]

    def set(self, index: np.ndarray, values: np.ndarray) -> None:
        """Set leaf values and refresh their ancestors (compiled: this runs on every add)."""
        index = np.asarray(index, dtype=np.int64)
        values = np.broadcast_to(np.asarray(values, dtype=np.float64), index.shape)
        _sum_tree_set(self.tree, self.leaves, index, np.ascontiguousarray(values))

    def find(self, mass: np.ndarray) -> np.ndarray:
        """Leaf index for each prefix mass in `[0, total)`."""
        mass = np.array(mass, dtype=np.float64)
        nodes = np.ones(mass.shape, dtype=np.int64)
        while nodes[0] < self.leaves:
            left = 2 * nodes
            go_right = mass >= self.tree[left]
            mass -= np.where(go_right, self.tree[left], 0.0)
            nodes = left + go_right
        return nodes - self.leaves


class PrioritizedReplayBuffer(ReplayBuffer):
    """Proportional prioritized replay (Schaul et al., ICLR 2016).

    A row is drawn with probability p_i^alpha / sum_k p_k^alpha; `sample` returns importance
    weights (N * P(i))^-beta normalised by their batch maximum. New rows get the largest
    priority seen so far, so each is replayed at least once soon after it arrives.
    """

    def __init__(
        self,
        spec: FieldSpec,
        capacity: int,
        *,
        alpha: float = 0.6,
        beta: float = 0.4,
        eps: float = 1e-6,
    ) -> None:
        super().__init__(spec, capacity)
        self.alpha, self.beta, self.eps = alpha, beta, eps
        self.tree = SumTree(capacity)
        self.max_priority = 1.0

    def _written(self, index: np.ndarray) -> None:
        self.tree.set(index, np.full(len(index), self.max_priority**self.alpha))

    def sample_index(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Stratified proportional draw: one uniform mass in each of n equal segments."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer: add rows first")
        total = self.tree.total
        mass = (np.arange(n) + rng.random(n)) * (total / n)
        index = self.tree.find(np.minimum(mass, np.nextafter(total, 0.0)))
        return np.minimum(index, self.size - 1)

    def sample(self, n: int, rng: np.random.Generator, beta: float | None = None) -> Batch:
        """Rows drawn by priority, with "weight" (importance sampling) and "index" fields."""
        index = self.sample_index(n, rng)
        probs = self.tree.get(index) / self.tree.total
        weights = (self.size * probs) ** -(self.beta if beta is None else beta)
        batch = self.get(index)
        batch["weight"] = (weights / weights.max()).astype(np.float32)
        return batch

    def update_priorities(self, index: np.ndarray, priorities: np.ndarray) -> None:
        """Set new priorities (typically |TD error|) for rows returned by `sample`."""
        priorities = np.abs(np.asarray(priorities, dtype=np.float64)) + self.eps
        if not np.all(np.isfinite(priorities)):
            raise ValueError("priorities must be finite")
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.set(index, priorities**self.alpha)

    def state_dict(self) -> dict[str, Any]:
        state = super().state_dict()
        state["priorities"] = self.tree.get(np.arange(self.size)).copy()
        state["max_priority"] = self.max_priority
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        super().load_state_dict(state)
        self.tree = SumTree(self.capacity)
        if self.size:
            self.tree.set(np.arange(self.size), np.asarray(state["priorities"]))
        self.max_priority = float(state["max_priority"])


class NStepAccumulator:
    """Turns one-step transitions from a vector of envs into n-step transitions.

    `push` takes one step of every env (fields with a leading `num_envs` axis) including
    "reward", "terminated" and "truncated". Fields named `next_*` are taken from the last step
    of the window, the others from its first step. Each emitted row carries
    reward = sum_k gamma^k r_{t+k} and discount = gamma^m (0 when the episode terminated inside
    the window), so a learner's target is `reward + discount * V(next_obs)`. When an episode
    ends, every pending window of that env is flushed with the steps it has, so no window spans
    two episodes.
    """

    def __init__(self, num_envs: int, n: int, gamma: float) -> None:
        if n < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        self.num_envs, self.n, self.gamma = num_envs, n, gamma
        self.windows: list[deque[dict[str, Any]]] = [deque() for _ in range(num_envs)]

    def push(self, step: Mapping[str, np.ndarray]) -> Batch | None:
        """Add one vector step; return the n-step rows completed by it (or None)."""
        for key in ("reward", "terminated", "truncated"):
            if key not in step:
                raise ValueError(f"step is missing field {key!r}")
        rows: list[dict[str, Any]] = []
        for env in range(self.num_envs):
            window = self.windows[env]
            window.append({k: np.asarray(v)[env] for k, v in step.items()})
            ended = bool(window[-1]["terminated"] or window[-1]["truncated"])
            if ended:
                while window:
                    rows.append(self._emit(window))
                    window.popleft()
            elif len(window) == self.n:
                rows.append(self._emit(window))
                window.popleft()
        if not rows:
            return None
        return {k: np.stack([r[k] for r in rows]) for k in rows[0]}

    def _emit(self, window: deque[dict[str, Any]]) -> dict[str, Any]:
        first, last = window[0], window[-1]
        row = {k: v for k, v in first.items() if not k.startswith("next_")}
        row.update({k: v for k, v in last.items() if k.startswith("next_")})
        row["reward"] = np.float32(
            sum(self.gamma**i * float(s["reward"]) for i, s in enumerate(window))
        )
        row["discount"] = np.float32(0.0 if last["terminated"] else self.gamma ** len(window))
        row["terminated"], row["truncated"] = last["terminated"], last["truncated"]
        return row

    def reset(self) -> None:
        for window in self.windows:
            window.clear()
