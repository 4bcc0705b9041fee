"""The pure arithmetic of the actor-critic core: advantages and the loss terms.

Kept free of envs, buffers and optimizers so tests can check each number by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


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


def normalize_advantages(advantages: np.ndarray) -> np.ndarray:
    """Zero mean, unit (sample) standard deviation over one minibatch, as SB3 and CleanRL do;
    in numpy, where it costs one pass instead of five tensor ops."""
    if advantages.size < 2:
        return advantages
    return ((advantages - advantages.mean()) / (advantages.std(ddof=1) + 1e-8)).astype(
        np.float32
    )


@dataclass
class LossTerms:
    """What one minibatch update optimises (`total`) and the parts worth logging."""

    total: torch.Tensor
    policy: torch.Tensor
    value: torch.Tensor
    log_ratio: torch.Tensor
    """log(pi_new / pi_old) per sample, detached: for the KL and clipping diagnostics."""


def actor_critic_loss(
    *,
    new_log_prob: torch.Tensor,
    old_log_prob: torch.Tensor,
    advantages: torch.Tensor,
    new_value: torch.Tensor,
    old_value: torch.Tensor,
    returns: torch.Tensor,
    entropy: torch.Tensor | None,
    clip_coef: float | None,
    vf_clip: float | None,
    ent_coef: float,
    vf_coef: float,
) -> LossTerms:
    """Policy, value and entropy terms over one minibatch (advantages already normalised if
    wanted: `normalize_advantages`).

    With `clip_coef` the policy term is PPO's clipped surrogate
    -mean(min(r A, clip(r, 1-eps, 1+eps) A)), r = exp(new - old log-prob) (Schulman et al. 2017);
    without it, the plain score-function term -mean(A log pi) of A2C and REINFORCE. The value
    term is 0.5 mean((V - R)^2); with `vf_clip`, the larger of that and the error of the value
    clipped to within vf_clip of the rollout's. `entropy` may be None when ent_coef is 0.
    Written with few tensor ops: on small nets each op's fixed cost dominates an update.
    """
    log_ratio = new_log_prob - old_log_prob
    if clip_coef is None:
        policy = -(advantages * new_log_prob).mean()
    else:
        ratio = log_ratio.exp()
        clipped = ratio.clamp(1.0 - clip_coef, 1.0 + clip_coef)
        policy = -torch.minimum(ratio * advantages, clipped * advantages).mean()
    if vf_clip is None:
        value = 0.5 * F.mse_loss(new_value, returns)
    else:
        clipped_value = old_value + (new_value - old_value).clamp(-vf_clip, vf_clip)
        value = 0.5 * torch.maximum(
            (new_value - returns).square(), (clipped_value - returns).square()
        ).mean()
    total = policy + vf_coef * value
    if ent_coef:
        if entropy is None:
            raise ValueError("ent_coef is non-zero but no entropy was given")
        total = total - ent_coef * entropy.mean()
    return LossTerms(total, policy, value, log_ratio.detach())


def approx_kl_and_clip_fraction(
    log_ratio: torch.Tensor, clip_coef: float | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """mean((r - 1) - log r), the low-variance KL(old || new) estimator (Schulman 2020,
    "Approximating KL divergence"), and the fraction of ratios outside the clip range."""
    ratio = log_ratio.exp()
    approx_kl = ((ratio - 1.0) - log_ratio).mean()
    if clip_coef is None:
        return approx_kl, torch.zeros((), device=log_ratio.device)
    return approx_kl, ((ratio - 1.0).abs() > clip_coef).float().mean()
