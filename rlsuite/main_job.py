"""`make run`: the suite's main job on embedded defaults, headless."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("rlsuite: foundation installed; agents land with their issues.")
    return 0
