"""The grid placement model: macros placed one at a time, centred on grid cells.

A `PlacementModel` holds everything fixed for one netlist and grid (macro order, sizes,
obstacles, each macro's nets and pin spans); a `PlacementState` holds what changes (cells
chosen so far, per-net bounding boxes of placed pins, the occupancy plane, the running HPWL).

Masks for the macro to place, both computed in numba:
- position mask: the macro lies inside the canvas and overlaps no placed macro, fixed block or
  blockage. Overlap with an obstacle happens exactly when the centre lies in the obstacle grown
  by half the macro (a Minkowski sum), an axis-aligned range of cells, so the mask is one 2-D
  difference array over all obstacles: O(obstacles + cells). After a placement, the next
  macro's cached mask is updated with the one new obstacle instead of being rebuilt.
- wire mask: the HPWL increase of placing the macro at each cell. The increase is a sum over the
  macro's nets of an x part and a y part, so it is `Fy[:, None] + Fx[None, :]` with Fx, Fy
  computed per column and per row: O(nets x (rows + cols)), not O(nets x cells).

HPWL accounting: pins of standard cells, ports and fixed nodes are present from the start (at
their file positions); a macro's pins join when it is placed. When every macro is placed the
running total equals `Netlist.hpwl` of the placement, so dense rewards sum to the final HPWL.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

import numba
import numpy as np

from rlsuite.envs.chip.metrics import accumulate_coverage, grid_edges
from rlsuite.envs.chip.netlist import KIND_FIXED, Netlist, check_grid

ORDERS = ("area", "connectivity", "file")


@numba.njit(cache=True)
def _forbid(diff, rect, w, h, x0, y0, cw, ch, cols, rows, eps):
    """Add one obstacle, grown by half the macro, to a 2-D difference array of cell counts."""
    c_lo = int(np.floor((rect[0] - 0.5 * w + eps - x0) / cw - 0.5)) + 1
    c_hi = int(np.ceil((rect[2] + 0.5 * w - eps - x0) / cw - 0.5)) - 1
    r_lo = int(np.floor((rect[1] - 0.5 * h + eps - y0) / ch - 0.5)) + 1
    r_hi = int(np.ceil((rect[3] + 0.5 * h - eps - y0) / ch - 0.5)) - 1
    c_lo, c_hi = max(c_lo, 0), min(c_hi, cols - 1)
    r_lo, r_hi = max(r_lo, 0), min(r_hi, rows - 1)
    if c_lo > c_hi or r_lo > r_hi:
        return
    diff[r_lo, c_lo] += 1
    diff[r_lo, c_hi + 1] -= 1
    diff[r_hi + 1, c_lo] -= 1
    diff[r_hi + 1, c_hi + 1] += 1


@numba.njit(cache=True)
def _position_mask(obstacles, w, h, x0, y0, cw, ch, cols, rows, eps):
    """bool[rows, cols]: centre cells where a w x h macro fits the canvas and hits no obstacle."""
    diff = np.zeros((rows + 1, cols + 1), np.int32)
    for i in range(obstacles.shape[0]):
        _forbid(diff, obstacles[i], w, h, x0, y0, cw, ch, cols, rows, eps)
    # the canvas itself: centres at least half the macro away from each edge
    c_min = int(np.ceil((0.5 * w - eps) / cw - 0.5))
    c_max = int(np.floor((cols * cw - 0.5 * w + eps) / cw - 0.5))
    r_min = int(np.ceil((0.5 * h - eps) / ch - 0.5))
    r_max = int(np.floor((rows * ch - 0.5 * h + eps) / ch - 0.5))
    mask = np.zeros((rows, cols), np.bool_)
    for r in range(rows):
        acc = 0
        for c in range(cols):
            if r > 0:
                diff[r, c] += diff[r - 1, c]
            acc += diff[r, c]
            mask[r, c] = acc == 0 and c_min <= c <= c_max and r_min <= r <= r_max
    return mask


@numba.njit(cache=True)
def _subtract_obstacle(mask, rect, w, h, x0, y0, cw, ch, eps):
    """Clear, in place, the cells of `mask` where a w x h macro would overlap `rect`."""
    rows, cols = mask.shape
    diff = np.zeros((rows + 1, cols + 1), np.int32)
    _forbid(diff, rect, w, h, x0, y0, cw, ch, cols, rows, eps)
    c_lo = int(np.floor((rect[0] - 0.5 * w + eps - x0) / cw - 0.5)) + 1
    c_hi = int(np.ceil((rect[2] + 0.5 * w - eps - x0) / cw - 0.5)) - 1
    r_lo = int(np.floor((rect[1] - 0.5 * h + eps - y0) / ch - 0.5)) + 1
    r_hi = int(np.ceil((rect[3] + 0.5 * h - eps - y0) / ch - 0.5)) - 1
    for r in range(max(r_lo, 0), min(r_hi, rows - 1) + 1):
        for c in range(max(c_lo, 0), min(c_hi, cols - 1) + 1):
            mask[r, c] = False


@numba.njit(cache=True)
def _axis_increase(out, centres, nets, dlo, dhi, weight, lo, hi, axis):
    """out[i] = sum_j weight[n_j] * (span of net n_j with the macro's pins at centres[i] - span)."""
    for j in range(nets.size):
        n = nets[j]
        wgt = weight[n]
        empty = lo[n, axis] > hi[n, axis]
        old = 0.0 if empty else hi[n, axis] - lo[n, axis]
        for i in range(centres.size):
            p0 = centres[i] + dlo[j, axis]
            p1 = centres[i] + dhi[j, axis]
            new = p1 - p0 if empty else max(hi[n, axis], p1) - min(lo[n, axis], p0)
            out[i] += wgt * (new - old)


@numba.njit(cache=True)
def _wire_mask(nets, dlo, dhi, weight, lo, hi, xc, yc):
    fx = np.zeros(xc.size)
    fy = np.zeros(yc.size)
    _axis_increase(fx, xc, nets, dlo, dhi, weight, lo, hi, 0)
    _axis_increase(fy, yc, nets, dlo, dhi, weight, lo, hi, 1)
    out = np.empty((yc.size, xc.size))
    for r in range(yc.size):
        for c in range(xc.size):
            out[r, c] = fy[r] + fx[c]
    return out


@numba.njit(cache=True)
def _join(nets, dlo, dhi, weight, lo, hi, cx, cy):
    """Add a macro's pins (centre cx, cy) to its nets' boxes in place; return the HPWL increase."""
    delta = 0.0
    for j in range(nets.size):
        n = nets[j]
        old = 0.0
        if lo[n, 0] <= hi[n, 0]:
            old = (hi[n, 0] - lo[n, 0]) + (hi[n, 1] - lo[n, 1])
        lo[n, 0] = min(lo[n, 0], cx + dlo[j, 0])
        hi[n, 0] = max(hi[n, 0], cx + dhi[j, 0])
        lo[n, 1] = min(lo[n, 1], cy + dlo[j, 1])
        hi[n, 1] = max(hi[n, 1], cy + dhi[j, 1])
        delta += weight[n] * ((hi[n, 0] - lo[n, 0]) + (hi[n, 1] - lo[n, 1]) - old)
    return delta


def check_cell(action: object, num_actions: int) -> int:
    """`action` as an int if it is an integer (not a bool) in 0..num_actions-1, else
    ValueError: '22', 22.9, True and None are not cells."""
    try:
        value = operator.index(action)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"action must be an integer cell, got {action!r}") from None
    if isinstance(action, bool | np.bool_):
        raise ValueError(f"action must be an integer cell, got {action!r}")
    if not 0 <= value < num_actions:
        raise ValueError(f"action {value} is outside the grid's cells 0..{num_actions - 1}")
    return value


class PlacementState:
    """What changes during an episode; treat as a value (`PlacementModel.place` copies it).

    Attributes:
        step: how many macros are placed (the next one is `model.order[step]`).
        cells: int64[K] grid cell (row * cols + col) of each macro in placement order, -1 if not
            placed yet.
        lo, hi: float64[M, 2] bounding box of the placed pins of each net (+inf / -inf if none).
        occupancy: float32[rows, cols] fraction of each cell covered by placed macros and fixed
            obstacles.
        hpwl: weighted HPWL of the placed pins.
    """

    __slots__ = ("_masks", "cells", "hi", "hpwl", "lo", "occupancy", "step")

    def __init__(self, step, cells, lo, hi, occupancy, hpwl, masks=None) -> None:
        self.step: int = step
        self.cells: np.ndarray = cells
        self.lo: np.ndarray = lo
        self.hi: np.ndarray = hi
        self.occupancy: np.ndarray = occupancy
        self.hpwl: float = hpwl
        self._masks: dict[int, np.ndarray] = masks if masks is not None else {}

    def copy(self) -> PlacementState:
        return PlacementState(
            self.step, self.cells.copy(), self.lo.copy(), self.hi.copy(), self.occupancy.copy(),
            self.hpwl, dict(self._masks),
        )


class PlacementModel:
    """Macro placement on a `cols x rows` grid over the canvas of `netlist`.

    Args:
        netlist: the design; needs at least one movable macro, each fitting the canvas.
        grid: (cols, rows), an int for a square grid, or None for `netlist.default_grid()`
            (see `check_grid`).
        order: "area" (largest first, as circuit_training and MaskPlace place), "connectivity"
            (most pins first), "file", or an explicit sequence of macro node names or indices.
    """

    def __init__(
        self,
        netlist: Netlist,
        grid: int | tuple[int, int] | None = None,
        order: str | Sequence[str | int] = "area",
    ) -> None:
        self.netlist = netlist
        where = f"netlist {netlist.name!r} ({netlist.source})"
        if netlist.macro_ids.size == 0:
            raise ValueError(f"{where} has no movable macros: nothing to place")
        self.cols, self.rows = check_grid(grid) if grid is not None else netlist.default_grid()
        self.order = self._resolve_order(order)
        self.size = netlist.size[self.order].copy()
        too_big = np.flatnonzero(
            (self.size[:, 0] > netlist.canvas[0] * (1 + 1e-9))
            | (self.size[:, 1] > netlist.canvas[1] * (1 + 1e-9))
        )
        if too_big.size:
            i = int(self.order[too_big[0]])
            w, h = netlist.size[i]
            raise ValueError(
                f"{where}: macro {netlist.node_names[i]!r} ({w:g} x {h:g}) is larger than the "
                f"canvas ({netlist.canvas[0]:g} x {netlist.canvas[1]:g})"
            )
        self.xe, self.ye = grid_edges(netlist.bounds, (self.cols, self.rows))
        self.cw, self.ch = float(self.xe[1] - self.xe[0]), float(self.ye[1] - self.ye[0])
        self.xc = 0.5 * (self.xe[:-1] + self.xe[1:])
        self.yc = 0.5 * (self.ye[:-1] + self.ye[1:])
        self.eps = 1e-9 * max(netlist.canvas)
        fixed = netlist.node_rects()[
            (netlist.kind == KIND_FIXED) & (np.prod(netlist.size, axis=1) > 0)
        ]
        self.obstacles = np.ascontiguousarray(
            np.concatenate([fixed, netlist.blockages[:, :4]]), dtype=np.float64
        )
        self._build_nets()
        if not self.position_mask(self.initial_state()).any():  # else every episode is dead
            name = netlist.node_names[int(self.order[0])]
            raise ValueError(
                f"{where}: the first macro {name!r} has no legal cell on the "
                f"{self.cols}x{self.rows} grid (blocked by fixed nodes or blockages, or too "
                "coarse a grid)"
            )

    # ------------------------------------------------------------------ set-up
    def _resolve_order(self, order: str | Sequence[str | int]) -> np.ndarray:
        nl = self.netlist
        macros = nl.macro_ids
        if isinstance(order, str):
            if order == "file":
                return macros.copy()
            if order == "area":
                key = -np.prod(nl.size[macros], axis=1)
            elif order == "connectivity":
                key = -np.bincount(nl.pin_node, minlength=nl.num_nodes)[macros].astype(float)
            else:
                raise ValueError(f"order must be one of {ORDERS} or a sequence, got {order!r}")
            return macros[np.argsort(key, kind="stable")]
        ids = np.array([nl.node_index(o) if isinstance(o, str) else int(o) for o in order])
        if sorted(ids.tolist()) != sorted(macros.tolist()):
            raise ValueError("an explicit order must list every movable macro exactly once")
        return ids.astype(np.int64)

    def _build_nets(self) -> None:
        nl = self.netlist
        slot = np.full(nl.num_nodes, -1, dtype=np.int64)
        slot[self.order] = np.arange(self.order.size)
        pin_slot = slot[nl.pin_node]
        on_macro = pin_slot >= 0
        # anchors: every pin not on a movable macro, at its file position
        pins = nl.pin_positions()
        lo_src = np.where(on_macro[:, None], np.inf, pins)
        hi_src = np.where(on_macro[:, None], -np.inf, pins)
        m = nl.num_nets
        self.init_lo = np.full((m, 2), np.inf)
        self.init_hi = np.full((m, 2), -np.inf)
        nonempty = np.diff(nl.net_ptr) > 0
        if nonempty.any():
            starts = nl.net_ptr[:-1][nonempty]
            self.init_lo[nonempty] = np.minimum.reduceat(lo_src, starts, axis=0)
            self.init_hi[nonempty] = np.maximum.reduceat(hi_src, starts, axis=0)
        present = self.init_lo[:, 0] <= self.init_hi[:, 0]
        span = (self.init_hi - self.init_lo).sum(axis=1)
        self.hpwl0 = float(np.dot(nl.net_weight[present], span[present]))
        self.weight = nl.net_weight
        # per (macro, net): the span of the macro's pin offsets on that net
        mp = np.flatnonzero(on_macro)
        key = pin_slot[mp] * m + nl.pin_net[mp]
        uniq, inv = np.unique(key, return_inverse=True)
        dlo = np.full((uniq.size, 2), np.inf)
        dhi = np.full((uniq.size, 2), -np.inf)
        np.minimum.at(dlo, inv, nl.pin_offset[mp])
        np.maximum.at(dhi, inv, nl.pin_offset[mp])
        self.mn_net = (uniq % m).astype(np.int64)
        self.mn_dlo, self.mn_dhi = dlo, dhi
        counts = np.bincount(uniq // m, minlength=self.order.size)
        self.mn_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)

    # ------------------------------------------------------------------ geometry
    @property
    def num_macros(self) -> int:
        return int(self.order.size)

    @property
    def num_cells(self) -> int:
        return self.cols * self.rows

    def cell_center(self, cell: int | np.ndarray) -> np.ndarray:
        """float64[..., 2] centre of grid cell(s) `row * cols + col`."""
        cell = np.asarray(cell)
        return np.stack([self.xc[cell % self.cols], self.yc[cell // self.cols]], axis=-1)

    def rect(self, k: int, cell: int) -> np.ndarray:
        cx, cy = self.cell_center(cell)
        w, h = self.size[k]
        return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])

    def centers(self, state: PlacementState) -> np.ndarray:
        """float64[K, 2] centres of the macros in `netlist.macro_ids` order (NaN if unplaced)."""
        out = np.full((self.netlist.macro_ids.size, 2), np.nan)
        placed = state.cells >= 0
        idx = np.searchsorted(self.netlist.macro_ids, self.order[placed])
        out[idx] = self.cell_center(state.cells[placed])
        return out

    def cells_to_centers(self, cells: np.ndarray) -> np.ndarray:
        """Macro centres (`netlist.macro_ids` order) for a full vector of cells (in order)."""
        out = np.empty((self.num_macros, 2))
        out[np.searchsorted(self.netlist.macro_ids, self.order)] = self.cell_center(cells)
        return out

    # ------------------------------------------------------------------ states and masks
    def initial_state(self) -> PlacementState:
        occupancy = np.zeros((self.rows, self.cols))
        if self.obstacles.size:
            accumulate_coverage(
                occupancy, self.obstacles, np.ones(len(self.obstacles)), self.xe, self.ye
            )
        return PlacementState(
            0, np.full(self.num_macros, -1, dtype=np.int64), self.init_lo.copy(),
            self.init_hi.copy(), np.minimum(occupancy, 1.0).astype(np.float32), self.hpwl0,
        )

    def check_state(self, state: object) -> None:
        """ValueError unless `state` is a PlacementState of this model: the compiled masks
        index its arrays without bounds checks, so a foreign or corrupted one must stop here."""
        if not isinstance(state, PlacementState):
            raise ValueError(f"expected a PlacementState, got {type(state).__name__}")
        k, m = self.num_macros, self.netlist.num_nets
        shapes = {"cells": (state.cells, (k,), np.int64), "lo": (state.lo, (m, 2), np.float64),
                  "hi": (state.hi, (m, 2), np.float64),
                  "occupancy": (state.occupancy, (self.rows, self.cols), np.float32)}
        for name, (array, shape, dtype) in shapes.items():
            if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != dtype:
                raise ValueError(f"state.{name} must be {np.dtype(dtype).name}{list(shape)}")
        step = state.step
        if isinstance(step, bool) or not isinstance(step, int | np.integer) or not 0 <= step <= k:
            raise ValueError(f"state.step must be an int in 0..{k}, got {step!r}")
        placed, rest = state.cells[:step], state.cells[step:]
        if np.any((placed < 0) | (placed >= self.num_cells)) or np.any(rest != -1):
            raise ValueError("state.cells must hold a grid cell for each placed macro, then -1")

    def is_complete(self, state: PlacementState) -> bool:
        return state.step >= self.num_macros

    def placed_rects(self, state: PlacementState) -> np.ndarray:
        placed = np.flatnonzero(state.cells >= 0)
        centres = self.cell_center(state.cells[placed]).reshape(-1, 2)
        half = 0.5 * self.size[placed]
        return np.concatenate([centres - half, centres + half], axis=1)

    def position_mask(self, state: PlacementState, k: int | None = None) -> np.ndarray:
        """bool[rows, cols] legal centre cells for macro k (default: the next one to place)."""
        k = state.step if k is None else k
        if k >= self.num_macros:
            return np.zeros((self.rows, self.cols), dtype=bool)
        cached = state._masks.get(k)
        if cached is None:
            obstacles = np.ascontiguousarray(
                np.concatenate([self.obstacles, self.placed_rects(state)])
            )
            w, h = self.size[k]
            cached = _position_mask(
                obstacles, w, h, self.xe[0], self.ye[0], self.cw, self.ch, self.cols,
                self.rows, self.eps,
            )
            state._masks[k] = cached
        return cached

    def wire_mask(self, state: PlacementState, k: int | None = None) -> np.ndarray:
        """float64[rows, cols] HPWL increase of placing macro k (default: the next) at each cell."""
        k = state.step if k is None else k
        if k >= self.num_macros:
            return np.zeros((self.rows, self.cols))
        s, e = self.mn_ptr[k], self.mn_ptr[k + 1]
        return _wire_mask(
            self.mn_net[s:e], self.mn_dlo[s:e], self.mn_dhi[s:e], self.weight, state.lo,
            state.hi, self.xc, self.yc,
        )

    def place(self, state: PlacementState, cell: int) -> tuple[PlacementState, float]:
        """(new state, HPWL increase) after putting the next macro at `cell`; input unchanged.

        Raises ValueError if every macro is placed, the cell is off the grid, or illegal.
        """
        k = state.step
        if k >= self.num_macros:
            raise ValueError("every macro is already placed")
        if not 0 <= cell < self.num_cells:
            raise ValueError(f"cell {cell} is outside the {self.cols}x{self.rows} grid")
        if not self.position_mask(state)[cell // self.cols, cell % self.cols]:
            name = self.netlist.node_names[int(self.order[k])]
            raise ValueError(
                f"illegal placement of macro {name!r} at cell {cell} (row {cell // self.cols}, "
                f"col {cell % self.cols}): outside the canvas or overlapping"
            )
        new = PlacementState(
            k + 1, state.cells.copy(), state.lo.copy(), state.hi.copy(),
            state.occupancy.copy(), state.hpwl,
        )
        new.cells[k] = cell
        cx, cy = self.cell_center(cell)
        s, e = self.mn_ptr[k], self.mn_ptr[k + 1]
        delta = _join(
            self.mn_net[s:e], self.mn_dlo[s:e], self.mn_dhi[s:e], self.weight, new.lo, new.hi,
            cx, cy,
        )
        new.hpwl = state.hpwl + delta
        rect = self.rect(k, cell)
        occ = new.occupancy.astype(np.float64)
        accumulate_coverage(occ, rect[None, :], np.ones(1), self.xe, self.ye)
        new.occupancy = np.minimum(occ, 1.0).astype(np.float32)
        nxt = state._masks.get(k + 1)
        if nxt is not None:  # incremental: the next macro's mask loses only the new obstacle
            nxt = nxt.copy()
            w, h = self.size[k + 1]
            _subtract_obstacle(nxt, rect, w, h, self.xe[0], self.ye[0], self.cw, self.ch,
                               self.eps)
            new._masks[k + 1] = nxt
        return new, delta

    def greedy_cell(self, state: PlacementState, rng: np.random.Generator | None = None) -> int:
        """The legal cell with the smallest HPWL increase (ties broken by `rng`, else lowest).

        Raises ValueError when no cell is legal.
        """
        legal = self.position_mask(state).ravel()
        if not legal.any():
            raise ValueError("no legal cell for the next macro")
        cost = np.where(legal, self.wire_mask(state).ravel(), np.inf)
        best = cost.min()
        ties = np.flatnonzero(cost <= best + 1e-9 * max(1.0, abs(best)))
        return int(ties[0] if rng is None or ties.size == 1 else rng.choice(ties))
