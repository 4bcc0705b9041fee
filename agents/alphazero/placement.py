"""AlphaZero on chip macro placement (AlphaChip's setting): one player, one netlist.

`rlsuite train alphazero --env rlsuite/ChipPlacement-v0 --env-kwargs netlist PATH grid 40`
trains a policy-value network by search on one netlist inside the shared run layer. It is the
Go trainer's loop with the one-player parts swapped in: `ChipAlphaZero` shares with it
`PolicyValueLearner` (the learning step, masked policy cross-entropy + value MSE on replay
samples, the network's and replay's checkpointing and the inference copy) and supplies its own
game, episodes, evaluation and state.

- Value: the episode's return, a proxy cost, scaled to the tanh range against the greedy
  wire-mask placement of the same netlist: ``clip((greedy - proxy) / (margin * greedy), -1,
  1)`` (0 = as good as greedy, +1 = `value_margin` better; a dead end is -1). Terminal nodes of
  the search get the same scale (`ScaledChipGame`), so network values and exact returns mix in
  one tree, which normalises Q by the min and max it has seen (MuZero).
- Warm start: the search prior multiplies the network's policy by the greedy wire-mask prior,
  softmax(-wire / temperature) over the legal cells, read from the wire plane of the very planes
  the network sees (`GreedyPriorEvaluator`). An untrained network therefore searches around the
  greedy placement from the first episode instead of around random cells.
- Why search can beat one-step greedy: greedy puts each macro where it adds the least HPWL
  given the macros placed so far; it ignores the macros still to come (whose nets pull the same
  way), congestion, density and ties (on a synthetic netlist many cells add no HPWL and greedy
  takes the lowest-numbered one, piling macros into a corner). Gumbel search compares a few
  near-greedy cells per move by the value of what follows, and with a short horizon (MCNC apte:
  9 macros) it reaches exact terminal costs. The placement reported is the cheapest complete
  one that searched episodes produced (`best_cells`), as in any one-player search: every
  episode is a candidate solution.
- Episodes are searched many at once (`parallel_games`), so each simulation step sends all
  their leaves to the network in one batch (`BatchedSearch` over `ChipGame`'s Python states).

The network is `PolicyValueNet` on a square grid. Its policy head is dense up to 40 x 40
(2 * grid^4 weights) and convolutional on finer grids (`--policy-head`), so the default 80 x 80
grid of a large netlist fits.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rlsuite.agents.alphazero.learner import PolicyValueLearner
from rlsuite.agents.alphazero.model import ModelInfo, check_same, load_model
from rlsuite.agents.alphazero.network import (
    InferenceDtype,
    NetConfig,
    PolicyValueNet,
)
from rlsuite.agents.alphazero.search import BatchedSearch, Evaluator, SearchConfig
from rlsuite.envs.chip.baselines import greedy_placement, random_placement
from rlsuite.envs.chip.game import ChipGame
from rlsuite.replay import Fields, ReplayBuffer
from rlsuite.run import RunConfig, RunContext, RunState, run

CHIP_ENV = "rlsuite/ChipPlacement-v0"
GAME_KWARGS = ("netlist", "grid", "order", "congestion_weight", "density_weight",
               "infeasible_cost")
"""The `--env-kwargs` this trainer understands (the `ChipGame` arguments)."""
RULES = "chip-placement"
"""`ModelInfo.rules` of placement networks (Go networks say `tromp-taylor`)."""
PLANE_LEVELS = 255
"""Replay stores planes as uint8 in steps of 1/255 and policies as float16 (a 40 x 40 grid:
13 KB a position instead of 39 KB)."""


@dataclass(kw_only=True)
class ChipAlphaZeroConfig(RunConfig):
    """AlphaZero on chip placement (flags: `--env rlsuite/ChipPlacement-v0 --env-kwargs netlist
    PATH grid 40 --simulations 16 --max-minutes 15`)."""

    env: str = CHIP_ENV
    """only `rlsuite/ChipPlacement-v0`"""
    blocks: int = 2
    channels: int = 32
    policy_head: Literal["auto", "dense", "conv"] = "auto"
    """`NetConfig.policy_head`; auto: dense up to a 40 x 40 grid (5M weights), convolutional
    above (a dense head on 80 x 80 would hold 82M)"""
    simulations: int = 16
    """search simulations per placed macro"""
    max_considered: int = 8
    """Gumbel: root cells considered by sequential halving"""
    parallel_games: int = 32
    """episodes searched together (one network batch per simulation step)"""
    games_per_collect: int = 32
    """complete episodes per collect round"""
    greedy_prior: float = 1.0
    """weight of the greedy wire-mask logits added to the network's (0: the network alone)"""
    greedy_temperature: float = 0.01
    """temperature of the wire-mask prior over wire costs scaled to [0, 1]"""
    value_margin: float = 0.1
    """proxy-cost improvement over greedy, as a fraction of greedy's cost, valued +1"""
    value_scale: float = 0.02
    """Gumbel: weight of completed Q against the prior logits (mctx's 0.1 lets the small
    value differences of a barely trained network, stretched to the full range by min-max
    normalisation, override the greedy prior)"""
    replay_size: int = 20_000
    """positions kept for training"""
    batch_size: int = 128
    replay_ratio: float = 1.0
    """samples drawn per new position"""
    min_replay: int = 256
    """positions needed before the first gradient step"""
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    eval_simulations: int = 16
    """simulations per macro in the evaluation episode (no root noise)"""
    inference_dtype: InferenceDtype = "auto"
    """network dtype in search (`auto`: bfloat16 on CPUs with AMX tiles)"""
    total_steps: int = 2_000_000
    log_every: int = 500
    eval_every: int = 10_000
    eval_episodes: int = 1
    """0 turns evaluation off; any other value runs one noiseless searched episode"""
    checkpoint_every: int = 20_000

    def validate(self) -> None:
        super().validate()
        if self.env != CHIP_ENV:
            raise ValueError(f"chip AlphaZero trains on {CHIP_ENV} only, got env {self.env!r}")
        unknown = sorted(set(self.env_kwargs) - set(GAME_KWARGS))
        if unknown:
            raise ValueError(f"env_kwargs {unknown} are not placement-game arguments; "
                             f"use any of {list(GAME_KWARGS)}")
        policy_head_for(1, self.policy_head)  # refuses an unknown head by name
        for name in ("blocks", "channels", "simulations", "max_considered", "parallel_games",
                     "games_per_collect", "replay_size", "batch_size", "min_replay",
                     "eval_simulations"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.greedy_prior < 0:
            raise ValueError(f"greedy_prior must be >= 0, got {self.greedy_prior}")
        for name in ("greedy_temperature", "value_margin", "value_scale", "replay_ratio"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


def reference_cost(game: ChipGame) -> float:
    """Proxy cost of the greedy wire-mask placement (a random legal one if greedy dead-ends):
    the zero of the value scale."""
    cells, ok = greedy_placement(game.model)
    if not ok:
        cells, ok = random_placement(game.model, np.random.default_rng(0))
    if not ok:
        raise ValueError(f"netlist {game.netlist.name!r}: neither greedy nor random placement "
                         "completes on this grid; try a finer grid")
    return placement_cost(game, cells)


def placement_cost(game: ChipGame, cells: np.ndarray) -> float:
    """Proxy cost of a complete placement given as cells in the model's order."""
    return float(metrics_of(game, cells)["proxy_cost"])


def metrics_of(game: ChipGame, cells: np.ndarray) -> dict[str, float]:
    """`ChipGame.metrics` of a complete placement given as cells in the model's order."""
    state = game.initial_state()
    for cell in cells:
        state = game.next_state(state, int(cell))
    return game.metrics(state)


class ScaledChipGame(ChipGame):
    """`ChipGame` whose return is on the value network's scale (see the module docstring)."""

    def __init__(self, reference: float | None = None, value_margin: float = 0.1,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reference = reference_cost(self) if reference is None else float(reference)
        self.value_margin = value_margin

    def scale(self, proxy_cost: float) -> float:
        """A proxy cost in value units: 0 at the reference, +1 `value_margin` below it."""
        v = (self.reference - proxy_cost) / (self.value_margin * self.reference)
        return float(np.clip(v, -1.0, 1.0))

    def returns(self, state: Any) -> np.ndarray:
        if not self.is_terminal(state):
            raise ValueError("returns are defined at terminal states only")
        if not self.is_complete(state):
            return np.array([-1.0])
        return np.array([self.scale(self.metrics(state)["proxy_cost"])])


class GreedyPriorEvaluator:
    """The network's evaluation with the greedy wire-mask prior added to its policy logits:
    logits + weight * (-wire / temperature) over the legal cells, where legal cells and wire
    costs (scaled to [0, 1]) are planes 1 and 2 of `ChipGame.encode`. A product of the two
    policies rather than a mixture: an untrained network's near-uniform logits leave the
    greedy prior's ranking intact (a mixture spreads half the prior over a thousand cells,
    which the search then visits), and a trained network's logits shift it."""

    def __init__(self, net: Evaluator, weight: float, temperature: float) -> None:
        self.net, self.weight, self.temperature = net, weight, temperature

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, values = self.net(planes)
        if self.weight == 0:
            return logits, values
        n = planes.shape[0]
        legal = planes[:, 1].reshape(n, -1) > 0.5
        wire = planes[:, 2].reshape(n, -1)
        greedy = np.where(legal, -wire / self.temperature, 0.0)
        return (logits + self.weight * greedy).astype(np.float32), values


def _dequantise(fields: Fields, rng: np.random.Generator) -> Fields:
    """Replay transform: uint8 planes back to floats in [0, 1], float16 policies to float32."""
    fields["planes"] = fields["planes"].astype(np.float32) / PLANE_LEVELS
    fields["policy"] = fields["policy"].astype(np.float32)
    return fields


@dataclass
class Episodes:
    """What a batch of searched episodes produced."""

    records: dict[str, np.ndarray]
    """replay rows (planes, policy, mask, value) of every searched move; empty if not kept"""
    costs: np.ndarray
    """float64 [E] proxy cost of each episode (inf for a dead end)"""
    cells: np.ndarray
    """int64 [E, K] the cells each episode chose (-1 where a dead end left macros unplaced)"""
    moves: int
    evaluations: int


class ChipAlphaZero(PolicyValueLearner):
    """Searched episodes, learning and evaluation for `rlsuite.run` (module docstring)."""

    def __init__(self, ctx: RunContext, game: ScaledChipGame | None = None) -> None:
        """`game` replaces the one `env_kwargs` describe (a netlist built in memory, which a
        JSON config cannot hold); it must be the same on resume."""
        c = ctx.config
        if not isinstance(c, ChipAlphaZeroConfig):
            raise TypeError(f"ChipAlphaZero needs a ChipAlphaZeroConfig, got {type(c).__name__}")
        self.config = c
        self.game = make_game(c) if game is None else game
        planes, actions = self.game.observation_shape, self.game.num_actions
        super().__init__(ctx, model_info(self.game, c.blocks, c.channels,
                                         policy_head_for(self.game.model.cols, c.policy_head)),
                         ReplayBuffer(
            {"planes": (planes, np.uint8), "policy": ((actions,), np.float16),
             "mask": ((actions,), np.bool_), "value": ((), np.float32)},
            c.replay_size, transform=_dequantise,
        ))
        self.best_cost = float("inf")
        self.best_cells = np.full(self.game.model.num_macros, -1, np.int64)

    def search_config(self, simulations: int, noise: bool) -> SearchConfig:
        c = self.config
        return SearchConfig(simulations=simulations, algorithm="gumbel",
                            max_considered=c.max_considered, value_scale=c.value_scale,
                            gumbel_scale=1.0 if noise else 0.0)

    def evaluator(self) -> GreedyPriorEvaluator:
        c = self.config
        self.net.eval()
        return GreedyPriorEvaluator(self.inference(self.net), c.greedy_prior,
                                    c.greedy_temperature)

    def play(self, episodes: int, simulations: int, rng: np.random.Generator, *,
             noise: bool = True, keep_records: bool = True) -> Episodes:
        """Search `episodes` placements, `parallel_games` at a time, with the current network;
        remember the cheapest complete one in `best_cells`."""
        c = self.config
        game = self.game
        width = min(c.parallel_games, episodes)
        search = BatchedSearch(game, self.evaluator(), self.search_config(simulations, noise),
                               width)
        rows: dict[str, list[np.ndarray]] = {"planes": [], "policy": [], "mask": [],
                                             "value": []}
        costs, cells, moves = [], [], 0
        for start in range(0, episodes, width):
            n = min(width, episodes - start)
            states: list[Any] = [game.initial_state()] * width
            active = np.arange(width) < n
            trail: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(n)]
            while active.any():
                seeds = rng.integers(2**63, size=width)
                result = search.search(states, seeds, active=active)
                for b in map(int, np.flatnonzero(active)):
                    state = states[b]
                    if keep_records:
                        planes = np.rint(game.encode(state) * PLANE_LEVELS).astype(np.uint8)
                        trail[b].append((planes, result.policy[b], game.legal_mask(state)))
                    states[b] = game.next_state(state, int(result.action[b]))
                    moves += 1
                    active[b] = not game.is_terminal(states[b])
            for b in range(n):
                final = states[b]
                value = float(game.returns(final)[0])
                cost = game.metrics(final)["proxy_cost"] if game.is_complete(final) else np.inf
                costs.append(cost)
                cells.append(final.cells.copy())
                if cost < self.best_cost:
                    self.best_cost, self.best_cells = float(cost), final.cells.copy()
                for planes, policy, mask in trail[b]:
                    rows["planes"].append(planes)
                    rows["policy"].append(policy)
                    rows["mask"].append(mask)
                    rows["value"].append(np.array(value, np.float32))
        records = {k: np.stack(v) for k, v in rows.items()} if rows["value"] else {}
        return Episodes(records, np.array(costs), np.stack(cells), moves, search.evaluations)

    # ----- the run layer's hooks (learn and the replay's state come from PolicyValueLearner) ----

    def collect(self, state: RunState) -> Mapping[str, float]:
        c = self.config
        tic = time.perf_counter()
        played = self.play(c.games_per_collect, c.simulations, self.ctx.rng)
        seconds = max(time.perf_counter() - tic, 1e-9)
        self.add_positions(played.records)
        state.env_steps += played.moves
        game = self.game
        returns = [-cost if np.isfinite(cost) else -game.infeasible_cost
                   for cost in played.costs]
        state.record_episodes(returns, [game.model.num_macros] * len(returns))
        done = played.costs[np.isfinite(played.costs)]
        out = {
            "selfplay/positions_per_s": played.moves / seconds,
            "selfplay/sims_per_s": played.evaluations / seconds,
            "selfplay/dead_end_share": float(np.mean(~np.isfinite(played.costs))),
            "selfplay/replay_size": float(len(self.replay)),
            "selfplay/best_proxy_cost": self.best_cost,
        }
        if done.size:
            out["selfplay/proxy_cost_mean"] = float(done.mean())
            out["selfplay/proxy_cost_min"] = float(done.min())
        return out

    def evaluate(self, state: RunState) -> Mapping[str, float]:
        """One noiseless searched episode; also writes `RUN/best_placement.json`."""
        c = self.config
        rng = np.random.default_rng(c.seed + 7919 * (state.env_steps + 1))
        played = self.play(1, c.eval_simulations, rng, noise=False, keep_records=False)
        self.write_best(self.ctx.run_dir / "best_placement.json")
        out = {"eval/best_proxy_cost": self.best_cost}
        if np.isfinite(played.costs[0]):
            out["eval/proxy_cost"] = float(played.costs[0])
        return out

    def write_best(self, path: Path) -> None:
        """The cheapest placement found so far as JSON: macro names, cells, centres, metrics."""
        if not np.isfinite(self.best_cost):
            return
        game = self.game
        model = game.model
        data = {
            "netlist": game.netlist.name,
            "grid": [model.cols, model.rows],
            "metrics": metrics_of(game, self.best_cells),
            "macros": [game.netlist.node_names[int(i)] for i in model.order],
            "cells": self.best_cells.tolist(),
            "centers": model.cell_center(self.best_cells).tolist(),
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(path)

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(),
                "best_cost": self.best_cost if np.isfinite(self.best_cost) else None,
                "best_cells": self.best_cells.tolist()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        cost = state["best_cost"]
        self.best_cost = float("inf") if cost is None else float(cost)
        self.best_cells = np.asarray(state["best_cells"], np.int64)

    def close(self) -> None:
        return None


def make_game(config: ChipAlphaZeroConfig) -> ScaledChipGame:
    """The config's placement game (square grid: the network's input is square)."""
    game = ScaledChipGame(value_margin=config.value_margin, **config.env_kwargs)  # type: ignore[arg-type]
    if game.model.rows != game.model.cols:
        raise ValueError(f"AlphaZero needs a square placement grid, got {game.model.cols}x"
                         f"{game.model.rows}; pass --env-kwargs grid N")
    return game


DENSE_HEAD_MAX_GRID = 40


def policy_head_for(grid: int, choice: str) -> Literal["dense", "conv"]:
    """The policy head a config's `policy_head` means on a grid (see the config field)."""
    if choice == "auto":
        return "dense" if grid <= DENSE_HEAD_MAX_GRID else "conv"
    if choice not in ("dense", "conv"):
        raise ValueError(f"policy_head must be auto, dense or conv, got {choice!r}")
    return "dense" if choice == "dense" else "conv"


def model_info(game: ChipGame, blocks: int, channels: int,
               policy_head: Literal["dense", "conv"] = "dense") -> ModelInfo:
    """What a placement network is for: the grid (as board size), the netlist (in `rules`)."""
    grid = game.model.cols
    return ModelInfo(
        net=NetConfig(in_channels=game.observation_shape[0], board_size=grid,
                      num_actions=game.num_actions, blocks=blocks, channels=channels,
                      policy_head=policy_head),
        board_size=grid, komi=0.0, rules=f"{RULES}:{game.netlist.name}", superko="none",
        history=0, score_weight=0.0,
    )


def load_placement_network(path: str | Path, game: ChipGame) -> PolicyValueNet:
    """A model file's network for `game`; `ModelMismatch` naming what differs when it was made
    for Go, another netlist or another grid."""
    net, info = load_model(path)
    expected = model_info(game, info.net.blocks, info.net.channels, info.net.policy_head)
    check_same(expected, info, str(path))
    return net


def train(config: ChipAlphaZeroConfig) -> Path:
    """Train (or, with `config.resume`, continue) one run; return its run directory."""
    return run(ChipAlphaZero, config)


__all__ = [
    "CHIP_ENV",
    "ChipAlphaZero",
    "ChipAlphaZeroConfig",
    "GreedyPriorEvaluator",
    "ScaledChipGame",
    "load_placement_network",
    "train",
]
