"""Placement metrics on flat arrays: HPWL, RUDY congestion, density and overlap.

Every function is vectorised (numpy reductions, one matrix product per chunk) or compiled with
numba, and takes plain arrays so the naive reference loops in the tests can check it exactly.

Formulas (pins p of net n at absolute positions (x_p, y_p), net weight w_n):
- HPWL = sum_n w_n * [(max_p x_p - min_p x_p) + (max_p y_p - min_p y_p)]; nets with fewer
  than two pins contribute 0.
- RUDY (Spindler & Johannes, DATE 2007): net n spreads a wire density
  d_n = w_n * (W_n + H_n) / (W_n * H_n) uniformly over its bounding box W_n x H_n, where each
  side is widened (about its centre) to at least one grid cell so that flat nets count.
  Cell value = sum_n d_n * area(box_n & cell) / area(cell), i.e. wire length per unit area.
- Coverage (density) = sum_i r_i * area(rect_i & cell) / area(cell) with a weight r_i per
  rectangle (1 for nodes, the blockage rate for blockages).
- Top-fraction cost = mean of the largest max(1, floor(f * cells)) cell values (f = 0.1 for
  both congestion and density, as circuit_training's cost functions report).
- Overlap = sum over unordered pairs i < j of area(rect_i & rect_j).
"""

from __future__ import annotations

import numba
import numpy as np


def net_bboxes(pins: np.ndarray, net_ptr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi), each float64[M, 2]: pin bounding box per net; empty nets get (+inf, -inf)."""
    m = len(net_ptr) - 1
    lo = np.full((m, 2), np.inf)
    hi = np.full((m, 2), -np.inf)
    nonempty = np.diff(net_ptr) > 0
    if nonempty.any():
        starts = net_ptr[:-1][nonempty]
        lo[nonempty] = np.minimum.reduceat(pins, starts, axis=0)
        hi[nonempty] = np.maximum.reduceat(pins, starts, axis=0)
    return lo, hi


def hpwl_per_net(pins: np.ndarray, net_ptr: np.ndarray) -> np.ndarray:
    """float64[M]: unweighted half-perimeter of each net's pin bounding box (0 if < 2 pins)."""
    lo, hi = net_bboxes(pins, net_ptr)
    span = (hi - lo).sum(axis=1)
    span[np.diff(net_ptr) < 2] = 0.0
    return span


def hpwl(pins: np.ndarray, net_ptr: np.ndarray, weights: np.ndarray) -> float:
    """Weighted half-perimeter wirelength of all nets (formula in the module docstring)."""
    return float(np.dot(weights, hpwl_per_net(pins, net_ptr)))


def grid_edges(bounds: tuple[float, float, float, float], grid: tuple[int, int]):
    cols, rows = grid
    if cols < 1 or rows < 1:
        raise ValueError(f"grid must be at least 1x1, got {grid}")
    xl, yl, xh, yh = bounds
    return np.linspace(xl, xh, cols + 1), np.linspace(yl, yh, rows + 1)


@numba.njit(cache=True)
def accumulate_coverage(
    out: np.ndarray, rects: np.ndarray, weights: np.ndarray, xe: np.ndarray, ye: np.ndarray
) -> None:
    """out[r, c] += weights_i * area(rects_i & cell) / area(cell), over covered cells only."""
    cols, rows = xe.size - 1, ye.size - 1
    cw, ch = xe[1] - xe[0], ye[1] - ye[0]
    inv = 1.0 / (cw * ch)
    for i in range(rects.shape[0]):
        xl, yl, xh, yh = rects[i, 0], rects[i, 1], rects[i, 2], rects[i, 3]
        c0 = max(int(np.floor((xl - xe[0]) / cw)), 0)
        c1 = min(int(np.floor((xh - xe[0]) / cw)), cols - 1)
        r0 = max(int(np.floor((yl - ye[0]) / ch)), 0)
        r1 = min(int(np.floor((yh - ye[0]) / ch)), rows - 1)
        for r in range(r0, r1 + 1):
            oy = min(yh, ye[r + 1]) - max(yl, ye[r])
            if oy <= 0.0:
                continue
            for c in range(c0, c1 + 1):
                ox = min(xh, xe[c + 1]) - max(xl, xe[c])
                if ox > 0.0:
                    out[r, c] += weights[i] * ox * oy * inv


def coverage_map(
    rects: np.ndarray,
    weights: np.ndarray,
    bounds: tuple[float, float, float, float],
    grid: tuple[int, int],
) -> np.ndarray:
    """float64[rows, cols]: sum_i weights_i * area(rects_i & cell) / area(cell).

    Compiled loop over the cells each rectangle covers only: O(cells covered), no dense
    rectangle x cell matrix, so 200k nets cost milliseconds.
    """
    xe, ye = grid_edges(bounds, grid)
    rects = np.ascontiguousarray(rects, dtype=np.float64).reshape(-1, 4)
    weights = np.ascontiguousarray(weights, dtype=np.float64)
    if len(weights) != len(rects):
        raise ValueError("coverage_map: one weight per rectangle")
    out = np.zeros((len(ye) - 1, len(xe) - 1))
    accumulate_coverage(out, rects, weights, xe, ye)
    return out


def rudy_map(
    lo: np.ndarray,
    hi: np.ndarray,
    weights: np.ndarray,
    bounds: tuple[float, float, float, float],
    grid: tuple[int, int],
) -> np.ndarray:
    """float64[rows, cols] RUDY wire density of nets with bounding boxes [lo, hi]."""
    xe, ye = grid_edges(bounds, grid)
    cell = np.array([xe[1] - xe[0], ye[1] - ye[0]])
    centre = 0.5 * (lo + hi)
    span = np.maximum(hi - lo, cell)
    density = weights * span.sum(axis=1) / np.prod(span, axis=1)
    rects = np.concatenate([centre - 0.5 * span, centre + 0.5 * span], axis=1)
    return coverage_map(rects, density, bounds, grid)


def top_fraction_mean(values: np.ndarray, fraction: float = 0.1) -> float:
    """Mean of the largest max(1, floor(fraction * size)) entries."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    if flat.size == 0:
        return 0.0
    k = max(1, int(fraction * flat.size))
    return float(np.partition(flat, flat.size - k)[flat.size - k :].mean())


@numba.njit(cache=True)
def _overlap_sweep(rects: np.ndarray, order: np.ndarray) -> float:
    total = 0.0
    n = order.size
    for a in range(n):
        i = order[a]
        for b in range(a + 1, n):
            j = order[b]
            if rects[j, 0] >= rects[i, 2]:
                break  # sorted by xl: no later rectangle reaches back into i
            w = min(rects[i, 2], rects[j, 2]) - max(rects[i, 0], rects[j, 0])
            h = min(rects[i, 3], rects[j, 3]) - max(rects[i, 1], rects[j, 1])
            if w > 0.0 and h > 0.0:
                total += w * h
    return total


def overlap_area(rects: np.ndarray) -> float:
    """Sum of pairwise intersection areas (sweep over rectangles sorted by left edge)."""
    rects = np.ascontiguousarray(rects, dtype=np.float64).reshape(-1, 4)
    if len(rects) < 2:
        return 0.0
    return float(_overlap_sweep(rects, np.argsort(rects[:, 0], kind="stable")))
