"""Rollout collection: step the vector envs with the policy, write every step into a ReplayBuffer.

One rollout is `num_steps` vector steps added one step at a time, so the buffer's
`time_major(name, num_envs)` view is (num_steps, num_envs); advantages and returns are written
back through those views and the learner iterates the same storage with `minibatches`. The envs
(autoreset, masks, final observations, episode statistics, resume) are `rlsuite.vecenv`'s.

Fields per row: obs, action, log_prob, value, reward, terminated, done, final_value (V of the
final observation of a truncated episode), valid (False for the dummy step a NEXT_STEP env
spends on its reset), mask (masked envs), advantage, ret.

With `--workers N` or `--backend ray` (`rlsuite.workers`) each `RolloutWorker` steps its own
slice of the envs with a copy of the policy, writes GAE itself and returns whole rows;
`collect_on_pool` fills the learner's buffer with them (worker by worker, so its time-major
view no longer holds: advantages are already written). Worker envs and samplers live outside
the checkpoint, so a resumed pooled run starts fresh episodes, like `async` envs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from gymnasium import spaces

from rlsuite.agents.pg.losses import gae
from rlsuite.agents.pg.networks import ActorCritic, NetSpec, to_tensor
from rlsuite.replay import FieldSpec, ReplayBuffer
from rlsuite.vecenv import VecEnv, make_envs
from rlsuite.workers import WorkerDied, WorkerPool

if TYPE_CHECKING:
    from rlsuite.agents.pg.config import PGConfig


def rollout_spec(obs_space: spaces.Box, act_space: spaces.Space, masked: bool) -> FieldSpec:
    if isinstance(act_space, spaces.Discrete):
        action: tuple[tuple[int, ...], Any] = ((), np.int64)
    elif isinstance(act_space, spaces.Box) and len(act_space.shape) == 1:
        action = (act_space.shape, np.float32)
    else:
        raise ValueError(f"action space {act_space} is not supported: use Discrete or a 1-d Box")
    assert obs_space.shape is not None
    spec: dict[str, Any] = {
        "obs": (obs_space.shape, obs_space.dtype),
        "action": action,
        "log_prob": ((), np.float32),
        "value": ((), np.float32),
        "reward": ((), np.float32),
        "terminated": ((), bool),
        "done": ((), bool),
        "final_value": ((), np.float32),
        "valid": ((), bool),
        "advantage": ((), np.float32),
        "ret": ((), np.float32),
    }
    if masked:
        assert isinstance(act_space, spaces.Discrete)
        spec["mask"] = ((int(act_space.n),), bool)
    return spec


@dataclass
class Episodes:
    """Episodes that finished during one rollout (undiscounted, unscaled returns)."""

    returns: np.ndarray
    lengths: np.ndarray


class RolloutCollector:
    """Turns the policy and the vector envs into filled rollout buffers."""

    def __init__(
        self,
        envs: VecEnv,
        policy: ActorCritic,
        *,
        num_steps: int,
        reward_scale: float = 1.0,
        device: torch.device | str = "cpu",
    ) -> None:
        self.envs, self.policy, self.num_steps = envs, policy, num_steps
        self.num_envs = envs.num_envs
        self.reward_scale = reward_scale
        self.device = torch.device(device)
        act_space = envs.action_space
        self.box = isinstance(act_space, spaces.Box)
        if isinstance(act_space, spaces.Box):
            self.low, self.high = act_space.low, act_space.high
        self._zeros = np.zeros(self.num_envs, dtype=np.float32)
        self._ones = np.ones(self.num_envs, dtype=bool)
        self.spec = rollout_spec(envs.observation_space, act_space, envs.mask is not None)

    def new_buffer(self) -> ReplayBuffer:
        return ReplayBuffer(self.spec, self.num_envs * self.num_steps)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return to_tensor(array, self.device)

    @torch.inference_mode()
    def collect(self, buffer: ReplayBuffer) -> Episodes:
        """Fill `buffer` (cleared first) with one rollout; return the episodes that ended."""
        buffer.clear()
        envs = self.envs
        finished_returns: list[float] = []
        finished_lengths: list[int] = []
        for _ in range(self.num_steps):
            obs, mask = envs.obs, envs.mask
            dist, value = self.policy(
                self._tensor(obs), None if mask is None else self._tensor(mask)
            )
            action = dist.sample()
            log_prob = dist.log_prob(action).cpu().numpy()
            action_np = action.cpu().numpy()
            env_action = np.clip(action_np, self.low, self.high) if self.box else action_np
            step = envs.step(env_action)
            valid = self._ones if step.valid is None else step.valid
            final_value = self._zeros
            bootstrap = step.truncated & ~step.terminated & valid
            if bootstrap.any():
                final_value = self._final_values(step.next_obs, bootstrap)
            row = {
                "obs": obs,
                "action": action_np,
                "log_prob": log_prob,
                "value": value.cpu().numpy(),
                "reward": step.reward * self.reward_scale,
                "terminated": step.terminated,
                "done": step.terminated | step.truncated,
                "final_value": final_value,
                "valid": valid,
                "advantage": self._zeros,
                "ret": self._zeros,
            }
            if mask is not None:
                row["mask"] = mask
            buffer.add(row)
            finished_returns.extend(step.episode_returns)
            finished_lengths.extend(step.episode_lengths)
        return Episodes(np.asarray(finished_returns), np.asarray(finished_lengths, np.int64))

    def _final_values(self, next_obs: np.ndarray, which: np.ndarray) -> np.ndarray:
        """V(final observation) for the envs in `which` (truncated ones), 0 elsewhere."""
        out = np.zeros(self.num_envs, dtype=np.float32)
        out[which] = self.policy.value(self._tensor(next_obs[which])).cpu().numpy()
        return out

    @torch.inference_mode()
    def compute_advantages(self, buffer: ReplayBuffer, gamma: float, lam: float) -> None:
        """Write GAE advantages and value targets (advantage + value) into `buffer`. A step
        that ended an episode bootstraps from its final observation (`final_value`), others
        from the next row."""
        n = self.num_envs
        values = buffer.time_major("value", n)
        next_values = np.empty_like(values)
        next_values[:-1] = values[1:]
        next_values[-1] = self.policy.value(self._tensor(self.envs.obs)).cpu().numpy()
        done = buffer.time_major("done", n)
        next_values = np.where(done, buffer.time_major("final_value", n), next_values)
        advantages = gae(
            buffer.time_major("reward", n), values, next_values,
            buffer.time_major("terminated", n), done, gamma, lam,
        )
        buffer.time_major("advantage", n)[:] = advantages
        buffer.time_major("ret", n)[:] = advantages + values


class RolloutWorker:
    """One pool worker: envs `index * n` to `(index + 1) * n - 1` of the config's `num_envs`
    (seeded as the local envs would be), a policy copy, one rollout with GAE per task."""

    def __init__(self, config: PGConfig, spec: dict[str, Any], index: int) -> None:
        n = config.num_envs // config.workers
        torch.manual_seed(config.seed + 7919 * (index + 1))  # this worker's action sampler
        self.envs = make_envs(config.env, n, config.seed + index * n,
                              env_kwargs=config.env_kwargs, vectorization=config.vectorization)
        self.policy = ActorCritic(NetSpec.from_json(spec))
        self.collector = RolloutCollector(self.envs, self.policy, num_steps=config.num_steps,
                                          reward_scale=config.reward_scale)
        self.buffer = self.collector.new_buffer()
        self.gamma, self.lam = config.gamma, config.gae_lambda

    def set_weights(self, weights: dict[str, np.ndarray], version: int) -> None:
        self.policy.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})

    def run(self, task: None) -> tuple[dict[str, np.ndarray], Episodes]:
        episodes = self.collector.collect(self.buffer)
        self.collector.compute_advantages(self.buffer, self.gamma, self.lam)
        return self.buffer.get(np.arange(len(self.buffer))), episodes


def rollout_pool(config: PGConfig, spec: NetSpec) -> WorkerPool:
    """The `RolloutWorker` pool a config's `PoolConfig` flags ask for."""
    return WorkerPool.from_config(
        RolloutWorker, [{"config": config, "spec": spec.to_json(), "index": i}
                        for i in range(config.workers)], config)


def collect_on_pool(pool: WorkerPool, policy: ActorCritic,
                    buffer: ReplayBuffer) -> tuple[Episodes, list[WorkerDied]]:
    """One rollout per worker with `policy`'s weights, written into `buffer` (cleared
    first); the episodes that ended, and any worker deaths on the way."""
    pool.publish({k: v.detach().cpu().numpy().copy() for k, v in policy.state_dict().items()})
    results, died = pool.run([None] * pool.num_workers)
    buffer.clear()
    for result in results:
        buffer.add(result.value[0])
    episodes = [r.value[1] for r in results]
    return (Episodes(np.concatenate([e.returns for e in episodes]),
                     np.concatenate([e.lengths for e in episodes])), died)
