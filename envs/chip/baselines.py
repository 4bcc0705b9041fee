"""Baseline placers (random legal, greedy wire-mask, simulated annealing) and the one evaluator
every placement goes through, whoever produced it (baseline, RL agent or file)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from rlsuite.envs.chip.anneal import anneal
from rlsuite.envs.chip.netlist import Netlist
from rlsuite.envs.chip.placement import PlacementModel

BASELINES = ("random", "greedy", "sa")


def evaluate_placement(
    netlist: Netlist,
    centers: np.ndarray | None = None,
    grid: tuple[int, int] | None = None,
    congestion_weight: float = 0.5,
    density_weight: float = 1.0,
) -> dict[str, float]:
    """All metrics of one placement: `centers` as in `Netlist.full_centers` (None = file).

    Keys: hpwl, macro_hpwl, wirelength_cost, congestion, density, overlap, proxy_cost.
    Congestion and density use `grid` (default: the netlist's default grid).
    """
    c = netlist.full_centers(centers)
    grid = grid or netlist.default_grid()
    wl = netlist.wirelength_cost(c)
    cong = netlist.congestion(c, grid)
    dens = netlist.density(c, grid)
    return {
        "hpwl": netlist.hpwl(c),
        "macro_hpwl": netlist.macro_hpwl(c),
        "wirelength_cost": wl,
        "congestion": cong,
        "density": dens,
        "overlap": netlist.overlap_area(c),
        "proxy_cost": wl + congestion_weight * cong + density_weight * dens,
    }


@dataclass
class PlacementResult:
    """One baseline run: the cells it chose, whether it placed every macro, and its cost."""

    method: str
    cells: np.ndarray
    """int64[K] grid cell per macro in the model's placement order (-1 where unplaced)."""
    complete: bool
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)
    info: dict[str, float] = field(default_factory=dict)


def _rollout(model: PlacementModel, choose) -> tuple[np.ndarray, bool]:
    state = model.initial_state()
    while not model.is_complete(state):
        if not model.position_mask(state).any():
            return state.cells, False
        state, _ = model.place(state, choose(state))
    return state.cells, True


def random_placement(
    model: PlacementModel, rng: np.random.Generator, tries: int = 20
) -> tuple[np.ndarray, bool]:
    """Place each macro on a uniformly random legal cell; restart on a dead end (`tries` times)."""

    def choose(state) -> int:
        return int(rng.choice(np.flatnonzero(model.position_mask(state).ravel())))

    cells, ok = _rollout(model, choose)
    for _ in range(tries - 1):
        if ok:
            break
        cells, ok = _rollout(model, choose)
    return cells, ok


def greedy_placement(
    model: PlacementModel, rng: np.random.Generator | None = None
) -> tuple[np.ndarray, bool]:
    """Wire-mask greedy decoding: each macro on the legal cell adding the least HPWL."""
    return _rollout(model, lambda state: model.greedy_cell(state, rng))


def run_baseline(
    method: str,
    model: PlacementModel,
    seed: int = 0,
    sa_moves: int = 20_000,
    evaluate: bool = True,
) -> PlacementResult:
    """Run one of BASELINES and score it with `evaluate_placement`.

    "sa" anneals the greedy placement (or a random legal one when greedy dead-ends).
    """
    if method not in BASELINES:
        raise ValueError(f"unknown baseline {method!r}; expected one of {BASELINES}")
    rng = np.random.default_rng(seed)
    info: dict[str, float] = {}
    start = time.perf_counter()
    if method == "random":
        cells, ok = random_placement(model, rng)
    elif method == "greedy":
        cells, ok = greedy_placement(model)
    else:
        cells, ok = greedy_placement(model)
        if not ok:
            cells, ok = random_placement(model, rng)
        if ok:
            t = time.perf_counter()
            result = anneal(model, cells, moves=sa_moves, seed=seed)
            sa_s = time.perf_counter() - t
            cells = result.cells
            info = {"moves": result.moves, "accepted": result.accepted,
                    "moves_per_s": result.moves / max(sa_s, 1e-9)}
    seconds = time.perf_counter() - start
    metrics = {}
    if evaluate and ok:
        metrics = evaluate_placement(model.netlist, model.cells_to_centers(cells),
                                     (model.cols, model.rows))
    return PlacementResult(method, cells, ok, seconds, metrics, info)
