"""SGF: any bytes give a replayable record that round-trips, or an SGFError."""

from __future__ import annotations

from fuzz_settings import ACCEPTED, fast, fuzz, mutated
from hypothesis import given
from hypothesis import strategies as st

SGF = fuzz.SgfTarget()


@fast(200)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data):
    assert SGF.run(data) in ACCEPTED


@fast(400)
@given(st.sampled_from(SGF.seeds).flatmap(mutated))
def test_mutated_records(data):
    assert SGF.run(data) in ACCEPTED


@st.composite
def _records(draw: st.DrawFn) -> bytes:
    letters = "abcdefghijklmnopqrst"
    root = b"(;GM[" + draw(st.sampled_from([b"1", b"2", b"x"])) + b"]"
    root += b"SZ[" + str(draw(st.integers(-2, 30))).encode() + b"]"
    root += b"CA[" + draw(st.sampled_from([b"UTF-8", b"latin-1", b"hex", b"", b"\xff"])) + b"]"
    root += b"KM[" + draw(st.sampled_from([b"6.5", b"nan", b"inf", b"-1e400", b"x"])) + b"]"
    root += b"PB[" + draw(st.binary(max_size=6)).replace(b"]", b"") + b"]"
    nodes = []
    for _ in range(draw(st.integers(0, 8))):
        colours = draw(st.sampled_from([b"B", b"W", b"BW", b"AB"]))
        point = draw(st.text(letters, max_size=3)).encode()
        nodes.append(b";" + b"".join(c.to_bytes(1, "big") + b"[" + point + b"]" for c in colours))
    return root + b"".join(nodes) + b")"


@fast(400)
@given(_records())
def test_structured_records(data):
    assert SGF.run(data) in ACCEPTED
