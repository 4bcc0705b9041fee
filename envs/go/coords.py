"""Action <-> GTP vertex and SGF point conversions.

Actions are ``row * N + col`` with row 0 at the top and ``N * N`` for pass. GTP writes the
column as a letter A..T without I and counts rows from 1 at the bottom ("D4", "pass");
SGF writes column then row as letters from "a" at the top left ("dd"), pass as "" (or "tt"
on boards up to 19x19, the FF[3] form).
"""

from __future__ import annotations

import operator

MAX_BOARD_SIZE = 19
GTP_COLUMNS = "ABCDEFGHJKLMNOPQRST"
_SGF_LETTERS = "abcdefghijklmnopqrs"


def check_board_size(n: int) -> int:
    """Return n if it is a supported board size (2..19), else raise ValueError."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError(f"board size must be an int, got {n!r}")
    if not 2 <= n <= MAX_BOARD_SIZE:
        raise ValueError(f"board size {n} is outside the supported range 2..{MAX_BOARD_SIZE}")
    return n


def check_action(a: object, n: int) -> int:
    """Return a as an int if it is an action on an n x n board, else raise ValueError."""
    try:
        value = operator.index(a)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"action must be an integer, got {a!r}") from None
    if type(a) is bool:
        raise ValueError(f"action must be an integer, got {a!r}")
    if not 0 <= value <= n * n:
        raise ValueError(f"action {value} out of range 0..{n * n} for a {n}x{n} board")
    return value


def action_to_gtp(a: int, n: int) -> str:
    """Action -> GTP vertex, e.g. 0 -> "A9" on 9x9, 81 -> "pass"."""
    check_board_size(n)
    a = check_action(a, n)
    if a == n * n:
        return "pass"
    row, col = divmod(a, n)
    return f"{GTP_COLUMNS[col]}{n - row}"


def gtp_to_action(vertex: str, n: int) -> int:
    """GTP vertex -> action; case-insensitive; raises ValueError for anything off the board."""
    check_board_size(n)
    text = vertex.strip().upper() if isinstance(vertex, str) else ""
    if text == "PASS":
        return n * n
    col = GTP_COLUMNS.find(text[:1]) if text else -1
    digits = text[1:]
    if col < 0 or col >= n or not digits.isdigit() or not 1 <= int(digits) <= n:
        raise ValueError(f"{vertex!r} is not a GTP vertex on a {n}x{n} board")
    return (n - int(digits)) * n + col


def action_to_sgf(a: int, n: int) -> str:
    """Action -> SGF point, e.g. 0 -> "aa", pass -> "" (FF[4])."""
    check_board_size(n)
    a = check_action(a, n)
    if a == n * n:
        return ""
    row, col = divmod(a, n)
    return _SGF_LETTERS[col] + _SGF_LETTERS[row]


def sgf_to_action(point: str, n: int) -> int:
    """SGF point -> action; "" and (on boards up to 19x19) "tt" are pass."""
    check_board_size(n)
    if not isinstance(point, str):
        raise ValueError(f"SGF point must be a string, got {point!r}")
    if point == "" or point == "tt":
        return n * n
    if len(point) != 2 or any(ch not in _SGF_LETTERS[:n] for ch in point):
        raise ValueError(f"{point!r} is not an SGF point on a {n}x{n} board")
    return _SGF_LETTERS.index(point[1]) * n + _SGF_LETTERS.index(point[0])
