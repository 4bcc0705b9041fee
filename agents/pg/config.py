"""Run configs of the actor-critic core: one dataclass, three algorithms as its defaults.

REINFORCE with a learned baseline, A2C and PPO differ only in numbers here (Schulman et al.
2017 and Mnih et al. 2016 for the PPO and A2C defaults, as in Stable-Baselines3): how long a
rollout is, how far advantages bootstrap (`gae_lambda`), whether the policy term is clipped
(`clip_coef`), and how many passes an update makes over its rollout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from rlsuite.agents.pg.networks import TorsoKind
from rlsuite.run import RunConfig
from rlsuite.workers import PoolConfig

Algo = Literal["ppo", "a2c", "reinforce"]


@dataclass(kw_only=True)
class PGConfig(RunConfig, PoolConfig):
    """Every knob of a policy-gradient run (flags: `--num-envs 8`, `--no-norm-adv`, ...); the
    run-layer fields (env, seed, total_steps, learning_rate, checkpoints, ...) are
    `rlsuite.run.RunConfig`'s; rollout workers (`--workers 4`, `--backend ray`, each with
    `num_envs / workers` envs) are `rlsuite.workers.PoolConfig`'s."""

    algo: Algo = "ppo"
    """which configuration of the core this is; recorded with the run"""
    num_envs: int = 8
    """envs stepped together; one rollout holds num_envs * num_steps transitions"""
    num_steps: int = 128
    """steps per env in one rollout"""
    log_every: int = 1
    """env steps between metric writes (1: after every rollout)"""

    gamma: float = 0.99
    """discount factor"""
    gae_lambda: float = 0.95
    """GAE lambda; 1.0 gives Monte Carlo (REINFORCE) or n-step (A2C) advantages"""
    update_epochs: int = 4
    """passes over each rollout"""
    num_minibatches: int = 4
    """minibatches per pass"""
    clip_coef: float | None = 0.2
    """PPO's ratio clip; None gives the plain policy-gradient term (A2C, REINFORCE)"""
    anneal_clip: bool = False
    """decay clip_coef linearly to 0 over training (rl-zoo's `lin_0.2`)"""
    vf_clip: float | None = None
    """clip value updates to this distance from the rollout's values; None disables"""
    ent_coef: float = 0.0
    """weight of the entropy bonus"""
    vf_coef: float = 0.5
    """weight of the value loss 0.5 (V - R)^2"""
    max_grad_norm: float = 0.5
    """gradient norm clip (0 disables it)"""
    norm_adv: bool = True
    """normalise advantages per minibatch"""
    target_kl: float | None = None
    """stop an update's epochs early once the approximate KL exceeds this"""
    reward_scale: float = 1.0
    """multiply rewards before learning (episode returns are logged unscaled)"""

    anneal_lr: bool = True
    """decay learning_rate linearly to 0 over training"""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Adam, or RMSprop (alpha 0.99) as SB3's A2C"""
    opt_eps: float = 1e-5
    """the optimizer's epsilon"""

    torso: TorsoKind = "auto"
    """`mlp` for vectors, `nature_cnn` for Atari frames, `board_cnn` for board planes; `auto`
    picks by the observation's shape and dtype"""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """MLP layer widths; with a board conv net, the width of the value head's hidden layer"""
    activation: Literal["tanh", "relu"] = "tanh"
    """activation of the MLP and board torsos"""
    conv_channels: tuple[int, ...] = (32, 64, 64)
    """channels of the board conv net (Go, placement grids)"""
    shared_torso: bool = False
    """one torso for actor and critic (else one each)"""
    init_log_std: float = 0.0
    """initial log standard deviation of Gaussian (Box) actions"""

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return max(1, self.batch_size // self.num_minibatches)

    @property
    def num_updates(self) -> int:
        """Rollouts (and updates) the run makes: enough to cover `total_steps`."""
        return math.ceil(self.total_steps / self.batch_size)

    def validate(self) -> None:
        """Reject settings that cannot run, naming the field."""
        super().validate()
        expected = {PPOConfig: "ppo", A2CConfig: "a2c", ReinforceConfig: "reinforce"}.get(
            type(self), self.algo)
        if self.algo != expected:
            raise ValueError(f"algo={self.algo!r} contradicts {type(self).__name__}: use "
                             f"`rlsuite train {self.algo}` for {self.algo} defaults")
        if self.workers < 1 or self.num_envs % self.workers:
            raise ValueError(f"num_envs={self.num_envs} must split evenly over "
                             f"workers={self.workers}")
        for name in ("num_steps", "update_epochs", "num_minibatches"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.total_steps < self.batch_size:
            raise ValueError(f"total_steps={self.total_steps} is less than one rollout "
                             f"(num_envs * num_steps = {self.batch_size})")
        if self.num_minibatches > self.batch_size:
            raise ValueError(
                f"num_minibatches={self.num_minibatches} exceeds the rollout size {self.batch_size}"
            )
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gamma and gae_lambda must lie in [0, 1], got {self.gamma}, "
                             f"{self.gae_lambda}")
        if self.max_grad_norm < 0:
            raise ValueError(f"max_grad_norm must be >= 0, got {self.max_grad_norm}")
        for name in ("clip_coef", "vf_clip", "target_kl"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}")


@dataclass(kw_only=True)
class PPOConfig(PGConfig):
    """PPO: GAE(0.95), clipped surrogate, 4 epochs over 4 minibatches per rollout."""

    algo: Algo = "ppo"


@dataclass(kw_only=True)
class A2CConfig(PGConfig):
    """A2C: 5-step synchronous rollouts, one full-batch step, RMSprop (SB3's defaults)."""

    algo: Algo = "a2c"
    num_steps: int = 5
    gae_lambda: float = 1.0
    update_epochs: int = 1
    num_minibatches: int = 1
    clip_coef: float | None = None
    norm_adv: bool = False
    learning_rate: float = 7e-4
    optimizer: Literal["adam", "rmsprop"] = "rmsprop"


@dataclass(kw_only=True)
class ReinforceConfig(PGConfig):
    """REINFORCE with a learned baseline: Monte Carlo returns (lambda=1) over long rollouts,
    one gradient step per rollout; a rollout cut mid-episode bootstraps from the baseline, as
    in Spinning Up's VPG."""

    algo: Algo = "reinforce"
    num_envs: int = 4
    num_steps: int = 128
    gae_lambda: float = 1.0
    update_epochs: int = 1
    num_minibatches: int = 1
    clip_coef: float | None = None
    learning_rate: float = 3e-3
    anneal_lr: bool = False


CONFIGS: dict[str, type[PGConfig]] = {
    "ppo": PPOConfig,
    "a2c": A2CConfig,
    "reinforce": ReinforceConfig,
}
