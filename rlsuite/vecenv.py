"""The one vector-env layer every agent steps: `num_envs` envs, arrays in, a `Step` out.

`make_envs` builds either of two adapters behind the same `VecEnv` shape:

- `InProcessEnvs` (`vectorization="sync"`) runs Gymnasium envs in a Python loop with same-step
  autoreset. It is lean (no info merging, which dominates `SyncVectorEnv` on cheap envs) and it
  resumes exactly: it records, per env, the RNG state at the start of the current episode and the
  actions since, and on resume replays them, so an env whose randomness flows through its
  `np_random` (the Gymnasium convention: CartPole, Go with its opponent, chip placement) is back
  in exactly the state it was saved in.
- `GymVectorEnvs` wraps a Gymnasium `VectorEnv` in either autoreset mode: subprocess envs
  (`async`), an env's own batched implementation (`native`), and Atari (`ALE/...`, always
  ale-py's vector env through `make_atari`: the one place that special case lives). Their state
  lives elsewhere (subprocesses, C++), so a resumed run starts fresh episodes from a new seed.

Legal-action masks come from `info["action_mask"]`. In NEXT_STEP mode the step after an episode
ends is the reset of that env, not a transition: `Step.valid` is False there and the mask
offered for it allows every action (the action is ignored; a finished game may have no legal
move). `Step.next_obs` is always the observation each action led to (the final one where an
episode ended), whatever the mode; `VecEnv.obs` is where the next actions are taken.
"""

from __future__ import annotations

import dataclasses
import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

import gymnasium as gym
import numpy as np

EnvFactory = Callable[[], gym.Env]
ActFn = Callable[[np.ndarray, "np.ndarray | None"], np.ndarray]
"""(observations, masks or None) -> actions, batched over envs"""
Vectorization = Literal["sync", "async", "native"]


@dataclasses.dataclass
class Step:
    """One vector step. Arrays have a leading `num_envs` axis."""

    next_obs: np.ndarray
    """the observation each action led to (the final one where an episode ended)"""
    next_mask: np.ndarray | None
    """legal actions at `next_obs`, bool (N, A), or None for unmasked envs"""
    reward: np.ndarray
    """float32 (N,), as the env gave it (clipped for Atari training)"""
    terminated: np.ndarray
    truncated: np.ndarray
    valid: np.ndarray | None
    """False for rows that are no transition (the reset step of NEXT_STEP autoreset); None
    when every row is one"""
    episode_returns: list[float]
    """returns of the episodes that ended in this step (raw game scores for Atari)"""
    episode_lengths: list[int]
    episode_envs: list[int]
    """which env each of those episodes ran in"""


class VecEnv(Protocol):
    num_envs: int
    observation_space: gym.spaces.Box
    """the space of one env's observation"""
    action_space: gym.spaces.Space
    """the space of one env's action"""
    obs: np.ndarray
    """current observations (N, *obs_shape); replaced, never mutated, by `step`"""
    @property
    def mask(self) -> np.ndarray | None:
        """legal actions at `obs` (N, A) or None"""

    restorable: bool
    """whether `load_state_dict` puts every env back where it was (else it starts afresh)"""

    def step(self, actions: np.ndarray) -> Step: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


ATARI_ENTRY_POINT = "rlsuite.envs.atari:make_atari"
"""Where `ALE/` ids are built, named as a string the way `rlsuite.ENV_IDS` names env classes,
so this core module imports no env package."""


def is_atari(env_id: str) -> bool:
    return env_id.startswith("ALE/")


def _atari_maker() -> Callable[..., gym.vector.VectorEnv]:
    module, name = ATARI_ENTRY_POINT.split(":")
    try:
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    except ImportError as e:
        raise ImportError(f"Atari needs the atari extra: pip install 'rlsuite[atari]' ({e})") from e


def make_envs(
    env_id: str,
    num_envs: int,
    seed: int,
    *,
    env_kwargs: Mapping[str, Any] | None = None,
    vectorization: Vectorization = "sync",
    training: bool = True,
) -> VecEnv:
    """`num_envs` copies of `env_id`, env i seeded `seed + i`. `training=False` asks Atari for
    raw rewards and whole games (the evaluation setting); other envs ignore it."""
    kwargs = dict(env_kwargs or {})
    if is_atari(env_id):
        vec = _atari_maker()(env_id, num_envs=num_envs, seed=seed, training=training, **kwargs)
        return GymVectorEnvs(vec, seed, info_episodes=True)
    if vectorization == "sync":
        return InProcessEnvs(lambda: gym.make(env_id, **kwargs), num_envs, seed)
    if vectorization == "native":
        vec = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point",
                           **kwargs)
    elif vectorization == "async":
        vec = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="async",
                           vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                           **kwargs)
    else:
        raise ValueError(f"vectorization must be sync, async or native, got {vectorization!r}")
    return GymVectorEnvs(vec, seed)


def _info_mask(info: Mapping[str, Any], num_actions: int | None) -> np.ndarray | None:
    mask = info.get("action_mask")
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if num_actions is None or mask.shape[-1] != num_actions:
        raise ValueError(f"info['action_mask'] has {mask.shape[-1]} entries, but the action "
                         f"space has {num_actions} actions")
    return mask


def _num_actions(space: gym.spaces.Space) -> int | None:
    return int(space.n) if isinstance(space, gym.spaces.Discrete) else None


def _check_observation_space(space: gym.spaces.Space) -> gym.spaces.Box:
    if not isinstance(space, gym.spaces.Box):
        raise ValueError(f"observation space {space} is not supported: use a Box")
    return space


class InProcessEnvs:
    """`num_envs` Gymnasium envs stepped in a Python loop, autoreset within the same step."""

    restorable = True

    def __init__(self, factory: EnvFactory, num_envs: int, seed: int) -> None:
        self.envs = [factory() for _ in range(num_envs)]
        self.num_envs = num_envs
        first = self.envs[0]
        self.observation_space = _check_observation_space(first.observation_space)
        self.action_space = first.action_space
        self.num_actions = _num_actions(self.action_space)
        self.discrete = self.num_actions is not None
        self._start: list[dict[str, Any]] = []
        self._actions: list[list[Any]] = [[] for _ in range(num_envs)]
        self._returns = [0.0] * num_envs  # Python floats: cheaper than numpy scalars per step
        self._lengths = [0] * num_envs
        observations, masks = [], []
        for i, env in enumerate(self.envs):
            obs, info = env.reset(seed=seed + i)
            self._start.append({"seed": seed + i})
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
        return obs, self._mask_of(info)

    def _mask_of(self, info: Mapping[str, Any]) -> np.ndarray | None:
        mask = _info_mask(info, self.num_actions) if self.masked else None
        if self.masked and mask is None:
            raise ValueError("the env gave info['action_mask'] on reset but not on a later "
                             "step: a masked env must report the mask on every step")
        return mask

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
        as_list = actions.tolist() if self.discrete else list(actions)
        for i, env in enumerate(self.envs):
            action = as_list[i]
            obs, reward, term, trunc, info = env.step(action)
            self._actions[i].append(action)
            rewards[i], terminated[i], truncated[i] = reward, term, trunc
            self._returns[i] += float(reward)
            self._lengths[i] += 1
            next_obs.append(obs)
            if self.masked:
                next_masks.append(self._mask_of(info))
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
        return Step(stacked, next_mask, rewards, terminated, truncated, None,
                    ep_returns, ep_lengths, ep_envs)

    def state_dict(self) -> dict[str, Any]:
        """Where each episode started and the actions since: enough to rebuild it by replay."""
        shape = self.action_space.shape or ()
        dtype = np.int64 if self.discrete else np.float64
        return {
            "start": list(self._start),
            "actions": [np.asarray(a, dtype=dtype).reshape(-1, *shape) for a in self._actions],
            "returns": list(self._returns),
            "lengths": list(self._lengths),
            "obs": self.obs.copy(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Re-run each env's current episode from its recorded start (seed or RNG state)."""
        if len(state["start"]) != self.num_envs:
            raise ValueError(f"saved env state has {len(state['start'])} envs, not "
                             f"{self.num_envs}")
        for i, env in enumerate(self.envs):
            start = state["start"][i]
            if "seed" in start:
                obs, info = env.reset(seed=int(start["seed"]))
            else:
                env.unwrapped.np_random.bit_generator.state = start["rng"]
                obs, info = env.reset()
            mask = self._mask_of(info)
            saved = np.asarray(state["actions"][i])
            actions = saved.tolist() if self.discrete else list(saved.astype(np.float32))
            for action in actions:
                obs, _, term, trunc, info = env.step(action)
                mask = self._mask_of(info)
                if term or trunc:
                    raise ValueError(f"env {i}: replayed episode ended early; the env is not "
                                     "deterministic under its seed")
            self._start[i] = start
            self._actions[i] = actions
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


class GymVectorEnvs:
    """A Gymnasium `VectorEnv` (NEXT_STEP or SAME_STEP autoreset) seen as a `VecEnv`.

    With `info_episodes`, episodes are what the env reports in `info["episode"]` with the mask
    `info["_episode"]` (Gymnasium's `RecordEpisodeStatistics` layout, which `make_atari` uses
    for whole games with raw scores while a life loss ends the learning episode); otherwise
    each done ends an episode whose return is the sum of the rewards the env gave.
    """

    restorable = False

    def __init__(self, vec: gym.vector.VectorEnv, seed: int, info_episodes: bool = False) -> None:
        self.vec = vec
        self.info_episodes = info_episodes
        self.num_envs = vec.num_envs
        self.observation_space = _check_observation_space(vec.single_observation_space)
        self.action_space = vec.single_action_space
        self.num_actions = _num_actions(self.action_space)
        mode = gym.vector.AutoresetMode(
            vec.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP))
        if mode == gym.vector.AutoresetMode.DISABLED:
            raise ValueError("vector envs with autoreset disabled are not supported: use "
                             "SAME_STEP or NEXT_STEP autoreset")
        self.next_step = mode == gym.vector.AutoresetMode.NEXT_STEP
        self.seed = seed
        self._reset(seed)

    def _reset(self, seed: int) -> None:
        self.obs, info = self.vec.reset(seed=seed)
        self._mask = _info_mask(info, self.num_actions)
        self._pending_reset = np.zeros(self.num_envs, dtype=bool)
        self._returns = np.zeros(self.num_envs)
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)

    @property
    def mask(self) -> np.ndarray | None:
        """Legal actions at `obs`; rows about to be reset (NEXT_STEP) allow every action."""
        if self._mask is None or not self._pending_reset.any():
            return self._mask
        mask = self._mask.copy()
        mask[self._pending_reset] = True
        return mask

    def step(self, actions: np.ndarray) -> Step:
        obs, reward, terminated, truncated, info = self.vec.step(actions)
        reward = np.asarray(reward, dtype=np.float32)
        terminated, truncated = np.asarray(terminated), np.asarray(truncated)
        mask = _info_mask(info, self.num_actions)
        if (mask is None) != (self._mask is None):
            raise ValueError("info['action_mask'] came and went between steps: a masked env "
                             "must report the mask on every step")
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
        self._pending_reset = done & live if self.next_step else self._pending_reset
        self.obs, self._mask = obs, mask
        return Step(next_obs, next_mask, reward, terminated, truncated, valid,
                    ep_returns, ep_lengths, ep_envs)

    def state_dict(self) -> dict[str, Any]:
        return {"seed": self.seed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """These envs cannot be restored: start fresh episodes from a new seed."""
        self.seed = int(state["seed"]) + 1_000_003
        self._reset(self.seed)

    def close(self) -> None:
        self.vec.close()


def evaluate_episodes(act: ActFn, envs: VecEnv, episodes: int) -> np.ndarray:
    """Returns of `episodes` complete episodes, split evenly over the envs up front (stopping
    at the first N finished episodes would favour short ones)."""
    quota = np.full(envs.num_envs, episodes // envs.num_envs)
    quota[: episodes % envs.num_envs] += 1
    returns: list[float] = []
    while quota.any():
        step = envs.step(act(envs.obs, envs.mask))
        for env, ret in zip(step.episode_envs, step.episode_returns, strict=True):
            if quota[env] > 0:
                quota[env] -= 1
                returns.append(ret)
    return np.asarray(returns)
