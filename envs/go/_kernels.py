"""Compiled Go rules: move legality, stone placement with captures, area scoring, planes.

Everything here works on the batch layout of `rlsuite.envs.go.state` (typed views `hists`,
`chains`, `hashes` into one byte buffer, plus `meta`; one row per game) and mutates in place;
`rules.GoGame` is the safe, copying front end. Chains are kept incrementally the way fast
engines do (GnuGo, Pachi, OpenSpiel): each stone knows its chain head, stones of a chain
form a circular linked list, and each chain keeps pseudo-liberties (count, sum and sum of
squares of the liberty indices, one entry per stone/empty-neighbour pair). A chain is in
atari exactly when all its pseudo-liberties are the same point, i.e. when
``count * sum_sq == sum ** 2``, so a legality test is O(1) per point and a capture touches
only the captured stones. Positional superko uses Zobrist hashing: the hash of the position
a move would create is known before playing it (stone key xor the keys of the chains it
captures), and is looked up in the game's hash history behind a small Bloom filter, so most
moves never scan it.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# rows of the int32 `chains` array: HEAD and NEXT per stone, SIZE..LIB_SQ valid at a chain's
# head, FREE (the number of empty neighbours) for every point
HEAD, NEXT, SIZE, LIBS, LIB_SUM, LIB_SQ, FREE = range(7)
N_CHAIN_ROWS = 7

# columns of the int32 `meta` array
TO_PLAY, PASSES, MOVES, KO, LAST, CAPS_BLACK, CAPS_WHITE, END, WINNER = range(9)
N_META = 9

# why a game ended (meta[END])
END_NONE, END_PASSES, END_MOVE_CAP, END_CAPTURE = 0, 1, 2, 3

# move status codes
OK, OCCUPIED, SUICIDE, KO_BAN, SUPERKO, FINISHED, OUT_OF_RANGE = range(7)

# entries of the int64 `cfg` array a GoGame passes to every kernel
CFG_N, CFG_POINTS, CFG_MAX_MOVES, CFG_POSITIONAL, CFG_SUICIDE, CFG_CAPTURE = range(6)
N_CFG = 6

# the uint64 `hashes` row is [chain hash per point | Bloom filter | position hash per move];
# the filter has 8192 bits and two probes, taken from the top and the middle of the hash
BLOOM_WORDS = 128

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_PROBE_MASK = np.uint64(8191)


@nb.njit(cache=True, inline="always")
def _in_atari(ch: np.ndarray, h: int) -> bool:
    """True when every pseudo-liberty of chain `h` is the same point."""
    n = np.int64(ch[LIBS, h])
    s = np.int64(ch[LIB_SUM, h])
    return n * np.int64(ch[LIB_SQ, h]) == s * s


@nb.njit(cache=True, inline="always")
def _maybe_seen(hs: np.ndarray, h: np.uint64, points: int) -> bool:
    """Bloom test: False means board hash h certainly never occurred in this game."""
    i = np.int64(h >> np.uint64(51))
    j = np.int64((h >> np.uint64(20)) & _PROBE_MASK)
    return (hs[points + (i >> 6)] >> np.uint64(i & 63)) & (
        hs[points + (j >> 6)] >> np.uint64(j & 63)
    ) & _U1 != _U0


@nb.njit(cache=True, inline="always")
def _seen_before(hs: np.ndarray, h: np.uint64, moves: int, points: int) -> bool:
    """Has board hash `h` occurred at any move 0..moves of this game?"""
    if not _maybe_seen(hs, h, points):
        return False
    base = points + BLOOM_WORDS
    for t in range(moves + 1):  # noqa: SIM110 (numba compiles loops, not generators)
        if hs[base + t] == h:
            return True
    return False


@nb.njit(cache=True, inline="always")
def _record_hash(hs: np.ndarray, h: np.uint64, t: int, points: int) -> None:
    hs[points + BLOOM_WORDS + t] = h
    i = np.int64(h >> np.uint64(51))
    j = np.int64((h >> np.uint64(20)) & _PROBE_MASK)
    hs[points + (i >> 6)] |= _U1 << np.uint64(i & 63)
    hs[points + (j >> 6)] |= _U1 << np.uint64(j & 63)


@nb.njit(cache=True, inline="always")
def current_board(hist: np.ndarray, meta: np.ndarray) -> np.ndarray:
    """The board row of one game's ring of past boards that holds the current position."""
    return hist[meta[MOVES] % hist.shape[0]]


@nb.njit(cache=True, inline="always")
def _same_chain_seen(board, ch, nbr, p, j, colour, head) -> bool:
    """Was chain `head` already met among the first j-1 neighbours of p?"""
    for jj in range(1, j):
        q = nbr[p, jj]
        if board[q] == colour and ch[HEAD, q] == head:
            return True
    return False


@nb.njit(cache=True)
def move_status(board, ch, hs, meta, p, nbr, keys, cfg) -> int:
    """Legality of placing a stone at point p for the player to move (no side effects)."""
    if board[p] != 0:
        return OCCUPIED
    if p == meta[KO]:
        return KO_BAN
    points = cfg[CFG_POINTS]
    colour = 1 if meta[TO_PLAY] == 0 else -1
    h = hs[points + BLOOM_WORDS + meta[MOVES]] ^ keys[meta[TO_PLAY], p]
    breathes = False
    for j in range(1, nbr[p, 0] + 1):
        q = nbr[p, j]
        v = board[q]
        if v == 0:
            breathes = True
            continue
        head = ch[HEAD, q]
        atari = _in_atari(ch, head)
        if v == colour:
            if not atari:
                breathes = True
        elif atari:
            breathes = True  # captures
            if not _same_chain_seen(board, ch, nbr, p, j, v, head):
                h ^= hs[head]
    if not breathes:
        if cfg[CFG_SUICIDE] == 0:
            return SUICIDE
        # the new stone and every own chain it touches die together
        h ^= keys[meta[TO_PLAY], p]
        for j in range(1, nbr[p, 0] + 1):
            q = nbr[p, j]
            if board[q] == colour and not _same_chain_seen(
                board, ch, nbr, p, j, colour, ch[HEAD, q]
            ):
                h ^= hs[ch[HEAD, q]]
    if cfg[CFG_POSITIONAL] != 0 and _seen_before(hs, h, meta[MOVES], points):
        return SUPERKO
    return OK


@nb.njit(cache=True)
def _merge(ch, hs, a, b) -> int:
    """Join chains headed at a and b (relabelling the smaller); returns the new head."""
    if ch[SIZE, a] < ch[SIZE, b]:
        a, b = b, a
    s = b
    while True:
        ch[HEAD, s] = a
        s = ch[NEXT, s]
        if s == b:
            break
    na = ch[NEXT, a]
    ch[NEXT, a] = ch[NEXT, b]
    ch[NEXT, b] = na
    ch[SIZE, a] += ch[SIZE, b]
    ch[LIBS, a] += ch[LIBS, b]
    ch[LIB_SUM, a] += ch[LIB_SUM, b]
    ch[LIB_SQ, a] += ch[LIB_SQ, b]
    hs[a] ^= hs[b]
    return a


@nb.njit(cache=True)
def _remove_chain(board, ch, nbr, head) -> int:
    """Lift chain `head` off the board, giving liberties back to its neighbours."""
    s = head
    while True:
        board[s] = 0
        s = ch[NEXT, s]
        if s == head:
            break
    while True:
        for j in range(1, nbr[s, 0] + 1):
            r = nbr[s, j]
            ch[FREE, r] += 1
            if board[r] != 0:
                hr = ch[HEAD, r]
                ch[LIBS, hr] += 1
                ch[LIB_SUM, hr] += s
                ch[LIB_SQ, hr] += s * s
        s = ch[NEXT, s]
        if s == head:
            break
    return ch[SIZE, head]


@nb.njit(cache=True)
def _add_stone(board, ch, hs, p, colour, who, nbr, keys) -> np.uint64:
    """Put a stone on p and join it to its friends; returns its Zobrist key. No captures."""
    board[p] = colour
    ch[HEAD, p] = p
    ch[NEXT, p] = p
    ch[SIZE, p] = 1
    libs = 0
    lsum = 0
    lsq = 0
    for j in range(1, nbr[p, 0] + 1):
        q = nbr[p, j]
        ch[FREE, q] -= 1
        if board[q] == 0:
            libs += 1
            lsum += q
            lsq += q * q
        else:
            hq = ch[HEAD, q]
            ch[LIBS, hq] -= 1
            ch[LIB_SUM, hq] -= p
            ch[LIB_SQ, hq] -= p * p
    ch[LIBS, p] = libs
    ch[LIB_SUM, p] = lsum
    ch[LIB_SQ, p] = lsq
    key = keys[who, p]
    hs[p] = key
    for j in range(1, nbr[p, 0] + 1):
        q = nbr[p, j]
        if board[q] == colour:
            hq = ch[HEAD, q]
            hp = ch[HEAD, p]
            if hq != hp:
                _merge(ch, hs, hp, hq)
    return key


@nb.njit(cache=True)
def play(hist, ch, hs, meta, a, nbr, keys, cfg) -> int:
    """Play action a on one board in place; returns a status code (OK leaves a move played)."""
    points = cfg[CFG_POINTS]
    if meta[END] != END_NONE:
        return FINISHED
    if a < 0 or a > points:
        return OUT_OF_RANGE
    if a < points:
        status = move_status(current_board(hist, meta), ch, hs, meta, a, nbr, keys, cfg)
        if status != OK:
            return status
    moves = meta[MOVES]
    depth = hist.shape[0]
    board = hist[(moves + 1) % depth]
    previous = hist[moves % depth]
    for p in range(points):  # a loop: slice assignment may allocate a temporary
        board[p] = previous[p]
    who = meta[TO_PLAY]
    h = hs[points + BLOOM_WORDS + moves]
    captured = 0
    lost = 0
    if a == points:
        meta[PASSES] += 1
        meta[KO] = -1
    else:
        colour = 1 if who == 0 else -1
        meta[PASSES] = 0
        h ^= _add_stone(board, ch, hs, a, colour, who, nbr, keys)
        ko = -1
        for j in range(1, nbr[a, 0] + 1):
            q = nbr[a, j]
            if board[q] == -colour:
                head = ch[HEAD, q]
                if ch[LIBS, head] == 0:
                    h ^= hs[head]
                    if ch[SIZE, head] == 1:
                        ko = q
                    captured += _remove_chain(board, ch, nbr, head)
        own = ch[HEAD, a]
        if ch[LIBS, own] == 0:  # suicide, only reachable when the rules allow it
            h ^= hs[own]
            lost = _remove_chain(board, ch, nbr, own)
        meta[KO] = ko if captured == 1 and ch[SIZE, own] == 1 and ch[LIBS, own] == 1 else -1
        meta[CAPS_BLACK + who] += captured
        meta[CAPS_WHITE - who] += lost
    meta[MOVES] = moves + 1
    _record_hash(hs, h, moves + 1, points)
    meta[LAST] = a
    meta[TO_PLAY] = 1 - who
    if cfg[CFG_CAPTURE] != 0 and (captured > 0 or lost > 0):
        meta[END] = END_CAPTURE
        mover = 1 if who == 0 else -1
        meta[WINNER] = mover if captured > 0 else -mover
    elif meta[PASSES] >= 2:
        meta[END] = END_PASSES
    elif moves + 1 >= cfg[CFG_MAX_MOVES]:
        meta[END] = END_MOVE_CAP
    return OK


@nb.njit(cache=True)
def play_one(hists, chains, hashes, meta, a, nbr, keys, cfg) -> int:
    """`play` on game 0 (the single-state entry point)."""
    hist, ch, hs = hists[0], chains[0], hashes[0]
    return play(hist, ch, hs, meta[0], a, nbr, keys, cfg)


@nb.njit(cache=True)
def move_status_at(hists, chains, hashes, meta, b, a, nbr, keys, cfg) -> int:
    """Legality of action a in game b, without playing it."""
    if meta[b, END] != END_NONE:
        return FINISHED
    if a == cfg[CFG_POINTS]:
        return OK
    hist, ch, hs = hists[b], chains[b], hashes[b]
    return move_status(current_board(hist, meta[b]), ch, hs, meta[b], a, nbr, keys, cfg)


@nb.njit(cache=True)
def play_batch(hists, chains, hashes, meta, actions, nbr, keys, cfg, status) -> None:
    """Play actions[b] on every game b; a negative action leaves its game untouched."""
    for b in range(actions.shape[0]):
        if actions[b] < 0:
            status[b] = OK
        else:
            hist, ch, hs = hists[b], chains[b], hashes[b]
            status[b] = play(hist, ch, hs, meta[b], actions[b], nbr, keys, cfg)


@nb.njit(cache=True)
def _board_mask(board, ch, hs, meta, nbr, keys, cfg, row, capture) -> None:
    """Legal mask of one running game. Most points settle on a fast path: an empty point with
    an empty neighbour is legal unless it is the ko point or (under positional superko) its
    move captures or the Bloom filter has seen the resulting hash; the rest get the full test.
    `capture` is an all-False scratch row, left all-False again."""
    points = cfg[CFG_POINTS]
    positional = cfg[CFG_POSITIONAL] != 0
    if positional:  # the sole liberty of an opponent chain in atari is a capturing move
        opponent = -1 if meta[TO_PLAY] == 0 else 1
        for p in range(points):
            if board[p] == opponent and ch[HEAD, p] == p and _in_atari(ch, p):
                capture[ch[LIB_SUM, p] // ch[LIBS, p]] = True
    ko = meta[KO]
    current = hs[points + BLOOM_WORDS + meta[MOVES]]
    key = keys[meta[TO_PLAY]]
    for p in range(points):
        if board[p] != 0:
            row[p] = False
        elif ch[FREE, p] > 0 and p != ko and not capture[p]:
            if positional:
                row[p] = not _maybe_seen(hs, current ^ key[p], points) or (
                    move_status(board, ch, hs, meta, p, nbr, keys, cfg) == OK
                )
            else:
                row[p] = True
        else:
            row[p] = move_status(board, ch, hs, meta, p, nbr, keys, cfg) == OK
            capture[p] = False
    row[points] = True


@nb.njit(cache=True)
def _mask_into(hist, ch, hs, meta, nbr, keys, cfg, row, capture) -> None:
    if meta[END] != END_NONE:
        row[:] = False
    else:
        board = current_board(hist, meta)
        _board_mask(board, ch, hs, meta, nbr, keys, cfg, row, capture)


@nb.njit(cache=True)
def legal_masks(hists, chains, hashes, meta, nbr, keys, cfg, out) -> None:
    """out[b, a] = action a is legal in game b (all False once a game has ended)."""
    capture = np.zeros(cfg[CFG_POINTS], np.bool_)
    for b in range(meta.shape[0]):
        hist, ch, hs = hists[b], chains[b], hashes[b]
        _mask_into(hist, ch, hs, meta[b], nbr, keys, cfg, out[b], capture)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@nb.njit(cache=True, inline="always")
def _next_random(state):
    """splitmix64 (Steele, Lea and Flood, OOPSLA 2014): (next state, 64 random bits)."""
    state = state + _GOLDEN
    z = (state ^ (state >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return state, z ^ (z >> np.uint64(31))


@nb.njit(cache=True, inline="always")
def _below(bits, m):
    """A number in 0..m-1 from random bits (m < 2**31)."""
    return (np.int64(bits >> np.uint64(33)) * m) >> 31


@nb.njit(cache=True)
def _random_action(hist, ch, hs, meta, nbr, keys, cfg, rand, tries, row, capture):
    """(A uniformly random legal action or -1 once the game has ended, next random state).

    Rejection sampling over all actions (pass is always legal, so the accepted action is
    uniform over the legal ones); when `tries` draws all miss, one more draw picks among the
    legal actions listed in full. Either way it is uniform, and a typical move costs one O(1)
    legality test instead of a whole mask."""
    if meta[END] != END_NONE:
        return -1, rand
    points = cfg[CFG_POINTS]
    board = current_board(hist, meta)
    for _ in range(tries):
        rand, bits = _next_random(rand)
        a = _below(bits, points + 1)
        if a == points or (
            board[a] == 0 and move_status(board, ch, hs, meta, a, nbr, keys, cfg) == OK
        ):
            return a, rand
    _board_mask(board, ch, hs, meta, nbr, keys, cfg, row, capture)
    count = 0
    for a in range(points + 1):
        count += row[a]
    rand, bits = _next_random(rand)
    k = _below(bits, count)
    for a in range(points + 1):
        if row[a]:
            if k == 0:
                return a, rand
            k -= 1
    return points, rand


@nb.njit(cache=True)
def random_actions(hists, chains, hashes, meta, nbr, keys, cfg, seed, tries, out) -> None:
    """out[b] = a uniformly random legal action of game b (-1 once it has ended), from a
    splitmix64 stream started at `seed`."""
    points = cfg[CFG_POINTS]
    capture = np.zeros(points, np.bool_)
    row = np.empty(points + 1, np.bool_)
    rand = np.uint64(seed)
    for b in range(meta.shape[0]):
        hist, ch, hs = hists[b], chains[b], hashes[b]
        out[b], rand = _random_action(
            hist, ch, hs, meta[b], nbr, keys, cfg, rand, tries, row, capture
        )


@nb.njit(cache=True)
def env_step(
    hists, chains, hashes, meta, a, reply_seed, viewer, nbr, keys, cfg, mask, planes
) -> int:
    """One step of a single-agent env on game 0, fused into one call: play `a` (skipped when
    negative), then, if `reply_seed` >= 0 and it is the opponent's turn (not `viewer`'s), a
    uniformly random reply; then refresh the legal mask and the planes seen by `viewer`.
    Returns the status of `a` (on failure nothing changes: no reply, mask and planes as
    they were)."""
    hist, ch, hs = hists[0], chains[0], hashes[0]
    status = OK
    if a >= 0:
        status = play(hist, ch, hs, meta[0], a, nbr, keys, cfg)
        if status != OK:
            return status
    capture = np.zeros(cfg[CFG_POINTS], np.bool_)
    if reply_seed >= 0 and meta[0, END] == END_NONE and meta[0, TO_PLAY] != viewer:
        reply, _ = _random_action(
            hist, ch, hs, meta[0], nbr, keys, cfg, np.uint64(reply_seed), 64, mask, capture
        )
        play(hist, ch, hs, meta[0], reply, nbr, keys, cfg)
    _mask_into(hist, ch, hs, meta[0], nbr, keys, cfg, mask, capture)
    _encode_into(hist, meta[0], viewer, planes)
    return status


@nb.njit(cache=True)
def area_counts(board, nbr, out) -> None:
    """Tromp-Taylor area: out = (black stones + empty points reaching only black, and white's)."""
    points = board.shape[0]
    seen = np.zeros(points, np.bool_)
    stack = np.empty(points, np.int64)
    black = 0
    white = 0
    for p in range(points):
        v = board[p]
        if v == 1:
            black += 1
        elif v == -1:
            white += 1
        elif not seen[p]:
            seen[p] = True
            stack[0] = p
            top = 1
            size = 0
            reach = 0  # bit 1: touches black, bit 2: touches white
            while top > 0:
                top -= 1
                s = stack[top]
                size += 1
                for j in range(1, nbr[s, 0] + 1):
                    r = nbr[s, j]
                    w = board[r]
                    if w == 0:
                        if not seen[r]:
                            seen[r] = True
                            stack[top] = r
                            top += 1
                    elif w == 1:
                        reach |= 1
                    else:
                        reach |= 2
            if reach == 1:
                black += size
            elif reach == 2:
                white += size
    out[0] = black
    out[1] = white


@nb.njit(cache=True)
def area_batch(hists, meta, nbr, out) -> None:
    for b in range(meta.shape[0]):
        hist = hists[b]
        area_counts(current_board(hist, meta[b]), nbr, out[b])


@nb.njit(cache=True)
def _encode_into(hist, meta, viewer, out) -> None:
    """AlphaGo Zero planes (Silver et al., Nature 550, 2017, Methods): for each of the last H
    positions, stones of the viewer then of the opponent, then a plane of ones if black is to
    play. A negative viewer means the player to move."""
    depth = hist.shape[0]
    mine = 1 if (viewer if viewer >= 0 else meta[TO_PLAY]) == 0 else -1
    for k in range(depth):
        board = hist[(meta[MOVES] - k) % depth]
        for p in range(board.shape[0]):
            v = board[p]
            out[2 * k, p] = v == mine
            out[2 * k + 1, p] = v == -mine
    out[2 * depth, :] = 1 if meta[TO_PLAY] == 0 else 0


@nb.njit(cache=True)
def encode_batch(hists, meta, viewer, out) -> None:
    for b in range(meta.shape[0]):
        hist = hists[b]
        _encode_into(hist, meta[b], viewer, out[b])


@nb.njit(cache=True)
def setup_board(hists, chains, hashes, board, nbr, keys) -> int:
    """Place the stones of `board` on the empty game 0; returns a point of a chain left
    without liberties (an impossible position), or -1."""
    hist, ch, hs = hists[0], chains[0], hashes[0]
    points = board.shape[0]
    h = _U0
    for p in range(points):
        if board[p] != 0:
            h ^= _add_stone(hist[0], ch, hs, p, board[p], 0 if board[p] == 1 else 1, nbr, keys)
    _record_hash(hs, h, 0, points)
    for p in range(points):
        if hist[0, p] != 0 and ch[LIBS, ch[HEAD, p]] == 0:
            return p
    return -1
