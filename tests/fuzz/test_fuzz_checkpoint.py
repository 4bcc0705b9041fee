"""Checkpoints: a manifest with any field replaced or removed, or mutated bytes, loads into
the module and optimizer (which then train), or raises CheckpointError with both untouched."""

from __future__ import annotations

import json
from typing import Any

from fuzz_settings import ACCEPTED, fast, fuzz, mutated
from hypothesis import given
from hypothesis import strategies as st

CHECKPOINT = fuzz.CheckpointTarget()
MANIFEST = json.loads(CHECKPOINT.seed["manifest.json"])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                 max_size=3),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@fast(200)
@given(st.sampled_from([p for p in _paths(MANIFEST) if p]), st.one_of(st.just("<delete>"), JSON))
def test_any_field_replaced_or_removed(path, value):
    manifest = json.loads(CHECKPOINT.seed["manifest.json"])
    node = manifest
    for key in path[:-1]:
        node = node[key]
    if value == "<delete>":
        del node[path[-1]]
    else:
        node[path[-1]] = value
    files = {**CHECKPOINT.seed, "manifest.json": json.dumps(manifest).encode()}
    assert CHECKPOINT.run(files) in ACCEPTED


@fast(80)
@given(st.sampled_from(sorted(CHECKPOINT.seed)), st.data())
def test_mutated_bytes(name, data):
    files = {**CHECKPOINT.seed, name: data.draw(mutated(CHECKPOINT.seed[name]))}
    assert CHECKPOINT.run(files) in ACCEPTED
