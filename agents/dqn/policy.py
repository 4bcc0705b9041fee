"""Acting: epsilon-greedy over legal actions, and the trained agent that the arena loads."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlsuite.agents.dqn.network import QNetwork, to_torch


def masked_argmax(q: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Greedy action per row, never an illegal one (rows need at least one legal action)."""
    if mask is None:
        return q.argmax(dim=1)
    return q.masked_fill(~mask, -torch.inf).argmax(dim=1)


def random_actions(
    rng: np.random.Generator, n: int, num_actions: int, mask: np.ndarray | None
) -> np.ndarray:
    """Uniform actions, among the legal ones of each row when a mask (n, A) is given."""
    if mask is None:
        return rng.integers(0, num_actions, size=n)
    if not mask.any(axis=1).all():
        raise ValueError("a row of the action mask has no legal action")
    scores = rng.random((n, num_actions))
    scores[~mask] = -1.0
    return scores.argmax(axis=1)


class EpsilonGreedy:
    """Picks actions for a batch of observations with one forward pass of the Q-network.

    The forward pass is skipped when every row explores, which is most of the early steps.
    """

    def __init__(self, network: QNetwork, num_actions: int, device: torch.device) -> None:
        self.network = network
        self.num_actions = num_actions
        self.device = device

    @torch.inference_mode()
    def greedy(self, obs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
        scores = self.network.action_scores(to_torch(obs, self.device))
        mask_t = None if mask is None else to_torch(mask, self.device)
        return masked_argmax(scores, mask_t).cpu().numpy()

    def __call__(
        self, obs: np.ndarray, mask: np.ndarray | None, epsilon: float, rng: np.random.Generator
    ) -> np.ndarray:
        n = obs.shape[0]
        if mask is not None and not mask.any(axis=1).all():
            raise ValueError("a row of the action mask has no legal action")
        explore = np.asarray(rng.random(n) < epsilon)
        if explore.all():
            return random_actions(rng, n, self.num_actions, mask)
        actions = self.greedy(obs, mask)
        if explore.any():
            rows = np.flatnonzero(explore)
            sub_mask = None if mask is None else mask[rows]
            actions[rows] = random_actions(rng, len(rows), self.num_actions, sub_mask)
        return actions


class DQNAgent:
    """A trained Q-network as a policy: `act(obs (B, *obs_shape), action_mask) -> (B,)`."""

    def __init__(
        self,
        network: QNetwork,
        observation_space: gym.spaces.Box,
        action_space: gym.spaces.Discrete,
        config: Any,
        device: str | torch.device = "cpu",
        seed: int | None = None,
    ) -> None:
        self.network = network.to(device).eval()
        self.observation_space = observation_space
        self.action_space = action_space
        self.config = config
        self.rng = np.random.default_rng(seed)
        self._policy = EpsilonGreedy(self.network, int(action_space.n), torch.device(device))

    def act(
        self,
        obs: np.ndarray,
        action_mask: np.ndarray | None = None,
        deterministic: bool = True,
    ) -> np.ndarray:
        """Greedy actions, or epsilon-greedy with the config's `eval_epsilon` (at least 0.05)
        when `deterministic` is False. Illegal actions are never returned."""
        obs = np.asarray(obs)
        shape = tuple(self.observation_space.shape)
        if obs.shape == shape:
            raise ValueError(f"act expects a batch (B, {shape}); add a leading axis")
        if obs.shape[1:] != shape:
            raise ValueError(f"observation batch {obs.shape} does not match (B, *{shape})")
        if action_mask is not None:
            action_mask = np.asarray(action_mask, dtype=bool).reshape(len(obs), -1)
            if action_mask.shape[1] != self.action_space.n:
                raise ValueError(
                    f"action_mask has {action_mask.shape[1]} columns, "
                    f"the action space has {self.action_space.n}"
                )
        epsilon = 0.0 if deterministic else max(float(self.config.eval_epsilon), 0.05)
        return self._policy(
            obs.astype(self.observation_space.dtype, copy=False), action_mask, epsilon, self.rng
        )
