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
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rlsuite.arena.players import AgentPlayer, PlayerSpec, check_available, load_agent, parse_spec
from rlsuite.game import State
from rlsuite.player import GreedyPlayer, Player, RandomPlayer

if TYPE_CHECKING:
    from rlsuite.arena.cli import ArenaConfig
    from rlsuite.envs.chip import ChipGame

CHIP_RECORDS = "chip.jsonl"
PLACER_KINDS = ("random", "greedy", "sa", "dqn", "ppo")


def chip_game(netlist: str | Path | None, grid: int | None = None) -> ChipGame:
    """The placement game of a netlist file (None: the chip package's seeded synthetic one)."""
    from rlsuite.envs.chip import ChipGame

    if netlist is not None and not Path(netlist).exists():
        raise ValueError(f"netlist {netlist} does not exist")
    return ChipGame(netlist, grid)


class AnnealPlacer:
    """Simulated annealing (the chip package's `sa` baseline) as a placer: it anneals the whole
    placement on `reset`, then `act` replays the annealed cells macro by macro."""

    name = "sa"

    def __init__(self, seed: int | None = None) -> None:
        self.seed = 0 if seed is None else seed
        self.cells: np.ndarray | None = None
        self.game: ChipGame | None = None

    def reset(self, game: Any) -> None:
        from rlsuite.envs.chip import run_baseline

        self.game = game
        self.cells = run_baseline("sa", game.model, seed=self.seed, evaluate=False).cells

    def act(self, state: State) -> int:
        if self.game is None or self.cells is None:
            raise RuntimeError("sa: call reset(game) before act(state)")
        cell = int(self.cells[state.step])
        if cell < 0:  # annealing found no complete placement: fall back to greedy
            return int(self.game.greedy_action(state))
        return cell

    def close(self) -> None:
        self.game = None


def make_placer(spec: str | PlayerSpec, game: ChipGame, *, seed: int | None = None) -> Player:
    """A placer from a spec: random, greedy, sa, dqn:RUN or ppo:RUN."""
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if spec.kind not in PLACER_KINDS:
        raise ValueError(f"{spec.text!r} is not a placer; placers are {', '.join(PLACER_KINDS)}"
                         " (dqn and ppo as dqn:RUN, ppo:RUN)")
    placer: Player
    if spec.kind == "random":
        placer = RandomPlayer(seed)
    elif spec.kind == "greedy":
        placer = GreedyPlayer(seed)
    elif spec.kind == "sa":
        placer = AnnealPlacer(seed)
    else:
        placer = AgentPlayer(load_agent(spec), name=spec.text)
    placer.name = spec.text
    return placer


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
            placer = make_placer(spec, game, seed=seed + k)
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


def leaderboard_table(standings: Sequence[Standing], title: str) -> Table:
    table = Table(title=title)
    for column in ("#", "placer", "proxy cost", "±", "best", "HPWL", "best HPWL", "complete",
                   "s/run"):
        table.add_column(column, justify="left" if column == "placer" else "right")
    for rank, s in enumerate(standings, start=1):
        table.add_row(str(rank), s.placer, f"{s.proxy_cost:.4f}", f"{s.proxy_std:.4f}",
                      f"{s.best_proxy:.4f}", f"{s.hpwl:.5g}", f"{s.best_hpwl:.5g}",
                      f"{s.complete}/{s.runs}", f"{s.seconds:.2f}")
    return table


def run_leaderboard(config: ArenaConfig, specs: list[PlayerSpec], console: Console) -> int:
    """`rlsuite arena --game chip`: place, store, and print the leaderboard of this netlist."""
    for spec in specs:
        if spec.kind not in PLACER_KINDS:
            raise ValueError(f"{spec.text!r} is not a placer; placers are "
                             f"{', '.join(PLACER_KINDS)}")
        check_available(spec)
    game = chip_game(config.netlist, config.grid)
    name = str(config.netlist.resolve()) if config.netlist else game.netlist.name
    grid = [game.model.cols, game.model.rows]
    config.league.mkdir(parents=True, exist_ok=True)
    path = config.league / CHIP_RECORDS
    if config.games > 0:
        append_runs(path, run_placements(game, name, specs, config.games, config.seed))
    runs = read_runs(path, name, grid)
    if not runs:
        console.print(f"no placements stored in {path} for {name}")
        return 0
    title = f"{game.netlist.name} on a {grid[0]}x{grid[1]} grid: {len(runs)} placements"
    console.print(leaderboard_table(leaderboard(runs), title))
    console.print(f"records: {path}")
    return 0
