"""Run configs of the actor-critic core: one dataclass, three algorithms as its defaults.

REINFORCE with a learned baseline, A2C and PPO differ only in numbers here (Schulman et al.
2017 and Mnih et al. 2016 for the PPO and A2C defaults, as in Stable-Baselines3): how long a
rollout is, how far advantages bootstrap (`gae_lambda`), whether the policy term is clipped
(`clip_coef`), and how many passes an update makes over its rollout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from rlsuite.agents.pg.networks import TorsoKind

Algo = Literal["ppo", "a2c", "reinforce"]


@dataclass(kw_only=True)
class PGConfig:
    """Every knob of a policy-gradient run (flags: `--num-envs 8`, `--no-norm-adv`, ...)."""

    algo: Algo = "ppo"
    """Which configuration of the core this is; recorded with the run."""
    env: str = "CartPole-v1"
    """Gymnasium id (`import rlsuite` ids too) or an Atari game `ALE/Pong-v5`."""
    env_kwargs: str = "{}"
    """JSON object of keyword arguments for the env constructor."""
    seed: int = 0
    total_steps: int = 100_000
    """Env steps (summed over the vector envs) to train for."""
    num_envs: int = 8
    num_steps: int = 128
    """Steps per env in one rollout; a rollout holds num_envs * num_steps transitions."""
    vectorization: Literal["sync", "async", "native"] = "sync"
    """How envs are batched: one process (`sync`), subprocesses (`async`), or the env's own
    batched implementation where Gymnasium has one (`native`, e.g. CartPole)."""

    gamma: float = 0.99
    gae_lambda: float = 0.95
    """1.0 gives Monte Carlo (REINFORCE) or n-step (A2C) advantages."""
    update_epochs: int = 4
    num_minibatches: int = 4
    clip_coef: float | None = 0.2
    """PPO's ratio clip; None gives the plain policy-gradient term (A2C, REINFORCE)."""
    anneal_clip: bool = False
    """Decay clip_coef linearly to 0 over training (rl-zoo's `lin_0.2`)."""
    vf_clip: float | None = None
    """Clip value updates to this distance from the rollout's values; None disables."""
    ent_coef: float = 0.0
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    norm_adv: bool = True
    target_kl: float | None = None
    """Stop an update's epochs early once the approximate KL exceeds this."""
    reward_scale: float = 1.0
    """Multiply rewards before learning (episode returns are logged unscaled)."""

    lr: float = 3e-4
    anneal_lr: bool = True
    optimizer: Literal["adam", "rmsprop"] = "adam"
    opt_eps: float = 1e-5

    torso: TorsoKind = "auto"
    hidden: tuple[int, ...] = (64, 64)
    """MLP layer widths; with a board conv net, the width of the value head's hidden layer."""
    activation: Literal["tanh", "relu"] = "tanh"
    conv_channels: tuple[int, ...] = (32, 64, 64)
    """Channels of the board conv net (Go, placement grids)."""
    shared_torso: bool = False
    init_log_std: float = 0.0

    device: str = "cpu"
    torch_threads: int = 1
    """torch intra-op threads; 1 whenever envs run beside the learner on few cores."""
    run_root: str = "runs"
    """Runs are created as run_root/<algo>-<env>-<time>."""
    save_every: int = 50
    """Checkpoint every this many updates (and at the end); 0 saves only at the end."""
    keep_checkpoints: int = 3
    log_every: int = 1
    """Log losses every this many updates."""
    backends: tuple[str, ...] = ("tensorboard", "csv", "console")
    resume: str | None = None
    """Run directory to continue from its latest checkpoint (other flags are ignored)."""

    @property
    def batch_size(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        return max(1, self.batch_size // self.num_minibatches)

    @property
    def num_updates(self) -> int:
        return self.total_steps // self.batch_size

    def env_kwargs_dict(self) -> dict[str, Any]:
        try:
            kwargs = json.loads(self.env_kwargs)
        except json.JSONDecodeError as e:
            raise ValueError(f"env_kwargs is not valid JSON: {self.env_kwargs!r} ({e})") from e
        if not isinstance(kwargs, dict):
            raise ValueError(f"env_kwargs must be a JSON object, got {self.env_kwargs!r}")
        return kwargs

    def validate(self) -> None:
        """Reject settings that cannot run, naming the field."""
        expected = {PPOConfig: "ppo", A2CConfig: "a2c", ReinforceConfig: "reinforce"}.get(
            type(self), self.algo)
        if self.algo != expected:
            raise ValueError(f"algo={self.algo!r} contradicts {type(self).__name__}: use "
                             f"`rlsuite train {self.algo}` for {self.algo} defaults")
        positive = ("total_steps", "num_envs", "num_steps", "update_epochs", "num_minibatches",
                    "torch_threads", "keep_checkpoints", "log_every")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.num_updates < 1:
            raise ValueError(
                f"total_steps={self.total_steps} is less than one rollout "
                f"(num_envs * num_steps = {self.batch_size})"
            )
        if self.num_minibatches > self.batch_size:
            raise ValueError(
                f"num_minibatches={self.num_minibatches} exceeds the rollout size {self.batch_size}"
            )
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise ValueError(f"gamma and gae_lambda must lie in [0, 1], got {self.gamma}, "
                             f"{self.gae_lambda}")
        if self.lr <= 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        for name in ("clip_coef", "vf_clip", "target_kl"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive or None, got {value}")
        if self.save_every < 0:
            raise ValueError(f"save_every must be >= 0, got {self.save_every}")
        self.env_kwargs_dict()


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
    lr: float = 7e-4
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
    lr: float = 3e-3
    anneal_lr: bool = False


CONFIGS: dict[str, type[PGConfig]] = {
    "ppo": PPOConfig,
    "a2c": A2CConfig,
    "reinforce": ReinforceConfig,
}
