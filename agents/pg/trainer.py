"""The actor-critic training loop shared by PPO, A2C and REINFORCE: collect, advantage, update.

Per update: one rollout into the shared `ReplayBuffer`, GAE written back into it, then
`update_epochs` passes of shuffled minibatches (`ReplayBuffer.minibatches`) through
`actor_critic_loss`. Checkpoints land on rollout boundaries and hold everything the next
actions depend on (weights, optimizer, counters, every RNG, the collector's observation and env
snapshot), so `--resume` continues exactly where an uninterrupted run would be.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.progress import TaskID

from rlsuite import checkpoint
from rlsuite.agents.pg.agent import net_spec
from rlsuite.agents.pg.config import PGConfig
from rlsuite.agents.pg.learner import Learner
from rlsuite.agents.pg.networks import ActorCritic
from rlsuite.agents.pg.rollout import Episodes, RolloutCollector
from rlsuite.agents.pg.vecenv import make_vector_env
from rlsuite.config import load_config, new_run_dir
from rlsuite.logger import Logger, to_jsonable
from rlsuite.replay import ReplayBuffer


@dataclass
class UpdateReport:
    """What a `train` callback sees after each update (the buffer still holds its rollout)."""

    update: int
    """Updates completed so far."""
    global_step: int
    episodes: Episodes
    stats: dict[str, float]
    buffer: ReplayBuffer


Callback = Callable[[UpdateReport], bool | None]
"""Called after every update, before its checkpoint; returning True checkpoints and stops."""


def _resolve(config: PGConfig) -> tuple[PGConfig, Path, bool]:
    """The config to run, its run directory and whether it resumes an earlier run."""
    if config.resume is None:
        config.validate()
        name = f"{config.algo}-{config.env.replace('/', '_')}"
        return config, new_run_dir(config.run_root, name), False
    run_dir = Path(config.resume)
    saved = dataclasses.replace(load_config(PGConfig, run_dir), resume=None)
    if saved.algo != config.algo:
        raise ValueError(f"cannot resume {run_dir} with {config.algo}: it is a {saved.algo} run")
    saved.validate()
    return saved, run_dir, True


def train(config: PGConfig, callback: Callback | None = None) -> Path:
    """Train (or, with `config.resume`, continue) one run; return its run directory."""
    config, run_dir, resuming = _resolve(config)
    torch.set_num_threads(config.torch_threads)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    envs = make_vector_env(config)
    try:
        spec = net_spec(config, envs.single_observation_space, envs.single_action_space)
        policy = ActorCritic(spec).to(config.device)
        learner = Learner(config, policy)
        collector = RolloutCollector(
            envs, policy, num_steps=config.num_steps, seed=config.seed,
            reward_scale=config.reward_scale, device=config.device,
            episodes_from_info=config.env.startswith("ALE/"),
        )
        buffer = collector.new_buffer()
        with Logger(run_dir, config.backends) as logger:
            start, global_step = 0, 0
            if resuming:
                start, global_step = _restore(run_dir, policy, learner, collector, rng, logger)
            else:
                logger.log_hparams(config)
            _loop(config, spec.to_json(), run_dir, policy, learner, collector, buffer, rng,
                  logger, start, global_step, callback)
    finally:
        envs.close()
    return run_dir


def _restore(run_dir: Path, policy: ActorCritic, learner: Learner, collector: RolloutCollector,
             rng: np.random.Generator, logger: Logger) -> tuple[int, int]:
    ckpt = checkpoint.load(run_dir, modules={"policy": policy},
                           optimizers={"optimizer": learner.optimizer})
    state = ckpt.state
    checkpoint.restore_rng(state["rng"], rng)
    if not collector.load_state_dict(state["collector"]):
        logger.console.log("resume: this env cannot be snapshotted; envs restart from a reset")
    return int(state["update"]), int(state["global_step"])


def _save(config: PGConfig, spec_json: dict[str, Any], run_dir: Path, policy: ActorCritic,
          learner: Learner, collector: RolloutCollector, rng: np.random.Generator,
          update: int, global_step: int) -> None:
    checkpoint.save(
        run_dir / "checkpoints",
        step=global_step,
        modules={"policy": policy},
        optimizers={"optimizer": learner.optimizer},
        state={
            "update": update,
            "global_step": global_step,
            "config": to_jsonable(config),
            "net_spec": spec_json,
            "rng": checkpoint.rng_state(rng),
            "collector": collector.state_dict(),
        },
        keep=config.keep_checkpoints,
    )


def _loop(config: PGConfig, spec_json: dict[str, Any], run_dir: Path, policy: ActorCritic,
          learner: Learner, collector: RolloutCollector, buffer: ReplayBuffer,
          rng: np.random.Generator, logger: Logger, start: int, global_step: int,
          callback: Callback | None) -> None:
    t0, steps0 = time.perf_counter(), global_step
    with logger.progress(config.num_updates - start, f"{config.algo} {config.env}") as bar:
        for update in range(start, config.num_updates):
            episodes = collector.collect(buffer)
            global_step += buffer.size
            collector.compute_advantages(buffer, config.gamma, config.gae_lambda)
            stats = learner.update(buffer, update, rng)
            done = update + 1
            scalars = _episode_scalars(episodes)
            if done % config.log_every == 0 or done == config.num_updates:
                scalars.update(stats)
                scalars["charts/sps"] = (global_step - steps0) / (time.perf_counter() - t0)
            if scalars:
                logger.log(global_step, scalars)
            stop = bool(callback and callback(
                UpdateReport(done, global_step, episodes, stats, buffer)))
            if stop or done == config.num_updates or (
                config.save_every and done % config.save_every == 0
            ):
                _save(config, spec_json, run_dir, policy, learner, collector, rng, done,
                      global_step)
            bar.advance(TaskID(0))
            if stop:
                break


def _episode_scalars(episodes: Episodes) -> dict[str, float]:
    if not len(episodes.returns):
        return {}
    return {
        "charts/episode_return": float(episodes.returns.mean()),
        "charts/episode_length": float(episodes.lengths.mean()),
        "charts/episodes": float(len(episodes.returns)),
    }
