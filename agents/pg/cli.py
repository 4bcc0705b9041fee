"""`rlsuite train ppo|a2c|reinforce ...`: parse flags over the per-env presets, then train."""

from __future__ import annotations

from collections.abc import Sequence

from rlsuite.agents.pg.config import CONFIGS
from rlsuite.agents.pg.trainer import train
from rlsuite.config import parse


def main(algo: str, argv: Sequence[str] | None) -> int:
    config = parse(CONFIGS[algo], argv, algo=algo, prog=f"rlsuite train {algo}")
    run_dir = train(config)
    print(run_dir)
    return 0


def main_ppo(argv: Sequence[str] | None = None) -> int:
    return main("ppo", argv)


def main_a2c(argv: Sequence[str] | None = None) -> int:
    return main("a2c", argv)


def main_reinforce(argv: Sequence[str] | None = None) -> int:
    return main("reinforce", argv)
