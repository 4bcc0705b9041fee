"""Self-play on a `rlsuite.workers.WorkerPool`: `--workers N` processes or `--backend ray`.

`PoolSelfPlayWorker` is the pool's plain worker class: it builds its own game and network
from picklable arguments, takes weights as numpy arrays (`set_weights`, once per version),
and runs tasks `(games, seed)` with a `SelfPlayWorker`, reseeded per task so a task's games
depend only on its seed and weights, never on which worker ran it or how often one died.
`DistributedSelfPlay` splits a collect round into one task per worker, seeds the tasks from
the run's generator (checkpointed, so a run resumes on either backend) and merges the results
in task order.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from rlsuite.agents.alphazero.model import ModelInfo
from rlsuite.agents.alphazero.network import (
    CachedEvaluator,
    InferenceNet,
    PolicyValueNet,
    inference_dtype,
)
from rlsuite.agents.alphazero.selfplay import SelfPlayConfig, SelfPlayWorker
from rlsuite.envs.go import GoGame
from rlsuite.workers import Backend, WorkerDied, WorkerPool


class PoolSelfPlayWorker:
    """One self-play worker of a pool (see the module docstring)."""

    def __init__(self, info: dict[str, Any], config: SelfPlayConfig) -> None:
        model = ModelInfo.from_json(info, "self-play worker")
        game = GoGame(model.board_size, model.komi, superko=model.superko,  # type: ignore[arg-type]
                      history=model.history)
        self.net = PolicyValueNet(model.net).eval()
        self.dtype = inference_dtype(config.inference_dtype)
        self.evaluator = CachedEvaluator(InferenceNet(self.net, dtype=self.dtype))
        self.worker = SelfPlayWorker(game, self.evaluator, config, 0)

    def set_weights(self, weights: dict[str, np.ndarray], version: int) -> None:
        self.net.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
        self.evaluator = CachedEvaluator(InferenceNet(self.net, dtype=self.dtype))
        self.worker.set_evaluator(self.evaluator)

    def run(self, task: tuple[int, int]) -> dict[str, Any]:
        games, seed = task
        self.worker.rng = np.random.default_rng(seed)
        hits, lookups = self.evaluator.hits, self.evaluator.lookups
        records, stats = self.worker.play(games)
        return {"records": records, "stats": stats, "finished": self.worker.finished,
                "hits": self.evaluator.hits - hits, "lookups": self.evaluator.lookups - lookups}


@dataclass
class SelfPlayRound:
    """A collect round's merged results."""

    records: dict[str, np.ndarray]
    stats: dict[str, float]
    finished: tuple[list[float], list[int]]
    hits: int = 0
    lookups: int = 0
    versions: list[int] = field(default_factory=list)
    """weights version each task was played with"""
    died: list[WorkerDied] = field(default_factory=list)


class DistributedSelfPlay:
    """Self-play rounds on a pool of `PoolSelfPlayWorker`s (see the module docstring)."""

    def __init__(self, info: ModelInfo, config: SelfPlayConfig, games_per_round: int, *,
                 backend: Backend = "local", workers: int = 1, cpus_per_worker: float = 1.0,
                 ray_address: str = "", processes: bool | None = None) -> None:
        per_worker = -(-games_per_round // workers)
        lanes = min(config.parallel_games, per_worker)
        config = dataclasses.replace(config, parallel_games=lanes)
        self.workers = workers
        self.pool = WorkerPool(PoolSelfPlayWorker, {"info": info.to_json(), "config": config},
                               backend=backend, num_workers=workers,
                               cpus_per_worker=cpus_per_worker, ray_address=ray_address,
                               processes=processes)

    def play(self, net: torch.nn.Module, games: int, rng: np.random.Generator) -> SelfPlayRound:
        """Publish `net`'s weights, play `games` games split over the workers, merge."""
        self.pool.publish({k: v.detach().cpu().numpy().copy()
                           for k, v in net.state_dict().items()})
        shares = np.diff(np.linspace(0, games, min(self.workers, games) + 1).round().astype(int))
        seeds = rng.integers(2**63, size=shares.size)
        results, died = self.pool.run([(int(n), int(s)) for n, s in zip(shares, seeds,
                                                                        strict=True)])
        values = [r.value for r in results]
        keys = next((v["records"].keys() for v in values if v["records"]), ())
        records = {k: np.concatenate([v["records"][k] for v in values if v["records"]])
                   for k in keys}
        stats = {k: sum(v["stats"][k] for v in values) for k in values[0]["stats"]}
        finished = ([u for v in values for u in v["finished"][0]],
                    [n for v in values for n in v["finished"][1]])
        return SelfPlayRound(records, stats, finished, sum(v["hits"] for v in values),
                             sum(v["lookups"] for v in values), [r.version for r in results],
                             died)

    def close(self) -> None:
        self.pool.close()
