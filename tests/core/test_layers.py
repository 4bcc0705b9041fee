"""Imports point one way: core <- envs <- agents <- front ends (arena, gtp, ui) <- cli.

import-linter's contracts resolve modules by walking the top package's directory, which misses
`rlsuite.envs` and `rlsuite.agents` (mapped from `envs/` and `agents/` by `package-dir`), so
this is a short AST check of its own over the source files. Every import statement counts,
including those inside functions and under `TYPE_CHECKING`: a lazy import still points one
way. Front ends skip the agents layer: they name agents' modules only as strings in the player
registry, so a new agent needs no change to any front end.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = {"rlsuite": REPO / "rlsuite", "rlsuite.envs": REPO / "envs",
           "rlsuite.agents": REPO / "agents"}
LAYERS = (  # lowest first; a module may import its own layer and those below it
    ("core", ()),
    ("envs", ("rlsuite.envs",)),
    ("agents", ("rlsuite.agents",)),
    ("front", ("rlsuite.arena", "rlsuite.gtp", "rlsuite.ui")),
    ("cli", ("rlsuite.cli",)),
)
RANK = {name: rank for rank, (name, _) in enumerate(LAYERS)}
SKIPPED = {("front", "agents")}  # front ends reach agents through the player registry only


def find_modules(sources: Mapping[str, Path]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file under the mapped source folders."""
    modules = {}
    for package, folder in sources.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join([package, *parts])] = path
    return modules


def imported(name: str, path: Path, modules: Mapping[str, Path]) -> Iterator[tuple[str, int]]:
    """(module, line) for each import in a file: `from a import b` names `a.b` when that is a
    module, else `a`; relative imports are resolved against the file's package."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                yield (full if full in modules else base), node.lineno


def layer_of(module: str) -> str:
    for name, prefixes in reversed(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return name
    return "core"


def layer_violations(modules: Mapping[str, Path]) -> list[str]:
    """Imports of a higher layer (the cli is the highest), and of agents by a front end."""
    found = []
    for name, path in modules.items():
        for target, line in imported(name, path, modules):
            if target != "rlsuite" and not target.startswith("rlsuite."):
                continue
            pair = (layer_of(name), layer_of(target))
            if RANK[pair[1]] > RANK[pair[0]] or pair in SKIPPED:
                found.append(f"line {line}: {layer_of(name)} module {name} imports "
                             f"{layer_of(target)} module {target}")
    return found


def import_cycles(modules: Mapping[str, Path]) -> list[list[str]]:
    """Strongly connected groups of modules (Tarjan), each a cycle of imports."""
    graph = {name: sorted({t for t, _ in imported(name, path, modules) if t in modules} - {name})
             for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return cycles


@pytest.fixture(scope="module")
def modules() -> dict[str, Path]:
    found = find_modules(SOURCES)
    assert {"rlsuite.game", "rlsuite.envs.go", "rlsuite.agents.dqn", "rlsuite.arena.players",
            "rlsuite.gtp.engine", "rlsuite.ui.board", "rlsuite.cli"} <= set(found)
    return found


def test_imports_point_down_the_layers(modules):
    assert layer_violations(modules) == []


def test_no_import_cycles(modules):
    assert import_cycles(modules) == []


def test_the_check_catches_a_violation_and_a_cycle(tmp_path):
    """The checker itself: an env and a front end importing agents, a lazy import loop."""
    (tmp_path / "core").mkdir()
    (tmp_path / "envs" / "go").mkdir(parents=True)
    (tmp_path / "core" / "__init__.py").write_text("")
    (tmp_path / "core" / "a.py").write_text("def f():\n    from rlsuite import b\n")
    (tmp_path / "core" / "b.py").write_text("from . import a\n")
    (tmp_path / "envs" / "__init__.py").write_text("")
    (tmp_path / "envs" / "go" / "__init__.py").write_text("import rlsuite.agents.dqn\n")
    (tmp_path / "core" / "ui").mkdir()
    (tmp_path / "core" / "ui" / "__init__.py").write_text("from rlsuite.agents import pg\n")
    found = find_modules({"rlsuite": tmp_path / "core", "rlsuite.envs": tmp_path / "envs"})
    assert import_cycles(found) == [["rlsuite.a", "rlsuite.b"]]
    assert layer_violations(found) == [
        "line 1: front module rlsuite.ui imports agents module rlsuite.agents",
        "line 1: envs module rlsuite.envs.go imports agents module rlsuite.agents.dqn",
    ]


@pytest.mark.parametrize("statement", ["from rlsuite.arena import fit_elo",
                                       "import rlsuite.envs.go"])
def test_light_imports_stay_light(statement):
    """Rating games or using the Go rules must not pull in the CLI parser, rich, pygame or the
    GTP subprocess code (a fresh interpreter, so nothing is loaded already)."""
    probe = (f"import sys\n{statement}\n"
             "heavy = ('tyro', 'rich', 'pygame', 'rlsuite.gtp', 'rlsuite.ui', 'rlsuite.cli')\n"
             "print(sorted(m for m in sys.modules if m.startswith(heavy)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.strip() == "[]"
