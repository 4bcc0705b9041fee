"""Player specs and the one registry: every valid form parses, bad ones list the valid forms,
missing parts say so, each kind plays the games it can, and `az:` goes to AlphaZero lazily."""

import sys
import types

import pytest

from rlsuite.arena.players import (
    PLAYERS,
    PlayerKind,
    PlayerSpec,
    PlayerUnavailable,
    UnknownPlayerSpec,
    check_available,
    make_player,
    parse_spec,
    register_player,
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


def test_alphazero_run_that_is_not_one_is_named(tmp_path):
    with pytest.raises(PlayerUnavailable, match=f"az:{tmp_path}: .*"):
        check_available(parse_spec(f"az:{tmp_path}"))
    with pytest.raises(PlayerUnavailable, match="no AlphaZero run"):
        check_available(parse_spec(f"az:{tmp_path / 'nope'}"))
    with pytest.raises(PlayerUnavailable, match="no shipped network 'zoo/go-3x3'"):
        check_available(parse_spec("az:zoo/go-3x3"))


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


def test_one_registry_builds_players_for_both_games():
    from rlsuite.arena.chip import chip_game
    from rlsuite.envs.go import GoGame

    go, chip = GoGame(5, 0.5), chip_game(None)
    for text in ("random", "greedy"):
        assert make_player(text, go, seed=0).name == make_player(text, chip, seed=0).name == text
    assert make_player("sa", chip, seed=0).name == "sa"
    with pytest.raises(ValueError, match="'sa' does not play go; players of go are:"):
        make_player("sa", go)
    with pytest.raises(ValueError, match="'human' does not play chip"):
        make_player("human", chip)


def test_alphazero_specs_go_to_its_load_player(monkeypatch):
    """`az:` is resolved lazily through rlsuite.agents.alphazero.load_player(spec_text)."""
    from rlsuite.envs.go import GoGame
    from rlsuite.player import RandomPlayer

    asked = []

    def load_player(spec):
        asked.append(spec)
        return RandomPlayer(0)

    fake = types.ModuleType("rlsuite.agents.alphazero")
    fake.load_player = load_player
    monkeypatch.setitem(sys.modules, "rlsuite.agents.alphazero", fake)
    game = GoGame(5, 0.5)
    assert make_player("az:zoo/go-7x7", game).name == "az:zoo/go-7x7"
    assert make_player("az:runs/az-1@64", game).name == "az:runs/az-1@64"
    assert asked == ["az:zoo/go-7x7", "az:runs/az-1@64"]
    del fake.load_player
    with pytest.raises(PlayerUnavailable, match="not yet available .*load_player"):
        make_player("az:zoo/go-7x7", game)


def test_new_kinds_register_for_every_front_end():
    from rlsuite.envs.go import GoGame
    from rlsuite.player import GreedyPlayer

    entry = PlayerKind("cheater", "for this test", lambda spec, game, seed: GreedyPlayer(seed))
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(PLAYERS, "cheater", entry)
        assert make_player("cheater", GoGame(5, 0.5)).name == "cheater"
        with pytest.raises(ValueError, match="already registered"):
            register_player("cheater", entry)
    with pytest.raises(UnknownPlayerSpec):
        parse_spec("cheater")


def test_a_run_is_loaded_once_per_process(tmp_path, monkeypatch):
    """A round robin builds players per game; the checkpoint is read at the first only."""
    from rlsuite.arena import players
    from rlsuite.envs.go import GoGame

    loads = []

    class Agent:
        observation_space = None

        def act(self, obs, mask, deterministic):
            return [int(mask[0].argmax())]

    fake = types.ModuleType("fake_trainer")
    fake.load_agent = lambda run: loads.append(run) or Agent()
    monkeypatch.setitem(sys.modules, "fake_trainer", fake)
    monkeypatch.setitem(players.AGENT_MODULES, "dqn", "fake_trainer")
    players._load_once.cache_clear()
    try:
        game = GoGame(5, 0.5)
        for _ in range(3):
            player = make_player(f"dqn:{tmp_path}", game)
            player.reset(game)
            assert player.act(game.initial_state()) == 0
        assert loads == [tmp_path.resolve()]
    finally:
        players._load_once.cache_clear()
