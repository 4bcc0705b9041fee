"""Elo fit: recovery of known strengths, bounds, ties, anchors and bad input."""

import numpy as np
import pytest

from rlsuite.arena.elo import Result, count_results, expected_score, fit_elo

TRUE = {"weak": -300.0, "mid": 0.0, "good": 150.0, "strong": 400.0}


def simulate(true: dict[str, float], games: int, seed: int, draw_share: float = 0.4):
    """Round robin drawn from the Bradley-Terry model; draws keep each expected score exact."""
    rng = np.random.default_rng(seed)
    names = list(true)
    out = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            p = expected_score(true[a], true[b])
            d = draw_share * min(p, 1.0 - p)
            u = rng.random(games)
            scores = np.where(u < p - d / 2, 1.0, np.where(u < p + d / 2, 0.5, 0.0))
            out += [Result(a, b, float(s)) for s in scores]
    return out


def centred(true):
    mean = np.mean(list(true.values()))
    return {k: v - mean for k, v in true.items()}


def test_recovers_known_strengths_within_bounds():
    ratings = fit_elo(simulate(TRUE, 150, seed=3), prior_draws=0.0, bootstrap=500)
    truth = centred(TRUE)
    assert [r.player for r in ratings] == ["strong", "good", "mid", "weak"]
    for r in ratings:
        assert r.lower <= truth[r.player] <= r.upper, r
        assert r.upper - r.lower < 120  # 450 games each: the interval is informative


def test_bounds_cover_the_truth_about_95_percent_of_the_time():
    truth = centred(TRUE)
    hits = total = 0
    for seed in range(30):
        for r in fit_elo(simulate(TRUE, 60, seed), prior_draws=0.0, bootstrap=300, seed=seed):
            hits += r.lower <= truth[r.player] <= r.upper
            total += 1
    assert 0.88 <= hits / total <= 0.995


def test_ties_count_as_half():
    # 10 draws and 10 wins each way: equal strength, and the score column counts halves.
    games = [Result("a", "b", 0.5)] * 10 + [Result("a", "b", 1.0)] * 5 + [Result("b", "a", 1.0)] * 5
    ratings = {r.player: r for r in fit_elo(games, prior_draws=0.0, bootstrap=0)}
    assert ratings["a"].elo == pytest.approx(0.0, abs=1e-6)
    assert ratings["a"].score == 10.0 and ratings["a"].games == 20
    # 3 wins + 2 draws out of 5 = 0.8 expected score: 400 * log10(4) Elo apart.
    games = [Result("a", "b", 1.0)] * 3 + [Result("a", "b", 0.5)] * 2
    ratings = {r.player: r for r in fit_elo(games, prior_draws=0.0, bootstrap=0)}
    assert ratings["a"].elo - ratings["b"].elo == pytest.approx(400 * np.log10(4.0))


def test_anchor_is_zero_and_differences_do_not_depend_on_it():
    games = simulate(TRUE, 50, seed=1)
    free = {r.player: r.elo for r in fit_elo(games, bootstrap=0)}
    anchored = {r.player: r for r in fit_elo(games, anchor="mid", bootstrap=200)}
    assert anchored["mid"].elo == 0.0 and anchored["mid"].lower == anchored["mid"].upper == 0.0
    for name in TRUE:
        assert anchored[name].elo == pytest.approx(free[name] - free["mid"], abs=1e-6)


def test_perfect_record_needs_the_prior_and_gets_a_finite_interval():
    games = [Result("gnugo", "random", 1.0)] * 10
    with pytest.raises(ValueError, match="won or lost every game"):
        fit_elo(games, prior_draws=0.0, bootstrap=0)
    ratings = {r.player: r for r in fit_elo(games, anchor="random", prior_draws=1.0)}
    # 10.5 / 11 points with the virtual draw: 400 * log10(21) above random.
    assert ratings["gnugo"].elo == pytest.approx(400 * np.log10(21.0))
    assert ratings["gnugo"].lower < ratings["gnugo"].elo  # a real interval, not zero width


def test_seeded_bootstrap_is_deterministic():
    games = simulate(TRUE, 20, seed=5)
    assert fit_elo(games, seed=7, bootstrap=100) == fit_elo(games, seed=7, bootstrap=100)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 2 players"):
        fit_elo([], bootstrap=0)
    with pytest.raises(ValueError, match="score must be"):
        count_results([Result("a", "b", 0.7)])
    with pytest.raises(ValueError, match="cannot play itself"):
        count_results([Result("a", "a", 1.0)])
    with pytest.raises(ValueError, match="anchor 'zz'"):
        fit_elo([Result("a", "b", 1.0)], anchor="zz")
    disconnected = [Result("a", "b", 1.0), Result("b", "a", 1.0), Result("c", "d", 0.5)]
    with pytest.raises(ValueError, match="no chain of games"):
        fit_elo(disconnected)


def test_plot_shows_a_rating_that_lies_outside_its_own_interval(tmp_path):
    """A percentile bootstrap interval need not hold the fitted rating (seen in a league with
    an undefeated player: +673 against [+263, +646]); the picture must still be drawn."""
    from PIL import Image

    from rlsuite.arena.elo import Rating
    from rlsuite.arena.report import plot_ratings

    ratings = [Rating("az:zoo/go-5x5", 673.0, 263.0, 646.0, 16, 15.0),
               Rating("random", 0.0, -50.0, 50.0, 16, 0.0)]
    image = np.asarray(Image.open(plot_ratings(ratings, tmp_path / "elo.png")).convert("RGB"))
    blue = (np.abs(image.astype(int) - (31, 119, 180)).sum(axis=2) < 60)
    assert image.shape[1] > 300 and blue.sum() > 100  # the points and interval lines are there
