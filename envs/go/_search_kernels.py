"""Compiled Go steps for tree search over many games: one call per simulation step expands the
new leaf of every game (copy the parent's state row, play the edge's move, write the leaf's
legal mask and network planes, or score it when the game ended), so search never makes a
Python call per node.

Node states live in a flat batch of ``B * M`` state rows (layout of `rlsuite.envs.go.state`),
node n of game b at row ``b * M + n``. Values are utilities from the view of the player to
move: ``(1 - w) * result + w * (black area - white area) / points`` for black (the result is
+1 / 0 / -1 after komi, or the capture-Go winner) and its negative for white; a weight w > 0
makes the search prefer larger margins as well as wins.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from rlsuite.envs.go import _kernels as K


@nb.njit(cache=True)
def utility(hist, meta, nbr, cfg, komi, score_weight, area) -> float:
    """Utility of a finished game for the player to move (see the module docstring)."""
    K.area_counts(K.current_board(hist, meta), nbr, area)
    margin = float(area[0] - area[1])
    if cfg[K.CFG_CAPTURE] != 0:
        result = float(meta[K.WINNER])
    else:
        diff = margin - komi
        result = 1.0 if diff > 0 else (-1.0 if diff < 0 else 0.0)
    black = (1.0 - score_weight) * result + score_weight * margin / cfg[K.CFG_POINTS]
    return black if meta[K.TO_PLAY] == 0 else -black


@nb.njit(cache=True, inline="always")
def _copy_row(dst_data, dst_meta, dst, src_data, src_meta, src) -> None:
    """Copy state row src to row dst with loops: numba's slice assignment between views of
    one array copies through a temporary (it cannot rule out overlap), and that allocation
    cost more than the move played after it."""
    for i in range(dst_data.shape[1]):
        dst_data[dst, i] = src_data[src, i]
    for i in range(dst_meta.shape[1]):
        dst_meta[dst, i] = src_meta[src, i]


@nb.njit(cache=True)
def _describe(hists, chains, hashes, meta, row, b, n, nbr, keys, cfg, komi, score_weight,
              player, terminal, term_value, legal, planes, area, capture) -> bool:
    """Fill node (b, n)'s player, terminal flag and value or legal mask; write its planes into
    planes[b] when it needs the network (the return value)."""
    player[b, n] = meta[row, K.TO_PLAY]
    if meta[row, K.END] != K.END_NONE:
        terminal[b, n] = True
        term_value[b, n] = utility(hists[row], meta[row], nbr, cfg, komi, score_weight, area)
        legal[b, n, :] = False
        return False
    terminal[b, n] = False
    hist, ch, hs = hists[row], chains[row], hashes[row]
    K._mask_into(hist, ch, hs, meta[row], nbr, keys, cfg, legal[b, n], capture)
    K._encode_into(hist, meta[row], -1, planes[b])
    return True


@nb.njit(cache=True)
def load_roots(data, meta, hists, chains, hashes, capacity, src_data, src_meta, active, nbr,
               keys, cfg, komi, score_weight, player, terminal, term_value, legal, planes,
               needs_eval) -> None:
    """Copy game b's state (row b of src) into its root slot and describe the root, for every
    active game b (needs_eval[b] says whether planes[b] was written)."""
    area = np.empty(2, np.int64)
    capture = np.zeros(cfg[K.CFG_POINTS], np.bool_)
    for b in range(active.shape[0]):
        needs_eval[b] = False
        if not active[b]:
            continue
        row = b * capacity
        _copy_row(data, meta, row, src_data, src_meta, b)
        needs_eval[b] = _describe(hists, chains, hashes, meta, row, b, 0, nbr, keys, cfg, komi,
                                  score_weight, player, terminal, term_value, legal, planes,
                                  area, capture)


@nb.njit(cache=True, nogil=True)
def expand_leaves(data, meta, hists, chains, hashes, capacity, leaf, leaf_parent, action, nbr,
                  keys, cfg, komi, score_weight, player, terminal, term_value, legal, planes,
                  needs_eval) -> None:
    """For each game whose descent created a node (leaf_parent >= 0): its state is the
    parent's with the edge's move played; describe it (see `_describe`)."""
    area = np.empty(2, np.int64)
    capture = np.zeros(cfg[K.CFG_POINTS], np.bool_)
    for b in range(leaf.shape[0]):
        needs_eval[b] = False
        n = leaf[b]
        if n < 0 or leaf_parent[b] < 0:
            continue
        row = b * capacity + n
        _copy_row(data, meta, row, data, meta, b * capacity + leaf_parent[b])
        K.play(hists[row], chains[row], hashes[row], meta[row], action[b, n], nbr, keys, cfg)
        needs_eval[b] = _describe(hists, chains, hashes, meta, row, b, n, nbr, keys, cfg, komi,
                                  score_weight, player, terminal, term_value, legal, planes,
                                  area, capture)


@nb.njit(cache=True)
def move_rows(data, meta, capacity, kept, counts) -> None:
    """After subtree reuse: node j of game b takes the state of old node kept[b, j]."""
    for b in range(counts.shape[0]):
        for j in range(counts[b]):
            i = kept[b, j]
            if i != j:
                _copy_row(data, meta, b * capacity + j, data, meta, b * capacity + i)
