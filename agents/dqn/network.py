"""Q-networks: an MLP or the Nature CNN torso, and a plain or dueling head."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn


def nature_cnn(in_channels: int, height: int, width: int) -> tuple[nn.Module, int]:
    """The torso of Mnih et al., Nature 2015: three conv layers; returns it and its width."""
    torso = nn.Sequential(
        nn.Conv2d(in_channels, 32, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        width_out = torso(torch.zeros(1, in_channels, height, width)).shape[1]
    return torso, int(width_out)


def mlp(in_features: int, hidden: Sequence[int]) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = [nn.Flatten()]
    for width in hidden:
        layers += [nn.Linear(in_features, width), nn.ReLU()]
        in_features = width
    return nn.Sequential(*layers), in_features


class QNetwork(nn.Module):
    """Maps a batch of observations (B, *obs_shape) to action values (B, num_actions).

    uint8 observations (frames) are scaled to [0, 1] inside the network, so replay and the
    env loop move bytes, not floats. The dueling head computes V + A - mean(A).
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
    ) -> None:
        super().__init__()
        if torso == "nature":
            if len(obs_shape) != 3:
                raise ValueError(f"the nature torso needs (C, H, W) observations, got {obs_shape}")
            self.torso, width = nature_cnn(*obs_shape)
            head_hidden = [512]
        elif torso == "mlp":
            self.torso, width = mlp(math.prod(obs_shape), hidden_sizes)
            head_hidden = []
        else:
            raise ValueError(f"unknown torso {torso!r}; choose mlp or nature")
        self.scale = 1.0 / 255.0 if scale_uint8 else 1.0
        self.dueling = dueling
        self.value = _head(width, head_hidden, 1) if dueling else None
        self.advantage = _head(width, head_hidden, num_actions)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        x = obs.float()
        if self.scale != 1.0:
            x = x * self.scale
        features = self.torso(x)
        advantage = self.advantage(features)
        if self.value is None:
            return advantage
        return self.value(features) + advantage - advantage.mean(dim=1, keepdim=True)


def _head(width: int, hidden: Sequence[int], out: int) -> nn.Module:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, out))
    return nn.Sequential(*layers)


def pick_torso(requested: str, obs_shape: tuple[int, ...], is_uint8: bool) -> str:
    """Resolve `auto`: the CNN for image stacks (C, H, W) of bytes at least 36 px wide."""
    if requested != "auto":
        return requested
    is_image = len(obs_shape) == 3 and is_uint8 and min(obs_shape[1:]) >= 36
    return "nature" if is_image else "mlp"
