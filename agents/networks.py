"""Network parts more than one agent uses: the one rule that picks a torso, the Nature CNN, the
board conv net and its per-cell head, and orthogonal initialisation.

Torso names are the same in every agent's `--torso` flag: `mlp` (flattened observations),
`nature_cnn` (Mnih et al. 2015, for stacks of uint8 frames), `board_cnn` (convolutions that
keep one column per cell, for Go boards and placement grids).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from torch import nn

TorsoKind = Literal["auto", "mlp", "nature_cnn", "board_cnn"]


def resolve_torso(requested: TorsoKind, obs_shape: tuple[int, ...],
                  obs_dtype: np.dtype | str) -> TorsoKind:
    """`auto`: vectors get an MLP, uint8 frames of 36+ pixels the Nature CNN, other planes
    (Go boards, placement grids) the board conv net. A named torso is returned as given."""
    if requested != "auto":
        return requested
    if len(obs_shape) == 1:
        return "mlp"
    if len(obs_shape) == 3:
        big_frames = np.dtype(obs_dtype) == np.uint8 and min(obs_shape[1:]) >= 36
        return "nature_cnn" if big_frames else "board_cnn"
    raise ValueError(f"no torso for observations of shape {obs_shape}: give a 1-d vector or "
                     "(channels, height, width) planes")


def nature_cnn(obs_shape: tuple[int, ...]) -> tuple[nn.Sequential, int]:
    """The convolutions of Mnih et al., Nature 2015 (32x8x8/4, 64x4x4/2, 64x3x3/1, ReLU,
    flattened) for (C, H, W) inputs; returns them and their output width."""
    if len(obs_shape) != 3:
        raise ValueError(f"the nature_cnn torso needs (C, H, W) observations, got {obs_shape}")
    c, h, w = obs_shape
    convs = nn.Sequential(
        nn.Conv2d(c, 32, 8, stride=4),
        nn.ReLU(),
        nn.Conv2d(32, 64, 4, stride=2),
        nn.ReLU(),
        nn.Conv2d(64, 64, 3, stride=1),
        nn.ReLU(),
        nn.Flatten(),
    )
    with torch.no_grad():
        width = convs(torch.zeros(1, c, h, w)).shape[1]
    return convs, int(width)


def orthogonal(layer: nn.Module, gain: float) -> nn.Module:
    """Orthogonal weights, zero bias (Saxe et al. 2014; the PPO implementation detail of
    Engstrom et al. 2020); other modules are returned unchanged."""
    if isinstance(layer, nn.Linear | nn.Conv2d):
        nn.init.orthogonal_(layer.weight, gain)
        if layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return layer


def board_cnn(obs_shape: tuple[int, ...], channels: tuple[int, ...]
              ) -> tuple[nn.Sequential, tuple[int, int, int]]:
    """3x3 same-padding convs with ReLU that keep the board geometry: the output is a feature
    map (channels, height, width) with one column per cell, which heads read per cell
    (`BoardHead`) or as a whole (values)."""
    if len(obs_shape) != 3:
        raise ValueError(f"the board_cnn torso needs (C, H, W) observations, got {obs_shape}")
    if not channels:
        raise ValueError("the board conv net needs at least one conv layer (conv_channels)")
    c, h, w = obs_shape
    layers: list[nn.Module] = []
    for out in channels:
        layers += [orthogonal(nn.Conv2d(c, out, 3, padding=1), math.sqrt(2)), nn.ReLU()]
        c = out
    return nn.Sequential(*layers), (c, h, w)


class BoardHead(nn.Module):
    """One output per board action from a feature map: one per cell from a 1x1 conv (the same
    weights at every cell, as the heads of AlphaGo Zero and AlphaChip), then any extra actions
    (Go's pass, indexed after the cells) from a linear layer on the whole map. Action
    `row * width + col` is cell (row, col), the layout of Go and placement grids. With fewer
    actions than cells there is no per-cell reading, and one linear layer gives all outputs."""

    def __init__(self, map_shape: tuple[int, int, int], num_actions: int, gain: float) -> None:
        super().__init__()
        c, h, w = map_shape
        cells = h * w
        self.per_cell = orthogonal(nn.Conv2d(c, 1, 1), gain) if num_actions >= cells else None
        extra = num_actions - cells if num_actions >= cells else num_actions
        self.extra = orthogonal(nn.Linear(c * h * w, extra), gain) if extra else None

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        parts = []
        if self.per_cell is not None:
            parts.append(self.per_cell(features).flatten(1))
        if self.extra is not None:
            parts.append(self.extra(features.flatten(1)))
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
