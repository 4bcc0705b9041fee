"""Showing results: rich tables for the terminal (Elo ratings, the chip leaderboard) and a PNG
of the ratings with their bootstrap bounds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from rlsuite.arena.chip import Standing
from rlsuite.arena.elo import Rating


def ratings_table(ratings: Sequence[Rating], title: str = "Elo ratings") -> Table:
    """Best first, with the 95% interval, games and score share."""
    table = Table(title=title)
    for column, justify in (("#", "right"), ("player", "left"), ("Elo", "right"),
                            ("95% interval", "right"), ("games", "right"), ("score", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for rank, r in enumerate(ratings, start=1):
        share = f"{100.0 * r.score / r.games:.1f}%" if r.games else "-"
        table.add_row(str(rank), r.player, _elo(r.elo), f"[{_elo(r.lower)}, {_elo(r.upper)}]",
                      str(r.games), share)
    return table


def _elo(value: float) -> str:
    """Whole Elo points with a sign; never "-0"."""
    return f"{int(round(value)):+d}"


def plot_ratings(ratings: Sequence[Rating], path: str | Path, title: str = "Elo ratings") -> Path:
    """Each rating as a point with its interval as a line, written as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = list(reversed(ratings))  # best at the top
    names = [r.player for r in ordered]
    elo = [r.elo for r in ordered]
    rows = range(len(ordered))
    fig, ax = plt.subplots(figsize=(7.0, 1.0 + 0.45 * len(ordered)))
    # Intervals are drawn from their own ends, not as error bars around the estimate: a
    # percentile bootstrap interval need not contain the maximum-likelihood rating (an
    # undefeated player), and error bars cannot show that.
    ax.hlines(rows, [r.lower for r in ordered], [r.upper for r in ordered], color="tab:blue")
    ax.plot(elo, rows, "o", color="tab:blue")
    ax.set_yticks(range(len(ordered)), names)
    ax.axvline(0.0, color="grey", lw=0.8, ls=":")
    ax.set_xlabel("Elo (95% bootstrap interval)")
    ax.set_title(title)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def leaderboard_table(standings: Sequence[Standing], title: str) -> Table:
    """Placers best first: mean and spread of proxy cost, best run, HPWL, completion, time."""
    table = Table(title=title)
    for column in ("#", "placer", "proxy cost", "±", "best", "HPWL", "best HPWL", "complete",
                   "s/run"):
        table.add_column(column, justify="left" if column == "placer" else "right")
    for rank, s in enumerate(standings, start=1):
        table.add_row(str(rank), s.placer, f"{s.proxy_cost:.4f}", f"{s.proxy_std:.4f}",
                      f"{s.best_proxy:.4f}", f"{s.hpwl:.5g}", f"{s.best_hpwl:.5g}",
                      f"{s.complete}/{s.runs}", f"{s.seconds:.2f}")
    return table
