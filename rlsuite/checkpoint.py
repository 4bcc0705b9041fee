"""Checkpoints that never execute code on load: tensors in safetensors, the rest in JSON.

Layout of a checkpoint root (a run's `checkpoints/`):

    step_000000001000/   manifest.json + tensors.safetensors (one complete checkpoint)
    latest               text file naming the newest complete checkpoint directory

A checkpoint is written to a temporary directory and renamed into place, and `latest` is
replaced atomically afterwards, so a crash mid-save leaves the previous checkpoint intact and
`latest` pointing at it. Nested state (counters, config, optimizer and replay state dicts, RNG
states) is stored as JSON with every numpy array / torch tensor moved into the safetensors
file and replaced by a `{"__tensor__": key}` reference.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

FORMAT = "rlsuite-checkpoint"
VERSION = 1
MANIFEST = "manifest.json"
TENSORS = "tensors.safetensors"
LATEST = "latest"
_PICKLE_MAGIC = (b"\x80", b"PK\x03\x04")  # pickle protocol 2+, torch.save's zip container


class CheckpointError(ValueError):
    """The path is not a loadable rlsuite checkpoint (missing, truncated, foreign or pickled)."""


@dataclass
class Checkpoint:
    """What `load` returns: the step, the decoded state and where it came from."""

    path: Path
    step: int
    state: dict[str, Any]


def _encode(obj: Any, key: str, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(obj, torch.Tensor):
        tensors[key] = obj.detach().cpu().clone()  # clone: tied weights must not alias
        return {"__tensor__": key, "kind": "torch"}
    if isinstance(obj, np.ndarray):
        tensors[key] = torch.from_numpy(np.ascontiguousarray(obj))
        return {"__tensor__": key, "kind": "numpy"}
    if isinstance(obj, Mapping):
        return {str(k): _encode(v, f"{key}/{k}", tensors) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v, f"{key}/{i}", tensors) for i, v in enumerate(obj)]
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"checkpoint state {key!r}: {type(obj).__name__} is neither JSON nor a tensor")


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            tensor = tensors[obj["__tensor__"]]
            return tensor.numpy() if obj["kind"] == "numpy" else tensor
        return {k: _decode(v, tensors) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    return obj


def _optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Optimizer state dict with integer keys made JSON-safe (strings, restored on load)."""
    sd = optimizer.state_dict()
    return {
        "state": {str(k): v for k, v in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }


def _load_optimizer(optimizer: torch.optim.Optimizer, saved: Mapping[str, Any]) -> None:
    state = {int(k): v for k, v in saved["state"].items()}
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def rng_state(np_rng: np.random.Generator | None = None) -> dict[str, Any]:
    """Every RNG a run draws from: numpy (the given Generator), torch, Python's `random`."""
    version, internal, gauss = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": [version, list(internal), gauss],
    }
    if np_rng is not None:
        state["numpy"] = np_rng.bit_generator.state
    return state


def restore_rng(state: Mapping[str, Any], np_rng: np.random.Generator | None = None) -> None:
    """Inverse of `rng_state`; `np_rng` is restored in place."""
    torch.set_rng_state(torch.as_tensor(state["torch"], dtype=torch.uint8))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if np_rng is not None:
        np_rng.bit_generator.state = state["numpy"]


def _write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def save(
    root: str | Path,
    *,
    step: int,
    modules: Mapping[str, torch.nn.Module] | None = None,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    state: Mapping[str, Any] | None = None,
    keep: int = 3,
) -> Path:
    """Write a complete checkpoint for `step` under `root`; keep the newest `keep` of them."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        tensors: dict[str, torch.Tensor] = {}
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "step": int(step),
            "modules": {
                name: _encode(dict(m.state_dict()), f"modules/{name}", tensors)
                for name, m in (modules or {}).items()
            },
            "optimizers": {
                name: _encode(_optimizer_state(o), f"optimizers/{name}", tensors)
                for name, o in (optimizers or {}).items()
            },
            "state": _encode(dict(state or {}), "state", tensors),
        }
        save_file(tensors, str(tmp / TENSORS))
        _write_text_atomic(tmp / MANIFEST, json.dumps(manifest))
        final = root / f"step_{int(step):012d}"
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _write_text_atomic(root / LATEST, final.name + "\n")
    _prune(root, keep)
    return final


def _prune(root: Path, keep: int) -> None:
    complete = sorted(p for p in root.glob("step_*") if (p / MANIFEST).exists())
    for old in complete[: max(0, len(complete) - keep)]:
        shutil.rmtree(old, ignore_errors=True)


def latest(root: str | Path) -> Path | None:
    """The newest complete checkpoint under `root` (a checkpoint root or a run directory)."""
    root = Path(root)
    for candidate in (root, root / "checkpoints"):
        pointer = candidate / LATEST
        if pointer.is_file():
            path = candidate / pointer.read_text().strip()
            if (path / MANIFEST).is_file():
                return path
    return None


def _resolve(path: Path) -> Path:
    if path.is_file():
        with path.open("rb") as f:
            head = f.read(4)
        if head.startswith(_PICKLE_MAGIC):
            raise CheckpointError(
                f"{path} looks like a pickle/torch.save file; rlsuite refuses to load pickles "
                "because loading them can run arbitrary code"
            )
        raise CheckpointError(f"{path} is a file, not an rlsuite checkpoint directory")
    if (path / MANIFEST).is_file():
        return path
    found = latest(path)
    if found is None:
        raise CheckpointError(f"no rlsuite checkpoint at {path} (no {MANIFEST}, no '{LATEST}')")
    return found


def load(
    path: str | Path,
    *,
    modules: Mapping[str, torch.nn.Module] | None = None,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Load a checkpoint directory (or the latest under a root / run dir) without unpickling.

    Module and optimizer states are loaded in place into the objects given by name.
    """
    ckpt = _resolve(Path(path))
    try:
        manifest = json.loads((ckpt / MANIFEST).read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{ckpt / MANIFEST} is not valid JSON ({e}): corrupt") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{ckpt} is not an rlsuite checkpoint (format marker missing)")
    if manifest.get("version") != VERSION:
        raise CheckpointError(f"{ckpt}: checkpoint version {manifest.get('version')} != {VERSION}")
    try:
        tensors = load_file(str(ckpt / TENSORS), device=str(map_location))
    except Exception as e:  # safetensors raises its own error types for truncation
        raise CheckpointError(f"{ckpt / TENSORS} is truncated or corrupt: {e}") from e
    for name, module in (modules or {}).items():
        if name not in manifest["modules"]:
            raise CheckpointError(
                f"{ckpt} has no module {name!r} (it has {sorted(manifest['modules'])})"
            )
        module.load_state_dict(_decode(manifest["modules"][name], tensors))
    for name, optimizer in (optimizers or {}).items():
        if name not in manifest["optimizers"]:
            raise CheckpointError(
                f"{ckpt} has no optimizer {name!r} (it has {sorted(manifest['optimizers'])})"
            )
        _load_optimizer(optimizer, _decode(manifest["optimizers"][name], tensors))
    return Checkpoint(
        path=ckpt, step=int(manifest["step"]), state=_decode(manifest["state"], tensors)
    )
