"""DQN inside the run layer: act on a batch of envs, store n-step transitions, learn, evaluate.

`rlsuite.run` owns the loop, run directory, logging, checkpoints and `--resume`; this module
supplies `DQN` (collect: `train_every` vector steps; learn: `gradient_steps` updates) and
`train(config)` (`rlsuite train dqn` parses the flags in `rlsuite.cli.train`). A resumed
run's next actions equal those of an uninterrupted run with the same seed (on CPU, for envs
whose randomness is their `np_random`): the envs replay their episodes (`rlsuite.vecenv`) and
the replay buffer is checkpointed under `checkpoints/large/`, so loading an agent for play
never reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlsuite.agents.dqn.config import DQNConfig
from rlsuite.agents.dqn.learner import QLearner
from rlsuite.agents.dqn.network import QNetwork
from rlsuite.agents.dqn.policy import EpsilonGreedy
from rlsuite.agents.networks import resolve_torso
from rlsuite.frame_replay import FrameReplay
from rlsuite.nstep_replay import TransitionReplay
from rlsuite.run import (
    EVAL_SEED_OFFSET,
    Callback,
    EnvAlgorithm,
    Part,
    RunContext,
    RunState,
    build_envs,
    load_optimizer_state,
    optimizer_state,
    run,
)
from rlsuite.vecenv import VecEnv, is_atari


def discrete_envs(config: DQNConfig, *, evaluation: bool = False) -> VecEnv:
    """The config's envs (`rlsuite.run.build_envs`), checked for what DQN needs: a Discrete
    action space from 0."""
    envs = build_envs(config, evaluation=evaluation)
    space = envs.action_space
    if not isinstance(space, gym.spaces.Discrete) or int(space.start) != 0:
        envs.close()
        raise ValueError(f"DQN needs a Discrete action space starting at 0; {config.env} has "
                         f"{space} (use a policy-gradient agent for continuous actions)")
    return envs


def build_network(
    config: DQNConfig, obs_shape: tuple[int, ...], obs_dtype: np.dtype, num_actions: int
) -> QNetwork:
    is_uint8 = np.dtype(obs_dtype) == np.uint8
    torso = resolve_torso(config.torso, obs_shape, obs_dtype)
    return QNetwork(
        obs_shape,
        num_actions,
        torso=torso,
        hidden_sizes=config.hidden_sizes,
        dueling=config.dueling,
        scale_uint8=is_uint8 and torso == "nature_cnn",
        conv_channels=config.conv_channels,
        layer_norm=config.layer_norm,
    )


def make_store(
    config: DQNConfig,
    obs_shape: tuple[int, ...],
    obs_dtype: np.dtype,
    num_actions: int,
    masked: bool,
) -> TransitionReplay | FrameReplay:
    """Atari frame stacks go to the frame-deduplicated replay, everything else whole."""
    common: dict[str, Any] = dict(
        n_step=config.n_step,
        gamma=config.gamma,
        prioritized=config.prioritized,
        alpha=config.per_alpha,
    )
    if is_atari(config.env):
        return FrameReplay(config.buffer_size, config.num_envs, frame_shape=obs_shape[1:],
                           stack=obs_shape[0], **common)  # fmt: skip
    return TransitionReplay(config.buffer_size, config.num_envs, obs_shape, obs_dtype,
                            num_actions=num_actions if masked else None, **common)  # fmt: skip


class DQN(EnvAlgorithm[DQNConfig]):
    """Deep Q-learning as the run layer's `Algorithm`."""

    def __init__(self, ctx: RunContext) -> None:
        super().__init__(ctx, DQNConfig)
        config = self.config
        space = self.envs.observation_space
        self.obs_shape = tuple(int(d) for d in space.shape)
        self.num_actions = int(self.envs.action_space.n)  # type: ignore[attr-defined]
        self.network = build_network(config, self.obs_shape, space.dtype, self.num_actions)
        self.learner = QLearner(
            self.network,
            learning_rate=config.learning_rate,
            adam_eps=config.adam_eps,
            double=config.double,
            max_grad_norm=config.max_grad_norm,
            tau=config.tau,
            device=self.device,
        )
        self.policy = EpsilonGreedy(self.learner.online, self.num_actions, self.device)
        masked = self.envs.mask is not None
        self.store = make_store(config, self.obs_shape, space.dtype, self.num_actions, masked)
        self.store.start(self.envs.obs)
        self._next_stats = 0

    def epsilon(self, step: int) -> float:
        c = self.config
        horizon = c.exploration_fraction * c.total_steps
        frac = 1.0 if horizon <= 0 else min(1.0, step / horizon)
        return c.eps_start + frac * (c.eps_end - c.eps_start)

    def learning_rate(self, step: int) -> float:
        c = self.config
        frac = min(1.0, step / c.total_steps)
        return c.learning_rate * (1.0 - frac * (1.0 - c.final_lr_fraction))

    def beta(self, step: int) -> float:
        c = self.config
        return c.per_beta + (1.0 - c.per_beta) * min(1.0, step / c.total_steps)

    def collect(self, state: RunState) -> Mapping[str, float]:
        """`train_every` vector steps: act, step the envs, push the transitions."""
        envs, n = self.envs, self.envs.num_envs
        for _ in range(self.config.train_every):
            obs, mask = envs.obs, envs.mask
            actions = self.policy(obs, mask, self.epsilon(state.env_steps), self.rng)
            step = envs.step(actions)
            self.store.add(actions, step.reward, step.terminated, step.truncated, step.next_obs,
                           obs=obs, next_mask=step.next_mask, valid=step.valid)  # fmt: skip
            state.env_steps += n
            state.record_episodes(step.episode_returns, step.episode_lengths)
        return {}

    def learn(self, state: RunState) -> Mapping[str, float]:
        """`gradient_steps` updates once `learning_starts` steps are in; the losses (averaged
        on the device) are read only when the run layer is about to log them."""
        c = self.config
        if state.env_steps >= c.learning_starts and len(self.store) >= c.batch_size:
            beta = self.beta(state.env_steps)
            self.learner.set_learning_rate(self.learning_rate(state.env_steps))
            for _ in range(c.gradient_steps):
                batch = self.store.sample(c.batch_size, self.rng, beta)
                td = self.learner.update(batch, need_td=c.prioritized)
                if td is not None:
                    self.store.update_priorities(batch.index, td)
                if self.learner.updates % c.target_update_every == 0:
                    self.learner.sync_target()
            state.updates = self.learner.updates
        if state.env_steps < self._next_stats and state.env_steps < c.total_steps:
            return {}
        self._next_stats = (state.env_steps // c.log_every + 1) * c.log_every
        return {"charts/epsilon": self.epsilon(state.env_steps),
                "charts/learning_rate": self.learning_rate(state.env_steps),
                **self.learner.pop_stats()}

    def make_envs(self, *, evaluation: bool = False) -> VecEnv:
        return discrete_envs(self.config, evaluation=evaluation)

    def evaluate(self, state: RunState) -> Mapping[str, float]:
        """`eval_epsilon`-greedy episodes, exploring from their own generator."""
        c = self.config
        rng = np.random.default_rng(c.seed + EVAL_SEED_OFFSET)
        return self.evaluate_policy(lambda obs, mask: self.policy(obs, mask, c.eval_epsilon, rng))

    def state_dict(self) -> dict[str, Any]:
        space = self.envs.observation_space
        return {
            "online": self.learner.online.state_dict(),
            "target": self.learner.target.state_dict(),
            "optimizer": optimizer_state(self.learner.optimizer),
            "updates": self.learner.updates,
            "envs": self.envs.state_dict(),
            "spaces": {
                "obs_low": np.asarray(space.low),
                "obs_high": np.asarray(space.high),
                "obs_dtype": np.dtype(space.dtype).str,
                "num_actions": self.num_actions,
            },
        }

    def checkpoint_parts(self) -> dict[str, Part]:
        return {"online": self.learner.online, "target": self.learner.target,
                "optimizer": self.learner.optimizer}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.learner.online.load_state_dict(state["online"])
        self.learner.target.load_state_dict(state["target"])
        load_optimizer_state(self.learner.optimizer, state["optimizer"])
        self.learner.updates = int(state["updates"])
        self.envs.load_state_dict(state["envs"])

    def large_state_dict(self) -> dict[str, Any]:
        """The replay buffer (empty with `--no-checkpoint-replay`)."""
        return {"replay": self.store.state_dict()} if self.config.checkpoint_replay else {}

    def load_large_state_dict(self, state: dict[str, Any]) -> None:
        if "replay" in state:
            self.store.load_state_dict(state["replay"])
        if not (self.envs.restorable and "replay" in state):
            # fresh episodes or an empty replay: no n-step window may span the gap
            self.store.start(self.envs.obs)


def train(config: DQNConfig, callback: Callback | None = None) -> Path:
    """Train (or resume, when `config.resume` names a run) and return the run directory."""
    return run(DQN, config, callback=callback)
