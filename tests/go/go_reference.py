"""An independent, deliberately naive Go referee for cross-checking the compiled engine.

It recomputes everything from scratch with flood fills on a plain list of lists, keeps every
board it has seen for positional superko, and applies simple ko as "no move may recreate the
board as it stood before the opponent's last move" - a different formulation from the
engine's ko point, so agreement means something. Also used as the independent Tromp-Taylor
count in the GnuGo tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Board = list[list[int]]


def parse_board(text: str) -> list[list[int]]:
    """Rows of 'X' (black), 'O' (white), '.' (empty), whitespace ignored; row 0 first."""
    rows = [
        line.split() if " " in line.strip() else list(line.strip())
        for line in text.strip().splitlines()
    ]
    values = {"X": 1, "O": -1, ".": 0}
    board = [[values[c] for c in row] for row in rows]
    if any(len(row) != len(board) for row in board):
        raise ValueError("board text is not square")
    return board


def neighbours(n: int, r: int, c: int) -> list[tuple[int, int]]:
    return [
        (r + dr, c + dc)
        for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
        if 0 <= r + dr < n and 0 <= c + dc < n
    ]


def group_and_liberties(
    board: Board, r: int, c: int
) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    n = len(board)
    colour = board[r][c]
    group = {(r, c)}
    libs: set[tuple[int, int]] = set()
    todo = [(r, c)]
    while todo:
        y, x = todo.pop()
        for q in neighbours(n, y, x):
            v = board[q[0]][q[1]]
            if v == 0:
                libs.add(q)
            elif v == colour and q not in group:
                group.add(q)
                todo.append(q)
    return group, libs


def tromp_taylor_area(board: Board) -> tuple[int, int]:
    """(black, white): stones plus empty regions that reach only that colour."""
    n = len(board)
    area = {1: 0, -1: 0}
    seen: set[tuple[int, int]] = set()
    for r in range(n):
        for c in range(n):
            v = board[r][c]
            if v != 0:
                area[v] += 1
            elif (r, c) not in seen:
                region = {(r, c)}
                todo = [(r, c)]
                reach = set()
                while todo:
                    y, x = todo.pop()
                    for q in neighbours(n, y, x):
                        w = board[q[0]][q[1]]
                        if w == 0 and q not in region:
                            region.add(q)
                            todo.append(q)
                        elif w != 0:
                            reach.add(w)
                seen |= region
                if len(reach) == 1:
                    area[reach.pop()] += len(region)
    return area[1], area[-1]


def _key(board: Board) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(row) for row in board)


@dataclass
class RefGo:
    """Naive referee: board, colour to move (1 black, -1 white), seen boards, passes, moves."""

    n: int
    superko: str = "positional"
    allow_suicide: bool = False
    max_moves: int | None = None
    board: Board = field(init=False)
    colour: int = 1
    passes: int = 0
    moves: int = 0
    captures: dict[int, int] = field(default_factory=lambda: {1: 0, -1: 0})
    seen: set = field(default_factory=set)
    before_opponent: object = None  # board before the opponent's last move (None after a pass)

    def __post_init__(self) -> None:
        self.board = [[0] * self.n for _ in range(self.n)]
        self.seen.add(_key(self.board))
        if self.max_moves is None:
            self.max_moves = 2 * self.n * self.n

    @property
    def over(self) -> bool:
        return self.passes >= 2 or self.moves >= self.max_moves

    def result_of(self, a: int) -> tuple[Board, int, int] | None:
        """(board after, stones captured, own stones lost) or None if the move is illegal."""
        n = self.n
        r, c = divmod(a, n)
        if self.board[r][c] != 0:
            return None
        board = [row[:] for row in self.board]
        board[r][c] = self.colour
        captured = 0
        for q in neighbours(n, r, c):
            if board[q[0]][q[1]] == -self.colour:
                group, libs = group_and_liberties(board, *q)
                if not libs:
                    captured += len(group)
                    for y, x in group:
                        board[y][x] = 0
        lost = 0
        group, libs = group_and_liberties(board, r, c)
        if not libs:
            if not self.allow_suicide:
                return None
            lost = len(group)
            for y, x in group:
                board[y][x] = 0
        if self.superko == "positional" and _key(board) in self.seen:
            return None
        if (
            self.superko == "simple"
            and self.before_opponent is not None
            and _key(board) == self.before_opponent
        ):
            return None
        return board, captured, lost

    def legal(self) -> list[bool]:
        if self.over:
            return [False] * (self.n * self.n + 1)
        return [self.result_of(a) is not None for a in range(self.n * self.n)] + [True]

    def play(self, a: int) -> None:
        before = _key(self.board)
        if a == self.n * self.n:
            self.passes += 1
            self.before_opponent = None
        else:
            outcome = self.result_of(a)
            if outcome is None:
                raise ValueError(f"reference: illegal move {a}")
            self.board, captured, lost = outcome
            self.captures[self.colour] += captured
            self.captures[-self.colour] += lost
            self.passes = 0
            self.before_opponent = before
        self.seen.add(_key(self.board))
        self.moves += 1
        self.colour = -self.colour

    def score(self, komi: float) -> float:
        black, white = tromp_taylor_area(self.board)
        return black - white - komi
