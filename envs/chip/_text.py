"""Helpers shared by the netlist readers: file/line errors, comment stripping, orientations.

Bookshelf files go through the compiled tokenizer in `_scan`; the protobuf-text reader uses
`read_text` and computes line numbers only on its error path.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np


class NetlistError(ValueError):
    """A netlist is unusable: a malformed file, or a value out of range (a NaN, an infinite
    or huge coordinate, a grid too large to allocate). The message starts with `file:line:`
    where a line applies and names the field; `path`, `line` and `field` hold the same."""

    def __init__(
        self, path: Path | str, line: int | None, message: str, field: str | None = None
    ) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")
        self.path = str(path)
        self.line = line
        self.field = field


class NetlistParseError(NetlistError):
    """A netlist file does not parse (the reader's `NetlistError`)."""


MAX_ABS = 1e12
"""Largest magnitude accepted for any coordinate, size, offset or weight. Real designs stay
below 1e9 database units; beyond 1e12 a value is corrupt, and sums of such values lose the
precision the grid and the wirelength need (1e308 overflows to inf in one addition)."""


def read_bytes(path: Path) -> bytes:
    """A netlist file's bytes; FileNotFoundError when absent, NetlistParseError when the path
    is a directory or cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"netlist file not found: {path}") from None
    except (OSError, ValueError) as err:  # a directory, no permission, a NUL in the name
        reason = getattr(err, "strerror", None) or str(err)
        raise NetlistParseError(path, None, f"cannot read the file: {reason}") from None


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text of a netlist file; NetlistParseError names the line of a bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise NetlistParseError(
            path, line, f"not UTF-8 text (byte {data[err.start]:#04x} at offset {err.start})"
        ) from None


def check_range(
    path: Path, line: int | None, field: str, value: float, low: float = -MAX_ABS
) -> float:
    """`value` if finite and within [low, MAX_ABS], else NetlistParseError naming the field."""
    if not (low <= value <= MAX_ABS):  # NaN fails both comparisons
        raise NetlistParseError(
            path, line, f"{field} {value!r} is outside [{low:g}, {MAX_ABS:g}]", field
        )
    return value


_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|#[^\n]*')


def read_text(path: Path) -> str:
    """File contents (strict UTF-8) with `#` comments blanked outside quotes; newlines kept."""
    raw = decode(path, read_bytes(path))
    return _COMMENT.sub(lambda m: m.group(1) or "", raw)


def line_at(text: str, offset: int) -> int:
    """1-based line number of a character offset."""
    return text.count("\n", 0, offset) + 1


# Orientation of a node as a linear map of pin offsets, (dx, dy) -> (a dx + b dy, c dx + d dy),
# following LEF/DEF and Bookshelf: W/E rotate by +/-90 degrees, F mirrors about the y axis.
_ORIENT = {
    "N": (1, 0, 0, 1),
    "S": (-1, 0, 0, -1),
    "W": (0, -1, 1, 0),
    "E": (0, 1, -1, 0),
    "FN": (-1, 0, 0, 1),
    "FS": (1, 0, 0, -1),
    "FW": (0, 1, 1, 0),
    "FE": (0, -1, -1, 0),
}
ORIENTATIONS = tuple(_ORIENT)


def orient_matrix(orient: str, inverse: bool = False) -> np.ndarray:
    """2x2 map of offsets for one orientation (its transpose, the inverse, with `inverse`)."""
    try:
        a, b, c, d = _ORIENT[orient.upper()]
    except KeyError:
        raise ValueError(f"unknown orientation {orient!r}; expected {ORIENTATIONS}") from None
    mat = np.array([[a, b], [c, d]], dtype=np.float64)
    return mat.T if inverse else mat


def apply_orientations(
    size: np.ndarray,
    pin_node: np.ndarray,
    pin_offset: np.ndarray,
    orient: list[str],
    inverse: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(size, pin_offset) turned into (or, with `inverse`, out of) each node's orientation."""
    size = size.copy()
    pin_offset = pin_offset.copy()
    codes = np.array([o.upper() if o else "N" for o in orient])
    for o in set(codes.tolist()) - {"N"}:
        nodes = codes == o
        mat = orient_matrix(o, inverse)
        if mat[0, 0] == 0:  # quarter turn: the footprint swaps width and height
            size[nodes] = size[nodes][:, ::-1]
        pins = nodes[pin_node]
        pin_offset[pins] = pin_offset[pins] @ mat.T
    return size, pin_offset
