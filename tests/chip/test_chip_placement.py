"""The grid placement model, its masks against brute force, and the baselines."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from rlsuite.envs.chip import (
    KIND_FIXED,
    PlacementModel,
    anneal,
    greedy_placement,
    load_netlist,
    random_placement,
    run_baseline,
    synthetic_netlist,
)
from rlsuite.envs.chip.metrics import overlap_area


def obstructed_netlist():
    """Synthetic netlist with one macro turned into a fixed block and a blockage."""
    nl = synthetic_netlist(10, 30, 40, seed=5)
    kind = nl.kind.copy()
    kind[0] = KIND_FIXED
    x0, y0, x1, y1 = nl.bounds
    blk = [[x1 - 12, y1 - 9, x1, y1, 1.0]]
    return dataclasses.replace(nl, kind=kind, blockages=np.array(blk))


def brute_force_mask(model: PlacementModel, state, k: int) -> np.ndarray:
    others = [*model.obstacles, *model.placed_rects(state)]
    xl, yl, xh, yh = model.netlist.bounds
    w, h = model.size[k]
    mask = np.zeros((model.rows, model.cols), dtype=bool)
    for r in range(model.rows):
        for c in range(model.cols):
            cx, cy = model.xc[c], model.yc[r]
            a = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            inside = a[0] >= xl - 1e-9 and a[1] >= yl - 1e-9 and a[2] <= xh + 1e-9 \
                and a[3] <= yh + 1e-9
            clash = any(
                min(a[2], o[2]) - max(a[0], o[0]) > 1e-7
                and min(a[3], o[3]) - max(a[1], o[1]) > 1e-7
                for o in others
            )
            mask[r, c] = inside and not clash
    return mask


def test_position_and_wire_masks_match_brute_force():
    nl = obstructed_netlist()
    model = PlacementModel(nl, grid=(13, 11))
    assert len(model.obstacles) == 2
    rng = np.random.default_rng(0)
    state = model.initial_state()
    while not model.is_complete(state):
        mask = model.position_mask(state)
        np.testing.assert_array_equal(mask, brute_force_mask(model, state, state.step))
        if state.step + 1 < model.num_macros:
            np.testing.assert_array_equal(model.position_mask(state, state.step + 1),
                                          brute_force_mask(model, state, state.step + 1))
        legal = np.flatnonzero(mask.ravel())
        if legal.size == 0:
            break
        wire = model.wire_mask(state).ravel()
        for cell in rng.choice(legal, size=min(8, legal.size), replace=False):
            _, delta = model.place(state, int(cell))
            assert wire[cell] == pytest.approx(delta, rel=1e-12, abs=1e-9)
        state, _ = model.place(state, int(rng.choice(legal)))
    assert model.is_complete(state)
    centers = model.centers(state)
    assert state.hpwl == pytest.approx(nl.hpwl(centers), rel=1e-12)
    assert nl.overlap_area(centers) < 1e-9


def test_incremental_next_mask_equals_rebuilt_mask():
    nl = synthetic_netlist(20, 40, 60, seed=2)
    model = PlacementModel(nl)
    state = model.initial_state()
    rng = np.random.default_rng(1)
    for _ in range(12):
        model.position_mask(state, state.step + 1)  # cache the next macro's mask
        legal = np.flatnonzero(model.position_mask(state).ravel())
        state, _ = model.place(state, int(rng.choice(legal)))
        incremental = model.position_mask(state).copy()
        state._masks.clear()
        np.testing.assert_array_equal(incremental, model.position_mask(state))


@pytest.mark.parametrize("seed", range(6))
def test_random_episodes_never_overlap(seed):
    nl = synthetic_netlist(24, 20, 40, seed=seed, utilization=0.55)
    model = PlacementModel(nl)
    cells, ok = random_placement(model, np.random.default_rng(seed), tries=1)
    placed = cells >= 0
    rects = np.array([model.rect(k, int(c)) for k, c in enumerate(cells) if c >= 0])
    assert overlap_area(rects) < 1e-9
    xl, yl, xh, yh = nl.bounds
    assert np.all(rects[:, :2] >= [xl - 1e-9, yl - 1e-9])
    assert np.all(rects[:, 2:] <= [xh + 1e-9, yh + 1e-9])
    assert ok == placed.all()


def test_orders_and_bad_arguments():
    nl = synthetic_netlist(6, 10, 12, seed=0)
    area = PlacementModel(nl, order="area")
    sizes = np.prod(nl.size[area.order], axis=1)
    assert np.all(np.diff(sizes) <= 0)
    np.testing.assert_array_equal(PlacementModel(nl, order="file").order, nl.macro_ids)
    explicit = PlacementModel(nl, order=["m5", "m4", 3, 2, 1, 0])
    np.testing.assert_array_equal(explicit.order, [5, 4, 3, 2, 1, 0])
    with pytest.raises(ValueError, match="every movable macro exactly once"):
        PlacementModel(nl, order=["m0", "m1"])
    with pytest.raises(ValueError, match="order must be one of"):
        PlacementModel(nl, order="random")
    for bad in [(0, 4), (5,), (5, 2.5), 100_000, (True, 3), "8x8"]:
        with pytest.raises(ValueError, match="grid"):
            PlacementModel(nl, grid=bad)
    model = PlacementModel(nl, grid=8)
    state = model.initial_state()
    with pytest.raises(ValueError, match="outside the 8x8 grid"):
        model.place(state, 64)
    illegal = int(np.flatnonzero(~model.position_mask(state).ravel())[0])
    with pytest.raises(ValueError, match="illegal placement of macro"):
        model.place(state, illegal)
    with pytest.raises(KeyError, match="no node 'nope'"):
        PlacementModel(nl, order=["nope"])


def test_place_leaves_input_state_unchanged():
    model = PlacementModel(synthetic_netlist(5, 10, 10, seed=1))
    state = model.initial_state()
    before = (state.cells.copy(), state.lo.copy(), state.occupancy.copy(), state.hpwl)
    model.place(state, model.greedy_cell(state))
    np.testing.assert_array_equal(state.cells, before[0])
    np.testing.assert_array_equal(state.lo, before[1])
    np.testing.assert_array_equal(state.occupancy, before[2])
    assert state.hpwl == before[3] and state.step == 0


def test_annealing_is_legal_deterministic_and_never_worse(chip_data):
    nl = load_netlist(chip_data / "mcnc_apte" / "apte.aux")
    model = PlacementModel(nl, grid=16)
    start, ok = greedy_placement(model)
    assert ok
    start_hpwl = nl.hpwl(model.cells_to_centers(start))
    a = anneal(model, start, moves=20_000, seed=3)
    b = anneal(model, start, moves=20_000, seed=3)
    np.testing.assert_array_equal(a.cells, b.cells)
    centers = model.cells_to_centers(a.cells)
    assert a.hpwl == pytest.approx(nl.hpwl(centers), rel=1e-9)
    assert a.hpwl <= start_hpwl + 1e-9 and a.accepted > 0
    assert nl.overlap_area(centers) < 1e-9
    with pytest.raises(ValueError, match="complete placement"):
        anneal(model, start[:-1])


def test_baselines_rank_as_expected():
    nl = synthetic_netlist(40, 200, 300, seed=4)
    model = PlacementModel(nl)
    rnd = run_baseline("random", model, seed=0)
    greedy = run_baseline("greedy", model)
    sa = run_baseline("sa", model, seed=0, sa_moves=20_000)
    assert rnd.complete and greedy.complete and sa.complete
    assert greedy.metrics["hpwl"] < 0.8 * rnd.metrics["hpwl"]
    assert sa.metrics["hpwl"] <= greedy.metrics["hpwl"] + 1e-9
    for r in (rnd, greedy, sa):
        assert r.metrics["overlap"] < 1e-9
        assert set(r.metrics) == {"hpwl", "macro_hpwl", "wirelength_cost", "congestion",
                                  "density", "overlap", "proxy_cost"}
    with pytest.raises(ValueError, match="unknown baseline"):
        run_baseline("rl", model)
