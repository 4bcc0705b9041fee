"""Go states as a struct of arrays: one state and a batch of states share one layout.

Every array has a leading batch axis; a `GoState` is a batch of one, so the same compiled
kernels serve both and copying a state is four `memcpy`s. With P = N * N points, H planes of
history and T = max_moves + 1:

- ``hist``   int8   [B, H, P]  the last H boards as a ring: the board after move m is row
  ``m % H`` (0 empty, 1 black, -1 white; point ``row * N + col``, row 0 at the top), so a
  move writes one board instead of shifting H of them.
- ``chains`` int32  [B, 7, P]  per point: chain head, next stone of the chain (a circular list),
  and, valid at a head, the chain's size, pseudo-liberty count, sum and sum of squares; last,
  the number of empty neighbours of every point.
- ``hashes`` uint64 [B, P + 128 + T]  Zobrist hash of each chain (at its head), an 8192-bit
  Bloom filter of the positions seen, and the board hash after each move (index = move number).
- ``meta``   int32  [B, 9]  to play (0 black, 1 white), consecutive passes, moves played,
  simple-ko point (-1 none), last action (-1 none), stones captured by black, by white,
  end reason (0 running, 1 two passes, 2 move cap, 3 capture in capture Go), winner of a
  capture game (1 black, -1 white, 0 none).

The column and row indices are the constants of `rlsuite.envs.go._kernels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np
from rlsuite.envs.go import _kernels as K


@dataclass(eq=False, slots=True)
class _Arrays:
    hist: np.ndarray
    chains: np.ndarray
    hashes: np.ndarray
    meta: np.ndarray

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(hist, chains, hashes, meta), the order every kernel takes them in."""
        return self.hist, self.chains, self.hashes, self.meta

    @property
    def boards(self) -> np.ndarray:
        """int8[B, P] copy of the current board of every game."""
        rows = self.meta[:, K.MOVES] % self.hist.shape[1]
        return self.hist[np.arange(self.hist.shape[0]), rows]

    def copy(self) -> Self:
        return type(self)(*(a.copy() for a in self.arrays))

    @property
    def points(self) -> int:
        return int(self.hist.shape[-1])


class GoState(_Arrays):
    """One Go position with its history (a batch of one; see the module docstring)."""

    __slots__ = ()

    @property
    def to_play(self) -> int:
        """0 when black is to move, 1 for white."""
        return int(self.meta[0, K.TO_PLAY])

    @property
    def move_count(self) -> int:
        return int(self.meta[0, K.MOVES])

    @property
    def last_move(self) -> int | None:
        last = int(self.meta[0, K.LAST])
        return None if last < 0 else last

    @property
    def ko_point(self) -> int | None:
        ko = int(self.meta[0, K.KO])
        return None if ko < 0 else ko

    @property
    def captures(self) -> tuple[int, int]:
        """Stones captured so far by (black, white)."""
        return int(self.meta[0, K.CAPS_BLACK]), int(self.meta[0, K.CAPS_WHITE])

    @property
    def position_hash(self) -> int:
        """Zobrist hash of the current board (equal boards hash equal; for transpositions)."""
        return int(self.hashes[0, self.points + K.BLOOM_WORDS + self.move_count])


class GoBatch(_Arrays):
    """Many Go states stacked on a leading axis (see the module docstring for the layout)."""

    __slots__ = ()

    @classmethod
    def stack(cls, states: Sequence[_Arrays]) -> GoBatch:
        """Stack states (or batches) of one game into a single batch."""
        if not states:
            raise ValueError("cannot stack an empty sequence of states")
        return cls(
            *(np.concatenate(parts) for parts in zip(*(s.arrays for s in states), strict=True))
        )

    def __len__(self) -> int:
        return int(self.meta.shape[0])

    def state(self, i: int) -> GoState:
        """A copy of board i as a stand-alone state."""
        j = range(len(self))[i]
        return GoState(*(a[j : j + 1].copy() for a in self.arrays))

    def take(self, indices: np.ndarray | Sequence[int]) -> GoBatch:
        """A new batch of the boards at `indices` (repeats allowed: MCTS expands from parents)."""
        idx = np.asarray(indices, dtype=np.int64)
        return GoBatch(*(a[idx] for a in self.arrays))

    def put(self, indices: np.ndarray | Sequence[int], source: _Arrays) -> None:
        """Overwrite the boards at `indices` with the boards of `source`, in order."""
        idx = np.asarray(indices, dtype=np.int64)
        for mine, theirs in zip(self.arrays, source.arrays, strict=True):
            mine[idx] = theirs

    @property
    def to_play(self) -> np.ndarray:
        """int32[B]: 0 where black is to move, 1 for white."""
        return self.meta[:, K.TO_PLAY].copy()

    @property
    def move_count(self) -> np.ndarray:
        return self.meta[:, K.MOVES].copy()
