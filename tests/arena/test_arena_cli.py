"""`rlsuite arena` end to end: a league that accumulates, Elo table and plot, bad input."""

import json

from PIL import Image

from rlsuite.arena.league import League
from rlsuite.cli.arena import main
from rlsuite.envs.go import read_sgf


def test_league_accumulates_across_calls_and_is_rated(tmp_path, capsys):
    league = tmp_path / "league"
    args = ["--board-size", "5", "--komi", "0.5", "--players", "random", "greedy",
            "--league", str(league), "--bootstrap", "200", "--jobs", "1"]
    assert main([*args, "--games", "2", "--seed", "1"]) == 0
    assert main([*args, "--games", "2", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "Go 5x5, komi 0.5: 4 games" in out and "greedy" in out
    records = League(league).records()
    assert len(records) == 4
    assert sorted(r.black for r in records) == ["greedy", "greedy", "random", "random"]
    for record in records:  # every game is stored as SGF that replays to the stored result
        sgf = read_sgf(league / record.sgf)
        assert sgf.result == record.result and sgf.players == (record.black, record.white)
        assert len(sgf.moves) == len(record.moves)
    assert Image.open(league / "elo.png").size[0] > 300
    # a refit without games reads the same league
    assert main([*args, "--games", "0"]) == 0
    assert "4 games" in capsys.readouterr().out


def test_other_rules_are_rated_apart(tmp_path, capsys):
    league = tmp_path / "league"
    base = ["--players", "random", "greedy", "--league", str(league), "--games", "1",
            "--bootstrap", "50", "--jobs", "1", "--komi", "0.5"]
    assert main([*base, "--board-size", "5"]) == 0
    assert main([*base, "--board-size", "6"]) == 0
    out = capsys.readouterr().out
    assert "Go 6x6, komi 0.5: 1 game" in out and "1 games" not in out
    configs = [json.loads(line)["config"]["board_size"]
               for line in (league / "games.jsonl").read_text().splitlines()]
    assert configs == [5, 6]


def test_unknown_spec_lists_the_valid_forms(tmp_path, capsys):
    assert main(["--players", "random", "alphago", "--league", str(tmp_path)]) == 2
    err = capsys.readouterr().out
    assert "unknown player spec 'alphago'" in err
    for form in ("gnugo:LEVEL", "dqn:RUN", "ppo:RUN", "az:RUN", "human"):
        assert form in err
    assert not (tmp_path / "games.jsonl").exists()


def test_missing_gnugo_and_missing_runs_stop_before_any_game(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("rlsuite.gtp.client.GNUGO_PATHS", ())
    monkeypatch.setenv("PATH", "")
    assert main(["--players", "random", "gnugo:1", "--league", str(tmp_path)]) == 2
    assert "apt-get install gnugo" in capsys.readouterr().out
    assert main(["--players", "random", f"az:{tmp_path / 'nope'}", "--league", str(tmp_path)]) == 2
    assert "no AlphaZero run" in capsys.readouterr().out
    assert not (tmp_path / "games.jsonl").exists()


def test_chip_leaderboard_ranks_placers(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")  # the whole table on one line per placer
    league = tmp_path / "league"
    args = ["--game", "chip", "--players", "random", "greedy", "sa", "--games", "2",
            "--league", str(league)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "synthetic" in out and "proxy cost" in out and "HPWL" in out
    runs = [json.loads(line) for line in (league / "chip.jsonl").read_text().splitlines()]
    assert len(runs) == 6 and {r["placer"] for r in runs} == {"random", "greedy", "sa"}
    best = min(runs, key=lambda r: r["metrics"].get("proxy_cost", 9e9))
    assert best["placer"] in ("greedy", "sa")  # either beats random placement here
    assert main(["--game", "chip", "--players", "gnugo:1", "--league", str(league)]) == 2
    assert "player 'gnugo:1' does not play chip" in capsys.readouterr().out
