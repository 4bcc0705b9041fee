"""Chip placement benchmark: baselines on every shipped netlist plus speed figures.

Prints a rich table per netlist (random, greedy, SA: macro HPWL, full HPWL, congestion,
density, proxy cost, wall time), then masks per second, a full greedy episode on a synthetic
500-macro netlist, SA moves per second and the load time of a 200k-node Bookshelf netlist
written to disk, writes PNGs of placements rendered by the env, and ends with one JSON line.

    .venv/bin/python scripts/bench/chip.py [--out runs/bench/chip] [--sa-moves 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from rich.console import Console
from rich.table import Table

from rlsuite.envs.chip import (
    BASELINES,
    PlacementModel,
    anneal,
    data_dir,
    greedy_placement,
    load_netlist,
    run_baseline,
    synthetic_netlist,
    write_bookshelf,
)
from rlsuite.envs.chip.env import ChipPlacementEnv

TARGETS = {"greedy_episode_s_500_macros": 1.0, "sa_moves_per_s": 10_000.0}


def shipped_netlists() -> list[Path]:
    root = data_dir()
    if not root.exists():
        return []
    return sorted(root.glob("*/*.aux")) + sorted(root.glob("ct/*/netlist.pb.txt"))


def best_of(fn, repeats: int = 3) -> float:
    """Smallest wall time of `repeats` calls (the machine is shared: the minimum is the signal)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def baseline_table(console: Console, name: str, model: PlacementModel, sa_moves: int) -> dict:
    table = Table(title=f"{name}  ({model.num_macros} macros, grid {model.cols}x{model.rows})")
    for col in ("method", "macro HPWL", "HPWL", "congestion", "density", "proxy", "wall s"):
        table.add_column(col, justify="right")
    results = {}
    for method in BASELINES:
        r = run_baseline(method, model, seed=0, sa_moves=sa_moves)
        m = r.metrics
        if not r.complete:
            table.add_row(method, *["dead end"] * 5, f"{r.seconds:.3f}")
            results[method] = {"complete": False, "seconds": r.seconds}
            continue
        table.add_row(method, f"{m['macro_hpwl']:.5g}", f"{m['hpwl']:.5g}",
                      f"{m['congestion']:.4f}", f"{m['density']:.4f}", f"{m['proxy_cost']:.4f}",
                      f"{r.seconds:.3f}")
        results[method] = {k: m[k] for k in ("macro_hpwl", "hpwl", "congestion", "density",
                                              "proxy_cost")} | {"seconds": r.seconds}
    console.print(table)
    return results


def masks_per_second(model: PlacementModel) -> float:
    """Position + wire masks computed from scratch along a greedy episode, per second."""
    states = []
    state = model.initial_state()
    while not model.is_complete(state) and model.position_mask(state).any():
        states.append(state)
        state, _ = model.place(state, model.greedy_cell(state))
    t = time.perf_counter()
    for s in states:
        s._masks.clear()
        model.position_mask(s)
        model.wire_mask(s)
    return len(states) / (time.perf_counter() - t)


def save_env_png(netlist, path: Path, show_congestion: bool) -> None:
    """Play the greedy policy in the env and save its rgb_array rendering."""
    import pygame

    env = ChipPlacementEnv(netlist=netlist, render_mode="rgb_array", render_size=720,
                           show_congestion=show_congestion)
    env.reset(seed=0)
    done = False
    while not done:
        _, _, term, trunc, _ = env.step(env.game.greedy_action(env.state))
        done = term or trunc
    frame = env.render()
    pygame.image.save(pygame.surfarray.make_surface(frame.transpose(1, 0, 2)), str(path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/bench/chip"))
    parser.add_argument("--sa-moves", type=int, default=20_000)
    parser.add_argument("--big-nodes", type=int, default=200_000,
                        help="node count of the synthetic netlist whose loading is timed")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    console = Console()

    results: dict[str, dict] = {}
    for path in shipped_netlists():
        nl = load_netlist(path)
        results[nl.name] = baseline_table(console, nl.name, PlacementModel(nl), args.sa_moves)

    big = synthetic_netlist(500, 4500, 6000, seed=0)
    model = PlacementModel(big)
    results[big.name] = baseline_table(console, big.name, model, args.sa_moves)
    greedy_s = best_of(lambda: greedy_placement(model))
    mps = masks_per_second(model)
    start, _ = greedy_placement(model)
    sa_moves = 200_000
    sa_s = best_of(lambda: anneal(model, start, moves=sa_moves, seed=0))

    with tempfile.TemporaryDirectory() as tmp:
        cells = args.big_nodes - 500 - 250
        huge = synthetic_netlist(500, cells, args.big_nodes, seed=1)
        aux = write_bookshelf(huge, tmp)
        load_s = best_of(lambda: load_netlist(aux), repeats=2)
        loaded = load_netlist(aux)
        t = time.perf_counter()
        loaded.hpwl()
        loaded.congestion()
        loaded.density()
        metrics_s = time.perf_counter() - t

    pngs = [args.out / "synthetic_500_greedy.png"]
    save_env_png(big, pngs[0], show_congestion=False)
    apte = data_dir() / "mcnc_apte" / "apte.aux"
    if apte.exists():
        pngs.append(args.out / "apte_greedy_congestion.png")
        save_env_png(apte, pngs[-1], show_congestion=True)

    speed = Table(title="speed (best of repeats, this machine)")
    speed.add_column("figure")
    speed.add_column("value", justify="right")
    speed.add_column("target", justify="right")
    speed.add_row("greedy episode, 500 macros (s)", f"{greedy_s:.3f}", "< 1")
    speed.add_row("SA moves / s (500 macros)", f"{sa_moves / sa_s:,.0f}", ">= 10,000")
    speed.add_row("position + wire masks / s (500 macros)", f"{mps:,.0f}", "")
    speed.add_row(f"load {huge.num_nodes:,}-node Bookshelf (s)", f"{load_s:.2f}", "seconds")
    speed.add_row(f"HPWL + congestion + density, {huge.num_nets:,} nets (s)", f"{metrics_s:.2f}",
                  "")
    console.print(speed)
    console.print("PNG: " + ", ".join(str(p) for p in pngs))
    summary = {
        "greedy_episode_s_500_macros": round(greedy_s, 4),
        "sa_moves_per_s": round(sa_moves / sa_s),
        "masks_per_s": round(mps),
        "load_s_200k_nodes": round(load_s, 3),
        "metrics_s_200k_nodes": round(metrics_s, 3),
        "targets_met": {
            "greedy_episode_s_500_macros": greedy_s < TARGETS["greedy_episode_s_500_macros"],
            "sa_moves_per_s": sa_moves / sa_s >= TARGETS["sa_moves_per_s"],
        },
        "png": [str(p) for p in pngs],
        "netlists": results,
    }
    print(json.dumps(summary, default=float))


if __name__ == "__main__":
    main()
