"""Player specs: every valid form parses, bad ones list the valid forms, missing parts say so."""

import pytest

from rlsuite.arena.players import (
    PlayerSpec,
    PlayerUnavailable,
    UnknownPlayerSpec,
    check_available,
    parse_spec,
)
from rlsuite.gtp import GnuGoNotFound, find_gnugo


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("random", PlayerSpec("random")),
        ("greedy", PlayerSpec("greedy")),
        ("GnuGo:05", PlayerSpec("gnugo", "5")),
        ("dqn:runs/dqn-1", PlayerSpec("dqn", "runs/dqn-1")),
        ("ppo:runs/x", PlayerSpec("ppo", "runs/x")),
        ("az:runs/az@200", PlayerSpec("az", "runs/az@200")),
        ("human", PlayerSpec("human")),
        ("gtp:gnugo --mode gtp", PlayerSpec("gtp", "gnugo --mode gtp")),
    ],
)
def test_valid_specs_parse(text, spec):
    assert parse_spec(text) == spec
    assert parse_spec(spec.text) == spec  # the canonical text round-trips


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("alphago", "unknown player spec 'alphago'"),
        ("gnugo:11", "level must be an integer 0..10"),
        ("gnugo:hard", "level must be an integer 0..10"),
        ("dqn:", "needs an argument"),
        ("random:3", "takes no argument"),
        ("az:run@0", "SIMS must be a positive integer"),
    ],
)
def test_bad_specs_list_the_valid_forms(text, why):
    with pytest.raises(UnknownPlayerSpec) as info:
        parse_spec(text)
    message = str(info.value)
    assert why in message
    for form in ("random", "greedy", "gnugo:LEVEL", "dqn:RUN", "ppo:RUN", "az:RUN", "human"):
        assert form in message


def test_alphazero_is_not_yet_available(tmp_path):
    with pytest.raises(PlayerUnavailable, match="not yet available"):
        check_available(parse_spec(f"az:{tmp_path}"))


def test_missing_run_directory_is_named(tmp_path):
    with pytest.raises(PlayerUnavailable, match="no run directory"):
        check_available(parse_spec(f"dqn:{tmp_path / 'nope'}"))


def test_missing_gtp_program_is_named():
    with pytest.raises(PlayerUnavailable, match="no program 'no-such-engine'"):
        check_available(parse_spec("gtp:no-such-engine --mode gtp"))


def test_gnugo_missing_says_how_to_install(monkeypatch):
    monkeypatch.setattr("rlsuite.gtp.client.GNUGO_PATHS", ())
    monkeypatch.setenv("PATH", "")
    with pytest.raises(GnuGoNotFound, match="apt-get install gnugo"):
        find_gnugo()
    with pytest.raises(PlayerUnavailable, match="apt-get install gnugo"):
        check_available(parse_spec("gnugo:1"))
