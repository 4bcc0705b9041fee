"""Property tests of the GTP engine on any input: each command line gets exactly one well-framed
reply carrying its id, ignorable lines get none, and no input stops or crashes the engine."""

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rlsuite.gtp.engine import GtpEngine
from rlsuite.gtp.protocol import parse_command
from rlsuite.player import RandomPlayer

NAMES = ["name", "boardsize", "komi", "play", "genmove", "undo", "clear_board", "showboard",
         "final_score", "known_command", "time_left", "time_settings", "list_commands"]
WORDS = st.one_of(
    st.sampled_from(NAMES), st.sampled_from(["b", "w", "C3", "pass", "5", "7.5", "-1", "#"]),
    st.from_regex(r"[0-9]{1,30}", fullmatch=True), st.text(max_size=8),
)
SEPARATORS = st.sampled_from([" ", "  ", "\t", " \t", "\x00", "\r", "\u00a0", "\x0b"])
LINES = st.lists(st.tuples(WORDS, SEPARATORS), max_size=5).map(
    lambda parts: "".join(w + s for w, s in parts).replace("\n", " ")
)
REPLY = re.compile(r"(?s)([=?])([0-9]*) ([^\n]*(?:\n[^\n]+)*)\n\n")


def fresh_engine():
    return GtpEngine(RandomPlayer(0), board_size=5, komi=0.5)


ENGINE = fresh_engine()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_every_command_line_gets_one_framed_reply_with_its_id(line):
    command = parse_command(line)
    reply = ENGINE.handle(line)
    if command is None:
        assert reply is None
        return
    match = REPLY.fullmatch(reply)
    assert match is not None, reply
    assert match.group(2) == (command.id or "")
    if command.name == "quit":
        ENGINE.running = True  # quitting is the one way out; keep fuzzing this engine


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12))
def test_serve_answers_every_line_of_any_bytes_and_only_stops_at_quit(chunks):
    raw = b"\n".join(c.replace(b"\n", b" ") for c in chunks) + b"\n2 name\n"
    out = io.BytesIO()
    engine = fresh_engine()
    engine.serve(io.BytesIO(raw), out)
    lines = raw.decode("utf-8", errors="replace").split("\n")[:-1]
    commands = [c for c in map(parse_command, lines) if c is not None]
    first_quit = next((i for i, c in enumerate(commands) if c.name == "quit"), None)
    answered = commands if first_quit is None else commands[: first_quit + 1]
    replies = out.getvalue().decode("utf-8").split("\n\n")
    assert replies[-1] == "" and len(replies) - 1 == len(answered)
    if first_quit is None:
        assert replies[-2] == "=2 rlsuite"
