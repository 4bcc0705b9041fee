"""The optimisation half of the actor-critic core: a filled rollout buffer in, parameter
updates out (minibatch epochs, advantage normalisation, gradient clipping, schedules, target-KL
early stop)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from rlsuite.agents.pg.config import PGConfig
from rlsuite.agents.pg.losses import (
    actor_critic_loss,
    approx_kl_and_clip_fraction,
    normalize_advantages,
)
from rlsuite.agents.pg.networks import ActorCritic, to_tensor
from rlsuite.replay import ReplayBuffer

LOSS_NAMES = ("policy", "value", "entropy", "approx_kl", "clip_fraction")


def make_optimizer(config: PGConfig, params: Any, device: torch.device) -> torch.optim.Optimizer:
    lr, eps = config.learning_rate, config.opt_eps
    if config.optimizer == "rmsprop":  # SB3's A2C optimizer: alpha 0.99, eps 1e-5
        return torch.optim.RMSprop(params, lr=lr, alpha=0.99, eps=eps)
    # fused: the whole Adam step in one kernel
    return torch.optim.Adam(params, lr=lr, eps=eps, fused=device.type in ("cpu", "cuda"))


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

    def __init__(self, config: PGConfig, policy: ActorCritic, device: torch.device) -> None:
        self.config, self.policy = config, policy
        self.device = device
        self.flat = flatten_parameters(policy)
        self.optimizer = make_optimizer(config, [self.flat], device)

    def schedule(self, update: int) -> tuple[float, float | None]:
        """Learning rate and clip range for update `update` (0-based), linear decay if asked."""
        c = self.config
        frac = 1.0 - update / c.num_updates
        lr = c.learning_rate * frac if c.anneal_lr else c.learning_rate
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
            if c.max_grad_norm:  # 0: no clipping
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
