"""AlphaChip-style macro placement: netlists, exact metrics, a masked grid env and baselines.

`import rlsuite` registers `rlsuite/ChipPlacement-v0` (entry point
`rlsuite.envs.chip.env:ChipPlacementEnv`); the Gymnasium adapter and pygame view load lazily.
"""

from rlsuite.envs.chip._text import MAX_ABS, NetlistError, NetlistParseError
from rlsuite.envs.chip.anneal import AnnealResult, anneal
from rlsuite.envs.chip.baselines import (
    BASELINES,
    PlacementResult,
    evaluate_placement,
    greedy_placement,
    random_placement,
    run_baseline,
)
from rlsuite.envs.chip.bookshelf import read_bookshelf, write_bookshelf, write_pl
from rlsuite.envs.chip.ctformat import read_circuit_training, write_plc
from rlsuite.envs.chip.game import ChipGame
from rlsuite.envs.chip.loader import data_dir, load_netlist
from rlsuite.envs.chip.netlist import (
    KIND_CELL,
    KIND_FIXED,
    KIND_MACRO,
    KIND_NAMES,
    KIND_PORT,
    Netlist,
)
from rlsuite.envs.chip.placement import PlacementModel, PlacementState
from rlsuite.envs.chip.synthetic import synthetic_netlist

__all__ = [
    "BASELINES",
    "KIND_CELL",
    "KIND_FIXED",
    "KIND_MACRO",
    "KIND_NAMES",
    "KIND_PORT",
    "MAX_ABS",
    "AnnealResult",
    "ChipGame",
    "Netlist",
    "NetlistError",
    "NetlistParseError",
    "PlacementModel",
    "PlacementResult",
    "PlacementState",
    "anneal",
    "data_dir",
    "evaluate_placement",
    "greedy_placement",
    "load_netlist",
    "random_placement",
    "read_bookshelf",
    "read_circuit_training",
    "run_baseline",
    "synthetic_netlist",
    "write_bookshelf",
    "write_pl",
    "write_plc",
]
