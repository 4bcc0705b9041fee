"""`load_netlist(path)`: one entry point for every supported netlist format, and the data folder."""

from __future__ import annotations

import os
from pathlib import Path

from rlsuite.envs.chip.bookshelf import read_bookshelf
from rlsuite.envs.chip.ctformat import read_circuit_training
from rlsuite.envs.chip.netlist import Netlist

DATA_ENV_VAR = "RLSUITE_CHIP_DATA"


def data_dir() -> Path:
    """Sample netlists: $RLSUITE_CHIP_DATA, else `<repo root>/../shared/data/chip`."""
    override = os.environ.get(DATA_ENV_VAR)
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "chip"


def load_netlist(path: Path | str, plc: Path | str | None = None) -> Netlist:
    """Read a netlist from a Bookshelf `.aux`, a circuit_training `netlist.pb.txt`, or a folder
    holding exactly one of them. `plc` overrides the `initial.plc` looked up beside a `.pb.txt`.
    """
    path = Path(path)
    if path.is_dir():
        candidates = sorted(path.glob("*.aux")) + sorted(path.glob("*.pb.txt"))
        if len(candidates) != 1:
            raise ValueError(
                f"{path}: expected one .aux or .pb.txt file in the folder, found "
                f"{[c.name for c in candidates] or 'none'}"
            )
        path = candidates[0]
    if not path.exists():
        raise FileNotFoundError(f"netlist file not found: {path}")
    if path.suffix.lower() == ".aux":
        if plc is not None:
            raise ValueError(f"{path}: a .plc placement only applies to circuit_training netlists")
        return read_bookshelf(path)
    if path.name.endswith(".pb.txt"):
        return read_circuit_training(path, plc)
    raise ValueError(
        f"{path}: unknown netlist format (expected a Bookshelf .aux or a circuit_training "
        ".pb.txt)"
    )
