"""Simulated annealing of macro positions on the placement grid (numba).

Moves, on the same grid as the env: *shift* one macro by up to `radius` cells in each axis (the
radius shrinks from a quarter of the grid to 1 as the temperature falls), or *swap* two macros'
cells.
A move that leaves the canvas or overlaps another macro, fixed block or blockage is rejected
before costing, so every visited placement is legal. Cost = weighted HPWL of the full netlist;
a move re-costs only the nets of the moved macros. Metropolis acceptance with a geometric
schedule from T0 to T0 * 1e-3. T0 comes from 200 probe shifts of at most 2 cells: mean uphill
step / ln 2, so a typical local uphill move starts at 50% acceptance. The baselines anneal the
greedy placement, so the schedule is tuned to refine rather than to restart from scratch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from rlsuite.envs.chip.placement import PlacementModel, _position_mask


@numba.njit(cache=True)
def _net_cost(n, net_ptr, pin_macro, pin_ax, pin_ay, cx, cy, weight):
    x0 = y0 = np.inf
    x1 = y1 = -np.inf
    for p in range(net_ptr[n], net_ptr[n + 1]):
        k = pin_macro[p]
        x = pin_ax[p] + (cx[k] if k >= 0 else 0.0)
        y = pin_ay[p] + (cy[k] if k >= 0 else 0.0)
        x0, x1 = min(x0, x), max(x1, x)
        y0, y1 = min(y0, y), max(y1, y)
    if net_ptr[n + 1] - net_ptr[n] < 2:
        return 0.0
    return weight[n] * ((x1 - x0) + (y1 - y0))


@numba.njit(cache=True)
def _fits(i, j, x, y, cx, cy, size, obstacles, eps):
    """Macro i centred at (x, y) overlaps neither fixed obstacles nor macros other than i, j."""
    hw, hh = 0.5 * size[i, 0], 0.5 * size[i, 1]
    for o in range(obstacles.shape[0]):
        if (x + hw > obstacles[o, 0] + eps and x - hw < obstacles[o, 2] - eps
                and y + hh > obstacles[o, 1] + eps and y - hh < obstacles[o, 3] - eps):
            return False
    for k in range(cx.size):
        if k == i or k == j:  # noqa: SIM109 (numba: no tuple membership in the hot loop)
            continue
        if (abs(x - cx[k]) < hw + 0.5 * size[k, 0] - eps
                and abs(y - cy[k]) < hh + 0.5 * size[k, 1] - eps):
            return False
    return True


@numba.njit(cache=True)
def _delta(moved, stamp, tag, buf_net, buf_cost, net_cost, mn_ptr, mn_net, net_ptr, pin_macro,
           pin_ax, pin_ay, cx, cy, weight):
    """Cost change of the nets of the `moved` macros (positions already tentatively set)."""
    delta = 0.0
    count = 0
    for a in range(moved.size):
        k = moved[a]
        if k < 0:
            continue
        for q in range(mn_ptr[k], mn_ptr[k + 1]):
            n = mn_net[q]
            if stamp[n] == tag:
                continue
            stamp[n] = tag
            c = _net_cost(n, net_ptr, pin_macro, pin_ax, pin_ay, cx, cy, weight)
            buf_net[count] = n
            buf_cost[count] = c
            count += 1
            delta += c - net_cost[n]
    return delta, count


@numba.njit(cache=True)
def _anneal(cells, cols, xc, yc, size, lim, obstacles, eps, net_ptr, pin_macro, pin_ax, pin_ay,
            weight, mn_ptr, mn_net, n_moves, swap_prob, t0, seed):
    np.random.seed(seed)
    K = cells.size
    rows = yc.size
    cells = cells.copy()
    cx = np.empty(K)
    cy = np.empty(K)
    for k in range(K):
        cx[k] = xc[cells[k] % cols]
        cy[k] = yc[cells[k] // cols]
    M = net_ptr.size - 1
    net_cost = np.empty(M)
    total = 0.0
    for n in range(M):
        net_cost[n] = _net_cost(n, net_ptr, pin_macro, pin_ax, pin_ay, cx, cy, weight)
        total += net_cost[n]
    best = total
    best_cells = cells.copy()
    stamp = np.zeros(M, np.int64)
    buf_net = np.empty(M, np.int64)
    buf_cost = np.empty(M)
    moved = np.empty(2, np.int64)
    accepted = 0
    probes = 200 if t0 <= 0.0 else 0
    uphill = 0.0
    n_up = 0
    t_end = t0 * 1e-3
    for it in range(probes + n_moves):
        probing = it < probes
        if not probing and it == probes and t0 <= 0.0:
            t0 = uphill / n_up / np.log(2.0) if n_up > 0 else 1.0
            t_end = t0 * 1e-3
        frac = 0.0 if probing else (it - probes) / n_moves
        temp = t0 * (t_end / t0) ** frac if t0 > 0.0 else 0.0
        i = np.random.randint(K)
        j = -1
        if K >= 2 and not probing and np.random.random() < swap_prob:
            j = np.random.randint(K - 1)
            j = j + 1 if j >= i else j
            ci, cj = cells[j], cells[i]
        else:
            radius = 2 if probing else max(1, int(0.25 * max(cols, rows) * (1.0 - frac)))
            c = cells[i] % cols + np.random.randint(-radius, radius + 1)
            r = cells[i] // cols + np.random.randint(-radius, radius + 1)
            ci = r * cols + c
            cj = -1
            if c < 0 or c >= cols or r < 0 or r >= rows:
                continue
        # legality: inside the canvas range of each moved macro, no overlap
        ri, qi = ci // cols, ci % cols
        if not (lim[i, 0] <= qi <= lim[i, 1] and lim[i, 2] <= ri <= lim[i, 3]):
            continue
        xi, yi = xc[qi], yc[ri]
        xj = yj = 0.0
        if j >= 0:
            rj, qj = cj // cols, cj % cols
            if not (lim[j, 0] <= qj <= lim[j, 1] and lim[j, 2] <= rj <= lim[j, 3]):
                continue
            xj, yj = xc[qj], yc[rj]
            if (abs(xi - xj) < 0.5 * (size[i, 0] + size[j, 0]) - eps
                    and abs(yi - yj) < 0.5 * (size[i, 1] + size[j, 1]) - eps):
                continue
            if not _fits(j, i, xj, yj, cx, cy, size, obstacles, eps):
                continue
        if not _fits(i, j, xi, yi, cx, cy, size, obstacles, eps):
            continue
        oxi, oyi = cx[i], cy[i]
        cx[i], cy[i] = xi, yi
        moved[0], moved[1] = i, j
        if j >= 0:
            oxj, oyj = cx[j], cy[j]
            cx[j], cy[j] = xj, yj
        delta, count = _delta(moved, stamp, it + 1, buf_net, buf_cost, net_cost, mn_ptr, mn_net,
                              net_ptr, pin_macro, pin_ax, pin_ay, cx, cy, weight)
        if probing:
            if delta > 0:
                uphill += delta
                n_up += 1
            take = False
        else:
            take = delta <= 0.0 or (temp > 0.0 and np.random.random() < np.exp(-delta / temp))
        if take:
            accepted += 1
            cells[i] = ci
            if j >= 0:
                cells[j] = cj
            for q in range(count):
                net_cost[buf_net[q]] = buf_cost[q]
            total += delta
            if total < best - 1e-12:
                best = total
                best_cells[:] = cells
        else:
            cx[i], cy[i] = oxi, oyi
            if j >= 0:
                cx[j], cy[j] = oxj, oyj
    return best_cells, best, accepted, t0


@dataclass(frozen=True)
class AnnealResult:
    cells: np.ndarray
    """int64[K] best cells found, in the model's placement order."""
    hpwl: float
    """Weighted HPWL of `cells` (full netlist)."""
    moves: int
    accepted: int
    t0: float


def anneal_arrays(model: PlacementModel):
    """The static arrays the annealer needs, derived once per model."""
    nl = model.netlist
    slot = np.full(nl.num_nodes, -1, dtype=np.int64)
    slot[model.order] = np.arange(model.num_macros)
    pin_macro = slot[nl.pin_node]
    absolute = nl.pin_positions()
    pin_a = np.where(pin_macro[:, None] >= 0, nl.pin_offset, absolute)
    lim = np.empty((model.num_macros, 4), dtype=np.int64)
    empty = np.zeros((0, 4))
    for k in range(model.num_macros):
        free = _position_mask(empty, model.size[k, 0], model.size[k, 1], model.xe[0],
                              model.ye[0], model.cw, model.ch, model.cols, model.rows, model.eps)
        cols_ok, rows_ok = np.flatnonzero(free.any(0)), np.flatnonzero(free.any(1))
        lim[k] = cols_ok[0], cols_ok[-1], rows_ok[0], rows_ok[-1]
    return pin_macro, np.ascontiguousarray(pin_a[:, 0]), np.ascontiguousarray(pin_a[:, 1]), lim


def anneal(
    model: PlacementModel,
    cells: np.ndarray,
    moves: int = 20_000,
    seed: int = 0,
    swap_prob: float = 0.3,
    t0: float | None = None,
) -> AnnealResult:
    """Anneal a complete legal placement (`cells` in the model's order) for `moves` moves."""
    cells = np.asarray(cells, dtype=np.int64)
    if cells.shape != (model.num_macros,) or np.any(cells < 0) or np.any(cells >= model.num_cells):
        raise ValueError("anneal needs a complete placement: one grid cell per macro")
    if moves < 0 or not 0.0 <= swap_prob <= 1.0:
        raise ValueError("moves must be >= 0 and swap_prob in [0, 1]")
    pin_macro, ax, ay, lim = anneal_arrays(model)
    nl = model.netlist
    best, hpwl, accepted, temp = _anneal(
        cells, model.cols, model.xc, model.yc, model.size, lim, model.obstacles, model.eps,
        nl.net_ptr, pin_macro, ax, ay, nl.net_weight, model.mn_ptr, model.mn_net, moves,
        swap_prob, -1.0 if t0 is None else float(t0), seed,
    )
    return AnnealResult(best, float(hpwl), moves, int(accepted), float(temp))
