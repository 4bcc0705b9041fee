"""States handed in by users are checked before the compiled rules run: a corrupted state gets
a `GoStateError` naming the field, never a segfault, a hang or a silently wrong answer."""

from __future__ import annotations

import numpy as np
import pytest

from rlsuite.envs.go import GoGame, GoState, GoStateError
from rlsuite.envs.go import _kernels as K


def _midgame(g: GoGame, moves: int = 30, seed: int = 0) -> GoState:
    rng = np.random.default_rng(seed)
    s = g.initial_state()
    for _ in range(moves):
        legal = np.flatnonzero(g.legal_mask(s)[:-1])
        if not legal.size:
            break
        s = g.next_state(s, int(rng.choice(legal)))
    return s


def _calls(g: GoGame, s: GoState):
    rng = np.random.default_rng(0)
    return [
        lambda: g.legal_mask(s),
        lambda: g.next_state(s, 0),
        lambda: g.greedy_action(s, rng),
        lambda: g.move_error(s, 3),
        lambda: g.encode(s),
        lambda: g.score(s),
        lambda: g.random_actions(s, rng),
    ]


@pytest.mark.parametrize(
    "column, value, field",
    [
        (K.TO_PLAY, 2**31 - 1, "to_play"),
        (K.MOVES, 2**31 - 1, "moves"),
        (K.MOVES, -3, "moves"),
        (K.KO, 10**6, "ko"),
        (K.END, 7, "end reason"),
        (K.WINNER, 5, "winner"),
        (K.LAST, -9, "last move"),
    ],
)
def test_corrupted_meta_is_refused_by_every_entry_point(column, value, field):
    g = GoGame(9)
    s = _midgame(g)
    s.meta[0, column] = value
    for call in _calls(g, s):
        with pytest.raises(GoStateError, match=f"state is corrupt: meta {field}"):
            call()


def test_corrupted_board_and_chains_are_refused():
    g = GoGame(9)
    base = _midgame(g)
    stone = int(np.flatnonzero(g.board(base).ravel())[0])
    board_row = base.meta[0, K.MOVES] % g.history
    cases = {
        "board value": lambda s: s.hist[0, board_row].__setitem__(40, 7),
        "free-neighbour": lambda s: s.chains[0, K.FREE].__setitem__(stone, 9),
        "head or next": lambda s: s.chains[0, K.NEXT].__setitem__(stone, 10**6),
        "pseudo-liberties": lambda s: s.chains[0, K.LIBS].__setitem__(
            s.chains[0, K.HEAD, stone], 77),
        "hash": lambda s: s.hashes[0].__setitem__(s.chains[0, K.HEAD, stone], 12345),
    }
    for field, corrupt in cases.items():
        s = base.copy()
        corrupt(s)
        with pytest.raises(GoStateError, match=field):
            g.legal_mask(s)


def test_a_stone_placed_behind_the_rules_back_is_refused():
    g = GoGame(5)
    s = g.initial_state()
    s.hist[0, 0, 12] = 1  # a stone on the board with no chain data
    with pytest.raises(GoStateError, match="corrupt"):
        g.next_state(s, 0)


def test_a_chain_list_that_never_closes_is_refused_not_walked_forever():
    g = GoGame(9)
    s = _midgame(g, 60, seed=3)
    heads = [h for h in range(81) if g.board(s).ravel()[h] and s.chains[0, K.HEAD, h] == h
             and s.chains[0, K.SIZE, h] >= 2]
    h = heads[0]
    member = int(s.chains[0, K.NEXT, h])
    s.chains[0, K.NEXT, member] = member  # a loop that skips the head
    with pytest.raises(GoStateError, match="chain"):
        g.greedy_action(s, np.random.default_rng(0))


@pytest.mark.parametrize("bad", [None, 0, "state", np.zeros(3)])
def test_non_states_are_refused(bad):
    g = GoGame(5)
    with pytest.raises(GoStateError, match="expected a GoState"):
        g.next_state(bad, 0)
    with pytest.raises(GoStateError):
        g.legal_mask(bad)


def test_random_byte_corruption_never_crashes_or_hangs():
    """Flip random bytes of data and meta: every call returns or raises GoStateError (a
    crash would kill the test process; a hang would hit the suite's timeout)."""
    g = GoGame(5)
    base = _midgame(g, 20)
    rng = np.random.default_rng(1)
    refused = 0
    for _ in range(300):
        s = base.copy()
        for _ in range(int(rng.integers(1, 4))):
            if rng.random() < 0.3:
                s.meta[0, rng.integers(K.N_META)] = rng.integers(-(2**31), 2**31 - 1)
            else:
                s.data[0, rng.integers(s.data.shape[1])] = rng.integers(256)
        for call in _calls(g, s):
            try:
                call()
            except GoStateError:
                refused += 1
            except ValueError:  # a legal refusal of the move itself (occupied, game over)
                pass
    assert refused > 100
