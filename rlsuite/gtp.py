"""The Go Text Protocol, version 2 (Farnebäck 2002): both sides of the wire.

- Protocol layer: `parse_command` / `format_response` implement the spec's preprocessing
  (control characters dropped, tabs as spaces, `#` comments, blank lines ignored), optional
  numeric ids echoed in responses, `=`/`?` replies ended by an empty line.
- Engine side: `GtpEngine` serves any arena `Player` to a controller (Sabaki, GoGui, a match
  driver) over stdin/stdout; `rlsuite gtp --player SPEC` runs it.
- Client side: `GtpClient` drives an engine subprocess (GnuGo, or our own engine), with
  timeouts, pipelined batches, and the engine's stderr kept so a crash can be reported with
  its cause.
  `gnugo_argv` builds GnuGo's command line with rules that match `GoGame`'s.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import shutil
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rlsuite.player import Resign

if TYPE_CHECKING:
    from rlsuite.envs.go import GoGame

PROTOCOL_VERSION = "2"
ENGINE_NAME = "rlsuite"
MAX_BOARD_SIZE = 19

GNUGO_PATHS = ("/usr/games/gnugo", "/usr/bin/gnugo", "/usr/local/bin/gnugo")
PIPELINE_BYTES = 4096  # most unanswered command text in the pipe (see GtpClient.send_many)
GNUGO_INSTALL_HINT = "GnuGo is not installed: apt-get install gnugo (Debian/Ubuntu)"


# --------------------------------------------------------------------------- protocol layer


class GtpError(Exception):
    """A command failed; the message is what follows `? ` in the reply (e.g. `illegal move`)."""


@dataclass(frozen=True)
class Command:
    """One parsed command line: optional numeric id, lower-cased name, arguments."""

    id: int | None
    name: str
    args: tuple[str, ...]


def parse_command(line: str) -> Command | None:
    """Parse one command line per GTP v2 section 2; None for blank or comment-only lines."""
    line = "".join(c for c in line if c in "\t\n" or 32 <= ord(c) != 127)
    line = line.replace("\t", " ").split("#", 1)[0]
    words = line.split()
    if not words:
        return None
    cmd_id = None
    if words[0].isdigit():
        cmd_id = int(words[0])
        words = words[1:]
        if not words:
            return Command(cmd_id, "", ())
    return Command(cmd_id, words[0].lower(), tuple(words[1:]))


def format_response(cmd_id: int | None, text: str, *, ok: bool = True) -> str:
    """`=[id] text` or `?[id] text`, terminated by the empty line the spec requires."""
    head = ("=" if ok else "?") + ("" if cmd_id is None else str(cmd_id))
    body = text.rstrip("\n")
    return f"{head} {body}\n\n"


def parse_color(word: str) -> int:
    """GTP colour (`b`, `black`, `w`, `white`, any case) -> 0 black, 1 white."""
    lowered = word.lower()
    if lowered in ("b", "black"):
        return 0
    if lowered in ("w", "white"):
        return 1
    raise GtpError("invalid color or coordinate")


def parse_vertex(word: str, board_size: int) -> int:
    """GTP vertex -> action index (pass = N*N); off-board or malformed -> `invalid coordinate`."""
    from rlsuite.envs.go import gtp_to_action

    try:
        return int(gtp_to_action(word, board_size))
    except ValueError as e:
        raise GtpError("invalid color or coordinate") from e


def format_vertex(action: int, board_size: int) -> str:
    from rlsuite.envs.go import action_to_gtp

    return str(action_to_gtp(action, board_size))


# --------------------------------------------------------------------------- client side


class EngineFailure(RuntimeError):
    """The engine process died, hung or broke the protocol; `stderr` holds its last words."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message + (f"\n--- engine stderr ---\n{stderr}" if stderr else ""))
        self.stderr = stderr


class GtpCommandError(RuntimeError):
    """The engine answered `? message` to a command; `index` is its place in a batch."""

    def __init__(self, command: str, message: str, index: int = 0) -> None:
        super().__init__(f"engine refused {command!r} (batch index {index}): {message}"
                         if index else f"engine refused {command!r}: {message}")
        self.command = command
        self.message = message
        self.index = index


class GnuGoNotFound(FileNotFoundError):
    """GnuGo is missing; the message says how to install it."""


def find_gnugo() -> str:
    """Path to the GnuGo binary (Debian installs it in /usr/games, off the default PATH)."""
    found = shutil.which("gnugo")
    if found:
        return found
    for path in GNUGO_PATHS:
        if Path(path).is_file():
            return path
    raise GnuGoNotFound(GNUGO_INSTALL_HINT)


def gnugo_argv(
    level: int,
    *,
    board_size: int,
    komi: float,
    superko: str = "positional",
    allow_suicide: bool = False,
    binary: str | None = None,
) -> list[str]:
    """GnuGo's command line with rules matching a `GoGame`.

    Chinese rules make GnuGo score by area like Tromp-Taylor; `--capture-all-dead` makes it
    remove dead stones before passing, so a Tromp-Taylor count of the final board agrees with
    GnuGo's own `final_score`.
    """
    if not 0 <= level <= 10:
        raise ValueError(f"GnuGo level must be in 0..10, got {level}")
    ko = {"positional": "--positional-superko", "situational": "--situational-superko",
          "simple": "--simple-ko"}
    if superko not in ko:
        raise ValueError(f"superko must be one of {sorted(ko)}, got {superko!r}")
    return [
        binary or find_gnugo(), "--mode", "gtp", "--level", str(level), "--chinese-rules",
        "--capture-all-dead", "--boardsize", str(board_size), "--komi", str(komi), ko[superko],
        "--allow-suicide" if allow_suicide else "--forbid-suicide",
    ]


class GtpClient:
    """Drives one GTP engine subprocess: `send("genmove b") -> "D4"`, or many commands
    pipelined with `send_many` (GnuGo answers ~5x more `is_legal` queries per second).

    Replies are read on a background thread so every command can time out; stderr is drained
    on another thread (an unread stderr pipe can block the engine) and its tail kept for error
    reports. Commands carry increasing ids, and a reply with a different id is a protocol error.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        name: str | None = None,
        timeout: float = 60.0,
        startup_timeout: float = 180.0,
    ) -> None:
        self.argv = list(argv)
        self.name = name or Path(self.argv[0]).name
        self.timeout = timeout
        self.startup_timeout = max(startup_timeout, timeout)
        self._answered = False  # the first reply may wait for imports and JIT compilation
        self._next_id = 1
        self._broken = False  # after a failure, close() kills instead of asking politely
        self._stderr: deque[str] = deque(maxlen=200)
        self._lines: queue.Queue[str | None] = queue.Queue()
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, bufsize=1,
            )
        except OSError as e:
            raise EngineFailure(f"cannot start {self.name} ({' '.join(self.argv)}): {e}") from e
        self._pumps = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    def _pump_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\r\n"))
        self._lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr.append(line.rstrip("\n"))

    @property
    def stderr(self) -> str:
        """The last lines the engine wrote to stderr."""
        return "\n".join(self._stderr)

    def _failure(self, message: str, *, dying: bool = True) -> EngineFailure:
        self._broken = True
        if dying:  # give a dying process a moment so its exit code and stderr are complete
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=1.0)
        code = self.process.poll()
        status = "still running" if code is None else f"exit code {code}"
        return EngineFailure(f"{self.name}: {message} ({status})", self.stderr)

    def _readline(self) -> str:
        timeout = self.timeout if self._answered else self.startup_timeout
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise self._failure(f"no reply within {timeout:g} s", dying=False) from None
        if line is None:
            raise self._failure("engine closed its output")
        return line

    def send(self, command: str) -> str:
        """Send one command; return the reply text, raise `GtpCommandError` on `? ...`."""
        return self.send_many([command])[0]

    def send_many(self, commands: Sequence[str]) -> list[str]:
        """Send a batch of commands pipelined; return their replies in order.

        GTP engines answer in order, so the round trip (~0.1 ms with GnuGo) is paid once per
        window rather than once per command. If the engine refuses some commands, every reply
        is still read (the connection stays in step, and the commands after a refused one
        have run), then `GtpCommandError` is raised for the first refused command, with its
        place in `commands` as `index`. A dead, hung or garbling engine raises `EngineFailure`.

        Deadlock freedom: the pump thread always drains the engine's stdout and stderr, so the
        engine never blocks on output. Our writes are kept from blocking too: at most
        `PIPELINE_BYTES` of command text is unanswered at a time, and the engine has read
        every command it answered, so the pipe never holds more than that. A pipe holds at
        least one page (4096 bytes on Linux, even when the kernel shrinks pipe buffers), so a
        write never waits on the engine, and a hung engine is caught by the reply timeout
        instead of leaving us stuck in `write`.
        """
        first_id = self._next_id
        lines = [_frame(first_id + i, command) for i, command in enumerate(commands)]
        self._next_id += len(lines)
        sizes = [len(line.encode()) for line in lines]
        replies: list[str] = []
        refused: GtpCommandError | None = None
        sent = unanswered = 0  # commands written; bytes written but not yet answered
        for index, command in enumerate(commands):
            start = sent
            while sent < len(lines) and unanswered + sizes[sent] <= PIPELINE_BYTES:
                unanswered += sizes[sent]
                sent += 1
            if sent > start:
                self._write("".join(lines[start:sent]), commands[start])
            ok, reply = self._read_reply(command, first_id + index)
            unanswered -= sizes[index]
            replies.append(reply)
            if not ok and refused is None:
                refused = GtpCommandError(command, reply, index)
        if refused is not None:
            raise refused
        return replies

    def _write(self, text: str, command: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(text)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._failure(f"cannot send {command!r}: engine input closed") from None

    def _read_reply(self, command: str, cmd_id: int) -> tuple[bool, str]:
        """One reply: (True, text) for `=`, (False, message) for `?`."""
        line = self._readline()
        while not line.strip():  # tolerate stray blank lines before a reply
            line = self._readline()
        if line[:1] not in "=?":
            raise self._failure(f"malformed reply to {command!r}: {line!r}")
        head, _, text = line.partition(" ")
        if head[1:] and head[1:] != str(cmd_id):
            raise self._failure(f"reply id {head[1:]} does not match command id {cmd_id}")
        body = [text]
        while (line := self._readline()).strip():
            body.append(line)
        self._answered = True
        return head[0] == "=", "\n".join(body).strip()

    def close(self) -> None:
        """Ask the engine to quit (unless it already failed), then make sure it is gone."""
        if self.process.poll() is None:
            if self._broken:
                self.process.kill()
            else:
                with contextlib.suppress(EngineFailure, GtpCommandError):
                    self.send("quit")
            try:
                self.process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pump in self._pumps:  # the process is gone: its pipes are at end of file
            pump.join(timeout=1.0)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def __enter__(self) -> GtpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _frame(cmd_id: int, command: str) -> str:
    """The line that sends `command` with `cmd_id`; refuses what would put the reply stream
    out of step (embedded newlines, lines that get no reply) or overflow the pipe window."""
    if "\n" in command or "\r" in command:
        raise ValueError(f"GTP command must be one line, got {command!r}")
    if parse_command(command) is None:
        raise ValueError(f"GTP command is blank or only a comment, so gets no reply: {command!r}")
    line = f"{cmd_id} {command}\n"
    if len(line.encode()) > PIPELINE_BYTES:
        raise ValueError(f"GTP command over {PIPELINE_BYTES} bytes: {command[:40]!r}...")
    return line


# --------------------------------------------------------------------------- engine side


class GtpEngine:
    """Serves a `Player` as a GTP v2 engine on a Go board.

    The engine keeps the position itself and asks the player only for `genmove`. GTP lets a
    controller play the same colour twice or keep playing after two passes (for set-ups and
    clean-up); the engine then inserts a pass for the side to move, or, where a pass would end
    the game, restarts the rules from the current board (superko history is lost there).
    """

    def __init__(
        self,
        player: Any,
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
        if not args[0].isdigit():
            raise GtpError("syntax error")
        size = int(args[0])
        if not 2 <= size <= MAX_BOARD_SIZE:
            raise GtpError("unacceptable size")
        self._setup(size, self.game.komi)
        return ""

    def _clear_board(self, args: tuple[str, ...]) -> str:
        self.history = [self.game.initial_state()]
        self.player.reset(self.game)
        return ""

    def _komi(self, args: tuple[str, ...]) -> str:
        _arity(args, 1)
        try:
            komi = float(args[0])
        except ValueError:
            raise GtpError("syntax error") from None
        if not -1000 < komi < 1000:
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
        if not all(a.isdigit() for a in args):
            raise GtpError("syntax error")
        return ""

    def _time_left(self, args: tuple[str, ...]) -> str:
        _arity(args, 3)
        parse_color(args[0])
        if not (args[1].isdigit() and args[2].isdigit()):
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
        """The response to one input line, or None for a blank/comment line."""
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

    def serve(self, stdin: IO[str], stdout: IO[str]) -> None:
        """Answer commands until `quit` or end of input."""
        for line in stdin:
            reply = self.handle(line)
            if reply is not None:
                stdout.write(reply)
                stdout.flush()
            if not self.running:
                break
        self.player.close()


def _arity(args: tuple[str, ...], count: int) -> None:
    if len(args) != count:
        raise GtpError("syntax error")


def _package_version() -> str:
    from rlsuite import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    """`rlsuite gtp --player SPEC`: serve a player over GTP on stdin/stdout."""
    from rlsuite.arena.players import (
        PlayerUnavailable,
        UnknownPlayerSpec,
        make_player,
        parse_spec,
    )

    parser = argparse.ArgumentParser(
        prog="rlsuite gtp", description="Speak GTP v2 on stdin/stdout (Sabaki, GoGui, twogtp)."
    )
    parser.add_argument("--player", default="greedy", help="player spec (default: greedy)")
    parser.add_argument("--board-size", type=int, default=9)
    parser.add_argument("--komi", type=float, default=7.5)
    parser.add_argument("--superko", choices=("positional", "simple"), default="positional")
    parser.add_argument("--allow-suicide", action="store_true")
    parser.add_argument("--seed", type=int, default=None, help="seed of random/greedy players")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    from rlsuite.envs.go import GoGame

    try:
        spec = parse_spec(args.player)
        game = GoGame(args.board_size, args.komi, superko=args.superko,
                      allow_suicide=args.allow_suicide)
        player = make_player(spec, game, seed=args.seed)
        engine = GtpEngine(
            player, board_size=args.board_size, komi=args.komi, superko=args.superko,
            allow_suicide=args.allow_suicide, name=f"{ENGINE_NAME} ({spec.text})",
        )
    except (UnknownPlayerSpec, PlayerUnavailable, ValueError) as e:
        print(f"rlsuite gtp: {e}", file=sys.stderr)
        return 2
    engine.serve(sys.stdin, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
