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

import inspect
import json
import os
import random
import re
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
    """The path is not a loadable rlsuite checkpoint: missing, truncated, foreign, pickled, or
    with a field that is absent, of the wrong type, or does not fit what it is loaded into
    (a tensor shape, an optimizer's parameters, an RNG). The message names the file and the
    field (a `/`-separated path into the manifest, e.g. `modules/net/weight`). `load` raises it
    before it modifies anything."""


def _fail(source: Path | str, field: str, problem: str) -> CheckpointError:
    return CheckpointError(f"{source}: field {field}: {problem}")


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


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor], source: Path, field: str) -> Any:
    """Manifest JSON back to nested state, each `{"__tensor__": key}` replaced by its tensor;
    a reference to a missing tensor or of an unknown kind is a CheckpointError."""
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            key, kind = obj["__tensor__"], obj.get("kind")
            if not isinstance(key, str) or key not in tensors:
                raise _fail(source, field, f"tensor reference {key!r} is not in {TENSORS}")
            if kind not in ("torch", "numpy"):
                raise _fail(source, field, f"tensor kind {kind!r} is not 'torch' or 'numpy'")
            tensor = tensors[key]
            if kind == "torch":
                return tensor
            try:
                return tensor.cpu().numpy()
            except TypeError as err:  # e.g. bfloat16 has no numpy dtype
                raise _fail(source, field, f"not a numpy array: {err}") from None
        return {k: _decode(v, tensors, source, f"{field}/{k}") for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, tensors, source, f"{field}/{i}") for i, v in enumerate(obj)]
    return obj


def _optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """Optimizer state dict with integer keys made JSON-safe (strings, restored on load)."""
    sd = optimizer.state_dict()
    return {
        "state": {str(k): v for k, v in sd["state"].items()},
        "param_groups": sd["param_groups"],
    }


def _load_optimizer(optimizer: torch.optim.Optimizer, saved: Mapping[str, Any]) -> None:
    """Load a saved optimizer state (as `_optimizer_state` wrote it), checked first."""
    check_optimizer_state(optimizer, saved, "<optimizer state>", "optimizer")
    state = {int(k): v for k, v in saved["state"].items()}
    optimizer.load_state_dict({"state": state, "param_groups": saved["param_groups"]})


def check_module_state(
    module: torch.nn.Module, saved: Any, source: Path | str, field: str
) -> None:
    """CheckpointError unless `saved` has exactly the module's state keys, each a tensor of
    the module's shape (`load_state_dict` would copy some, then fail on the rest)."""
    if not isinstance(saved, Mapping):
        raise _fail(source, field, f"a module state must be a mapping, got {type(saved).__name__}")
    own = module.state_dict()
    missing, extra = sorted(set(own) - set(saved)), sorted(set(saved) - set(own))
    if missing or extra:
        raise _fail(source, field, f"keys do not match the module: missing {missing[:5]}, "
                                   f"unexpected {extra[:5]}")
    for key, mine in own.items():
        if not isinstance(mine, torch.Tensor):
            continue
        theirs = saved[key]
        if not isinstance(theirs, torch.Tensor):
            raise _fail(source, f"{field}/{key}", f"expected a tensor, got {type(theirs).__name__}")
        if theirs.shape != mine.shape:
            raise _fail(source, f"{field}/{key}", f"shape {tuple(theirs.shape)} does not fit the "
                                                  f"module's {tuple(mine.shape)}")


def _same_kind(mine: Any, theirs: Any) -> bool:
    """Can `theirs` stand in for the optimizer hyperparameter `mine`?"""
    if isinstance(mine, bool) or mine is None or isinstance(mine, str):
        return type(theirs) is type(mine)
    if isinstance(mine, int | float):
        return isinstance(theirs, int | float) and not isinstance(theirs, bool)
    if isinstance(mine, list | tuple):
        return isinstance(theirs, list | tuple) and len(theirs) == len(mine) and all(
            _same_kind(a, b) for a, b in zip(mine, theirs, strict=True))
    return True  # a tensor lr and the like: torch checks it


def check_optimizer_state(
    optimizer: torch.optim.Optimizer, saved: Any, source: Path | str, field: str
) -> None:
    """CheckpointError unless `saved` fits `optimizer`: the same parameter groups with the
    same number of parameters and hyperparameters of the same kinds, and per-parameter state
    tensors shaped like their parameters (else the first `step()` crashes)."""
    if not isinstance(saved, Mapping) or not isinstance(saved.get("state"), Mapping) \
            or not isinstance(saved.get("param_groups"), list):
        raise _fail(source, field, "an optimizer state needs a 'state' mapping and a "
                                   "'param_groups' list")
    groups, own = saved["param_groups"], optimizer.param_groups
    if len(groups) != len(own):
        raise _fail(source, f"{field}/param_groups",
                    f"{len(groups)} parameter groups, the optimizer has {len(own)}")
    params: dict[int, torch.Tensor] = {}
    for i, (group, mine) in enumerate(zip(groups, own, strict=True)):
        where = f"{field}/param_groups/{i}"
        ids = group.get("params") if isinstance(group, Mapping) else None
        if not isinstance(ids, list) or len(ids) != len(mine["params"]) or not all(
            type(k) is int for k in ids
        ):
            raise _fail(source, f"{where}/params",
                        f"must list {len(mine['params'])} integer parameter ids")
        for key, value in mine.items():
            if key != "params" and (key not in group or not _same_kind(value, group[key])):
                raise _fail(source, f"{where}/{key}", f"missing or not like {value!r}")
        params.update(zip(ids, mine["params"], strict=True))
    if len(params) != sum(len(g["params"]) for g in own):
        raise _fail(source, f"{field}/param_groups", "parameter ids repeat")
    group_of = {pid: i for i, group in enumerate(groups) for pid in group["params"]}
    references: dict[int, dict[str, Any]] = {}
    for key, entry in saved["state"].items():
        where = f"{field}/state/{key}"
        if not (isinstance(key, str | int) and str(key).isdigit() and int(key) in params):
            raise _fail(source, where, "names no parameter of the optimizer")
        if not isinstance(entry, Mapping):
            raise _fail(source, where, f"must be a mapping, got {type(entry).__name__}")
        g = group_of[int(key)]
        if g not in references:
            references[g] = _reference_state(optimizer, own[g])
        _check_param_state(entry, references[g], params[int(key)].shape, source, where)


def _reference_state(optimizer: torch.optim.Optimizer, group: Mapping[str, Any]) -> dict:
    """The per-parameter state this optimizer keeps under `group`'s hyperparameters, taken
    from one step of a throwaway copy on a one-element parameter (nothing shared); empty when
    no such copy can step (LBFGS needs a closure and keeps flat state: nothing to compare)."""
    takes = inspect.signature(type(optimizer).__init__).parameters
    any_key = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in takes.values())
    hyper = {k: v for k, v in group.items() if k != "params" and (any_key or k in takes)}
    dummy = torch.zeros(1, requires_grad=True)
    dummy.grad = torch.ones(1)
    try:
        probe = type(optimizer)([dummy], **hyper)
        probe.step()
    except Exception:
        return {}
    return dict(probe.state[dummy])


def _check_param_state(entry: Mapping[str, Any], reference: Mapping[str, Any],
                       shape: torch.Size, source: Path | str, where: str) -> None:
    """One parameter's saved state has the reference's entries, each of the same kind:
    a tensor shaped like the parameter (or a scalar tensor), a number, or None."""
    missing = sorted(set(reference) - set(entry))
    if missing:
        raise _fail(source, where, f"lacks {missing}")
    for name, mine in reference.items():
        theirs = entry[name]
        if isinstance(mine, torch.Tensor):
            scalar = mine.dim() == 0
            ok = isinstance(theirs, torch.Tensor) and (
                theirs.numel() == 1 if scalar else theirs.shape == shape
            ) and theirs.is_floating_point() == mine.is_floating_point()
            if scalar and isinstance(theirs, int | float) and not isinstance(theirs, bool):
                ok = True  # older torch saved Adam's step as a number
            if not ok:
                got = (f"a {theirs.dtype} tensor of shape {tuple(theirs.shape)}"
                       if isinstance(theirs, torch.Tensor) else type(theirs).__name__)
                want = "a scalar" if scalar else f"a {mine.dtype} tensor of shape {tuple(shape)}"
                raise _fail(source, f"{where}/{name}", f"{got} does not fit: need {want}")
        elif not _same_kind(mine, theirs):
            raise _fail(source, f"{where}/{name}", f"must be like {mine!r}")




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


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def check_rng_state(state: Any, source: Path | str = "<rng state>", field: str = "rng",
                    np_rng: np.random.Generator | None = None) -> None:
    """CheckpointError unless `state` (from `rng_state`) restores cleanly: each part is tried
    on a fresh generator of its kind, so nothing global changes."""
    if not isinstance(state, Mapping) or "torch" not in state or "python" not in state:
        raise _fail(source, field, "an RNG state needs 'torch' and 'python' entries")
    try:
        torch.Generator().set_state(torch.as_tensor(state["torch"], dtype=torch.uint8))
    except (RuntimeError, TypeError, ValueError) as err:
        raise _fail(source, f"{field}/torch", f"not a torch RNG state ({err})") from None
    py = state["python"]
    try:
        version, internal, gauss = py
        random.Random().setstate((version, tuple(internal), gauss))
    except (TypeError, ValueError, OverflowError) as err:
        raise _fail(source, f"{field}/python", f"not a Python RNG state ({err})") from None
    if np_rng is None and "numpy" not in state:
        return
    saved = state.get("numpy")
    kind = saved.get("bit_generator") if isinstance(saved, Mapping) else None
    expected = type(np_rng.bit_generator).__name__ if np_rng is not None else kind
    if kind not in _BIT_GENERATORS or kind != expected:
        raise _fail(source, f"{field}/numpy", f"bit generator {kind!r} is not {expected!r}")
    try:
        getattr(np.random, kind)().state = saved
    except (TypeError, ValueError, KeyError, OverflowError) as err:
        raise _fail(source, f"{field}/numpy", f"not a {kind} state ({err})") from None


def restore_rng(state: Mapping[str, Any], np_rng: np.random.Generator | None = None) -> None:
    """Inverse of `rng_state`; `np_rng` is restored in place. The whole state is checked
    first (`check_rng_state`), so a corrupt one changes no generator."""
    check_rng_state(state, np_rng=np_rng)
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
    if not _is_step(step):
        raise CheckpointError(f"step must be a non-negative int, got {step!r}")
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


_NAME = re.compile(r"[A-Za-z0-9_.-]{1,255}")
"""What a `latest` pointer may hold: one plain directory name (no path, no whitespace)."""


def _is_step(step: object) -> bool:
    return isinstance(step, int | np.integer) and not isinstance(step, bool) and bool(step >= 0)


def latest(root: str | Path) -> Path | None:
    """The newest complete checkpoint under `root` (a checkpoint root or a run directory);
    None when there is none. A `latest` pointer that is not a plain ASCII directory name is a
    CheckpointError."""
    root = Path(root)
    for candidate in (root, root / "checkpoints"):
        pointer = candidate / LATEST
        if pointer.is_file():
            try:
                name = pointer.read_bytes().decode("ascii").strip()
            except (OSError, UnicodeDecodeError) as err:
                raise _fail(pointer, LATEST, f"unreadable or not ASCII ({err})") from None
            if not _NAME.fullmatch(name) or name in (".", ".."):
                raise _fail(pointer, LATEST, f"{name[:80]!r} is not a checkpoint directory name")
            path = candidate / name
            if (path / MANIFEST).is_file():
                return path
    return None


def _resolve(path: Path) -> Path:
    try:
        return _find(path)
    except OSError as err:  # a name too long, no permission, ...
        raise CheckpointError(f"{str(path)[:200]}: cannot read ({err.strerror or err})") from None


def _find(path: Path) -> Path:
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


def _manifest(path: Path) -> dict[str, Any]:
    """The manifest, its top-level fields checked (format, version, step, sections)."""
    try:
        manifest = json.loads(path.read_bytes().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path} is not valid JSON ({e}): corrupt") from e
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise CheckpointError(f"{path.parent} is not an rlsuite checkpoint (format marker missing)")
    if manifest.get("version") != VERSION:
        raise _fail(path, "version", f"checkpoint version {manifest.get('version')!r} != {VERSION}")
    if not _is_step(manifest.get("step")):
        raise _fail(path, "step", f"{manifest.get('step')!r} is not a non-negative int")
    for section in ("modules", "optimizers", "state"):
        if not isinstance(manifest.get(section), dict):
            raise _fail(path, section, "missing or not a JSON object")
    return manifest


def load(
    path: str | Path,
    *,
    modules: Mapping[str, torch.nn.Module] | None = None,
    optimizers: Mapping[str, torch.optim.Optimizer] | None = None,
    map_location: str | torch.device = "cpu",
) -> Checkpoint:
    """Load a checkpoint directory (or the latest under a root / run dir) without unpickling.

    Module and optimizer states are loaded in place into the objects given by name, and only
    after everything was checked: every tensor reference resolves, every module state fits its
    module (keys, shapes), every optimizer state fits its optimizer, and a `state["rng"]` (as
    `rng_state` writes it) restores. Any problem is a CheckpointError naming the file and the
    field, raised while every given object is still untouched.
    """
    ckpt = _resolve(Path(path))
    source = ckpt / MANIFEST
    manifest = _manifest(source)
    try:
        tensors = load_file(str(ckpt / TENSORS), device=str(map_location))
    except Exception as e:  # safetensors raises its own error types for truncation
        raise CheckpointError(f"{ckpt / TENSORS} is truncated or corrupt: {e}") from e
    wanted = {"modules": modules or {}, "optimizers": optimizers or {}}
    for section, objects in wanted.items():
        for name in objects:
            if name not in manifest[section]:
                raise _fail(source, f"{section}/{name}",
                            f"the checkpoint has no {section[:-1]} {name!r} "
                            f"(it has {sorted(manifest[section])})")
    try:
        decoded = {
            section: {name: _decode(manifest[section][name], tensors, source, f"{section}/{name}")
                      for name in objects}
            for section, objects in wanted.items()
        }
        state = _decode(manifest["state"], tensors, source, "state")
    except RecursionError:
        raise CheckpointError(f"{source} nests too deeply: corrupt") from None
    for name, module in (modules or {}).items():
        check_module_state(module, decoded["modules"][name], source, f"modules/{name}")
    for name, optimizer in (optimizers or {}).items():
        check_optimizer_state(optimizer, decoded["optimizers"][name], source, f"optimizers/{name}")
    if "rng" in state:
        check_rng_state(state["rng"], source, "state/rng")
    for name, module in (modules or {}).items():
        module.load_state_dict(decoded["modules"][name])
    for name, optimizer in (optimizers or {}).items():
        _load_optimizer(optimizer, decoded["optimizers"][name])
    return Checkpoint(path=ckpt, step=int(manifest["step"]), state=state)

