"""The controller side of GTP: drive an engine subprocess (GnuGo, or any GTP engine).

`GtpClient` sends commands with timeouts and pipelined batches and keeps the engine's stderr,
so a crash is reported with its cause; `gnugo_argv` starts GnuGo with rules that match
`GoGame`'s. Nothing here imports the arena: players built on a client live in
`rlsuite.gtp.player`.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from rlsuite.gtp.protocol import parse_command
from rlsuite.player import PlayerFailure

GNUGO_PATHS = ("/usr/games/gnugo", "/usr/bin/gnugo", "/usr/local/bin/gnugo")
PIPELINE_BYTES = 4096  # most unanswered command text in the pipe (see GtpClient.send_many)
GNUGO_INSTALL_HINT = "GnuGo is not installed: apt-get install gnugo (Debian/Ubuntu)"



class EngineFailure(PlayerFailure):
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
    seed: int | None = None,
) -> list[str]:
    """GnuGo's command line with rules matching a `GoGame`.

    Chinese rules make GnuGo score by area like Tromp-Taylor; `--capture-all-dead` makes it
    remove dead stones before passing, so a Tromp-Taylor count of the final board agrees with
    GnuGo's own `final_score`. GnuGo picks among equal moves by its random seed: without
    `seed` it uses one fixed seed and plays the same game every time the opponent does.
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
        *([] if seed is None else ["--seed", str(seed % 2**31)]),
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
        # Decoding never raises: bad bytes from an engine would otherwise kill the reader
        # thread, and the engine would look hung instead of garbling.
        try:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, encoding="utf-8", errors="replace", bufsize=1,
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
