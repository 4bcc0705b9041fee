"""Fixtures for the chip tests: the shared sample netlists (skipped when the folder is absent)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rlsuite.envs.chip import data_dir


@pytest.fixture(scope="session")
def chip_data() -> Path:
    path = data_dir()
    if not (path / "INDEX.md").exists():
        pytest.skip(f"sample netlists not found at {path} (set RLSUITE_CHIP_DATA)")
    return path


@pytest.fixture
def apte_copy(chip_data: Path, tmp_path: Path) -> Path:
    """A writable copy of MCNC apte; returns its .aux path."""
    for f in (chip_data / "mcnc_apte").glob("apte.*"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path / "apte.aux"


@pytest.fixture
def ct_copy(chip_data: Path, tmp_path: Path):
    """Copy one circuit_training sample folder; call with its name, get the pb.txt path."""

    def make(name: str) -> Path:
        dst = tmp_path / name
        shutil.copytree(chip_data / "ct" / name, dst)
        return dst / "netlist.pb.txt"

    return make
