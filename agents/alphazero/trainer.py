"""`rlsuite train alphazero`: self-play -> train -> evaluate inside the shared run layer.

`AlphaZeroAlgorithm` supplies `collect` (a round of self-play games into the replay buffer)
and `evaluate` (games against the previous best network and the greedy player, with an Elo
estimate); `learn` (gradient steps in proportion to the new positions) and the network's state
come from `PolicyValueLearner`;
`rlsuite.run` does the rest (run directory, TensorBoard, checkpoints, `--resume`,
`--max-minutes`, signals). Positions count as env steps. Each evaluation also writes a model
file of the current network under `RUN/snapshots/` (what `az:RUN/snapshots/step-N.safetensors`
plays), and the best network so far is kept in the checkpoint.

GnuGo is a front-end player (GTP lives in `rlsuite.gtp`, above the agents layer), so matches
against it run through the arena: `rlsuite arena --players az:RUN gnugo:10 ...`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rlsuite.agents.alphazero.distributed import (
    DistributedSelfPlay,
    evaluation_tasks,
    merge_wins,
    play_evaluation,
)
from rlsuite.agents.alphazero.learner import PolicyValueLearner
from rlsuite.agents.alphazero.model import ModelInfo, save_model
from rlsuite.agents.alphazero.network import (
    CachedEvaluator,
    InferenceDtype,
    NetConfig,
    PolicyValueNet,
)
from rlsuite.agents.alphazero.search import SearchConfig
from rlsuite.agents.alphazero.selfplay import SelfPlayConfig, SelfPlayWorker
from rlsuite.envs.go import GoGame
from rlsuite.envs.go.symmetry import NUM_SYMMETRIES, action_permutations, transform_planes
from rlsuite.replay import Fields, ReplayBuffer
from rlsuite.run import RunConfig, RunContext, RunState, run
from rlsuite.workers import PoolConfig

SIZE_PRESETS: dict[int, dict[str, Any]] = {
    5: {"komi": 24.5, "simulations": 32, "total_steps": 20_000_000},
    7: {"komi": 8.5, "simulations": 48, "channels": 48, "blocks": 4, "total_steps": 40_000_000},
    9: {"komi": 7.5, "simulations": 64, "channels": 64, "blocks": 6, "total_steps": 80_000_000},
}
"""Defaults per board size, applied before command-line flags (`--board-size 7`)."""


@dataclass(kw_only=True)
class AlphaZeroConfig(RunConfig, PoolConfig):
    """AlphaZero on Go (flags: `--board-size 5 --simulations 32 --max-minutes 60`; self-play
    workers: `--workers 4`, `--backend ray`, see `rlsuite.workers.PoolConfig`)."""

    env: str = "rlsuite/Go-v0"
    """only `rlsuite/Go-v0` for now"""
    board_size: int = 5
    komi: float = 24.5
    """komi to white; 24.5 on 5x5 means black wins only by taking the whole board"""
    superko: Literal["positional", "simple"] = "positional"
    history: int = 4
    """past boards per colour in the network input"""
    blocks: int = 3
    channels: int = 32
    simulations: int = 32
    """search simulations per self-play move"""
    search: Literal["gumbel", "puct"] = "gumbel"
    max_considered: int = 16
    """Gumbel: root actions considered by sequential halving"""
    parallel_games: int = 128
    """self-play games searched together (one network batch)"""
    search_threads: int = 1
    """threads the self-play games are split over (2 uses both cores of a 2-core machine in
    one process; results do not change)"""
    games_per_collect: int = 128
    """complete self-play games per collect round"""
    score_weight: float = 0.3
    """weight of the area margin in the value target and search utility (0: win/loss only)"""
    temperature_moves: int = 8
    """PUCT: moves sampled in proportion to visits at the start of each game"""
    resign_threshold: float | None = None
    """resign below this root value (None: never)"""
    resign_playout_share: float = 0.2
    """share of games played out to count false resignations"""
    full_search_share: float = 1.0
    """playout-cap randomisation: share of moves searched in full and recorded (1: off)"""
    fast_simulations: int = 8
    replay_size: int = 200_000
    """positions kept for training"""
    batch_size: int = 256
    replay_ratio: float = 4.0
    """samples drawn per new position (before the 8 symmetries)"""
    min_replay: int = 2_000
    """positions needed before the first gradient step"""
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    eval_simulations: int = 32
    """simulations per move in evaluation games"""
    inference_dtype: InferenceDtype = "auto"
    """network dtype in self-play and evaluation search: `auto` is bfloat16 on CPUs with AMX
    tiles (several times faster at these batch sizes), float32 elsewhere"""
    total_steps: int = 20_000_000
    log_every: int = 5_000
    eval_every: int = 100_000
    eval_episodes: int = 20
    """evaluation games against each opponent (half with each colour)"""
    checkpoint_every: int = 50_000
    keep_checkpoints: int = 3

    def validate(self) -> None:
        super().validate()
        if self.env != "rlsuite/Go-v0":
            raise ValueError(f"alphazero trains on rlsuite/Go-v0 only, got env {self.env!r}")
        for name in ("board_size", "history", "blocks", "channels", "simulations",
                     "parallel_games", "games_per_collect", "replay_size", "batch_size",
                     "min_replay", "eval_simulations", "max_considered", "fast_simulations",
                     "workers", "search_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0 <= self.score_weight < 1:
            raise ValueError(f"score_weight must be in [0, 1), got {self.score_weight}")
        if not 0 < self.full_search_share <= 1:
            raise ValueError(f"full_search_share must be in (0, 1], got {self.full_search_share}")


class BoardSymmetries:
    """Replay transform: one of the 8 board symmetries per sampled row, drawn from the
    sampler's generator, applied alike to the planes, the policy target and the mask."""

    def __init__(self, board_size: int) -> None:
        self.n = board_size
        self.perms = action_permutations(board_size)

    def __call__(self, fields: Fields, rng: np.random.Generator) -> Fields:
        ks = rng.integers(NUM_SYMMETRIES, size=fields["planes"].shape[0])
        planes, policy, mask = fields["planes"], fields["policy"], fields["mask"]
        for k in range(1, NUM_SYMMETRIES):
            rows = np.flatnonzero(ks == k)
            if rows.size == 0:
                continue
            planes[rows] = transform_planes(planes[rows], k)
            moved_policy = np.empty_like(policy[rows])
            moved_policy[:, self.perms[k]] = policy[rows]
            policy[rows] = moved_policy
            moved_mask = np.empty_like(mask[rows])
            moved_mask[:, self.perms[k]] = mask[rows]
            mask[rows] = moved_mask
        return fields


class AlphaZeroAlgorithm(PolicyValueLearner):
    """Self-play, learning and evaluation for `rlsuite.run` (see the module docstring)."""

    def __init__(self, ctx: RunContext) -> None:
        c: AlphaZeroConfig = ctx.config  # type: ignore[assignment]
        self.config = c
        self.game = GoGame(c.board_size, c.komi, superko=c.superko, history=c.history)
        planes = self.game.observation_shape
        info = ModelInfo(
            net=NetConfig(in_channels=planes[0], board_size=c.board_size,
                          num_actions=self.game.num_actions, blocks=c.blocks,
                          channels=c.channels),
            board_size=c.board_size, komi=c.komi, rules=self.game.rules, superko=c.superko,
            history=c.history, score_weight=c.score_weight,
        )
        actions = self.game.num_actions
        super().__init__(ctx, info, ReplayBuffer(
            {"planes": (planes, np.uint8), "policy": ((actions,), np.float32),
             "mask": ((actions,), np.bool_), "value": ((), np.float32)},
            c.replay_size, transform=BoardSymmetries(c.board_size),
        ))
        search = SearchConfig(simulations=c.simulations, algorithm=c.search,
                              max_considered=c.max_considered)
        self.worker = SelfPlayWorker(self.game, self.inference(self.net), SelfPlayConfig(
            parallel_games=c.parallel_games, search=search, temperature_moves=c.temperature_moves,
            score_weight=c.score_weight, resign_threshold=c.resign_threshold,
            resign_playout_share=c.resign_playout_share, full_search_share=c.full_search_share,
            fast_simulations=c.fast_simulations, inference_dtype=c.inference_dtype,
            search_threads=c.search_threads), ctx.rng)
        self.pool = DistributedSelfPlay(
            self.info, self.worker.config, c.games_per_collect, backend=c.backend,
            workers=c.workers, cpus_per_worker=c.cpus_per_worker, ray_address=c.ray_address,
        ) if c.pooled else None
        self.best = PolicyValueNet(self.info.net)
        self.best.load_state_dict(self.net.state_dict())
        self.best_elo = 0.0
        self.elo = 0.0

    # ----- collect ----------------------------------------------------------------

    def collect(self, state: RunState) -> Mapping[str, float]:
        self.net.eval()
        tic = time.perf_counter()
        if self.pool is None:
            evaluator = CachedEvaluator(self.inference(self.net))
            self.worker.set_evaluator(evaluator)
            records, stats = self.worker.play(self.config.games_per_collect)
            finished, hits, lookups = self.worker.finished, evaluator.hits, evaluator.lookups
        else:
            played = self.pool.play(self.net, self.config.games_per_collect, self.ctx.rng)
            records, stats, finished = played.records, played.stats, played.finished
            hits, lookups = played.hits, played.lookups
            for event in played.died:
                self.ctx.logger.console.log(f"self-play worker {event.worker} died "
                                            f"({event.error}); restarted, its games replayed")
        seconds = max(time.perf_counter() - tic, 1e-9)
        self.add_positions(records)
        state.env_steps += int(stats["moves"])
        games = int(stats["games"])
        state.record_episodes(*finished)
        sims = stats["evaluations"]
        out = {
            "selfplay/games_per_s": games / seconds,
            "selfplay/positions_per_s": stats["moves"] / seconds,
            "selfplay/sims_per_s": sims / seconds,
            "selfplay/black_win_rate": stats["black_wins"] / games,
            "selfplay/game_length": stats["length_sum"] / games,
            "selfplay/replay_size": float(len(self.replay)),
            "selfplay/cache_hit_rate": hits / max(lookups, 1),
        }
        if stats["played_out"]:
            out["selfplay/resigned_share"] = stats["resigned"] / games
            out["selfplay/false_resign_rate"] = stats["false_resign"] / max(
                stats["would_resign"], 1)
        return out

    # ----- evaluation ---------------------------------------------------------------------

    def evaluate(self, state: RunState) -> Mapping[str, float]:
        c = self.config
        if c.eval_episodes < 1:
            return {}
        rng = np.random.default_rng(c.seed + 7919 * (state.env_steps + 1))
        self.net.eval()
        tasks = evaluation_tasks(c.eval_episodes, c.eval_simulations, c.score_weight, rng,
                                 c.workers if self.pool is not None else 1)
        if self.pool is None:
            current, best = self.inference(self.net), self.inference(self.best)
            wins = merge_wins(tasks, [play_evaluation(self.game, current, best, task)
                                      for task in tasks])
        else:
            played = self.pool.evaluate(self.net, self.best, tasks)
            wins = played.wins
            for event in played.died:
                games = len(tasks[event.task].seeds)
                self.ctx.logger.console.log(f"evaluation worker {event.worker} died "
                                            f"({event.error}); restarted, its {games} games "
                                            "replayed from the start")
        rate = float(wins["best"].mean())
        self.elo = self.best_elo + elo_gap(rate)
        if rate > 0.55:
            self.best.load_state_dict(self.net.state_dict())
            self.best_elo = self.elo
        snapshot = self.ctx.run_dir / "snapshots" / f"step-{state.env_steps:010d}.safetensors"
        save_model(snapshot, self.net, self.info)
        return {"eval/win_rate_vs_best": rate,
                "eval/win_rate_vs_greedy": float(wins["greedy"].mean()),
                "eval/elo": self.elo, "eval/best_elo": self.best_elo}

    # ----- state ----------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "best": dict(self.best.state_dict()),
                "elo": self.elo, "best_elo": self.best_elo}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.best.load_state_dict(state["best"])
        self.elo = float(state["elo"])
        self.best_elo = float(state["best_elo"])

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def elo_gap(win_rate: float, games_cap: float = 0.02) -> float:
    """Elo difference implied by a win rate (clipped away from 0 and 1)."""
    p = min(max(win_rate, games_cap), 1 - games_cap)
    return 400.0 * math.log10(p / (1 - p))


def train(config: AlphaZeroConfig) -> Path:
    """Train (or, with `config.resume`, continue) one run; return its run directory."""
    return run(AlphaZeroAlgorithm, config)
