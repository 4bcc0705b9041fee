"""Google circuit_training netlists: `netlist.pb.txt` (protobuf text) and `.plc` placements.

Format (circuit_training docs/NETLIST_FORMAT.md): every node is a macro, macro pin, port or
standard cell; `x`, `y` are centres; a macro pin sits at its macro's centre plus
(`x_offset`, `y_offset`); a net is a driver node plus the nodes named in its `input` fields,
weighted by the driver's `weight`. Type names are matched case-insensitively (some test files
use lower case). Soft macros (standard-cell clusters, names starting with `Grp`) become
`KIND_CELL`: they stay where the file puts them. The `.plc` gives canvas size, grid,
blockages, routing capacity and positions by node index, pins included in the count.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rlsuite.envs.chip._text import (
    MAX_ABS,
    ORIENTATIONS,
    NetlistParseError,
    apply_orientations,
    check_range,
    decode,
    line_at,
    read_bytes,
    read_text,
)
from rlsuite.envs.chip.netlist import (
    KIND_CELL,
    KIND_FIXED,
    KIND_MACRO,
    KIND_PORT,
    MAX_GRID_SIDE,
    Netlist,
)

_TOKEN = re.compile(r'(\w+)[ \t]*(?::[ \t]*(?:"((?:[^"\\\n]|\\.)*)"|([^\s{}"]+))|(\{))|(\})')
_NODE_OPEN = re.compile(r"\bnode[ \t]*\{")
_KINDS = {"macro", "macro_pin", "port", "stdcell"}


def _node_line(text: str, k: int) -> int:
    for i, m in enumerate(_NODE_OPEN.finditer(text)):
        if i == k:
            return line_at(text, m.start())
    return line_at(text, len(text))


def _tokenise(path: Path, text: str):
    """[(name, inputs, attrs)] per node, in file order; attrs map key -> str value."""
    nodes: list[tuple[str, list[str], dict[str, str]]] = []
    depth = 0
    name, key = "", ""
    inputs: list[str] = []
    attrs: dict[str, str] = {}
    for word, quoted, bare, opened, closed in _TOKEN.findall(text):
        if closed:
            depth -= 1
            if depth < 0:
                raise NetlistParseError(path, _node_line(text, len(nodes)), "unbalanced '}'")
            if depth == 0:
                nodes.append((name, inputs, attrs))
            continue
        if opened:
            depth += 1
            if depth == 1:
                if word != "node":
                    raise NetlistParseError(path, None, f"unexpected top-level block {word!r}")
                name, inputs, attrs, key = "", [], {}, ""
            continue
        value = quoted if quoted or not bare else bare
        if depth == 1 and word == "name":
            name = value
        elif depth == 1 and word == "input":
            inputs.append(value)
        elif depth == 2 and word == "key":
            key = value
        elif depth == 3 and key:
            attrs[key] = value
    if depth != 0:
        raise NetlistParseError(
            path, _node_line(text, len(nodes)), "unclosed node block (truncated file?)"
        )
    return nodes


def _num(path: Path, text: str, k: int, attrs: dict[str, str], key: str) -> float:
    """Attribute `key` of node k as a finite number within MAX_ABS; NaN when absent."""
    if key not in attrs:
        return float("nan")
    try:
        value = float(attrs[key])
    except ValueError:
        raise NetlistParseError(
            path, _node_line(text, k), f"attribute {key!r} is not a number: {attrs[key]!r}", key
        ) from None
    low = 0.0 if key in ("width", "height", "weight") else -MAX_ABS
    return check_range(path, _node_line(text, k), f"attribute {key!r}", value, low)


def _plc_numbers(
    path: Path, line: int | None, field: str, text: str, count: int
) -> list[float]:
    """`count` finite numbers (within MAX_ABS) from a `.plc` header field."""
    parts = text.split()
    try:
        values = [float(v) for v in parts]
    except ValueError:
        raise NetlistParseError(path, line, f"{field}: {text.strip()!r} is not numbers",
                                field) from None
    if len(values) != count:
        raise NetlistParseError(path, line, f"{field} needs {count} numbers, got {len(values)}",
                                field)
    return [check_range(path, line, field, v) for v in values]


_PLC_HEADER = (  # key, pattern, field, how many numbers, what they must be, test
    ("grid", r"#\s*Columns\s*:\s*(\S+)\s+Rows\s*:\s*(\S+)", "Columns/Rows", 2,
     f"whole numbers in 1..{MAX_GRID_SIDE}",
     lambda v: all(x == int(x) and 1 <= x <= MAX_GRID_SIDE for x in v)),
    ("canvas", r"#\s*Width\s*:\s*(\S+)\s+Height\s*:\s*(\S+)", "Width/Height", 2,
     "positive numbers", lambda v: min(v) > 0),
    ("routes", r"#\s*Routes per micron, hor\s*:\s*(\S+)\s+ver\s*:\s*(\S+)",
     "Routes per micron", 2, "positive numbers", lambda v: min(v) > 0),
    ("blockage", r"#\s*Blockage\s*:\s*(.*)", "Blockage", 5,
     "xl <= xh, yl <= yh and a rate in 0..1",
     lambda b: b[0] <= b[2] and b[1] <= b[3] and 0 <= b[4] <= 1),
)


def _read_plc(path: Path):
    """Header fields and body rows (node index, x, y, orientation, fixed, line) of a `.plc`.

    Values are checked before anything is sized by them: a grid side above MAX_GRID_SIDE, a
    non-positive canvas or routing capacity, a NaN or huge coordinate is a NetlistParseError
    naming line and field."""
    raw = decode(path, read_bytes(path))
    header: dict[str, object] = {}
    blockages = []
    rows = []
    for number, line in enumerate(raw.split("\n"), start=1):
        if line.lstrip().startswith("#"):
            for key, pattern, field, count, need, ok in _PLC_HEADER:
                m = re.match(pattern, line.lstrip())
                if m is None:
                    continue
                text = " ".join(m.groups()).strip()
                values = _plc_numbers(path, number, field, text, count)
                if not ok(values):
                    raise NetlistParseError(path, number, f"{field} {text!r}: need {need}", field)
                if key == "blockage":
                    blockages.append(tuple(values))
                else:
                    header[key] = tuple(int(v) for v in values) if key == "grid" else tuple(
                        values)
            continue
        parts = line.split("#", 1)[0].split()
        if not parts:
            continue
        if len(parts) != 5:
            raise NetlistParseError(path, number, f"expected 'index x y orient fixed': {line!r}")
        try:
            idx, x, y, fixed = int(parts[0]), float(parts[1]), float(parts[2]), int(parts[4])
        except ValueError:
            raise NetlistParseError(path, number, f"bad number in {line.strip()!r}") from None
        check_range(path, number, "x", x)
        check_range(path, number, "y", y)
        rows.append((idx, x, y, parts[3], fixed, number))
    header["blockages"] = blockages
    return header, rows


def read_circuit_training(pb: Path | str, plc: Path | str | None = None) -> Netlist:
    """Read `netlist.pb.txt` and, if given (or `initial.plc` lies beside it), its placement."""
    pb = Path(pb)
    text = read_text(pb)
    nodes = _tokenise(pb, text)
    if not nodes:
        raise NetlistParseError(pb, None, "no node blocks found")
    types = []
    for k, (name, _, attrs) in enumerate(nodes):
        t = attrs.get("type", "").lower()
        if t not in _KINDS:
            raise NetlistParseError(pb, _node_line(text, k), f"node {name!r}: unknown type {t!r}")
        types.append(t)
    by_name = {name: k for k, (name, _, _) in enumerate(nodes)}
    if len(by_name) != len(nodes):
        raise NetlistParseError(pb, None, "node names are not unique")

    physical = [k for k, t in enumerate(types) if t != "macro_pin"]
    slot = {k: i for i, k in enumerate(physical)}  # file node index -> netlist node index
    n = len(physical)
    size = np.zeros((n, 2))
    pos = np.full((n, 2), np.nan)
    kind = np.zeros(n, dtype=np.uint8)
    orient = ["N"] * n
    for i, k in enumerate(physical):
        name, _, attrs = nodes[k]
        t = types[k]
        pos[i] = _num(pb, text, k, attrs, "x"), _num(pb, text, k, attrs, "y")
        if t == "port":
            kind[i] = KIND_PORT
            continue
        size[i] = _num(pb, text, k, attrs, "width"), _num(pb, text, k, attrs, "height")
        if np.isnan(size[i]).any():
            raise NetlistParseError(pb, _node_line(text, k), f"{t} {name!r} lacks width/height")
        soft = t == "macro" and name.startswith("Grp")
        kind[i] = KIND_MACRO if t == "macro" and not soft else KIND_CELL
        o = attrs.get("orientation", "N").upper()
        if o not in ORIENTATIONS:
            raise NetlistParseError(pb, _node_line(text, k), f"{name!r}: bad orientation {o!r}")
        orient[i] = o

    # pins: a physical node is its own pin; a macro pin is its macro plus an offset
    pin_of = np.zeros(len(nodes), dtype=np.int64)
    pin_off = np.zeros((len(nodes), 2))
    for k, t in enumerate(types):
        if t != "macro_pin":
            pin_of[k] = slot[k]
            continue
        name, _, attrs = nodes[k]
        owner = attrs.get("macro_name", name.rsplit("/", 1)[0])
        if owner not in by_name or types[by_name[owner]] != "macro":
            raise NetlistParseError(
                pb, _node_line(text, k), f"macro pin {name!r} names unknown macro {owner!r}"
            )
        pin_of[k] = slot[by_name[owner]]
        dx, dy = _num(pb, text, k, attrs, "x_offset"), _num(pb, text, k, attrs, "y_offset")
        pin_off[k] = 0.0 if np.isnan(dx) else dx, 0.0 if np.isnan(dy) else dy

    members: list[int] = []
    net_ptr = [0]
    weights, net_names = [], []
    for k, (name, inputs, attrs) in enumerate(nodes):
        if not inputs:
            continue
        try:
            sinks = [by_name[s] for s in inputs]
        except KeyError as err:
            line = _node_line(text, k)
            raise NetlistParseError(
                pb, line, f"net of {name!r} names unknown node {err.args[0]!r}"
            ) from None
        members.append(k)
        members.extend(sinks)
        net_ptr.append(len(members))
        w = _num(pb, text, k, attrs, "weight")
        weights.append(1.0 if np.isnan(w) else w)
        net_names.append(name)
    member_arr = np.array(members, dtype=np.int64)
    pin_node = pin_of[member_arr].astype(np.int32)
    pin_offset = pin_off[member_arr].reshape(-1, 2)
    size, pin_offset = apply_orientations(size, pin_node, pin_offset, orient)

    header: dict[str, object] = {}
    plc_path = Path(plc) if plc is not None else pb.parent / "initial.plc"
    if plc is not None or plc_path.exists():
        header, rows = _read_plc(plc_path)
        for idx, x, y, o, fixed, line in rows:
            if not 0 <= idx < len(nodes):
                raise NetlistParseError(plc_path, line, f"node index {idx} out of range")
            if types[idx] == "macro_pin":
                continue
            i = slot[idx]
            pos[i] = x, y
            if fixed and kind[i] == KIND_MACRO:
                kind[i] = KIND_FIXED
            if o not in ("-", orient[i]) and o.upper() in ORIENTATIONS and kind[i] != KIND_PORT:
                raise NetlistParseError(
                    plc_path, line, f"orientation {o} differs from the netlist's {orient[i]}"
                )

    if "canvas" in header:
        origin, canvas = (0.0, 0.0), header["canvas"]
    else:
        m = re.search(r"FP bbox:\s*\{\s*(\S+)\s+(\S+)\s*\}\s*\{\s*(\S+)\s+(\S+)\s*\}",
                      decode(pb, read_bytes(pb)))
        if m:
            x0, y0, x1, y1 = _plc_numbers(pb, None, "FP bbox", " ".join(m.groups()), 4)
        else:
            known = ~np.isnan(pos[:, 0])
            if not known.any():
                raise NetlistParseError(pb, None, "no canvas size (.plc or FP bbox) and no coords")
            lo = np.min(pos[known] - size[known] / 2, axis=0)
            hi = np.max(pos[known] + size[known] / 2, axis=0)
            x0, y0, x1, y1 = lo[0], lo[1], hi[0], hi[1]
        origin, canvas = (x0, y0), (x1 - x0, y1 - y0)
    centre = np.array([origin[0] + canvas[0] / 2, origin[1] + canvas[1] / 2])  # type: ignore[index]
    pos = np.where(np.isnan(pos), centre, pos)
    blk = np.array(header.get("blockages", []), dtype=np.float64).reshape(-1, 5)
    return Netlist(
        name=pb.parent.name or pb.stem,
        node_names=[nodes[k][0] for k in physical],
        kind=kind,
        size=size,
        pos=pos,
        net_ptr=np.array(net_ptr, dtype=np.int64),
        pin_node=pin_node,
        pin_offset=pin_offset,
        net_weight=np.array(weights, dtype=np.float64),
        origin=origin,
        canvas=canvas,  # type: ignore[arg-type]
        net_names=net_names,
        orient=orient,
        grid=header.get("grid"),  # type: ignore[arg-type]
        blockages=blk,
        routes_per_unit=header.get("routes", (1.0, 1.0)),  # type: ignore[arg-type]
        source=str(pb),
        file_index=np.array(physical, dtype=np.int64),
    )


def write_plc(netlist: Netlist, path: Path | str, centers: np.ndarray | None = None) -> Path:
    """Write a circuit_training `.plc`: header (grid, canvas) and one row per placed node.

    Node indices are the circuit_training ones (`Netlist.file_index`, pins counted) when the
    netlist came from a `.pb.txt`, else the netlist's own order.
    """
    path = Path(path)
    c = netlist.full_centers(centers)
    cols, rows = netlist.default_grid()
    index = netlist.file_index if netlist.file_index is not None else np.arange(netlist.num_nodes)
    lines = [
        "# Placement file for Circuit Training (written by rlsuite)",
        f"# Source input file(s) : {netlist.source}",
        f"# Columns : {cols}  Rows : {rows}",
        f"# Width : {netlist.canvas[0]:.3f}  Height : {netlist.canvas[1]:.3f}",
        f"# Routes per micron, hor : {netlist.routes_per_unit[0]:g}  "
        f"ver : {netlist.routes_per_unit[1]:g}",
    ]
    lines += [f"# Blockage : {' '.join(f'{v:g}' for v in b)}" for b in netlist.blockages]
    lines.append("# node_index x y orientation fixed")
    lines += [
        f"{idx} {x:g} {y:g} {'-' if k == KIND_PORT else o} {int(k in (KIND_FIXED, KIND_PORT))}"
        for idx, (x, y), o, k in zip(
            index.tolist(), c.tolist(), netlist.orient, netlist.kind.tolist(), strict=True
        )
    ]
    path.write_text("\n".join(lines) + "\n")
    return path
