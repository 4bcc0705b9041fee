"""The Go Text Protocol, version 2 (Farnebäck 2002): both sides of the wire.

- `protocol`: GTP v2 preprocessing, command parsing and reply formatting, shared by both sides;
- `client`: `GtpClient` drives an engine subprocess (GnuGo, or our own engine) with timeouts
  and pipelined batches; `gnugo_argv` starts GnuGo with rules matching `GoGame`'s;
- `engine`: `GtpEngine` serves any `Player` to a controller (`rlsuite gtp --player SPEC`);
- `player`: `GtpPlayer`, a GTP engine as a `Player` (the arena's `gnugo:` and `gtp:` specs).

This package never imports the arena; the arena's player registry imports `player` on demand.
"""

from rlsuite.gtp.client import (
    EngineFailure,
    GnuGoNotFound,
    GtpClient,
    GtpCommandError,
    find_gnugo,
    gnugo_argv,
)
from rlsuite.gtp.engine import GtpEngine
from rlsuite.gtp.protocol import Command, GtpError, format_response, parse_command

__all__ = [
    "Command",
    "EngineFailure",
    "GnuGoNotFound",
    "GtpClient",
    "GtpCommandError",
    "GtpEngine",
    "GtpError",
    "find_gnugo",
    "gnugo_argv",
    "parse_command",
    "format_response",
]
