"""Elo ratings from game results: Bradley-Terry maximum likelihood with bootstrap bounds.

Model: player i scores against player j with probability p_ij = 1 / (1 + 10 ** ((r_j - r_i) / 400))
(Bradley & Terry 1952; Elo's logistic scale). A draw counts as half a win for each side. Ratings
are only defined up to a constant, so they are reported either relative to an anchor player
(rated 0) or centred on a mean of 0.

Pure maximum likelihood diverges when a player wins (or loses) every game, which is common in an
arena that includes a random player. `prior_draws` adds that many virtual drawn games to every
pairing that was actually played (BayesElo's "prior"; Coulom 2005), which keeps every rating
finite and vanishes relative to the data as games accumulate. `prior_draws=0` is the plain MLE.

Bounds are percentile intervals of a parametric bootstrap: every pairing's games are replayed
from the fitted model, refitted, and all resamples are solved at once with a batched Newton
step. A resample cannot beat a perfect record, so an undefeated player's upper bound equals its
estimate: read it as "at least this strong" and play a stronger opponent to pin it down.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

ELO_PER_NAT = 400.0 / math.log(10.0)
"""One natural-log unit of the logistic model in Elo points (about 173.7)."""
MAX_NEWTON_STEPS = 100


@dataclass(frozen=True)
class Result:
    """One game's outcome: `score` is player_a's result (1 win, 0.5 draw, 0 loss)."""

    player_a: str
    player_b: str
    score: float


@dataclass(frozen=True)
class Rating:
    """A fitted rating with its bootstrap interval and the player's record."""

    player: str
    elo: float
    lower: float
    upper: float
    games: int
    score: float  # points won (draws count half)


@dataclass(frozen=True)
class PairCounts:
    """Results aggregated per ordered pair: `wins[i, j]` = games i won against j, likewise draws.

    Only the counts matter to Bradley-Terry, so fitting and resampling work on these matrices.
    """

    players: tuple[str, ...]
    wins: np.ndarray  # int64[n, n]
    draws: np.ndarray  # int64[n, n], symmetric

    @property
    def games(self) -> np.ndarray:
        """int64[n, n]: games played between i and j."""
        return self.wins + self.wins.T + self.draws

    @property
    def scores(self) -> np.ndarray:
        """float64[n, n]: points i took from j (wins + half the draws)."""
        return self.wins + 0.5 * self.draws


def count_results(results: Iterable[Result], players: Sequence[str] | None = None) -> PairCounts:
    """Aggregate results into `PairCounts`; `players` fixes the order (else sorted names)."""
    results = list(results)
    names = sorted({r.player_a for r in results} | {r.player_b for r in results})
    if players is not None:
        missing = sorted(set(names) - set(players))
        if missing:
            raise ValueError(f"results name players not in the player list: {missing}")
        names = list(players)
    index = {name: i for i, name in enumerate(names)}
    n = len(names)
    wins = np.zeros((n, n), dtype=np.int64)
    draws = np.zeros((n, n), dtype=np.int64)
    for r in results:
        if r.player_a == r.player_b:
            raise ValueError(f"a player cannot play itself: {r.player_a!r}")
        a, b = index[r.player_a], index[r.player_b]
        if r.score == 1.0:
            wins[a, b] += 1
        elif r.score == 0.0:
            wins[b, a] += 1
        elif r.score == 0.5:
            draws[a, b] += 1
            draws[b, a] += 1
        else:
            raise ValueError(f"score must be 1, 0.5 or 0, got {r.score!r}")
    return PairCounts(tuple(names), wins, draws)


def _reachable(adjacent: np.ndarray) -> np.ndarray:
    """bool[n]: players reachable from player 0 along edges i -> j where adjacent[i, j]."""
    seen = np.zeros(len(adjacent), dtype=bool)
    seen[0] = True
    frontier = [0]
    while frontier:
        i = frontier.pop()
        for j in np.flatnonzero(adjacent[i] & ~seen):
            seen[j] = True
            frontier.append(int(j))
    return seen


def _check_identifiable(counts: PairCounts, prior_draws: float) -> None:
    """Refuse inputs whose ratings are undefined instead of returning nonsense.

    Players never linked by a chain of games cannot be compared at all. Without a prior, the
    likelihood has a finite maximum only if every group of players scored something against
    the rest (Zermelo's condition: the "scored against" graph is strongly connected).
    """
    players = counts.players
    seen = _reachable(counts.games > 0)
    if not seen.all():
        apart = [players[int(i)] for i in np.flatnonzero(~seen)]
        raise ValueError(
            f"players {apart} share no chain of games with {players[0]!r}: "
            "their ratings cannot be compared; play games between the groups"
        )
    scored = counts.scores > 0
    if prior_draws == 0 and not (_reachable(scored).all() and _reachable(scored.T).all()):
        raise ValueError(
            "no finite maximum-likelihood ratings: some players won or lost every game "
            "against the rest; use prior_draws > 0"
        )


def _fit_batch(scores: np.ndarray, games: np.ndarray, anchor: int | None) -> np.ndarray:
    """Newton's method on the Bradley-Terry log-likelihood for a batch of count matrices.

    scores, games: float64[B, n, n]. Returns ratings in natural units, float64[B, n], with the
    anchor at 0 (or mean 0 when anchor is None). Steps are clipped so a near-separable batch
    member cannot overshoot; the objective is concave, so the iteration settles. A bootstrap
    resample without a finite maximum (possible only with prior_draws=0) drifts outwards for
    the whole budget and ends with an extreme rating, which is what it stands for.
    """
    batch, n, _ = scores.shape
    free = np.arange(n) if anchor is None else np.delete(np.arange(n), anchor)
    keep = free[:-1] if anchor is None else free  # mean-zero: drop one coordinate, recentre
    ridge = 1e-9 * np.eye(len(keep))
    theta = np.zeros((batch, n))
    points = scores.sum(axis=2)
    for _ in range(MAX_NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(theta[:, None, :] - theta[:, :, None]))
        grad = points - (games * p).sum(axis=2)
        w = games * p * (1.0 - p)
        neg_hess = np.eye(n)[None] * w.sum(axis=2)[:, :, None] - w  # positive semi-definite
        h = neg_hess[:, keep][:, :, keep] + ridge
        step = np.clip(np.linalg.solve(h, grad[:, keep, None])[..., 0], -2.0, 2.0)
        theta[:, keep] += step
        if anchor is None:
            theta -= theta.mean(axis=1, keepdims=True)
        if np.abs(step).max() < 1e-10:
            break
    return theta


def fit_elo(
    results: Iterable[Result] | PairCounts,
    *,
    anchor: str | None = None,
    prior_draws: float = 1.0,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> list[Rating]:
    """Fit Elo ratings with bootstrap bounds; returned best first.

    anchor: the player rated 0 (its bounds are then [0, 0] by construction); None centres the
    ratings on 0. prior_draws: virtual draws added to each played pairing (see module doc).
    """
    counts = results if isinstance(results, PairCounts) else count_results(results)
    players = counts.players
    if len(players) < 2:
        raise ValueError(f"need results between at least 2 players, got {list(players)}")
    if prior_draws < 0:
        raise ValueError(f"prior_draws must be >= 0, got {prior_draws}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    anchor_index = None
    if anchor is not None:
        if anchor not in players:
            raise ValueError(f"anchor {anchor!r} has played no games; players: {list(players)}")
        anchor_index = players.index(anchor)
    _check_identifiable(counts, prior_draws)
    prior = prior_draws * (counts.games > 0)

    def fit(wins: np.ndarray, draws: np.ndarray) -> np.ndarray:
        g = wins + np.swapaxes(wins, 1, 2) + draws + prior
        s = wins + 0.5 * (draws + prior)
        return _fit_batch(s, g, anchor_index) * ELO_PER_NAT

    point = fit(counts.wins[None].astype(np.float64), counts.draws[None].astype(np.float64))[0]
    lower = upper = point
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        wins_b, draws_b = _resample(counts, point / ELO_PER_NAT, bootstrap, rng)
        boot = fit(wins_b, draws_b)
        alpha = (1.0 - confidence) / 2.0
        lower, upper = np.quantile(boot, [alpha, 1.0 - alpha], axis=0)
    played = counts.games.sum(axis=1)
    points = counts.scores.sum(axis=1)
    ratings = [
        Rating(name, float(point[i]), float(lower[i]), float(upper[i]), int(played[i]),
               float(points[i]))
        for i, name in enumerate(players)
    ]
    return sorted(ratings, key=lambda r: -r.elo)


def _resample(
    counts: PairCounts, theta: np.ndarray, batch: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Parametric bootstrap: redraw each pairing's games from the fitted model.

    Pair (i, j) replays its n_ij games with P(i wins) = p_ij - d/2, P(draw) = d, where p_ij is
    the fitted expected score and d the pairing's observed draw rate. Unlike resampling the
    observed games, a perfect record (say 10-0) still yields an interval of honest width.
    """
    n = len(counts.players)
    wins = np.zeros((batch, n, n))
    draws = np.zeros((batch, n, n))
    for i in range(n):
        for j in range(i + 1, n):
            total = int(counts.games[i, j])
            if total == 0:
                continue
            p = 1.0 / (1.0 + np.exp(theta[j] - theta[i]))
            d = counts.draws[i, j] / total
            probs = np.clip([p - d / 2.0, d, 1.0 - p - d / 2.0], 0.0, None)
            drawn = rng.multinomial(total, probs / probs.sum(), size=batch)
            wins[:, i, j], draws[:, i, j], wins[:, j, i] = drawn.T
            draws[:, j, i] = draws[:, i, j]
    return wins, draws


def expected_score(elo_a: float, elo_b: float) -> float:
    """Bradley-Terry/Elo expected score of a against b."""
    return 1.0 / (1.0 + 10.0 ** ((elo_b - elo_a) / 400.0))
