"""The 8 symmetries of a square Go board (dihedral group D4) for data augmentation.

Transform k rotates the board k % 4 quarter turns counter-clockwise, then mirrors it left to
right when k >= 4. `transform_planes` moves array contents; `action_permutations` says where
each action goes, so a policy target follows its planes and pass stays pass.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

NUM_SYMMETRIES = 8


def _check(k: int) -> None:
    if not 0 <= k < NUM_SYMMETRIES:
        raise ValueError(f"symmetry index must be in 0..7, got {k}")


def transform_planes(planes: np.ndarray, k: int) -> np.ndarray:
    """Apply symmetry k to the last two (row, column) axes of `planes`."""
    _check(k)
    out = np.rot90(planes, k % 4, axes=(-2, -1))
    if k >= 4:
        out = np.flip(out, axis=-1)
    return np.ascontiguousarray(out)


@lru_cache(maxsize=32)
def _permutations(n: int) -> np.ndarray:
    grid = np.arange(n * n).reshape(n, n)
    perms = np.empty((NUM_SYMMETRIES, n * n + 1), dtype=np.int64)
    for k in range(NUM_SYMMETRIES):
        moved = transform_planes(grid, k).ravel()  # moved[new point] = old point
        perms[k, moved] = np.arange(n * n)
        perms[k, n * n] = n * n
    perms.setflags(write=False)
    return perms


def action_permutations(n: int) -> np.ndarray:
    """int64[8, n*n+1]: perms[k, a] is where action a lands under symmetry k (read-only)."""
    return _permutations(n)


def transform_policy(policy: np.ndarray, k: int, n: int) -> np.ndarray:
    """Move a per-action vector (policy, mask, visit counts) [..., n*n+1] with symmetry k."""
    _check(k)
    out = np.empty_like(policy)
    out[..., action_permutations(n)[k]] = policy
    return out
