"""Trained agents as players: tiny DQN and PPO runs on 5x5 Go, loaded from their run
directories through the trainers' `load_agent`, play refereed games and serve GTP."""

import re

import pytest

from rlsuite.agents.dqn import DQNConfig
from rlsuite.agents.dqn import train as train_dqn
from rlsuite.agents.pg import PPOConfig
from rlsuite.agents.pg import train as train_ppo
from rlsuite.arena.match import GoConfig, play_game, run_games, schedule
from rlsuite.arena.players import make_player
from rlsuite.gtp import GtpEngine

RULES = GoConfig(board_size=5, komi=0.5)


@pytest.fixture(scope="module")
def dqn_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("dqn")
    config = DQNConfig(
        env="rlsuite/Go-v0", env_kwargs={"board_size": 5, "komi": 0.5}, total_steps=300,
        learning_starts=100, batch_size=16, hidden_sizes=(32,), eval_episodes=0,
        backends=("csv",), checkpoint_replay=False, run_root=str(root), buffer_size=1000,
    )
    return train_dqn(config)


@pytest.fixture(scope="module")
def ppo_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("ppo")
    config = PPOConfig(
        env="rlsuite/Go-v0", env_kwargs={"board_size": 5, "komi": 0.5},
        total_steps=256, num_envs=2, num_steps=64, hidden_sizes=(32,), backends=("csv",),
        run_root=str(root),
    )
    return train_ppo(config)


@pytest.mark.parametrize("kind", ["dqn", "ppo"])
def test_trained_agent_plays_legal_games_with_both_colours(kind, dqn_run, ppo_run):
    run = {"dqn": dqn_run, "ppo": ppo_run}[kind]
    spec = f"{kind}:{run}"
    records = [r for r, _ in run_games(schedule([spec, "random"], 2, seed=0), RULES, jobs=2)]
    assert sorted(r.black for r in records) == sorted([spec, "random"])
    for record in records:
        assert record.error is None, record.error  # the referee accepted every agent move
        assert record.reason in ("score", "move cap")


def test_agent_for_another_board_size_is_refused(dqn_run):
    game = GoConfig(board_size=7, komi=0.5).build()
    player = make_player(f"dqn:{dqn_run}", game)
    with pytest.raises(ValueError, match="expects observations of shape"):
        play_game(game, player, make_player("random", game))


def test_gtp_engine_serves_a_trained_agent(ppo_run):
    game = RULES.build()
    engine = GtpEngine(make_player(f"ppo:{ppo_run}", game), board_size=5, komi=0.5)
    for _ in range(6):
        for colour in "bw":
            reply = engine.handle(f"genmove {colour}")
            assert re.fullmatch(r"= ([A-E][1-5]|pass)\n\n", reply), reply
    assert len(engine.history) == 13  # every answer was played on the engine's board
