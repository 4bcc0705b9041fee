"""The run layer on a small real learner (a linear regression fitted by SGD on sampled data):
run directory, tags, checkpoints, exact resume, refusal of changed flags, stops, --help text."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rlsuite import checkpoint
from rlsuite.cli.parsing import parse
from rlsuite.run import (
    IterationReport,
    Part,
    RunConfig,
    RunContext,
    RunState,
    load_optimizer_state,
    optimizer_state,
    resume_config,
    run,
)


@dataclass(kw_only=True)
class ToyConfig(RunConfig):
    """A regression 'agent' whose every draw comes from the run's RNGs."""

    batch: int = 8
    """samples per collect (each counts as one env step)"""


class Toy:
    """Collect draws a batch from the run's numpy RNG; learn takes one SGD step on it."""

    def __init__(self, ctx: RunContext) -> None:
        self.rng = ctx.rng
        self.config: ToyConfig = ctx.config  # type: ignore[assignment]
        self.model = torch.nn.Linear(3, 1)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.config.learning_rate)
        self.x = np.zeros((0, 3), np.float32)
        self.seen: list[float] = []

    def collect(self, state: RunState) -> Mapping[str, float]:
        self.x = self.rng.normal(size=(self.config.batch, 3)).astype(np.float32)
        self.seen.append(float(self.x.sum()))
        state.env_steps += self.config.batch
        state.record_episodes([float(self.x[0, 0])], [1])
        return {}

    def learn(self, state: RunState) -> Mapping[str, float]:
        x = torch.from_numpy(self.x)
        noise = torch.randn(len(x), 1)  # torch RNG is part of the run too
        loss = (self.model(x) - (x.sum(1, keepdim=True) + 0.1 * noise)).square().mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        state.updates += 1
        return {"losses/mse": float(loss.detach())}

    def evaluate(self, state: RunState) -> Mapping[str, float]:
        return {"eval/weight_sum": float(self.model.weight.detach().sum())}

    def state_dict(self) -> dict[str, Any]:
        return {"model": self.model.state_dict(), "opt": optimizer_state(self.opt)}

    def checkpoint_parts(self) -> dict[str, Part]:
        return {"model": self.model, "opt": self.opt}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        load_optimizer_state(self.opt, state["opt"])


def _config(tmp_path: Path, **kw: Any) -> ToyConfig:
    base = ToyConfig(total_steps=400, learning_rate=0.05, run_root=str(tmp_path), backends=("csv",),
                     log_every=40, eval_every=200, eval_episodes=1, checkpoint_every=80)
    return dataclasses.replace(base, **kw)


def _weights(run_dir: Path) -> np.ndarray:
    state = checkpoint.load(run_dir).state["algorithm"]["model"]
    return np.concatenate([state["weight"].numpy().ravel(), state["bias"].numpy()])


def test_run_directory_tags_and_status(tmp_path: Path) -> None:
    run_dir = run(Toy, _config(tmp_path))
    assert run_dir.parent == tmp_path and run_dir.name.startswith("toy-CartPole-v1-s0")
    saved = json.loads((run_dir / "config.json").read_text())
    assert saved["batch"] == 8 and saved["total_steps"] == 400
    rows = [line.split(",") for line in (run_dir / "metrics.csv").read_text().splitlines()[1:]]
    tags = {r[2] for r in rows}
    assert {"charts/sps", "charts/episodes", "charts/episode_return", "losses/mse",
            "eval/weight_sum"} <= tags
    episodes = [float(r[3]) for r in rows if r[2] == "charts/episodes"]
    assert episodes == sorted(episodes) and episodes[-1] == 400 / 8  # cumulative
    status = json.loads((run_dir / "status.json").read_text())
    assert status["finished"] and status["env_steps"] == 400 and len(status["evaluations"]) == 2
    assert checkpoint.latest(run_dir).name == f"step_{400:012d}"


def test_interrupted_and_resumed_run_equals_uninterrupted(tmp_path: Path) -> None:
    full = run(Toy, _config(tmp_path / "a"))
    part = run(Toy, _config(tmp_path / "b", chunk_steps=120))  # stops (checkpointed) at 120
    assert json.loads((part / "status.json").read_text())["env_steps"] == 120
    again = run(Toy, resume_config(ToyConfig, part, chunk_steps=160))
    assert again == part
    run(Toy, resume_config(ToyConfig, part))
    np.testing.assert_array_equal(_weights(full), _weights(part))
    a, b = (json.loads((d / "status.json").read_text()) for d in (full, part))
    assert a["evaluations"] == b["evaluations"] and a["episodes"] == b["episodes"]
    run(Toy, resume_config(ToyConfig, part))  # resuming a finished run is a no-op
    np.testing.assert_array_equal(_weights(full), _weights(part))


def test_resume_refuses_changed_flags(tmp_path: Path) -> None:
    part = run(Toy, _config(tmp_path, chunk_steps=80))
    changed = dataclasses.replace(resume_config(ToyConfig, part), batch=4, learning_rate=0.1)
    with pytest.raises(ValueError, match=r"\['learning_rate', 'batch'\] cannot change"):
        run(Toy, changed)
    with pytest.raises(ValueError, match="cannot change on resume"):
        resume_config(ToyConfig, part, seed=3)
    argv = ["--resume", str(part), "--learning-rate", "0.5"]
    with pytest.raises(ValueError, match=r"\['learning_rate'\] cannot change"):
        run(Toy, parse(ToyConfig, argv))
    resumed = parse(ToyConfig, ["--resume", str(part), "--max-minutes", "5"])
    assert resumed.batch == 8 and resumed.max_minutes == 5 and resumed.resume == str(part)


def test_sigterm_checkpoints_and_stops(tmp_path: Path) -> None:
    def terminate(report: IterationReport) -> None:
        if report.state.env_steps == 48:
            os.kill(os.getpid(), signal.SIGTERM)

    previous = signal.getsignal(signal.SIGTERM)
    run_dir = run(Toy, _config(tmp_path), callback=terminate)
    assert signal.getsignal(signal.SIGTERM) is previous
    assert checkpoint.latest(run_dir).name == f"step_{48:012d}"
    assert not json.loads((run_dir / "status.json").read_text())["finished"]


def test_max_minutes_checkpoints_and_stops(tmp_path: Path) -> None:
    run_dir = run(Toy, _config(tmp_path, max_minutes=1e-9))  # over after the first round
    status = json.loads((run_dir / "status.json").read_text())
    assert status["env_steps"] == 8 and not status["finished"]
    assert checkpoint.latest(run_dir).name == f"step_{8:012d}"


@pytest.mark.parametrize(("part", "entry", "field"), [
    ("opt", ("state", "0", "exp_avg"), "state/algorithm/opt/state/0/exp_avg"),
    ("model", ("bias",), "state/algorithm/model/bias"),
])
def test_bad_checkpoint_is_refused_before_any_state_is_applied(
    tmp_path: Path, part: str, entry: tuple[str, ...], field: str
) -> None:
    """A checkpoint whose optimizer (or module) state does not fit is a CheckpointError naming
    the field, raised before the weights (or anything else) are loaded."""
    run_dir = run(Toy, _config(tmp_path, chunk_steps=80))
    ckpt = checkpoint.load(run_dir)
    holder = ckpt.state["algorithm"][part]
    for key in entry[:-1]:
        holder = holder[key]
    holder[entry[-1]] = torch.zeros(5)  # the model has 3 weights and 1 bias
    checkpoint.save(run_dir / "checkpoints", step=ckpt.step + 1, state=ckpt.state)
    built: list[tuple[Toy, torch.Tensor]] = []

    def factory(ctx: RunContext) -> Toy:
        toy = Toy(ctx)
        built.append((toy, toy.model.weight.detach().clone()))
        return toy

    with pytest.raises(checkpoint.CheckpointError, match=field):
        run(factory, resume_config(ToyConfig, run_dir))
    (toy, initial), = built
    assert torch.equal(toy.model.weight, initial) and not toy.opt.state  # untouched
    assert not np.array_equal(initial.numpy().ravel(), _weights(run_dir)[:3])


def test_killed_before_its_first_checkpoint_starts_over(tmp_path: Path) -> None:
    run_dir = run(Toy, _config(tmp_path, chunk_steps=16))
    shutil.rmtree(run_dir / "checkpoints")  # as if killed before the first save
    run(Toy, resume_config(ToyConfig, run_dir))
    np.testing.assert_array_equal(_weights(run_dir), _weights(run(Toy, _config(tmp_path))))


def test_callback_stop_and_bad_values(tmp_path: Path) -> None:
    run_dir = run(Toy, _config(tmp_path), callback=lambda r: r.state.iterations == 3)
    assert checkpoint.latest(run_dir).name == f"step_{24:012d}"
    with pytest.raises(ValueError, match="log_every must be positive"):
        _config(tmp_path, log_every=0)
    with pytest.raises(ValueError, match="unknown backends"):
        _config(tmp_path, backends=("wandb",))
    with pytest.raises(FileNotFoundError, match="cannot resume"):
        resume_config(ToyConfig, tmp_path / "missing")


def test_every_run_config_field_has_help() -> None:
    from tyro._docstrings import get_field_docstring

    blank = [f.name for f in dataclasses.fields(RunConfig)
             if not get_field_docstring(RunConfig, f.name, ())]
    assert blank == []
