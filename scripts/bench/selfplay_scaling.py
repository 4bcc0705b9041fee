"""AlphaZero self-play positions per second over worker counts, spawned local processes
against Ray actors; the last line printed is one JSON object.

Each worker plays `--games-per-worker` games per round (weak scaling: every worker's search
batch is the same size whatever the count), on 5x5 with the trainer's default network (3
blocks x 32 channels) and 32 Gumbel simulations. Each configuration starts its pool, plays a
warm-up round (process start, imports, TorchScript), then `--rounds` timed rounds, publishing
new weights before each one as training does.

- `ray_overhead_1_worker`: Ray / local positions per second with one worker (target >= 0.9);
- `efficiency_2_workers`: Ray positions per second with 2 workers / (2 x with 1) (target
  >= 0.8; needs 2 idle cores); `efficiency_local_2_workers` the same for local processes;
- `positions_per_s`: every measured figure, `{backend: {workers: rate}}`.

Usage: `rlsuite bench selfplay_scaling [--workers 1 2 4 8] [--ray-address ADDR]`. Needs
`pip install "rlsuite[ray]"`; without Ray only the local figures are measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from rlsuite.agents.alphazero.distributed import DistributedSelfPlay
from rlsuite.agents.alphazero.model import ModelInfo
from rlsuite.agents.alphazero.network import NetConfig, PolicyValueNet
from rlsuite.agents.alphazero.search import SearchConfig
from rlsuite.agents.alphazero.selfplay import SelfPlayConfig
from rlsuite.envs.go import GoGame


def model_info(board_size: int) -> ModelInfo:
    game = GoGame(board_size, 24.5 if board_size == 5 else 7.5, history=4)
    return ModelInfo(
        net=NetConfig(in_channels=game.observation_shape[0], board_size=board_size,
                      num_actions=game.num_actions, blocks=3, channels=32),
        board_size=board_size, komi=game.komi, rules=game.rules, superko="positional",
        history=4, score_weight=0.3)


def measure(backend: str, workers: int, args: argparse.Namespace) -> float:
    """Self-play positions per second of one pool, after a warm-up round."""
    info = model_info(args.board_size)
    games = args.games_per_worker * workers
    config = SelfPlayConfig(parallel_games=args.games_per_worker, score_weight=0.3,
                            search=SearchConfig(simulations=args.simulations))
    rng = np.random.default_rng(0)
    net = PolicyValueNet(info.net).eval()
    selfplay = DistributedSelfPlay(info, config, games, backend=backend,  # type: ignore[arg-type]
                                   workers=workers, ray_address=args.ray_address,
                                   processes=True)
    try:
        selfplay.play(net, games, rng)
        moves, seconds = 0.0, 0.0
        for _ in range(args.rounds):
            tic = time.perf_counter()
            moves += selfplay.play(net, games, rng).stats["moves"]
            seconds += time.perf_counter() - tic
    finally:
        selfplay.close()
    return moves / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    # bfloat16 search made a 32-game round of 5x5 take a few seconds, which startup jitter
    # swamped (a run at 32 x 2 gave Ray/local 0.63: 1-worker rates 268 vs 423): time more
    parser.add_argument("--games-per-worker", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--simulations", type=int, default=32)
    parser.add_argument("--board-size", type=int, default=5)
    parser.add_argument("--ray-address", default="", help="a running cluster (default: local)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    backends = ["local"] + (["ray"] if importlib.util.find_spec("ray") else [])
    rates: dict[str, dict[int, float]] = {b: {} for b in backends}
    for backend in backends:
        if backend == "ray":  # one cluster for every Ray figure, started after the local ones
            import ray

            ray.init(address=args.ray_address or "local", include_dashboard=False)
        for workers in args.workers:
            rates[backend][workers] = measure(backend, workers, args)
            print(f"{backend:5s} {workers:3d} workers: {rates[backend][workers]:9.1f} positions/s",
                  flush=True)

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or b is None else round(a / b, 3)

    local, ray_rates = rates["local"], rates.get("ray", {})
    print(json.dumps({
        "ray_overhead_1_worker": ratio(ray_rates.get(1), local.get(1)),
        "efficiency_2_workers": ratio(ray_rates.get(2), 2 * ray_rates[1] if 1 in ray_rates
                                      else None),
        "efficiency_local_2_workers": ratio(local.get(2), 2 * local[1] if 1 in local else None),
        "positions_per_s": {b: {str(w): round(r, 1) for w, r in v.items()}
                            for b, v in rates.items()},
        "cpus": os.cpu_count(),
        "games_per_worker": args.games_per_worker, "simulations": args.simulations,
        "board_size": args.board_size,
    }))


if __name__ == "__main__":
    main()
