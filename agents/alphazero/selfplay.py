"""Self-play: a worker plays many Go games at once against itself with batched search and
returns training records (planes, search policy, legal mask, value target).

`SelfPlayWorker` is a plain class with no global state (a Ray backend can wrap it as is): it
owns its games, its search trees and a seeded generator, and gets a new evaluator after each
training phase. `play(games)` plays that many complete games, so nothing is half-played
between calls and a checkpoint needs only the generator.

Value targets are the game's utility for the player to move at each position (see
`rlsuite.envs.go._search_kernels`: the result after komi, mixed with the area margin by
`score_weight`). Resignation (a player whose root value stays below the threshold resigns)
is skipped in a share of games that are played out, and those games count how often a
resignation would have been wrong. Playout-cap randomisation (Wu 2019, KataGo) searches most
moves with few simulations and records only the moves searched in full.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rlsuite.agents.alphazero.network import InferenceDtype
from rlsuite.agents.alphazero.search import BatchedSearch, Evaluator, SearchConfig
from rlsuite.envs.go import GoGame


@dataclass(frozen=True, kw_only=True)
class SelfPlayConfig:
    """How self-play games are played."""

    parallel_games: int = 128
    """Games played at once (one network batch holds a leaf of each)."""
    search: SearchConfig = field(default_factory=SearchConfig)
    temperature_moves: int = 8
    """PUCT: the first moves are sampled in proportion to visits, later ones are the most
    visited (Gumbel: the search's own sampled choice is played throughout)."""
    score_weight: float = 0.0
    """Weight of the area margin in utilities (0: win/loss only)."""
    resign_threshold: float | None = None
    """Resign when the mover's root value is below this (None: never resign)."""
    resign_playout_share: float = 0.2
    """Share of games that ignore resignation and count false resignations."""
    full_search_share: float = 1.0
    """Playout-cap randomisation: share of moves searched with all simulations (recorded);
    the others use `fast_simulations` and are not recorded. 1.0 turns it off."""
    fast_simulations: int = 8
    inference_dtype: InferenceDtype = "float32"
    """Network dtype of the copy a pool worker builds (`network.inference_dtype`)."""
    search_threads: int = 1
    """Threads the games are split over in search (`BatchedSearch(threads=)`): on a machine
    with idle cores one process uses them all, the results do not change."""


@dataclass
class _Lane:
    """One game slot: its records so far and its resignation bookkeeping."""

    planes: list[np.ndarray] = field(default_factory=list)
    policy: list[np.ndarray] = field(default_factory=list)
    mask: list[np.ndarray] = field(default_factory=list)
    player: list[int] = field(default_factory=list)
    may_resign: bool = True
    would_resign: int = -1  # the player (0 black, 1 white) who would first have resigned
    resigned: int = -1


def go_utilities(game: GoGame, batch: Any, score_weight: float) -> np.ndarray:
    """float64 [B]: black's utility of each finished game (result after komi, mixed with
    the area margin per point by `score_weight`)."""
    area = game.area_batch(batch)
    margin = (area[:, 0] - area[:, 1]).astype(np.float64)
    if game.rules == "capture":
        result = game.returns_batch(batch)[:, 0].astype(np.float64)
    else:
        result = np.sign(margin - game.komi)
    return (1 - score_weight) * result + score_weight * margin / (game.board_size**2)


class SelfPlayWorker:
    """Plays self-play games with batched search (see the module docstring)."""

    def __init__(self, game: GoGame, evaluator: Evaluator, config: SelfPlayConfig,
                 rng: np.random.Generator | int) -> None:
        self.game = game
        self.config = config
        self.rng = np.random.default_rng(rng)
        self.finished: tuple[list[float], list[int]] = ([], [])
        """(black's utility, length) of each game of the last `play`."""
        self.search = BatchedSearch(game, evaluator, config.search, config.parallel_games,
                                    score_weight=config.score_weight,
                                    threads=min(config.search_threads, config.parallel_games))

    def set_evaluator(self, evaluator: Evaluator) -> None:
        self.search.evaluator = evaluator

    def play(self, games: int) -> tuple[dict[str, np.ndarray], dict[str, float]]:
        """Play `games` complete games; return (records, statistics)."""
        cfg = self.config
        game = self.game
        lanes_n = cfg.parallel_games
        batch = game.initial_batch(lanes_n)
        fresh = game.initial_batch(1)
        lanes = [self._new_lane() for _ in range(lanes_n)]
        running = np.zeros(lanes_n, np.bool_)
        running[: min(games, lanes_n)] = True
        started = int(running.sum())
        self.search.reset()
        out: dict[str, list[np.ndarray]] = {"planes": [], "policy": [], "mask": [], "value": []}
        stats = {"games": 0, "moves": 0, "black_wins": 0, "resigned": 0, "played_out": 0,
                 "false_resign": 0, "would_resign": 0, "length_sum": 0}
        evals_before = self.search.evaluations
        self.finished = ([], [])
        while running.any():
            seeds = self.rng.integers(2**63, size=lanes_n)
            full = self.rng.random(lanes_n) < cfg.full_search_share
            sims = np.where(full, cfg.search.simulations,
                            min(cfg.fast_simulations, cfg.search.simulations))
            result = self.search.search(batch, seeds, active=running, simulations=sims)
            actions = self._choose(batch, result, running)
            record = running & full
            if record.any():
                planes = game.encode_batch(batch)
                masks = self.search.tree.legal[:, 0]
                to_play = game.to_play_batch(batch)
                for b in np.flatnonzero(record):
                    lane = lanes[b]
                    lane.planes.append(planes[b])
                    lane.policy.append(result.policy[b])
                    lane.mask.append(masks[b].copy())
                    lane.player.append(int(to_play[b]))
            self._resignations(batch, result, running, lanes, actions)
            game.next_states(batch, actions, inplace=True)
            stats["moves"] += int(running.sum())
            self.search.advance(actions)
            done = running & (game.is_terminal_batch(batch) | (actions < 0))
            if not done.any():
                continue
            utilities = go_utilities(game, batch, cfg.score_weight)
            moves = batch.move_count
            for b in np.flatnonzero(done):
                lane = lanes[b]
                black = float(utilities[b])
                if lane.resigned >= 0:
                    black = -1.0 if lane.resigned == 0 else 1.0
                    stats["resigned"] += 1
                self._finish(lane, black, out, stats)
                stats["length_sum"] += int(moves[b])
                self.finished[0].append(black)
                self.finished[1].append(int(moves[b]))
                if started < games:
                    batch.put([b], fresh)
                    lanes[b] = self._new_lane()
                    started += 1
                else:
                    running[b] = False
            self.search.reset(np.flatnonzero(done))
        records = {k: np.concatenate(v) for k, v in out.items() if v}
        stats["evaluations"] = self.search.evaluations - evals_before
        return records, {k: float(v) for k, v in stats.items()}

    def _new_lane(self) -> _Lane:
        cfg = self.config
        may_resign = cfg.resign_threshold is not None and (
            self.rng.random() >= cfg.resign_playout_share)
        return _Lane(may_resign=may_resign)

    def _choose(self, batch: Any, result: Any, running: np.ndarray) -> np.ndarray:
        cfg = self.config
        actions = np.where(running, result.action, -1)
        if cfg.search.algorithm == "puct":
            early = running & (batch.move_count < cfg.temperature_moves)
            for b in np.flatnonzero(early):
                visits = result.visits[b].astype(np.float64)
                actions[b] = int(self.rng.choice(visits.size, p=visits / visits.sum()))
        return actions

    def _resignations(self, batch: Any, result: Any, running: np.ndarray, lanes: list[_Lane],
                      actions: np.ndarray) -> None:
        """Resign for movers whose root value is below the threshold; in played-out games only
        note who would have resigned first."""
        threshold = self.config.resign_threshold
        if threshold is None:
            return
        to_play = batch.to_play
        for b in np.flatnonzero(running & (result.value < threshold)):
            lane = lanes[b]
            mover = int(to_play[b])
            if lane.may_resign:
                lane.resigned = mover
                actions[b] = -1
            elif lane.would_resign < 0:
                lane.would_resign = mover

    def _finish(self, lane: _Lane, black: float, out: dict[str, list[np.ndarray]],
                stats: dict[str, int]) -> None:
        stats["games"] += 1
        stats["black_wins"] += int(black > 0)
        if self.config.resign_threshold is not None and not lane.may_resign:
            stats["played_out"] += 1
            if lane.would_resign >= 0:
                stats["would_resign"] += 1
                loser_won = (black > 0) == (lane.would_resign == 0)
                stats["false_resign"] += int(loser_won)
        if not lane.planes:
            return
        players = np.asarray(lane.player)
        out["planes"].append(np.stack(lane.planes))
        out["policy"].append(np.stack(lane.policy))
        out["mask"].append(np.stack(lane.mask))
        out["value"].append(np.where(players == 0, black, -black).astype(np.float32))
