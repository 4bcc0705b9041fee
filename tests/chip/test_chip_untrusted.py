"""Hostile netlist files: every one gives a `NetlistError` naming file, line and field, before
anything is sized by a bad value; never a crash, a huge allocation or NaN that travels on."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest

from rlsuite.envs.chip import ChipGame, NetlistError, load_netlist, synthetic_netlist
from rlsuite.envs.chip.env import ChipPlacementEnv

DIALECTS = Path(__file__).parent / "dialects"


def _ispd(tmp_path: Path) -> Path:
    """A writable copy of the ISPD 2005 fixture; returns its .aux."""
    src = DIALECTS / "ispd2005"
    for f in src.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    return tmp_path / "adaptec0.aux"


def _replace(path: Path, old: bytes, new: bytes) -> int:
    data = path.read_bytes()
    at = data.index(old)
    path.write_bytes(data[:at] + new + data[at + len(old):])
    return data.count(b"\n", 0, at) + 1


def test_a_run_of_colons_is_a_parse_error_not_heap_damage(tmp_path):
    aux = _ispd(tmp_path)
    nodes = aux.with_suffix(".nodes")
    nodes.write_bytes(nodes.read_bytes() + b":" * 100_000 + b"\n")
    with pytest.raises(NetlistError, match=r"adaptec0\.nodes:\d+: cannot parse node line"):
        load_netlist(aux)


def test_non_ascii_names_load_and_undecodable_ones_are_named(tmp_path):
    aux = _ispd(tmp_path)
    for suffix in (".nodes", ".nets", ".pl"):
        path = aux.with_suffix(suffix)
        path.write_bytes(path.read_bytes().replace(b"o5", "\u00f6\u4e2d5".encode()))
    nl = load_netlist(aux)
    assert "\u00f6\u4e2d5" in nl.node_names
    nodes = aux.with_suffix(".nodes")
    line = _replace(nodes, "\u00f6\u4e2d5".encode(), b"o\xff5")
    with pytest.raises(NetlistError, match=rf"adaptec0\.nodes:{line}: node name .* not UTF-8"):
        load_netlist(aux)


@pytest.mark.parametrize(
    "suffix, old, new, field",
    [
        (".pl", b"o0\t10\t0", b"o0\t1e308\t0", "x"),
        (".pl", b"o0\t10\t0", b"o0\t10\t-1e400", "y"),
        (".nodes", b"o1\t8\t12", b"o1\t8e300\t12", "width"),
        (".nets", b"-0.500000\t-6.000000", b"-0.500000\t1e99999999999999999999", "pin y offset"),
        (".scl", b"NumSites  :  180", b"NumSites  :  inf", "NumSites"),
        (".scl", b"Height        :   12", b"Height        :   nan", "Height"),
    ],
)
def test_non_finite_and_huge_bookshelf_values_name_line_and_field(tmp_path, suffix, old, new,
                                                                  field):
    aux = _ispd(tmp_path)
    line = _replace(aux.with_suffix(suffix), old, new)
    with pytest.raises(NetlistError, match=rf"adaptec0\{suffix}:{line}: {field}") as err:
        load_netlist(aux)
    assert err.value.field == field and err.value.line == line


def test_wts_weight_that_overflows_is_refused(tmp_path):
    aux = DIALECTS / "ispd2006"
    for f in aux.iterdir():
        (tmp_path / f.name).write_bytes(f.read_bytes())
    line = _replace(tmp_path / "newblue0.wts", b"n1\t2.5", b"n1\t1e400")
    with pytest.raises(NetlistError, match=rf"newblue0\.wts:{line}: weight: '1e400' is outside"):
        load_netlist(tmp_path / "newblue0.aux")


def test_directory_in_place_of_a_file(tmp_path):
    aux = _ispd(tmp_path)
    aux.with_suffix(".pl").unlink()
    aux.with_suffix(".pl").mkdir()
    with pytest.raises(NetlistError, match=r"adaptec0\.pl: cannot read the file"):
        load_netlist(aux)


# ------------------------------------------------------------------ circuit_training
@pytest.mark.parametrize(
    "old, new, field",
    [
        (b"# Columns : 2  Rows : 2", b"# Columns : 100000  Rows : 100000", "Columns/Rows"),
        (b"# Columns : 2  Rows : 2", b"# Columns : 2.5  Rows : 2", "Columns/Rows"),
        (b"hor : 70.33 ver : 74.51", b"hor : 0 ver : 74.51", "Routes per micron"),
        (b"hor : 70.33 ver : 74.51", b"hor : 70.33 ver : -3", "Routes per micron"),
        (b"hor : 70.33 ver : 74.51", b"hor : nan ver : 1", "Routes per micron"),
        (b"# Width : 500.000  Height : 500.000", b"# Width : inf  Height : 500.000",
         "Width/Height"),
        (b"2 125 375 N 0", b"2 nan 375 N 0", "x"),
        (b"3 375 375 N 0", b"3 375 1e308 N 0", "y"),
        (b"# Overlap threshold : 0.004", b"# Blockage : 0 0 nan 10 1", "Blockage"),
        (b"# Overlap threshold : 0.004", b"# Blockage : 0 0 10 10 7", "Blockage"),
        (b"# Overlap threshold : 0.004", b"# Blockage : 0 0 10", "Blockage"),
    ],
)
def test_hostile_plc_values_are_refused_with_their_line(ct_copy, old, new, field):
    pb = ct_copy("sample_clustered")
    line = _replace(pb.parent / "initial.plc", old, new)
    start = time.perf_counter()
    with pytest.raises(NetlistError, match=rf"initial\.plc:{line}: .*{field}"):
        load_netlist(pb)
    assert time.perf_counter() - start < 30  # refused before a 100000 x 100000 allocation


def test_hostile_protobuf_values_and_bytes(ct_copy):
    pb = ct_copy("sample_clustered")
    (pb.parent / "initial.plc").unlink()
    original = pb.read_bytes()
    _replace(pb, b"f: 100", b"f: nan")
    with pytest.raises(NetlistError, match=r"netlist\.pb\.txt:\d+: attribute 'y' nan"):
        load_netlist(pb)
    pb.write_bytes(original)
    _replace(pb, b"f: 100", b"f: 1e308")
    with pytest.raises(NetlistError, match=r"attribute 'y' 1e\+308 is outside"):
        load_netlist(pb)
    pb.write_bytes(original.replace(b'"M0"', b'"M\xff0"'))
    with pytest.raises(NetlistError, match=r"netlist\.pb\.txt:\d+: not UTF-8"):
        load_netlist(pb)


def test_an_env_whose_first_macro_cannot_be_placed_is_refused():
    nl = synthetic_netlist(4, 8, 8, seed=0)
    blocked = dataclasses.replace(nl, blockages=np.array([[*nl.bounds, 1.0]]))
    with pytest.raises(ValueError, match="has no legal cell"):
        ChipPlacementEnv(netlist=blocked)


def test_chip_game_refuses_foreign_states_and_non_cells():
    game = ChipGame(synthetic_netlist(4, 8, 8, seed=0))
    state = game.initial_state()
    cell = int(np.flatnonzero(game.legal_mask(state))[0])
    for bad_state in (None, "state", game.initial_state().cells):
        with pytest.raises(ValueError, match="expected a PlacementState"):
            game.next_state(bad_state, cell)
    for action in ("22", 22.9, True, None):
        with pytest.raises(ValueError, match="action"):
            game.next_state(state, action)
    corrupt = state.copy()
    corrupt.lo = corrupt.lo[:1]
    with pytest.raises(ValueError, match=r"state\.lo must be float64"):
        game.legal_mask(corrupt)
    corrupt = state.copy()
    corrupt.step = 2  # claims two macros placed, cells say none
    with pytest.raises(ValueError, match=r"state\.cells"):
        game.greedy_action(corrupt)
