"""Bookshelf and circuit_training netlists: mutated files give a netlist whose metrics are
finite, or a NetlistError (FileNotFoundError when the .aux names a missing file); a non-finite
or huge number in a numeric field is never accepted."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from fuzz_settings import ACCEPTED, fast, fuzz, mutated
from hypothesis import given
from hypothesis import strategies as st

from rlsuite.envs.chip import NetlistError, load_netlist

BOOKSHELF = fuzz.BookshelfTarget()
CIRCUIT_TRAINING = fuzz.CircuitTrainingTarget()


@st.composite
def _mutated_design(draw: st.DrawFn, designs: list[dict[str, bytes]]) -> dict[str, bytes]:
    files = dict(draw(st.sampled_from(designs)))
    name = draw(st.sampled_from(sorted(files)))
    files[name] = draw(mutated(files[name]))
    return files


@fast(150)
@given(_mutated_design(BOOKSHELF.seeds))
def test_mutated_bookshelf(files):
    assert BOOKSHELF.run(files) in ACCEPTED


@fast(60)
@given(st.sampled_from(BOOKSHELF.seeds), st.data(),
       st.sampled_from(["nan", "inf", "-inf", "1e400", "1e308", "-2e12", "1e99999"]))
def test_a_bad_coordinate_is_never_accepted(design, data, bad):
    files = dict(design)
    pl = next(n for n in files if n.endswith(".pl"))
    lines = files[pl].decode().split("\n")
    rows = [i for i, line in enumerate(lines) if len(line.split()) >= 3
            and not line.startswith(("UCLA", "#"))]
    row = data.draw(st.sampled_from(rows))
    column = data.draw(st.sampled_from([1, 2]))
    parts = lines[row].split()
    parts[column] = bad
    lines[row] = "\t".join(parts)
    files[pl] = "\n".join(lines).encode()
    with tempfile.TemporaryDirectory() as tmp:
        for name, blob in files.items():
            (Path(tmp) / name).write_bytes(blob)
        with pytest.raises(NetlistError, match=rf":{row + 1}: {'xy'[column - 1]}") as err:
            load_netlist(Path(tmp) / next(n for n in files if n.endswith(".aux")))
    assert err.value.line == row + 1


@pytest.mark.skipif(not CIRCUIT_TRAINING.seeds, reason="circuit_training samples not found")
@fast(150)
@given(st.data())
def test_mutated_circuit_training(data):
    assert CIRCUIT_TRAINING.run(data.draw(_mutated_design(CIRCUIT_TRAINING.seeds))) in ACCEPTED
