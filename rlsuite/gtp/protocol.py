"""The Go Text Protocol, version 2 (Farnebäck 2002): lines in, replies out, on either side.

Preprocessing follows section 2.3 of the spec exactly, which is stricter than Python's string
methods: control characters other than HT and LF are dropped, `#` starts a comment, HT becomes
a space, and a line left empty or of spaces is ignored. Words are separated by ASCII spaces
only (U+00A0 is a character of a command name, not a separator) and a command id is ASCII
digits only (`²` or Arabic-Indic digits are not an id). Ids are kept as the digit text, so an
id of any length is echoed unchanged without ever becoming a Python int.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GTP_FLOAT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
MAX_INT_DIGITS = 9  # larger GTP integers are answered as out of range, never parsed


class GtpError(Exception):
    """A command failed; the message is what follows `? ` in the reply (e.g. `illegal move`)."""


@dataclass(frozen=True)
class Command:
    """One parsed command line: optional id (its ASCII digits), lower-cased name, arguments."""

    id: str | None
    name: str
    args: tuple[str, ...]


def preprocess(line: str) -> str:
    """A line as GTP v2 section 2.3 prescribes: no control characters but HT and LF, no
    comment, tabs as spaces."""
    kept = "".join(c for c in line if c in "\t\n" or 32 <= ord(c) != 127)
    return kept.split("#", 1)[0].replace("\t", " ").replace("\n", "")


def parse_command(line: str) -> Command | None:
    """Parse one command line; None for the lines the spec says to ignore (empty, only
    spaces, only a comment)."""
    words = [w for w in preprocess(line).split(" ") if w]
    if not words:
        return None
    cmd_id = None
    if is_ascii_int(words[0]):
        cmd_id = words[0]
        words = words[1:]
        if not words:
            return Command(cmd_id, "", ())
    return Command(cmd_id, words[0].lower(), tuple(words[1:]))


def is_ascii_int(word: str) -> bool:
    """A GTP `int`: one or more ASCII digits (`str.isdigit` also accepts `²` and `٣`)."""
    return word.isascii() and word.isdigit()


def parse_int(word: str, *, low: int, high: int, range_error: str) -> int:
    """A GTP int within [low, high]: `syntax error` if not an int, `range_error` if outside."""
    if not is_ascii_int(word):
        raise GtpError("syntax error")
    if len(word.lstrip("0")) > MAX_INT_DIGITS:
        raise GtpError(range_error)
    value = int(word)
    if not low <= value <= high:
        raise GtpError(range_error)
    return value


def parse_float(word: str) -> float:
    """A GTP float in ASCII decimal notation (no `nan`, `inf`, `1_0` or non-ASCII digits)."""
    if GTP_FLOAT.fullmatch(word) is None:
        raise GtpError("syntax error")
    return float(word)


def format_response(cmd_id: str | int | None, text: str, *, ok: bool = True) -> str:
    """`=[id] text` or `?[id] text`, ended by the one empty line the spec requires.

    Empty lines inside `text` would end the reply early and put the controller out of step,
    so they are dropped (a leading newline, as `showboard` uses, is kept).
    """
    head = ("=" if ok else "?") + ("" if cmd_id is None else str(cmd_id))
    first, *rest = text.rstrip("\n").replace("\r", "").split("\n")
    body = "\n".join([first, *(line for line in rest if line.strip())])
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

    if not word.isascii() or len(word) > 4:  # "A١" must not read as A1
        raise GtpError("invalid color or coordinate")
    try:
        return int(gtp_to_action(word, board_size))
    except ValueError as e:
        raise GtpError("invalid color or coordinate") from e


def format_vertex(action: int, board_size: int) -> str:
    """Action index -> GTP vertex (`pass` for N*N)."""
    from rlsuite.envs.go import action_to_gtp

    return str(action_to_gtp(action, board_size))
