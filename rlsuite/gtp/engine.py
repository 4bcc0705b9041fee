"""The engine side of GTP: serve any `Player` to a controller (Sabaki, GoGui, twogtp).

`rlsuite gtp --player SPEC` runs `GtpEngine.serve` on stdin/stdout. Input is read as bytes and
decoded with replacement, so no byte sequence, locale or line stops the engine: every command
line gets exactly one reply (a failing command, even one that trips a bug in a player, gets a
`?` reply) and only `quit` or the end of the input ends the loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from rlsuite.gtp.protocol import (
    GtpError,
    format_response,
    format_vertex,
    is_ascii_int,
    parse_color,
    parse_command,
    parse_float,
    parse_int,
    parse_vertex,
)
from rlsuite.player import Player, Resign

if TYPE_CHECKING:
    from rlsuite.envs.go import GoGame

PROTOCOL_VERSION = "2"
ENGINE_NAME = "rlsuite"
MAX_BOARD_SIZE = 19
MAX_KOMI = 1000.0


class GtpEngine:
    """Serves a `Player` as a GTP v2 engine on a Go board.

    The engine keeps the position itself and asks the player only for `genmove`. GTP lets a
    controller play the same colour twice or keep playing after two passes (for set-ups and
    clean-up); the engine then inserts a pass for the side to move, or, where a pass would end
    the game, restarts the rules from the current board (superko history is lost there).
    """

    def __init__(
        self,
        player: Player,
        *,
        board_size: int = 9,
        komi: float = 7.5,
        superko: str = "positional",
        allow_suicide: bool = False,
        name: str = ENGINE_NAME,
    ) -> None:
        self.player = player
        self.name = name
        self.superko = superko
        self.allow_suicide = allow_suicide
        self.running = True
        self.commands: dict[str, Callable[[tuple[str, ...]], str]] = {
            "protocol_version": lambda args: PROTOCOL_VERSION,
            "name": lambda args: self.name,
            "version": lambda args: _package_version(),
            "known_command": self._known_command,
            "list_commands": lambda args: "\n".join(self.commands),
            "quit": self._quit,
            "boardsize": self._boardsize,
            "clear_board": self._clear_board,
            "komi": self._komi,
            "play": self._play,
            "genmove": self._genmove,
            "undo": self._undo,
            "showboard": self._showboard,
            "final_score": self._final_score,
            "time_settings": self._time_settings,
            "time_left": self._time_left,
        }
        self.history: list[Any] = []
        self.game: GoGame
        self._setup(board_size, komi)

    # ----- state -------------------------------------------------------------------------

    def _setup(self, board_size: int, komi: float) -> None:
        """New rules; a new board size clears the board, a new komi keeps the position."""
        from rlsuite.envs.go import GoGame

        previous = self.game.board_size if self.history else None
        # Controllers may play long clean-up phases; give the move cap ample room.
        self.game = GoGame(
            board_size, komi, superko=self.superko,  # type: ignore[arg-type]
            allow_suicide=self.allow_suicide, max_moves=8 * board_size * board_size,
        )
        if previous != board_size:
            self.history = [self.game.initial_state()]
        self.player.reset(self.game)

    @property
    def state(self) -> Any:
        return self.history[-1]

    def _to_move(self, color: int) -> Any:
        """The current position with `color` to move (see the class docstring)."""
        game, state = self.game, self.state
        if not game.is_terminal(state) and game.to_play(state) == color:
            return state
        if not game.is_terminal(state) and state.last_move != game.pass_action:
            passed = game.next_state(state, game.pass_action)
            if not game.is_terminal(passed):
                return passed
        return game.state_from_board(game.board(state), to_play=color)

    # ----- commands ----------------------------------------------------------------------

    def _known_command(self, args: tuple[str, ...]) -> str:
        _arity(args, 1)
        return "true" if args[0].lower() in self.commands else "false"

    def _quit(self, args: tuple[str, ...]) -> str:
        self.running = False
        return ""

    def _boardsize(self, args: tuple[str, ...]) -> str:
        _arity(args, 1)
        size = parse_int(args[0], low=2, high=MAX_BOARD_SIZE, range_error="unacceptable size")
        self._setup(size, self.game.komi)
        return ""

    def _clear_board(self, args: tuple[str, ...]) -> str:
        self.history = [self.game.initial_state()]
        self.player.reset(self.game)
        return ""

    def _komi(self, args: tuple[str, ...]) -> str:
        _arity(args, 1)
        komi = parse_float(args[0])
        if not -MAX_KOMI < komi < MAX_KOMI:
            raise GtpError("syntax error")
        self._setup(self.game.board_size, komi)
        return ""

    def _play(self, args: tuple[str, ...]) -> str:
        _arity(args, 2)
        color = parse_color(args[0])
        action = parse_vertex(args[1], self.game.board_size)
        state = self._to_move(color)
        if self.game.move_error(state, action) is not None:
            raise GtpError("illegal move")
        self.history.append(self.game.next_state(state, action))
        return ""

    def _genmove(self, args: tuple[str, ...]) -> str:
        _arity(args, 1)
        state = self._to_move(parse_color(args[0]))
        try:
            action = int(self.player.act(state))
        except Resign:
            return "resign"
        error = self.game.move_error(state, action)
        if error is not None:
            raise GtpError(f"engine error: player chose {error}")
        self.history.append(self.game.next_state(state, action))
        return format_vertex(action, self.game.board_size)

    def _undo(self, args: tuple[str, ...]) -> str:
        if len(self.history) < 2:
            raise GtpError("cannot undo")
        self.history.pop()
        return ""

    def _time_settings(self, args: tuple[str, ...]) -> str:
        """Accepted so clock-keeping controllers work; our players answer well within any clock."""
        _arity(args, 3)
        if not all(is_ascii_int(a) for a in args):  # any size: the values are not used
            raise GtpError("syntax error")
        return ""

    def _time_left(self, args: tuple[str, ...]) -> str:
        _arity(args, 3)
        parse_color(args[0])
        if not all(is_ascii_int(a) for a in args[1:]):
            raise GtpError("syntax error")
        return ""

    def _final_score(self, args: tuple[str, ...]) -> str:
        from rlsuite.envs.go.sgf import format_result

        return format_result(self.game.score(self.state))

    def _showboard(self, args: tuple[str, ...]) -> str:
        from rlsuite.envs.go.coords import GTP_COLUMNS

        game, state = self.game, self.state
        n = game.board_size
        letters = " ".join(GTP_COLUMNS[:n])
        board = game.board(state)
        marks = {1: "X", -1: "O", 0: "."}
        width = len(str(n))
        header = " " * (width + 1) + letters
        lines = [header]
        for row in range(n):
            cells = " ".join(marks[int(v)] for v in board[row])
            lines.append(f"{n - row:>{width}} {cells} {n - row}")
        lines.append(header)
        black_caps, white_caps = state.captures
        to_move = "black" if game.to_play(state) == 0 else "white"
        lines.append(f"captures: black {black_caps}, white {white_caps}; {to_move} to move")
        return "\n" + "\n".join(lines)

    # ----- the loop ----------------------------------------------------------------------

    def handle(self, line: str) -> str | None:
        """The reply to one input line, or None for a line the spec says to ignore.

        Any failure inside a command, including a bug in the player, becomes a `?` reply:
        a controller waiting for an answer must get one, and the engine must stay up.
        """
        command = parse_command(line)
        if command is None:
            return None
        handler = self.commands.get(command.name)
        if handler is None:
            return format_response(command.id, "unknown command", ok=False)
        try:
            return format_response(command.id, handler(command.args))
        except GtpError as e:
            return format_response(command.id, str(e), ok=False)
        except Exception as e:  # reported to the controller; the engine stays up
            return format_response(command.id, f"internal error: {type(e).__name__}: {e}",
                                   ok=False)

    def serve(self, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        """Answer command lines until `quit` or end of input, then close the player.

        Lines are bytes decoded as UTF-8 with replacement, whatever the locale; a controller
        that closes its end of the pipe ends the loop like end of input.
        """
        try:
            for raw in stdin:
                reply = self.handle(raw.decode("utf-8", errors="replace"))
                if reply is not None:
                    stdout.write(reply.encode("utf-8", errors="replace"))
                    stdout.flush()
                if not self.running:
                    break
        except BrokenPipeError:
            pass
        finally:
            self.player.close()


def _arity(args: tuple[str, ...], count: int) -> None:
    if len(args) != count:
        raise GtpError("syntax error")


def _package_version() -> str:
    from rlsuite import __version__

    return __version__
