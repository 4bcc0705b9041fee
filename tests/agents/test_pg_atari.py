"""PPO on the real ALE (CPU smoke run): Nature CNN on uint8 frame stacks, NEXT_STEP resets."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlsuite.agents.pg import UpdateReport, load_agent, train
from rlsuite.cli.train import parse_config

pytest.importorskip("ale_py", reason="ale-py not installed: pip install 'rlsuite[atari]'")


def test_ppo_atari_smoke_run_on_cpu(tmp_path: Path) -> None:
    config = parse_config("ppo", ["--env", "ALE/Breakout-v5", "--num-envs", "2", "--num-steps",
                                  "16", "--total-steps", "64", "--eval-episodes", "0",
                                  "--run-root", str(tmp_path), "--backends", "csv"])
    assert config.shared_torso and config.clip_coef == 0.1  # the rl-zoo Atari preset
    seen: list[UpdateReport] = []
    run_dir = train(config, callback=seen.append)
    assert len(seen) == 2
    obs = seen[-1].buffer.fields["obs"]
    assert obs.dtype == np.uint8 and obs.shape[1:] == (4, 84, 84)
    assert np.isfinite(list(seen[-1].stats.values())).all()
    agent = load_agent(run_dir)
    assert agent.policy.spec.resolved_torso() == "nature_cnn"
    actions = agent.act(obs[:3])
    assert actions.shape == (3,) and ((actions >= 0) & (actions < 4)).all()
