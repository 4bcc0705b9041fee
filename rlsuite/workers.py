"""Worker pools: one plain worker class run in this process, in spawned processes, or as Ray
actors, so self-play and rollout code never knows where it runs.

A worker is any class with `set_weights(weights, version)` and `run(task) -> result`, built
from picklable keyword arguments (the same for all, or one mapping per worker). `WorkerPool`
owns N of them; `PoolConfig` is the flags a trainer's config adds to choose where they run:

- `backend="local"`: in this process (one worker, the default for one) or in spawned
  processes (`processes=True`, the default for more than one);
- `backend="ray"`: the same class wrapped with `ray.remote(num_cpus=...)` at run time. Ray is
  the optional extra `rlsuite[ray]`, imported here lazily; `ray_address` joins a running
  cluster (`ray start --head`), none starts a local one for the life of the pool (a process
  that has called `ray.init` already keeps its own). Each actor reserves `cpus_per_worker`
  CPUs; a pool that cannot fit the cluster is refused rather than left waiting.

Weights are published once per version (`publish`: one `ray.put` on Ray) and reach a worker
only when its version is stale; every result carries the version its worker used. Results are
drained as they finish (`ray.wait`, `multiprocessing.connection.wait`), so a slow worker never
holds back the others' next tasks. A task's result arrives whole or not at all: when a worker
dies, its task is dropped, the worker is restarted and the task is run again from the start
on a fresh one (tasks carry their own seeds, so the rerun plays the same games), and a
`WorkerDied` event tells the caller so it can log it. Learner, replay, logger and
checkpoints stay with the caller.
"""

from __future__ import annotations

import importlib
import os
import traceback
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from types import ModuleType
from typing import Any, Literal, Protocol

Backend = Literal["local", "ray"]
BACKENDS: tuple[str, ...] = ("local", "ray")
RAY_MISSING = 'the ray backend needs Ray: pip install "rlsuite[ray]"'


@dataclass(kw_only=True)
class PoolConfig:
    """Where a trainer's workers run (`--backend ray --workers 8`); a config mixes it in."""

    backend: Backend = "local"
    """`local`: this process, or `--workers` spawned processes; `ray`: Ray actors"""
    workers: int = 1
    """workers (local with 1: in this process)"""
    cpus_per_worker: float = 1.0
    """CPUs each worker reserves (and torch threads it uses)"""
    ray_address: str = ""
    """a running Ray cluster (`ray start --head` prints it); empty: start a local one"""

    @property
    def pooled(self) -> bool:
        """Whether the workers run in a pool (anything but one local worker)."""
        return self.backend != "local" or self.workers > 1


class Worker(Protocol):
    """What a pool runs: built from keyword arguments, then fed weights and tasks."""

    def set_weights(self, weights: Any, version: int) -> None: ...

    def run(self, task: Any) -> Any: ...


class WorkerError(RuntimeError):
    """A task raised inside a worker (a bug, not a death), or workers died too often."""


@dataclass(frozen=True)
class Result:
    """One finished task."""

    task: int
    """index of the task in the list given to `results` / `run`"""
    worker: int
    version: int
    """weights version the worker held while running it"""
    value: Any


@dataclass(frozen=True)
class WorkerDied:
    """A worker died running `task`; it was restarted and the task was queued again."""

    worker: int
    task: int
    error: str


def import_ray() -> ModuleType:
    """The ray module, or an ImportError that names the pip command."""
    try:
        return importlib.import_module("ray")
    except ImportError as e:
        raise ImportError(RAY_MISSING) from e


class _Host:
    """Holds one worker and the weights version it has; what a process or actor serves."""

    def __init__(self, cls: type, kwargs: Mapping[str, Any], threads: int | None) -> None:
        if threads is not None:  # a process of its own: one pool CPU is one torch thread
            os.environ["OMP_NUM_THREADS"] = str(threads)
            import torch

            torch.set_num_threads(threads)
        self.worker: Worker = cls(**kwargs)
        self.version = -1

    def call(self, task: Any, weights: Any = None, version: int = -1) -> tuple[int, Any]:
        if version > self.version:
            self.worker.set_weights(weights, version)
            self.version = version
        return self.version, self.worker.run(task)


def _serve(conn: Connection, cls: type, kwargs: Mapping[str, Any], threads: int) -> None:
    """A spawned process's loop: answer each (task, weights, version) with ("ok", result) or
    ("error", traceback) until the pipe closes."""
    host = _Host(cls, kwargs, threads)
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", host.call(*message)))
        except Exception:
            conn.send(("error", traceback.format_exc()))


class WorkerPool:
    """N workers of one class on one backend (see the module docstring)."""

    def __init__(self, cls: type,
                 kwargs: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None, *,
                 backend: Backend = "local", num_workers: int = 1, cpus_per_worker: float = 1.0,
                 processes: bool | None = None, ray_address: str = "",
                 max_restarts: int = 8) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; choose from {BACKENDS}")
        if num_workers < 1:
            raise ValueError(f"num_workers must be positive, got {num_workers}")
        if not cpus_per_worker > 0:
            raise ValueError(f"cpus_per_worker must be positive, got {cpus_per_worker}")
        if ray_address and backend != "ray":
            raise ValueError("ray_address is only used with backend='ray'")
        if kwargs is None or isinstance(kwargs, Mapping):
            kwargs = [kwargs or {}] * num_workers
        elif len(kwargs) != num_workers:
            raise ValueError(f"{len(kwargs)} sets of worker arguments for {num_workers} workers")
        self.cls, self.kwargs = cls, [dict(k) for k in kwargs]
        self.backend, self.num_workers = backend, num_workers
        self.cpus_per_worker = cpus_per_worker
        self.threads = max(1, int(cpus_per_worker))
        self.processes = num_workers > 1 if processes is None else processes
        self.max_restarts = max_restarts
        self.restarts = 0
        self.version = 0
        """the latest published weights version (0: none yet)"""
        self._weights: Any = None
        self._held = [-1] * num_workers  # version each worker has been sent
        self._ray: ModuleType | None = None
        self._started_ray = False
        self._actor_cls: Any = None
        if backend == "ray":
            self._ray = import_ray()
            if not self._ray.is_initialized():
                self._ray.init(address=ray_address or "local", include_dashboard=False)
                self._started_ray = True
            cpus = self._ray.cluster_resources().get("CPU", 0.0)
            if cpus < num_workers * cpus_per_worker:  # Ray would wait for them forever
                raise ValueError(f"{num_workers} workers x {cpus_per_worker} CPUs do not fit "
                                 f"the Ray cluster's {cpus:g} CPUs")
            self._actor_cls = self._ray.remote(num_cpus=cpus_per_worker)(_Host)
        self._ctx = get_context("spawn")
        self._workers: list[Any] = [self._start(i) for i in range(num_workers)]

    # ----- lifecycle ------------------------------------------------------------------------

    @classmethod
    def from_config(cls, worker: type, kwargs: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                    config: PoolConfig) -> WorkerPool:
        """A pool as a trainer's `PoolConfig` flags ask."""
        return cls(worker, kwargs, backend=config.backend, num_workers=config.workers,
                   cpus_per_worker=config.cpus_per_worker, ray_address=config.ray_address)

    def _start(self, worker: int) -> Any:
        kwargs = self.kwargs[worker]
        if self._actor_cls is not None:
            return self._actor_cls.remote(self.cls, kwargs, self.threads)
        if not self.processes:
            return _Host(self.cls, kwargs, None)  # the driver's own thread settings
        parent, child = self._ctx.Pipe()
        process = self._ctx.Process(target=_serve, args=(child, self.cls, kwargs, self.threads),
                                    daemon=True)
        process.start()
        child.close()
        return parent, process

    def kill(self, worker: int) -> None:
        """End one worker abruptly (as a crash would); the pool restarts it when it notices.
        For tests, and for dropping a worker stuck on a bad host."""
        handle = self._workers[worker]
        if self._ray is not None:
            self._ray.kill(handle, no_restart=True)
        elif self.processes:
            handle[1].kill()
        else:
            raise ValueError("an in-process worker cannot be killed")

    def close(self) -> None:
        """Stop every worker (and the local Ray cluster this pool started)."""
        for handle in self._workers:
            if self._ray is not None:
                self._ray.kill(handle)
            elif self.processes:
                conn, process = handle
                conn.close()
                process.join(timeout=5)
                if process.is_alive():
                    process.kill()
        self._workers = []
        if self._started_ray and self._ray is not None:
            self._ray.shutdown()
            self._started_ray = False

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- weights and tasks -------------------------------------------------------------

    def publish(self, weights: Any) -> int:
        """Make `weights` the next version (stored once: `ray.put` on Ray); return it."""
        self.version += 1
        self._weights = self._ray.put(weights) if self._ray is not None else weights
        return self.version

    def results(self, tasks: Sequence[Any]) -> Iterator[Result | WorkerDied]:
        """Run every task once on some worker; yield each result (and each death) as it
        happens, in completion order."""
        queue = deque(range(len(tasks)))
        busy: dict[Any, tuple[int, int]] = {}  # pending handle -> (worker, task)
        idle = deque(range(self.num_workers))
        try:
            yield from self._drain(tasks, queue, busy, idle)
        finally:  # left early (an error, or the caller stopped): no stale reply may remain
            for worker, _ in busy.values():
                self._replace(worker)

    def _drain(self, tasks: Sequence[Any], queue: deque[int], busy: dict[Any, tuple[int, int]],
               idle: deque[int]) -> Iterator[Result | WorkerDied]:
        while queue or busy:
            while queue and idle:
                worker, task = idle.popleft(), queue.popleft()
                busy[self._submit(worker, tasks[task])] = (worker, task)
            pending, outcome = self._next(list(busy))
            worker, task = busy.pop(pending)
            if outcome[0] == "ok":
                version, value = outcome[1]
                idle.append(worker)
                yield Result(task, worker, version, value)
            elif outcome[0] == "died":
                self._restart(worker, outcome[1])
                queue.appendleft(task)
                idle.append(worker)
                yield WorkerDied(worker, task, outcome[1])
            else:
                raise WorkerError(f"task {task} failed in worker {worker}:\n{outcome[1]}")

    def run(self, tasks: Sequence[Any]) -> tuple[list[Result], list[WorkerDied]]:
        """Every task's result in task order, and the deaths that happened on the way."""
        done: list[Result] = []
        died: list[WorkerDied] = []
        for event in self.results(tasks):
            (done if isinstance(event, Result) else died).append(event)  # type: ignore[arg-type]
        return sorted(done, key=lambda r: r.task), died

    def _submit(self, worker: int, task: Any) -> Any:
        stale = self._held[worker] < self.version
        args = (task, self._weights, self.version) if stale else (task,)
        self._held[worker] = self.version
        handle = self._workers[worker]
        if self._ray is not None:
            return handle.call.remote(*args)
        if not self.processes:
            return _Done(handle, args)
        conn = handle[0]
        with suppress(OSError):  # died while idle: the receive in `_next` reports it
            conn.send(args)
        return conn

    def _next(self, pending: list[Any]) -> tuple[Any, tuple[str, Any]]:
        """The first pending call to finish and its outcome: ("ok", (version, value)),
        ("died", message) or ("error", traceback)."""
        if self._ray is not None:
            ray = self._ray
            (ready,), _ = ray.wait(pending, num_returns=1)
            try:
                return ready, ("ok", ray.get(ready))
            except ray.exceptions.RayActorError as e:
                return ready, ("died", f"{type(e).__name__}: {str(e).splitlines()[0]}")
            except ray.exceptions.RayTaskError as e:
                return ready, ("error", str(e))
        if not self.processes:
            return pending[0], pending[0].outcome()
        ready = wait(pending)[0]
        assert isinstance(ready, Connection)
        try:
            return ready, ready.recv()
        except (EOFError, OSError) as e:
            return ready, ("died", f"worker process ended ({type(e).__name__})")

    def _restart(self, worker: int, error: str) -> None:
        self.restarts += 1
        if self.restarts > self.max_restarts:
            raise WorkerError(f"workers died {self.restarts} times (limit {self.max_restarts});"
                              f" last: {error}")
        self._replace(worker)

    def _replace(self, worker: int) -> None:
        """A fresh worker in `worker`'s place (an in-process one is kept and sent the weights
        again: its abandoned call never ran)."""
        self._held[worker] = -1
        if self._ray is None and not self.processes:
            return
        if self._ray is not None:
            self._ray.kill(self._workers[worker])
        else:
            conn, process = self._workers[worker]
            conn.close()
            process.kill()
            process.join(timeout=5)
        self._workers[worker] = self._start(worker)


class _Done:
    """An in-process call, run when the pool asks for its outcome (one at a time)."""

    def __init__(self, host: _Host, args: tuple[Any, ...]) -> None:
        self.host, self.args = host, args

    def outcome(self) -> tuple[str, Any]:
        try:
            return "ok", self.host.call(*self.args)
        except Exception:
            return "error", traceback.format_exc()
