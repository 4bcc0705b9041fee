"""Human-normalised scores and IQM with bootstrap bounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from rlsuite.envs.atari import ATARI_57, human_normalized_score, iqm, iqm_with_ci


def test_random_is_zero_and_human_is_one() -> None:
    assert len(ATARI_57) == 57
    assert human_normalized_score("Pong", -20.7) == pytest.approx(0.0)
    assert human_normalized_score("ALE/Pong-v5", 14.6) == pytest.approx(1.0)
    assert human_normalized_score("breakout", [1.7, 30.5, 59.3]) == pytest.approx([0, 1, 2])
    assert human_normalized_score("MsPacman", 307.3) == pytest.approx(0.0)
    # A game whose random score beats the human's in absolute terms still maps linearly.
    assert human_normalized_score("Skiing", -4336.9) == pytest.approx(1.0)


def test_unknown_game_lists_the_suite() -> None:
    with pytest.raises(ValueError, match="no human/random reference score for 'Adventure'.*Pong"):
        human_normalized_score("Adventure", 1.0)


def test_iqm_is_the_25_percent_trimmed_mean() -> None:
    rng = np.random.default_rng(0)
    for n in (4, 7, 10, 101):
        x = rng.normal(size=n)
        assert iqm(x) == pytest.approx(stats.trim_mean(x, 0.25))
    assert iqm([1.0, 2.0, 3.0, 100.0]) == pytest.approx(2.5)  # the outlier is cut
    matrix = rng.normal(size=(5, 8))
    assert iqm(matrix, axis=1) == pytest.approx(stats.trim_mean(matrix, 0.25, axis=1))
    with pytest.raises(ValueError, match="empty"):
        iqm([])


def test_bootstrap_interval() -> None:
    rng = np.random.default_rng(1)
    few = rng.normal(1.0, 0.5, size=(3, 10))
    many = rng.normal(1.0, 0.5, size=(30, 10))
    point, lo, hi = iqm_with_ci(few, rng=np.random.default_rng(0))
    assert lo < point < hi and point == pytest.approx(iqm(few.ravel()))
    _, lo_many, hi_many = iqm_with_ci(many, rng=np.random.default_rng(0))
    assert hi_many - lo_many < hi - lo  # more runs, tighter bounds
    # Stratified: runs are resampled within each game, so one run per game leaves nothing to vary.
    one_run = rng.normal(size=(1, 10))
    assert iqm_with_ci(one_run, rng=np.random.default_rng(0)) == pytest.approx(
        (iqm(one_run.ravel()),) * 3
    )
    same = iqm_with_ci(few, rng=np.random.default_rng(0))
    assert same == (point, lo, hi)  # seeded: reproducible
    by_game = {f"g{i}": few[:, i].tolist() for i in range(10)}
    assert iqm_with_ci(by_game, rng=np.random.default_rng(0)) == (point, lo, hi)


def test_bootstrap_bad_input() -> None:
    with pytest.raises(ValueError, match="same number of runs"):
        iqm_with_ci({"Pong": [1.0, 2.0], "Breakout": [1.0]})
    with pytest.raises(ValueError, match=r"\(runs, games\) matrix"):
        iqm_with_ci(np.ones(5))
    with pytest.raises(ValueError, match="confidence"):
        iqm_with_ci(np.ones((2, 2)), confidence=1.5)
