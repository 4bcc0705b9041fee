"""The learning step: (double) n-step Q targets with masks, Huber loss, clipping, targets."""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from rlsuite.agents.dqn.network import QNetwork, to_torch
from rlsuite.nstep_replay import Transitions


class QLearner:
    """Owns the online and target networks and the optimizer; `update` is one gradient step.

    Batches are `rlsuite.nstep_replay.Transitions`: `reward` is the n-step discounted sum,
    `discount` gamma^m (0 after a terminal), `next_mask` the legal actions at `next_obs` (None
    for unmasked envs) and `weight` the importance weights of prioritized replay (None when
    uniform).
    """

    def __init__(
        self,
        network: QNetwork,
        *,
        learning_rate: float,
        adam_eps: float,
        double: bool,
        max_grad_norm: float,
        tau: float,
        device: torch.device,
    ) -> None:
        self.online = network.to(device)
        self.target = copy.deepcopy(self.online).requires_grad_(False)
        self.optimizer = torch.optim.Adam(
            self.online.parameters(), lr=learning_rate, eps=adam_eps, fused=True
        )
        self.double, self.max_grad_norm, self.tau = double, max_grad_norm, tau
        self.device = device
        self.updates = 0
        self._params = list(self.online.parameters())
        self._target_params = list(self.target.parameters())
        self._loss_sum = torch.zeros((), device=device)
        self._q_sum = torch.zeros((), device=device)
        self._stat_count = self._stat_rows = 0

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        return to_torch(array, self.device)

    def td_target(
        self,
        reward: torch.Tensor,
        discount: torch.Tensor,
        next_obs: torch.Tensor,
        next_mask: torch.Tensor | None,
        next_online_q: torch.Tensor | None,
    ) -> torch.Tensor:
        """reward + discount * Q_target(next_obs, a*), a* legal; rows with discount 0 get no
        bootstrap (which also keeps -inf from rows without legal actions out of the target)."""
        next_q = self.target(next_obs)
        if self.double:
            assert next_online_q is not None
            chooser = next_online_q
        else:
            chooser = next_q
        if next_mask is not None:
            chooser = chooser.masked_fill(~next_mask, -torch.inf)
        best = chooser.argmax(dim=1, keepdim=True)
        value = next_q.gather(1, best).squeeze(1)
        if next_mask is not None:  # a terminal may have no legal action: its value is garbage
            value = torch.where(discount > 0, value, torch.zeros_like(value))
        return reward + discount * value

    def update(self, batch: Transitions, need_td: bool) -> np.ndarray | None:
        """One gradient step; returns |TD error| per row (for priorities) when `need_td`.

        Loss and mean Q accumulate on the device and are read by `pop_stats`, so a GPU run does
        not wait for the device after every step unless priorities need the TD errors.
        """
        obs, next_obs = self._tensor(batch.obs), self._tensor(batch.next_obs)
        action = self._tensor(batch.action)
        reward = self._tensor(batch.reward)
        discount = self._tensor(batch.discount)
        next_mask = None if batch.next_mask is None else self._tensor(batch.next_mask)
        n = obs.shape[0]
        if self.double:  # one forward for both halves: fewer kernel launches on small nets
            q_all = self.online(torch.cat([obs, next_obs]))
            q_taken = q_all[:n].gather(1, action[:, None]).squeeze(1)
            next_online_q = q_all[n:].detach()
        else:
            q_taken = self.online(obs).gather(1, action[:, None]).squeeze(1)
            next_online_q = None
        with torch.no_grad():
            target = self.td_target(reward, discount, next_obs, next_mask, next_online_q)
        if batch.weight is not None:  # importance weights of prioritized replay
            losses = F.huber_loss(q_taken, target, reduction="none")
            loss = (losses * self._tensor(batch.weight)).mean()
        else:
            loss = F.huber_loss(q_taken, target)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.max_grad_norm > 0:
            torch.nn.utils.clip_grad_norm_(self._params, self.max_grad_norm, foreach=True)
        self.optimizer.step()
        self.updates += 1
        with torch.no_grad():
            self._loss_sum += loss
            self._q_sum += q_taken.sum()
            self._stat_count += 1
            self._stat_rows += n
            if need_td:
                return (q_taken - target).abs_().cpu().numpy()
        return None

    def pop_stats(self) -> dict[str, float]:
        """Mean loss and Q over the updates since the last call (empty before any update)."""
        if not self._stat_count:
            return {}
        stats = {
            "losses/td": self._loss_sum.item() / self._stat_count,
            "losses/q_mean": self._q_sum.item() / self._stat_rows,
        }
        self._loss_sum.zero_()
        self._q_sum.zero_()
        self._stat_count = self._stat_rows = 0
        return stats

    def set_learning_rate(self, learning_rate: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate

    @torch.no_grad()
    def sync_target(self) -> None:
        """Hard copy (tau = 1) or Polyak step target <- target + tau (online - target)."""
        if self.tau >= 1.0:
            for target, online in zip(self._target_params, self._params, strict=True):
                target.copy_(online)
        else:
            torch._foreach_lerp_(self._target_params, self._params, self.tau)
