"""Metrics against naive loops on random netlists and against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from rlsuite.envs.chip import KIND_FIXED, KIND_MACRO, KIND_PORT, Netlist, synthetic_netlist
from rlsuite.envs.chip.metrics import top_fraction_mean


# ------------------------------------------------------------------ naive references
def naive_hpwl(nl: Netlist, centers: np.ndarray, pins_filter=None) -> float:
    total = 0.0
    for n in range(nl.num_nets):
        xs, ys = [], []
        for p in range(nl.net_ptr[n], nl.net_ptr[n + 1]):
            if pins_filter is not None and not pins_filter(n, p):
                continue
            node = nl.pin_node[p]
            xs.append(centers[node][0] + nl.pin_offset[p][0])
            ys.append(centers[node][1] + nl.pin_offset[p][1])
        if len(xs) >= 2:
            total += nl.net_weight[n] * (max(xs) - min(xs) + max(ys) - min(ys))
    return total


def naive_macro_hpwl(nl: Netlist, centers: np.ndarray) -> float:
    hard = {i for i in range(nl.num_nodes) if nl.kind[i] in (KIND_MACRO, KIND_FIXED)}

    def keep(n, p):
        members = {int(nl.pin_node[q]) for q in range(nl.net_ptr[n], nl.net_ptr[n + 1])}
        return int(nl.pin_node[p]) in hard and len(members & hard) >= 2

    return naive_hpwl(nl, centers, keep)


def naive_coverage(rects, weights, bounds, grid) -> np.ndarray:
    cols, rows = grid
    xl, yl, xh, yh = bounds
    cw, ch = (xh - xl) / cols, (yh - yl) / rows
    out = np.zeros((rows, cols))
    for r in range(rows):
        for c in range(cols):
            cx0, cy0 = xl + c * cw, yl + r * ch
            for (a, b, e, f), w in zip(rects, weights, strict=True):
                ox = max(0.0, min(e, cx0 + cw) - max(a, cx0))
                oy = max(0.0, min(f, cy0 + ch) - max(b, cy0))
                out[r, c] += w * ox * oy / (cw * ch)
    return out


def naive_rudy(nl: Netlist, centers, grid) -> np.ndarray:
    cols, rows = grid
    cw, ch = nl.canvas[0] / cols, nl.canvas[1] / rows
    rects, weights = [], []
    for n in range(nl.num_nets):
        lo, hi = nl.net_ptr[n], nl.net_ptr[n + 1]
        if hi - lo < 2:
            continue
        pts = [centers[nl.pin_node[p]] + nl.pin_offset[p] for p in range(lo, hi)]
        x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
        y0, y1 = min(p[1] for p in pts), max(p[1] for p in pts)
        w, h = max(x1 - x0, cw), max(y1 - y0, ch)
        mx, my = (x0 + x1) / 2, (y0 + y1) / 2
        rects.append((mx - w / 2, my - h / 2, mx + w / 2, my + h / 2))
        weights.append(nl.net_weight[n] * (w + h) / (w * h))
    rudy = naive_coverage(rects, weights, nl.bounds, grid)
    return rudy / sum(nl.routes_per_unit)


def naive_overlap(rects) -> float:
    total = 0.0
    for i in range(len(rects)):
        for j in range(i + 1, len(rects)):
            a, b = rects[i], rects[j]
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            if w > 0 and h > 0:
                total += w * h
    return total


def random_netlist(seed: int) -> tuple[Netlist, np.ndarray]:
    """A synthetic netlist with random weights, a fixed block, and random (overlapping) centres."""
    nl = synthetic_netlist(10, 30, 40, seed=seed)
    rng = np.random.default_rng(seed)
    kind = nl.kind.copy()
    kind[3] = KIND_FIXED
    nl = Netlist(
        name="random", node_names=nl.node_names, kind=kind, size=nl.size, pos=nl.pos,
        net_ptr=nl.net_ptr, pin_node=nl.pin_node, pin_offset=nl.pin_offset,
        net_weight=rng.uniform(0.5, 3.0, nl.num_nets), origin=(-5.0, 2.0), canvas=nl.canvas,
        routes_per_unit=(0.7, 1.3),
    )
    centers = nl.pos + rng.uniform(-8, 8, nl.pos.shape)
    return nl, centers


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_metrics_equal_naive_loops(seed):
    nl, centers = random_netlist(seed)
    grid = (7, 5)
    assert nl.hpwl(centers) == pytest.approx(naive_hpwl(nl, centers), rel=1e-12)
    assert nl.macro_hpwl(centers) == pytest.approx(naive_macro_hpwl(nl, centers), rel=1e-12)
    np.testing.assert_allclose(nl.congestion_map(centers, grid), naive_rudy(nl, centers, grid),
                               rtol=1e-12, atol=1e-14)
    rects = nl.node_rects(centers)
    area = [i for i in range(nl.num_nodes) if nl.kind[i] != KIND_PORT and np.prod(nl.size[i]) > 0]
    np.testing.assert_allclose(
        nl.density_map(centers, grid), naive_coverage(rects[area], [1.0] * len(area), nl.bounds,
                                                      grid), rtol=1e-12, atol=1e-14)
    hard = [i for i in range(nl.num_nodes) if nl.kind[i] in (KIND_MACRO, KIND_FIXED)]
    assert nl.overlap_area(centers) == pytest.approx(naive_overlap(rects[hard]), rel=1e-12)
    assert nl.overlap_area(centers) > 0  # random centres do overlap: the check is not vacuous
    dens = sorted(nl.density_map(centers, grid).ravel(), reverse=True)
    assert nl.density(centers, grid) == pytest.approx(np.mean(dens[:3]), rel=1e-12)  # 35 cells


def test_macro_centers_only_and_bad_shapes():
    nl, _ = random_netlist(0)
    moved = nl.pos[nl.macro_ids] + 1.0
    full = nl.pos.copy()
    full[nl.macro_ids] = moved
    assert nl.hpwl(moved) == nl.hpwl(full)
    with pytest.raises(ValueError, match="centers must have shape"):
        nl.hpwl(np.zeros((3, 2)))


def three_macros() -> Netlist:
    """Canvas 10x10; A 2x2 at (2, 2), B 2x2 at (8, 2), C 4x2 at (5, 8); three nets."""
    return Netlist(
        name="three", node_names=["A", "B", "C"], kind=[KIND_MACRO] * 3,
        size=[[2, 2], [2, 2], [4, 2]], pos=[[2, 2], [8, 2], [5, 8]],
        net_ptr=[0, 2, 4, 7], pin_node=[0, 1, 0, 2, 0, 1, 2],
        pin_offset=[[1, 0], [-1, 0], [0, 1], [0, -1], [0, 0], [0, 0], [0, 0]],
        net_weight=[1, 1, 2], origin=(0, 0), canvas=(10, 10), grid=(2, 2),
    )


def test_hand_computed_three_macro_netlist():
    nl = three_macros()
    # n1: (3,2)-(7,2) -> 4; n2: (2,3)-(5,7) -> 3 + 4 = 7; n3 (weight 2): x 2..8, y 2..8 -> 24
    assert nl.hpwl() == 35.0
    assert nl.macro_hpwl() == 35.0
    assert nl.wirelength_cost() == 35.0 / ((10 + 10) * 4)
    # density on 2x2 cells of 25: every cell holds 4 units of macro area
    np.testing.assert_allclose(nl.density_map(), [[0.16, 0.16], [0.16, 0.16]])
    assert nl.density() == pytest.approx(0.16)
    # RUDY, boxes widened to at least one cell (5 x 5): n1 -> 5x5 around (5, 2), density
    # 10/25 on x 2.5..7.5, y -0.5..4.5 (11.25 per lower cell); n2 -> 5x5 around (3.5, 5):
    # 10/25 on 1..6 x 2.5..7.5; n3: 2 * 12/36 on 2..8 x 2..8 (9 per cell).
    expected = np.array([[0.18 + 0.16 + 0.24, 0.18 + 0.04 + 0.24],
                         [0.16 + 0.24, 0.04 + 0.24]]) / 2.0  # capacity 1 + 1 track per unit
    np.testing.assert_allclose(nl.congestion_map(), expected)
    assert nl.congestion() == pytest.approx(0.29)
    assert nl.proxy_cost() == pytest.approx(35 / 80 + 0.5 * 0.29 + 0.16)
    assert nl.overlap_area() == 0.0
    # move C onto A: A spans 1..3 x 1..3, C 1..5 x 2..4 -> overlap 2 x 1
    assert nl.overlap_area(np.array([[2, 2], [8, 2], [3, 3]])) == pytest.approx(2.0)


def test_top_fraction_mean_edge_cases():
    assert top_fraction_mean(np.array([])) == 0.0
    assert top_fraction_mean(np.array([3.0, 1.0])) == 3.0  # at least one cell
    assert top_fraction_mean(np.arange(20.0)) == pytest.approx(18.5)


def test_netlist_validation_errors():
    nl = three_macros()
    kwargs = {f: getattr(nl, f) for f in ("name", "node_names", "kind", "size", "pos", "net_ptr",
                                          "pin_node", "pin_offset", "net_weight", "origin",
                                          "canvas")}
    with pytest.raises(ValueError, match="pin names a node index outside"):
        Netlist(**{**kwargs, "pin_node": [0, 1, 0, 2, 0, 1, 9]})
    with pytest.raises(ValueError, match=r"canvas \(0.0, 10.0\) must be positive"):
        Netlist(**{**kwargs, "canvas": (0, 10)})
    with pytest.raises(ValueError, match="not unique"):
        Netlist(**{**kwargs, "node_names": ["A", "A", "C"]})
    with pytest.raises(ValueError, match="net_weight"):
        Netlist(**{**kwargs, "net_weight": [1, -1, 2]})
