"""Env actions and Go states: the registered ids with default arguments take any object as
an action and return a valid transition or raise ValueError; corrupted Go states give a
GoStateError (or a result), never a crash or a hang."""

from __future__ import annotations

import numpy as np
import pytest
from fuzz_settings import ACCEPTED, fast, fuzz
from hypothesis import given
from hypothesis import strategies as st

ACTIONS = st.one_of(
    st.integers(-5, 300), st.integers(), st.floats(), st.text(max_size=4), st.booleans(),
    st.none(), st.lists(st.integers(0, 5), max_size=2),
    st.integers(-5, 300).map(np.int64), st.integers(0, 300).map(np.array),
    st.floats(-5, 300).map(np.float32),
)
ENVS = {t.env_id: t for t in (fuzz.GoActionTarget(), fuzz.ChipActionTarget())}
GO_STATE = fuzz.GoStateTarget()


@pytest.mark.parametrize("env_id", sorted(ENVS))
@fast(100)
@given(seed=st.integers(0, 1000), actions=st.lists(ACTIONS, min_size=1, max_size=10))
def test_any_action_is_a_transition_or_a_value_error(env_id, seed, actions):
    assert ENVS[env_id].run((seed, actions)) in ACCEPTED


@fast(300)
@given(st.lists(st.one_of(
    st.tuples(st.just(0), st.integers(0, 10**6), st.integers(0, 255)),
    st.tuples(st.just(1), st.integers(0, 8), st.integers(-(2**31), 2**31 - 1)),
), min_size=1, max_size=5))
def test_corrupted_go_states(edits):
    assert GO_STATE.run(edits) in ACCEPTED
