"""Action distributions for the actor-critic core, written for speed and for action masks.

`torch.distributions` validates arguments and builds generic objects on every call; the rollout
loop samples once per env step, so these two small classes do only the arithmetic:

- `MaskedCategorical`: discrete actions; illegal logits become -inf, so an illegal action has
  probability exactly 0 and the entropy sums over legal actions only (Go, chip placement).
- `DiagGaussian`: `Box` actions with a state-independent log-std (Schulman et al. 2017, PPO).
"""

from __future__ import annotations

import math

import torch

_LOG_2PI_E = math.log(2.0 * math.pi * math.e)


class MaskedCategorical:
    """Categorical over the last axis of `logits` (batch, n), restricted to `mask` when given.

    Every row must keep at least one legal action: a row with none raises `ValueError`, since
    no probability distribution exists there and sampling would silently pick an illegal move.
    """

    def __init__(self, logits: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        if mask is not None:
            if mask.shape != logits.shape:
                raise ValueError(
                    f"action mask shape {tuple(mask.shape)} != logits shape {tuple(logits.shape)}"
                )
            mask = mask.bool()
            if not bool(mask.any(dim=-1).all()):
                raise ValueError("action mask has a row with no legal action")
            logits = logits.masked_fill(~mask, -math.inf)
        self.mask = mask
        self.log_probs = logits.log_softmax(dim=-1)

    @property
    def probs(self) -> torch.Tensor:
        return self.log_probs.exp()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """Gumbel-max sampling written as an exponential race: argmax(log p - log E) with
        E ~ Exp(1), since -log E is Gumbel-distributed. Four tensor ops, no cumulative sums;
        an illegal action (log p = -inf) can never win. E is floored at the smallest normal
        float because Exp(1) draws can be exactly 0, and -inf - log(0) would be nan, which
        argmax would pick."""
        race = torch.empty_like(self.log_probs).exponential_(generator=generator)
        race.clamp_(min=torch.finfo(race.dtype).tiny)
        return (self.log_probs - race.log_()).argmax(dim=-1)

    def mode(self) -> torch.Tensor:
        return self.log_probs.argmax(dim=-1)

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        return self.log_probs.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)

    def entropy(self) -> torch.Tensor:
        """-sum p log p over legal actions (an illegal one adds 0, not 0 * -inf = nan)."""
        log_p = self.log_probs
        if self.mask is not None:  # zero the -inf entries first so the gradient stays finite
            log_p = log_p.masked_fill(~self.mask, 0.0)
        return -(self.log_probs.exp() * log_p).sum(dim=-1)


class DiagGaussian:
    """Independent normal per action dimension; log-probs and entropies sum over dimensions."""

    def __init__(self, mean: torch.Tensor, log_std: torch.Tensor) -> None:
        self.mean = mean
        self.log_std = log_std.expand_as(mean)
        self.std = self.log_std.exp()

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        noise = torch.randn(self.mean.shape, generator=generator, dtype=self.mean.dtype)
        return self.mean + self.std * noise

    def mode(self) -> torch.Tensor:
        return self.mean

    def log_prob(self, actions: torch.Tensor) -> torch.Tensor:
        z = (actions - self.mean) / self.std
        return (-0.5 * z.square() - self.log_std - 0.5 * math.log(2.0 * math.pi)).sum(dim=-1)

    def entropy(self) -> torch.Tensor:
        return (self.log_std + 0.5 * _LOG_2PI_E).sum(dim=-1)


Distribution = MaskedCategorical | DiagGaussian
