"""Shared settings and strategies of the property suite (the fast profile runs in `make test`).

The oracles (what counts as a valid result, which errors are documented) are those of
`scripts/fuzz.py`'s targets, so the property suite and the mutation fuzzer judge alike:
`target.run(input)` answers "ok", "documented", "wrong:..." or "silent:...". Examples are
derandomized, so a run is reproducible; `RLSUITE_FUZZ_SCALE=10` multiplies every test's
example count for a longer local run.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))  # spawn inherits it
import fuzz  # noqa: F401  (scripts/fuzz.py, re-exported to the tests)

ACCEPTED = ("ok", "documented")

SCALE = float(os.environ.get("RLSUITE_FUZZ_SCALE", "1"))

HOSTILE = [
    b":", b"::::", b"nan", b"inf", b"-inf", b"1e400", b"1e308", b"-1", b"0", b"1.5", b"\xff",
    b"\xc3\xa9", b"\x00", b"#", b"\r\n", b"\t", b"\n", b" ", b"[", b"]", b"(", b")", b";",
    b"{", b"}", b'"', b"\\", b"terminal_NI", b"/FIXED_NI", b"Numsites", b"NetDegree", b"End",
    b"B[", b"W[", b"CA[hex]", b"SZ[", b"node {", b"__tensor__", b"null", b"9" * 40,
]


def fast(examples: int) -> settings:
    """The fast profile for one test: `examples` (times the scale), no deadline (the first
    example may compile numba code), reproducible."""
    return settings(
        max_examples=max(1, int(examples * SCALE)), deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few edits: hostile tokens inserted or replacing spans, spans deleted or
    repeated, random bytes inserted."""
    buf = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(buf)))
        op = draw(st.integers(0, 3))
        if op == 0:
            buf[at:at + draw(st.integers(0, 8))] = draw(st.sampled_from(HOSTILE))
        elif op == 1:
            buf[at:at + draw(st.integers(1, 40))] = b""
        elif op == 2:
            buf[at:at] = bytes(buf[at:at + draw(st.integers(1, 60))]) * draw(st.integers(1, 4))
        else:
            buf[at:at] = draw(st.binary(min_size=1, max_size=8))
    return bytes(buf)
