"""What every AlphaZero run shares, whatever its game: the policy-value network, its optimizer,
the replay buffer of search targets, the learning step and the state that goes with them.

The Go trainer (`trainer.AlphaZeroAlgorithm`) and the placement trainer
(`placement.ChipAlphaZero`) differ in how they collect positions and evaluate networks; both
subclass `PolicyValueLearner` for the rest, so a change to the loss or to what a checkpoint
holds is made once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
import torch
from torch.nn import functional as F

from rlsuite.agents.alphazero.model import ModelInfo, check_same
from rlsuite.agents.alphazero.network import (
    InferenceDtype,
    InferenceNet,
    PolicyValueNet,
    inference_dtype,
)
from rlsuite.replay import ReplayBuffer
from rlsuite.run import RunContext, RunState, load_optimizer_state, optimizer_state


class LearnerSettings(Protocol):
    """The fields of a run's config that `PolicyValueLearner` reads."""

    learning_rate: float
    weight_decay: float
    inference_dtype: InferenceDtype
    batch_size: int
    replay_ratio: float
    min_replay: int


class PolicyValueLearner:
    """Network, optimizer and replay of one run; `learn` trains on replay samples.

    Subclasses add `collect`, `evaluate` and their own state (their `state_dict` /
    `load_state_dict` extend this class's)."""

    def __init__(self, ctx: RunContext, info: ModelInfo, replay: ReplayBuffer) -> None:
        settings: LearnerSettings = ctx.config  # type: ignore[assignment]
        self.settings = settings
        self.ctx = ctx
        self.info = info
        self.net = PolicyValueNet(info.net)
        self.optimizer = torch.optim.AdamW(self.net.parameters(), lr=settings.learning_rate,
                                           weight_decay=settings.weight_decay)
        self.replay = replay
        self.dtype = inference_dtype(settings.inference_dtype)
        self.new_positions = 0
        """Positions added since the last `learn`; its number of steps follows from them."""

    def inference(self, net: PolicyValueNet) -> InferenceNet:
        """A search copy of `net` in the run's inference dtype."""
        return InferenceNet(net, dtype=self.dtype)

    def add_positions(self, records: Mapping[str, np.ndarray]) -> None:
        """Put searched positions into the replay buffer (nothing when there are none)."""
        if records:
            self.replay.add(records)
            self.new_positions += len(records["value"])

    def learn(self, state: RunState) -> Mapping[str, float]:
        """`replay_ratio` samples per new position, in batches (none until `min_replay`)."""
        c = self.settings
        if len(self.replay) < c.min_replay:
            return {}
        steps = max(1, round(self.new_positions * c.replay_ratio / c.batch_size))
        self.new_positions = 0
        self.net.train()
        sums: dict[str, float] = {}
        for _ in range(steps):
            metrics = self._step()
            for k, v in metrics.items():
                sums[k] = sums.get(k, 0.0) + v
        state.updates += steps
        return {k: v / steps for k, v in sums.items()}

    def _step(self) -> dict[str, float]:
        """One gradient step: masked policy cross-entropy against the search's visit
        distribution plus value MSE against the outcome."""
        sample = self.replay.sample(self.settings.batch_size, self.ctx.rng).fields
        planes = torch.from_numpy(sample["planes"]).float()
        target_policy = torch.from_numpy(sample["policy"]).float()
        mask = torch.from_numpy(sample["mask"])
        target_value = torch.from_numpy(sample["value"])
        logits, value = self.net(planes)
        log_p = torch.log_softmax(logits.masked_fill(~mask, -1e9), dim=-1)
        policy_loss = -(target_policy * log_p).sum(-1).mean()
        value_loss = F.mse_loss(value, target_value)
        loss = policy_loss + value_loss
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            p = log_p.exp()
            entropy = -(p * log_p.masked_fill(~mask, 0)).sum(-1).mean()
            target_entropy = -(target_policy * torch.log(target_policy.clamp_min(1e-12))).sum(-1)
            accuracy = ((value > 0) == (target_value > 0)).float().mean()
        return {"losses/policy": policy_loss.item(), "losses/value": value_loss.item(),
                "losses/total": loss.item(), "losses/policy_entropy": float(entropy),
                "losses/target_entropy": float(target_entropy.mean()),
                "losses/value_accuracy": float(accuracy)}

    def state_dict(self) -> dict[str, Any]:
        return {
            "model_info": self.info.to_json(),
            "net": dict(self.net.state_dict()),
            "optimizer": optimizer_state(self.optimizer),
            "new_positions": self.new_positions,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the learner's part, after checking the checkpoint's board and network
        shape against this run's (`check_same` says which differs)."""
        saved = ModelInfo.from_json(state["model_info"], "checkpoint")
        check_same(self.info, saved, "the checkpoint")
        self.net.load_state_dict(state["net"])
        load_optimizer_state(self.optimizer, state["optimizer"])
        self.new_positions = int(state["new_positions"])

    def large_state_dict(self) -> dict[str, Any]:
        return {"replay": self.replay.state_dict()}

    def load_large_state_dict(self, state: dict[str, Any]) -> None:
        self.replay.load_state_dict(state["replay"])
