"""Go states as a struct of arrays: one state and a batch of states share one layout.

A batch of B games is one byte buffer ``data`` uint8 [B, S] (one row per game) seen through
three typed views, plus ``meta`` int32 [B, 9]. A `GoState` is a batch of one, so the same
compiled kernels serve both, and copying a state or a whole batch is two ``memcpy``s: one
allocation for the bulk, because four separate arrays per batch made the allocator hand
pages back and fault them in again on every copy, at ten times the cost of the copy itself.
The views are made once per state object (kernels index them per game for free; unpacking
bytes inside the kernels cost more than the moves).

With P = N * N points, H boards of history and T = max_moves + 1, a row of ``data`` holds:

- ``hashes`` uint64 [P + 128 + T]  Zobrist hash of each chain (at its head), an 8192-bit
  Bloom filter of the positions seen, and the board hash after each move (index = move).
- ``chains`` int32  [7, P]  per point: chain head, next stone of the chain (a circular list),
  and, valid at a head, the chain's size, pseudo-liberty count, sum and sum of squares; last,
  the number of empty neighbours of every point.
- ``hist``   int8   [H, P]  the last H boards as a ring: the board after move m is row
  ``m % H`` (0 empty, 1 black, -1 white; point ``row * N + col``, row 0 at the top), so a
  move writes one board instead of shifting H of them.

``meta`` columns: to play (0 black, 1 white), consecutive passes, moves played, simple-ko
point (-1 none), last action (-1 none), stones captured by black, by white, end reason (0
running, 1 two passes, 2 move cap, 3 capture in capture Go), winner of a capture game (1
black, -1 white, 0 none). Row and column indices are the constants of `_kernels`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Self

import numpy as np

from rlsuite.envs.go import _kernels as K


class GoStateError(ValueError):
    """A state handed to `GoGame` is not a consistent state of that game: another type,
    another game's layout, or arrays whose contents were corrupted (the message says which
    field). Raised before any compiled rule code runs."""


@dataclass(frozen=True)
class Layout:
    """Where each typed array lives in a row of `data` (bytes)."""

    points: int
    depth: int
    hash_len: int
    off_chains: int
    off_hist: int
    row_bytes: int

    @classmethod
    def build(cls, points: int, depth: int, max_moves: int) -> Layout:
        hash_len = points + K.BLOOM_WORDS + max_moves + 1
        off_chains = 8 * hash_len
        off_hist = off_chains + 4 * K.N_CHAIN_ROWS * points
        row_bytes = -(-(off_hist + depth * points) // 8) * 8  # rows stay 8-byte aligned
        return cls(points, depth, hash_len, off_chains, off_hist, row_bytes)

    def views(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(hist [B, H, P], chains [B, 7, P], hashes [B, hash_len]) views into `data`."""
        size, row = data.shape[0], self.row_bytes
        points = self.points
        hist = np.ndarray(
            (size, self.depth, points), np.int8, data, self.off_hist, (row, points, 1)
        )
        chains = np.ndarray(
            (size, K.N_CHAIN_ROWS, points), np.int32, data, self.off_chains, (row, 4 * points, 4)
        )
        hashes = np.ndarray((size, self.hash_len), np.uint64, data, 0, (row, 8))
        return hist, chains, hashes


class _Arrays:
    """The byte buffer, its typed views and `meta` (see the module docstring)."""

    __slots__ = ("chains", "data", "hashes", "hist", "layout", "meta")

    def __init__(self, data: np.ndarray, meta: np.ndarray, layout: Layout) -> None:
        if not (
            isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == layout.row_bytes and data.flags.c_contiguous
        ):
            raise GoStateError(f"state data must be C-contiguous uint8 [B, {layout.row_bytes}]")
        if not (
            isinstance(meta, np.ndarray) and meta.shape == (data.shape[0], K.N_META)
            and meta.dtype == np.int32 and meta.flags.c_contiguous
        ):
            raise GoStateError(f"state meta must be C-contiguous int32 [{data.shape[0]}, "
                               f"{K.N_META}]")
        self.data = data
        self.meta = meta
        self.layout = layout
        self.hist, self.chains, self.hashes = layout.views(data)

    @property
    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(hist, chains, hashes, meta), the first four arguments of every kernel."""
        return self.hist, self.chains, self.hashes, self.meta

    @property
    def boards(self) -> np.ndarray:
        """int8 [B, P] copy of the current board of every game."""
        rows = self.meta[:, K.MOVES] % self.layout.depth
        return self.hist[np.arange(self.meta.shape[0]), rows]

    def copy(self) -> Self:
        return type(self)(self.data.copy(), self.meta.copy(), self.layout)


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
        return int(self.hashes[0, self.layout.points + K.BLOOM_WORDS + self.move_count])


class GoBatch(_Arrays):
    """Many Go states stacked on a leading axis (see the module docstring for the layout)."""

    __slots__ = ()

    @classmethod
    def stack(cls, states: Sequence[_Arrays]) -> GoBatch:
        """Stack states (or batches) of one game into a single batch."""
        if not states:
            raise ValueError("cannot stack an empty sequence of states")
        layout = states[0].layout
        if any(s.layout != layout for s in states):
            raise ValueError("cannot stack states of games with different layouts")
        data = np.concatenate([s.data for s in states])
        return cls(data, np.concatenate([s.meta for s in states]), layout)

    def __len__(self) -> int:
        return int(self.meta.shape[0])

    def state(self, i: int) -> GoState:
        """A copy of game i as a stand-alone state."""
        j = range(len(self))[i]
        return GoState(self.data[j : j + 1].copy(), self.meta[j : j + 1].copy(), self.layout)

    def take(self, indices: np.ndarray | Sequence[int]) -> GoBatch:
        """A new batch of the games at `indices` (repeats allowed: MCTS expands from parents)."""
        idx = np.asarray(indices, dtype=np.int64)
        return GoBatch(self.data[idx], self.meta[idx], self.layout)

    def put(self, indices: np.ndarray | Sequence[int], source: _Arrays) -> None:
        """Overwrite the games at `indices` with the games of `source`, in order."""
        if source.layout != self.layout:
            raise ValueError("cannot put states of a game with a different layout")
        idx = np.asarray(indices, dtype=np.int64)
        self.data[idx] = source.data
        self.meta[idx] = source.meta

    @property
    def to_play(self) -> np.ndarray:
        """int32[B]: 0 where black is to move, 1 for white."""
        return self.meta[:, K.TO_PLAY].copy()

    @property
    def move_count(self) -> np.ndarray:
        return self.meta[:, K.MOVES].copy()
