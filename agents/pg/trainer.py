"""The actor-critic algorithm shared by PPO, A2C and REINFORCE, inside the run layer.

Per round (`rlsuite.run`): collect one rollout into the shared `ReplayBuffer`, write GAE back
into it, then `update_epochs` passes of shuffled minibatches (`ReplayBuffer.minibatches`)
through `actor_critic_loss`. The run layer owns the run directory, logging, evaluation cadence,
checkpoints and `--resume`; checkpoints land on rollout boundaries and hold weights, optimizer,
every RNG and the envs' replayable state, so a resumed run takes the same next actions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlsuite.agents.pg.agent import net_spec
from rlsuite.agents.pg.config import PGConfig
from rlsuite.agents.pg.learner import Learner
from rlsuite.agents.pg.networks import ActorCritic, NetSpec, to_tensor
from rlsuite.agents.pg.rollout import Episodes, RolloutCollector, collect_on_pool, rollout_pool
from rlsuite.replay import ReplayBuffer
from rlsuite.run import (
    EnvAlgorithm,
    IterationReport,
    Part,
    RunContext,
    RunState,
    load_optimizer_state,
    optimizer_state,
    run,
)


@dataclass
class UpdateReport:
    """What a `train` callback sees after each update (the buffer still holds its rollout)."""

    update: int
    """Updates completed so far."""
    global_step: int
    episodes: Episodes
    stats: Mapping[str, float]
    buffer: ReplayBuffer


Callback = Callable[[UpdateReport], bool | None]
"""Called after every update, before its checkpoint; returning True checkpoints and stops."""


class ActorCriticAlgorithm(EnvAlgorithm[PGConfig]):
    """PPO / A2C / REINFORCE as the run layer's `Algorithm`."""

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx, PGConfig)
        config = self.config
        self.spec = net_spec(config, self.envs.observation_space, self.envs.action_space)
        self.policy = ActorCritic(self.spec).to(self.device)
        self.learner = Learner(config, self.policy, self.device)
        self.collector = RolloutCollector(self.envs, self.policy, num_steps=config.num_steps,
                                          reward_scale=config.reward_scale, device=self.device)
        self.buffer = self.collector.new_buffer()
        self.episodes = Episodes(np.zeros(0), np.zeros(0, np.int64))
        self.pool = rollout_pool(config, self.spec) if config.pooled else None
        self.console = ctx.logger.console

    def collect(self, state: RunState) -> Mapping[str, float]:
        if self.pool is not None:  # --workers N / --backend ray: GAE written by the workers
            self.episodes, died = collect_on_pool(self.pool, self.policy, self.buffer)
            for event in died:
                self.console.log(f"rollout worker {event.worker} died ({event.error}); "
                                 "restarted, its rollout collected again")
        else:
            self.episodes = self.collector.collect(self.buffer)
            self.collector.compute_advantages(self.buffer, self.config.gamma,
                                              self.config.gae_lambda)
        state.env_steps += len(self.buffer)
        state.record_episodes(self.episodes.returns.tolist(), self.episodes.lengths.tolist())
        return {}

    def learn(self, state: RunState) -> Mapping[str, float]:
        stats = self.learner.update(self.buffer, state.updates, self.rng)
        state.updates += 1
        return stats

    @torch.inference_mode()
    def evaluate(self, state: RunState) -> Mapping[str, float]:
        """Mean and spread of `eval_episodes` episodes of the deterministic policy (the mode of
        its distribution) on envs seeded apart from training's."""
        return self.evaluate_policy(self._greedy)

    def _greedy(self, obs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        dist, _ = self.policy(to_tensor(obs, self.device),
                              None if mask is None else to_tensor(mask, self.device))
        action = dist.mode().cpu().numpy()
        if self.collector.box:
            action = np.clip(action, self.collector.low, self.collector.high)
        return action

    def state_dict(self) -> dict[str, Any]:
        return {
            "net_spec": self.spec.to_json(),
            "policy": self.policy.state_dict(),
            "optimizer": optimizer_state(self.learner.optimizer),
            "envs": self.envs.state_dict(),
        }

    def checkpoint_parts(self) -> dict[str, Part]:
        return {"policy": self.policy, "optimizer": self.learner.optimizer}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if NetSpec.from_json(state["net_spec"]) != self.spec:
            raise ValueError("the checkpoint's network differs from the one this config builds")
        self.policy.load_state_dict(state["policy"])
        load_optimizer_state(self.learner.optimizer, state["optimizer"])
        self.envs.load_state_dict(state["envs"])

    def close(self) -> None:
        super().close()
        if self.pool is not None:
            self.pool.close()


def train(config: PGConfig, callback: Callback | None = None) -> Path:
    """Train (or, with `config.resume`, continue) one run; return its run directory."""

    def report(r: IterationReport) -> bool | None:
        assert callback is not None
        algo: ActorCriticAlgorithm = r.algorithm
        return callback(UpdateReport(r.state.updates, r.state.env_steps, algo.episodes,
                                     r.metrics, algo.buffer))

    return run(ActorCriticAlgorithm, config, callback=report if callback else None)
