"""A seeded synthetic netlist generator: netlists of any size with local structure, for tests,
the env's default and benchmarks.

Every node draws a hidden position on the canvas; nets join nodes that are close in the
Morton (Z-order) ranking of those positions, so there is real locality to exploit: a good
placer beats a random one. Standard cells sit at their hidden positions, ports on the edge,
and the file placement of the macros is a legal shelf packing (a valid but wire-blind start).
"""

from __future__ import annotations

import numpy as np

from rlsuite.envs.chip.netlist import KIND_CELL, KIND_MACRO, KIND_PORT, Netlist


def _morton_rank(xy: np.ndarray) -> np.ndarray:
    """Rank of each point along a Z-order curve over a 1024x1024 lattice."""
    q = np.clip((xy * 1023).astype(np.int64), 0, 1023)
    code = np.zeros(len(xy), dtype=np.int64)
    for bit in range(10):
        code |= ((q[:, 0] >> bit) & 1) << (2 * bit)
        code |= ((q[:, 1] >> bit) & 1) << (2 * bit + 1)
    return np.argsort(np.argsort(code, kind="stable"), kind="stable")


def _shelf_pack(size: np.ndarray, side: float, order: np.ndarray) -> np.ndarray | None:
    """Lower-left corners from shelf packing in `order`, or None if it overflows the square."""
    ll = np.zeros_like(size)
    x = y = shelf = 0.0
    for i in order:
        w, h = size[i]
        if x + w > side:
            x, y, shelf = 0.0, y + shelf, 0.0
        if y + h > side or w > side:
            return None
        ll[i] = x, y
        x += w
        shelf = max(shelf, h)
    return ll


def synthetic_netlist(
    num_macros: int = 16,
    num_cells: int = 64,
    num_nets: int = 96,
    seed: int = 0,
    *,
    num_ports: int | None = None,
    utilization: float = 0.4,
) -> Netlist:
    """A random netlist with `num_macros` movable macros (areas 16..256, aspect 0.5..2, in units
    of the 1-high standard cells), `num_cells` cells, `num_ports` edge ports (default
    max(4, num_macros // 2)) and `num_nets` nets of 2..8 pins on a square canvas where macros
    fill `utilization` of the area. The first `num_macros` nets each start at a different macro,
    so every macro is connected when num_nets >= num_macros.
    """
    if num_macros < 0 or num_cells < 0 or num_nets < 0:
        raise ValueError("synthetic_netlist: counts must be >= 0")
    if not 0.0 < utilization < 1.0:
        raise ValueError(f"synthetic_netlist: utilization must be in (0, 1), got {utilization}")
    rng = np.random.default_rng(seed)
    n_ports = max(4, num_macros // 2) if num_ports is None else num_ports
    area = np.exp(rng.uniform(np.log(16), np.log(256), num_macros))
    aspect = np.exp(rng.uniform(np.log(0.5), np.log(2.0), num_macros))
    msize = np.maximum(2.0, np.round(np.stack([np.sqrt(area * aspect), np.sqrt(area / aspect)], 1)
                                     * 2) / 2)
    csize = np.stack([rng.integers(1, 4, num_cells).astype(float), np.ones(num_cells)], 1)
    total = float(np.prod(msize, 1).sum()) / utilization + float(np.prod(csize, 1).sum())
    side = float(np.ceil(np.sqrt(max(total, 64.0))))
    order = np.argsort(-msize[:, 1], kind="stable")
    ll = _shelf_pack(msize, side, order)
    while ll is None:
        side = float(np.ceil(side * 1.1))
        ll = _shelf_pack(msize, side, order)

    n = num_macros + num_cells + n_ports
    hidden = rng.uniform(0.0, 1.0, (n, 2))
    edge = rng.integers(0, 4, n_ports)  # ports: snap one coordinate to a canvas edge
    ports = hidden[num_macros + num_cells :]
    ports[edge == 0, 0], ports[edge == 1, 0] = 0.0, 1.0
    ports[edge == 2, 1], ports[edge == 3, 1] = 0.0, 1.0
    size = np.concatenate([msize, csize, np.zeros((n_ports, 2))])
    pos = hidden * side
    pos[:num_macros] = ll + msize / 2
    cells = slice(num_macros, num_macros + num_cells)
    pos[cells] = np.clip(pos[cells], csize / 2, side - csize / 2)

    # nets: an anchor plus neighbours in Z-order, deduplicated per net
    rank = _morton_rank(hidden)
    by_rank = np.argsort(rank)
    degree = np.minimum(2 + rng.geometric(0.5, num_nets) - 1, 8)
    anchors = rng.integers(0, n, num_nets) if n else np.zeros(num_nets, dtype=np.int64)
    first = min(num_macros, num_nets)
    anchors[:first] = rng.permutation(num_macros)[:first]
    net_of_pin = np.repeat(np.arange(num_nets), degree)
    steps = rng.integers(1, 4 * 8 + 1, len(net_of_pin)) * rng.choice([-1, 1], len(net_of_pin))
    is_first = np.r_[True, net_of_pin[1:] != net_of_pin[:-1]] if num_nets else np.zeros(0, bool)
    steps[is_first] = 0
    pin_rank = np.clip(rank[anchors][net_of_pin] + steps, 0, max(n - 1, 0))
    pin_node = by_rank[pin_rank] if n else pin_rank
    keep = np.lexsort((pin_node, net_of_pin))
    net_of_pin, pin_node = net_of_pin[keep], pin_node[keep]
    fresh = np.r_[True, (net_of_pin[1:] != net_of_pin[:-1]) | (pin_node[1:] != pin_node[:-1])]
    net_of_pin, pin_node = net_of_pin[fresh], pin_node[fresh]
    counts = np.bincount(net_of_pin, minlength=num_nets)
    half = size[pin_node] / 2
    offset = np.round(rng.uniform(-half, half) * 10) / 10 if len(pin_node) else half

    kind = np.concatenate([
        np.full(num_macros, KIND_MACRO), np.full(num_cells, KIND_CELL), np.full(n_ports, KIND_PORT)
    ]).astype(np.uint8)
    names = (
        [f"m{i}" for i in range(num_macros)]
        + [f"c{i}" for i in range(num_cells)]
        + [f"p{i}" for i in range(n_ports)]
    )
    return Netlist(
        name=f"synthetic_m{num_macros}_c{num_cells}_n{num_nets}_s{seed}",
        node_names=names,
        kind=kind,
        size=size,
        pos=pos,
        net_ptr=np.concatenate([[0], np.cumsum(counts)]),
        pin_node=pin_node,
        pin_offset=offset,
        net_weight=np.ones(num_nets),
        origin=(0.0, 0.0),
        canvas=(side, side),
        source=f"synthetic_netlist(seed={seed})",
    )
