"""GTP client against the real GnuGo, and against engines that crash, hang or garble."""

import sys

import pytest

from rlsuite.gtp.client import (
    PIPELINE_BYTES,
    EngineFailure,
    GtpClient,
    GtpCommandError,
    gnugo_argv,
)


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


def test_batch_replies_equal_one_by_one_replies(gnugo):
    """A batch far over the pipe window, with one-line and multi-line replies, answers exactly
    as the same commands sent one at a time."""
    points = [f"{c}{r}" for c in "ABCDE" for r in range(1, 6)]
    batch = ["play b C3", "play w D4", "play b B2", "name", "showboard", "list_commands"]
    batch += [f"is_legal {side} {p}" for _ in range(20) for side in "bw" for p in points]
    batch += ["final_score", "showboard"]
    assert sum(len(c) + 6 for c in batch) > 4 * PIPELINE_BYTES
    with GtpClient(gnugo_argv(1, board_size=5, komi=0.5)) as client:
        single = [client.send(command) for command in batch]
        client.send("clear_board")
        assert client.send_many(batch) == single
        assert client.send_many([]) == []
    assert "is_legal" in single[5].split() and single[4].count("\n") >= 6
    legal = single[6:56]
    assert legal[points.index("C3")] == "0" and legal[points.index("A1")] == "1"


def test_refused_command_in_a_batch_is_reported_by_index(gnugo):
    with GtpClient(gnugo_argv(1, board_size=5, komi=0.5)) as client:
        batch = ["play b C3", "play w C3", "play w D4", "play b Z9", "play b B2"]
        with pytest.raises(GtpCommandError) as info:
            client.send_many(batch)
        error = info.value
        assert (error.index, error.command, error.message) == (1, "play w C3", "illegal move")
        assert "batch index 1" in str(error)
        # the commands around the refused ones ran, and the replies are still in step
        assert client.send_many(["is_legal b D4", "is_legal w B2", "name"]) == ["0", "0", "GNU Go"]


def test_malformed_batch_is_refused_before_anything_is_sent(gnugo):
    with GtpClient(gnugo_argv(1, board_size=5, komi=0.5)) as client:
        for bad, why in [("play b C3\nplay w D4", "one line"), ("# just a comment", "no reply"),
                         ("   ", "blank"), ("name " + "x" * PIPELINE_BYTES, "over 4096 bytes")]:
            with pytest.raises(ValueError, match=why):
                client.send_many(["play b C3", bad])
        assert client.send("is_legal w C3") == "1"  # nothing of the refused batches was played


def test_crash_in_the_middle_of_a_batch_is_reported_with_stderr(fake_engine):
    batch = ["genmove b", "genmove w"] + ["name"] * 2000
    with GtpClient(fake_engine("crash", after=1), name="fake") as client:
        with pytest.raises(EngineFailure) as info:
            client.send_many(batch)
        with pytest.raises(EngineFailure):  # and stays failed
            client.send("name")
    assert "exit code 3" in str(info.value) and "ran out of cheese" in str(info.value)
    assert info.value.stderr == "fatal: engine ran out of cheese"


def test_hung_engine_in_a_batch_times_out_instead_of_blocking_the_write(fake_engine):
    # 10k commands (~100 KB) would fill a 64 KB pipe to an engine that stopped reading;
    # the bounded window keeps every write short, so the reply timeout fires.
    batch = ["name", "genmove b"] + ["name"] * 10_000
    with GtpClient(fake_engine("hang"), timeout=0.5, startup_timeout=5.0) as client, (
        pytest.raises(EngineFailure, match="no reply within 0.5 s")
    ):
        client.send_many(batch)


def test_gnugo_rules_arguments():
    argv = gnugo_argv(3, board_size=9, komi=6.5, superko="simple", binary="gnugo")
    assert argv[:5] == ["gnugo", "--mode", "gtp", "--level", "3"]
    for flag in ("--chinese-rules", "--capture-all-dead", "--simple-ko", "--forbid-suicide"):
        assert flag in argv
    with pytest.raises(ValueError, match="level must be in 0..10"):
        gnugo_argv(11, board_size=9, komi=7.5, binary="gnugo")
    with pytest.raises(ValueError, match="superko must be one of"):
        gnugo_argv(1, board_size=9, komi=7.5, superko="none", binary="gnugo")
    assert "--seed" not in argv
    seeded = gnugo_argv(3, board_size=9, komi=6.5, binary="gnugo", seed=2**40 + 5)
    assert seeded[-2:] == ["--seed", str((2**40 + 5) % 2**31)]  # GnuGo reads a C int


def test_arena_gives_each_gnugo_game_its_own_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    from rlsuite.arena.players import make_player
    from rlsuite.envs.go import GoGame
    from rlsuite.gtp import client

    monkeypatch.setattr(client, "find_gnugo", lambda: "gnugo")  # no engine is started here
    game = GoGame(5, 0.5)
    argvs = [make_player("gnugo:2", game, seed=s).argv_for(game) for s in (11, 12)]  # type: ignore[attr-defined]
    assert [a[a.index("--seed") + 1] for a in argvs] == ["11", "12"]


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


def test_invalid_utf8_from_an_engine_is_read_not_a_dead_reader(tmp_path):
    """Bytes that are not UTF-8 arrive as U+FFFD; the reader thread must not die on them (the
    engine would then look hung until the timeout)."""
    script = tmp_path / "latin1_engine.py"
    script.write_text(
        "import sys\n"
        "for line in sys.stdin.buffer:\n"
        "    cid = line.split()[0].decode()\n"
        "    sys.stdout.buffer.write(b'=' + cid.encode() + b' Gn\\xfc Go\\n\\n')\n"
        "    sys.stdout.buffer.flush()\n"
        "    if b'quit' in line:\n"
        "        break\n"
    )
    with GtpClient([sys.executable, str(script)], timeout=5, startup_timeout=30) as client:
        assert client.send("name") == "Gn\ufffd Go"
        assert client.send("version") == "Gn\ufffd Go"
