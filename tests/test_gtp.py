"""GTP v2 protocol layer and our engine's answers, including every prescribed error, and input
no controller should send: every command line gets exactly one reply and the engine stays up."""

import io
import os
import subprocess
import sys

import pytest

from rlsuite.arena.players import make_player
from rlsuite.envs.go import GoGame
from rlsuite.gtp import Command, GtpEngine, format_response, parse_command


def test_parse_command_follows_the_preprocessing_rules():
    assert parse_command("  \t  ") is None
    assert parse_command("# only a comment") is None
    assert parse_command("12 play B d4 # comment") == Command("12", "play", ("B", "d4"))
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
    out = io.BytesIO()
    engine.serve(io.BytesIO(b"1 boardsize 5\n2 quit\n3 name\n"), out)
    assert out.getvalue() == b"=1 \n\n=2 \n\n"


# --------------------------------------------------------------------------- hostile input


def test_ids_are_ascii_digits_only():
    assert parse_command("\u00b2 name") == Command(None, "\u00b2", ("name",))
    assert parse_command("\u0661\u0662 name") == Command(None, "\u0661\u0662", ("name",))
    assert parse_command("007 name") == Command("007", "name", ())
    assert parse_command("12") == Command("12", "", ())


def test_only_ascii_space_and_tab_separate_words():
    assert parse_command("\u00a0") == Command(None, "\u00a0", ())
    assert parse_command("play\u00a0b c3") == Command(None, "play\u00a0b", ("c3",))
    assert parse_command("\x0b\x0c\r\n") is None  # control characters are removed first


def test_non_ascii_digit_ids_are_unknown_commands_not_crashes(engine):
    assert ask(engine, "\u00b2 name") == "? unknown command\n\n"
    assert ask(engine, "\u0661\u0662 name") == "? unknown command\n\n"  # no wrong id echoed


def test_a_5000_digit_id_is_echoed_exactly(engine):
    big = "9" * 5000
    assert ask(engine, f"{big} name") == f"={big} rlsuite\n\n"
    assert ask(engine, f"{big} boardsize {big}") == f"?{big} unacceptable size\n\n"


def test_numbers_are_ascii_decimals(engine):
    assert ask(engine, "boardsize \u00b2") == "? syntax error\n\n"
    assert ask(engine, "boardsize \u0667") == "? syntax error\n\n"
    assert ask(engine, "boardsize 00000000000000000007") == "= \n\n"
    for komi in ("nan", "inf", "-inf", "1_0", "\u0667.5", "1e999"):
        assert ask(engine, f"komi {komi}") == "? syntax error\n\n", komi
    assert ask(engine, "play b C\u0663") == "? invalid color or coordinate\n\n"
    assert ask(engine, "time_left b \u00b2 0") == "? syntax error\n\n"


def test_a_line_of_only_no_break_space_gets_a_reply(engine):
    assert ask(engine, "\u00a0") == "? unknown command\n\n"


class BrokenPlayer:
    name = "broken"

    def reset(self, game):
        pass

    def act(self, state):
        raise RuntimeError("network weights went missing\n\nmid-game")

    def close(self):
        pass


def test_a_failing_player_gets_a_reply_and_the_engine_stays_up():
    engine = GtpEngine(BrokenPlayer(), board_size=5, komi=0.5)
    reply = ask(engine, "4 genmove b")
    assert reply.startswith("?4 internal error: RuntimeError: network weights went missing")
    assert reply.count("\n\n") == 1 and reply.endswith("\n\n")  # one reply, still framed
    assert ask(engine, "5 name") == "=5 rlsuite\n\n"


HOSTILE = [
    b"\xc2\xb2 name",  # U+00B2 as an id
    b"9" * 5000 + b" name",
    b"boardsize \xc2\xb2",
    b"\xd9\xa1\xd9\xa2 name",  # Arabic-Indic digits
    b"\xc2\xa0",  # only U+00A0
    b"\xff\xfe name \x80",  # invalid UTF-8
    b"1 na\xffme",
    b"boardsize 5",
]


def test_engine_process_answers_every_hostile_line_under_a_strict_utf8_locale():
    """The real `rlsuite gtp` process: one reply per command line, quit only at end of input."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8:strict"}
    env.pop("PYTHONUTF8", None)
    lines = [*HOSTILE, b"", b"# a comment", b"2 name"]
    result = subprocess.run(
        [sys.executable, "-m", "rlsuite.cli", "gtp", "--player", "random", "--board-size", "5"],
        input=b"\n".join(lines) + b"\n", capture_output=True, env=env, timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    replies = result.stdout.decode("utf-8").split("\n\n")
    assert replies[-1] == ""
    replies = replies[:-1]
    assert len(replies) == len(HOSTILE) + 1  # the blank and the comment line get none
    assert replies[-1] == "=2 rlsuite (random)"
    assert replies[1] == "=" + "9" * 5000 + " rlsuite (random)"
    assert replies[2] == "? syntax error"
    assert replies[6] == "?1 unknown command"
    assert replies[-2] == "= "
