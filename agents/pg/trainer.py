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
from rlsuite.agents.pg.agent import net_spec
from rlsuite.agents.pg.config import PGConfig
from rlsuite.agents.pg.losses import (
    actor_critic_loss,
    approx_kl_and_clip_fraction,
    normalize_advantages,
)
from rlsuite.agents.pg.networks import ActorCritic, to_tensor
from rlsuite.agents.pg.rollout import Episodes, RolloutCollector
from rlsuite.agents.pg.vecenv import make_vector_env

from rlsuite import checkpoint
from rlsuite.config import load_config, new_run_dir
from rlsuite.logger import Logger, to_jsonable
from rlsuite.replay import ReplayBuffer

LOSS_NAMES = ("policy", "value", "entropy", "approx_kl", "clip_fraction")


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
"""Called after every update (and its checkpoint); returning True stops the run there."""


def make_optimizer(config: PGConfig, params: Any) -> torch.optim.Optimizer:
    if config.optimizer == "rmsprop":  # SB3's A2C optimizer: alpha 0.99, eps 1e-5
        return torch.optim.RMSprop(params, lr=config.lr, alpha=0.99, eps=config.opt_eps)
    # fused: one kernel for the whole parameter list instead of a dozen per tensor
    fused = config.device == "cpu" or config.device.startswith("cuda")
    return torch.optim.Adam(params, lr=config.lr, eps=config.opt_eps, fused=fused)


def flatten_parameters(module: torch.nn.Module) -> torch.nn.Parameter:
    """Re-home every parameter of `module`, and its gradient, as views into one flat buffer.

    The optimizer then sees a single tensor: zeroing, clipping and the Adam step are one op each
    instead of one per layer, which on small networks is most of an update's cost. Autograd
    accumulates into the existing `.grad` views in place, so gradients land in the flat buffer.
    Call after the module is on its device; moving it afterwards would break the views.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise ValueError("module has no trainable parameters")
    flat = torch.cat([p.detach().flatten() for p in params])
    grad = torch.zeros_like(flat)
    offset = 0
    for p in params:
        n = p.numel()
        p.data = flat[offset : offset + n].view_as(p)
        p.grad = grad[offset : offset + n].view_as(p)
        offset += n
    flat_param = torch.nn.Parameter(flat)
    flat_param.grad = grad
    return flat_param


class Learner:
    """The optimisation half: turns a filled rollout buffer into parameter updates."""

    def __init__(self, config: PGConfig, policy: ActorCritic) -> None:
        self.config, self.policy = config, policy
        self.device = torch.device(config.device)
        self.flat = flatten_parameters(policy)
        self.optimizer = make_optimizer(config, [self.flat])

    def schedule(self, update: int) -> tuple[float, float | None]:
        """Learning rate and clip range for update `update` (0-based), linear decay if asked."""
        c = self.config
        frac = 1.0 - update / c.num_updates
        lr = c.lr * frac if c.anneal_lr else c.lr
        clip = c.clip_coef * frac if (c.anneal_clip and c.clip_coef is not None) else c.clip_coef
        return lr, clip

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return to_tensor(array, self.device)

    def update(self, buffer: ReplayBuffer, update: int, rng: np.random.Generator
               ) -> dict[str, float]:
        """`update_epochs` passes of minibatches over the rollout in `buffer`.

        Diagnostics (entropy, approximate KL, clip fraction) are computed in the last epoch
        only, unless target-KL early stopping needs the KL of every minibatch.
        """
        c = self.config
        lr, clip = self.schedule(update)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        per_epoch = -(-len(buffer) // c.minibatch_size)
        sums = torch.zeros(len(LOSS_NAMES), device=self.device)
        logged = 0
        early_stop = 0.0
        for i, batch in enumerate(buffer.minibatches(c.minibatch_size, rng, c.update_epochs)):
            valid = batch["valid"]
            if not valid.all():
                batch = {k: v[valid] for k, v in batch.items()}
                if not len(batch["valid"]):
                    continue
            advantages = batch["advantage"]
            if c.norm_adv:
                advantages = normalize_advantages(advantages)
            mask = self._tensor(batch["mask"]) if "mask" in batch else None
            dist, new_value = self.policy(self._tensor(batch["obs"]), mask)
            terms = actor_critic_loss(
                new_log_prob=dist.log_prob(self._tensor(batch["action"])),
                old_log_prob=self._tensor(batch["log_prob"]),
                advantages=self._tensor(advantages),
                new_value=new_value,
                old_value=self._tensor(batch["value"]),
                returns=self._tensor(batch["ret"]),
                entropy=dist.entropy() if c.ent_coef else None,
                clip_coef=clip,
                vf_clip=c.vf_clip,
                ent_coef=c.ent_coef,
                vf_coef=c.vf_coef,
            )
            last_epoch = i >= (c.update_epochs - 1) * per_epoch
            if last_epoch or c.target_kl is not None:
                approx_kl, clip_fraction = approx_kl_and_clip_fraction(terms.log_ratio, clip)
                if c.target_kl is not None and float(approx_kl) > c.target_kl:
                    early_stop = 1.0  # this step would push the policy too far from the rollout
                    break
                if last_epoch:
                    with torch.no_grad():
                        entropy = dist.entropy().mean()
                    sums += torch.stack([terms.policy.detach(), terms.value.detach(), entropy,
                                         approx_kl, clip_fraction])
                    logged += 1
            grad = self.flat.grad
            assert grad is not None
            grad.zero_()
            terms.total.backward()
            grad.mul_((c.max_grad_norm / (grad.norm() + 1e-6)).clamp_(max=1.0))
            self.optimizer.step()
        means = (sums / max(logged, 1)).tolist()  # one device sync per update
        stats = {f"losses/{name}": v for name, v in zip(LOSS_NAMES, means, strict=True)}
        stats["losses/early_stop"] = early_stop
        stats["charts/learning_rate"] = lr
        values, returns = buffer.fields["value"][: len(buffer)], buffer.fields["ret"][: len(buffer)]
        var = float(np.var(returns))
        stats["losses/explained_variance"] = (
            float("nan") if var == 0 else 1.0 - float(np.var(returns - values)) / var
        )
        return stats


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
