"""One replay layer for every agent: ring storage, one sampler, typed batches.

`ReplayBuffer` preallocates one numpy array per field, so memory is known up front and a batch
is a fancy index away. `Sampler` decides which slots of a storage are drawn: uniformly among
the sampleable ones, or in proportion to priority^alpha with importance weights (a sum tree;
Schaul et al. 2016). The same sampler serves `ReplayBuffer` (rows: AlphaZero, PPO rollouts)
and the n-step step replays of `rlsuite.nstep_replay` (plain and Atari-frame observations).

Around the storage:

- `ReplayBuffer.sample` draws a typed `Sample`; a `Transform` hook may rewrite its fields at
  sample time (augmentation: AlphaZero's 8 board symmetries);
- `ReplayBuffer.minibatches` iterates shuffled minibatches over a full rollout (PPO).

State dicts hold numpy arrays and JSON values only, so `rlsuite.checkpoint` stores them without
pickle, and loading one gives back a buffer that samples exactly as the saved one would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypedDict, Unpack

import numba
import numpy as np
from numpy.typing import DTypeLike

FieldSpec = Mapping[str, tuple[tuple[int, ...], DTypeLike]]
"""Field name -> (shape of one row, dtype)."""

Fields = dict[str, np.ndarray]
"""Field name -> array with a leading batch dimension."""

Transform = Callable[[Fields, np.random.Generator], Fields]
"""Sample-time hook: `transform(fields, rng) -> fields`.

It receives a sampled batch's fields (name -> (B, ...) array, fresh copies it may change in
place) and the generator `sample` was given, and returns fields with the same names, shapes
and dtypes, row i still describing sample i. AlphaZero registers its board symmetries here:
draw one of the 8 per row from `rng`, apply it to the planes, the policy target and the legal
mask alike. Drawing from `rng` keeps sampling reproducible and resumable.
"""


def apply_transform(transform: Transform, fields: Fields, rng: np.random.Generator) -> Fields:
    """Run the hook and check that it kept every field's name, shape and dtype."""
    out = transform(fields, rng)
    if set(out) != set(fields):
        raise ValueError(
            f"replay transform returned fields {sorted(out)}, expected {sorted(fields)}"
        )
    for name, before in fields.items():
        after = out[name]
        if not isinstance(after, np.ndarray) or after.shape != before.shape:
            raise ValueError(
                f"replay transform changed field {name!r}: shape {np.shape(after)}, "
                f"expected {before.shape}"
            )
        if after.dtype != before.dtype:
            raise ValueError(
                f"replay transform changed field {name!r}: dtype {after.dtype}, "
                f"expected {before.dtype}"
            )
    return out


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
    """Binary tree whose internal nodes hold the sum of their leaves: O(log n) prefix search.

    Internal nodes are recomputed from their children, never updated incrementally, so the tree
    is a function of its leaves: rebuilding it from saved leaves gives identical sums.
    """

    def __init__(self, capacity: int) -> None:
        self.leaves = 1 << max(0, (capacity - 1).bit_length())
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def get(self, index: np.ndarray) -> np.ndarray:
        return self.tree[self.leaves + np.asarray(index)]

    def set(self, index: np.ndarray, values: np.ndarray | float) -> None:
        """Set leaf values and refresh their ancestors (compiled: this runs on every add).
        Callers pass indices in [0, capacity): the compiled loop does no bounds checks."""
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


class SamplingOptions(TypedDict, total=False):
    """Keyword options of every replay's sampling (see `Sampler`; defaults there)."""

    prioritized: bool
    alpha: float
    beta: float
    eps: float


class Sampler:
    """Draws slots of a storage: uniformly, or by priority (proportional prioritized replay).

    The storage tells it which slots are sampleable (`enable`, `disable`): every written row of
    a `ReplayBuffer`; only the transitions whose n-step window is complete and whose frames
    survive in a step replay. Uniform draws are rejection-sampled from `[0, extent)`, the
    slots ever enabled, which are nearly all sampleable. Prioritized draws pick slot i with
    probability p_i^alpha / sum_k p_k^alpha (stratified: one draw in each of B equal segments
    of the total) and weigh it by (N P(i))^-beta, normalised by the batch maximum. A newly
    enabled slot gets the largest priority seen so far, so each is replayed soon after it
    arrives.
    """

    def __init__(
        self,
        capacity: int,
        *,
        prioritized: bool = False,
        alpha: float = 0.6,
        beta: float = 0.4,
        eps: float = 1e-6,
    ) -> None:
        if alpha < 0 or beta < 0 or eps <= 0:
            raise ValueError(
                f"prioritized replay needs alpha >= 0, beta >= 0 and eps > 0, "
                f"got alpha={alpha}, beta={beta}, eps={eps}"
            )
        self.capacity = int(capacity)
        self.prioritized, self.alpha, self.beta, self.eps = prioritized, alpha, beta, eps
        self.ready = np.zeros(self.capacity, dtype=bool)
        self.count = 0
        self.extent = 0
        self.tree = SumTree(self.capacity) if prioritized else None
        self.max_priority = 1.0

    def __len__(self) -> int:
        return self.count

    @property
    def nbytes(self) -> int:
        return self.ready.nbytes + (0 if self.tree is None else self.tree.tree.nbytes)

    def enable(self, slots: np.ndarray) -> None:
        """Make distinct `slots` sampleable at the largest priority seen so far."""
        if not len(slots):
            return
        self.count += int(np.count_nonzero(~self.ready[slots]))
        self.ready[slots] = True
        self.extent = max(self.extent, int(slots.max()) + 1)
        if self.tree is not None:
            self.tree.set(slots, self.max_priority**self.alpha)

    def disable(self, slots: np.ndarray) -> None:
        """Make distinct `slots` unsampleable (overwritten, or their data went stale)."""
        self.count -= int(np.count_nonzero(self.ready[slots]))
        self.ready[slots] = False
        if self.tree is not None:
            self.tree.set(slots, 0.0)

    def clear(self) -> None:
        self.ready[:] = False
        self.count = self.extent = 0
        if self.tree is not None:
            self.tree = SumTree(self.capacity)

    def sample(
        self, n: int, rng: np.random.Generator, beta: float | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """`n` sampleable slots and their importance weights (None when uniform)."""
        if n < 1:
            raise ValueError(f"batch size must be >= 1, got {n}")
        if self.count == 0:
            raise ValueError("nothing to sample")
        if self.tree is None:
            index = rng.integers(0, self.extent, size=n)
            while not (hit := self.ready[index]).all():
                index[~hit] = rng.integers(0, self.extent, size=n - int(hit.sum()))
            return index, None
        total = self.tree.total
        mass = (np.arange(n) + rng.random(n)) * (total / n)
        index = self.tree.find(np.minimum(mass, np.nextafter(total, 0.0)))
        while not (hit := self.ready[index]).all():  # float rounding at segment edges
            mass = rng.random(n - int(hit.sum())) * total
            index[~hit] = self.tree.find(np.minimum(mass, np.nextafter(total, 0.0)))
        probs = self.tree.get(index) / total
        weights = (self.count * probs) ** -(self.beta if beta is None else beta)
        return index, (weights / weights.max()).astype(np.float32)

    def update_priorities(self, index: np.ndarray, priorities: np.ndarray) -> None:
        """Set new priorities (typically |TD error|) for slots returned by `sample`; slots that
        stopped being sampleable since (overwritten) are left alone."""
        if self.tree is None:
            raise ValueError("update_priorities needs prioritized replay (prioritized=True)")
        index = np.asarray(index)
        priorities = np.abs(np.asarray(priorities, dtype=np.float64))
        if priorities.shape != index.shape or index.ndim != 1:
            raise ValueError(
                f"{priorities.shape} priorities for {index.shape} indices: pass one per slot"
            )
        if not np.issubdtype(index.dtype, np.integer):
            raise ValueError(f"slot indices must be integers, got {index.dtype}")
        if len(index) and (index.min() < 0 or index.max() >= self.capacity):
            raise ValueError(f"slot indices must lie in [0, {self.capacity})")
        if not np.all(np.isfinite(priorities)):
            raise ValueError("priorities must be finite")
        alive = self.ready[index]
        if alive.any():
            priorities = priorities[alive] + self.eps
            self.max_priority = max(self.max_priority, float(priorities.max()))
            self.tree.set(index[alive], priorities**self.alpha)

    def state_dict(self) -> dict[str, Any]:
        state: dict[str, Any] = {
            "ready": self.ready[: self.extent].copy(),
            "max_priority": self.max_priority,
        }
        if self.tree is not None:
            state["priorities"] = self.tree.get(np.arange(self.extent)).copy()
        return state

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        ready = np.asarray(state["ready"], dtype=bool)
        if ready.ndim != 1 or len(ready) > self.capacity:
            raise ValueError(f"sampler state holds {ready.shape} slots, capacity {self.capacity}")
        self.clear()
        self.extent = len(ready)
        self.ready[: self.extent] = ready
        self.count = int(ready.sum())
        self.max_priority = float(state["max_priority"])
        if self.tree is not None:
            priorities = np.asarray(state["priorities"], dtype=np.float64)
            if priorities.shape != ready.shape or not np.all(np.isfinite(priorities)):
                raise ValueError("sampler state: priorities must be finite, one per slot")
            self.tree.set(np.arange(self.extent), priorities)


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """Rows drawn from a `ReplayBuffer`; B = rows drawn."""

    fields: Fields
    """every spec field, (B, *shape) in the spec's dtype (after the transform hook, if any)"""
    index: np.ndarray
    """int64 (B,): the rows drawn, for `update_priorities`"""
    weight: np.ndarray | None
    """float32 (B,): importance weights of prioritized replay, largest 1; None when uniform"""


class RowStore:
    """Preallocated ring storage of named fields, without sampling (the storage under
    `ReplayBuffer` and the step replays).

    Rows live in `[0, len(self))`; once full, the oldest row is overwritten first, so the store
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
        self.fields: Fields = {
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

    def validate(self, batch: Mapping[str, Any]) -> tuple[Fields, int]:
        """Check names, shapes and dtypes; return the batch as arrays with a batch dimension."""
        missing = sorted(set(self.spec) - set(batch))
        unexpected = sorted(set(batch) - set(self.spec))
        if missing or unexpected:
            raise ValueError(
                f"batch fields do not match the spec: missing {missing}, unexpected {unexpected}"
            )
        arrays: Fields = {}
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
        self._advance(rows)
        return index

    def add_checked_row(self, row: Mapping[str, np.ndarray]) -> int:
        """Append one row whose every field the caller has already checked against the spec
        (the per-step path of the step replays, where `validate` would cost more than the
        write); return its index."""
        index = self.pos
        for name, arr in row.items():
            self.fields[name][index] = arr
        self._advance(1)
        return index

    def _advance(self, rows: int) -> None:
        self.pos = (self.pos + rows) % self.capacity
        self.size = min(self.size + rows, self.capacity)
        self.total_added += rows

    def get(self, index: np.ndarray) -> Fields:
        """Every field at rows `index` (copies)."""
        index = np.asarray(index, dtype=np.int64)
        return {name: arr[index] for name, arr in self.fields.items()}

    def clear(self) -> None:
        self.pos = 0
        self.size = 0

    def state_dict(self) -> dict[str, Any]:
        """Numpy arrays and JSON values only; rows outside `[0, len)` are not stored."""
        return {
            "spec": self._spec_json(),
            "capacity": self.capacity,
            "pos": self.pos,
            "size": self.size,
            "total_added": self.total_added,
            "fields": {name: arr[: self.size].copy() for name, arr in self.fields.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if (state["spec"], state["capacity"]) != (self._spec_json(), self.capacity):
            raise ValueError(
                f"replay state does not fit this buffer: saved spec {state['spec']}, capacity "
                f"{state['capacity']}; buffer has {self._spec_json()}, {self.capacity}"
            )
        size = int(state["size"])
        for name, arr in state["fields"].items():
            if np.shape(arr) != (size, *self.spec[name][0]):
                raise ValueError(f"replay state: field {name!r} has shape {np.shape(arr)}")
            self.fields[name][:size] = arr
        self.pos, self.size = int(state["pos"]), size
        self.total_added = int(state["total_added"])

    def _spec_json(self) -> dict[str, list[Any]]:
        return {n: [list(s), d.str] for n, (s, d) in self.spec.items()}


class ReplayBuffer(RowStore):
    """Ring storage of named fields, sampled uniformly or by priority.

    `transform` (see `Transform`) rewrites the fields of every `sample`; `minibatches` hands
    out stored rows as they are.
    """

    def __init__(
        self,
        spec: FieldSpec,
        capacity: int,
        *,
        transform: Transform | None = None,
        **sampling: Unpack[SamplingOptions],
    ) -> None:
        super().__init__(spec, capacity)
        self.sampler = Sampler(self.capacity, **sampling)
        self.transform = transform

    @property
    def prioritized(self) -> bool:
        return self.sampler.prioritized

    @property
    def nbytes(self) -> int:
        """Bytes held by the preallocated storage and the sampler."""
        return super().nbytes + self.sampler.nbytes

    def add(self, batch: Mapping[str, Any]) -> np.ndarray:
        """Append one row or a batch of rows; return the indices written (now sampleable)."""
        index = super().add(batch)
        self.sampler.enable(index)
        return index

    def sample(self, n: int, rng: np.random.Generator, beta: float | None = None) -> Sample:
        """n rows drawn with replacement, uniformly or by priority (`beta` overrides the
        importance-weight exponent), then passed through the transform hook."""
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay buffer: add rows first")
        index, weight = self.sampler.sample(n, rng, beta)
        fields = self.get(index)
        if self.transform is not None:
            fields = apply_transform(self.transform, fields, rng)
        return Sample(fields, index, weight)

    def update_priorities(self, index: np.ndarray, priorities: np.ndarray) -> None:
        """New priorities (typically |TD error|) for rows returned by `sample`."""
        self.sampler.update_priorities(index, priorities)

    def minibatches(
        self, minibatch_size: int, rng: np.random.Generator, epochs: int = 1
    ) -> Iterator[Fields]:
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
        super().clear()
        self.sampler.clear()

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "prioritized": self.prioritized,
            "sampler": self.sampler.state_dict(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state["prioritized"] != self.prioritized:
            raise ValueError(
                f"replay state does not fit this buffer: saved prioritized="
                f"{state['prioritized']}, buffer prioritized={self.prioritized}"
            )
        super().load_state_dict(state)
        self.sampler.load_state_dict(state["sampler"])
