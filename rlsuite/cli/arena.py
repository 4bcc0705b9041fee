"""`rlsuite arena`: play a round robin, store it in the league, print and plot Elo.

    rlsuite arena --game go --board-size 9 --players random greedy gnugo:1 --games 20
    rlsuite arena --game chip --netlist PATH --players random greedy sa

Go games accumulate in the league directory across calls; ratings are fitted over every game
of the same rules stored there. Chip placement is a single-player game, so its "arena" is a
leaderboard of placers by proxy cost and HPWL.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.progress import Progress

from rlsuite.arena.chip import (
    CHIP_RECORDS,
    append_runs,
    chip_game,
    leaderboard,
    read_runs,
    run_placements,
)
from rlsuite.arena.elo import fit_elo
from rlsuite.arena.league import League, results
from rlsuite.arena.match import GoConfig, default_jobs, run_games, schedule
from rlsuite.arena.players import (
    PlayerSpec,
    PlayerUnavailable,
    UnknownPlayerSpec,
    check_available,
    parse_spec,
    require_plays,
)
from rlsuite.arena.report import leaderboard_table, plot_ratings, ratings_table
from rlsuite.cli.parsing import parse


@dataclass(kw_only=True)
class ArenaConfig:
    """Options of `rlsuite arena`."""

    game: Literal["go", "chip"] = "go"
    """which game: go (Elo league) or chip (placement leaderboard)"""
    players: tuple[str, ...] = ("random", "greedy")
    """Go: random greedy gnugo:LEVEL dqn:RUN ppo:RUN az:RUN[@SIMS] human gtp:COMMAND; chip: random greedy sa dqn:RUN ppo:RUN az:RUN"""  # noqa: E501
    games: int = 10
    """games per pairing (colours alternate), or runs per placer (chip); 0 re-rates the league"""
    board_size: int = 9
    komi: float = 7.5
    superko: Literal["positional", "simple"] = "positional"
    league: Path = Path("runs/league")
    """league directory: games.jsonl, sgf/, elo.png (accumulates across calls)"""
    jobs: int = 0
    """worker processes; 0 picks one per core (1 when a human plays)"""
    seed: int = 0
    anchor: str | None = None
    """player rated 0 (default: random when it has played, else the mean is 0)"""
    bootstrap: int = 1000
    """bootstrap resamples for the 95% intervals"""
    prior_draws: float = 1.0
    """virtual draws per played pairing, keeping undefeated players finite"""
    netlist: Path | None = None
    """chip: netlist file (.aux or netlist.pb.txt); default: a seeded synthetic netlist"""
    grid: int | None = None
    """chip: grid cells per side (default: chosen from the netlist)"""


def main(argv: Sequence[str] | None = None) -> int:
    config = parse(ArenaConfig, list(sys.argv[1:] if argv is None else argv),
                   prog="rlsuite arena")
    console = Console()
    try:
        specs = [parse_spec(p) for p in config.players]
        if config.game == "chip":
            return run_chip(config, specs, console)
        return run_go(config, specs, console)
    except (UnknownPlayerSpec, PlayerUnavailable, ValueError) as e:
        console.print(f"[red]rlsuite arena:[/red] {e}", highlight=False, soft_wrap=True)
        return 2


def run_go(config: ArenaConfig, specs: list[PlayerSpec], console: Console) -> int:
    """Play the round robin into the league, then fit and show ratings over the whole league."""
    go = GoConfig(board_size=config.board_size, komi=config.komi, superko=config.superko)
    go.build()  # bad rules fail here, before any engine starts
    _check_players(specs, "go")
    league = League(config.league)
    names = [s.text for s in specs]
    if config.games > 0:
        tasks = schedule(names, config.games, config.seed)
        jobs = config.jobs or default_jobs(names, len(tasks))
        with Progress(console=console, transient=True) as progress:
            bar = progress.add_task(f"{len(tasks)} games on {jobs} process(es)", total=len(tasks))
            for record, sgf in run_games(tasks, go, jobs=jobs):
                league.append(record, sgf)
                if record.error:
                    console.print(f"[yellow]forfeit[/yellow] {record.black} vs {record.white}: "
                                  f"{record.result}\n{record.error}", highlight=False)
                progress.advance(bar)
    records = league.select("go", go.as_dict())
    if league.skipped:
        console.print(f"[yellow]skipped damaged lines {league.skipped} of "
                      f"{league.records_file}[/yellow]")
    if not records:
        console.print(f"no games stored in {league.path} for these rules")
        return 0
    games = results(records)
    anchor = config.anchor
    if anchor is None and any("random" in (g.player_a, g.player_b) for g in games):
        anchor = "random"
    ratings = fit_elo(games, anchor=anchor, prior_draws=config.prior_draws,
                      bootstrap=config.bootstrap, seed=config.seed)
    size = config.board_size
    games_text = f"{len(records)} game" + ("s" if len(records) != 1 else "")
    title = f"Go {size}x{size}, komi {config.komi:g}: {games_text}"
    console.print(ratings_table(ratings, title))
    png = plot_ratings(ratings, league.path / "elo.png", title)
    console.print(f"league: {league.records_file}; plot: {png}")
    return 0


def run_chip(config: ArenaConfig, specs: list[PlayerSpec], console: Console) -> int:
    """`rlsuite arena --game chip`: place, store, and print the leaderboard of this netlist."""
    _check_players(specs, "chip")
    game = chip_game(config.netlist, config.grid)
    name = str(config.netlist.resolve()) if config.netlist else game.netlist.name
    grid = [game.model.cols, game.model.rows]
    config.league.mkdir(parents=True, exist_ok=True)
    path = config.league / CHIP_RECORDS
    if config.games > 0:
        append_runs(path, run_placements(game, name, specs, config.games, config.seed))
    runs = read_runs(path, name, grid)
    if not runs:
        console.print(f"no placements stored in {path} for {name}")
        return 0
    title = f"{game.netlist.name} on a {grid[0]}x{grid[1]} grid: {len(runs)} placements"
    console.print(leaderboard_table(leaderboard(runs), title))
    console.print(f"records: {path}")
    return 0


def _check_players(specs: list[PlayerSpec], game: str) -> None:
    """Refuse, before any game starts, players of another game or missing on this machine."""
    for spec in specs:
        require_plays(spec, game)
        check_available(spec)
