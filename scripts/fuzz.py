"""Mutation fuzzing of every untrusted-input boundary, each input in a worker process.

    python scripts/fuzz.py [--inputs 10000] [--workers 1] [--timeout 10] [--targets sgf,gtp]

Targets: SGF bytes, GTP command lines, Bookshelf and circuit_training netlist files,
checkpoint directories, Go and chip env actions, corrupted Go states. Inputs are mutated from
real seeds (AFL-style byte operations plus a per-target dictionary of hostile tokens) with a
seeded generator, so a run is reproducible. Each input runs in a worker subprocess that a
crash (segfault, abort, out of memory) or a hang cannot take down: the parent waits at most
`--timeout` seconds per input, then kills and restarts the worker and counts the input.

Outcomes per input: a valid result (checked by the target's oracle), the target's documented
error, or one of the counted failures:
- crashes: the worker died;
- hangs: no answer within the timeout;
- wrong_error_type: an exception other than the documented ones (or a documented one raised
  after the target had already modified what it was loading into);
- silently_accepted: a result that breaks the oracle (NaN metrics, a missing GTP reply, an
  observation outside its space...).
The last line printed is one JSON object: target -> {inputs, crashes, hangs, wrong_error_type,
silently_accepted}. Failing inputs are saved under `--save` for replay.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing as mp
import os
import random
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DIALECTS = ROOT / "tests" / "chip" / "dialects"
COUNTS = ("inputs", "crashes", "hangs", "wrong_error_type", "silently_accepted")

HOSTILE = [
    b":", b"::::", b"nan", b"NaN", b"inf", b"-inf", b"1e400", b"1e308", b"-1e308", b"-1", b"0",
    b"1.5", b"99999999999999999999999", b"\xff", b"\xc3\xa9", b"\xe4\xb8\xad", b"\x00", b"#",
    b"\r\n", b"\t", b"\n", b" ", b"[", b"]", b"(", b")", b";", b"{", b"}", b'"', b"\\",
    b"terminal", b"terminal_NI", b"/FIXED", b"/FIXED_NI", b"NumNodes", b"Numsites",
    b"NetDegree", b"CoreRow", b"End", b"B[", b"W[", b"CA[UTF-8]", b"CA[hex]", b"SZ[", b"KM[",
    b"AB[", b"tt", b"node {", b"input:", b"__tensor__", b"step", b"true", b"null", b"[]", b"{}",
    b"\xef\xbb\xbf", "\u00b2".encode(), "\u0663".encode(), "\u00a0".encode(), b"9" * 400,
]


# ---------------------------------------------------------------------------- mutation
def mutate(data: bytes, rng: random.Random, rounds: int | None = None) -> bytes:
    """A few AFL-style byte mutations: flips, hostile-token inserts and replacements at token
    boundaries, deletions, duplications and splices of spans."""
    buf = bytearray(data)
    for _ in range(rounds if rounds is not None else rng.choice((1, 1, 2, 3, 6))):
        op = rng.randrange(7)
        at = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            buf[min(at, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif op in (1, 2):  # replace the token at `at` (or insert) with a hostile one
            end = at
            while end < len(buf) and buf[end] not in b" \t\r\n:[](){}":
                end += 1
            buf[at:end if op == 1 else at] = rng.choice(HOSTILE)
        elif op == 3:
            buf[at:at + rng.randrange(1, 64)] = b""
        elif op == 4 and buf:
            span = buf[at:at + rng.randrange(1, 256)]
            buf[at:at] = span * rng.randrange(1, 8)
        elif op == 5:
            buf[at:at] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        else:
            tail = rng.randrange(len(buf) + 1)
            buf[at:at] = buf[tail:tail + rng.randrange(1, 128)]
    return bytes(buf)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _mutate_files(files: dict[str, bytes], rng: random.Random) -> dict[str, bytes]:
    out = dict(files)
    for name in rng.sample(sorted(out), rng.choice((1, 1, 2))):
        out[name] = mutate(out[name], rng)
    return out


# ---------------------------------------------------------------------------- targets
class Target:
    """One boundary: `make(rng)` builds an input in the parent, `run(input)` runs it in the
    worker and returns "ok", "documented", "silent:<why>" or "wrong:<why>"."""

    name = ""

    def make(self, rng: random.Random) -> Any:
        raise NotImplementedError

    def run(self, data: Any) -> str:
        raise NotImplementedError


def _classify(call: Callable[[], str], documented: tuple[type[BaseException], ...]) -> str:
    try:
        return call()
    except documented:
        return "documented"
    except Exception as err:  # the finding this tool exists for
        return f"wrong:{type(err).__name__}: {err}"[:300]


class SgfTarget(Target):
    name = "sgf"

    def __init__(self) -> None:
        self.seeds = [
            b"(;GM[1]FF[4]CA[UTF-8]SZ[9]KM[7.5]PB[Black]PW[White]RE[B+2.5];B[ee];W[cc];B[gc]"
            b";W[ge];B[];W[tt])",
            b"(;GM[1]FF[4]SZ[5]KM[0.5];B[cc];W[bb];B[cb];W[bc];B[dd](;W[aa])(;W[ab]))",
            "(;GM[1]FF[4]CA[UTF-8]SZ[19]PB[\u9ed2]PW[\u767d]C[\u00e9];B[pd];W[dp];B[pq]"
            ";W[dd])".encode(),
        ]

    def make(self, rng: random.Random) -> bytes:
        return mutate(rng.choice(self.seeds), rng)

    def run(self, data: bytes) -> str:
        from rlsuite.envs.go.sgf import SGFError, read_sgf, write_sgf

        def call() -> str:
            record = read_sgf(data)
            again = read_sgf(write_sgf(record))
            if again.moves != record.moves or again.board_size != record.board_size:
                return "silent:record does not round-trip"
            return "ok"

        return _classify(call, (SGFError,))


class GtpTarget(Target):
    name = "gtp"
    SEED = [b"1 protocol_version", b"boardsize 7", b"clear_board", b"komi 6.5", b"play b d4",
            b"2 genmove w", b"play w c3", b"undo", b"showboard", b"known_command play",
            b"time_left b 10 0", b"final_score", b"list_commands", b"# a comment",
            b"10 genmove black", b"play white pass", b"name"]

    def make(self, rng: random.Random) -> list[bytes]:
        lines = rng.sample(self.SEED, rng.randrange(1, 8))
        return [mutate(line, rng) if rng.random() < 0.6 else line for line in lines]

    def run(self, lines: list[bytes]) -> str:
        from rlsuite.gtp import GtpEngine
        from rlsuite.gtp.protocol import parse_command
        from rlsuite.player import RandomPlayer

        def call() -> str:
            engine = GtpEngine(RandomPlayer(seed=0), board_size=9)
            out = io.BytesIO()
            raw = b"".join(line.replace(b"\n", b" ") + b"\n" for line in lines)
            engine.serve(io.BytesIO(raw), out)
            expected = 0
            for line in raw.split(b"\n"):  # lines end at LF only (CR is preprocessed away)
                command = parse_command(line.decode("utf-8", errors="replace"))
                if command is not None:
                    expected += 1
                    if command.name == "quit":
                        break
            replies = out.getvalue().decode("utf-8").split("\n\n")[:-1]
            if len(replies) != expected:
                return f"silent:{expected} command lines got {len(replies)} replies"
            if not all(r[:1] in ("=", "?") for r in replies):
                return "silent:a reply does not start with = or ?"
            return "ok"

        return _classify(call, ())


class _NetlistTarget(Target):
    entry = ""

    def __init__(self, folders: list[Path]) -> None:
        self.seeds = [_files(f) for f in folders if f.is_dir()]

    def make(self, rng: random.Random) -> dict[str, bytes]:
        return _mutate_files(rng.choice(self.seeds), rng)

    def run(self, files: dict[str, bytes]) -> str:
        import numpy as np

        from rlsuite.envs.chip import NetlistError, load_netlist

        def call() -> str:
            with tempfile.TemporaryDirectory() as tmp:
                for name, data in files.items():
                    (Path(tmp) / name).write_bytes(data)
                entry = next(n for n in files if n.endswith(self.entry))
                nl = load_netlist(Path(tmp) / entry)
                values = [nl.hpwl(), nl.macro_hpwl(), nl.density(), *nl.canvas]
                if not np.all(np.isfinite(values)) or min(nl.canvas) <= 0:
                    return f"silent:non-finite metrics {values}"
                return "ok"

        return _classify(call, (NetlistError, FileNotFoundError))


class BookshelfTarget(_NetlistTarget):
    name = "bookshelf"
    entry = ".aux"

    def __init__(self) -> None:
        super().__init__(sorted(DIALECTS.iterdir()) if DIALECTS.is_dir() else [])


class CircuitTrainingTarget(_NetlistTarget):
    name = "circuit_training"
    entry = ".pb.txt"

    def __init__(self) -> None:
        from rlsuite.envs.chip import data_dir

        ct = data_dir() / "ct"
        super().__init__([ct / n for n in ("sample_clustered", "toy_macro_stdcell",
                                           "simple_grouped_with_coords_with_blockage")])


class CheckpointTarget(Target):
    name = "checkpoint"

    def __init__(self) -> None:
        import numpy as np
        import torch

        from rlsuite import checkpoint

        torch.manual_seed(0)
        net = torch.nn.Linear(3, 2)
        opt = torch.optim.Adam(net.parameters())
        net(torch.ones(1, 3)).sum().backward()
        opt.step()
        with tempfile.TemporaryDirectory() as tmp:
            path = checkpoint.save(tmp, step=5, modules={"net": net}, optimizers={"opt": opt},
                                   state={"rng": checkpoint.rng_state(np.random.default_rng(0)),
                                          "counters": {"episodes": 3}, "x": np.arange(4)})
            self.seed = {"manifest.json": (path / "manifest.json").read_bytes(),
                         "tensors.safetensors": (path / "tensors.safetensors").read_bytes(),
                         "latest": (Path(tmp) / "latest").read_bytes()}

    def make(self, rng: random.Random) -> dict[str, bytes]:
        files = dict(self.seed)
        name = rng.choices(list(files), weights=(8, 1, 1))[0]
        files[name] = mutate(files[name], rng)
        return files

    def run(self, files: dict[str, bytes]) -> str:
        import numpy as np
        import torch

        from rlsuite import checkpoint

        def call() -> str:
            torch.manual_seed(1)
            net = torch.nn.Linear(3, 2)
            opt = torch.optim.Adam(net.parameters())
            before = [p.detach().clone() for p in net.parameters()]
            with tempfile.TemporaryDirectory() as tmp:
                step_dir = Path(tmp) / "step_000000000005"
                step_dir.mkdir()
                (step_dir / "manifest.json").write_bytes(files["manifest.json"])
                (step_dir / "tensors.safetensors").write_bytes(files["tensors.safetensors"])
                (Path(tmp) / "latest").write_bytes(files["latest"])
                try:
                    ckpt = checkpoint.load(tmp, modules={"net": net}, optimizers={"opt": opt})
                except checkpoint.CheckpointError:
                    same = all(torch.equal(p, q) for p, q in zip(net.parameters(), before,
                                                                  strict=True))
                    return "documented" if same and not opt.state else "wrong:modified, then raised"
            if "rng" in ckpt.state:
                checkpoint.restore_rng(ckpt.state["rng"], np.random.default_rng())
            net(torch.ones(1, 3)).sum().backward()
            opt.step()  # the optimizer state fits the parameters
            return "ok"

        return _classify(call, (checkpoint.CheckpointError,))


def _weird_actions(rng: random.Random, n: int) -> Any:
    import numpy as np

    kind = rng.randrange(12)
    pick = rng.randrange(-3, n + 3)
    return [pick, rng.randrange(n), float(pick) + rng.random(), str(pick), bool(pick % 2), None,
            np.int64(pick), np.array(pick), np.array([pick, 1]), 2**70, np.float32(pick),
            [pick]][kind]


class _EnvTarget(Target):
    """A registered id with its default arguments (what `gym.make(id)` users get)."""

    env_id = ""

    def __init__(self) -> None:
        self._env: Any = None

    def make(self, rng: random.Random) -> tuple[int, list[Any]]:
        n = 82 if "Go" in self.env_id else 256
        return rng.randrange(1000), [_weird_actions(rng, n) for _ in range(rng.randrange(1, 12))]

    def run(self, data: tuple[int, list[Any]]) -> str:
        import gymnasium as gym
        import numpy as np

        import rlsuite  # noqa: F401  (registers the ids)

        if self._env is None:
            self._env = gym.make(self.env_id, disable_env_checker=True).unwrapped
        env = self._env
        seed, actions = data

        def call() -> str:
            env.reset(seed=seed)
            for action in actions:
                try:
                    obs, reward, terminated, truncated, info = env.step(action)
                except ValueError:
                    continue  # not an action: documented, the episode goes on
                if not env.observation_space.contains(obs) or not np.isfinite(reward):
                    return f"silent:observation or reward out of range ({reward})"
                if info["action_mask"].dtype != np.bool_:
                    return "silent:mask is not boolean"
                if terminated or truncated:
                    env.reset(seed=seed)
            return "ok"

        return _classify(call, (ValueError,))


class GoActionTarget(_EnvTarget):
    name = "go_actions"
    env_id = "rlsuite/Go-v0"


class ChipActionTarget(_EnvTarget):
    name = "chip_actions"
    env_id = "rlsuite/ChipPlacement-v0"


class GoStateTarget(Target):
    name = "go_state"

    def __init__(self) -> None:
        self._base: Any = None

    def make(self, rng: random.Random) -> list[tuple[int, int, int]]:
        """(where: 0 data / 1 meta, index, value) corruptions."""
        out = []
        for _ in range(rng.randrange(1, 4)):
            if rng.random() < 0.3:
                out.append((1, rng.randrange(9), rng.randrange(-(2**31), 2**31)))
            else:
                out.append((0, rng.randrange(10**6), rng.randrange(256)))
        return out

    def run(self, edits: list[tuple[int, int, int]]) -> str:
        import numpy as np

        from rlsuite.envs.go import GoGame, GoStateError

        if self._base is None:
            game = GoGame(7)
            state = game.initial_state()
            rng = np.random.default_rng(0)
            for _ in range(30):
                state = game.next_state(state, int(game.random_actions(state, rng)[0]))
            self._base = game, state
        game, base = self._base
        state = base.copy()
        for where, index, value in edits:
            if where:
                state.meta[0, index] = value
            else:
                state.data[0, index % state.data.shape[1]] = value

        def call() -> str:
            refused = 0
            for op in (lambda: game.legal_mask(state), lambda: game.encode(state),
                       lambda: game.next_state(state, int(game.pass_action)),
                       lambda: game.greedy_action(state, np.random.default_rng(0)),
                       lambda: game.score(state)):
                try:
                    op()
                except GoStateError:
                    refused += 1
                except ValueError:  # the move itself is refused (a finished game)
                    pass
            return "documented" if refused else "ok"

        return _classify(call, ())


class _SelfCheck(Target):
    """`--targets _selfcheck`: inputs cycle through fine, segfault, hang, so a run shows the
    harness counting crashes and hangs and carrying on (tests use it)."""

    name = "_selfcheck"

    def __init__(self) -> None:
        self.made = 0

    def make(self, rng: random.Random) -> int:
        self.made += 1
        return (self.made - 1) % 3

    def run(self, data: int) -> str:
        if data == 1:
            import ctypes

            ctypes.string_at(0)  # a null-pointer read: SIGSEGV
        if data == 2:
            time.sleep(3600)
        return "ok"


TARGETS: dict[str, Callable[[], Target]] = {
    t.name: t for t in (SgfTarget, GtpTarget, BookshelfTarget, CircuitTrainingTarget,
                        CheckpointTarget, GoActionTarget, ChipActionTarget, GoStateTarget,
                        _SelfCheck)
}


# ---------------------------------------------------------------------------- processes
def _worker(conn: Any) -> None:
    """Answer ("init", target) with "ready" once the target is built, then run its inputs one
    at a time, answering each before taking the next."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import torch

    torch.set_num_threads(1)
    targets: dict[str, Target] = {}
    while True:
        try:
            name, data = conn.recv()
        except EOFError:
            return
        try:
            if name == "init":
                targets[data] = TARGETS[data]()
                conn.send("ready")
            else:
                conn.send(targets[name].run(data))
        except BaseException:  # an escape from the harness itself: report, keep serving
            conn.send("wrong:harness:" + traceback.format_exc(limit=3)[-300:])


class Pool:
    """One worker subprocess (spawned, so it shares nothing), restarted after a crash or hang.
    Start-up and target set-up (imports, fixtures) get `startup` seconds; each input gets
    `timeout`, a target's first input also `startup` (numba may compile then; later workers
    load the compiled code from numba's cache)."""

    def __init__(self, timeout: float, startup: float = 300.0) -> None:
        self.timeout = timeout
        self.startup = startup
        self.ctx = mp.get_context("spawn")
        self.proc: Any = None
        self.conn: Any = None

    def _start(self, name: str) -> None:
        parent, child = self.ctx.Pipe()
        self.proc = self.ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.conn = parent
        parent.send(("init", name))
        if not parent.poll(self.startup) or parent.recv() != "ready":
            self._kill()
            raise RuntimeError(f"the fuzz worker could not set up target {name!r}")

    def _kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.join()
        self.proc = None

    def run(self, name: str, data: Any, first: bool = False) -> str:
        if self.proc is None or not self.proc.is_alive():
            self._start(name)
        self.conn.send((name, data))
        if not self.conn.poll(self.timeout + (self.startup if first else 0.0)):
            self._kill()
            return "hang"
        try:
            return self.conn.recv()
        except (EOFError, ConnectionResetError):
            self._kill()
            return "crash"

    def switch(self) -> None:
        """Before the next target: a new worker, so targets do not share state."""
        self._kill()

    def close(self) -> None:
        self._kill()


def _count(outcome: str, counts: dict[str, int]) -> str | None:
    """Add one outcome to the counts; returns the failure category, if any."""
    counts["inputs"] += 1
    category = {"crash": "crashes", "hang": "hangs"}.get(outcome)
    if category is None and outcome.startswith("wrong:"):
        category = "wrong_error_type"
    elif category is None and outcome.startswith("silent:"):
        category = "silently_accepted"
    if category:
        counts[category] += 1
    return category


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per input")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--targets", default=",".join(n for n in TARGETS if n[0] != "_"))
    parser.add_argument("--save", default="runs/fuzz", help="folder for failing inputs")
    args = parser.parse_args(argv)
    names = [n for n in args.targets.split(",") if n]
    unknown = sorted(set(names) - set(TARGETS))
    if unknown:
        parser.error(f"unknown targets {unknown}; known: {sorted(TARGETS)}")
    pool = Pool(args.timeout)
    report: dict[str, dict[str, int]] = {}
    save = Path(args.save)
    try:
        for name in names:
            maker = TARGETS[name]()
            rng = random.Random(f"{args.seed}:{name}")
            counts = dict.fromkeys(COUNTS, 0)
            start = time.perf_counter()
            for i in range(args.inputs):
                data = maker.make(rng)
                outcome = pool.run(name, data, first=i == 0)
                if _count(outcome, counts):
                    save.mkdir(parents=True, exist_ok=True)
                    (save / f"{name}-{i}.txt").write_text(f"{outcome}\n{data!r}\n")
                    print(f"{name} #{i}: {outcome[:200]}", file=sys.stderr)
            report[name] = counts
            pool.switch()
            print(f"{name}: {counts} in {time.perf_counter() - start:.0f} s", file=sys.stderr)
    finally:
        pool.close()
    print(json.dumps(report))
    failures = sum(c[k] for c in report.values() for k in COUNTS[1:])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
