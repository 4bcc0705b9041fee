"""`rlsuite train ALGO [FLAGS]`: parse the algorithm's config over its presets, then train.

Agents supply a config dataclass and `train(config) -> run_dir` and parse nothing; this module
knows where each lives (imported only for the algorithm asked for) and where its presets come
from: `rlsuite/presets.toml` per env id, or AlphaZero's defaults per board size.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from rlsuite.cli.parsing import flag_value, parse
from rlsuite.config import load_presets

Presets = Mapping[str, Mapping[str, Any]]


def _toml_presets(algo: str) -> Callable[[ModuleType], Presets]:
    return lambda module: load_presets(algo)


def _board_size_presets(module: ModuleType) -> Presets:
    return {str(size): {"board_size": size, **preset}
            for size, preset in module.SIZE_PRESETS.items()}


@dataclass(frozen=True)
class Trainer:
    """Where one algorithm's config class and `train(config) -> Path` live."""

    module: str
    config: str
    """name of the config class in `module`"""
    presets: Callable[[ModuleType], Presets]
    """the presets, given the imported module"""
    preset_field: str = "env"
    """the config field whose value names a preset"""


TRAINERS: dict[str, Trainer] = {
    "dqn": Trainer("rlsuite.agents.dqn", "DQNConfig", _toml_presets("dqn")),
    "ppo": Trainer("rlsuite.agents.pg", "PPOConfig", _toml_presets("ppo")),
    "a2c": Trainer("rlsuite.agents.pg", "A2CConfig", _toml_presets("a2c")),
    "reinforce": Trainer("rlsuite.agents.pg", "ReinforceConfig", _toml_presets("reinforce")),
    "alphazero": Trainer("rlsuite.agents.alphazero.trainer", "AlphaZeroConfig",
                         _board_size_presets, preset_field="board_size"),
}


CHIP_ALPHAZERO = Trainer("rlsuite.agents.alphazero.placement", "ChipAlphaZeroConfig",
                         lambda module: {})
"""`alphazero` with `--env rlsuite/ChipPlacement-v0` (or resuming such a run): one-player
AlphaZero on macro placement."""


def trainer_for(algo: str, argv: Sequence[str]) -> Trainer:
    """ALGO's trainer; `alphazero` on the chip env (from `--env`, or the resumed run's
    config) is the placement trainer."""
    if algo != "alphazero":
        return TRAINERS[algo]
    env = flag_value(argv, "env")
    resume = flag_value(argv, "resume")
    if env is None and resume and (Path(resume) / "config.json").is_file():
        env = json.loads((Path(resume) / "config.json").read_text()).get("env")
    return CHIP_ALPHAZERO if env == "rlsuite/ChipPlacement-v0" else TRAINERS[algo]


def parse_config(algo: str, argv: Sequence[str] | None) -> Any:
    """`rlsuite train ALGO` flags -> ALGO's config: flags over the preset, or with
    `--resume RUN_DIR` over that run's saved config (only run control may change)."""
    trainer = trainer_for(algo, list(argv or []))
    module = importlib.import_module(trainer.module)
    return parse(getattr(module, trainer.config), argv, prog=f"rlsuite train {algo}",
                 presets=trainer.presets(module), preset_field=trainer.preset_field)


def summary(run_dir: Path) -> str:
    """Where the run stands (from its `status.json`): last evaluation, finished or stopped."""
    status = json.loads((run_dir / "status.json").read_text())
    lines = []
    if status["evaluations"]:
        step, metrics = status["evaluations"][-1]
        if "eval/return_mean" in metrics:
            lines.append(f"eval return {metrics['eval/return_mean']:.2f} at step {step}")
    lines.append("finished" if status["finished"] else f"stopped at step {status['env_steps']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Train (SIGTERM/SIGINT checkpoint and stop); print a summary, then the run directory."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in TRAINERS:
        print(f"usage: rlsuite train ALGO [ARGS]; ALGO is one of {list(TRAINERS)}",
              file=sys.stderr)
        return 2
    algo = args[0]
    config = parse_config(algo, args[1:])
    run_dir = importlib.import_module(trainer_for(algo, args[1:]).module).train(config)
    print(summary(run_dir))
    print(run_dir)
    return 0
