"""Command-line flags -> a typed, keyword-only config dataclass (tyro), for every command.

A config's field docstrings are its `--help`. Trainers start from a preset (one table of field
overrides per env id, or per board size) and, with `--resume RUN_DIR`, from that run's saved
config instead; `rlsuite.config` holds that IO and imports no parser.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from rlsuite.config import apply_overrides, resume_defaults

T = TypeVar("T")


def parse(
    config_cls: type[T],
    argv: Sequence[str] | None,
    *,
    prog: str | None = None,
    presets: Mapping[str, Mapping[str, Any]] | None = None,
    preset_field: str = "env",
) -> T:
    """Parse argv into `config_cls`. Flags override the preset named by `--<preset_field>` (or
    by that field's default) when `presets` has one; with `--resume RUN_DIR` they override that
    run's saved config instead (the run layer then refuses flags that changed anything but run
    control). An unknown flag or a bad value exits with tyro's usage message."""
    import tyro  # imported when parsing, so `rlsuite --help` and dispatch stay fast

    args = list(argv or [])
    resume = flag_value(args, "resume")
    default = resume_defaults(config_cls, resume) if resume else config_cls()
    if presets and not resume:
        key = flag_value(args, preset_field) or getattr(default, preset_field, None)
        preset = presets.get(str(key))
        if preset:
            default = apply_overrides(default, preset)
    return tyro.cli(config_cls, default=default, args=args, prog=prog)


def flag_value(argv: Sequence[str], name: str) -> str | None:
    """The value given to `--name` in argv (`--name V` or `--name=V`), before full parsing."""
    flag = f"--{name.replace('_', '-')}"
    for i, arg in enumerate(argv):
        if arg == flag and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None
