"""Game ids: every spelling a user may type, resolved to one ALE ROM id.

ale-py names ROMs in snake_case (`ms_pacman`) while Gymnasium ids use PascalCase with a prefix and
version (`ALE/MsPacman-v5`, `MsPacmanNoFrameskip-v4`). Both resolve through one key (lowercase,
no separators), so `resolve_game` accepts all of them; an unknown name gets close matches instead
of the ROM loader's bare assertion.
"""

from __future__ import annotations

import difflib
import importlib
import re
from functools import cache
from types import ModuleType

INSTALL_HINT = 'ale-py is not installed; install the Atari extra: pip install "rlsuite[atari]"'

_DECORATIONS = re.compile(r"^(ALE/)?(?P<name>.*?)(NoFrameskip|Deterministic)?(-v\d+)?$")


def require_ale() -> ModuleType:
    """Import ale_py, or fail with the command that installs it."""
    try:
        return importlib.import_module("ale_py")
    except ImportError as e:
        raise ImportError(INSTALL_HINT) from e


def pascal_name(rom_id: str) -> str:
    """`ms_pacman` -> `MsPacman`, the spelling of Gymnasium's `ALE/MsPacman-v5`."""
    return rom_id.title().replace("_", "")


def game_key(game: str) -> str:
    """Spelling-free key: "ALE/MsPacman-v5", "MsPacmanNoFrameskip-v4", "ms_pacman" -> "mspacman"."""
    match = _DECORATIONS.match(game.strip())
    name = match.group("name") if match else game
    return name.replace("_", "").replace("-", "").lower()


@cache
def available_games() -> dict[str, str]:
    """Lookup key -> ROM id for every ROM bundled with the installed ale-py."""
    roms = require_ale().roms
    return {game_key(rom): rom for rom in roms.get_all_rom_ids()}


def resolve_game(game: str) -> str:
    """ROM id for `game` given as "Pong", "pong", "ALE/Pong-v5", "PongNoFrameskip-v4", "ms_pacman".

    Raises ValueError listing the closest known names when nothing matches.
    """
    if not isinstance(game, str) or not game.strip():
        raise ValueError(f"game must be a non-empty string such as 'Pong', got {game!r}")
    games = available_games()
    rom = games.get(game_key(game))
    if rom is not None:
        return rom
    by_key = {key: pascal_name(rom) for key, rom in games.items()}
    close = difflib.get_close_matches(game_key(game), list(by_key), n=5, cutoff=0.6)
    hint = ", ".join(by_key[c] for c in close) if close else "none"
    raise ValueError(
        f"unknown Atari game {game!r}; close matches: {hint} "
        f"({len(games)} games are available, e.g. Pong, Breakout, MsPacman)"
    )
