"""Consistency check of Go states before the compiled rules touch them.

The kernels of `_kernels` trust their input: numba checks no bounds, so a state whose meta row
or chain arrays were corrupted (by a user, a bad file, a bit flip) makes them read and write
outside their arrays (a segfault or silent heap damage) or walk a chain list that never closes
(a hang). `check_batch` verifies, with every index checked before it is used and every loop
bounded, the invariants those kernels rely on: meta values in range, board values in -1..1,
chain heads, circular chain lists, sizes, pseudo-liberties, free-neighbour counts and Zobrist
hashes that agree with the board. It costs about as much as one legal-mask pass.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from rlsuite.envs.go._kernels import (
    BLOOM_WORDS,
    CAPS_BLACK,
    CAPS_WHITE,
    CFG_MAX_MOVES,
    CFG_POINTS,
    END,
    END_CAPTURE,
    END_NONE,
    FREE,
    HEAD,
    KO,
    LAST,
    LIB_SQ,
    LIB_SUM,
    LIBS,
    MOVES,
    NEXT,
    PASSES,
    SIZE,
    TO_PLAY,
    WINNER,
)

PROBLEMS = (
    "",
    "meta to_play is not 0 or 1",
    "meta moves is outside 0..max_moves (or at max_moves in a running game)",
    "meta end reason is not a known code",
    "meta winner is not -1, 0 or 1",
    "meta passes or captures are negative",
    "meta ko point is not -1 or an empty point",
    "meta last move is outside -1..N*N",
    "a board value is not -1, 0 or 1",
    "a free-neighbour count disagrees with the board",
    "a chain head or next pointer is out of range or inconsistent",
    "a chain list does not close or its size is wrong",
    "a chain's pseudo-liberties disagree with the board",
    "a chain has no liberty",
    "a chain hash or the position hash disagrees with the board",
)
"""Message of each problem code `check_batch` returns (0: none)."""


@nb.njit(cache=True)
def _check_meta(meta, board, points, max_moves) -> int:
    if meta[TO_PLAY] != 0 and meta[TO_PLAY] != 1:
        return 1
    if meta[MOVES] < 0 or meta[MOVES] > max_moves or (
        meta[MOVES] == max_moves and meta[END] == END_NONE
    ):
        return 2
    if meta[END] < END_NONE or meta[END] > END_CAPTURE:
        return 3
    if meta[WINNER] < -1 or meta[WINNER] > 1:
        return 4
    if meta[PASSES] < 0 or meta[CAPS_BLACK] < 0 or meta[CAPS_WHITE] < 0:
        return 5
    ko = meta[KO]
    if ko < -1 or ko >= points or (ko >= 0 and board[ko] != 0):
        return 6
    if meta[LAST] < -1 or meta[LAST] > points:
        return 7
    return 0


@nb.njit(cache=True)
def _check_chains(board, ch, hs, nbr, keys, points, acc, key, position) -> int:
    """One pass over the points accumulates, per chain head, the stone count and the
    pseudo-liberties (count, sum, sum of squares) and Zobrist key the board implies; a
    second compares them with the head's entries, walks each chain list (bounded), and
    checks the recorded hash of the position (`position`) against the chains'."""
    acc[:] = 0
    key[:] = 0
    for p in range(points):
        free = 0
        lsum = 0
        lsq = 0
        for j in range(1, nbr[p, 0] + 1):
            q = nbr[p, j]
            if board[q] == 0:
                free += 1
                lsum += q
                lsq += q * q
        if ch[FREE, p] != free:
            return 9
        v = board[p]
        if v == 0:
            continue
        h = ch[HEAD, p]
        nx = ch[NEXT, p]
        if h < 0 or h >= points or nx < 0 or nx >= points:
            return 10
        if board[h] != v or ch[HEAD, h] != h or board[nx] != v or ch[HEAD, nx] != h:
            return 10
        for j in range(1, nbr[p, 0] + 1):
            q = nbr[p, j]
            if board[q] == v and ch[HEAD, q] != h:
                return 10
        acc[0, h] += 1
        acc[1, h] += free
        acc[2, h] += lsum
        acc[3, h] += lsq
        key[h] ^= keys[0 if v == 1 else 1, p]
    for h in range(points):
        if board[h] == 0 or ch[HEAD, h] != h:
            continue
        size = acc[0, h]
        if ch[SIZE, h] != size:
            return 11
        if ch[LIBS, h] != acc[1, h] or ch[LIB_SUM, h] != acc[2, h] or ch[LIB_SQ, h] != acc[3, h]:
            return 12
        if acc[1, h] == 0:
            return 13
        if hs[h] != key[h]:
            return 14
        position ^= key[h]
        s = ch[NEXT, h]
        steps = 1
        while s != h and steps <= size:  # every member has head h (checked above)
            s = ch[NEXT, s]
            steps += 1
        if steps != size:
            return 11
    return 14 if position != 0 else 0


@nb.njit(cache=True)
def _bad_values(board) -> bool:
    for p in range(board.shape[0]):  # noqa: SIM110 (numba compiles loops, not generators)
        if board[p] < -1 or board[p] > 1:
            return True
    return False


@nb.njit(cache=True)
def check_batch(hists, chains, hashes, meta, nbr, keys, cfg, bad, full) -> int:
    """Problem code (index into PROBLEMS) of every game into `bad`; returns the first game
    with a problem, or -1. `full` checks what the rules read: meta, the current board, the
    chains and hashes (the other boards of the history are only copied out as planes);
    otherwise meta and every board of the history: what planes and area read."""
    points = cfg[CFG_POINTS]
    max_moves = cfg[CFG_MAX_MOVES]
    acc = np.empty((4, points), np.int64)
    key = np.empty(points, np.uint64)
    first = -1
    for b in range(meta.shape[0]):
        hist = hists[b]
        moves = meta[b, MOVES]
        board = hist[moves % hist.shape[0]] if moves >= 0 else hist[0]
        code = 0
        if full:
            code = 8 if _bad_values(board) else 0
        else:
            for r in range(hist.shape[0]):
                if code == 0 and _bad_values(hist[r]):
                    code = 8
        if code == 0:
            code = _check_meta(meta[b], board, points, max_moves)
        if code == 0 and full:
            code = _check_chains(board, chains[b], hashes[b], nbr, keys, points, acc, key,
                                 hashes[b, points + BLOOM_WORDS + moves])
        bad[b] = code
        if code != 0 and first < 0:
            first = b
    return first
