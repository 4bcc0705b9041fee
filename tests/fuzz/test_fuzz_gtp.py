"""GTP engine (`GtpEngine.serve`, the `rlsuite gtp` entry): any input lines get exactly one
well-formed reply per command line, and only `quit` or the end of input stops the loop."""

from __future__ import annotations

from fuzz_settings import ACCEPTED, fast, fuzz, mutated
from hypothesis import given
from hypothesis import strategies as st

GTP = fuzz.GtpTarget()


@fast(150)
@given(st.lists(st.one_of(st.text(max_size=30).map(str.encode), st.binary(max_size=30)),
                max_size=6))
def test_arbitrary_lines(lines):
    assert GTP.run(lines) in ACCEPTED


@fast(200)
@given(st.lists(st.sampled_from(GTP.SEED).flatmap(mutated), min_size=1, max_size=6))
def test_mutated_commands(lines):
    assert GTP.run(lines) in ACCEPTED
