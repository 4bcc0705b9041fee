"""GTP v2 protocol layer and our engine's answers, including every prescribed error."""

import io

import pytest

from rlsuite.arena.players import make_player
from rlsuite.envs.go import GoGame
from rlsuite.gtp import Command, GtpEngine, format_response, parse_command


def test_parse_command_follows_the_preprocessing_rules():
    assert parse_command("  \t  ") is None
    assert parse_command("# only a comment") is None
    assert parse_command("12 play B d4 # comment") == Command(12, "play", ("B", "d4"))
    assert parse_command("GenMove\tw\r\n") == Command(None, "genmove", ("w",))
    assert parse_command("name\x01\x7f") == Command(None, "name", ())


def test_format_response_ends_with_an_empty_line():
    assert format_response(None, "D4") == "= D4\n\n"
    assert format_response(7, "illegal move", ok=False) == "?7 illegal move\n\n"


@pytest.fixture
def engine():
    game = GoGame(5, 0.5)
    return GtpEngine(make_player("greedy", game, seed=0), board_size=5, komi=0.5)


def ask(engine, line):
    return engine.handle(line)


def test_administrative_commands(engine):
    assert ask(engine, "protocol_version") == "= 2\n\n"
    assert ask(engine, "3 name") == "=3 rlsuite\n\n"
    assert ask(engine, "known_command genmove") == "= true\n\n"
    assert ask(engine, "known_command fly") == "= false\n\n"
    listed = ask(engine, "list_commands")[2:].split()
    for name in ("protocol_version", "name", "version", "known_command", "list_commands", "quit",
                 "boardsize", "clear_board", "komi", "play", "genmove", "undo", "showboard",
                 "final_score"):
        assert name in listed
    assert ask(engine, "") is None


def test_errors_the_spec_prescribes(engine):
    assert ask(engine, "9 fly_to_moon") == "?9 unknown command\n\n"
    assert ask(engine, "boardsize 30") == "? unacceptable size\n\n"
    assert ask(engine, "boardsize 1") == "? unacceptable size\n\n"
    assert ask(engine, "boardsize nine") == "? syntax error\n\n"
    assert ask(engine, "komi lots") == "? syntax error\n\n"
    assert ask(engine, "play b") == "? syntax error\n\n"
    # bad coordinates: off a 5x5 board, the skipped letter I, garbage; and a bad colour
    for vertex in ("F1", "A6", "I3", "C0", "zz"):
        assert ask(engine, f"play b {vertex}") == "? invalid color or coordinate\n\n"
    assert ask(engine, "play purple C3") == "? invalid color or coordinate\n\n"
    assert ask(engine, "undo") == "? cannot undo\n\n"
    assert ask(engine, "time_settings 300 x 5") == "? syntax error\n\n"
    assert ask(engine, "time_settings 300 30 5") == "= \n\n"
    assert ask(engine, "time_left b 120 0") == "= \n\n"
    # illegal moves: occupied point, suicide
    assert ask(engine, "play b C3") == "= \n\n"
    assert ask(engine, "play w C3") == "? illegal move\n\n"
    for move in ("play b A2", "play b B1"):
        assert ask(engine, move) == "= \n\n"
    assert ask(engine, "play w A1") == "? illegal move\n\n"  # suicide


def test_simple_ko_is_an_illegal_move(engine):
    moves = ["b B3", "w C3", "b C4", "w D4", "b C2", "w D2", "b A5", "w E3", "b D3"]
    for m in moves:  # black D3 captures white C3 in a ko: white may not retake at once
        assert ask(engine, f"play {m}") == "= \n\n", m
    assert ask(engine, "play w C3") == "? illegal move\n\n"
    assert ask(engine, "showboard").count("O") >= 3


def test_board_size_resets_and_komi_keeps_the_position(engine):
    ask(engine, "play b C3")
    ask(engine, "komi 6.5")
    assert engine.game.komi == 6.5
    assert ask(engine, "final_score") == "= B+18.5\n\n"  # 25 black points - 6.5
    assert ask(engine, "boardsize 7") == "= \n\n"
    assert engine.game.board_size == 7 and ask(engine, "final_score") == "= W+6.5\n\n"


def test_genmove_plays_a_legal_move_and_undo_takes_it_back(engine):
    reply = ask(engine, "genmove b")
    assert reply.startswith("= ") and reply[2:].strip() != "pass"
    assert ask(engine, "showboard").count("X") == 1
    assert ask(engine, "undo") == "= \n\n"
    assert "X" not in ask(engine, "showboard").split("\n", 2)[2]


def test_same_colour_twice_and_play_after_two_passes(engine):
    assert ask(engine, "play b C3") == "= \n\n"
    assert ask(engine, "play b D3") == "= \n\n"  # setups may repeat a colour
    assert ask(engine, "play w pass") == "= \n\n"
    assert ask(engine, "play b pass") == "= \n\n"
    assert engine.game.is_terminal(engine.state)
    assert ask(engine, "play w B2") == "= \n\n"  # clean-up after the game end is allowed
    board = engine.game.board(engine.state)
    assert (board == 1).sum() == 2 and (board == -1).sum() == 1


def test_serve_stops_at_quit():
    game = GoGame(5, 0.5)
    engine = GtpEngine(make_player("random", game, seed=1), board_size=5, komi=0.5)
    out = io.StringIO()
    engine.serve(io.StringIO("1 boardsize 5\n2 quit\n3 name\n"), out)
    assert out.getvalue() == "=1 \n\n=2 \n\n"
