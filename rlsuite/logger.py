"""One `Logger` for every run, with pluggable back ends: TensorBoard, CSV and the console.

A run directory holds `config.json`, `metrics.csv` (long format: step, wall_time, tag, value,
so new tags never break the header), TensorBoard event files and `checkpoints/`. Tags are
namespaced (`charts/episode_return`, `losses/td`, `selfplay/games_per_s`).
"""

from __future__ import annotations

import csv
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

BACKENDS = ("tensorboard", "csv", "console")


def to_jsonable(value: Any) -> Any:
    """Dataclasses, paths and numpy scalars as plain JSON values (for config.json)."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    return value


class Logger:
    """Writes scalars to every enabled back end and owns the run directory layout."""

    def __init__(
        self,
        run_dir: str | Path,
        backends: Iterable[str] = BACKENDS,
        *,
        console: Console | None = None,
        console_every: float = 10.0,
    ) -> None:
        self.backends = tuple(backends)
        unknown = set(self.backends) - set(BACKENDS)
        if unknown:
            raise ValueError(f"unknown logger backends {sorted(unknown)}; choose from {BACKENDS}")
        self.run_dir = Path(run_dir)
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        self.console = console or Console(stderr=True)
        self.console_every = console_every
        self._last_console = -math.inf
        self._tb = None
        if "tensorboard" in self.backends:
            from torch.utils.tensorboard import SummaryWriter

            self._tb = SummaryWriter(log_dir=str(self.run_dir))
        self._csv_file = None
        if "csv" in self.backends:
            path = self.run_dir / "metrics.csv"
            is_new = not path.exists() or path.stat().st_size == 0
            self._csv_file = path.open("a", newline="")
            self._csv = csv.writer(self._csv_file)
            if is_new:
                self._csv.writerow(["step", "wall_time", "tag", "value"])

    @property
    def checkpoint_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    def log(self, step: int, scalars: Mapping[str, float]) -> None:
        """Record scalars at `step` in every back end (the console at most every few seconds)."""
        now = time.time()
        values = {tag: float(v) for tag, v in scalars.items()}
        if self._tb is not None:
            for tag, value in values.items():
                self._tb.add_scalar(tag, value, step, walltime=now)
        if self._csv_file is not None:
            self._csv.writerows([step, f"{now:.3f}", tag, repr(v)] for tag, v in values.items())
            self._csv_file.flush()
        if "console" in self.backends and now - self._last_console >= self.console_every:
            self._last_console = now
            shown = "  ".join(f"{t}={v:.4g}" for t, v in values.items())
            self.console.log(f"step {step}: {shown}")

    def log_hparams(self, config: Any) -> None:
        """Save the resolved config as config.json and as text in TensorBoard."""
        data = to_jsonable(config)
        text = json.dumps(data, indent=2, sort_keys=True)
        path = self.run_dir / "config.json"  # temp file + rename: a kill never truncates it
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, path)
        if self._tb is not None:
            self._tb.add_text("config", f"```\n{text}\n```", 0)

    def progress(self, total: int, description: str = "training") -> Progress:
        """A rich progress bar; use as `with logger.progress(n) as p: ...`, task id 0."""
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            disable="console" not in self.backends,
        )
        progress.add_task(description, total=total)
        return progress

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()
        if self._csv_file is not None:
            self._csv_file.flush()

    def close(self) -> None:
        if self._tb is not None:
            self._tb.close()
            self._tb = None
        if self._csv_file is not None:
            self._csv_file.close()
            self._csv_file = None

    def __enter__(self) -> Logger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
