"""Agreement with the real GnuGo over GTP: move legality and final scores.

GnuGo runs with its defaults that match `GoGame(superko="simple")`: simple ko, suicide
forbidden; `--chinese-rules` makes its `final_score` an area count like Tromp-Taylor.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from go_reference import tromp_taylor_area

from rlsuite.envs.go import GoGame, action_to_gtp
from rlsuite.envs.go.rules import own_eyes
from rlsuite.gtp import GnuGoNotFound, GtpClient, find_gnugo

GAMES = 30
KOMI = 7.5


@pytest.fixture(scope="module")
def gnugo_path() -> str:
    try:
        return find_gnugo()
    except GnuGoNotFound:
        pytest.skip("gnugo not installed: apt-get install gnugo")


def gnugo(path: str, n: int) -> GtpClient:
    argv = [path, "--mode", "gtp", "--level", "1", "--chinese-rules", "--simple-ko"]
    argv += ["--forbid-suicide", "--boardsize", str(n), "--komi", str(KOMI)]
    return GtpClient(argv, timeout=30)


def colour(game: GoGame, state) -> str:
    return "b" if game.to_play(state) == 0 else "w"


def random_game(game: GoGame, rng: np.random.Generator, *, keep_eyes: bool) -> Iterator:
    """Yield (state, move) along a random game: uniform over legal non-pass moves (minus own
    eyes when `keep_eyes`), passing only when none is left."""
    state = game.initial_state()
    while not game.is_terminal(state):
        moves = np.flatnonzero(game.legal_mask(state)[:-1])
        if keep_eyes:
            me = 1 if game.to_play(state) == 0 else -1
            moves = moves[~own_eyes(game.board(state), me)[moves]]
        a = int(rng.choice(moves)) if moves.size else game.pass_action
        yield state, a
        state = game.next_state(state, a)
    yield state, None


def gnugo_legal(engine: GtpClient, side: str, vertices: list[str]) -> np.ndarray:
    """GnuGo's `is_legal` at every point, pipelined in one batch (one round trip, not N * N)."""
    replies = engine.send_many([f"is_legal {side} {v}" for v in vertices])
    assert set(replies) <= {"0", "1"}, f"unexpected is_legal replies: {set(replies)}"
    return np.array(replies) == "1"


@pytest.mark.parametrize("n", [5, 9])
def test_legal_moves_equal_gnugo_is_legal(gnugo_path, n):
    """`is_legal` at every point of every third position (and of every position with a ko ban)
    of 30 random games, compared with our legal moves."""
    game = GoGame(n, KOMI, superko="simple")
    rng = np.random.default_rng(100 + n)
    engine = gnugo(gnugo_path, n)
    vertices = [action_to_gtp(a, n) for a in range(n * n)]
    checked = kos = captures = 0
    try:
        for _ in range(GAMES):
            engine.send("clear_board")
            for state, move in random_game(game, rng, keep_eyes=False):
                if move is None:
                    break
                side = colour(game, state)
                ko = state.ko_point is not None
                if state.move_count % 3 == 0 or ko:
                    theirs = gnugo_legal(engine, side, vertices)
                    ours = game.legal_mask(state)[:-1]
                    differ = [vertices[a] for a in np.flatnonzero(ours != theirs)]
                    assert not differ, (
                        f"move {state.move_count}: {side} legality differs at {differ}"
                    )
                    checked += 1
                    kos += ko and not theirs[state.ko_point]
                engine.send(f"play {side} {action_to_gtp(move, n)}")
            captures += sum(state.captures)
    finally:
        engine.close()
    assert checked >= GAMES * n  # every third position of real games, not empty boards
    assert captures > GAMES and kos >= 5  # rich in captures, with ko bans GnuGo confirmed


@pytest.mark.parametrize("n", [5, 9])
def test_final_scores_equal_tromp_taylor_and_gnugo(gnugo_path, n):
    game = GoGame(n, KOMI, superko="simple", max_moves=20 * n * n)
    rng = np.random.default_rng(200 + n)
    engine = gnugo(gnugo_path, n)
    compared = 0
    try:
        for _ in range(GAMES):
            engine.send("clear_board")
            for state, move in random_game(game, rng, keep_eyes=True):
                if move is None:
                    break
                engine.send(f"play {colour(game, state)} {action_to_gtp(move, n)}")
            assert state.move_count < game.max_moves  # ended by two passes
            black, white = tromp_taylor_area(game.board(state).tolist())
            assert game.score(state) == black - white - KOMI
            if engine.send("final_status_list dead") == "":
                assert game.score(state) == parse_score(engine.send("final_score"))
                compared += 1
    finally:
        engine.close()
    assert compared >= GAMES // 3, f"only {compared} games had no dead stones for GnuGo"


def parse_score(text: str) -> float:
    """GnuGo's final_score: "B+3.5", "W+0.5" or "0"."""
    if text == "0":
        return 0.0
    winner, _, points = text.partition("+")
    return float(points) * (1 if winner == "B" else -1)
