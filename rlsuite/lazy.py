"""Optional heavy modules imported on first use, with one clear message when one is missing.

pygame is a declared dependency, but only the views and windows need it: importing it at module
level would make `import rlsuite.envs.go` open SDL and print pygame's banner for every training
run. Each view calls `pygame(feature)` when it first draws.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def pygame(feature: str) -> ModuleType:
    """The pygame module (banner hidden, no audio device); `feature` names what needs it in the
    ImportError raised when pygame is not installed."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # no view plays sound
    try:
        return importlib.import_module("pygame")
    except ImportError as e:
        raise ImportError(f"{feature} needs pygame: pip install pygame") from e
