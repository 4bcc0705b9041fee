"""DQN end to end: learning CartPole, exact resume, the CLI, loading agents, masked envs."""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from rlsuite import checkpoint
from rlsuite.agents.dqn import DQN, DQNConfig, load_agent, train
from rlsuite.cli.train import main as train_cli
from rlsuite.cli.train import parse_config
from rlsuite.run import IterationReport, resume_config

TINY = dict(
    hidden_sizes=(32, 32),
    learning_starts=200,
    buffer_size=5_000,
    batch_size=32,
    eval_episodes=2,
    log_every=250,
    backends=("csv",),
)


def _tags(run_dir: Path) -> set[str]:
    with (run_dir / "metrics.csv").open() as f:
        return {row["tag"] for row in csv.DictReader(f)}


def test_cartpole_learns_well_beyond_random(tmp_path: Path) -> None:
    """A random policy averages about 22 on CartPole-v1. 10k steps of the preset (exploring over
    the first 4k; greedy, 10 episodes per evaluation) ended at 122-437 over seeds 0-7 (median
    290; first evaluation 21-349), so the bound, 60 at the end, holds for any seed's numerics
    with a twofold margin and still needs nearly three times random's return."""
    config = parse_config("dqn", ["--env", "CartPole-v1"])
    config = dataclasses.replace(
        config, total_steps=10_000, exploration_fraction=0.4, eval_every=2_500,
        eval_episodes=10, run_root=str(tmp_path), backends=("csv", "tensorboard"), seed=0,
    )  # fmt: skip
    run_dir = train(config)
    evaluations = json.loads((run_dir / "status.json").read_text())["evaluations"]
    steps = tuple(s for s, _ in evaluations)
    returns = [m["eval/return_mean"] for _, m in evaluations]
    assert steps == (2_500, 5_000, 7_500, 10_000)
    assert returns[-1] >= 60, evaluations
    # the run directory holds what the design promises
    assert json.loads((run_dir / "config.json").read_text())["total_steps"] == 10_000
    assert list(run_dir.glob("events.out.tfevents.*"))
    assert {"charts/episode_return", "losses/td", "eval/return_mean"} <= _tags(run_dir)
    assert json.loads((run_dir / "status.json").read_text())["finished"] is True


def test_learning_rate_decays_linearly_to_its_final_fraction(tmp_path: Path) -> None:
    config = DQNConfig(env="CartPole-v1", total_steps=1_000, learning_rate=1e-3,
                       final_lr_fraction=0.1, run_root=str(tmp_path), eval_every=0,
                       **{**TINY, "learning_starts": 100})
    run_dir = train(config)
    with (run_dir / "metrics.csv").open() as f:
        logged = [float(row["value"]) for row in csv.DictReader(f)
                  if row["tag"] == "charts/learning_rate"]
    assert len(logged) == 4 and logged == sorted(logged, reverse=True), logged
    assert logged[0] < 1e-3 and logged[-1] == pytest.approx(1e-4, rel=0.05)
    saved = checkpoint.load(checkpoint.latest(run_dir / "checkpoints"))  # type: ignore[arg-type]
    last_lr = saved.state["algorithm"]["optimizer"]["param_groups"][0]["lr"]
    assert last_lr == pytest.approx(1e-4, rel=0.01)  # the step at total_steps
    with pytest.raises(ValueError, match="final_lr_fraction"):
        DQNConfig(final_lr_fraction=1.5)


def _replay_and_weights(run_dir: Path) -> tuple[dict[str, np.ndarray], dict[str, torch.Tensor]]:
    replay = checkpoint.load(checkpoint.latest(run_dir / "checkpoints" / "large"))  # type: ignore[arg-type]
    return replay.state["replay"]["fields"], load_agent(run_dir).network.state_dict()


def test_interrupted_and_resumed_run_acts_like_an_uninterrupted_one(tmp_path: Path) -> None:
    """Chunk a run mid-episode (pending n-step windows, prioritized replay, two envs) and resume:
    every later action, stored transition and weight equals the uninterrupted run's."""
    base = DQNConfig(
        **TINY, total_steps=1_200, num_envs=2, eval_every=500, checkpoint_every=500,
        run_root=str(tmp_path), n_step=3, prioritized=True,
    )  # fmt: skip
    whole = train(base)
    chunked = train(dataclasses.replace(base, chunk_steps=602))
    status = json.loads((chunked / "status.json").read_text())
    assert (status["env_steps"], status["finished"]) == (602, False)
    assert train(resume_config(DQNConfig, chunked)) == chunked

    replay_a, weights_a = _replay_and_weights(whole)
    replay_b, weights_b = _replay_and_weights(chunked)
    assert replay_a["action"].size > 1_000  # rows of num_envs steps
    for field in replay_a:
        assert np.array_equal(replay_a[field], replay_b[field]), field
    for name in weights_a:
        assert torch.equal(weights_a[name], weights_b[name]), name
    probe = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    assert np.array_equal(load_agent(whole).act(probe), load_agent(chunked).act(probe))


def test_sigterm_checkpoints_and_resume_finishes(tmp_path: Path) -> None:
    argv = ["--env", "CartPole-v1", "--total-steps", "200000", "--learning-starts", "200",
            "--hidden-sizes", "16", "--backends", "csv", "--eval-episodes", "1",
            "--run-root", str(tmp_path)]  # fmt: skip
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGTERM))
    timer.start()
    try:
        assert train_cli(["dqn", *argv]) == 0
    finally:
        timer.cancel()
    (run_dir,) = tmp_path.iterdir()
    status = json.loads((run_dir / "status.json").read_text())
    assert 0 < status["env_steps"] < 200_000 and not status["finished"]
    assert checkpoint.load(run_dir).step == status["env_steps"]

    with pytest.raises(ValueError, match=r"\['gamma'\] cannot change"):
        train_cli(["dqn", "--resume", str(run_dir), "--gamma", "0.5"])
    resumed = parse_config("dqn", ["--resume", str(run_dir), "--chunk-steps", "300"])
    assert resumed.total_steps == 200_000 and resumed.chunk_steps == 300
    assert train_cli(["dqn", "--resume", str(run_dir), "--chunk-steps", "300"]) == 0
    assert json.loads((run_dir / "status.json").read_text())["env_steps"] == (
        status["env_steps"] + 300)


def test_resume_without_replay_checkpoint_is_refused(tmp_path: Path) -> None:
    run_dir = train(DQNConfig(**TINY, total_steps=400, eval_every=0, run_root=str(tmp_path),
                              chunk_steps=300))  # fmt: skip
    shutil.rmtree(run_dir / "checkpoints" / "large")
    with pytest.raises(checkpoint.CheckpointError, match="has no matching"):
        train(resume_config(DQNConfig, run_dir))


def test_load_agent_acts_and_rejects_bad_input(tmp_path: Path) -> None:
    run_dir = train(DQNConfig(**TINY, total_steps=300, eval_every=0, run_root=str(tmp_path)))
    agent = load_agent(run_dir)
    assert agent.config.total_steps == 300 and agent.action_space.n == 2
    obs = np.zeros((5, 4), np.float32)
    assert agent.act(obs).shape == (5,)
    only_right = np.tile([False, True], (5, 1))
    assert (agent.act(obs, only_right, deterministic=False) == 1).all()
    with pytest.raises(ValueError, match="expects a batch"):
        agent.act(np.zeros(4, np.float32))
    with pytest.raises(ValueError, match="does not match"):
        agent.act(np.zeros((5, 3), np.float32))
    with pytest.raises(ValueError, match="action_mask has 3 columns"):
        agent.act(obs, np.ones((5, 3), bool))
    # a checkpoint directory works too, and pickles are refused
    assert load_agent(checkpoint.latest(run_dir)).act(obs).tolist() == agent.act(obs).tolist()  # type: ignore[arg-type]
    pickled = tmp_path / "model.pt"
    torch.save({"w": torch.zeros(1)}, pickled)
    with pytest.raises(checkpoint.CheckpointError, match="pickle"):
        checkpoint.load(pickled)


def test_chip_placement_trains_without_illegal_actions(tmp_path: Path) -> None:
    """ChipPlacementEnv raises on an illegal cell, so a finished run proves every action
    (random, greedy and in evaluation) respected the mask."""
    pytest.importorskip("rlsuite.envs.chip.env")
    run_dir = train(DQNConfig(
        **{**TINY, "learning_starts": 100}, env="rlsuite/ChipPlacement-v0",
        env_kwargs={"illegal_action": "raise"}, total_steps=500,
        num_envs=2, eval_every=0, run_root=str(tmp_path), eps_end=0.3,
    ))  # fmt: skip
    status = json.loads((run_dir / "status.json").read_text())
    assert status["updates"] > 0 and status["episodes"] > 0
    assert np.isfinite(status["evaluations"][-1][1]["eval/return_mean"])


def test_pong_trains_on_frame_replay_and_resumes(tmp_path: Path) -> None:
    """The Atari path on the real ALE: Nature CNN, frame-deduplicated replay, chunk + resume."""
    pytest.importorskip("ale_py")
    config = DQNConfig(
        env="ALE/Pong-v5", total_steps=240, num_envs=2, learning_starts=100, batch_size=8,
        buffer_size=1_000, train_every=2, eval_episodes=0, run_root=str(tmp_path),
        backends=("csv",), chunk_steps=120,
    )  # fmt: skip
    seen: list[tuple[int, int, int]] = []

    def check(report: IterationReport) -> None:
        algo: DQN = report.algorithm
        assert algo.learner.online.scale == 1 / 255  # Nature CNN on raw bytes
        assert algo.store.bytes_per_transition < 7.5 * 1024
        seen.append((report.state.env_steps, len(algo.store), algo.learner.updates))

    run_dir = train(config, callback=check)
    assert seen[-1][0] == 120
    train(resume_config(DQNConfig, run_dir), callback=check)
    first_resumed = seen[len(seen) // 2]
    assert first_resumed[0] == 124 and first_resumed[1] > 0  # the replay came back
    assert seen[-1][0] == 240 and seen[-1][2] > seen[len(seen) // 2 - 1][2]
    agent = load_agent(run_dir)
    actions = agent.act(np.zeros((3, 4, 84, 84), np.uint8))
    assert actions.shape == (3,) and (actions < agent.action_space.n).all()


def test_go_resume_is_exact_with_masks_and_an_opponent(tmp_path: Path) -> None:
    """Go 5x5 against the env's random opponent: illegal moves raise, so finishing proves the
    mask held; the opponent draws from the env's np_random, so replaying the recorded actions
    on resume restores the games exactly, masks of the target max included."""
    pytest.importorskip("rlsuite.envs.go.env")
    base = DQNConfig(
        **{**TINY, "learning_starts": 100, "batch_size": 16, "hidden_sizes": (32,)},
        env="rlsuite/Go-v0", env_kwargs={"board_size": 5, "illegal_action": "raise"},
        total_steps=300, num_envs=2,
        eval_every=0, run_root=str(tmp_path),
    )  # fmt: skip
    whole = train(base)
    chunked = train(dataclasses.replace(base, chunk_steps=152))
    train(resume_config(DQNConfig, chunked))
    replay_a, weights_a = _replay_and_weights(whole)
    replay_b, weights_b = _replay_and_weights(chunked)
    assert replay_a["next_mask"].shape[-1] == 26 and not replay_a["next_mask"].all()
    for field in replay_a:
        assert np.array_equal(replay_a[field], replay_b[field]), field
    for name in weights_a:
        assert torch.equal(weights_a[name], weights_b[name]), name
