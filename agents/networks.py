"""Network parts more than one agent uses: the Nature CNN and the one rule that picks a torso.

Torso names are the same in every agent's `--torso` flag: `mlp` (flattened observations),
`nature_cnn` (Mnih et al. 2015, for stacks of uint8 frames), `board_cnn` (convolutions that
keep one column per cell, for Go boards and placement grids).
"""

from __future__ import annotations

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
