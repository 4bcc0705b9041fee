"""ISPD/ICCAD Bookshelf reader and writers (.aux -> .nodes .nets .pl [.scl] [.wts]).

Conventions: `.pl` gives the lower-left corner of each node; `.nets` pin offsets are measured
from the node centre (the ISPD 2005 convention), in the node's N orientation.

Node classes: `terminal` -> fixed block (obstacle), `terminal_NI` or `/FIXED_NI` -> port
(no area), `/FIXED` on a movable node -> fixed block. A movable node is a macro when it is
taller than the standard-cell row (`.scl`); without an `.scl` (block-level designs such as
MCNC) every movable node is a macro.

Dialects: the public releases were written by different tools over a decade (IBM-MS and
ICCAD04 IBM-MSwPins, ISPD04, ISPD 2005/2006, Dragon, IBM-PLACE), so the reader accepts their
union: keywords in any case (`NumSites` / `Numsites`, `NetDegree`, `terminal_NI`, `/FIXED`),
any mix of spaces, tabs and CRLF, pin lines with or without a direction and offsets
(`a0`, `a0 B`, `a0 : dx dy`, `a0 B : dx dy`), `.pl` lines with or without an orientation,
an `.scl` without `Sitespacing` (the site width is the pitch, else 1), and a `.wts` that
weighs nets, nodes (ignored: no role in placement metrics), or both, with one or more
weight columns. `NumPins` is not trusted (MCNC apte's is wrong); `NumNodes` may count all
nodes or only the non-terminals. Everything else that does not parse, and every number that
is not finite or exceeds `MAX_ABS`, raises `NetlistParseError` with file, line and field.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from rlsuite.envs.chip._scan import Tokens, lookup
from rlsuite.envs.chip._text import (
    ORIENTATIONS,
    NetlistParseError,
    apply_orientations,
    check_range,
    line_at,
    read_text,
)
from rlsuite.envs.chip.netlist import KIND_CELL, KIND_FIXED, KIND_MACRO, KIND_PORT, Netlist

_ROW = re.compile(r"\bCoreRow\b(.*?)\bEnd\b", re.S | re.I)
_HEADERS = [b"numnodes", b"numterminals", b"numnets", b"numpins", b"numrows",
            b"numnonrectangularnodes"]


def _is_colon(tok: Tokens, idx: np.ndarray) -> np.ndarray:
    idx = np.asarray(idx, dtype=np.int64)
    inside = idx < tok.start.size
    safe = np.where(inside, idx, 0)
    return inside & (tok.end[safe] - tok.start[safe] == 1) & (tok.buf[tok.start[safe]] == 58)


def _lower(tok: Tokens, idx: np.ndarray) -> np.ndarray:
    """Lower-case S-array of the given tokens (keywords are case-insensitive)."""
    return np.char.lower(tok.strings(idx))


def _body(tok: Tokens) -> tuple[np.ndarray, np.ndarray, dict[str, tuple[str, int]]]:
    """(record indices of the body, S-array of their first tokens, Num* header counts
    as lower-case key -> (value text, line))."""
    first = tok.strings(tok.rec_first)
    low = np.char.lower(first)
    counted = (tok.rec_len >= 3) & _is_colon(tok, tok.rec_first + 1)
    num = np.isin(low, _HEADERS) & counted
    header = (low == b"ucla") | num
    counts = {
        tok.text(int(f)).lower(): (tok.text(int(f) + 2), tok.lineno(int(f)))
        for f in tok.rec_first[np.flatnonzero(num)]
    }
    body = np.flatnonzero(~header)
    return body, first[body], counts


def _bad_record(tok: Tokens, rec: int, what: str) -> NetlistParseError:
    f, n = int(tok.rec_first[rec]), int(tok.rec_len[rec])
    text = " ".join(tok.text(t) for t in range(f, f + min(n, 8)))
    return NetlistParseError(tok.path, tok.lineno(f), f"cannot parse {what} line {text!r}", what)


def _declared(tok: Tokens, counts: dict[str, tuple[str, int]], key: str) -> int | None:
    if key.lower() not in counts:
        return None
    text, line = counts[key.lower()]
    if not (text.isascii() and text.isdigit() and len(text) <= 12):
        raise NetlistParseError(tok.path, line, f"{key} is not a count: {text!r}", key)
    return int(text)


def _read_nodes(path: Path) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """(names as S-array, the same decoded, size[N, 2], term[N]) with term 0 movable,
    1 terminal, 2 terminal_NI."""
    tok = Tokens.read(path)
    body, names, counts = _body(tok)
    if not body.size:
        raise NetlistParseError(path, None, "no nodes found")
    length = tok.rec_len[body]
    bad = np.flatnonzero((length < 3) | (length > 4))
    if bad.size:
        raise _bad_record(tok, int(body[bad[0]]), "node")
    f = tok.rec_first[body]
    size = np.stack([tok.floats(f + 1, "width", low=0.0), tok.floats(f + 2, "height", low=0.0)],
                    1)
    term = np.zeros(body.size, dtype=np.int8)
    tagged = np.flatnonzero(length == 4)
    tags = _lower(tok, f[tagged] + 3)
    term[tagged[tags == b"terminal"]] = 1
    term[tagged[tags == b"terminal_ni"]] = 2
    unknown = tagged[(tags != b"terminal") & (tags != b"terminal_ni")]
    if unknown.size:
        k = int(f[unknown[0]] + 3)
        raise NetlistParseError(path, tok.lineno(k), f"unknown node keyword {tok.text(k)!r}")
    n_decl, t_decl = _declared(tok, counts, "NumNodes"), _declared(tok, counts, "NumTerminals")
    n_term = int(np.count_nonzero(term))
    if n_decl is not None and body.size not in (n_decl, n_decl + (t_decl or 0)):
        raise NetlistParseError(
            path, tok.last_line(),
            f"declares NumNodes {n_decl} but has {body.size} nodes (truncated file?)",
        )
    if t_decl is not None and n_term != t_decl:
        raise NetlistParseError(
            path, tok.last_line(),
            f"declares NumTerminals {t_decl} but has {n_term} terminals (truncated file?)",
        )
    return names, tok.names(f, "node name"), size, term


class _Names:
    """Node-name table: S-array sorted once, for vectorised name -> index look-ups."""

    def __init__(self, names: np.ndarray) -> None:
        self.order = np.argsort(names, kind="stable")
        self.sorted = names[self.order]

    def find(self, keys: np.ndarray) -> np.ndarray:
        return lookup(self.sorted, self.order, keys)


def _read_nets(path: Path, nodes: _Names):
    """(net_ptr, pin_node, pin_offset[P, 2], net_names)."""
    tok = Tokens.read(path)
    body, first, counts = _body(tok)
    if not body.size:
        return np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros((0, 2)), []
    f = tok.rec_first[body]
    length = tok.rec_len[body]
    is_head = np.char.lower(first) == b"netdegree"
    good_head = is_head & (length >= 3) & (length <= 4) & _is_colon(tok, f + 1)
    # name | name dir | name : dx dy | name dir : dx dy
    offset_at = np.where(length == 5, 3, np.where(length == 4, 2, 0))
    good_pin = ~is_head & (
        (length <= 2) | ((length == 5) & _is_colon(tok, f + 2))
        | ((length == 4) & _is_colon(tok, f + 1))
    )
    bad = np.flatnonzero(~(good_head | good_pin))
    if bad.size:
        raise _bad_record(tok, int(body[bad[0]]), "net")
    if not is_head[0]:
        raise NetlistParseError(path, tok.lineno(int(f[0])), "pin before any NetDegree line")
    heads = np.flatnonzero(is_head)
    pins = np.flatnonzero(~is_head)
    degree = tok.floats(f[heads] + 2, "NetDegree", low=0.0)
    if np.any(degree != np.round(degree)):
        k = int(f[heads[np.flatnonzero(degree != np.round(degree))[0]]])
        raise NetlistParseError(path, tok.lineno(k), "NetDegree must be a whole number",
                                "NetDegree")
    declared = degree.astype(np.int64)
    found = np.diff(np.append(heads, body.size)) - 1
    wrong = np.flatnonzero(found != declared)
    if wrong.size:
        k = int(wrong[0])
        raise NetlistParseError(
            path, tok.lineno(int(f[heads[k]])),
            f"net #{k} declares degree {declared[k]} but lists {found[k]} pins (truncated file?)",
        )
    n_decl = _declared(tok, counts, "NumNets")
    if n_decl is not None and n_decl != heads.size:
        raise NetlistParseError(
            path, tok.last_line(),
            f"declares NumNets {n_decl} but has {heads.size} nets (truncated file?)",
        )
    pin_first = f[pins]
    pin_node = nodes.find(first[pins])
    unknown = np.flatnonzero(pin_node < 0)
    if unknown.size:
        k = int(pin_first[unknown[0]])
        raise NetlistParseError(
            path, tok.lineno(k), f"net pin names unknown node {tok.text(k)!r} (not in .nodes)"
        )
    pin_offset = np.zeros((pins.size, 2))
    with_offset = np.flatnonzero(offset_at[pins] > 0)
    at = pin_first[with_offset] + offset_at[pins][with_offset]
    pin_offset[with_offset, 0] = tok.floats(at, "pin x offset")
    pin_offset[with_offset, 1] = tok.floats(at + 1, "pin y offset")
    net_ptr = np.concatenate([[0], np.cumsum(declared)]).astype(np.int64)
    named = np.flatnonzero(length[heads] == 4)
    names = [f"net{k}" for k in range(heads.size)]
    for k, text in zip(named.tolist(), tok.names(f[heads[named]] + 3, "net name"), strict=True):
        names[k] = text
    return net_ptr, pin_node.astype(np.int32), pin_offset, names


def _read_pl(path: Path, nodes: _Names, n: int):
    """(lower-left[N, 2] with NaN where absent, orient[N], fixed flag[N]: 0, 1 /FIXED, 2 _NI)."""
    tok = Tokens.read(path)
    body, first, _ = _body(tok)
    ll = np.full((n, 2), np.nan)
    orient = np.full(n, "N", dtype="U2")
    fixed = np.zeros(n, dtype=np.int8)
    if not body.size:
        return ll, orient.tolist(), fixed
    f = tok.rec_first[body]
    length = tok.rec_len[body]
    last = f + length - 1
    has_flag = (length >= 4) & (tok.buf[tok.start[last]] == ord("/"))
    core = length - has_flag
    has_orient = (core == 5) & _is_colon(tok, f + 3)
    bad = np.flatnonzero(~((core == 3) | has_orient))
    if bad.size:
        raise _bad_record(tok, int(body[bad[0]]), "placement")
    ids = nodes.find(first)
    if np.any(ids < 0):
        k = int(f[np.flatnonzero(ids < 0)[0]])
        raise NetlistParseError(path, tok.lineno(k), f"placement of unknown node {tok.text(k)!r}")
    ll[ids, 0] = tok.floats(f + 1, "x")
    ll[ids, 1] = tok.floats(f + 2, "y")
    at = f[has_orient] + 4
    ors = [o.upper() for o in tok.names(at, "orientation")]
    for k, o in enumerate(ors):
        if o not in ORIENTATIONS:
            raise NetlistParseError(path, tok.lineno(int(at[k])),
                                    f"unknown orientation {o!r}; expected {ORIENTATIONS}",
                                    "orientation")
    if ors:
        orient[ids[has_orient]] = ors
    flags = np.char.upper(tok.strings(last[has_flag]))
    known = (flags == b"/FIXED") | (flags == b"/FIXED_NI")
    if not known.all():
        k = int(last[has_flag][np.flatnonzero(~known)[0]])
        raise NetlistParseError(path, tok.lineno(k), f"unknown placement flag {tok.text(k)!r}",
                                "flag")
    fixed[ids[has_flag][flags == b"/FIXED"]] = 1
    fixed[ids[has_flag][flags == b"/FIXED_NI"]] = 2
    return ll, orient.tolist(), fixed


def _scl_field(path: Path, text: str, at: int, block: str, key: str) -> float | None:
    m = re.search(rf"\b{key}\s*:\s*(\S+)", block, re.I)
    if m is None:
        return None
    line = line_at(text, at + m.start())
    try:
        value = float(m.group(1))
    except ValueError:
        raise NetlistParseError(path, line, f"{key}: {m.group(1)!r} is not a number",
                                key) from None
    return check_range(path, line, key, value)


def _read_scl(path: Path) -> tuple[tuple[float, float, float, float], float]:
    """(row bounding box (xl, yl, xh, yh), median row height)."""
    text = read_text(path)
    boxes = []
    for m in _ROW.finditer(text):
        at = m.start(1)
        values = {
            key: _scl_field(path, text, at, m.group(1), key)
            for key in ("Coordinate", "Height", "SubrowOrigin", "NumSites", "Sitespacing",
                        "Sitewidth")
        }
        missing = [k for k in ("Coordinate", "Height", "SubrowOrigin", "NumSites")
                   if values[k] is None]
        if missing:
            raise NetlistParseError(
                path, line_at(text, m.start()), f"CoreRow lacks {', '.join(missing)}", missing[0]
            )
        y, h, x0, sites = (values[k] for k in ("Coordinate", "Height", "SubrowOrigin",
                                               "NumSites"))
        pitch = values["Sitespacing"] or values["Sitewidth"] or 1.0
        boxes.append((x0, y, x0 + sites * pitch, y + h, h))  # type: ignore[operator]
    if not boxes:
        raise NetlistParseError(path, None, "no CoreRow ... End blocks found")
    b = np.array(boxes)
    bbox = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
    for value in bbox:
        check_range(path, None, "row extent", float(value))
    return bbox, float(np.median(b[:, 4]))


def _read_wts(path: Path, net_names: list[str], nodes: _Names) -> np.ndarray:
    """Net weights (ones where unlisted). Entries naming a node are node weights, which play
    no role in placement metrics; an entry naming neither a net nor a node is an error."""
    tok = Tokens.read(path)
    body, first, _ = _body(tok)
    weights = np.ones(len(net_names))
    if not body.size:
        return weights
    bad = np.flatnonzero(tok.rec_len[body] < 2)
    if bad.size:
        raise _bad_record(tok, int(body[bad[0]]), "weight")
    f = tok.rec_first[body]
    for extra in range(1, int(tok.rec_len[body].max())):  # every weight column is a number
        cols = np.flatnonzero(tok.rec_len[body] > extra)
        tok.floats(f[cols] + extra, "weight", low=0.0)
    values = tok.floats(f + 1, "weight", low=0.0)
    ids = _Names(np.array(net_names, dtype="S")).find(first)
    unknown = np.flatnonzero((ids < 0) & (nodes.find(first) < 0))
    if unknown.size:
        k = int(f[unknown[0]])
        raise NetlistParseError(
            path, tok.lineno(k), f"weight of unknown net or node {tok.text(k)!r}", "name"
        )
    weights[ids[ids >= 0]] = values[ids >= 0]
    return weights


def _aux_files(aux: Path) -> dict[str, Path]:
    text = read_text(aux)
    if ":" not in text:
        raise NetlistParseError(aux, 1, "expected 'RowBasedPlacement : <files>'")
    names = text.split(":", 1)[1].split()
    files = {Path(n).suffix.lower(): aux.parent / n for n in names}
    for need in (".nodes", ".nets", ".pl"):
        if need not in files:
            raise NetlistParseError(aux, 1, f"lists no {need} file")
    return files


def read_bookshelf(aux: Path | str) -> Netlist:
    """Read a Bookshelf design from its `.aux` file (any dialect listed in the module doc)."""
    aux = Path(aux)
    files = _aux_files(aux)
    raw_names, names, size, term = _read_nodes(files[".nodes"])
    table = _Names(raw_names)
    if np.any(table.sorted[1:] == table.sorted[:-1]):
        dup = table.sorted[1:][table.sorted[1:] == table.sorted[:-1]][0]
        raise NetlistParseError(files[".nodes"], None, f"node name {dup!r} appears twice")
    net_ptr, pin_node, pin_offset, net_names = _read_nets(files[".nets"], table)
    ll, orient, pl_fixed = _read_pl(files[".pl"], table, len(names))
    size, pin_offset = apply_orientations(size, pin_node, pin_offset, orient)

    row_height = None
    if ".scl" in files:
        (xl, yl, xh, yh), row_height = _read_scl(files[".scl"])
    placed = ~np.isnan(ll[:, 0])
    if row_height is None:
        if not placed.any():
            raise NetlistParseError(files[".pl"], None, "no placement and no .scl: canvas unknown")
        xl, yl = np.min(ll[placed], axis=0)
        xh, yh = np.max(ll[placed] + size[placed], axis=0)
    centre = np.array([(xl + xh) / 2, (yl + yh) / 2])
    pos = np.where(placed[:, None], ll + size / 2, centre)

    kind = np.full(len(names), KIND_MACRO, dtype=np.uint8)
    if row_height is not None:
        kind[size[:, 1] <= row_height * (1 + 1e-9)] = KIND_CELL
    kind[(term == 1) | (pl_fixed == 1)] = KIND_FIXED
    kind[(term == 2) | (pl_fixed == 2) | ((kind == KIND_FIXED) & (np.prod(size, 1) == 0))] = (
        KIND_PORT
    )
    weights = np.ones(len(net_names))
    if ".wts" in files:
        weights = _read_wts(files[".wts"], net_names, table)
    return Netlist(
        name=aux.stem,
        node_names=names,
        kind=kind,
        size=size,
        pos=pos,
        net_ptr=net_ptr,
        pin_node=pin_node,
        pin_offset=pin_offset,
        net_weight=weights,
        origin=(xl, yl),
        canvas=(xh - xl, yh - yl),
        net_names=net_names,
        orient=orient,
        source=str(aux),
    )


# ---------------------------------------------------------------------------- writers
def _fixed_flag(netlist: Netlist) -> list[str]:
    flags = {KIND_FIXED: "\t/FIXED", KIND_PORT: "\t/FIXED_NI"}
    return [flags.get(int(k), "") for k in netlist.kind]


def write_pl(netlist: Netlist, path: Path | str, centers: np.ndarray | None = None) -> Path:
    """Write a Bookshelf `.pl` (lower-left corners) for `centers` (see `Netlist.full_centers`)."""
    path = Path(path)
    ll = netlist.full_centers(centers) - netlist.size / 2
    lines = [
        f"{n}\t{x!r}\t{y!r}\t: {o}{f}"
        for n, x, y, o, f in zip(
            netlist.node_names, ll[:, 0].tolist(), ll[:, 1].tolist(), netlist.orient,
            _fixed_flag(netlist), strict=True,
        )
    ]
    path.write_text("UCLA pl 1.0\n\n" + "\n".join(lines) + "\n")
    return path


def write_bookshelf(
    netlist: Netlist, directory: Path | str, name: str | None = None,
    centers: np.ndarray | None = None,
) -> Path:
    """Write .aux/.nodes/.nets/.wts/.pl/.scl for `netlist`; returns the `.aux` path.

    Standard-cell rows (`.scl`) are written with the tallest cell's height so that a re-read
    classifies cells and macros the same way (macros must be taller than every cell).
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = name or netlist.name
    size, offset = apply_orientations(
        netlist.size, netlist.pin_node, netlist.pin_offset, netlist.orient, inverse=True
    )
    term = {KIND_FIXED: "\tterminal", KIND_PORT: "\tterminal_NI"}
    tags = [term.get(int(k), "") for k in netlist.kind]
    n_term = int(np.count_nonzero(netlist.kind == KIND_FIXED) + len(netlist.port_ids))
    (directory / f"{name}.nodes").write_text(
        f"UCLA nodes 1.0\n\nNumNodes : {netlist.num_nodes}\nNumTerminals : {n_term}\n\n"
        + "\n".join(
            f"{n}\t{w!r}\t{h!r}{t}"
            for n, w, h, t in zip(netlist.node_names, size[:, 0].tolist(), size[:, 1].tolist(),
                                  tags, strict=True)
        )
        + "\n"
    )
    pin_names = np.array(netlist.node_names, dtype=object)[netlist.pin_node]
    pin_lines = [
        f"\t{n}\tB : {x!r} {y!r}"
        for n, x, y in zip(pin_names.tolist(), offset[:, 0].tolist(), offset[:, 1].tolist(),
                           strict=True)
    ]
    chunks = [f"UCLA nets 1.0\n\nNumNets : {netlist.num_nets}\nNumPins : {netlist.num_pins}\n"]
    ptr = netlist.net_ptr.tolist()
    for k, net in enumerate(netlist.net_names):
        chunks.append(f"NetDegree : {ptr[k + 1] - ptr[k]}\t{net}")
        chunks.extend(pin_lines[ptr[k] : ptr[k + 1]])
    (directory / f"{name}.nets").write_text("\n".join(chunks) + "\n")
    (directory / f"{name}.wts").write_text(
        "UCLA wts 1.0\n\n"
        + "\n".join(f"{n}\t{w:g}" for n, w in zip(netlist.net_names, netlist.net_weight.tolist(),
                                                   strict=True))
        + "\n"
    )
    write_pl(netlist, directory / f"{name}.pl", centers)
    files = [f"{name}.nodes", f"{name}.nets", f"{name}.wts", f"{name}.pl"]
    cells = netlist.cell_ids
    if cells.size:
        row_h = float(netlist.size[cells, 1].max())
        xl, yl, xh, _ = netlist.bounds
        n_rows = int(round(netlist.canvas[1] / row_h))
        rows = [
            f"CoreRow Horizontal\n  Coordinate : {yl + r * row_h:.6f}\n  Height : {row_h:.6f}\n"
            f"  Sitewidth : 1\n  Sitespacing : 1\n  Siteorient : N\n  Sitesymmetry : Y\n"
            f"  SubrowOrigin : {xl:.6f} NumSites : {xh - xl:.6f}\nEnd"
            for r in range(n_rows)
        ]
        (directory / f"{name}.scl").write_text(
            f"UCLA scl 1.0\n\nNumRows : {n_rows}\n\n" + "\n".join(rows) + "\n"
        )
        files.append(f"{name}.scl")
    aux = directory / f"{name}.aux"
    aux.write_text("RowBasedPlacement : " + " ".join(files) + "\n")
    return aux
