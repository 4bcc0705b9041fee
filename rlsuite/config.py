"""Config IO: presets, overrides, a run's saved config, fresh run directories. No parsing.

Configs are keyword-only dataclasses, one per entry point; `rlsuite.cli.parsing` turns flags
into them. Per-env presets (rl-zoo style) live in one TOML file, `rlsuite/presets.toml`, as
tables `[ALGO."ENV_ID"]`; command-line flags override a preset, and the resolved config is
saved with every run (`Logger.log_hparams`) and read back on `--resume`.
"""

from __future__ import annotations

import dataclasses
import json
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

RUN_CONTROL = (
    "resume",
    "max_minutes",
    "chunk_steps",
    "device",
    "backends",
    "torch_threads",
    "run_root",
    "run_name",
    "backend",
    "workers",
    "cpus_per_worker",
    "ray_address",
)
"""Fields a resumed run takes from its own command line (their defaults when not given); every
other field comes from the run's saved config.json and may not change."""

PRESETS_FILE = Path(__file__).with_name("presets.toml")


def load_presets(algo: str, path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Presets of one algorithm: env id -> field overrides."""
    path = path or PRESETS_FILE
    if not path.exists():
        return {}
    with path.open("rb") as f:
        return dict(tomllib.load(f).get(algo, {}))


def apply_overrides(config: T, overrides: Mapping[str, Any]) -> T:
    """`dataclasses.replace` that names unknown fields instead of a bare TypeError."""
    assert dataclasses.is_dataclass(config) and not isinstance(config, type)
    names = {f.name for f in dataclasses.fields(config)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"{type(config).__name__} has no field(s) {unknown}")
    values = {k: _as_field_value(v) for k, v in overrides.items()}
    return dataclasses.replace(config, **values)  # type: ignore[type-var]


def _as_field_value(value: Any) -> Any:
    """TOML and JSON give lists; configs hold tuples so they stay immutable and hashable."""
    return tuple(value) if isinstance(value, list) else value


def load_config(config_cls: type[T], run_dir: str | Path) -> T:
    """The config a run saved in its `config.json` (for `--resume`)."""
    path = Path(run_dir) / "config.json"
    if not path.is_file():
        raise FileNotFoundError(f"cannot resume: {path} does not exist")
    data = json.loads(path.read_text())
    fields = {f.name: f for f in dataclasses.fields(config_cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ValueError(f"{path}: fields {unknown} are not part of {config_cls.__name__}")
    return config_cls(**{k: _as_field_value(v) for k, v in data.items()})


def resume_defaults(config_cls: type[T], run_dir: str | Path) -> T:
    """The saved config of `run_dir` with the `RUN_CONTROL` fields at their defaults (a chunk
    or time limit of the run's first invocation does not carry over)."""
    saved = load_config(config_cls, run_dir)
    defaults = config_cls()
    control = {k: getattr(defaults, k) for k in RUN_CONTROL if hasattr(defaults, k)}
    return dataclasses.replace(saved, **control)  # type: ignore[type-var]


def new_run_dir(base: str | Path, name: str) -> Path:
    """A fresh, timestamped run directory `base/name-YYYYmmdd-HHMMSS[-k]`."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = Path(base) / f"{name}-{stamp}"
    k = 1
    while path.exists():
        k += 1
        path = Path(base) / f"{name}-{stamp}-{k}"
    path.mkdir(parents=True)
    return path
