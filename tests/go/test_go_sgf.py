"""GTP and SGF coordinates, SGF reading and writing, game records replaying through GoGame."""

from __future__ import annotations

import numpy as np
import pytest
from sgfmill import sgf as sgfmill_sgf

from rlsuite.envs.go import (
    GameRecord,
    GoGame,
    action_to_gtp,
    action_to_sgf,
    gtp_to_action,
    read_sgf,
    sgf_to_action,
    write_sgf,
)
from rlsuite.envs.go.sgf import SGFError, format_result


@pytest.mark.parametrize("n", [9, 19])
def test_gtp_round_trip_covers_every_action(n):
    vertices = [action_to_gtp(a, n) for a in range(n * n + 1)]
    assert len(set(vertices)) == n * n + 1
    assert all("I" not in v for v in vertices)
    assert [gtp_to_action(v, n) for v in vertices] == list(range(n * n + 1))
    assert [gtp_to_action(v.lower(), n) for v in vertices] == list(range(n * n + 1))


@pytest.mark.parametrize(
    ("n", "action", "vertex"),
    [
        (9, 0, "A9"),
        (9, 8, "J9"),
        (9, 72, "A1"),
        (9, 80, "J1"),
        (9, 81, "pass"),
        (19, 0, "A19"),
        (19, 360, "T1"),
        (19, 3 * 19 + 15, "Q16"),
        (5, 12, "C3"),
    ],
)
def test_gtp_vertices_follow_the_convention(n, action, vertex):
    assert action_to_gtp(action, n) == vertex
    assert gtp_to_action(vertex, n) == action


@pytest.mark.parametrize("bad", ["I5", "Z1", "A0", "A10", "K1", "", "passs", "D", "4D", 5])
def test_bad_gtp_vertices_are_refused(bad):
    with pytest.raises(ValueError, match="not a GTP vertex"):
        gtp_to_action(bad, 9)


@pytest.mark.parametrize("n", [9, 19])
def test_sgf_point_round_trip(n):
    points = [action_to_sgf(a, n) for a in range(n * n + 1)]
    assert points[0] == "aa" and points[n] == "ab" and points[-1] == ""
    assert [sgf_to_action(p, n) for p in points] == list(range(n * n + 1))
    assert sgf_to_action("tt", n) == n * n


@pytest.mark.parametrize("bad", ["a", "abc", "zz", "ja", "A1"])
def test_bad_sgf_points_are_refused(bad):
    with pytest.raises(ValueError, match="not an SGF point"):
        sgf_to_action(bad, 9)


def _random_moves(game: GoGame, seed: int, limit: int = 400) -> list[int]:
    rng = np.random.default_rng(seed)
    state, moves = game.initial_state(), []
    while not game.is_terminal(state) and len(moves) < limit:
        a = int(game.random_actions(game.stack([state]), rng)[0])
        moves.append(a)
        state = game.next_state(state, a)
    return moves


@pytest.mark.parametrize("n", [5, 9, 19])
def test_sgf_round_trip_replays_to_the_same_position(n):
    game = GoGame(n, komi=6.5, superko="simple")
    moves = _random_moves(game, seed=n)
    record = GameRecord.from_moves(game, moves, players=("rand-a", "rand-b"))
    data = write_sgf(record)
    back = read_sgf(data)
    assert back == record
    assert back.players == ("rand-a", "rand-b") and back.komi == 6.5
    end, again = record.replay(game), back.replay(game)
    assert np.array_equal(game.board(end), game.board(again))
    if game.is_terminal(end):
        assert back.result == format_result(game.score(end))


def test_written_sgf_uses_the_standard_coordinates(tmp_path):
    game = GoGame(9, komi=7.5)
    d4, pass_ = gtp_to_action("D4", 9), 81
    record = GameRecord.from_moves(game, [d4, pass_, pass_])
    data = write_sgf(record)
    assert b"B[df]" in data and b"W[tt]" in data and b"RE[B+73.5]" in data
    parsed = sgfmill_sgf.Sgf_game.from_bytes(data)  # an independent reader agrees
    assert parsed.get_main_sequence()[1].get_move() == ("b", (3, 3))  # sgfmill: row 0 at bottom
    path = tmp_path / "game.sgf"
    path.write_bytes(data)
    assert read_sgf(path) == record == read_sgf(str(path))


def test_reads_a_hand_written_record_with_tt_passes():
    data = b"(;GM[1]FF[4]SZ[5]KM[0.5]PB[Ann]PW[Bob]RE[B+R];B[cc];W[tt];B[bb];W[])"
    record = read_sgf(data)
    assert record.moves == (12, 25, 6, 25)
    assert record.result == "B+R" and record.players == ("Ann", "Bob")
    assert record.replay().move_count == 4


def test_results_are_formatted_as_sgf():
    assert [format_result(s) for s in (3.5, -0.5, 0.0)] == ["B+3.5", "W+0.5", "0"]
    capture = GoGame(5, rules="capture")
    moves = [gtp_to_action(v, 5) for v in ("B5", "A5", "A4")]
    assert GameRecord.from_moves(capture, moves).result == "B+C"


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"(;GM[1]SZ[9];B[dd]", "malformed SGF"),
        (b"not sgf at all", "malformed SGF"),
        (b"(;GM[2]SZ[9])", "not Go"),
        (b"(;GM[1]SZ[21])", "board size 21 is outside the supported range"),
        (b"(;GM[1]SZ[25];B[aa])", "board size 25 is outside"),
        (b"(;GM[1]SZ[9]KM[lots])", "property KM"),
        (b"(;GM[1]SZ[9];B[dd];W[dd])", r"<bytes>: move 2 \(white D6\): illegal move D6 .*occupied"),
        (b"(;GM[1]SZ[9];B[dd];B[ee])", "move 2 is by B but W is to play"),
        (b"(;GM[1]SZ[9]AB[dd][ee];W[cc])", "set-up stones"),
        (b"(;GM[1]SZ[3];B[ab];W[cc];B[ba];W[aa])", r"move 4 \(white A3\).*suicide"),
    ],
)
def test_bad_sgf_gives_a_clear_error(data, match):
    with pytest.raises(ValueError, match=match):
        read_sgf(data)


def test_unvalidated_reading_keeps_illegal_records_for_inspection():
    record = read_sgf(b"(;GM[1]SZ[9];B[dd];W[dd])", validate=False)
    assert record.moves == (30, 30)
    with pytest.raises(ValueError, match="move 2"):
        record.replay()


def test_bad_records_are_refused():
    with pytest.raises(ValueError, match="board size"):
        GameRecord(20, 7.5)
    with pytest.raises(ValueError, match="action 82 out of range"):
        GameRecord(9, 7.5, (3, 82))
    with pytest.raises(ValueError, match="komi"):
        GameRecord(9, float("inf"))
    with pytest.raises(ValueError, match="record is 9x9"):
        GameRecord(9, 7.5, (3,)).replay(GoGame(5))


# ------------------------------------------------------------------ untrusted files
@pytest.mark.parametrize(
    "data, match",
    [
        (b"(;GM[1]FF[4]CA[UTF-8]SZ[9]PB[\xff];B[aa])", r"<bytes>: node 0: property PB: cannot"),
        (b"(;GM[1]FF[4]CA[hex]SZ[9]PB[x];B[aa])", r"<bytes>: node 0: property PB: cannot"),
        (b"(;GM[1]SZ[9];B[aa]W[bb])", r"<bytes>: node 1: property B/W: holds both"),
        (b"(;GM[1]SZ[9];B[\xff\xfe])", r"<bytes>: node 1: property B: cannot read"),
        (b"(;GM[\xff]SZ[9];B[aa])", r"<bytes>: node 0: property GM: cannot read"),
        (b"(;GM[1]SZ[9]KM[inf];B[aa])", r"property KM"),
        (b"(;GM[1]SZ[25])", r"size"),
        (b"(;GM[1]SZ[9];B[aa];B[bb])", r"node 2: property B: move 2 is by B"),
        (b"not sgf", r"<bytes>: malformed SGF"),
    ],
)
def test_bad_sgf_gives_sgf_error_naming_node_and_property(data, match):
    with pytest.raises(SGFError, match=match):
        read_sgf(data)


def test_sgf_paths_that_are_not_files(tmp_path):
    with pytest.raises(SGFError, match=rf"{tmp_path}: cannot read the file"):
        read_sgf(tmp_path)
    with pytest.raises(SGFError, match="nope.sgf: cannot read the file"):
        read_sgf(tmp_path / "nope.sgf")
    bad = tmp_path / "bad.sgf"
    bad.write_bytes(b"(;GM[1]SZ[9];B[aa];W[aa])")
    with pytest.raises(SGFError, match=r"bad\.sgf: move 2 .*occupied"):
        read_sgf(bad)
