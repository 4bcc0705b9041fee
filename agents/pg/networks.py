"""Torsos and the actor-critic module: MLP, Nature CNN (Atari), a small conv net for boards.

A torso maps observations to a feature vector (MLP, Nature CNN) or, for boards, to a feature
map with one column per cell; `ActorCritic` puts a policy head and a value head on top, either
on one shared torso or on two separate ones (`shared_torso`). On a board the policy reads one
logit per cell (`rlsuite.agents.networks.BoardHead`). Everything
needed to rebuild the module is in `NetSpec`, a JSON-friendly record saved with checkpoints, so
a trained agent loads without its training env.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from rlsuite.agents.networks import (
    BoardHead,
    TorsoKind,
    board_cnn,
    nature_cnn,
    orthogonal,
    resolve_torso,
)
from rlsuite.agents.pg.distributions import DiagGaussian, MaskedCategorical


@dataclass(frozen=True)
class NetSpec:
    """Shapes and choices that define an `ActorCritic`; round-trips through JSON."""

    obs_shape: tuple[int, ...]
    obs_dtype: str
    action_kind: Literal["discrete", "box"]
    action_dim: int
    """Number of actions (discrete) or action dimensions (box)."""
    torso: TorsoKind = "auto"
    hidden: tuple[int, ...] = (64, 64)
    activation: Literal["tanh", "relu"] = "tanh"
    conv_channels: tuple[int, ...] = (32, 64, 64)
    """Channels of the board conv net's 3x3 layers."""
    shared_torso: bool = False
    init_log_std: float = 0.0
    action_low: tuple[float, ...] = ()
    action_high: tuple[float, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetSpec:
        tuples = ("obs_shape", "hidden", "conv_channels", "action_low", "action_high")
        values: dict[str, Any] = {k: tuple(v) if k in tuples else v for k, v in data.items()}
        return cls(**values)

    def resolved_torso(self) -> TorsoKind:
        """The torso `auto` stands for on these observations (`resolve_torso`)."""
        return resolve_torso(self.torso, self.obs_shape, self.obs_dtype)


def to_tensor(array: np.ndarray, device: torch.device) -> torch.Tensor:
    """A C-contiguous copy of `array` in torch-allocated memory on `device`.

    Always a fresh contiguous copy, even on CPU: envs may hand over transposed views (Gymnasium's
    batched CartPole does) or buffers at any alignment, and BLAS takes differently rounding paths
    for those, so the same observation would give values differing in the last bits, and a
    resumed run would drift from an uninterrupted one.
    """
    return torch.from_numpy(array).to(device, copy=True, memory_format=torch.contiguous_format)


def _act(name: str) -> type[nn.Module]:
    return {"tanh": nn.Tanh, "relu": nn.ReLU}[name]


def mlp_torso(in_dim: int, hidden: tuple[int, ...], activation: str) -> tuple[nn.Module, int]:
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [orthogonal(nn.Linear(in_dim, width), math.sqrt(2)), _act(activation)()]
        in_dim = width
    return nn.Sequential(*layers), in_dim


def nature_cnn_torso(obs_shape: tuple[int, ...]) -> tuple[nn.Module, int]:
    """Mnih et al. 2015 (Nature): the shared convolutions, 512 units; uint8 in, scaled here."""
    convs, flat = nature_cnn(obs_shape)
    for layer in convs:
        if isinstance(layer, nn.Conv2d):
            orthogonal(layer, math.sqrt(2))
    return nn.Sequential(_Scale(1.0 / 255.0), convs, orthogonal(nn.Linear(flat, 512), math.sqrt(2)),
                         nn.ReLU()), 512


Features = int | tuple[int, int, int]
"""What a torso outputs: a vector width, or the (channels, height, width) of a feature map."""


class _Scale(nn.Module):
    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.float() * self.factor


def build_torso(spec: NetSpec) -> tuple[nn.Module, Features]:
    kind = spec.resolved_torso()
    if kind == "mlp":
        in_dim = int(np.prod(spec.obs_shape))
        body, out = mlp_torso(in_dim, spec.hidden, spec.activation)
        return nn.Sequential(nn.Flatten(), body) if len(spec.obs_shape) > 1 else body, out
    if len(spec.obs_shape) != 3:
        raise ValueError(f"torso {kind!r} needs (channels, height, width) observations, "
                         f"got shape {spec.obs_shape}")
    if kind == "nature_cnn":
        return nature_cnn_torso(spec.obs_shape)
    return board_cnn(spec.obs_shape, spec.conv_channels)


class TwinMLP(nn.Module):
    """Separate actor and critic MLPs evaluated as one: the first layer is one Linear whose
    output halves feed the two nets, deeper layers are batched matmuls over a (2, ...) stack.
    Same function as two MLPs, half the kernel launches: on small nets and small batches
    per-op overhead dominates the cost of a forward/backward pass."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], activation: str) -> None:
        super().__init__()
        if not hidden:
            raise ValueError("an MLP torso needs at least one hidden layer")
        self.act = _act(activation)()
        self.first = nn.Linear(in_dim, 2 * hidden[0])
        with torch.no_grad():  # each half initialised like a layer of its own
            for half in self.first.weight.chunk(2):
                nn.init.orthogonal_(half, math.sqrt(2))
            self.first.bias.zero_()
        self.weights = nn.ParameterList()
        self.biases = nn.ParameterList()
        for w_in, w_out in zip(hidden[:-1], hidden[1:], strict=True):
            weight = torch.empty(2, w_in, w_out)
            for block in weight:
                nn.init.orthogonal_(block, math.sqrt(2))
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(torch.zeros(2, 1, w_out)))
        self.out_dim = hidden[-1]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.act(self.first(x.flatten(1)))
        z = z.view(z.shape[0], 2, -1).transpose(0, 1)  # (2, batch, width)
        for weight, bias in zip(self.weights, self.biases, strict=True):
            z = self.act(torch.baddbmm(bias, z, weight))
        return z[0], z[1]


class SharedTorso(nn.Module):
    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.body(x)
        return features, features


class SeparateTorsos(nn.Module):
    def __init__(self, actor: nn.Module, critic: nn.Module) -> None:
        super().__init__()
        self.actor, self.critic = actor, critic

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.actor(x), self.critic(x)


def build_torso_pair(spec: NetSpec) -> tuple[nn.Module, Features]:
    """A module mapping observations to (actor features, critic features)."""
    if spec.shared_torso:
        body, feat = build_torso(spec)
        return SharedTorso(body), feat
    if spec.resolved_torso() == "mlp":
        twin = TwinMLP(int(np.prod(spec.obs_shape)), spec.hidden, spec.activation)
        return twin, twin.out_dim
    (actor, feat), (critic, _) = build_torso(spec), build_torso(spec)
    return SeparateTorsos(actor, critic), feat


class ActorCritic(nn.Module):
    """Policy and value heads over one shared torso or two separate ones."""

    def __init__(self, spec: NetSpec) -> None:
        super().__init__()
        self.spec = spec
        self.torso, feat = build_torso_pair(spec)
        # Small policy-head gain: near-uniform initial policy (Andrychowicz et al. 2021).
        self.policy_head: nn.Module
        self.value_head: nn.Module
        if isinstance(feat, tuple):  # a board feature map
            width = spec.hidden[-1] if spec.hidden else 64
            self.policy_head = BoardHead(feat, spec.action_dim, gain=0.01)
            self.value_head = nn.Sequential(
                nn.Flatten(), orthogonal(nn.Linear(int(np.prod(feat)), width), math.sqrt(2)),
                nn.ReLU(), orthogonal(nn.Linear(width, 1), 1.0))
        else:
            self.policy_head = orthogonal(nn.Linear(feat, spec.action_dim), 0.01)
            self.value_head = orthogonal(nn.Linear(feat, 1), 1.0)
        self.is_box = spec.action_kind == "box"
        self.takes_uint8 = spec.resolved_torso() == "nature_cnn"  # it scales frames itself
        if self.is_box:
            self.log_std = nn.Parameter(torch.full((spec.action_dim,), spec.init_log_std))

    def _float(self, obs: torch.Tensor) -> torch.Tensor:
        return obs if self.takes_uint8 else obs.float()

    def forward(
        self, obs: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[MaskedCategorical | DiagGaussian, torch.Tensor]:
        """The action distribution and the value estimate (batch,) for a batch of observations."""
        actor_features, critic_features = self.torso(self._float(obs))
        out = self.policy_head(actor_features)
        value = self.value_head(critic_features)[:, 0]
        if self.is_box:
            return DiagGaussian(out, self.log_std), value
        return MaskedCategorical(out, mask), value

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.value_head(self.torso(self._float(obs))[1])[:, 0]
