"""Self-play and evaluation games on a `rlsuite.workers.WorkerPool`: `--workers N` processes
or `--backend ray`.

`PoolSelfPlayWorker` is the pool's plain worker class: it builds its own game and networks
from picklable arguments, takes weights as numpy arrays (`set_weights`, once per version:
`{"net": ...}` for self-play, `{"net": ..., "best": ...}` for evaluation) and runs two kinds
of task. A self-play task `(games, seed)` runs a `SelfPlayWorker` reseeded per task, so its
games depend only on its seed and weights, never on which worker ran it or how often one
died. An `EvalTask` plays evaluation games (`play_evaluation`).
`DistributedSelfPlay` splits a collect round into one task per worker, seeds the tasks from
the run's generator (checkpointed, so a run resumes on either backend) and merges the results
in task order; `evaluate` does the same for the evaluation games.

Evaluation games are seeded one by one (`evaluation_tasks`): game g of a match has its own
seed and its colour from g's parity (the current network is black in the even games), so a
game's moves depend on its seed and the weights alone, and the games can be split over any
number of workers with colours balanced in every share. The driver plays the same tasks in
process when the run is not pooled (`play_evaluation` on one task per opponent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch

from rlsuite.agents.alphazero.model import ModelInfo
from rlsuite.agents.alphazero.network import (
    CachedEvaluator,
    InferenceNet,
    PolicyValueNet,
    inference_dtype,
)
from rlsuite.agents.alphazero.player import play_config
from rlsuite.agents.alphazero.search import BatchedSearch, Evaluator
from rlsuite.agents.alphazero.selfplay import SelfPlayConfig, SelfPlayWorker, go_utilities
from rlsuite.envs.go import GoGame
from rlsuite.workers import Backend, WorkerDied, WorkerPool

Opponent = Literal["best", "greedy"]
OPPONENTS: tuple[Opponent, ...] = ("best", "greedy")


@dataclass(frozen=True)
class EvalTask:
    """Games `first .. first + len(seeds) - 1` of a match of the current network against
    `opponent` (the previous best network, or the greedy player)."""

    opponent: Opponent
    first: int
    seeds: tuple[int, ...]
    """one per game: its search noise and the greedy player's tie-breaks"""
    simulations: int
    score_weight: float

    @property
    def net_black(self) -> np.ndarray:
        """bool [games]: the current network plays black in the even-numbered games."""
        return (self.first + np.arange(len(self.seeds))) % 2 == 0


def evaluation_tasks(games: int, simulations: int, score_weight: float,
                     rng: np.random.Generator, parts: int = 1) -> list[EvalTask]:
    """`games` games against each opponent, each match split into `parts` shares (fewer
    when there are fewer games); the seeds do not depend on `parts`."""
    tasks = []
    for opponent in OPPONENTS:
        seeds = rng.integers(2**63, size=games)
        bounds = np.linspace(0, games, min(parts, games) + 1).round().astype(int)
        tasks += [EvalTask(opponent, int(a), tuple(int(s) for s in seeds[a:b]), simulations,
                           score_weight) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return tasks


def play_evaluation(game: GoGame, net: Evaluator, best: Evaluator, task: EvalTask) -> np.ndarray:
    """Play `task`'s games, all at once (each side's search batched over the games it is to
    move in); return bool [games], whether the current network `net` won each. Against
    `best` both search with Gumbel noise (or every game would repeat); against greedy the
    network searches with PUCT and no noise."""
    n = len(task.seeds)
    rngs = [np.random.default_rng(seed) for seed in task.seeds]
    config = play_config(task.simulations)
    if task.opponent == "best":
        config = dataclasses.replace(config, algorithm="gumbel")
    sides = [BatchedSearch(game, e, config, n, score_weight=task.score_weight)
             for e in ((net, best) if task.opponent == "best" else (net,))]
    net_black = task.net_black
    batch = game.initial_batch(n)
    while not (done := game.is_terminal_batch(batch)).all():
        net_turn = ~done & ((batch.to_play == 0) == net_black)
        actions = np.full(n, -1, np.int64)
        for side, turn in enumerate((net_turn, ~done & ~net_turn)):
            movers = np.flatnonzero(turn)
            if movers.size == 0:
                continue
            if side < len(sides):
                seeds = np.zeros(n, np.int64)
                seeds[movers] = [rngs[g].integers(2**63) for g in movers]
                actions[movers] = sides[side].search(batch, seeds, active=turn).action[movers]
            else:
                actions[movers] = [game.greedy_action(batch.state(g), rngs[g]) for g in movers]
        game.next_states(batch, actions, inplace=True)
    black = go_utilities(game, batch, 0.0)
    return np.where(net_black, black, -black) > 0


def merge_wins(tasks: Sequence[EvalTask], wins: Sequence[np.ndarray]) -> dict[str, np.ndarray]:
    """Each opponent's per-game wins in game order, from the tasks' results."""
    merged: dict[str, np.ndarray] = {}
    for opponent in OPPONENTS:
        parts = sorted(((t.first, w) for t, w in zip(tasks, wins, strict=True)
                        if t.opponent == opponent), key=lambda part: part[0])
        merged[opponent] = np.concatenate([w for _, w in parts]) if parts else np.zeros(0, bool)
    return merged


class PoolSelfPlayWorker:
    """One self-play and evaluation worker of a pool (see the module docstring)."""

    def __init__(self, info: dict[str, Any], config: SelfPlayConfig) -> None:
        model = ModelInfo.from_json(info, "self-play worker")
        self.game = GoGame(model.board_size, model.komi,  # type: ignore[arg-type]
                           superko=model.superko, history=model.history)
        self.net = PolicyValueNet(model.net).eval()
        self.best_net = PolicyValueNet(model.net).eval()
        self.dtype = inference_dtype(config.inference_dtype)
        self.current = InferenceNet(self.net, dtype=self.dtype)
        self.best: InferenceNet | None = None
        self.evaluator = CachedEvaluator(self.current)
        self.worker = SelfPlayWorker(self.game, self.evaluator, config, 0)

    def set_weights(self, weights: dict[str, dict[str, np.ndarray]], version: int) -> None:
        self.net.load_state_dict({k: torch.tensor(v) for k, v in weights["net"].items()})
        self.current = InferenceNet(self.net, dtype=self.dtype)
        self.evaluator = CachedEvaluator(self.current)
        self.worker.set_evaluator(self.evaluator)
        if "best" in weights:
            self.best_net.load_state_dict({k: torch.tensor(v)
                                           for k, v in weights["best"].items()})
            self.best = InferenceNet(self.best_net, dtype=self.dtype)

    def run(self, task: tuple[int, int] | EvalTask) -> dict[str, Any] | np.ndarray:
        if isinstance(task, EvalTask):
            if self.best is None:
                raise RuntimeError("an evaluation task needs weights with a 'best' network")
            return play_evaluation(self.game, self.current, self.best, task)
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


@dataclass
class Evaluation:
    """An evaluation's merged results."""

    wins: dict[str, np.ndarray]
    """per opponent (`best`, `greedy`): bool [games], the current network's wins in game order"""
    died: list[WorkerDied] = field(default_factory=list)
    """deaths on the way: each one's task was replayed whole on a fresh worker"""


def _numpy(net: torch.nn.Module) -> dict[str, np.ndarray]:
    return {k: v.detach().cpu().numpy().copy() for k, v in net.state_dict().items()}


class DistributedSelfPlay:
    """Self-play rounds and evaluation games on a pool of `PoolSelfPlayWorker`s (see the
    module docstring)."""

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
        self.pool.publish({"net": _numpy(net)})
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

    def evaluate(self, net: torch.nn.Module, best: torch.nn.Module,
                 tasks: Sequence[EvalTask]) -> Evaluation:
        """Publish both networks' weights (one version), play `tasks` (`evaluation_tasks`
        with `parts=workers`) on the workers as they come free, merge the wins."""
        self.pool.publish({"net": _numpy(net), "best": _numpy(best)})
        results, died = self.pool.run(tasks)
        return Evaluation(merge_wins(tasks, [r.value for r in results]), died)

    def close(self) -> None:
        self.pool.close()
