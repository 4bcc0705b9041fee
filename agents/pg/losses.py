"""The pure arithmetic of the actor-critic core: advantages and the loss terms.

Kept free of envs, buffers and optimizers so tests can check each number by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def gae(
    rewards: np.ndarray,
    values: np.ndarray,
    next_values: np.ndarray,
    terminated: np.ndarray,
    done: np.ndarray,
    gamma: float,
    lam: float,
) -> np.ndarray:
    """Generalized advantage estimation (Schulman et al. 2016), time-major (T, num_envs).

    `next_values[t]` is V of the state reached after step t: the next row's observation, or for a
    step that ended an episode the final observation (what truncation bootstraps from).
    `terminated` zeroes that bootstrap (a true end has value 0); `done` (terminated or
    truncated) stops the lambda-sum from crossing into the next episode. With lam=1 this is the
    Monte Carlo return minus the baseline (REINFORCE); with lam=1 and a short rollout, the
    n-step advantage of A2C.
    """
    if not rewards.shape == values.shape == next_values.shape == terminated.shape == done.shape:
        raise ValueError(
            "gae inputs must share one (steps, envs) shape, got "
            f"{[a.shape for a in (rewards, values, next_values, terminated, done)]}"
        )
    not_terminated = 1.0 - terminated.astype(np.float32)
    carry = gamma * lam * (1.0 - done.astype(np.float32))
    deltas = rewards + gamma * next_values * not_terminated - values
    advantages = np.empty_like(deltas, dtype=np.float32)
    last = np.zeros(deltas.shape[1:], dtype=np.float32)
    for t in range(deltas.shape[0] - 1, -1, -1):
        last = deltas[t] + carry[t] * last
        advantages[t] = last
    return advantages


@dataclass
class LossTerms:
    """The scalars one minibatch update optimises and logs."""

    total: torch.Tensor
    policy: torch.Tensor
    value: torch.Tensor
    entropy: torch.Tensor
    approx_kl: torch.Tensor
    clip_fraction: torch.Tensor


def actor_critic_loss(
    *,
    new_log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    new_value: torch.Tensor,
    old_value: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor,
    clip_coef: float | None,
    vf_clip: float | None,
    ent_coef: float,
    vf_coef: float,
    norm_adv: bool,
) -> LossTerms:
    """Policy, value and entropy terms over one minibatch.

    With `clip_coef` the policy term is PPO's clipped surrogate
    -mean(min(r A, clip(r, 1-eps, 1+eps) A)), r = exp(new - old log-prob) (Schulman et al. 2017);
    without it, the plain score-function term -mean(A log pi) of A2C and REINFORCE. With
    `vf_clip` the value loss is the larger of the clipped and unclipped squared errors.
    `approx_kl` is the low-variance estimator mean((r - 1) - log r) (Schulman 2020, "Approximating
    KL divergence"), used for target-KL early stopping.
    """
    if norm_adv and advantages.numel() > 1:
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    log_ratio = new_log_prob - old_log_prob
    ratio = log_ratio.exp()
    if clip_coef is None:
        policy = -(advantages * new_log_prob).mean()
    else:
        clipped = ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef)
        policy = -torch.minimum(ratio * advantages, clipped * advantages).mean()
    if vf_clip is None:
        value = 0.5 * (new_value - returns).square().mean()
    else:
        clipped_value = old_value + (new_value - old_value).clamp(-vf_clip, vf_clip)
        value = 0.5 * torch.maximum(
            (new_value - returns).square(), (clipped_value - returns).square()
        ).mean()
    entropy_mean = entropy.mean()
    total = policy + vf_coef * value
    if ent_coef:
        total = total - ent_coef * entropy_mean
    with torch.no_grad():
        approx_kl = ((ratio - 1.0) - log_ratio).mean()
        clip_fraction = (
            ((ratio - 1.0).abs() > clip_coef).float().mean()
            if clip_coef is not None
            else torch.zeros((), device=ratio.device)
        )
    return LossTerms(total, policy, value, entropy_mean, approx_kl, clip_fraction)
