"""Exact resume of PPO on CartPole and the suite's own envs: a run interrupted between
rollouts (episodes in flight) and resumed takes the same actions and ends with the same
weights, bit for bit, as one that ran straight through. The envs are rebuilt by replaying
each episode's actions from its start RNG state (`rlsuite.vecenv.InProcessEnvs`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rlsuite import checkpoint
from rlsuite.agents.pg import PPOConfig, UpdateReport, load_agent, train
from rlsuite.envs.chip import data_dir
from rlsuite.run import resume_config

APTE = data_dir() / "mcnc_apte" / "apte.aux"


class Crash(RuntimeError):
    pass


def _config(root: Path, env: str, env_kwargs: dict[str, Any]) -> PPOConfig:
    return PPOConfig(env=env, env_kwargs=env_kwargs, num_envs=2, num_steps=12,
                     total_steps=5 * 24, checkpoint_every=24, update_epochs=2,
                     num_minibatches=2, shared_torso=True, conv_channels=(8,),
                     hidden_sizes=(16,), activation="relu", ent_coef=0.01, run_root=str(root),
                     backends=("csv",), eval_episodes=0)


def _record(into: list[np.ndarray], crash_at: int | None = None):
    def callback(report: UpdateReport) -> None:
        if report.update == crash_at:
            raise Crash  # before this update's checkpoint: the run resumes from the last one
        into.append(report.buffer.fields["action"][: len(report.buffer)].copy())
    return callback


ENVS = [
    pytest.param("CartPole-v1", {}, id="cartpole"),
    pytest.param("rlsuite/Go-v0", {"board_size": 5}, id="go5-random"),
    pytest.param("rlsuite/ChipPlacement-v0", {"netlist": str(APTE)}, id="chip-apte",
                 marks=pytest.mark.skipif(not APTE.is_file(), reason=f"missing {APTE}")),
]


@pytest.mark.parametrize(("env", "env_kwargs"), ENVS)
def test_interrupted_ppo_run_resumes_exactly(tmp_path: Path, env: str,
                                             env_kwargs: dict[str, Any]) -> None:
    full: list[np.ndarray] = []
    full_dir = train(_config(tmp_path / "a", env, env_kwargs), callback=_record(full))
    before: list[np.ndarray] = []
    with pytest.raises(Crash):
        train(_config(tmp_path / "b", env, env_kwargs), callback=_record(before, 3))
    (crashed_dir,) = (tmp_path / "b").iterdir()
    latest = checkpoint.latest(crashed_dir)
    assert latest is not None and latest.name == f"step_{2 * 24:012d}"
    envs_state = checkpoint.load(latest).state["algorithm"]["envs"]
    assert any(len(a) for a in envs_state["actions"]), "no episode was in flight at the save"
    after: list[np.ndarray] = []
    assert train(resume_config(PPOConfig, crashed_dir), callback=_record(after)) == crashed_dir
    assert len(before) == 2 and len(after) == 3
    for expected, got in zip(full, before + after, strict=True):
        np.testing.assert_array_equal(expected, got)
    a, b = load_agent(full_dir).policy, load_agent(crashed_dir).policy
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


def test_resume_refuses_changed_flags(tmp_path: Path) -> None:
    config = dataclasses.replace(_config(tmp_path, "rlsuite/Go-v0", {"board_size": 5}),
                                 total_steps=24)
    run_dir = train(config)
    changed = dataclasses.replace(resume_config(PPOConfig, run_dir), env_kwargs={"board_size": 7})
    with pytest.raises(ValueError, match=r"\['env_kwargs'\] cannot change"):
        train(changed)
