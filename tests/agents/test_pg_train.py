"""End-to-end policy-gradient runs on real Gymnasium envs: learning, the run directory,
checkpoints, exact resume and the command line."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlsuite import checkpoint
from rlsuite.agents.pg import (
    A2CConfig,
    PGAgent,
    PPOConfig,
    ReinforceConfig,
    load_agent,
    train,
)
from rlsuite.agents.pg.networks import ActorCritic, NetSpec
from rlsuite.cli.train import main as train_cli
from rlsuite.cli.train import parse_config


def evaluate(agent: PGAgent, env_id: str, episodes: int = 5, seed: int = 100) -> float:
    env = gym.make(env_id)
    total = 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=seed + i)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(agent.act(obs[None])[0])
            total += float(reward)
            done = terminated or truncated
    env.close()
    return total / episodes


def random_return(env_id: str, episodes: int = 20) -> float:
    env = gym.make(env_id)
    env.action_space.seed(0)
    total = 0.0
    for i in range(episodes):
        env.reset(seed=i)
        done = False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
    return total / episodes


def test_ppo_cartpole_clearly_beats_random(tmp_path: Path) -> None:
    config = parse_config("ppo", ["--env", "CartPole-v1", "--total-steps", "10240", "--seed", "1",
                                  "--run-root", str(tmp_path), "--backends", "csv"])
    returns: list[float] = []
    run_dir = train(config, callback=lambda r: returns.extend(r.episodes.returns.tolist()))
    baseline = random_return("CartPole-v1")
    assert baseline < 30
    assert np.mean(returns[-20:]) > 5 * baseline
    assert evaluate(load_agent(run_dir), "CartPole-v1") > 200


def test_pendulum_return_improves(tmp_path: Path) -> None:
    config = parse_config("ppo", ["--env", "Pendulum-v1", "--total-steps", "12288",
                                  "--run-root", str(tmp_path), "--backends", "csv"])
    returns: list[float] = []
    run_dir = train(config, callback=lambda r: returns.append(float(r.episodes.returns.mean())))
    agent = load_agent(run_dir)
    assert isinstance(agent.action_space, gym.spaces.Box)
    actions = agent.act(np.zeros((3, 3), np.float32))
    assert actions.shape == (3, 1) and np.all(np.abs(actions) <= 2.0)
    # one rollout holds ~5 episodes; compare the first and the last four rollouts
    assert np.mean(returns[-4:]) > np.mean(returns[:4]) + 150, returns


@pytest.mark.parametrize("algo", ["a2c", "reinforce"])
def test_a2c_and_reinforce_learn_cartpole(tmp_path: Path, algo: str) -> None:
    config = parse_config(algo, ["--env", "CartPole-v1", "--total-steps", "12288", "--run-root",
                                 str(tmp_path), "--backends", "csv"])
    assert config.algo == algo and config.clip_coef is None and config.gae_lambda == 1.0
    returns: list[float] = []
    run_dir = train(config, callback=lambda r: returns.extend(r.episodes.returns.tolist()))
    assert np.mean(returns[-20:]) > 3 * np.mean(returns[:20]), returns
    assert evaluate(load_agent(run_dir), "CartPole-v1") > 100


def _tiny(tmp_path: Path, **overrides: object) -> PPOConfig:
    base = PPOConfig(env="CartPole-v1", total_steps=5 * 64, num_envs=2, num_steps=32,
                     update_epochs=2, num_minibatches=2, run_root=str(tmp_path),
                     backends=("csv",), checkpoint_every=64, eval_episodes=0)
    return dataclasses.replace(base, **overrides)


def test_run_directory_cli_and_agent_loading(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--env", "CartPole-v1", "--total-steps", "256", "--num-envs", "2", "--num-steps",
            "64", "--run-root", str(tmp_path), "--backends", "csv", "tensorboard",
            "--checkpoint-every", "128", "--eval-episodes", "2"]
    assert train_cli(["ppo", *argv]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["algo"] == "ppo" and saved["num_envs"] == 2
    tags = {line.split(",")[2] for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]}
    assert {"charts/episode_return", "losses/policy", "losses/value", "charts/sps",
            "charts/episodes", "eval/return_mean"} <= tags
    assert list(run_dir.glob("events.out.tfevents.*"))
    agent = load_agent(run_dir)
    assert agent.config["num_envs"] == 2
    obs = np.zeros((5, 4), np.float32)
    actions = agent.act(obs)
    assert actions.shape == (5,) and set(actions.tolist()) <= {0, 1}
    assert agent.act(obs, action_mask=np.array([[False, True]] * 5)).tolist() == [1] * 5
    with pytest.raises(ValueError, match="observations"):
        agent.act(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="contradicts A2CConfig"):
        train_cli(["a2c", "--resume", str(run_dir)])
    with pytest.raises(ValueError, match=r"\['gamma'\] cannot change"):
        train_cli(["ppo", "--resume", str(run_dir), "--gamma", "0.5"])
    assert train_cli(["ppo", "--resume", str(run_dir)]) == 0  # finished: nothing left, same run
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(run_dir)


@pytest.mark.parametrize("target_kl", [None, 1e-9])
def test_target_kl_stops_the_update_early(tmp_path: Path, target_kl: float | None) -> None:
    stats: list[dict[str, float]] = []
    train(_tiny(tmp_path, target_kl=target_kl, total_steps=128, update_epochs=4),
          callback=lambda r: stats.append(r.stats))
    # the first minibatch sees the rollout's own policy (KL 0) and steps; with a tiny target
    # the next one already exceeds it
    assert [s["losses/early_stop"] for s in stats] == [float(target_kl is not None)] * 2


def test_load_agent_refuses_pickles_and_foreign_dirs(tmp_path: Path) -> None:
    pickled = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1)}, pickled)
    with pytest.raises(checkpoint.CheckpointError, match="pickle"):
        load_agent(pickled)
    with pytest.raises(checkpoint.CheckpointError):
        load_agent(tmp_path)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"num_envs": 0}, "num_envs must be positive"),
        ({"total_steps": 10}, "less than one rollout"),
        ({"num_minibatches": 10_000}, "exceeds the rollout size"),
        ({"gamma": 1.5}, "gamma"),
        ({"clip_coef": -0.1}, "clip_coef"),
        ({"env_kwargs": "{}"}, "env_kwargs must be a mapping"),
        ({"max_grad_norm": -1.0}, "max_grad_norm"),
        ({"algo": "a2c"}, "contradicts PPOConfig"),
    ],
)
def test_bad_configs_are_rejected_by_name(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train(_tiny(tmp_path, **overrides))


def test_unsupported_spaces_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not supported"):
        train(_tiny(tmp_path, env="Blackjack-v1"))


def test_flat_parameters_share_storage_with_the_module() -> None:
    from rlsuite.agents.pg.learner import flatten_parameters
    from rlsuite.agents.pg.networks import ActorCritic, NetSpec

    torch.manual_seed(0)
    policy = ActorCritic(NetSpec(obs_shape=(3,), obs_dtype="float32", action_kind="box",
                                 action_dim=2))
    before = {k: v.clone() for k, v in policy.state_dict().items()}
    flat = flatten_parameters(policy)
    assert flat.numel() == sum(p.numel() for p in policy.parameters())
    for k, v in policy.state_dict().items():  # same values, now living in the flat buffer
        torch.testing.assert_close(v, before[k], rtol=0, atol=0)
    dist, value = policy(torch.ones(4, 3))
    (value.sum() + dist.log_prob(torch.zeros(4, 2)).sum()).backward()
    assert flat.grad is not None
    start, end = flat.grad.data_ptr(), flat.grad.data_ptr() + 4 * flat.numel()
    for p in policy.parameters():  # every gradient is a view into the flat gradient
        assert p.grad is not None and start <= p.grad.data_ptr() < end
    assert flat.grad.abs().sum() > 0
    torch.optim.SGD([flat], lr=1.0).step()
    torch.testing.assert_close(policy.log_std, before["log_std"] - policy.log_std.grad)


@pytest.mark.parametrize("config_cls", [PPOConfig, A2CConfig, ReinforceConfig])
def test_every_flag_has_help_text(config_cls: type) -> None:
    from tyro._docstrings import get_field_docstring

    blank = [f.name for f in dataclasses.fields(config_cls)
             if not get_field_docstring(config_cls, f.name, ())]
    assert blank == []


def test_max_grad_norm_zero_means_no_clipping(tmp_path: Path) -> None:
    """0 turns clipping off (as in DQN): the update equals one with an unreachable bound."""
    def weights(max_grad_norm: float) -> list[torch.Tensor]:
        run_dir = train(_tiny(tmp_path / str(max_grad_norm), total_steps=64,
                              max_grad_norm=max_grad_norm))
        return list(load_agent(run_dir).policy.parameters())

    unclipped, huge = weights(0.0), weights(1e9)
    for p, q in zip(unclipped, huge, strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    torch.manual_seed(0)
    initial = ActorCritic(NetSpec(obs_shape=(4,), obs_dtype="float32", action_kind="discrete",
                                  action_dim=2))
    assert any(not torch.equal(p, q) for p, q in zip(initial.parameters(), unclipped,
                                                     strict=True))
