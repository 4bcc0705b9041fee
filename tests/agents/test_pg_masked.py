"""Masked categorical PPO on the suite's own envs: Go and macro placement. Both envs raise
ValueError on an illegal move, so a run that finishes never sent one."""

from __future__ import annotations

import json
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the env ids)
from rlsuite.agents.pg import PPOConfig, UpdateReport, load_agent, train
from rlsuite.config import parse
from rlsuite.envs.chip import data_dir

APTE = data_dir() / "mcnc_apte"


def _check_rollout_legal(report: UpdateReport) -> None:
    buf = report.buffer
    n = len(buf)
    mask, action = buf.fields["mask"][:n], buf.fields["action"][:n]
    assert mask[np.arange(n), action].all(), "an action outside its mask was stored"


def test_ppo_on_go_respects_masks_and_runs_end_to_end(tmp_path: Path) -> None:
    config = PPOConfig(env="rlsuite/Go-v0", env_kwargs=json.dumps({"board_size": 5}),
                       num_envs=4, num_steps=32, total_steps=256, shared_torso=True,
                       conv_channels=(16,), hidden=(32,), run_root=str(tmp_path),
                       backends=("csv",))
    episodes: list[float] = []

    def check(report: UpdateReport) -> None:
        _check_rollout_legal(report)
        episodes.extend(report.episodes.returns.tolist())

    run_dir = train(config, callback=check)
    assert episodes and set(episodes) <= {-1.0, 0.0, 1.0}  # Go rewards are win/draw/loss
    agent = load_agent(run_dir)
    env = gym.make("rlsuite/Go-v0", board_size=5)
    obs, info = env.reset(seed=0)
    for _ in range(10):  # the agent's moves are legal, or the env would raise
        action = agent.act(obs[None], info["action_mask"][None], deterministic=False)[0]
        assert info["action_mask"][action]
        obs, _, terminated, _, info = env.step(int(action))
        if terminated:
            break


@pytest.mark.skipif(not APTE.is_dir(), reason=f"chip netlist data missing: {APTE}")
def test_ppo_chip_placement_improves_wirelength(tmp_path: Path) -> None:
    config = parse(PPOConfig, ["--env", "rlsuite/ChipPlacement-v0", "--env-kwargs",
                               json.dumps({"netlist": str(APTE)}), "--total-steps", "2304",
                               "--run-root", str(tmp_path), "--backends", "csv"], algo="ppo")
    returns: list[float] = []

    def check(report: UpdateReport) -> None:
        _check_rollout_legal(report)
        returns.append(float(report.episodes.returns.mean()))

    train(config, callback=check)
    # episode return = minus the normalised wirelength of the placement
    assert returns[-1] > returns[0] + 0.1, returns
