"""Trained networks as files: weights in safetensors, what they were trained for in JSON.

A model file (`*.safetensors`) carries the network's weights and, in the safetensors metadata,
a JSON `ModelInfo`: the network shape, the game it was trained on (board size, komi, rules,
history planes) and the value utility's score weight. Snapshots written during training and
the shipped agents under `zoo/` use this format; loading never unpickles, and a network of
another shape or board is refused with a message naming the field that differs.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from rlsuite.agents.alphazero.network import NetConfig, PolicyValueNet

ZOO = Path(__file__).resolve().parent / "zoo"


class ModelMismatch(ValueError):
    """A network or checkpoint made for another board size, game or network shape."""


@dataclass(frozen=True, kw_only=True)
class ModelInfo:
    """What a network was trained for (stored beside its weights)."""

    net: NetConfig
    board_size: int
    komi: float
    rules: str
    superko: str
    history: int
    score_weight: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> ModelInfo:
        try:
            return cls(**{**data, "net": NetConfig(**data["net"])})
        except (KeyError, TypeError) as e:
            raise ModelMismatch(f"{source}: malformed model description ({e})") from e


def check_same(expected: ModelInfo, found: ModelInfo, source: str) -> None:
    """Refuse `found` unless its board and network shape equal `expected`'s, naming each
    field that differs (komi may differ: a net can be asked to play another komi)."""
    diffs = []
    for name in ("board_size", "rules", "history"):
        a, b = getattr(expected, name), getattr(found, name)
        if a != b:
            diffs.append(f"{name} {b} (expected {a})")
    for name, a in expected.net.as_dict().items():
        b = getattr(found.net, name)
        if a != b:
            diffs.append(f"network {name} {b} (expected {a})")
    if diffs:
        raise ModelMismatch(f"{source} was made for another game or network: {', '.join(diffs)}")


def save_model(path: str | Path, net: PolicyValueNet, info: ModelInfo) -> Path:
    """Write weights and info atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    os.close(fd)
    save_file(tensors, tmp, metadata={"rlsuite_model": json.dumps(info.to_json())})
    os.chmod(tmp, 0o644)  # mkstemp makes it private; models are shipped and shared
    os.replace(tmp, path)
    return path


def load_model(path: str | Path) -> tuple[PolicyValueNet, ModelInfo]:
    """A network and its info from a model file (see the module docstring)."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    if "rlsuite_model" not in meta:
        raise ModelMismatch(f"{path} is not an rlsuite AlphaZero model (no model metadata)")
    info = ModelInfo.from_json(json.loads(meta["rlsuite_model"]), str(path))
    net = network_from_state(info, load_file(str(path)), str(path))
    return net, info


def network_from_state(info: ModelInfo, tensors: dict[str, torch.Tensor],
                       source: str) -> PolicyValueNet:
    """A `PolicyValueNet` of `info`'s shape holding `tensors`; a clear error when the tensors
    belong to another shape."""
    net = PolicyValueNet(info.net)
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in tensors.items()}
    if expected != found:
        wrong = sorted(set(expected) ^ set(found)) or [
            k for k in expected if expected[k] != found[k]]
        raise ModelMismatch(f"{source}: weights do not fit the described network ({wrong[:3]})")
    net.load_state_dict(tensors)
    net.eval()
    return net
