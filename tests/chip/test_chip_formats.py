"""Readers and writers on the real sample netlists, their quirks, and malformed files."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from rlsuite.envs.chip import (
    KIND_CELL,
    KIND_PORT,
    NetlistParseError,
    PlacementModel,
    greedy_placement,
    load_netlist,
    read_circuit_training,
    synthetic_netlist,
    write_bookshelf,
    write_pl,
    write_plc,
)
from rlsuite.envs.chip.env import ChipPlacementEnv

CT_EXPECTED = {  # folder: (movable macros, ports, cells incl. soft macros, nets)
    "toy_macro_stdcell": (2, 12, 12, 20),
    "sample_clustered": (2, 2, 1, 4),
    "simple_with_coords": (2, 2, 2, 5),
    "simple_grouped_with_coords": (2, 3, 1, 5),
    "simple_grouped_with_coords_with_blockage": (2, 3, 1, 5),
    "macro_tiles_10x10": (100, 0, 0, 540),
}


def _independent_apte_hpwl(folder: Path) -> float:
    """HPWL of apte's file placement, parsed line by line here, independently of the reader.

    Convention: .pl gives lower-left corners, the centre is corner + size / 2, and a pin sits
    at centre + its .nets offset; every net has weight 1 (apte has no .wts).
    """
    size = {}
    for line in (folder / "apte.nodes").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith(("UCLA", "Num")):
            size[parts[0]] = (float(parts[1]), float(parts[2]))
    centre = {}
    for line in (folder / "apte.pl").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] in size:
            w, h = size[parts[0]]
            centre[parts[0]] = (float(parts[1]) + w / 2, float(parts[2]) + h / 2)
    total, xs, ys = 0.0, [], []
    for line in (folder / "apte.nets").read_text().splitlines() + ["NetDegree : 0"]:
        parts = line.replace(":", " : ").split()
        if not parts or parts[0] in ("UCLA", "NumNets", "NumPins"):
            continue
        if parts[0] == "NetDegree":
            if xs:
                total += max(xs) - min(xs) + max(ys) - min(ys)
            xs, ys = [], []
            continue
        dx, dy = (float(parts[3]), float(parts[4])) if len(parts) >= 5 else (0.0, 0.0)
        cx, cy = centre[parts[0]]
        xs.append(cx + dx)
        ys.append(cy + dy)
    return total


def test_apte_structure_pin_offsets_and_terminals(chip_data):
    nl = load_netlist(chip_data / "mcnc_apte" / "apte.aux")
    assert (nl.num_nodes, nl.num_nets, nl.num_pins) == (82, 97, 287)  # header NumPins 82 is wrong
    assert len(nl.macro_ids) == 9 and len(nl.port_ids) == 73
    # first net: terminal VDD plus nine blocks; cc_11's pin is 15.2266, 9.13 from its centre
    pins = slice(nl.net_ptr[0], nl.net_ptr[1])
    names = [nl.node_names[i] for i in nl.pin_node[pins]]
    assert names[:2] == ["VDD", "cc_11"] and len(names) == 10
    np.testing.assert_allclose(nl.pin_offset[pins][1], [15.2266, 9.13])
    # fixed terminal_NI: lower-left (105, 69) and size 1x1 in the file -> centre (105.5, 69.5)
    t = nl.node_index("new64")
    assert nl.kind[t] == KIND_PORT
    np.testing.assert_allclose(nl.pos[t], [105.5, 69.5])
    # cc_13 sits at x = -1.09: the canvas is the bounding box of everything placed
    assert nl.origin == (-1.09, 0.0)
    np.testing.assert_allclose(nl.canvas, (107.09, 106.0))


def test_apte_hpwl_matches_independent_computation(chip_data):
    nl = load_netlist(chip_data / "mcnc_apte" / "apte.aux")
    expected = _independent_apte_hpwl(chip_data / "mcnc_apte")
    assert expected > 1000
    assert nl.hpwl() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", sorted(CT_EXPECTED))
def test_every_circuit_training_sample_loads(chip_data, name):
    nl = load_netlist(chip_data / "ct" / name / "netlist.pb.txt")
    macros, ports, cells, nets = CT_EXPECTED[name]
    assert (len(nl.macro_ids), len(nl.port_ids), len(nl.cell_ids), nl.num_nets) == (
        macros, ports, cells, nets)
    assert nl.grid is not None and nl.hpwl() > 0
    # every node lies inside its canvas (ports may sit on the edge)
    xl, yl, xh, yh = nl.bounds
    assert np.all((nl.pos >= [xl, yl]) & (nl.pos <= [xh, yh]))


def test_circuit_training_offsets_fixed_ports_soft_macros_and_plc(chip_data):
    nl = load_netlist(chip_data / "ct" / "sample_clustered" / "netlist.pb.txt")
    assert nl.canvas == (500.0, 500.0) and nl.grid == (2, 2)
    m0 = nl.node_index("M0")
    np.testing.assert_allclose(nl.pos[m0], [125, 375])  # from initial.plc, not the .pb.txt
    assert nl.kind[nl.node_index("Grp_2")] == KIND_CELL  # soft macro stays put
    assert nl.kind[nl.node_index("P0")] == KIND_PORT
    np.testing.assert_allclose(nl.pos[nl.node_index("P0")], [0, 100])
    # net driven by P0: P0 -> Grp_2/Pinput (soft pin, offset 0) and P0_M0 (offset -60, 60)
    k = nl.net_names.index("P0")
    pins = slice(nl.net_ptr[k], nl.net_ptr[k + 1])
    assert [nl.node_names[i] for i in nl.pin_node[pins]] == ["P0", "Grp_2", "M0"]
    np.testing.assert_allclose(nl.pin_offset[pins], [[0, 0], [0, 0], [-60, 60]])
    # the .plc header reports "Density cost : 0.2305" for this placement
    assert nl.density() == pytest.approx(0.2305, abs=1e-4)
    blk = load_netlist(chip_data / "ct" / "simple_grouped_with_coords_with_blockage")
    np.testing.assert_allclose(blk.blockages, [[0, 0, 10, 10, 1], [490, 490, 500, 500, 1]])


def test_lower_case_types_and_toy_header_quirk(chip_data):
    low = load_netlist(chip_data / "ct" / "simple_with_coords")
    assert set(low.node_names) >= {"M0", "M1", "S0", "S1", "P0", "P1"}
    toy = load_netlist(chip_data / "ct" / "toy_macro_stdcell")
    assert len(toy.port_ids) == 12 and toy.canvas == (200.0, 100.0)  # header comment says 9


def test_bookshelf_round_trip_keeps_everything(tmp_path):
    nl = synthetic_netlist(12, 40, 60, seed=3)
    back = load_netlist(write_bookshelf(nl, tmp_path))
    assert back.node_names == nl.node_names and back.net_names == nl.net_names
    np.testing.assert_array_equal(back.kind, nl.kind)
    np.testing.assert_allclose(back.pos, nl.pos, atol=1e-6)
    np.testing.assert_array_equal(back.pin_node, nl.pin_node)
    np.testing.assert_allclose(back.pin_offset, nl.pin_offset, atol=1e-6)
    assert back.hpwl() == pytest.approx(nl.hpwl(), rel=1e-12)


def test_pl_and_plc_writers_round_trip_a_new_placement(apte_copy, ct_copy):
    nl = load_netlist(apte_copy)
    model = PlacementModel(nl)
    cells, ok = greedy_placement(model)
    assert ok
    centers = model.cells_to_centers(cells)
    write_pl(nl, apte_copy.with_suffix(".pl"), centers)
    again = load_netlist(apte_copy)
    np.testing.assert_allclose(again.pos[again.macro_ids], centers, atol=1e-6)
    assert again.hpwl() == pytest.approx(nl.hpwl(centers), rel=1e-9)

    pb = ct_copy("sample_clustered")
    ct = load_netlist(pb)
    moved = ct.pos[ct.macro_ids] + [[10.0, -20.0], [-5.0, 7.5]]
    out = write_plc(ct, pb.parent / "new.plc", moved)
    re_read = read_circuit_training(pb, out)
    np.testing.assert_allclose(re_read.pos[re_read.macro_ids], moved)
    assert re_read.grid == ct.grid and re_read.canvas == ct.canvas


def test_orientation_turns_footprint_and_pin_offsets(apte_copy, tmp_path):
    plain = load_netlist(apte_copy)
    _edit(apte_copy.with_suffix(".pl"), "cc_12\t21.65\t73.54\t: N", "cc_12\t21.65\t73.54\t: E")
    turned = load_netlist(apte_copy)
    i = turned.node_index("cc_12")
    assert turned.orient[i] == "E"
    np.testing.assert_allclose(turned.size[i], plain.size[i][::-1])
    on_i = turned.pin_node == i
    dx, dy = plain.pin_offset[on_i].T
    np.testing.assert_allclose(turned.pin_offset[on_i], np.stack([dy, -dx], 1))  # E: 90 deg cw
    back = load_netlist(write_bookshelf(turned, tmp_path / "rt"))
    np.testing.assert_allclose(back.size, turned.size)
    np.testing.assert_allclose(back.pin_offset, turned.pin_offset, atol=1e-12)
    assert back.hpwl() == pytest.approx(turned.hpwl(), rel=1e-12)


# ------------------------------------------------------------------ malformed input
def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first `old` in a file; return the 1-based line where it was."""
    text = path.read_text()
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):])
    return text.count("\n", 0, at) + 1


def test_truncated_nets_file_is_reported_with_line(apte_copy):
    nets = apte_copy.with_suffix(".nets")
    lines = nets.read_text().splitlines()
    nets.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    with pytest.raises(NetlistParseError, match=r"apte\.nets:\d+: .*truncated"):
        load_netlist(apte_copy)


def test_truncated_nodes_file(apte_copy):
    nodes = apte_copy.with_suffix(".nodes")
    lines = nodes.read_text().splitlines()
    nodes.write_text("\n".join(lines[:30]) + "\n")
    with pytest.raises(NetlistParseError, match=r"apte\.nodes:\d+: declares NumNodes"):
        load_netlist(apte_copy)


def test_truncated_protobuf_is_reported(ct_copy):
    pb = ct_copy("toy_macro_stdcell")
    text = pb.read_text()
    pb.write_text(text[: len(text) // 2])
    with pytest.raises(NetlistParseError, match=r"netlist\.pb\.txt:\d+: unclosed node block"):
        load_netlist(pb)


def test_net_naming_unknown_node_bookshelf(apte_copy):
    line = _edit(apte_copy.with_suffix(".nets"), "cc_12 B : -14.5974", "ghost B : -14.5974")
    with pytest.raises(NetlistParseError, match=rf"apte\.nets:{line}: .*unknown node 'ghost'"):
        load_netlist(apte_copy)


def test_net_naming_unknown_node_protobuf(ct_copy):
    pb = ct_copy("sample_clustered")
    text = pb.read_text()
    node_line = text.count("\n", 0, text.index('name: "P1_M0"'))  # line of its `node {`
    _edit(pb, 'input: "Grp_2/Pinput"\n  attr', 'input: "Ghost"\n  attr')
    with pytest.raises(NetlistParseError, match=r"names unknown node 'Ghost'") as err:
        load_netlist(pb)
    assert err.value.line is not None and err.value.line <= node_line + 1


def test_bad_number_and_bad_keyword(apte_copy):
    nodes = apte_copy.with_suffix(".nodes")
    line = _edit(nodes, "cc_11\t31.46", "cc_11\tabc")
    with pytest.raises(NetlistParseError, match=rf"apte\.nodes:{line}: width: 'abc'"):
        load_netlist(apte_copy)
    _edit(nodes, "cc_11\tabc", "cc_11\t31.46")
    line = _edit(nodes, "terminal_NI", "terminal_XX")
    with pytest.raises(NetlistParseError, match=rf"apte\.nodes:{line}: unknown node keyword"):
        load_netlist(apte_copy)


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "x.def").write_text("DESIGN x ;")
    with pytest.raises(ValueError, match="unknown netlist format"):
        load_netlist(tmp_path / "x.def")
    with pytest.raises(FileNotFoundError, match="nope.aux"):
        load_netlist(tmp_path / "nope.aux")


def test_macro_larger_than_canvas_is_rejected():
    nl = synthetic_netlist(4, 8, 8, seed=0)
    size = nl.size.copy()
    size[0] = [nl.canvas[0] * 1.5, 2.0]
    big = dataclasses.replace(nl, size=size)
    with pytest.raises(ValueError, match=r"macro 'm0' \(.*\) is larger than the canvas"):
        PlacementModel(big)


def test_netlist_without_movable_macros_is_rejected(apte_copy):
    nodes = apte_copy.with_suffix(".nodes")
    text = re.sub(r"^(cc_\d\d\t\S+\t\S+)$", r"\1\tterminal", nodes.read_text(), flags=re.M)
    text = re.sub(r"^(clk\t\S+\t\S+)$", r"\1\tterminal", text, flags=re.M)
    text = text.replace("NumTerminals\t :\t 73", "NumTerminals\t :\t 82")
    nodes.write_text(text.replace("NumNodes\t :\t 9", "NumNodes\t :\t 82"))  # ISPD counting
    nl = load_netlist(apte_copy)  # a valid netlist: it only has nothing to place
    assert len(nl.macro_ids) == 0 and len(nl.fixed_ids) == 9
    with pytest.raises(ValueError, match=r"apte\.aux\) has no movable macros"):
        ChipPlacementEnv(netlist=apte_copy)
