"""A league directory: every game the arena has played, kept across calls.

Layout:

    LEAGUE/games.jsonl     one JSON record per game (players, colours, result, moves, times)
    LEAGUE/sgf/ID.sgf      the game as SGF (Go only), named by the record's id
    LEAGUE/elo.png         ratings with their bounds, rewritten after each fit

Records are appended one line at a time, flushed and fsynced, so a crash loses at most the game
being written. A line cut short by a crash is skipped when reading (and counted in
`League.skipped`); the next append starts on a fresh line, so nothing after it is lost.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rlsuite.arena.elo import Result

RECORDS = "games.jsonl"
SGF_DIR = "sgf"


@dataclass
class MatchRecord:
    """One finished game as stored in `games.jsonl`.

    `result` uses SGF's RE notation: "B+3.5", "W+R" (resignation), "B+F" (forfeit: the loser
    crashed, hung or played an illegal move; `error` says why), "0" (draw).
    """

    game: str
    config: dict[str, Any]
    black: str
    white: str
    result: str
    winner: str | None  # "black", "white" or None for a draw
    reason: str  # "score", "resign", "forfeit", "move cap"
    moves: list[str]
    duration_s: float
    think_s: dict[str, float]
    started_at: str
    score: float | None = None
    error: str | None = None
    seed: int | None = None
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    sgf: str | None = None  # path relative to the league directory

    def result_for_elo(self) -> Result:
        """Black's score against white: 1 win, 0.5 draw, 0 loss."""
        score = {"black": 1.0, "white": 0.0, None: 0.5}[self.winner]
        return Result(self.black, self.white, score)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MatchRecord:
        names = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown record fields {unknown}")
        return cls(**data)


class League:
    """Reads and appends the records of one league directory (created on first use)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.exists() and not self.path.is_dir():
            raise ValueError(f"league path {self.path} exists and is not a directory")
        self.path.mkdir(parents=True, exist_ok=True)
        self.records_file = self.path / RECORDS
        self.skipped: list[int] = []  # line numbers of damaged lines seen by the last read

    def append(self, record: MatchRecord, sgf_text: str | None = None) -> MatchRecord:
        """Store one game: its SGF first (atomically), then its JSON line."""
        if sgf_text is not None:
            sgf_dir = self.path / SGF_DIR
            sgf_dir.mkdir(exist_ok=True)
            target = sgf_dir / f"{record.id}.sgf"
            tmp = target.with_suffix(".sgf.tmp")
            tmp.write_text(sgf_text)
            os.replace(tmp, target)
            record.sgf = str(target.relative_to(self.path))
        line = json.dumps(asdict(record), separators=(",", ":"))
        with self.records_file.open("a+b") as f:
            if f.tell() > 0:
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":  # a previous writer died mid-line: start afresh
                    f.write(b"\n")
            f.write(line.encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        return record

    def records(self) -> list[MatchRecord]:
        """All readable records, oldest first; damaged lines are skipped and noted."""
        self.skipped = []
        if not self.records_file.exists():
            return []
        out = []
        with self.records_file.open() as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(MatchRecord.from_json(json.loads(line)))
                except (json.JSONDecodeError, TypeError, ValueError):
                    self.skipped.append(number)
        return out

    def select(self, game: str, config: dict[str, Any]) -> list[MatchRecord]:
        """Records of one game configuration (ratings only compare like with like)."""
        return [r for r in self.records() if r.game == game and r.config == config]


def results(records: Iterable[MatchRecord]) -> list[Result]:
    """Elo inputs from match records."""
    return [r.result_for_elo() for r in records]
