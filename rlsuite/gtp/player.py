"""GTP engines as arena players: GnuGo at a level, or any engine command line.

`gnugo_player` and `command_player` are what the arena's player registry builds for the
`gnugo:LEVEL` and `gtp:COMMAND` specs; with `find_gnugo` and `check_command` it fails fast,
before any game starts, where an engine is missing.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from rlsuite.game import Game, State
from rlsuite.gtp.client import EngineFailure, GtpClient, GtpCommandError, gnugo_argv
from rlsuite.gtp.protocol import format_vertex
from rlsuite.player import Resign

if TYPE_CHECKING:
    from rlsuite.envs.go import GoGame, GoState


def gnugo_player(level: int, name: str | None = None, seed: int | None = None) -> GtpPlayer:
    """GnuGo at `level` (0..10), started with the rules of whatever game it is reset to, and
    with `seed` for its choice among equal moves (the arena passes each game's own seed)."""
    return GtpPlayer(lambda g: gnugo_argv(level, **go_rules(g), seed=seed),
                     name=name or f"gnugo:{level}")


def command_player(command: str, name: str | None = None) -> GtpPlayer:
    """Any GTP engine started by a shell-style command line (it must match the game's rules)."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("a GTP engine needs a command line")
    return GtpPlayer(lambda g: argv, name=name or f"gtp:{command}")


def check_command(command: str) -> None:
    """Raise FileNotFoundError where the engine's program is not on PATH."""
    argv = shlex.split(command)
    if not argv or shutil.which(argv[0]) is None:
        raise FileNotFoundError(f"no program {argv[0] if argv else command!r} found")


def go_rules(game: GoGame) -> dict[str, Any]:
    """The parts of a GoGame's configuration a GTP engine must be started with."""
    if game.rules != "tromp-taylor":
        raise ValueError(f"GTP engines play standard Go, not rules={game.rules!r}")
    return {"board_size": game.board_size, "komi": game.komi, "superko": game.superko,
            "allow_suicide": game.allow_suicide}


class GtpPlayer:
    """A GTP engine subprocess as a Player (GnuGo, or any engine command line).

    The engine keeps its own board. Before each `genmove` the player brings it up to date: one
    `play` for the opponent's last move when the new state follows the last one it knew, or a
    fresh set-up of the whole position otherwise (a mid-game start). The process survives
    between games of the same rules and is restarted if it died.
    """

    def __init__(
        self, argv_for: Callable[[GoGame], list[str]], *, name: str = "gtp",
        timeout: float = 60.0,
    ) -> None:
        self.argv_for = argv_for
        self.name = name
        self.timeout = timeout
        self.client: GtpClient | None = None
        self.game: GoGame | None = None
        self._known: GoState | None = None

    def reset(self, game: Game) -> None:
        from rlsuite.envs.go import GoGame

        if not isinstance(game, GoGame):
            raise ValueError(f"{self.name} plays Go only, not {type(game).__name__}")
        argv = self.argv_for(game)
        if self.client is not None and (
            self.client.argv != argv or self.client.process.poll() is not None
        ):
            self.client.close()
            self.client = None
        if self.client is None:
            self.client = GtpClient(argv, name=self.name, timeout=self.timeout)
        self.game = game
        self._command(f"boardsize {game.board_size}")
        self._command("clear_board")
        self._command(f"komi {game.komi:g}")
        self._known = game.initial_state()

    def _command(self, command: str) -> str:
        if self.client is None:
            raise RuntimeError(f"{self.name}: call reset(game) first")
        try:
            return self.client.send(command)
        except GtpCommandError as e:
            raise EngineFailure(f"{self.name}: {e}", self.client.stderr) from e

    def sync(self, state: GoState) -> None:
        """Make the engine's board equal `state` (see the class docstring)."""
        game, known = self.game, self._known
        if game is None:
            raise RuntimeError(f"{self.name}: call reset(game) before sync(state)")
        if known is not None and _same_position(game, known, state):
            return
        last = state.last_move
        if known is not None and last is not None and state.move_count == known.move_count + 1:
            try:
                expected = game.next_state(known, last)
            except ValueError:
                expected = None
            if expected is not None and _same_position(game, expected, state):
                color = "b" if game.to_play(known) == 0 else "w"
                self._command(f"play {color} {format_vertex(last, game.board_size)}")
                self._known = state
                return
        self._command("clear_board")
        board = game.board(state).ravel()
        for point in np.flatnonzero(board):
            color = "b" if board[point] == 1 else "w"
            self._command(f"play {color} {format_vertex(int(point), game.board_size)}")
        self._known = state

    def act(self, state: State) -> int:
        from rlsuite.envs.go import gtp_to_action

        game = self.game
        if game is None:
            raise RuntimeError(f"{self.name}: call reset(game) before act(state)")
        self.sync(state)
        color = "b" if game.to_play(state) == 0 else "w"
        reply = self._command(f"genmove {color}")
        if reply.lower() == "resign":
            self._known = None
            raise Resign(self.name)
        try:
            action = gtp_to_action(reply, game.board_size)
        except ValueError:
            assert self.client is not None
            raise EngineFailure(
                f"{self.name}: genmove answered {reply!r}, not a move", self.client.stderr
            ) from None
        try:
            self._known = game.next_state(state, action)
        except ValueError:
            self._known = None  # illegal by our rules: the referee will forfeit it
        return action

    def final_score(self) -> str:
        """The engine's own count of the current position (GTP `final_score`)."""
        return self._command("final_score")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        self.game = None


def _same_position(game: GoGame, a: GoState, b: GoState) -> bool:
    return (
        a.move_count == b.move_count
        and game.to_play(a) == game.to_play(b)
        and bool(np.array_equal(game.board(a), game.board(b)))
    )
