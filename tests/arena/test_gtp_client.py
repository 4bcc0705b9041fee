"""GTP client against the real GnuGo, and against engines that crash, hang or garble."""

import pytest

from rlsuite.gtp import EngineFailure, GtpClient, GtpCommandError, gnugo_argv


def test_client_talks_to_gnugo(gnugo):
    with GtpClient(gnugo_argv(1, board_size=5, komi=0.5)) as client:
        assert client.send("protocol_version") == "2"
        assert client.send("name") == "GNU Go"
        client.send("play b C3")
        with pytest.raises(GtpCommandError, match="illegal move"):
            client.send("play w C3")
        with pytest.raises(GtpCommandError, match="invalid color or coordinate"):
            client.send("play b Z9")
        assert client.send("final_score") == "B+24.5"  # one black stone owns 5x5, komi 0.5
        board = client.send("showboard")
        assert board.count("\n") >= 6 and "X" in board
    assert client.process.poll() is not None  # closed on exit


def test_gnugo_rules_arguments():
    argv = gnugo_argv(3, board_size=9, komi=6.5, superko="simple", binary="gnugo")
    assert argv[:5] == ["gnugo", "--mode", "gtp", "--level", "3"]
    for flag in ("--chinese-rules", "--capture-all-dead", "--simple-ko", "--forbid-suicide"):
        assert flag in argv
    with pytest.raises(ValueError, match="level must be in 0..10"):
        gnugo_argv(11, board_size=9, komi=7.5, binary="gnugo")
    with pytest.raises(ValueError, match="superko must be one of"):
        gnugo_argv(1, board_size=9, komi=7.5, superko="none", binary="gnugo")


def test_crash_is_reported_with_the_engines_stderr(fake_engine):
    with GtpClient(fake_engine("crash", after=1), name="fake") as client:
        assert client.send("genmove b") == "pass"
        with pytest.raises(EngineFailure) as info:
            client.send("genmove w")
    message = str(info.value)
    assert "exit code 3" in message and "ran out of cheese" in message
    assert info.value.stderr == "fatal: engine ran out of cheese"


def test_hung_engine_times_out(fake_engine):
    with GtpClient(fake_engine("hang"), timeout=0.5, startup_timeout=5.0) as client:
        client.send("name")  # the first reply may take up to startup_timeout
        with pytest.raises(EngineFailure, match="no reply within 0.5 s"):
            client.send("genmove b")


def test_engine_silent_from_the_start_times_out_after_the_startup_grace(fake_engine):
    with GtpClient(fake_engine("hang"), timeout=0.2, startup_timeout=0.6) as client, (
        pytest.raises(EngineFailure, match="no reply within 0.6 s")
    ):
        client.send("genmove b")


def test_garbled_reply_is_a_protocol_failure(fake_engine):
    with GtpClient(fake_engine("garble"), timeout=5, startup_timeout=5) as client, pytest.raises(
        EngineFailure, match="malformed reply"
    ):
        client.send("genmove b")


def test_missing_program_is_named(tmp_path):
    with pytest.raises(EngineFailure, match="cannot start"):
        GtpClient([str(tmp_path / "no-such-engine")])
