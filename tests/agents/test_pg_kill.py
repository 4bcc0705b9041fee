"""A training run killed with SIGKILL at random moments (start-up, mid-rollout, mid-checkpoint)
and resumed each time never loses its checkpoints: the latest one always loads, and the work
lost to each kill is at most one checkpoint interval."""

from __future__ import annotations

import csv
import dataclasses
import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np

from rlsuite import checkpoint
from rlsuite.agents.pg import PPOConfig, train
from rlsuite.run import resume_config

KILLS = 20
EVERY = 64
"""checkpoint interval in env steps (two rollouts of 2 envs x 16 steps)"""


def _train(config: PPOConfig) -> None:
    train(config)


def _logged_steps(run_dir: Path) -> int:
    """The furthest step any incarnation logged (rows cut by a kill are skipped)."""
    path = run_dir / "metrics.csv"
    if not path.exists():
        return 0
    with path.open(newline="") as f:
        steps = [int(row[0]) for row in csv.reader(f) if len(row) == 4 and row[0].isdigit()]
    return max(steps, default=0)


def test_sigkill_at_random_moments_loses_at_most_one_interval(tmp_path: Path) -> None:
    fresh = PPOConfig(env="CartPole-v1", num_envs=2, num_steps=16, total_steps=10_000_000,
                      update_epochs=1, num_minibatches=1, hidden_sizes=(16,),
                      checkpoint_every=EVERY, log_every=32, eval_episodes=0, backends=("csv",),
                      run_root=str(tmp_path / "runs"), run_name="kill")
    # warm up this process (lazy imports such as torch's optimizer machinery take seconds on a
    # busy machine), so each forked child starts training at once
    train(dataclasses.replace(fresh, total_steps=32, run_root=str(tmp_path / "warm-up")))
    fork = multiprocessing.get_context("fork")
    rng = np.random.default_rng(0)
    run_dir: Path | None = None
    saved = [0]
    for _ in range(KILLS):
        resumable = run_dir is not None and (run_dir / "config.json").is_file()
        config = resume_config(PPOConfig, run_dir) if resumable else fresh  # type: ignore[arg-type]
        child = fork.Process(target=_train, args=(config,))
        child.start()
        time.sleep(float(rng.uniform(0.05, 1.2)))
        assert child.pid is not None and child.is_alive()
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        if run_dir is None:
            (run_dir,) = (tmp_path / "runs").iterdir()
        latest = checkpoint.latest(run_dir)
        step = 0 if latest is None else checkpoint.load(latest).step  # loads, or raises
        assert step >= saved[-1], "a kill took an older checkpoint's place"
        assert _logged_steps(run_dir) - step <= EVERY
        saved.append(step)
    assert run_dir is not None and saved[-1] >= 2 * EVERY, saved  # the run made progress
    # a last, uninterrupted resume continues from the newest checkpoint
    train(resume_config(PPOConfig, run_dir, chunk_steps=EVERY))
    assert checkpoint.load(run_dir).step == saved[-1] + EVERY
