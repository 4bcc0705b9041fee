"""League directory: records accumulate, SGF files sit beside them, crashes lose one line."""

import json

import pytest

from rlsuite.arena.league import League, MatchRecord, results


def record(black="random", white="greedy", winner="white", **kw) -> MatchRecord:
    fields = dict(
        game="go", config={"board_size": 5, "komi": 0.5}, black=black, white=white,
        result="W+3.5" if winner == "white" else "B+1.5", winner=winner, reason="score",
        moves=["C3", "pass", "pass"], duration_s=0.1, think_s={"black": 0.05, "white": 0.05},
        started_at="2024-01-01T00:00:00+00:00", score=-3.5,
    )
    fields.update(kw)
    return MatchRecord(**fields)


def test_records_accumulate_across_league_objects(tmp_path):
    League(tmp_path / "lg").append(record(), "(;GM[1]SZ[5])")
    League(tmp_path / "lg").append(record(winner="black"))
    league = League(tmp_path / "lg")
    stored = league.records()
    assert [r.winner for r in stored] == ["white", "black"]
    assert stored[0].sgf == f"sgf/{stored[0].id}.sgf"
    assert (tmp_path / "lg" / stored[0].sgf).read_text() == "(;GM[1]SZ[5])"
    assert stored[1].sgf is None
    assert stored[0].id != stored[1].id


def test_results_score_black_against_white(tmp_path):
    rs = results([record(winner="white"), record(winner="black"), record(winner=None)])
    assert [(r.player_a, r.player_b, r.score) for r in rs] == [
        ("random", "greedy", 0.0), ("random", "greedy", 1.0), ("random", "greedy", 0.5)]


def test_select_keeps_one_rule_set(tmp_path):
    league = League(tmp_path)
    league.append(record())
    league.append(record(config={"board_size": 9, "komi": 7.5}))
    assert len(league.select("go", {"board_size": 5, "komi": 0.5})) == 1
    assert league.select("chip", {"board_size": 5, "komi": 0.5}) == []


def test_a_line_cut_by_a_crash_is_skipped_and_later_games_survive(tmp_path):
    league = League(tmp_path)
    league.append(record())
    line = json.dumps({"game": "go", "black": "random"})
    with league.records_file.open("a") as f:
        f.write(line[: len(line) // 2])  # the process died mid-write
    league.append(record(winner="black"))
    stored = league.records()
    assert [r.winner for r in stored] == ["white", "black"]
    assert league.skipped == [2]


def test_bad_league_path_is_named(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        League(path)
