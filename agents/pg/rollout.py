"""Rollout collection: step a vector env with the policy, write every step into a ReplayBuffer.

One rollout is `num_steps` vector steps added one step at a time, so the buffer's
`time_major(name, num_envs)` view is (num_steps, num_envs); advantages and returns are written
back through those views and the learner iterates the same storage with `minibatches`.

Fields per row: obs, action, log_prob, value, reward, terminated, done, final_value (V of the
final observation of a truncated episode, SAME_STEP envs), valid (False for the dummy step a
NEXT_STEP env spends on its reset), mask (masked envs), advantage, ret.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from rlsuite.agents.pg import vecenv
from rlsuite.agents.pg.losses import gae
from rlsuite.agents.pg.networks import ActorCritic, to_tensor
from rlsuite.replay import FieldSpec, ReplayBuffer


def action_mask_of(infos: dict[str, Any], num_envs: int) -> np.ndarray | None:
    """The stacked `info["action_mask"]` of a vector step, or None for unmasked envs."""
    mask = infos.get("action_mask")
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 2 or mask.shape[0] != num_envs:
        raise ValueError(f"info['action_mask'] has shape {mask.shape}, expected ({num_envs}, n)")
    return mask


def rollout_spec(envs: VectorEnv, masked: bool) -> FieldSpec:
    obs_space, act_space = envs.single_observation_space, envs.single_action_space
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
    """Owns the vector env's current observation and the per-env episode counters."""

    def __init__(
        self,
        envs: VectorEnv,
        policy: ActorCritic,
        *,
        num_steps: int,
        seed: int,
        reward_scale: float = 1.0,
        device: torch.device | str = "cpu",
        episodes_from_info: bool = False,
    ) -> None:
        """`episodes_from_info`: take finished episodes from `info["episode"]` (Gymnasium's
        RecordEpisodeStatistics layout) instead of summing rewards, for envs whose training
        rewards and episode ends differ from the game's (Atari: clipped rewards, lives)."""
        self.envs, self.policy, self.num_steps = envs, policy, num_steps
        self.num_envs = envs.num_envs
        self.reward_scale = reward_scale
        self.episodes_from_info = episodes_from_info
        self.device = torch.device(device)
        self.mode = vecenv.autoreset_mode(envs)
        self.obs, infos = envs.reset(seed=seed)
        self.mask = action_mask_of(infos, self.num_envs)
        self.masked = self.mask is not None
        act_space = envs.single_action_space
        self.box = isinstance(act_space, spaces.Box)
        if isinstance(act_space, spaces.Box):
            self.low, self.high = act_space.low, act_space.high
        self.pending_reset = np.zeros(self.num_envs, dtype=bool)  # NEXT_STEP dummy step next
        self.ep_return = np.zeros(self.num_envs, dtype=np.float64)
        self.ep_length = np.zeros(self.num_envs, dtype=np.int64)
        self._zeros = np.zeros(self.num_envs, dtype=np.float32)
        self.spec = rollout_spec(envs, self.masked)

    def new_buffer(self) -> ReplayBuffer:
        return ReplayBuffer(self.spec, self.num_envs * self.num_steps)

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return to_tensor(array, self.device)

    def _policy_mask(self) -> np.ndarray | None:
        """The current mask, with the rows of pending NEXT_STEP resets opened (their action is
        ignored and the final state of a finished game may have no legal move)."""
        if self.mask is None or not self.pending_reset.any():
            return self.mask
        mask = self.mask.copy()
        mask[self.pending_reset] = True
        return mask

    @torch.inference_mode()
    def collect(self, buffer: ReplayBuffer) -> Episodes:
        """Fill `buffer` (cleared first) with one rollout; return the episodes that ended."""
        buffer.clear()
        finished_returns: list[float] = []
        finished_lengths: list[int] = []
        same_step = self.mode == AutoresetMode.SAME_STEP
        for _ in range(self.num_steps):
            mask = self._policy_mask()
            dist, value = self.policy(
                self._tensor(self.obs), None if mask is None else self._tensor(mask)
            )
            action = dist.sample()
            log_prob = dist.log_prob(action).cpu().numpy()
            action_np = action.cpu().numpy()
            env_action = np.clip(action_np, self.low, self.high) if self.box else action_np
            next_obs, reward, terminated, truncated, infos = self.envs.step(env_action)
            valid = ~self.pending_reset
            done = terminated | truncated
            final_value = self._zeros
            if same_step and truncated.any():
                final_value = self._final_values(infos, truncated & ~terminated)
            row = {
                "obs": self.obs,
                "action": action_np,
                "log_prob": log_prob,
                "value": value.cpu().numpy(),
                "reward": reward * self.reward_scale,
                "terminated": terminated,
                "done": done,
                "final_value": final_value,
                "valid": valid,
                "advantage": self._zeros,
                "ret": self._zeros,
            }
            if mask is not None:
                row["mask"] = mask
            buffer.add(row)

            if self.episodes_from_info:
                if "episode" in infos:
                    ended = infos["_episode"]
                    finished_returns.extend(infos["episode"]["r"][ended].tolist())
                    finished_lengths.extend(infos["episode"]["l"][ended].tolist())
            else:
                self.ep_return += np.where(valid, reward, 0.0)
                self.ep_length += valid
                ended = done & valid
                if ended.any():
                    finished_returns.extend(self.ep_return[ended].tolist())
                    finished_lengths.extend(self.ep_length[ended].tolist())
                    self.ep_return[ended] = 0.0
                    self.ep_length[ended] = 0
            if not same_step:
                self.pending_reset = done & valid
            self.obs = next_obs
            if self.masked:
                self.mask = action_mask_of(infos, self.num_envs)
                if self.mask is None:
                    raise ValueError("the env gave info['action_mask'] on reset but not on this "
                                     "step: a masked env must report the mask on every step")
        return Episodes(np.asarray(finished_returns), np.asarray(finished_lengths, np.int64))

    def _final_values(self, infos: dict[str, Any], which: np.ndarray) -> np.ndarray:
        """V(final observation) for the envs in `which` (truncated ones), 0 elsewhere."""
        out = np.zeros(self.num_envs, dtype=np.float32)
        idx = np.flatnonzero(which)
        final_obs = np.stack([infos["final_obs"][i] for i in idx])
        out[idx] = self.policy.value(self._tensor(final_obs)).cpu().numpy()
        return out

    @torch.inference_mode()
    def compute_advantages(self, buffer: ReplayBuffer, gamma: float, lam: float) -> None:
        """Write GAE advantages and value targets (advantage + value) into `buffer`."""
        n = self.num_envs
        values = buffer.time_major("value", n)
        next_values = np.empty_like(values)
        next_values[:-1] = values[1:]
        next_values[-1] = self.policy.value(self._tensor(self.obs)).cpu().numpy()
        done = buffer.time_major("done", n)
        if self.mode == AutoresetMode.SAME_STEP:  # the next row belongs to a new episode
            next_values = np.where(done, buffer.time_major("final_value", n), next_values)
        advantages = gae(
            buffer.time_major("reward", n), values, next_values,
            buffer.time_major("terminated", n), done, gamma, lam,
        )
        buffer.time_major("advantage", n)[:] = advantages
        buffer.time_major("ret", n)[:] = advantages + values

    def state_dict(self) -> dict[str, Any]:
        """What resuming needs to take the same next actions: the current observation and
        mask, episode counters and, when possible, an exact env snapshot."""
        state: dict[str, Any] = {
            "obs": np.array(self.obs),
            "pending_reset": self.pending_reset.copy(),
            "ep_return": self.ep_return.copy(),
            "ep_length": self.ep_length.copy(),
            "env": vecenv.snapshot(self.envs),
        }
        if self.mask is not None:
            state["mask"] = self.mask.copy()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> bool:
        """Restore the collector; return False when the env could not be restored exactly (it
        then keeps its fresh reset and the counters start over)."""
        if state.get("env") is None:
            return False
        vecenv.restore(self.envs, state["env"])
        self.obs = np.array(state["obs"])
        self.mask = np.array(state["mask"]) if "mask" in state else None
        self.pending_reset = np.array(state["pending_reset"], dtype=bool)
        self.ep_return = np.array(state["ep_return"], dtype=np.float64)
        self.ep_length = np.array(state["ep_length"], dtype=np.int64)
        return True
