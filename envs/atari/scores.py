"""Human-normalised Atari scores and the interquartile mean across games.

A human-normalised score maps a game's raw score so that the random agent scores 0 and the
professional human tester 1: (score - random) / (human - random).

Reference scores: the random-agent and professional-human scores of the 57-game suite as tabulated
in Badia et al., "Agent57: Outperforming the Atari Human Benchmark", ICML 2020 (the table Rainbow
and DeepMind's DQN Zoo use), which carries forward van Hasselt et al., "Deep Reinforcement
Learning with Double Q-learning", AAAI 2016, and Mnih et al., "Human-level control through deep
reinforcement learning", Nature 2015 (whose earlier human column differs for a few games, e.g.
Pong 9.3 instead of 14.6). They were measured with up to 30 NOOP starts and episodes capped at
108,000 frames, the "dqn" protocol of `make_atari`.

Aggregates follow Agarwal et al., "Deep Reinforcement Learning at the Edge of the Statistical
Precipice", NeurIPS 2021: the interquartile mean (IQM, the mean of the middle 50% of all
run x game scores) with a stratified bootstrap confidence interval (runs resampled with
replacement within each game).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rlsuite.envs.atari.games import game_key, pascal_name

REFERENCE_SCORES: dict[str, tuple[float, float]] = {
    # ROM id: (random, human)
    "alien": (227.8, 7127.7),
    "amidar": (5.8, 1719.5),
    "assault": (222.4, 742.0),
    "asterix": (210.0, 8503.3),
    "asteroids": (719.1, 47388.7),
    "atlantis": (12850.0, 29028.1),
    "bank_heist": (14.2, 753.1),
    "battle_zone": (2360.0, 37187.5),
    "beam_rider": (363.9, 16926.5),
    "berzerk": (123.7, 2630.4),
    "bowling": (23.1, 160.7),
    "boxing": (0.1, 12.1),
    "breakout": (1.7, 30.5),
    "centipede": (2090.9, 12017.0),
    "chopper_command": (811.0, 7387.8),
    "crazy_climber": (10780.5, 35829.4),
    "defender": (2874.5, 18688.9),
    "demon_attack": (152.1, 1971.0),
    "double_dunk": (-18.6, -16.4),
    "enduro": (0.0, 860.5),
    "fishing_derby": (-91.7, -38.7),
    "freeway": (0.0, 29.6),
    "frostbite": (65.2, 4334.7),
    "gopher": (257.6, 2412.5),
    "gravitar": (173.0, 3351.4),
    "hero": (1027.0, 30826.4),
    "ice_hockey": (-11.2, 0.9),
    "jamesbond": (29.0, 302.8),
    "kangaroo": (52.0, 3035.0),
    "krull": (1598.0, 2665.5),
    "kung_fu_master": (258.5, 22736.3),
    "montezuma_revenge": (0.0, 4753.3),
    "ms_pacman": (307.3, 6951.6),
    "name_this_game": (2292.3, 8049.0),
    "phoenix": (761.4, 7242.6),
    "pitfall": (-229.4, 6463.7),
    "pong": (-20.7, 14.6),
    "private_eye": (24.9, 69571.3),
    "qbert": (163.9, 13455.0),
    "riverraid": (1338.5, 17118.0),
    "road_runner": (11.5, 7845.0),
    "robotank": (2.2, 11.9),
    "seaquest": (68.4, 42054.7),
    "skiing": (-17098.1, -4336.9),
    "solaris": (1236.3, 12326.7),
    "space_invaders": (148.0, 1668.7),
    "star_gunner": (664.0, 10250.0),
    "surround": (-10.0, 6.5),
    "tennis": (-23.8, -8.3),
    "time_pilot": (3568.0, 5229.2),
    "tutankham": (11.4, 167.6),
    "up_n_down": (533.4, 11693.2),
    "venture": (0.0, 1187.5),
    "video_pinball": (16256.9, 17667.9),
    "wizard_of_wor": (563.5, 4756.5),
    "yars_revenge": (3092.9, 54576.9),
    "zaxxon": (32.5, 9173.3),
}

ATARI_57 = tuple(sorted(REFERENCE_SCORES))


_BY_KEY = {game_key(rom): scores for rom, scores in REFERENCE_SCORES.items()}


def _reference(game: str) -> tuple[float, float]:
    if game_key(game) in _BY_KEY:
        return _BY_KEY[game_key(game)]
    raise ValueError(
        f"no human/random reference score for {game!r}; the Atari-57 games are "
        f"{', '.join(pascal_name(g) for g in ATARI_57)}"
    )


def human_normalized_score(game: str, score: float | np.ndarray) -> np.ndarray:
    """(score - random) / (human - random) for `game` ("Pong", "ALE/Pong-v5" or "pong")."""
    random, human = _reference(game)
    return (np.asarray(score, dtype=np.float64) - random) / (human - random)


def iqm(scores: np.ndarray | Sequence[float], axis: int | None = None) -> np.ndarray:
    """Interquartile mean: mean after cutting the lowest and highest 25% (scipy's trim_mean)."""
    x = np.sort(np.asarray(scores, dtype=np.float64), axis=axis)
    if axis is None:
        axis = 0
    n = x.shape[axis]
    if n == 0:
        raise ValueError("iqm of an empty set of scores")
    cut = int(0.25 * n)
    return np.take(x, np.arange(cut, n - cut), axis=axis).mean(axis=axis)


def iqm_with_ci(
    scores: Mapping[str, Sequence[float]] | np.ndarray,
    *,
    reps: int = 2000,
    confidence: float = 0.95,
    rng: np.random.Generator | None = None,
) -> tuple[float, float, float]:
    """IQM of a (runs, games) score matrix and its stratified-bootstrap interval.

    `scores` is the matrix, or a mapping game -> per-run scores (all games need the same number
    of runs). Returns (iqm, lower, upper): each bootstrap replicate resamples runs with
    replacement within every game, the percentile interval holds `confidence` of them.
    """
    if isinstance(scores, Mapping):
        runs = {len(v) for v in scores.values()}
        if len(runs) != 1:
            raise ValueError(f"every game needs the same number of runs, got {sorted(runs)}")
        matrix = np.column_stack([np.asarray(v, dtype=np.float64) for v in scores.values()])
    else:
        matrix = np.asarray(scores, dtype=np.float64)
    if matrix.ndim != 2 or matrix.size == 0:
        raise ValueError(f"scores must be a non-empty (runs, games) matrix, got {matrix.shape}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")
    rng = np.random.default_rng() if rng is None else rng
    runs_n, games = matrix.shape
    picks = rng.integers(0, runs_n, size=(reps, runs_n, games))
    samples = np.take_along_axis(matrix[None], picks, axis=1).reshape(reps, -1)
    boot = iqm(samples, axis=1)
    tail = (1.0 - confidence) / 2 * 100
    lower, upper = np.percentile(boot, [tail, 100 - tail])
    return float(iqm(matrix.ravel())), float(lower), float(upper)
