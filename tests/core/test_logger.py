"""Logger writes real TensorBoard event files and a CSV holding the same values."""

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from rlsuite.logger import Logger


@dataclass(kw_only=True)
class _Config:
    lr: float = 3e-4
    env: str = "CartPole-v1"
    run_dir: Path = Path("runs/x")


def test_tensorboard_and_csv_hold_the_logged_scalars(tmp_path: Path) -> None:
    logged = {
        (10, "charts/episode_return"): 12.5,
        (10, "losses/td"): 0.25,
        (20, "charts/episode_return"): 40.0,
        (30, "losses/td"): 0.125,
    }
    with Logger(tmp_path, backends=("tensorboard", "csv")) as logger:
        for (step, tag), value in logged.items():
            logger.log(step, {tag: value})
        logger.log_hparams(_Config())

    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"charts/episode_return", "losses/td"}
    from_tb = {
        (e.step, tag): e.value for tag in events.Tags()["scalars"] for e in events.Scalars(tag)
    }
    assert from_tb == pytest.approx(logged)

    with (tmp_path / "metrics.csv").open() as f:
        from_csv = {(int(r["step"]), r["tag"]): float(r["value"]) for r in csv.DictReader(f)}
    assert from_csv == logged

    config = json.loads((tmp_path / "config.json").read_text())
    assert config == {"lr": 3e-4, "env": "CartPole-v1", "run_dir": "runs/x"}
    assert (tmp_path / "checkpoints").is_dir()


def test_csv_appends_on_resume_without_a_second_header(tmp_path: Path) -> None:
    with Logger(tmp_path, backends=("csv",)) as logger:
        logger.log(1, {"a": 1.0})
    with Logger(tmp_path, backends=("csv",)) as logger:
        logger.log(2, {"a": 2.0})
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0] == "step,wall_time,tag,value"
    assert len(lines) == 3 and lines[2].startswith("2,")


def test_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown logger backends \\['wandb'\\]"):
        Logger(tmp_path, backends=("csv", "wandb"))


def test_progress_bar_counts(tmp_path: Path) -> None:
    with Logger(tmp_path, backends=("csv",)) as logger, logger.progress(5) as progress:
        for _ in range(5):
            progress.advance(0)
        assert progress.tasks[0].completed == 5
