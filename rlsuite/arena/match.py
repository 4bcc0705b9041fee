"""Playing games between players: one game (`play_game`), a round robin (`schedule`), and
running many games in worker processes (`run_games`).

The runner is also the referee: every move is checked against the game's own rules, so an
engine that plays an illegal move, resigns, crashes or hangs ends its game with a recorded
reason instead of stopping the arena.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from typing import TYPE_CHECKING, Any

import numpy as np

from rlsuite.arena.league import MatchRecord
from rlsuite.arena.players import make_player, parse_spec
from rlsuite.game import Game, State
from rlsuite.player import Player, PlayerFailure, Resign

if TYPE_CHECKING:
    from rlsuite.gtp.player import GtpPlayer

COLORS = ("black", "white")
_START_METHOD = "fork" if "fork" in get_all_start_methods() else "spawn"


@dataclass(frozen=True, kw_only=True)
class GoConfig:
    """The rules a Go match is played under; the league compares ratings within one config."""

    board_size: int = 9
    komi: float = 7.5
    superko: str = "positional"
    allow_suicide: bool = False
    max_moves: int | None = None

    def build(self) -> Game:
        from rlsuite.envs.go import GoGame

        return GoGame(
            self.board_size, self.komi, superko=self.superko,  # type: ignore[arg-type]
            allow_suicide=self.allow_suicide, max_moves=self.max_moves,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    """How one game ended. `winner` is 0 (black), 1 (white) or None (draw)."""

    winner: int | None
    reason: str  # "score", "move cap", "resign", "forfeit"
    actions: list[int]
    final_state: State
    score: float | None = None
    error: str | None = None
    think_s: list[float] = field(default_factory=lambda: [0.0, 0.0])

    @property
    def result(self) -> str:
        """SGF RE value: B+3.5, W+R, B+F, 0."""
        if self.winner is None:
            return "0"
        side = "BW"[self.winner]
        if self.reason == "resign":
            return f"{side}+R"
        if self.reason == "forfeit":
            return f"{side}+F"
        if self.score is not None:
            return f"{side}+{abs(self.score):g}"
        return f"{side}+"


def play_game(
    game: Game,
    black: Player,
    white: Player,
    *,
    on_move: Callable[[State, int], None] | None = None,
) -> Outcome:
    """Play one game to its end and referee it.

    A player that resigns loses; one that fails (`PlayerFailure`: its engine crashed, hung,
    garbled) or that plays an illegal move forfeits, with the reason in `Outcome.error`.
    `on_move(state, action)` is called after every move (the watch window redraws there).
    """
    players = (black, white)
    state = game.initial_state()
    actions: list[int] = []
    think = [0.0, 0.0]

    def lose(side: int, reason: str, error: str | None = None) -> Outcome:
        return Outcome(1 - side, reason, actions, state, error=error, think_s=think)

    for side, player in enumerate(players):
        try:
            player.reset(game)
        except PlayerFailure as e:
            return lose(side, "forfeit", f"{COLORS[side]} ({player.name}) failed to start: {e}")
    while not game.is_terminal(state):
        side = game.to_play(state)
        player = players[side]
        start = time.perf_counter()
        try:
            action = player.act(state)
        except Resign:
            return lose(side, "resign")
        except PlayerFailure as e:
            return lose(side, "forfeit", f"{COLORS[side]} ({player.name}) failed: {e}")
        finally:
            think[side] += time.perf_counter() - start
        if not 0 <= action < game.num_actions or not game.legal_mask(state)[action]:
            why = _illegal_reason(game, state, action)
            return lose(side, "forfeit", f"{COLORS[side]} ({player.name}) played {why}")
        state = game.next_state(state, action)
        actions.append(int(action))
        if on_move is not None:
            on_move(state, action)
    returns = game.returns(state)
    winner = 0 if returns[0] > returns[1] else 1 if returns[1] > returns[0] else None
    score = float(game.score(state)) if hasattr(game, "score") else None
    passes = getattr(game, "pass_action", None)
    ended_by_passes = len(actions) >= 2 and actions[-1] == actions[-2] == passes
    reason = "score" if ended_by_passes else "move cap"
    return Outcome(winner, reason, actions, state, score=score, think_s=think)


def _illegal_reason(game: Game, state: State, action: int) -> str:
    explain = getattr(game, "move_error", None)
    try:
        message = explain(state, action) if explain is not None else None
    except ValueError as e:
        message = str(e)
    return message or f"illegal action {action}"


@dataclass(frozen=True)
class GameTask:
    """One scheduled game: who plays which colour, and the seed its players get."""

    index: int
    black: str
    white: str
    seed: int


def schedule(players: Sequence[str], games_per_pair: int, seed: int = 0) -> list[GameTask]:
    """Round robin: every pair plays `games_per_pair` games, colours alternating game by game.

    Each pair's first game gives black to the player listed first, and the pairs' games are
    interleaved so a run cut short still covers every pairing about equally.
    """
    if games_per_pair < 1:
        raise ValueError(f"games per pair must be >= 1, got {games_per_pair}")
    if len(set(players)) != len(players):
        raise ValueError(f"each player may be listed once, got {list(players)}")
    if len(players) < 2:
        raise ValueError(f"an arena needs at least 2 players, got {list(players)}")
    pairs = [(a, b) for i, a in enumerate(players) for b in players[i + 1 :]]
    tasks: list[GameTask] = []
    for k in range(games_per_pair):
        for a, b in pairs:
            black, white = (a, b) if k % 2 == 0 else (b, a)
            index = len(tasks)
            game_seed = int(np.random.SeedSequence([seed, index]).generate_state(1)[0])
            tasks.append(GameTask(index, black, white, game_seed))
    return tasks


def play_task(task: GameTask, config: GoConfig) -> tuple[MatchRecord, str]:
    """Build the two players of a task, play the game, close them; return its record and SGF."""
    from rlsuite.envs.go import GameRecord, action_to_gtp, write_sgf

    game = config.build()
    started = datetime.now(UTC).isoformat(timespec="seconds")
    begin = time.perf_counter()
    black = make_player(task.black, game, seed=task.seed)
    white = make_player(task.white, game, seed=task.seed + 1)
    try:
        outcome = play_game(game, black, white)
    finally:
        black.close()
        white.close()
    n = config.board_size
    record = MatchRecord(
        game="go",
        config=config.as_dict(),
        black=task.black,
        white=task.white,
        result=outcome.result,
        winner=None if outcome.winner is None else COLORS[outcome.winner],
        reason=outcome.reason,
        moves=[action_to_gtp(a, n) for a in outcome.actions],
        duration_s=round(time.perf_counter() - begin, 4),
        think_s={c: round(t, 4) for c, t in zip(COLORS, outcome.think_s, strict=True)},
        started_at=started,
        score=outcome.score,
        error=outcome.error,
        seed=task.seed,
    )
    sgf = GameRecord(n, config.komi, tuple(outcome.actions), outcome.result,
                     (task.black, task.white))
    return record, write_sgf(sgf).decode()


def _worker_init() -> None:
    """Worker processes share the cores: one BLAS/torch thread each (a forked worker may have
    inherited torch already imported, so its thread count is set directly too)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def default_jobs(players: Sequence[str], tasks: int) -> int:
    """Processes to use: one per core (GnuGo gets its own process anyway), one if a human plays."""
    if any(parse_spec(p).kind == "human" for p in players):
        return 1
    return max(1, min(os.cpu_count() or 1, tasks))


def run_games(
    tasks: Sequence[GameTask], config: GoConfig, *, jobs: int = 1
) -> Iterator[tuple[MatchRecord, str]]:
    """Play tasks, yielding each record and its SGF as its game ends (in finishing order).

    jobs=1 plays in this process (needed for a human at a window); more uses a pool of worker
    processes, each building its own players per game. Workers are forked where the platform
    allows, so they inherit the compiled rules instead of compiling them again.
    """
    if jobs <= 1:
        for task in tasks:
            yield play_task(task, config)
        return
    with ProcessPoolExecutor(
        max_workers=jobs, mp_context=get_context(_START_METHOD), initializer=_worker_init
    ) as pool:
        futures = [pool.submit(play_task, task, config) for task in tasks]
        for future in as_completed(futures):
            yield future.result()


@dataclass
class TwoGtpResult:
    """A game between two GTP engines, refereed here, with each engine's own final count."""

    outcome: Outcome
    black_says: str | None
    white_says: str | None

    @property
    def agreed(self) -> bool:
        """Both engines report the same final score as our referee's Tromp-Taylor count."""
        from rlsuite.envs.go.sgf import format_result

        if self.outcome.score is None:
            return False
        ours = format_result(self.outcome.score)
        return self.black_says == self.white_says == ours


def twogtp(game: Game, black: GtpPlayer, white: GtpPlayer) -> TwoGtpResult:
    """GTP-to-GTP match driver (like GoGui's twogtp): each engine sees the other's moves as
    `play` commands and answers `genmove`; this process referees every move with `game`'s
    rules and asks both engines for `final_score` once the game has been played out."""
    outcome = play_game(game, black, white)
    says: list[str | None] = []
    for engine in (black, white):
        try:
            engine.sync(outcome.final_state)  # the last move reached only its mover
            says.append(engine.final_score())
        except RuntimeError:  # it crashed (PlayerFailure), or never started
            says.append(None)
    return TwoGtpResult(outcome, says[0], says[1])
