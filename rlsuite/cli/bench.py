"""`rlsuite bench NAME [ARGS]`: run `scripts/bench/NAME.py` in this process.

The benchmarks stay scripts of the source tree rather than modules of the package: they import
bench-only peers (OpenSpiel, envpool, SB3 at pinned settings) that an installed wheel must not
depend on, and they are recipes to read and edit. So the command looks for them where a user
has them, in this order: `$RLSUITE_BENCH_DIR`, `scripts/bench` under the current directory (a
checkout), and the checkout this package was installed from in editable mode.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

ENV_VAR = "RLSUITE_BENCH_DIR"


def bench_dirs() -> list[Path]:
    """Where benchmark scripts are looked for, in order (existing or not)."""
    dirs = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    dirs.append(Path.cwd() / "scripts" / "bench")
    dirs.append(Path(__file__).resolve().parents[2] / "scripts" / "bench")
    return list(dict.fromkeys(dirs))


def find_bench_dir() -> Path | None:
    """The first of `bench_dirs` that holds a benchmark script."""
    for directory in bench_dirs():
        if directory.is_dir() and any(directory.glob("*.py")):
            return directory
    return None


def main(argv: Sequence[str]) -> int:
    directory = find_bench_dir()
    if directory is None:
        looked = ", ".join(str(d) for d in bench_dirs())
        print(f"rlsuite bench: no benchmark scripts found (looked in {looked}); they ship with "
              f"the source tree, not the wheel: run from a checkout or set {ENV_VAR}",
              file=sys.stderr)
        return 2
    available = sorted(p.stem for p in directory.glob("*.py"))
    if not argv or argv[0] not in available:
        print(f"usage: rlsuite bench NAME [ARGS]; NAME is one of {available} (in {directory})",
              file=sys.stderr)
        return 2
    script = directory / f"{argv[0]}.py"
    sys.argv = [str(script), *argv[1:]]
    runpy.run_path(str(script), run_name="__main__")
    return 0
