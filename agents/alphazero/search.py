"""Batched tree search: B games searched together, the leaves of all of them evaluated in one
network batch per simulation step.

A step is three calls whatever B is: the compiled descent of every tree (`tree.select_leaves`),
the expansion of every new leaf (for Go one compiled call that copies the parent state, plays
the move and writes planes and mask; for any other `Game` a Python call per leaf), and one
network batch, then the compiled backup. Trees are preallocated arrays (`tree`), so a search
allocates nothing per node, and with PUCT the searched subtree of the move played is kept for
the next search (`advance`).

With `threads=T` the B games are split into T shards of consecutive games, each simulated on
its own thread over views of the same arrays. The compiled kernels release the GIL and so
does the network, so on a machine with T idle cores the search and the network of one shard
run while the other shard's run too: a single process uses every core, where the one-leaf
searches of alpha-zero-general and its kin cannot use a second one. Games never interact,
so the result is the same for any T (up to the evaluator: a network may round differently at
another batch size).

The evaluator is any callable ``planes [n, *observation_shape] -> (logits float32 [n, A],
values float32 [n])``, values from the view of the player to move at each leaf.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from rlsuite.agents.alphazero import tree as T
from rlsuite.game import Game

Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """How one search runs (the same for every game of a batch)."""

    simulations: int = 32
    """Simulations per move (one leaf per game each)."""
    algorithm: Literal["puct", "gumbel"] = "gumbel"
    """'puct' (AlphaZero, Dirichlet noise, visit-count policy) or 'gumbel' (sequential
    halving at the root, improved-policy target: fewer simulations suffice)."""
    c_puct: float = 1.5
    fpu_reduction: float = 0.25
    """PUCT: an unvisited edge is valued at the node's network value minus this."""
    dirichlet_alpha: float = 0.3
    dirichlet_fraction: float = 0.25
    """PUCT root noise: prior = (1 - fraction) * prior + fraction * Dirichlet(alpha); 0 = off."""
    max_considered: int = 16
    """Gumbel: actions sampled without replacement at the root (mctx default 16)."""
    gumbel_scale: float = 1.0
    """Gumbel: scale of the root noise; 0 makes the search deterministic (evaluation)."""
    value_scale: float = 0.1
    maxvisit_init: float = 50.0
    reuse_tree: bool = True
    """PUCT: keep the subtree of the move played (Gumbel starts fresh: its halving schedule
    counts this search's visits)."""

    def __post_init__(self) -> None:
        if self.simulations < 1:
            raise ValueError(f"simulations must be at least 1, got {self.simulations}")
        if self.algorithm not in ("puct", "gumbel"):
            raise ValueError(f"algorithm must be 'puct' or 'gumbel', got {self.algorithm!r}")
        if self.max_considered < 1:
            raise ValueError(f"max_considered must be at least 1, got {self.max_considered}")


@dataclass
class SearchResult:
    """What a search returns for every game of the batch (rows of inactive games are zero)."""

    visits: np.ndarray
    """int32 [B, A] root visit counts."""
    policy: np.ndarray
    """float32 [B, A] training target: visit shares (PUCT) or the improved policy
    softmax(logits + completed Q) (Gumbel)."""
    action: np.ndarray
    """int64 [B] the search's own choice: Gumbel's halving winner, or the most visited (PUCT;
    the caller samples with a temperature instead when it wants)."""
    value: np.ndarray
    """float32 [B] root value (mean backed-up value) from the view of the player to move."""
    prior: np.ndarray
    """float32 [B, A] network policy at the root."""


class GoStates:
    """Node states for Go: B * M state rows expanded by compiled kernels (no Python per leaf)."""

    def __init__(self, game: Any, num_games: int, capacity: int, score_weight: float) -> None:
        from rlsuite.envs.go import _search_kernels as S

        self._kernels = S
        self.game = game
        self.capacity = capacity
        self.batch = game.initial_batch(num_games * capacity)
        self.rules = game._rules
        self.komi = float(game.komi)
        self.score_weight = float(score_weight)
        self.games = slice(0, num_games)
        """The games of the caller's batch these node states belong to (a shard's)."""

    def check(self, states: Any) -> None:
        """Refuse anything but a consistent `GoBatch` of this game (before compiled code)."""
        self.game._check_state(states)

    def planes_buffer(self, num_games: int) -> np.ndarray:
        c, n, _ = self.game.observation_shape
        return np.zeros((num_games, c, n * n), np.uint8)

    def shard(self, games: slice) -> GoStates:
        """The node states of games[games] only (views of the same rows)."""
        view = copy.copy(self)
        rows = slice(games.start * self.capacity, games.stop * self.capacity)
        view.batch = type(self.batch)(self.batch.data[rows], self.batch.meta[rows],
                                      self.batch.layout)
        view.games = games
        return view

    def load_roots(self, tree: Tree, states: Any, active: np.ndarray, planes: np.ndarray,
                   needs_eval: np.ndarray) -> None:
        """Copy in this shard's games of the caller's (checked) batch `states`."""
        b = self.batch
        self._kernels.load_roots(
            b.data, b.meta, b.hist, b.chains, b.hashes, self.capacity, states.data[self.games],
            states.meta[self.games], active, *self.rules, self.komi, self.score_weight,
            tree.player, tree.terminal, tree.term_value, tree.legal, planes, needs_eval,
        )

    def expand(self, tree: Tree, leaf: np.ndarray, leaf_parent: np.ndarray, planes: np.ndarray,
               needs_eval: np.ndarray) -> None:
        b = self.batch
        self._kernels.expand_leaves(
            b.data, b.meta, b.hist, b.chains, b.hashes, self.capacity, leaf, leaf_parent,
            tree.action, *self.rules, self.komi, self.score_weight, tree.player, tree.terminal,
            tree.term_value, tree.legal, planes, needs_eval,
        )

    def keep(self, kept: np.ndarray, counts: np.ndarray) -> None:
        self._kernels.move_rows(self.batch.data, self.batch.meta, self.capacity, kept, counts)


class GameStates:
    """Node states for any `Game` (one-player chip placement, toy games): Python objects,
    one `next_state` call per new leaf. Values are the mover's return at terminal states."""

    def __init__(self, game: Game, num_games: int, capacity: int) -> None:
        self.game = game
        self.nodes: list[list[Any]] = [[None] * capacity for _ in range(num_games)]
        self.games = slice(0, num_games)
        """The games of the caller's sequence these node states belong to (a shard's)."""

    def check(self, states: Any) -> None:
        if len(states) != len(self.nodes):
            raise ValueError(f"expected a sequence of {len(self.nodes)} states, got "
                             f"{len(states)}")

    def planes_buffer(self, num_games: int) -> np.ndarray:
        return np.zeros((num_games, *self.game.observation_shape), np.float32)

    def shard(self, games: slice) -> GameStates:
        """The node states of games[games] only (the same per-game lists)."""
        view = copy.copy(self)
        view.nodes = self.nodes[games]
        view.games = games
        return view

    def _describe(self, tree: Tree, b: int, n: int, state: Any, planes: np.ndarray,
                  needs_eval: np.ndarray) -> None:
        game = self.game
        self.nodes[b][n] = state
        terminal = bool(game.is_terminal(state))
        tree.terminal[b, n] = terminal
        if terminal:
            mover = 0 if game.num_players == 1 else int(game.to_play(state))
            tree.player[b, n] = mover
            tree.term_value[b, n] = float(game.returns(state)[mover])
            tree.legal[b, n] = False
            needs_eval[b] = False
        else:
            tree.player[b, n] = game.to_play(state)
            tree.legal[b, n] = game.legal_mask(state)
            planes[b] = game.encode(state)
            needs_eval[b] = True

    def load_roots(self, tree: Tree, states: Any, active: np.ndarray, planes: np.ndarray,
                   needs_eval: np.ndarray) -> None:
        needs_eval[:] = False
        first = self.games.start
        for b in np.flatnonzero(active):
            self._describe(tree, int(b), 0, states[first + b], planes, needs_eval)

    def expand(self, tree: Tree, leaf: np.ndarray, leaf_parent: np.ndarray, planes: np.ndarray,
               needs_eval: np.ndarray) -> None:
        needs_eval[:] = False
        for b in np.flatnonzero(leaf_parent >= 0):
            n = int(leaf[b])
            parent_state = self.nodes[b][int(leaf_parent[b])]
            state = self.game.next_state(parent_state, int(tree.action[b, n]))
            self._describe(tree, int(b), n, state, planes, needs_eval)

    def keep(self, kept: np.ndarray, counts: np.ndarray) -> None:
        for b, count in enumerate(counts):  # in place: shards share these lists
            old = self.nodes[b]
            old[:] = [old[i] for i in kept[b, :count]] + [None] * (len(old) - count)


class Tree:
    """The arrays of B search trees of `capacity` nodes each (layout: `alphazero.tree`)."""

    def __init__(self, num_games: int, capacity: int, num_actions: int) -> None:
        shape = (num_games, capacity)
        self.parent = np.full(shape, -1, np.int32)
        self.action = np.full(shape, -1, np.int32)
        self.children = np.full((*shape, num_actions), -1, np.int32)
        self.prior = np.zeros((*shape, num_actions), np.float32)
        self.legal = np.zeros((*shape, num_actions), np.bool_)
        self.visits = np.zeros(shape, np.int32)
        self.value_sum = np.zeros(shape, np.float32)
        self.raw_value = np.zeros(shape, np.float32)
        self.player = np.zeros(shape, np.int8)
        self.terminal = np.zeros(shape, np.bool_)
        self.term_value = np.zeros(shape, np.float32)
        self.num_nodes = np.zeros(num_games, np.int32)
        self.qmin = np.full(num_games, np.inf, np.float32)
        self.qmax = np.full(num_games, -np.inf, np.float32)

    def shard(self, games: slice) -> Tree:
        """The trees of games[games] only (views of the same arrays)."""
        view = copy.copy(self)
        for name, array in vars(self).items():
            setattr(view, name, array[games])
        return view

    def root_children_visits(self) -> np.ndarray:
        """int32 [B, A] visit counts of the root edges."""
        child = self.children[:, 0, :]
        counts = np.take_along_axis(self.visits, np.maximum(child, 0), axis=1)
        return np.where(child >= 0, counts, 0).astype(np.int32)

    def root_q(self) -> np.ndarray:
        """float32 [B, A] Q of the root edges (0 where unvisited)."""
        child = np.maximum(self.children[:, 0, :], 0)
        n = np.take_along_axis(self.visits, child, axis=1)
        w = np.take_along_axis(self.value_sum, child, axis=1)
        ok = (self.children[:, 0, :] >= 0) & (n > 0)
        return np.where(ok, w / np.maximum(n, 1), 0).astype(np.float32)


@dataclass
class _Shard:
    """Consecutive games `games` of a search: views of its tree, node states and buffers."""

    games: slice
    tree: Tree
    states: GoStates | GameStates
    planes: np.ndarray
    leaf: np.ndarray
    leaf_parent: np.ndarray
    needs_eval: np.ndarray
    eval_row: np.ndarray
    """Each game's row in `packed` (-1: its leaf needs no evaluation)."""


class BatchedSearch:
    """Search B games at once with one evaluator (see the module docstring).

    Args:
        game: a `GoGame` (compiled expansion) or any `Game`.
        evaluator: planes -> (logits, values), one call per simulation step (per shard);
            with `threads` > 1 it is called from several threads at once.
        config: the search settings.
        num_games: B, the most games searched together.
        score_weight: Go only: weight of the area margin in leaf utilities (module
            docstring of `rlsuite.envs.go._search_kernels`).
        threads: shards of games simulated in parallel (one per idle core pays; keep the
            network itself on one thread then).
    """

    def __init__(self, game: Game, evaluator: Evaluator, config: SearchConfig, num_games: int,
                 *, score_weight: float = 0.0, threads: int = 1) -> None:
        if num_games < 1:
            raise ValueError(f"num_games must be at least 1, got {num_games}")
        if not 1 <= threads <= num_games:
            raise ValueError(f"threads must be in 1..num_games ({num_games}), got {threads}")
        self.game = game
        self.evaluator = evaluator
        self.config = config
        self.num_games = num_games
        self.num_actions = int(game.num_actions)
        self.one_player = int(game.num_players) == 1
        self.reuse = config.reuse_tree and config.algorithm == "puct"
        self.keep_max = config.simulations + 1 if self.reuse else 0
        self.capacity = self.keep_max + config.simulations + 1
        self.tree = Tree(num_games, self.capacity, self.num_actions)
        from rlsuite.envs.go import GoGame

        self.states: GoStates | GameStates
        if isinstance(game, GoGame):
            self.states = GoStates(game, num_games, self.capacity, score_weight)
        else:
            self.states = GameStates(game, num_games, self.capacity)
        self.planes = self.states.planes_buffer(num_games)
        self.table = T.considered_visits_table(config.max_considered, config.simulations)
        self._kept = np.zeros((num_games, self.capacity), np.int32)
        self._leaf = np.full(num_games, -1, np.int32)
        self._leaf_parent = np.full(num_games, -1, np.int32)
        self._needs_eval = np.zeros(num_games, np.bool_)
        self._eval_row = np.full(num_games, -1, np.int64)
        self._whole = self._shard(slice(0, num_games))
        bounds = np.linspace(0, num_games, threads + 1).astype(int)
        self._shards = [self._shard(slice(int(lo), int(hi)))
                        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        self._pool = ThreadPoolExecutor(threads) if threads > 1 else None
        self.evaluations = 0
        """Leaves sent to the evaluator so far (for sims/s and evals/s figures)."""

    def _shard(self, games: slice) -> _Shard:
        return _Shard(games, self.tree.shard(games), self.states.shard(games),
                      self.planes[games], self._leaf[games], self._leaf_parent[games],
                      self._needs_eval[games], self._eval_row[games])

    def _evaluate(self, shard: _Shard) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row of each game's leaf in the batch or -1, logits, values) for the leaves of
        `shard` that need the network."""
        packed = np.empty_like(shard.planes)  # the evaluator may keep what it is given
        count = T.pack_rows(shard.needs_eval, shard.planes, packed, shard.eval_row)
        if count == 0:
            return (shard.eval_row, np.zeros((0, self.num_actions), np.float32),
                    np.zeros(0, np.float32))
        planes = packed[:count].reshape(count, *self.game.observation_shape)
        logits, values = self.evaluator(planes)
        return (shard.eval_row, np.ascontiguousarray(logits, np.float32),
                np.ascontiguousarray(values, np.float32).reshape(-1))

    def _evaluate_and_backup(self, shard: _Shard) -> int:
        """Evaluate and back up the leaves of `shard`; returns how many the network saw."""
        eval_row, logits, values = self._evaluate(shard)
        t = shard.tree
        T.backup(t.parent, t.prior, t.legal, t.visits, t.value_sum, t.raw_value, t.player,
                 t.term_value, shard.leaf, eval_row, logits, values, self.one_player, t.qmin,
                 t.qmax)
        return len(values)

    def _prepare_roots(self, shard: _Shard, states: Any, active: np.ndarray) -> int:
        """Fresh roots (no kept subtree) of the shard's `active` games get their state, mask
        and network evaluation; returns the positions evaluated."""
        t = shard.tree
        fresh = active & (t.num_nodes == 0)
        if not fresh.any():
            return 0
        t.num_nodes[fresh] = 1
        t.parent[fresh, 0] = -1
        t.action[fresh, 0] = -1
        t.children[fresh, 0] = -1
        t.visits[fresh, 0] = 0
        t.value_sum[fresh, 0] = 0
        t.qmin[fresh] = np.inf
        t.qmax[fresh] = -np.inf
        shard.states.load_roots(t, states, fresh, shard.planes, shard.needs_eval)
        shard.leaf[:] = np.where(fresh, 0, -1)
        return self._evaluate_and_backup(shard)

    def search(self, states: Any, seeds: np.ndarray, *, active: np.ndarray | None = None,
               simulations: np.ndarray | None = None) -> SearchResult:
        """Search every active game of `states` (a `GoBatch` of B games, or a sequence of B
        states). `seeds[b]` seeds game b's root noise, so a game's search does not depend on
        the other games of the batch. `simulations[b]` (default: the config's) lets games
        search less (playout-cap randomisation); it may not exceed the config's."""
        cfg = self.config
        num = self.num_games
        t = self.tree
        active = np.ones(num, np.bool_) if active is None else np.asarray(active, np.bool_)
        budget = np.full(num, cfg.simulations, np.int64) if simulations is None else (
            np.asarray(simulations, np.int64))
        seeds = np.asarray(seeds, np.int64)
        if active.shape != (num,) or budget.shape != (num,) or seeds.shape != (num,):
            raise ValueError(f"active, simulations and seeds need one entry per game ({num})")
        if (budget > cfg.simulations).any() or (budget < 1).any():
            raise ValueError(f"simulations per game must be in 1..{cfg.simulations}")
        self.states.check(states)
        if not self.reuse:
            t.num_nodes[:] = 0
        t.num_nodes[t.num_nodes + budget > self.capacity] = 0  # never outgrow the arrays
        actions = self.num_actions
        out = SearchResult(np.zeros((num, actions), np.int32),
                           np.zeros((num, actions), np.float32), np.full(num, -1, np.int64),
                           np.zeros(num, np.float32), np.zeros((num, actions), np.float32))

        def search_shard(shard: _Shard) -> int:
            g = shard.games
            return self._search_shard(shard, states, seeds[g], active[g], budget[g], out, g)

        if self._pool is None:
            self.evaluations += search_shard(self._whole)
        else:
            self.evaluations += sum(self._pool.map(search_shard, self._shards))
        return out

    def _search_shard(self, shard: _Shard, states: Any, seeds: np.ndarray, active: np.ndarray,
                      budget: np.ndarray, out: SearchResult, games: slice) -> int:
        """The whole search of one shard's games (arguments are that shard's rows): roots,
        root noise, simulations, and its rows of `out`; returns the positions evaluated."""
        cfg = self.config
        t = shard.tree
        evaluated = self._prepare_roots(shard, states, active)
        active = active & ~t.terminal[:, 0]
        root_prior = t.prior[:, 0, :].copy()
        gumbel = np.zeros((len(active), self.num_actions), np.float64)
        T.root_noise(seeds, active, t.legal[:, 0, :], root_prior, gumbel,
                     T.GUMBEL if cfg.algorithm == "gumbel" else T.PUCT, cfg.gumbel_scale,
                     cfg.dirichlet_alpha, cfg.dirichlet_fraction)
        num_considered = np.minimum(cfg.max_considered, t.legal[:, 0].sum(axis=1))
        evaluated += self._simulate(shard, active, budget, root_prior, gumbel, num_considered)
        self._result(t, active, gumbel, out, games)
        return evaluated

    def _simulate(self, shard: _Shard, active: np.ndarray, budget: np.ndarray,
                  root_prior: np.ndarray, gumbel: np.ndarray, num_considered: np.ndarray) -> int:
        """Run the simulations of one shard's games (arguments are that shard's rows);
        returns the leaves the network evaluated."""
        cfg = self.config
        t = shard.tree
        mode = T.GUMBEL if cfg.algorithm == "gumbel" else T.PUCT
        considered = np.zeros(len(active), np.int64)
        evaluated = 0
        for sim in range(int(budget.max(initial=0))):
            running = active & (sim < budget)
            if not running.any():
                break
            if mode == T.GUMBEL:
                considered = self.table[num_considered, sim].astype(np.int64)
            T.select_leaves(t.parent, t.action, t.children, t.prior, t.legal, t.visits,
                            t.value_sum, t.raw_value, t.terminal, t.num_nodes, running,
                            root_prior, gumbel, considered, mode, cfg.c_puct, cfg.fpu_reduction,
                            cfg.value_scale, cfg.maxvisit_init, self.one_player, t.qmin,
                            t.qmax, shard.leaf, shard.leaf_parent)
            shard.states.expand(t, shard.leaf, shard.leaf_parent, shard.planes, shard.needs_eval)
            evaluated += self._evaluate_and_backup(shard)
        return evaluated

    def _result(self, t: Tree, active: np.ndarray, gumbel: np.ndarray, out: SearchResult,
                games: slice) -> None:
        """Write rows `games` of `out` from the trees `t` of those games (inactive rows stay
        zero, action -1)."""
        cfg = self.config
        visits = np.where(active[:, None], t.root_children_visits(), 0).astype(np.int32)
        prior = np.where(active[:, None], t.prior[:, 0, :], 0).astype(np.float32)
        out.visits[games] = visits
        out.prior[games] = prior
        out.value[games] = np.where(active, t.value_sum[:, 0] / np.maximum(t.visits[:, 0], 1), 0)
        policy, action = out.policy[games], out.action[games]
        if cfg.algorithm == "puct":
            total = np.maximum(visits.sum(axis=1, keepdims=True), 1)
            policy[:] = np.where(active[:, None], visits / total, 0)
            action[:] = np.where(active, np.argmax(np.where(t.legal[:, 0], visits, -1), axis=1),
                                 -1)
            return
        T.gumbel_result(t.children, t.prior, t.legal, t.visits, t.value_sum, t.raw_value,
                        active, gumbel, visits, cfg.value_scale, cfg.maxvisit_init, policy,
                        action)

    def advance(self, taken: np.ndarray) -> None:
        """The games played taken[b] (-1: the game ended, or its tree should be dropped):
        keep the searched subtree under that move as the next root (PUCT with reuse), else
        start the next search from a fresh root."""
        t = self.tree
        taken = np.asarray(taken, np.int64)
        T.keep_subtrees(t.parent, t.action, t.children, t.prior, t.legal, t.visits, t.value_sum,
                        t.raw_value, t.player, t.terminal, t.term_value, t.num_nodes, taken,
                        self.keep_max, self._kept)
        if self.reuse:
            self.states.keep(self._kept, t.num_nodes)

    def reset(self, games: np.ndarray | None = None) -> None:
        """Drop the trees of `games` (all by default): their next search starts fresh."""
        if games is None:
            self.tree.num_nodes[:] = 0
        else:
            self.tree.num_nodes[np.asarray(games)] = 0
