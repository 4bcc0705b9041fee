"""Q-networks: an MLP or the Nature CNN torso (`rlsuite.agents.networks`), and a plain or
dueling head.

Acting runs one small forward per env step, where PyTorch's per-module call overhead, not
arithmetic, is the cost: the MLP therefore applies its layers functionally, and the dueling
head of the MLP is one linear map whose first output is V and the rest A.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import cast

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from rlsuite.agents.networks import BoardHead, board_cnn, nature_cnn


class MLP(nn.Module):
    """Flatten, then Linear (+ LayerNorm) + ReLU per hidden width, applied without per-layer
    module calls.

    LayerNorm bounds the features the Q head reads, so a bootstrapped target cannot pull the
    values up without limit (the divergence of issue 14; Ball et al., ICML 2023, and Gallici
    et al. 2024 use it to stabilise off-policy TD for the same reason).
    """

    def __init__(self, in_features: int, hidden: Sequence[int], layer_norm: bool = False) -> None:
        super().__init__()
        widths = [in_features, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in pairwise(widths))
        self.norms = nn.ModuleList(nn.LayerNorm(b) for b in hidden) if layer_norm else None
        self.out_features = widths[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for i, layer in enumerate(cast("list[nn.Linear]", self.layers)):
            x = F.linear(x, layer.weight, layer.bias)
            if self.norms is not None:
                norm = cast("nn.LayerNorm", self.norms[i])
                x = F.layer_norm(x, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
            x = F.relu(x)
        return x


class QNetwork(nn.Module):
    """Maps a batch of observations (B, *obs_shape) to action values (B, num_actions).

    uint8 observations (frames) are scaled to [0, 1] inside the network, so replay and the
    env loop move bytes, not floats. The dueling head computes V + A - mean(A) (Wang et al.,
    ICML 2016); the CNN's head has a 512-unit hidden layer per stream, as in that paper. On a
    board (`board_cnn`) the advantages are read per cell by one 1x1 conv (`BoardHead`) and V
    from the whole feature map through a `hidden_sizes[-1]`-unit layer.
    """

    def __init__(
        self,
        obs_shape: tuple[int, ...],
        num_actions: int,
        *,
        torso: str,
        hidden_sizes: Sequence[int],
        dueling: bool,
        scale_uint8: bool,
        conv_channels: Sequence[int] = (),
        layer_norm: bool = False,
    ) -> None:
        super().__init__()
        self.dueling = dueling
        self.scale = 1.0 / 255.0 if scale_uint8 else 1.0
        self.torso: nn.Module
        if torso == "nature_cnn":
            self.torso, width = nature_cnn(obs_shape)
            self.advantage: nn.Module = _stream(width, 512, num_actions)
            self.value: nn.Module | None = _stream(width, 512, 1) if dueling else None
        elif torso == "board_cnn":
            self.torso, (c, h, w) = board_cnn(obs_shape, tuple(conv_channels))
            self.advantage = BoardHead((c, h, w), num_actions, gain=1.0)
            self.value = (nn.Sequential(nn.Flatten(), _stream(c * h * w, hidden_sizes[-1], 1))
                          if dueling else None)
        elif torso == "mlp":
            mlp = MLP(math.prod(obs_shape), hidden_sizes, layer_norm)
            self.torso, width = mlp, mlp.out_features
            self.head = nn.Linear(width, num_actions + 1 if dueling else num_actions)
        else:
            raise ValueError(f"unknown torso {torso!r}; choose mlp, nature_cnn or board_cnn")
        self.fused_head = torso == "mlp"

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        value, advantage = self._heads(obs)
        if value is None:
            return advantage
        return value + advantage - advantage.mean(dim=1, keepdim=True)

    def action_scores(self, obs: torch.Tensor) -> torch.Tensor:
        """Scores with the same per-row order as the action values, for picking actions: the
        dueling advantages, since V and mean(A) shift a whole row alike."""
        return self._heads(obs)[1]

    def _heads(self, obs: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor]:
        x = obs.float()
        if self.scale != 1.0:
            x = x * self.scale
        features = self.torso(x)
        if self.fused_head:
            out = F.linear(features, self.head.weight, self.head.bias)
            return (out[:, :1], out[:, 1:]) if self.dueling else (None, out)
        value = None if self.value is None else self.value(features)
        return value, self.advantage(features)


def _stream(width: int, hidden: int, out: int) -> nn.Module:
    return nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, out))


def to_torch(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A numpy batch on `device`: shared memory on the CPU, one host-to-device copy otherwise."""
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    return tensor if device.type == "cpu" else tensor.to(device, non_blocking=True)
