"""The `Netlist`: nodes, nets with pin offsets, canvas and the file placement, as flat arrays.

Everything is stored column-wise (numpy arrays indexed by node, net or pin) so that metrics,
masks and annealing run vectorised or in numba, and a 200k-node netlist costs a few arrays.

Conventions (shared by every reader, writer and metric):
- Positions are node **centres**; `pos[i]` is the file placement of node i.
- A pin sits at `centre(node) + offset`; offsets are already rotated for the node's file
  orientation, and `size` is the footprint in that orientation (E/W/FE/FW swap width/height).
- Nets are in CSR form: the pins of net n are `pin_node[net_ptr[n]:net_ptr[n + 1]]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from rlsuite.envs.chip import metrics
from rlsuite.envs.chip._text import MAX_ABS, NetlistError

KIND_MACRO = 0
"""A movable hard macro: what the placer places."""
KIND_FIXED = 1
"""A fixed block with area (fixed macro, Bookshelf `terminal`): an obstacle."""
KIND_PORT = 2
"""A point-like terminal (IO port, Bookshelf `terminal_NI`): pins only, no area."""
KIND_CELL = 3
"""A standard cell or soft macro (cell cluster): kept at its file position, counts in density."""
KIND_NAMES = ("macro", "fixed", "port", "cell")


MAX_GRID_SIDE = 1024
"""Most columns or rows of a placement grid: 8x circuit_training's largest (128), and a
5-plane float32 observation of 1024 x 1024 is already 20 MB."""


def check_grid(grid: object) -> tuple[int, int]:
    """(cols, rows) from an int (square) or a pair of ints, each in 1..MAX_GRID_SIDE;
    ValueError otherwise (before anything is allocated)."""
    pair = (grid, grid) if isinstance(grid, int | np.integer) else grid
    if (
        not isinstance(pair, tuple | list | np.ndarray) or len(pair) != 2
        or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in pair)
    ):
        raise ValueError(f"grid must be an int or a pair of ints (cols, rows), got {grid!r}")
    cols, rows = int(pair[0]), int(pair[1])
    if not (1 <= cols <= MAX_GRID_SIDE and 1 <= rows <= MAX_GRID_SIDE):
        raise ValueError(f"grid {cols}x{rows} must have 1..{MAX_GRID_SIDE} columns and rows")
    return cols, rows


@dataclass(frozen=True, eq=False)
class Netlist:
    """A placement instance, built by a reader or `synthetic_netlist`; fields are read-only.

    Args (all arrays are copied to their canonical dtypes and validated):
        name: design name, used in messages and output headers.
        node_names: N unique node names.
        kind: uint8[N] of KIND_* codes.
        size: float64[N, 2] footprint (width, height) in the file orientation.
        pos: float64[N, 2] file placement centres.
        net_ptr: int64[M + 1] CSR offsets into the pin arrays.
        pin_node: int32[P] node of each pin.
        pin_offset: float64[P, 2] pin offset from the node centre.
        net_weight: float64[M] wirelength multiplier of each net.
        origin, canvas: lower-left corner and (width, height) of the placement region.
        net_names: M net names (generated when the format has none).
        orient: N orientation strings as read (written back unchanged).
        grid: (columns, rows) given by the file, or None to choose one (see `default_grid`).
        blockages: float64[B, 5] rows (xl, yl, xh, yh, rate): areas hard macros may not use.
        routes_per_unit: routing capacity (horizontal, vertical) in tracks per length unit,
            the denominator of congestion; (1, 1) when the format gives none.
        source: where it was read from (used in error messages).
        file_index: the node's index in its source file where that differs from ours
            (circuit_training counts macro pins as nodes); written back into `.plc` files.
    """

    name: str
    node_names: Sequence[str]
    kind: np.ndarray
    size: np.ndarray
    pos: np.ndarray
    net_ptr: np.ndarray
    pin_node: np.ndarray
    pin_offset: np.ndarray
    net_weight: np.ndarray
    origin: tuple[float, float]
    canvas: tuple[float, float]
    net_names: Sequence[str] = ()
    orient: Sequence[str] = ()
    grid: tuple[int, int] | None = None
    blockages: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    routes_per_unit: tuple[float, float] = (1.0, 1.0)
    source: str = "<memory>"
    file_index: np.ndarray | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        n = len(self.node_names)
        put(self, "node_names", list(self.node_names))
        put(self, "kind", np.ascontiguousarray(self.kind, dtype=np.uint8))
        put(self, "size", np.ascontiguousarray(self.size, dtype=np.float64).reshape(-1, 2))
        put(self, "pos", np.ascontiguousarray(self.pos, dtype=np.float64).reshape(-1, 2))
        put(self, "net_ptr", np.ascontiguousarray(self.net_ptr, dtype=np.int64))
        put(self, "pin_node", np.ascontiguousarray(self.pin_node, dtype=np.int32))
        put(self, "pin_offset", np.ascontiguousarray(self.pin_offset, dtype=np.float64))
        put(self, "net_weight", np.ascontiguousarray(self.net_weight, dtype=np.float64))
        put(self, "blockages", np.asarray(self.blockages, dtype=np.float64).reshape(-1, 5))
        put(self, "origin", (float(self.origin[0]), float(self.origin[1])))
        put(self, "canvas", (float(self.canvas[0]), float(self.canvas[1])))
        put(self, "routes_per_unit",
            (float(self.routes_per_unit[0]), float(self.routes_per_unit[1])))
        m = len(self.net_ptr) - 1
        if not self.net_names:
            put(self, "net_names", [f"net{i}" for i in range(m)])
        else:
            put(self, "net_names", list(self.net_names))
        if not self.orient:
            put(self, "orient", ["N"] * n)
        else:
            put(self, "orient", list(self.orient))
        self._validate(n, m)

    def _validate(self, n: int, m: int) -> None:
        """NetlistError (naming the source and the field) for anything the metrics, masks and
        compiled kernels cannot take: readers check values with their line first, this
        catches netlists built in memory."""

        def fail(field: str, message: str) -> NetlistError:
            return NetlistError(self.source, None, f"netlist {self.name!r}: {message}", field)

        if self.kind.shape != (n,) or self.size.shape != (n, 2) or self.pos.shape != (n, 2):
            raise fail("kind", f"kind/size/pos must have one row per node ({n})")
        if len(set(self.node_names)) != n:
            raise fail("node_names", "node names are not unique")
        if len(self.orient) != n or len(self.net_names) != m:
            raise fail("orient", f"orient needs {n} entries and net_names {m}")
        if m < 0 or self.net_ptr[0] != 0 or np.any(np.diff(self.net_ptr) < 0):
            raise fail("net_ptr", "net_ptr must start at 0 and never decrease")
        p = int(self.net_ptr[-1])
        if self.pin_node.shape != (p,) or self.pin_offset.shape != (p, 2):
            raise fail("pin_node", f"pin arrays must have {p} rows (net_ptr[-1])")
        if p and (self.pin_node.min() < 0 or self.pin_node.max() >= n):
            raise fail("pin_node", f"a pin names a node index outside 0..{n - 1}")
        if np.any(self.kind > KIND_CELL):
            raise fail("kind", f"unknown node kind code {int(self.kind.max())}")
        bounded = {
            "size": (self.size, 0.0), "pos": (self.pos, -MAX_ABS),
            "pin_offset": (self.pin_offset, -MAX_ABS), "net_weight": (self.net_weight, 0.0),
            "origin": (np.array(self.origin), -MAX_ABS), "blockages": (self.blockages, -MAX_ABS),
        }
        if self.net_weight.shape != (m,):
            raise fail("net_weight", f"net_weight must be {m} numbers")
        for field_name, (values, low) in bounded.items():
            if not np.all((values >= low) & (values <= MAX_ABS)):  # NaN fails too
                raise fail(field_name, f"{field_name} must be finite, in [{low:g}, {MAX_ABS:g}]")
        if not all(0 < c <= MAX_ABS for c in self.canvas):
            raise fail("canvas", f"canvas {self.canvas} must be positive and at most "
                                 f"{MAX_ABS:g} wide and high")
        if not all(0 < r <= MAX_ABS for r in self.routes_per_unit):
            raise fail("routes_per_unit",
                       f"routes per unit {self.routes_per_unit} must be positive and finite")
        blk = self.blockages
        if np.any(blk[:, 2] < blk[:, 0]) or np.any(blk[:, 3] < blk[:, 1]) or np.any(
            (blk[:, 4] < 0) | (blk[:, 4] > 1)
        ):
            raise fail("blockages", "a blockage needs xl <= xh, yl <= yh and a rate in 0..1")
        if self.grid is not None:
            try:
                check_grid(self.grid)
            except ValueError as err:
                raise fail("grid", str(err)) from None

    # ------------------------------------------------------------------ structure
    @property
    def num_nodes(self) -> int:
        return len(self.node_names)

    @property
    def num_nets(self) -> int:
        return len(self.net_ptr) - 1

    @property
    def num_pins(self) -> int:
        return int(self.net_ptr[-1])

    @cached_property
    def macro_ids(self) -> np.ndarray:
        """Indices of the movable hard macros, in file order."""
        return np.flatnonzero(self.kind == KIND_MACRO)

    @cached_property
    def fixed_ids(self) -> np.ndarray:
        return np.flatnonzero(self.kind == KIND_FIXED)

    @cached_property
    def port_ids(self) -> np.ndarray:
        return np.flatnonzero(self.kind == KIND_PORT)

    @cached_property
    def cell_ids(self) -> np.ndarray:
        return np.flatnonzero(self.kind == KIND_CELL)

    @cached_property
    def pin_net(self) -> np.ndarray:
        """int32[P]: the net of each pin."""
        return np.repeat(np.arange(self.num_nets, dtype=np.int32), np.diff(self.net_ptr))

    @cached_property
    def _index(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.node_names)}

    def node_index(self, name: str) -> int:
        """Index of the node called `name` (KeyError names the node when absent)."""
        try:
            return self._index[name]
        except KeyError:
            raise KeyError(f"netlist {self.name!r} has no node {name!r}") from None

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Canvas as (xl, yl, xh, yh)."""
        x0, y0 = self.origin
        return x0, y0, x0 + self.canvas[0], y0 + self.canvas[1]

    def default_grid(self) -> tuple[int, int]:
        """(columns, rows): the file's grid, else cells about half the median macro side.

        With that pitch a typical macro spans about 2x2 cells, fine enough to pack and coarse
        enough for a small observation; each side is clamped to 4..128 (circuit_training's
        largest grid is 128, Mirhoseini et al. 2021).
        """
        if self.grid is not None:
            return self.grid
        ids = self.macro_ids if self.macro_ids.size else np.flatnonzero(self.kind != KIND_PORT)
        areas = np.prod(self.size[ids], axis=1) if ids.size else np.zeros(0)
        areas = areas[areas > 0]
        pitch = 0.5 * float(np.sqrt(np.median(areas))) if areas.size else max(self.canvas) / 16
        cols = int(np.clip(np.ceil(self.canvas[0] / pitch), 4, 128))
        rows = int(np.clip(np.ceil(self.canvas[1] / pitch), 4, 128))
        return cols, rows

    # ------------------------------------------------------------------ placements
    def full_centers(self, centers: np.ndarray | None = None) -> np.ndarray:
        """float64[N, 2] centres of every node.

        `centers` may be None (the file placement), one row per node, or one row per movable
        macro (in `macro_ids` order) that replaces the macros' file positions.
        """
        if centers is None:
            return self.pos
        c = np.asarray(centers, dtype=np.float64)
        if c.shape == (self.num_nodes, 2):
            return c
        if c.shape == (self.macro_ids.size, 2):
            full = self.pos.copy()
            full[self.macro_ids] = c
            return full
        raise ValueError(
            f"centers must have shape ({self.num_nodes}, 2) or ({self.macro_ids.size}, 2) "
            f"(all nodes or movable macros), got {c.shape}"
        )

    def pin_positions(self, centers: np.ndarray | None = None) -> np.ndarray:
        """float64[P, 2]: absolute pin positions (node centre + offset)."""
        return self.full_centers(centers)[self.pin_node] + self.pin_offset

    def node_rects(self, centers: np.ndarray | None = None) -> np.ndarray:
        """float64[N, 4] rectangles (xl, yl, xh, yh) of every node."""
        c = self.full_centers(centers)
        half = 0.5 * self.size
        return np.concatenate([c - half, c + half], axis=1)

    # ------------------------------------------------------------------ metrics
    def hpwl(self, centers: np.ndarray | None = None) -> float:
        """Full-netlist weighted HPWL; see `metrics.hpwl` for the formula."""
        return metrics.hpwl(self.pin_positions(centers), self.net_ptr, self.net_weight)

    @cached_property
    def macro_pin_subset(self) -> tuple[np.ndarray, np.ndarray]:
        """(pin indices, net_ptr) of the macro-only sub-netlist used by `macro_hpwl`.

        Keeps the pins on hard macros (movable or fixed) of every net that touches at least
        two distinct hard macros, as MaskPlace reports macro HPWL (Lai et al., NeurIPS 2022).
        """
        hard = (self.kind == KIND_MACRO) | (self.kind == KIND_FIXED)
        on_hard = hard[self.pin_node]
        nets = self.pin_net
        # distinct hard macros per net: unique (net, node) pairs among hard pins
        pairs = np.unique(nets[on_hard].astype(np.int64) * self.num_nodes + self.pin_node[on_hard])
        per_net = np.bincount(pairs // self.num_nodes, minlength=self.num_nets)
        keep = on_hard & (per_net[nets] >= 2)
        pins = np.flatnonzero(keep)
        counts = np.bincount(nets[pins], minlength=self.num_nets)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return pins, ptr

    def macro_hpwl(self, centers: np.ndarray | None = None) -> float:
        """Weighted HPWL of the macro pins of nets touching >= 2 hard macros (MaskPlace's)."""
        pins, ptr = self.macro_pin_subset
        return metrics.hpwl(self.pin_positions(centers)[pins], ptr, self.net_weight)

    def wirelength_cost(self, centers: np.ndarray | None = None) -> float:
        """HPWL / ((W + H) * total weight of nets with >= 2 pins), circuit_training's `get_cost`."""
        return self.hpwl(centers) / self.wirelength_norm

    @cached_property
    def wirelength_norm(self) -> float:
        live = np.diff(self.net_ptr) >= 2
        total = float(self.net_weight[live].sum())
        return (self.canvas[0] + self.canvas[1]) * max(total, 1e-12)

    def congestion_map(
        self, centers: np.ndarray | None = None, grid: tuple[int, int] | None = None
    ) -> np.ndarray:
        """float64[rows, cols] RUDY demand over routing capacity; see `metrics.rudy_map`."""
        pins = self.pin_positions(centers)
        lo, hi = metrics.net_bboxes(pins, self.net_ptr)
        live = np.diff(self.net_ptr) >= 2
        rudy = metrics.rudy_map(
            lo[live], hi[live], self.net_weight[live], self.bounds, grid or self.default_grid()
        )
        return rudy / (self.routes_per_unit[0] + self.routes_per_unit[1])

    def density_map(
        self, centers: np.ndarray | None = None, grid: tuple[int, int] | None = None
    ) -> np.ndarray:
        """float64[rows, cols] occupied-area fraction of each grid cell (all nodes with area,
        ports excluded, plus blockages weighted by their rate); see `metrics.coverage_map`."""
        rects = self.node_rects(centers)
        has_area = (self.kind != KIND_PORT) & (np.prod(self.size, axis=1) > 0)
        rects = np.concatenate([rects[has_area], self.blockages[:, :4]])
        weights = np.concatenate([np.ones(int(has_area.sum())), self.blockages[:, 4]])
        return metrics.coverage_map(rects, weights, self.bounds, grid or self.default_grid())

    def congestion(
        self, centers: np.ndarray | None = None, grid: tuple[int, int] | None = None
    ) -> float:
        """Mean of the top 10% most congested grid cells (circuit_training's congestion cost)."""
        return metrics.top_fraction_mean(self.congestion_map(centers, grid), 0.1)

    def density(
        self, centers: np.ndarray | None = None, grid: tuple[int, int] | None = None
    ) -> float:
        """Mean of the densest 10% grid cells (circuit_training's density cost)."""
        return metrics.top_fraction_mean(self.density_map(centers, grid), 0.1)

    def overlap_area(self, centers: np.ndarray | None = None) -> float:
        """Total pairwise overlap area between hard macros (movable and fixed)."""
        hard = np.flatnonzero((self.kind == KIND_MACRO) | (self.kind == KIND_FIXED))
        return metrics.overlap_area(self.node_rects(centers)[hard])

    def proxy_cost(
        self,
        centers: np.ndarray | None = None,
        grid: tuple[int, int] | None = None,
        congestion_weight: float = 0.5,
        density_weight: float = 1.0,
    ) -> float:
        """wirelength_cost + lambda * congestion + gamma * density.

        The default weights are circuit_training's (`cost_info_function` in
        circuit_training/environment/environment.py: wirelength 1.0, congestion 0.5,
        density 1.0); the Nature paper (Mirhoseini et al. 2021) defines the same sum.
        """
        return (
            self.wirelength_cost(centers)
            + congestion_weight * self.congestion(centers, grid)
            + density_weight * self.density(centers, grid)
        )

    def __repr__(self) -> str:
        counts = np.bincount(self.kind, minlength=4)
        parts = ", ".join(f"{counts[k]} {KIND_NAMES[k]}" for k in range(4))
        return (
            f"Netlist({self.name!r}: {parts}, {self.num_nets} nets, {self.num_pins} pins, "
            f"canvas {self.canvas[0]:g}x{self.canvas[1]:g})"
        )
