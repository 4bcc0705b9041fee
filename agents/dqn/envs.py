"""Env batches the DQN loop steps: one call, `num_envs` transitions, arrays in and out.

Two adapters share the `EnvBatch` shape:

- `PyEnvBatch` runs a list of Gymnasium envs in-process with same-step auto-reset. It is lean
  (no info merging, which dominates `SyncVectorEnv` on cheap envs such as CartPole) and it can
  be checkpointed: it records, per env, the RNG state at the start of the current episode and
  the actions taken since, and on resume replays them, so an env whose randomness flows through
  its `np_random` (the Gymnasium convention) is back in exactly the state it was saved in.
- `VectorEnvBatch` wraps any Gymnasium `VectorEnv` (ale-py's `AtariVectorEnv` behind
  `make_atari`), in either auto-reset mode. Its state lives in C++, so a resumed run reseeds it.

Legal-action masks come from `info["action_mask"]` when the env provides one.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any, Protocol

import gymnasium as gym
import numpy as np

EnvFactory = Callable[[], gym.Env]


@dataclasses.dataclass
class Step:
    """One vector step. Arrays have a leading `num_envs` axis."""

    next_obs: np.ndarray
    """the observation each action led to (the final one where an episode ended)"""
    next_mask: np.ndarray | None
    """legal actions at `next_obs`, bool (N, A), or None for unmasked envs"""
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray | None
    """False for rows that are no transition (the reset step of next-step auto-reset)"""
    episode_returns: list[float]
    """returns of the episodes that ended in this step (raw, unclipped where the env says so)"""
    episode_lengths: list[int]
    episode_envs: list[int]
    """which env each of those episodes ran in"""


class EnvBatch(Protocol):
    num_envs: int
    observation_space: gym.spaces.Box
    action_space: gym.spaces.Discrete
    obs: np.ndarray
    """current observations (N, *obs_shape); replaced, never mutated, by `step`"""
    mask: np.ndarray | None
    """legal actions at `obs` (N, A) or None"""
    restorable: bool
    """whether `load_state_dict` puts every env back where it was (else it starts afresh)"""

    def step(self, actions: np.ndarray) -> Step: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def check_spaces(observation_space: gym.Space, action_space: gym.Space, env_id: str) -> None:
    """DQN needs a Box observation and a Discrete action space starting at 0."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ValueError(
            f"DQN needs a Discrete action space; {env_id} has {action_space} "
            "(use a policy-gradient agent for continuous actions)"
        )
    if int(action_space.start) != 0:
        raise ValueError(f"{env_id}: Discrete actions must start at 0, got {action_space}")
    if not isinstance(observation_space, gym.spaces.Box):
        raise ValueError(f"DQN needs a Box observation space; {env_id} has {observation_space}")


def _info_mask(info: dict[str, Any], num_actions: int) -> np.ndarray | None:
    mask = info.get("action_mask")
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape[-1] != num_actions:
        raise ValueError(f"info['action_mask'] has {mask.shape[-1]} entries, not {num_actions}")
    return mask


class PyEnvBatch:
    """`num_envs` Gymnasium envs stepped in a Python loop, auto-reset within the same step."""

    restorable = True

    def __init__(self, factory: EnvFactory, num_envs: int, seed: int, env_id: str = "") -> None:
        self.envs = [factory() for _ in range(num_envs)]
        self.num_envs = num_envs
        first = self.envs[0]
        check_spaces(first.observation_space, first.action_space, env_id)
        self.observation_space: gym.spaces.Box = first.observation_space  # type: ignore[assignment]
        self.action_space: gym.spaces.Discrete = first.action_space  # type: ignore[assignment]
        self.num_actions = int(self.action_space.n)
        self._start: list[dict[str, Any]] = []
        self._actions: list[list[int]] = [[] for _ in range(num_envs)]
        self._returns = [0.0] * num_envs  # Python floats: cheaper than numpy scalars per step
        self._lengths = [0] * num_envs
        observations, masks = [], []
        for i, env in enumerate(self.envs):
            start = {"seed": seed + i}
            obs, info = env.reset(seed=seed + i)
            self._start.append(start)
            observations.append(obs)
            masks.append(_info_mask(info, self.num_actions))
        self.obs = np.stack(observations)
        self.masked = masks[0] is not None
        self.mask = np.stack(masks) if self.masked else None  # type: ignore[arg-type]

    def _reset(self, i: int) -> tuple[np.ndarray, np.ndarray | None]:
        env = self.envs[i]
        self._start[i] = {"rng": env.unwrapped.np_random.bit_generator.state}
        self._actions[i] = []
        obs, info = env.reset()
        return obs, _info_mask(info, self.num_actions)

    def step(self, actions: np.ndarray) -> Step:
        n = self.num_envs
        rewards = np.empty(n, dtype=np.float32)
        terminated = np.empty(n, dtype=bool)
        truncated = np.empty(n, dtype=bool)
        next_obs: list[np.ndarray] = []
        next_masks: list[np.ndarray | None] = []
        resets: dict[int, tuple[np.ndarray, np.ndarray | None]] = {}
        ep_returns: list[float] = []
        ep_lengths: list[int] = []
        ep_envs: list[int] = []
        for i, env in enumerate(self.envs):
            action = int(actions[i])
            obs, reward, term, trunc, info = env.step(action)
            self._actions[i].append(action)
            rewards[i], terminated[i], truncated[i] = reward, term, trunc
            self._returns[i] += float(reward)
            self._lengths[i] += 1
            next_obs.append(obs)
            next_masks.append(_info_mask(info, self.num_actions) if self.masked else None)
            if term or trunc:
                ep_returns.append(self._returns[i])
                ep_lengths.append(self._lengths[i])
                ep_envs.append(i)
                self._returns[i], self._lengths[i] = 0.0, 0
                resets[i] = self._reset(i)
        stacked = np.stack(next_obs)
        next_mask = np.stack(next_masks) if self.masked else None  # type: ignore[arg-type]
        self.obs, self.mask = stacked, next_mask
        if resets:
            self.obs = stacked.copy()
            self.mask = None if next_mask is None else next_mask.copy()
            for i, (obs, mask) in resets.items():
                self.obs[i] = obs
                if self.mask is not None:
                    self.mask[i] = mask
        return Step(
            stacked,
            next_mask,
            rewards,
            terminated,
            truncated,
            None,
            ep_returns,
            ep_lengths,
            ep_envs,
        )

    def state_dict(self) -> dict[str, Any]:
        """Where each episode started and the actions since: enough to rebuild it by replay."""
        return {
            "start": list(self._start),
            "actions": [np.asarray(a, dtype=np.int64) for a in self._actions],
            "returns": list(self._returns),
            "lengths": list(self._lengths),
            "obs": self.obs.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Re-run each env's current episode from its recorded start (seed or RNG state)."""
        for i, env in enumerate(self.envs):
            start = state["start"][i]
            if "seed" in start:
                obs, info = env.reset(seed=int(start["seed"]))
            else:
                env.unwrapped.np_random.bit_generator.state = start["rng"]
                obs, info = env.reset()
            mask = _info_mask(info, self.num_actions)
            for action in np.asarray(state["actions"][i]).tolist():
                obs, _, term, trunc, info = env.step(int(action))
                mask = _info_mask(info, self.num_actions)
                if term or trunc:
                    raise ValueError(
                        f"env {i}: replayed episode ended early; the env is not "
                        "deterministic under its seed"
                    )
            self._start[i] = start
            self._actions[i] = np.asarray(state["actions"][i]).tolist()
            self.obs[i] = obs
            if self.mask is not None:
                self.mask[i] = mask
        self._returns = [float(r) for r in state["returns"]]
        self._lengths = [int(n) for n in state["lengths"]]
        if not np.array_equal(self.obs, state["obs"]):
            warnings.warn(
                "resumed envs differ from the saved observations: this env draws randomness "
                "outside its np_random, so the run continues from a nearby state",
                stacklevel=2,
            )
            self.obs = np.array(state["obs"], dtype=self.obs.dtype)

    def close(self) -> None:
        for env in self.envs:
            env.close()


class VectorEnvBatch:
    """A Gymnasium `VectorEnv` (next-step or same-step auto-reset) seen as an `EnvBatch`.

    With `info_episodes`, episodes are what the env reports in `info["episode"]` with the mask
    `info["_episode"]` (Gymnasium's `RecordEpisodeStatistics` layout, which `make_atari` uses
    for whole games with raw scores while a life loss ends the learning episode); otherwise
    each done ends an episode whose return is the sum of the rewards the env gave.
    """

    restorable = False

    def __init__(
        self, vec: gym.vector.VectorEnv, seed: int, env_id: str = "", info_episodes: bool = False
    ) -> None:
        self.vec = vec
        self.info_episodes = info_episodes
        self.num_envs = vec.num_envs
        check_spaces(vec.single_observation_space, vec.single_action_space, env_id)
        self.observation_space = vec.single_observation_space  # type: ignore[assignment]
        self.action_space = vec.single_action_space  # type: ignore[assignment]
        self.num_actions = int(vec.single_action_space.n)  # type: ignore[attr-defined]
        mode = vec.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
        self.next_step = gym.vector.AutoresetMode(mode) == gym.vector.AutoresetMode.NEXT_STEP
        self.seed = seed
        self._reset(seed)

    def _reset(self, seed: int) -> None:
        self.obs, info = self.vec.reset(seed=seed)
        self.mask = _info_mask(info, self.num_actions)
        self._pending_reset = np.zeros(self.num_envs, dtype=bool)
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)

    def step(self, actions: np.ndarray) -> Step:
        obs, reward, terminated, truncated, info = self.vec.step(actions)
        reward = np.asarray(reward, dtype=np.float32)
        terminated, truncated = np.asarray(terminated), np.asarray(truncated)
        mask = _info_mask(info, self.num_actions)
        valid = ~self._pending_reset if self.next_step else None
        next_obs, next_mask = obs, mask
        done = terminated | truncated
        if not self.next_step and done.any():  # same-step: the final obs sits in info
            next_obs = obs.copy()
            final = info["final_obs"]
            final_info = info.get("final_info", {})
            for i in np.flatnonzero(done):
                next_obs[i] = final[i]
            if mask is not None and "action_mask" in final_info:
                next_mask = mask.copy()
                next_mask[done] = np.asarray(final_info["action_mask"], dtype=bool)[done]
        live = valid if valid is not None else np.ones(self.num_envs, dtype=bool)
        self._returns += np.where(live, reward, 0.0)
        self._lengths += live
        if self.info_episodes:
            ended = np.flatnonzero(info.get("_episode", np.zeros(self.num_envs, dtype=bool)))
            ep_returns = [float(info["episode"]["r"][i]) for i in ended]
            ep_lengths = [int(info["episode"]["l"][i]) for i in ended]
        else:
            ended = np.flatnonzero(done & live)
            ep_returns = [float(self._returns[i]) for i in ended]
            ep_lengths = [int(self._lengths[i]) for i in ended]
            self._returns[ended], self._lengths[ended] = 0.0, 0
        ep_envs = [int(i) for i in ended]
        self._pending_reset = done.copy()
        self.obs, self.mask = obs, mask
        return Step(
            next_obs,
            next_mask,
            reward,
            terminated,
            truncated,
            valid,
            ep_returns,
            ep_lengths,
            ep_envs,
        )

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Native vector envs cannot be restored: start fresh episodes from a new seed."""
        self.seed = int(state["seed"]) + 1_000_003
        self._reset(self.seed)

    def close(self) -> None:
        self.vec.close()
