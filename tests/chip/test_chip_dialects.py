"""Bookshelf dialects of the public releases: each fixture under `dialects/` is a small design
written the way one release writes it (keyword case, tabs, CRLF, optional fields, what `.wts`
weighs); every one loads, classifies its nodes, and has the HPWL of an independent count."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rlsuite.envs.chip import KIND_CELL, KIND_FIXED, KIND_MACRO, KIND_PORT, load_netlist
from rlsuite.envs.chip._text import NetlistParseError

DIALECTS = Path(__file__).parent / "dialects"
EXPECTED = {  # folder: (macros, fixed, ports, cells, canvas)
    "ibm_ms": (2, 2, 0, 4, (160.0, 64.0)),
    "iccad04_ibm_mswpins": (2, 0, 2, 3, (144.0, 64.0)),
    "ispd04": (1, 2, 0, 4, (100.0, 48.0)),
    "ispd2005": (2, 2, 0, 4, (180.0, 96.0)),
    "ispd2006": (2, 1, 2, 3, (120.0, 60.0)),
    "dragon": (2, 2, 0, 3, (96.0, 40.0)),
    "ibm_place": (0, 1, 0, 6, (40.0, 48.0)),
}


def _records(path: Path) -> list[list[str]]:
    """Non-comment, non-header lines of a Bookshelf file as token lists (':' its own token)."""
    out = []
    for line in path.read_text().splitlines():
        parts = line.split("#", 1)[0].replace(":", " : ").split()
        if parts and parts[0].upper() != "UCLA" and not (
            parts[0].lower().startswith("num") and len(parts) > 1 and parts[1] == ":"
        ):
            out.append(parts)
    return out


def _independent_hpwl(aux: Path) -> float:
    """Weighted HPWL of the file placement, counted here line by line: centre = lower-left +
    size / 2, pin = centre + offset (y mirrored for FS, the only flip the fixtures use), net
    weight from the .wts entries that name a net (by name), else 1."""
    files = {Path(n).suffix: aux.parent / n for n in aux.read_text().split(":", 1)[1].split()}
    size = {r[0]: (float(r[1]), float(r[2])) for r in _records(files[".nodes"])}
    centre, flip = {}, {}
    for r in _records(files[".pl"]):
        w, h = size[r[0]]
        centre[r[0]] = (float(r[1]) + w / 2, float(r[2]) + h / 2)
        orient = r[4].upper() if len(r) > 4 and r[3] == ":" else "N"
        assert orient in ("N", "FS")
        flip[r[0]] = orient == "FS"
    weight = {}
    if ".wts" in files:
        weight = {r[0]: float(r[1]) for r in _records(files[".wts"])}
    nets: list[tuple[str, list[tuple[float, float]]]] = []
    for r in _records(files[".nets"]):
        if r[0].lower() == "netdegree":
            nets.append((r[3] if len(r) > 3 else f"net{len(nets)}", []))
            continue
        dx, dy = (float(r[-2]), float(r[-1])) if ":" in r else (0.0, 0.0)
        cx, cy = centre[r[0]]
        nets[-1][1].append((cx + dx, cy + (-dy if flip[r[0]] else dy)))
    total = 0.0
    for name, pins in nets:
        xs, ys = zip(*pins, strict=True)
        total += weight.get(name, 1.0) * (max(xs) - min(xs) + max(ys) - min(ys))
    return total


@pytest.mark.parametrize("folder", sorted(EXPECTED))
def test_every_dialect_loads_with_the_independent_hpwl(folder):
    aux = next((DIALECTS / folder).glob("*.aux"))
    nl = load_netlist(aux)
    macros, fixed, ports, cells, canvas = EXPECTED[folder]
    counts = [int(np.count_nonzero(nl.kind == k)) for k in (KIND_MACRO, KIND_FIXED, KIND_PORT,
                                                             KIND_CELL)]
    assert counts == [macros, fixed, ports, cells]
    assert nl.canvas == canvas
    expected = _independent_hpwl(aux)
    assert expected > 50
    assert nl.hpwl() == pytest.approx(expected, rel=1e-12)


def test_net_weights_count_and_node_weights_do_not():
    nl = load_netlist(DIALECTS / "ispd2006" / "newblue0.aux")
    np.testing.assert_array_equal(nl.net_weight, [1.0, 2.5, 4.0])
    node_weighted = load_netlist(DIALECTS / "ibm_ms" / "ibm01.aux")
    np.testing.assert_array_equal(node_weighted.net_weight, np.ones(4))


def _copy(folder: str, tmp_path: Path) -> Path:
    shutil.copytree(DIALECTS / folder, tmp_path / folder)
    return next((tmp_path / folder).glob("*.aux"))


def test_wts_naming_neither_net_nor_node_is_reported(tmp_path):
    aux = _copy("ispd2006", tmp_path)
    wts = aux.with_suffix(".wts")
    wts.write_text(wts.read_text().replace("n1\t2.5", "ghost\t2.5"))
    with pytest.raises(NetlistParseError, match=r"newblue0\.wts:5: .*unknown net or node 'ghost'"):
        load_netlist(aux)


def test_mixed_weight_files_and_extra_weight_columns(tmp_path):
    aux = _copy("ispd2006", tmp_path)
    wts = aux.with_suffix(".wts")
    wts.write_text(wts.read_text() + "o0\t3\t1\no6\t0\t0\n")  # node weights, two columns
    np.testing.assert_array_equal(load_netlist(aux).net_weight, [1.0, 2.5, 4.0])


def test_unknown_placement_flag_and_orientation_are_reported(tmp_path):
    aux = _copy("ispd2005", tmp_path)
    pl = aux.with_suffix(".pl")
    text = pl.read_text()
    pl.write_text(text.replace("o6\t0\t60\t: N /FIXED", "o6\t0\t60\t: N /FROZEN"))
    with pytest.raises(NetlistParseError, match=r"adaptec0\.pl:\d+: unknown placement flag"):
        load_netlist(aux)
    pl.write_text(re.sub(r"o0\t10\t0\t: N", "o0\t10\t0\t: Q", text))
    with pytest.raises(NetlistParseError, match=r"adaptec0\.pl:\d+: unknown orientation 'Q'"):
        load_netlist(aux)
