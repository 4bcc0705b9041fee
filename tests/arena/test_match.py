"""Match runner: exact colour alternation, refereeing, forfeits, and real GnuGo games."""

import os
import shlex
import signal
from collections import Counter

import numpy as np
import pytest

from rlsuite.arena.match import GoConfig, play_game, run_games, schedule
from rlsuite.arena.players import make_player
from rlsuite.envs.go import GoGame, gtp_to_action
from rlsuite.gtp.player import GtpPlayer
from rlsuite.player import RandomPlayer, Resign

RULES = GoConfig(board_size=5, komi=0.5)


def replay(record):
    """Every stored move is legal under our rules; returns the final state."""
    game = GoGame(record.config["board_size"], record.config["komi"])
    state = game.initial_state()
    for vertex in record.moves:
        action = gtp_to_action(vertex, game.board_size)
        assert game.legal_mask(state)[action], (vertex, record.moves)
        state = game.next_state(state, action)
    return game, state


@pytest.mark.parametrize("games", [4, 5])
def test_colours_alternate_exactly(games):
    names = ["random", "greedy", "gnugo:1"]
    tasks = schedule(names, games, seed=0)
    assert len(tasks) == 3 * games
    per_pair = Counter((t.black, t.white) for t in tasks)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert per_pair[(a, b)] == (games + 1) // 2  # first-listed takes black first
            assert per_pair[(b, a)] == games // 2
            colours = [t.black == a for t in tasks if {t.black, t.white} == {a, b}]
            assert colours == [k % 2 == 0 for k in range(games)]  # strictly alternating
    assert len({t.seed for t in tasks}) == len(tasks)


def test_schedule_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 players"):
        schedule(["random"], 2)
    with pytest.raises(ValueError, match="listed once"):
        schedule(["random", "random"], 2)
    with pytest.raises(ValueError, match="games per pair"):
        schedule(["random", "greedy"], 0)


def test_game_is_refereed_to_the_end():
    game = RULES.build()
    black, white = make_player("random", game, seed=1), make_player("greedy", game, seed=2)
    outcome = play_game(game, black, white)
    assert game.is_terminal(outcome.final_state)
    assert outcome.score == game.score(outcome.final_state)
    assert outcome.winner == (0 if outcome.score > 0 else 1)
    assert outcome.result == f"{'BW'[outcome.winner]}+{abs(outcome.score):g}"
    assert outcome.error is None and all(t >= 0 for t in outcome.think_s)


class OccupiedPlayer(RandomPlayer):
    """Plays the top-left point every turn: illegal once it is taken."""

    name = "occupier"

    def act(self, state):
        return 0


class ResigningPlayer(RandomPlayer):
    def act(self, state):
        raise Resign(self.name)


def test_illegal_move_forfeits_and_resignation_loses():
    game = RULES.build()
    outcome = play_game(game, OccupiedPlayer(0), RandomPlayer(1))
    assert outcome.result == "W+F" and outcome.reason == "forfeit"
    assert "black (occupier) played illegal move A5" in outcome.error
    assert "occupied" in outcome.error
    outcome = play_game(game, RandomPlayer(0), ResigningPlayer(1))
    assert outcome.result == "B+R" and len(outcome.actions) == 1


def test_parallel_and_sequential_runs_play_the_same_games():
    tasks = schedule(["random", "greedy"], 4, seed=11)
    one = sorted((r.black, r.seed, tuple(r.moves)) for r, _ in run_games(tasks, RULES, jobs=1))
    two = sorted((r.black, r.seed, tuple(r.moves)) for r, _ in run_games(tasks, RULES, jobs=2))
    assert one == two


def test_gnugo_match_on_5x5_end_to_end(gnugo):
    tasks = schedule(["gnugo:1", "random"], 2, seed=0)
    records = [r for r, _ in run_games(tasks, RULES, jobs=2)]
    assert sorted(r.black for r in records) == ["gnugo:1", "random"]
    for record in records:
        game, state = replay(record)
        assert record.error is None and record.reason == "score"
        assert game.is_terminal(state) and record.score == game.score(state)
        gnugo_colour = "black" if record.black == "gnugo:1" else "white"
        assert record.winner == gnugo_colour  # level 1 still crushes a random player
        assert record.think_s[gnugo_colour] > 0


def test_crashed_engine_forfeits_with_its_stderr_and_the_arena_goes_on(fake_engine):
    crasher = "gtp:" + shlex.join(fake_engine("crash", after=0))
    tasks = schedule([crasher, "random"], 2, seed=0)
    records = [r for r, _ in run_games(tasks, RULES, jobs=1)]
    assert len(records) == 2  # the second game was played after the first crash
    for record in records:
        crasher_colour = "black" if record.black == crasher else "white"
        assert record.reason == "forfeit"
        assert record.winner != crasher_colour
        assert record.result.endswith("+F")
        assert "ran out of cheese" in record.error and "exit code 3" in record.error
        assert len(record.moves) == (0 if crasher_colour == "black" else 1)


def test_gnugo_killed_mid_game_forfeits_and_restarts_next_game(gnugo):
    game = RULES.build()
    engine = make_player("gnugo:1", game)

    def kill_after_its_first_move(state, action):
        if state.move_count == 2:
            os.kill(engine.client.process.pid, signal.SIGKILL)

    outcome = play_game(game, RandomPlayer(0), engine, on_move=kill_after_its_first_move)
    assert outcome.result == "B+F" and len(outcome.actions) == 3
    assert "white (gnugo:1) failed" in outcome.error and "exit code -9" in outcome.error
    engine.reset(game)  # the next game restarts the engine
    assert engine.client.process.poll() is None
    engine.close()


def test_hung_engine_forfeits(fake_engine):
    game = RULES.build()
    hung = GtpPlayer(lambda g: fake_engine("hang"), name="hung", timeout=0.5)
    outcome = play_game(game, hung, RandomPlayer(0))
    hung.close()
    assert outcome.result == "W+F" and "no reply within 0.5 s" in outcome.error


def test_gnugo_follows_a_game_started_mid_way(gnugo):
    """A GnuGo player handed a position it has not seen sets it up and answers legally."""
    game = RULES.build()
    state = game.initial_state()
    for vertex in ("C3", "C4", "B3"):
        state = game.next_state(state, gtp_to_action(vertex, 5))
    engine = make_player("gnugo:1", game)
    engine.reset(game)
    action = engine.act(state)
    assert game.legal_mask(state)[action]
    board = np.array(engine.client.send("showboard").split("\n"))
    assert sum(line.count("X") for line in board) >= 2
    engine.close()
