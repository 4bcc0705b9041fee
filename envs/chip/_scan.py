"""A compiled tokenizer for whitespace-separated netlist files (Bookshelf).

`scan` splits a file's bytes into tokens in one numba pass (whitespace separates, `:` is a token
of its own, `#` starts a comment) and records each token's line, so readers work on token arrays
with numpy and every error still knows its line. Numbers are parsed in numba; names become one
fixed-width bytes array, matched against node names with a sorted search instead of a Python
dict lookup per pin.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from rlsuite.envs.chip._text import MAX_ABS, NetlistParseError, read_bytes

_COLON, _HASH, _NL = 58, 35, 10


@numba.njit(cache=True)
def _walk(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, lines: np.ndarray,
          write: bool):
    """Find the tokens; store their ranges and lines only when `write` (the arrays then hold
    at least as many entries as a counting walk returned: numba checks no bounds)."""
    n = buf.size
    t = 0
    line = 0
    i = 0
    while i < n:
        c = buf[i]
        if c == _NL:
            line += 1
            i += 1
        elif c == _HASH:
            while i < n and buf[i] != _NL:
                i += 1
        elif c <= 32:
            i += 1
        else:
            j = i + 1
            if c != _COLON:
                while j < n and buf[j] > 32 and buf[j] != _COLON and buf[j] != _HASH:
                    j += 1
            if write:
                starts[t] = i
                ends[t] = j
                lines[t] = line
            t += 1
            i = j
    return t


def _scan(buf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(start, end, 0-based line) of every token; the arrays are sized by a counting walk
    first (sizing them from the file length once let a run of ':' overrun the heap)."""
    none = np.empty(0, np.int64)
    count = _walk(buf, none, none, none, False)
    start, end, line = (np.empty(count, np.int64) for _ in range(3))
    _walk(buf, start, end, line, True)
    return start, end, line


@numba.njit(cache=True)
def _floats(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """Decimal literals ([+-]digits[.digits][e[+-]digits]); ok[k] False where malformed.

    The digits are gathered exactly in an int64 and scaled by one power of ten, so values with
    up to 15 significant digits and |exponent| <= 22 are correctly rounded (same as float()).
    """
    out = np.empty(starts.size)
    ok = np.ones(starts.size, np.bool_)
    for k in range(starts.size):
        i, e = starts[k], ends[k]
        sign = 1.0
        if i < e and (buf[i] == 45 or buf[i] == 43):
            sign = -1.0 if buf[i] == 45 else 1.0
            i += 1
        mant = 0
        ndigits = 0
        scale = 0
        seen_dot = False
        while i < e:
            c = buf[i]
            if 48 <= c <= 57:
                ndigits += 1
                if mant < 100_000_000_000_000_000:
                    mant = mant * 10 + (c - 48)
                    if seen_dot:
                        scale -= 1
                elif not seen_dot:
                    scale += 1  # digit beyond int64 precision: keep its magnitude only
                i += 1
            elif c == 46 and not seen_dot:
                seen_dot = True
                i += 1
            else:
                break
        if ndigits == 0:
            ok[k] = False
        if i < e and (buf[i] == 101 or buf[i] == 69):
            i += 1
            esign = 1
            if i < e and (buf[i] == 45 or buf[i] == 43):
                esign = -1 if buf[i] == 45 else 1
                i += 1
            ev = 0
            nd = 0
            while i < e and 48 <= buf[i] <= 57:
                if ev < 1_000_000:  # saturate: a longer exponent must not wrap around
                    ev = ev * 10 + (buf[i] - 48)
                nd += 1
                i += 1
            if nd == 0:
                ok[k] = False
            scale += esign * ev
        if i != e:
            ok[k] = False
        value = float(mant) * 10.0**scale if scale >= 0 else float(mant) / 10.0 ** (-scale)
        out[k] = sign * value
    return out, ok


@numba.njit(cache=True)
def _gather(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int):
    out = np.zeros((starts.size, width), np.uint8)
    for k in range(starts.size):
        m = min(ends[k] - starts[k], width)
        out[k, :m] = buf[starts[k] : starts[k] + m]
    return out


@dataclass
class Tokens:
    """Tokens of one file: byte ranges, 0-based line of each token, records grouped by line."""

    path: Path
    buf: np.ndarray
    start: np.ndarray
    end: np.ndarray
    line: np.ndarray
    rec_first: np.ndarray
    """Index of the first token of each non-empty line (a record)."""
    rec_len: np.ndarray
    """Number of tokens of each record."""

    @classmethod
    def read(cls, path: Path) -> Tokens:
        data = read_bytes(path)
        buf = np.frombuffer(data, dtype=np.uint8)
        start, end, line = _scan(buf)
        first = np.flatnonzero(np.r_[True, line[1:] != line[:-1]]) if line.size else line
        length = np.diff(np.append(first, line.size))
        return cls(path, buf, start, end, line, first, length)

    def strings(self, tok: np.ndarray) -> np.ndarray:
        """Fixed-width bytes array (dtype S) of the given tokens."""
        tok = np.asarray(tok, dtype=np.int64)
        width = int((self.end[tok] - self.start[tok]).max()) if tok.size else 1
        raw = _gather(self.buf, self.start[tok], self.end[tok], max(width, 1))
        return raw.view(f"S{max(width, 1)}").ravel()

    def text(self, tok: int) -> str:
        """One token for messages (undecodable bytes replaced)."""
        return bytes(self.buf[self.start[tok] : self.end[tok]]).decode("utf-8", "replace")

    def names(self, tok: np.ndarray, what: str) -> list[str]:
        """The given tokens as strings; NetlistParseError names the line of one that is not
        UTF-8 (names are matched as bytes, so two bad names must not collapse into one)."""
        tok = np.asarray(tok, dtype=np.int64)
        out = []
        for k, raw in enumerate(self.strings(tok).tolist()):
            try:
                out.append(raw.decode("utf-8"))
            except UnicodeDecodeError:
                raise NetlistParseError(
                    self.path, self.lineno(int(tok[k])), f"{what} {raw!r} is not UTF-8", what
                ) from None
        return out

    def floats(
        self, tok: np.ndarray, what: str, low: float = -MAX_ABS, high: float = MAX_ABS
    ) -> np.ndarray:
        """Numbers of the given tokens, each within [low, high] (finite: an overflow such as
        1e400 reads as inf and is refused); NetlistParseError names line and field."""
        tok = np.asarray(tok, dtype=np.int64)
        values, ok = _floats(self.buf, self.start[tok], self.end[tok])
        if not ok.all():
            k = int(tok[np.flatnonzero(~ok)[0]])
            raise NetlistParseError(
                self.path, self.lineno(k), f"{what}: {self.text(k)!r} is not a number", what
            )
        bad = np.flatnonzero(~((values >= low) & (values <= high)))
        if bad.size:
            k = int(tok[bad[0]])
            raise NetlistParseError(
                self.path, self.lineno(k),
                f"{what}: {self.text(k)!r} is outside [{low:g}, {high:g}]", what,
            )
        return values

    def lineno(self, tok: int) -> int:
        """1-based line of a token."""
        return int(self.line[tok]) + 1

    def last_line(self) -> int:
        return int(np.count_nonzero(self.buf == _NL)) + 1


def lookup(sorted_names: np.ndarray, order: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Index (into the unsorted table) of each of `names`, -1 where absent.

    `sorted_names` is the S-dtype name table sorted, `order` the argsort that sorted it.
    """
    width = max(sorted_names.dtype.itemsize, names.dtype.itemsize)
    table = sorted_names.astype(f"S{width}")
    keys = names.astype(f"S{width}")
    pos = np.clip(np.searchsorted(table, keys), 0, max(len(table) - 1, 0))
    if not len(table):
        return np.full(len(keys), -1, dtype=np.int64)
    found = table[pos] == keys
    return np.where(found, order[pos], -1)
