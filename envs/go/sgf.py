"""Go game records: `GameRecord`, and SGF (FF[4]) reading and writing through sgfmill.

A record holds what a finished or running game needs to be replayed and shared: board size,
komi, the moves as actions (black first, alternating, pass = N * N), the result in SGF form
("B+3.5", "W+R", "0") and the players' names. `read_sgf` checks the whole record - size,
komi, colours in turn, every move legal - so a bad file fails there, naming the problem,
and never later inside the rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sgfmill import sgf

from rlsuite.envs.go.coords import action_to_gtp, check_action, check_board_size
from rlsuite.envs.go.rules import GoGame
from rlsuite.envs.go.state import GoState

_COLOURS = ("b", "w")


def format_result(score: float) -> str:
    """SGF result for a final score (black area - white area - komi): "B+3.5", "W+0.5", "0"."""
    if score > 0:
        return f"B+{score:g}"
    if score < 0:
        return f"W+{-score:g}"
    return "0"


@dataclass(frozen=True)
class GameRecord:
    """One game of Go as a list of actions; see the module docstring."""

    board_size: int
    komi: float
    moves: tuple[int, ...] = ()
    result: str | None = None
    players: tuple[str, str] = ("", "")  # (black, white)
    extra: dict[str, str] = field(default_factory=dict, compare=False)  # e.g. {"RU": "..."}

    def __post_init__(self) -> None:
        check_board_size(self.board_size)
        if not math.isfinite(self.komi):
            raise ValueError(f"komi must be finite, got {self.komi}")
        object.__setattr__(
            self, "moves", tuple(check_action(a, self.board_size) for a in self.moves)
        )

    def default_game(self) -> GoGame:
        """The most permissive common rules (simple ko, no suicide) with room for every move,
        so any legal record replays; pass your own `GoGame` for stricter rules."""
        n = self.board_size
        return GoGame(n, self.komi, superko="simple", max_moves=max(2 * n * n, len(self.moves)))

    def replay(self, game: GoGame | None = None) -> GoState:
        """The state after all moves; ValueError names the first illegal move."""
        game = game or self.default_game()
        if game.board_size != self.board_size:
            raise ValueError(f"record is {self.board_size}x{self.board_size}, game {game!r}")
        state = game.initial_state()
        for i, a in enumerate(self.moves):
            error = game.move_error(state, a)
            if error is not None:
                colour = "black" if i % 2 == 0 else "white"
                raise ValueError(
                    f"move {i + 1} ({colour} {action_to_gtp(a, self.board_size)}): {error}"
                )
            state = game.next_state(state, a)
        return state

    @classmethod
    def from_moves(
        cls, game: GoGame, moves: Sequence[int], players: tuple[str, str] = ("", "")
    ) -> GameRecord:
        """A record of moves played under `game`, with the result filled in if it ended."""
        record = cls(game.board_size, game.komi, tuple(moves), None, players)
        state = record.replay(game)
        if not game.is_terminal(state):
            return record
        if game.rules == "capture":
            winner = game.returns(state)[0]
            result = "B+C" if winner > 0 else "W+C" if winner < 0 else "0"
        else:
            result = format_result(game.score(state))
        return cls(game.board_size, game.komi, record.moves, result, players)


def write_sgf(record: GameRecord) -> bytes:
    """Serialise a record as SGF FF[4] bytes (sgfmill writes passes as "tt", which FF[4]
    allows on boards up to 19x19)."""
    n = record.board_size
    game = sgf.Sgf_game(size=n)
    root = game.get_root()
    root.set("KM", record.komi)
    if record.result is not None:
        root.set("RE", record.result)
    for colour, name in zip(_COLOURS, record.players, strict=True):
        if name:
            root.set("P" + colour.upper(), name)
    for key, value in record.extra.items():
        root.set(key, value)
    for i, a in enumerate(record.moves):
        node = game.extend_main_sequence()
        point = (
            None if a == n * n else (n - 1 - a // n, a % n)
        )  # sgfmill counts rows from the bottom
        node.set_move(_COLOURS[i % 2], point)
    return bytes(game.serialise())


class SGFError(ValueError):
    """An SGF file cannot be read as a Go record. The message starts with the source (the
    path, or `<bytes>`) and names the node and property where one applies; `source`,
    `node` and `prop` hold the same. Raised for unreadable paths (a directory, no
    permission), malformed SGF, text that does not decode in its charset (`CA`), an unknown
    charset, a node holding two moves, and everything `read_sgf` lists."""

    def __init__(
        self, source: str, message: str, node: int | None = None, prop: str | None = None
    ) -> None:
        where = source if node is None else f"{source}: node {node}"
        where = where if prop is None else f"{where}: property {prop}"
        super().__init__(f"{where}: {message}")
        self.source = source
        self.node = node
        self.prop = prop


def _read(source: str, node: sgf.Tree_node, number: int, prop: str, get):
    """`get()` (a property read through sgfmill), with its decoding errors as SGFError."""
    try:
        return get()
    except (ValueError, LookupError) as err:  # UnicodeDecodeError is a ValueError
        reason = str(err) or "malformed value"
        raise SGFError(source, f"cannot read the value ({reason})", number, prop) from None


def read_sgf(source: str | Path | bytes, *, validate: bool = True) -> GameRecord:
    """Read the main line of an SGF file (path) or SGF data (bytes) into a `GameRecord`.

    Raises `SGFError` (a ValueError) for an unreadable path, malformed SGF, undecodable text,
    a game other than Go, a board size outside 2..19, a bad komi, set-up stones, a node with
    both a black and a white move, moves out of turn, and (with `validate`) any illegal move
    under the record's `default_game` rules.
    """
    name = "<bytes>" if isinstance(source, bytes) else str(source)
    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as err:
            raise SGFError(name, f"cannot read the file ({err.strerror or err})") from None
    try:
        game = sgf.Sgf_game.from_bytes(data)
    except (ValueError, LookupError) as err:
        raise SGFError(name, f"malformed SGF: {err}") from None
    root = game.get_root()
    if root.has_property("GM"):
        gm = _read(name, root, 0, "GM", lambda: root.get("GM"))
        if gm != 1:
            raise SGFError(name, f"game type GM[{gm}] is not Go (GM[1])", 0, "GM")
    n = _read(name, root, 0, "SZ", game.get_size)
    if not 2 <= n <= 19:
        raise SGFError(name, f"board size {n} is outside the supported range 2..19", 0, "SZ")
    komi = float(_read(name, root, 0, "KM", game.get_komi))
    if not math.isfinite(komi):
        raise SGFError(name, f"komi {komi} is not finite", 0, "KM")
    moves: list[int] = []
    for number, node in enumerate(game.get_main_sequence()):
        if node.has_setup_stones():
            raise SGFError(name, "set-up stones (AB/AW/AE) are not supported", number)
        if node.has_property("B") and node.has_property("W"):
            raise SGFError(name, "holds both a black and a white move", number, "B/W")
        colour, point = _read(name, node, number, "B" if node.has_property("B") else "W",
                              node.get_move)
        if colour is None:
            continue
        expected = _COLOURS[len(moves) % 2]
        if colour != expected:
            who, turn = colour.upper(), expected.upper()
            raise SGFError(name, f"move {len(moves) + 1} is by {who} but {turn} is to play",
                           number, who)
        moves.append(n * n if point is None else (n - 1 - point[0]) * n + point[1])
    result = _read(name, root, 0, "RE", lambda: root.get("RE")) if root.has_property("RE") \
        else None
    players = tuple(
        _read(name, root, 0, "P" + c.upper(), lambda c=c: game.get_player_name(c)) or ""
        for c in _COLOURS
    )
    record = GameRecord(n, komi, tuple(moves), result, players)  # type: ignore[arg-type]
    if validate:
        try:
            record.replay()
        except ValueError as err:
            raise SGFError(name, str(err)) from None
    return record
