"""AlphaZero search-guided macro placement against random, greedy wire-mask and simulated
annealing (SA) on MCNC apte and a 500-macro synthetic netlist (issue 12, "Chip").

For each netlist: train `ChipAlphaZero` for at most `--max-minutes` (the round that would cross
the limit is not started), place with search (`--place-episodes` searched episodes with the
trained network), and report the cheapest complete placement the search produced (training
episodes included: in a one-player game every searched episode is a candidate). SA anneals the
greedy placement for as many moves as fit the same wall time as training + placement. Prints a
rich table per netlist (wirelength cost, congestion, density, proxy cost, wall time) and ends
with one JSON line. apte is skipped when the sample data is absent.

    nice -n 15 .venv/bin/python scripts/bench/chip_search.py [--max-minutes 15] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
from rich.console import Console
from rich.table import Table

from rlsuite.agents.alphazero.placement import ChipAlphaZero, ChipAlphaZeroConfig
from rlsuite.envs.chip import (
    anneal,
    data_dir,
    evaluate_placement,
    run_baseline,
    synthetic_netlist,
    write_bookshelf,
)
from rlsuite.run import IterationReport, RunContext, run

PARTS = ("wirelength_cost", "congestion", "density", "proxy_cost")
PROBE_MOVES = 500_000

CASES: dict[str, dict[str, Any]] = {
    "apte": dict(blocks=2, channels=32, simulations=32, max_considered=16, parallel_games=64,
                 games_per_collect=64, greedy_temperature=0.05, value_scale=0.1,
                 replay_size=20_000, batch_size=128, replay_ratio=1.0),
    "synthetic500": dict(blocks=2, channels=16, simulations=4, max_considered=8,
                         parallel_games=32, games_per_collect=32, greedy_temperature=0.01,
                         value_scale=0.02, replay_size=32_000, batch_size=128,
                         replay_ratio=0.25),
}
"""Trainer settings per netlist: apte's 9 macros afford deep searches; the 500-macro
netlist needs cheap moves (4 simulations) and few gradient steps (a batch of 128 40 x 40
positions takes about 0.6 s to learn on one loaded core, 80 x 80 four times that) to play
some episodes within the budget."""


def netlist_paths(out: Path, grid: int) -> dict[str, dict[str, Any]]:
    """env_kwargs per case; the synthetic netlist is written as Bookshelf (configs are JSON)."""
    cases: dict[str, dict[str, Any]] = {}
    apte = data_dir() / "mcnc_apte" / "apte.aux"
    if apte.is_file():
        cases["apte"] = {"netlist": str(apte)}
    aux = write_bookshelf(synthetic_netlist(num_macros=500, seed=0), out / "netlists",
                          name="synthetic500")
    cases["synthetic500"] = {"netlist": str(aux), "grid": grid}
    return cases


def train_and_place(name: str, env_kwargs: dict[str, Any], minutes: float, out: Path,
                    episodes: int, seed: int) -> tuple[ChipAlphaZero, dict[str, float]]:
    """Train within the budget, then place with search; return the algorithm and timings."""
    config = ChipAlphaZeroConfig(env_kwargs=env_kwargs, run_root=str(out / "runs"),
                                 run_name=f"az-{name}", backends=("csv",), seed=seed,
                                 eval_episodes=0, total_steps=10**12,
                                 checkpoint_every=10**12, **CASES[name])
    algos: list[ChipAlphaZero] = []

    def factory(ctx: RunContext) -> ChipAlphaZero:
        algos.append(ChipAlphaZero(ctx))
        return algos[-1]

    start = time.monotonic()
    deadline = start + 60.0 * minutes
    last = [start]

    def stop_in_time(report: IterationReport) -> bool:
        now = time.monotonic()
        round_s, last[0] = now - last[0], now
        return now + round_s > deadline  # the next round would end past the budget

    run(factory, config, callback=stop_in_time)
    trained = time.monotonic()
    algo = algos[0]
    final = algo.play(episodes, config.simulations, np.random.default_rng(seed + 1),
                      keep_records=False)
    placed = time.monotonic()
    done = final.costs[np.isfinite(final.costs)]
    return algo, {"train_s": trained - start, "place_s": placed - trained,
                  "total_s": placed - start,
                  "final_round_best": float(done.min()) if done.size else float("inf"),
                  "episodes": float(final.costs.size)}


def anneal_for(model: Any, cells: np.ndarray, seconds: float, seed: int) -> tuple[np.ndarray,
                                                                                   float, int]:
    """SA from `cells` with as many moves as fit `seconds` (rate from a 500k-move probe; the
    probe's time counts in the SA's wall time)."""
    start = time.perf_counter()
    anneal(model, cells, moves=100, seed=seed)  # loads the compiled kernels
    probe = time.perf_counter()
    anneal(model, cells, moves=PROBE_MOVES, seed=seed)
    rate = PROBE_MOVES / max(time.perf_counter() - probe, 1e-9)
    moves = max(PROBE_MOVES, int(rate * max(seconds - (time.perf_counter() - start), 0.0)))
    result = anneal(model, cells, moves=moves, seed=seed)
    return result.cells, time.perf_counter() - start, moves


def bench_case(console: Console, name: str, env_kwargs: dict[str, Any], args: Any) -> dict:
    algo, timing = train_and_place(name, env_kwargs, args.max_minutes, args.out,
                                   args.place_episodes, args.seed)
    game = algo.game
    model = game.model
    grid = (model.cols, model.rows)
    rows: dict[str, dict[str, float]] = {}
    for method in ("random", "greedy"):
        r = run_baseline(method, model, seed=args.seed)
        rows[method] = {**r.metrics, "seconds": r.seconds}
    greedy = run_baseline("greedy", model).cells
    sa_cells, sa_s, sa_moves = anneal_for(model, greedy, timing["total_s"], args.seed)
    rows["sa (same wall time)"] = {
        **evaluate_placement(model.netlist, model.cells_to_centers(sa_cells), grid),
        "seconds": sa_s}
    rows["search"] = {**evaluate_placement(model.netlist,
                                           model.cells_to_centers(algo.best_cells), grid),
                      "seconds": timing["total_s"]}
    table = Table(title=f"{name}: {model.num_macros} macros, grid {model.cols}x{model.rows}; "
                        f"search trained {timing['train_s'] / 60:.1f} min, "
                        f"placed {timing['place_s']:.0f} s; SA {sa_moves:,} moves")
    for col in ("method", "wirelength", "congestion", "density", "proxy", "wall s"):
        table.add_column(col, justify="right")
    for method, m in rows.items():
        table.add_row(method, *(f"{m[k]:.4f}" for k in PARTS), f"{m['seconds']:.1f}")
    console.print(table)
    console.print(f"{name}: best of the final {int(timing['episodes'])} searched episodes "
                  f"{timing['final_round_best']:.4f}; run {algo.ctx.run_dir}")
    return {"proxy": {k: v["proxy_cost"] for k, v in rows.items()}, **timing,
            "sa_seconds": sa_s, "sa_moves": sa_moves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-minutes", type=float, default=15.0,
                        help="training budget per netlist (minutes)")
    parser.add_argument("--place-episodes", type=int, default=32,
                        help="searched episodes with the trained network")
    parser.add_argument("--grid", type=int, default=80,
                        help="synthetic netlist grid (square; above 40 the policy head is "
                             "convolutional)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES),
                        help="netlists to run (default: all)")
    parser.add_argument("--out", type=Path, default=Path("runs/bench/chip_search"))
    args = parser.parse_args()
    console = Console()
    results: dict[str, Any] = {}
    cases = netlist_paths(args.out, args.grid)
    if "apte" not in cases:
        console.print(f"MCNC apte not found under {data_dir()}: skipped")
    for name, kwargs in cases.items():
        if name in args.cases:
            results[name] = bench_case(console, name, kwargs, args)
    line: dict[str, Any] = {"max_minutes": args.max_minutes}
    for name in CASES:
        r = results.get(name)
        proxy = r["proxy"] if r else {}
        line[f"{name}_search_proxy"] = proxy.get("search")
        line[f"{name}_greedy_proxy"] = proxy.get("greedy")
        line[f"{name}_sa_proxy"] = proxy.get("sa (same wall time)")
        line[f"{name}_random_proxy"] = proxy.get("random")
        line[f"search_beats_greedy_{name}"] = (proxy["search"] < proxy["greedy"]) if r else None
        line[f"{name}_train_s"] = r["train_s"] if r else None
        line[f"{name}_search_total_s"] = r["total_s"] if r else None
        line[f"{name}_sa_s"] = r["sa_seconds"] if r else None
    print(json.dumps(line))


if __name__ == "__main__":
    main()
