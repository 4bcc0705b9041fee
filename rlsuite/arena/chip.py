"""The chip-placement "arena": a leaderboard of placers on one netlist.

Placement is a single-player game, so placers are not paired: each places the netlist a few
times (different seeds) and the leaderboard ranks them by mean proxy cost, with HPWL beside
it. Every run goes through the chip package's one evaluator (`ChipGame.metrics`), and runs
accumulate in the league directory (`chip.jsonl`) like Go games do.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rlsuite.arena.players import PlayerSpec, make_player
from rlsuite.game import State
from rlsuite.player import Player

if TYPE_CHECKING:
    from rlsuite.envs.chip import ChipGame

CHIP_RECORDS = "chip.jsonl"


def chip_game(netlist: str | Path | None, grid: int | None = None) -> ChipGame:
    """The placement game of a netlist file (None: the chip package's seeded synthetic one)."""
    from rlsuite.envs.chip import ChipGame

    if netlist is not None and not Path(netlist).exists():
        raise ValueError(f"netlist {netlist} does not exist")
    return ChipGame(netlist, grid)


@dataclass
class PlacementRun:
    """One placement of one netlist by one placer (a line of `chip.jsonl`)."""

    placer: str
    netlist: str
    grid: list[int]
    seed: int
    complete: bool
    seconds: float
    metrics: dict[str, float]


def place(game: ChipGame, placer: Player) -> tuple[State, float]:
    """Let a placer place every macro; returns the final state and the seconds it took."""
    start = time.perf_counter()
    placer.reset(game)
    state = game.initial_state()
    while not game.is_terminal(state):
        state = game.next_state(state, placer.act(state))
    return state, time.perf_counter() - start


def run_placements(
    game: ChipGame, netlist_name: str, specs: Sequence[PlayerSpec], runs: int, seed: int
) -> list[PlacementRun]:
    """`runs` placements per placer, seeds seed, seed+1, ..."""
    out = []
    for spec in specs:
        for k in range(runs):
            placer = make_player(spec, game, seed=seed + k)
            try:
                state, seconds = place(game, placer)
            finally:
                placer.close()
            complete = game.is_complete(state)
            out.append(PlacementRun(
                placer=spec.text, netlist=netlist_name,
                grid=[game.model.cols, game.model.rows], seed=seed + k, complete=complete,
                seconds=round(seconds, 4), metrics=game.metrics(state) if complete else {},
            ))
    return out


def append_runs(path: Path, runs: Sequence[PlacementRun]) -> None:
    with path.open("a") as f:
        for run in runs:
            f.write(json.dumps(asdict(run)) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_runs(path: Path, netlist_name: str, grid: list[int]) -> list[PlacementRun]:
    """Stored runs on one netlist and grid; lines damaged by a crash are skipped."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            run = PlacementRun(**json.loads(line))
        except (json.JSONDecodeError, TypeError):
            continue
        if run.netlist == netlist_name and run.grid == grid:
            out.append(run)
    return out


@dataclass(frozen=True)
class Standing:
    """A placer's line on the leaderboard (means over its complete runs)."""

    placer: str
    runs: int
    complete: int
    proxy_cost: float
    proxy_std: float
    best_proxy: float
    hpwl: float
    best_hpwl: float
    seconds: float


def leaderboard(runs: Sequence[PlacementRun]) -> list[Standing]:
    """Placers ranked by mean proxy cost (lower is better); never-complete placers last."""
    standings = []
    for name in dict.fromkeys(r.placer for r in runs):
        mine = [r for r in runs if r.placer == name]
        done = [r for r in mine if r.complete]
        proxy = np.array([r.metrics["proxy_cost"] for r in done]) if done else np.array([np.inf])
        hpwl = np.array([r.metrics["hpwl"] for r in done]) if done else np.array([np.inf])
        standings.append(Standing(
            placer=name, runs=len(mine), complete=len(done), proxy_cost=float(proxy.mean()),
            proxy_std=float(proxy.std()) if done else 0.0, best_proxy=float(proxy.min()),
            hpwl=float(hpwl.mean()), best_hpwl=float(hpwl.min()),
            seconds=float(np.mean([r.seconds for r in mine])),
        ))
    return sorted(standings, key=lambda s: (s.complete == 0, s.proxy_cost))
