"""The run layer: one training loop around every algorithm (DQN, PG, AlphaZero).

An algorithm supplies only `collect` (gather experience), `learn` (one learning phase),
`evaluate` and its state (`Algorithm`); `run` owns everything around them:

- the run directory `run_root/<label>-<env>-s<seed>-<time>/` with `config.json` (the resolved
  config, written atomically), `metrics.csv`, TensorBoard events, `status.json`, `checkpoints/`;
- the loop: collect -> learn -> log (every `log_every` env steps) -> evaluate (every
  `eval_every`) -> checkpoint (every `checkpoint_every`; also at the end and on every stop);
- stopping: `total_steps`, `--max-minutes`, `--chunk-steps`, SIGTERM/SIGINT (checkpoint, then
  return; a second signal is not deferred), or a callback returning True;
- `--resume RUN_DIR`: the run's saved config, the latest checkpoint (algorithm state, `RunState`,
  numpy/torch/Python RNG states), and the same next actions as an uninterrupted run. Flags other
  than the run-control ones (`CONTROL_FIELDS`) may not change on resume: a clear error names them.
  A run killed before its first checkpoint starts again from step 0 in its own directory;
- TensorBoard tags with one meaning each: `charts/episode_return` and `charts/episode_length`
  (means over the episodes that ended since the last log), `charts/episodes` (cumulative count),
  `charts/sps` (env steps per second since the last log), `losses/*` (means since the last log),
  `eval/*`, `selfplay/*` (AlphaZero).

Names used by every algorithm's config are fields of `RunConfig`, which every config extends.
Core module: numpy, torch and the standard library plus rlsuite.logger/checkpoint/config IO;
command-line parsing lives in `rlsuite.cli`.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, Protocol, TypeVar

import numpy as np
import torch

from rlsuite import checkpoint
from rlsuite.config import RUN_CONTROL, load_config, new_run_dir, resume_defaults
from rlsuite.logger import BACKENDS, Logger, to_jsonable
from rlsuite.vecenv import ActFn, VecEnv, evaluate_episodes, make_envs

CONTROL_FIELDS = RUN_CONTROL
"""Fields a resumed run takes from its command line; every other field comes from the run."""

EVAL_SEED_OFFSET = 100_000
"""Evaluation envs are seeded `seed + EVAL_SEED_OFFSET`: never a training episode."""

LARGE_DIR = "large"
"""Sub-root of `checkpoints/` for state too big to read when only loading an agent for play."""


@dataclass(kw_only=True)
class RunConfig:
    """Fields every algorithm's config has, with the same names and meanings (flags:
    `--total-steps 50000`, `--env-kwargs size 5 komi 0.5`, `--resume runs/ppo-...`)."""

    # --- environment ---
    env: str = "CartPole-v1"
    """Gymnasium id (`CartPole-v1`, `rlsuite/Go-v0`, `rlsuite/ChipPlacement-v0`) or an Atari id
    (`ALE/Pong-v5`), which goes through `rlsuite.envs.atari.make_atari`"""
    env_kwargs: dict[str, int | float | bool | str] = field(default_factory=dict)
    """keyword arguments for the env constructor, e.g. `--env-kwargs board_size 5 komi 0.5`"""
    num_envs: int = 1
    """envs stepped together; one batched forward picks all their actions"""
    vectorization: Literal["sync", "async", "native"] = "sync"
    """how envs are batched: in this process with exact resume (`sync`), in subprocesses
    (`async`), or the env's own batched implementation (`native`, e.g. CartPole); `async` and
    `native` envs restart from fresh episodes on resume. Atari always uses ale-py's vector env"""
    seed: int = 0
    """seeds the envs, the network initialisation and every sampler"""
    total_steps: int = 100_000
    """env steps to train for, summed over all envs"""

    # --- learning ---
    learning_rate: float = 3e-4
    """optimizer step size"""
    device: str = "cpu"
    """torch device: `cpu`, `cuda`, `cuda:1` or `auto` (CUDA when available)"""
    torch_threads: int = 1
    """torch intra-op threads; 1 whenever envs run beside the learner on few cores"""

    # --- run directory, logging, evaluation, checkpoints ---
    run_root: str = "runs"
    """parent directory of run directories"""
    run_name: str = ""
    """run directory name prefix (default: ALGO-ENV-sSEED)"""
    backends: tuple[str, ...] = BACKENDS
    """Logger back ends, any of tensorboard, csv, console"""
    log_every: int = 1_000
    """env steps between metric writes"""
    eval_every: int = 10_000
    """env steps between evaluations (0: only at the end)"""
    eval_episodes: int = 10
    """episodes per evaluation (0 turns evaluation off)"""
    checkpoint_every: int = 50_000
    """env steps between checkpoints (one is always written at the end and on a stop)"""
    keep_checkpoints: int = 2
    """checkpoints kept on disk"""

    # --- run control (taken from the command line on --resume) ---
    resume: str = ""
    """run directory to continue from its latest checkpoint; other flags except the run-control
    ones (max_minutes, chunk_steps, device, backends, torch_threads) may not change"""
    max_minutes: float = 0.0
    """stop after this much wall time in this invocation, checkpoint and exit (0: no limit)"""
    chunk_steps: int = 0
    """stop after this many env steps in this invocation, checkpoint and exit (0: no limit)"""

    def __post_init__(self) -> None:
        self.validate()

    @property
    def label(self) -> str:
        """The algorithm's name in run directory names: `DQNConfig` -> `dqn`."""
        return str(getattr(self, "algo", type(self).__name__.removesuffix("Config").lower()))

    def validate(self) -> None:
        """Reject values that would fail later, or silently train nonsense, naming the field.
        Subclasses extend it (and call `super().validate()`)."""
        for name in ("num_envs", "total_steps", "torch_threads", "log_every",
                     "checkpoint_every", "keep_checkpoints"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("eval_every", "eval_episodes", "max_minutes", "chunk_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        unknown = set(self.backends) - set(BACKENDS)
        if unknown:
            raise ValueError(f"unknown backends {sorted(unknown)}; choose from {BACKENDS}")
        if not isinstance(self.env_kwargs, dict):
            raise ValueError(f"env_kwargs must be a mapping, got {self.env_kwargs!r}")


ConfigT = TypeVar("ConfigT", bound=RunConfig)


def build_envs(config: RunConfig, *, evaluation: bool = False) -> VecEnv:
    """A config's training envs, or with `evaluation` its evaluation envs: at most 8 (and no
    more than `eval_episodes`), seeded apart from training's, with Atari's raw scores and
    whole games."""
    if not evaluation:
        return make_envs(config.env, config.num_envs, config.seed, env_kwargs=config.env_kwargs,
                         vectorization=config.vectorization)
    return make_envs(config.env, max(1, min(config.eval_episodes, 8)),
                     config.seed + EVAL_SEED_OFFSET, env_kwargs=config.env_kwargs,
                     vectorization=config.vectorization, training=False)


@dataclass
class RunState:
    """Counters owned by the run layer, saved in every checkpoint. The algorithm advances
    `env_steps` (in collect), `updates` (in learn) and records finished episodes."""

    env_steps: int = 0
    """env steps taken, summed over all envs"""
    updates: int = 0
    """learning updates (gradient steps or whatever unit the algorithm counts)"""
    iterations: int = 0
    """collect+learn rounds"""
    episodes: int = 0
    """training episodes finished (cumulative; `charts/episodes`)"""
    wall_seconds: float = 0.0
    """seconds spent in collect and learn over all invocations (no evaluation, checkpoints)"""
    evaluations: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    """(env_steps, eval metrics) of every evaluation"""
    recent_returns: list[float] = field(default_factory=list, repr=False)
    """returns of episodes finished since the last log (not saved)"""
    recent_lengths: list[int] = field(default_factory=list, repr=False)

    def record_episodes(self, returns: list[float], lengths: list[int]) -> None:
        """Count finished training episodes and keep them for the next `charts/*` write."""
        if returns:
            self.episodes += len(returns)
            self.recent_returns.extend(returns)
            self.recent_lengths.extend(lengths)

    def to_json(self) -> dict[str, Any]:
        return {
            "env_steps": self.env_steps,
            "updates": self.updates,
            "iterations": self.iterations,
            "episodes": self.episodes,
            "wall_seconds": self.wall_seconds,
            "evaluations": [[s, dict(m)] for s, m in self.evaluations],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunState:
        try:
            return cls(
                env_steps=int(data["env_steps"]),
                updates=int(data["updates"]),
                iterations=int(data["iterations"]),
                episodes=int(data["episodes"]),
                wall_seconds=float(data["wall_seconds"]),
                evaluations=[(int(s), {k: float(v) for k, v in m.items()})
                             for s, m in data["evaluations"]],
            )
        except (KeyError, TypeError, ValueError) as e:
            raise checkpoint.CheckpointError(f"checkpoint run state is malformed: {e!r}") from e


@dataclass
class RunContext:
    """What an algorithm factory gets: everything it must not build itself."""

    run_dir: Path
    logger: Logger
    config: RunConfig
    """the resolved config (on resume: the saved one with this invocation's control fields)"""
    rng: np.random.Generator
    """seeded with `config.seed`; the one numpy RNG the algorithm draws from (checkpointed)"""
    device: torch.device
    resuming: bool
    """True when the algorithm's state will be loaded from a checkpoint right after the factory"""


class Algorithm(Protocol):
    """What a trainer supplies. Counters live in `RunState`, owned by the run layer.

    Optional extras, used when present: `close()` (release envs);
    `large_state_dict()` / `load_large_state_dict(state)` for state too big to read when
    loading an agent for play (a replay buffer), saved under `checkpoints/large/`; and
    `checkpoint_parts() -> {key: module or optimizer}`, naming the `state_dict()` entries that
    hold a module's or an optimizer's state, so that a resume checks each against its part
    (keys, shapes, optimizer fit) before `load_state_dict` changes anything."""

    def collect(self, state: RunState) -> Mapping[str, float]:
        """Gather experience; advance `state.env_steps`, call `state.record_episodes`."""
        ...

    def learn(self, state: RunState) -> Mapping[str, float]:
        """One learning phase; advance `state.updates`; return `losses/*` metrics."""
        ...

    def evaluate(self, state: RunState) -> Mapping[str, float]:
        """Periodic evaluation, `eval/*` metrics (may return {})."""
        ...

    def state_dict(self) -> dict[str, Any]:
        """Tensors, arrays and JSON values (see `optimizer_state`), for rlsuite.checkpoint."""
        ...

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Apply a saved `state_dict()`; the run layer has checked the `checkpoint_parts`."""
        ...


Part = torch.nn.Module | torch.optim.Optimizer
"""A stateful piece of an algorithm that the run layer can check a saved state against."""


class EnvAlgorithm(Generic[ConfigT]):
    """Base of the algorithms that act on the config's vector envs (DQN, PG): it holds the
    config, the run's RNG, device and training envs, evaluates an act function on separate
    envs and closes the envs. Subclasses override `make_envs` to check what they need."""

    def __init__(self, ctx: RunContext, config_type: type[ConfigT]) -> None:
        if not isinstance(ctx.config, config_type):
            raise TypeError(f"{type(self).__name__} needs a {config_type.__name__}, "
                            f"got {type(ctx.config).__name__}")
        self.config: ConfigT = ctx.config
        self.rng, self.device = ctx.rng, ctx.device
        self.envs = self.make_envs()

    def make_envs(self, *, evaluation: bool = False) -> VecEnv:
        """The config's training envs, or its evaluation envs (`build_envs`)."""
        return build_envs(self.config, evaluation=evaluation)

    def evaluate_policy(self, act: ActFn) -> dict[str, float]:
        """`eval/return_mean` and `eval/return_std` over `eval_episodes` episodes of `act`."""
        envs = self.make_envs(evaluation=True)
        try:
            returns = evaluate_episodes(act, envs, self.config.eval_episodes)
        finally:
            envs.close()
        return {"eval/return_mean": float(returns.mean()), "eval/return_std": float(returns.std())}

    def close(self) -> None:
        self.envs.close()


@dataclass
class IterationReport:
    """What a `run` callback sees after each collect+learn round."""

    state: RunState
    metrics: Mapping[str, float]
    """metrics of this round's collect and learn"""
    algorithm: Any


Callback = Callable[[IterationReport], "bool | None"]
"""Called after every round; returning True checkpoints and stops the run."""


def optimizer_state(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """An optimizer's state in a form `rlsuite.checkpoint` stores (string keys)."""
    return checkpoint._optimizer_state(optimizer)


def load_optimizer_state(optimizer: torch.optim.Optimizer, saved: Mapping[str, Any]) -> None:
    """Inverse of `optimizer_state`."""
    checkpoint._load_optimizer(optimizer, saved)


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when available; an unavailable CUDA device is a clear error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available; use --device cpu")
    return device


def resume_config(config_cls: type[ConfigT], run_dir: str | Path, **control: Any) -> ConfigT:
    """The saved config of `run_dir`, set to resume it, with run-control fields from `control`."""
    bad = sorted(set(control) - set(CONTROL_FIELDS))
    if bad:
        raise ValueError(f"{bad} cannot change on resume (only {list(CONTROL_FIELDS)} can)")
    return dataclasses.replace(resume_defaults(config_cls, run_dir), resume=str(run_dir), **control)


def check_resume(config: RunConfig) -> None:
    """Refuse to resume `config.resume` with a config whose non-control fields differ."""
    saved = load_config(type(config), config.resume)
    changed = [
        f.name
        for f in dataclasses.fields(config)
        if f.name not in CONTROL_FIELDS and getattr(config, f.name) != getattr(saved, f.name)
    ]
    if changed:
        raise ValueError(
            f"--resume continues {config.resume} with its saved config; {changed} cannot "
            f"change (only {list(CONTROL_FIELDS)} can)"
        )


def _write_json_atomic(path: Path, data: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=2, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _new_run_dir(config: RunConfig) -> Path:
    name = config.run_name or f"{config.label}-{config.env.replace('/', '_')}-s{config.seed}"
    return new_run_dir(config.run_root, name)


@contextmanager
def _stop_signals(stop: Callable[[], None]) -> Iterator[None]:
    """SIGTERM/SIGINT call `stop` (checkpoint and return); a second one acts as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        stop()
        signal.signal(signum, previous[signal.Signals(signum)])

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


class _Metrics:
    """Means of every metric since the last write (losses of many updates become one point)."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def add(self, metrics: Mapping[str, float]) -> None:
        for k, v in metrics.items():
            self.sums[k] = self.sums.get(k, 0.0) + float(v)
            self.counts[k] = self.counts.get(k, 0) + 1

    def pop(self) -> dict[str, float]:
        out = {k: s / self.counts[k] for k, s in self.sums.items()}
        self.sums, self.counts = {}, {}
        return out


class _Loop:
    """One invocation of a run: the state machine behind `run`."""

    def __init__(self, ctx: RunContext, algorithm: Algorithm, state: RunState,
                 callback: Callback | None) -> None:
        self.ctx, self.algorithm, self.state, self.callback = ctx, algorithm, state, callback
        self.config = ctx.config
        self.stop_requested = False
        self.metrics = _Metrics()

    def _next(self, every: int) -> float:
        return (self.state.env_steps // every + 1) * every if every else math.inf

    def run(self) -> None:
        c, state, algorithm = self.config, self.state, self.algorithm
        start, start_steps = time.monotonic(), state.env_steps
        deadline = start + 60.0 * c.max_minutes if c.max_minutes else math.inf
        chunk_end = start_steps + c.chunk_steps if c.chunk_steps else math.inf
        next_log, next_ckpt = self._next(c.log_every), self._next(c.checkpoint_every)
        next_eval = self._next(c.eval_every) if c.eval_episodes else math.inf
        log_time, log_steps = time.monotonic(), state.env_steps
        logger = self.ctx.logger
        with _stop_signals(self.request_stop), logger.progress(c.total_steps, c.label) as bar:
            bar.update(bar.task_ids[0], completed=state.env_steps)
            while state.env_steps < c.total_steps and not self.stop_requested:
                tic = time.perf_counter()
                metrics = dict(algorithm.collect(state))
                metrics.update(algorithm.learn(state))
                state.iterations += 1
                state.wall_seconds += time.perf_counter() - tic
                if metrics:
                    self.metrics.add(metrics)
                if self.callback is not None and self.callback(
                    IterationReport(state, metrics, algorithm)
                ):
                    self.stop_requested = True
                done = state.env_steps >= c.total_steps
                if state.env_steps >= next_log or done:
                    now = time.monotonic()
                    self._log((state.env_steps - log_steps) / max(now - log_time, 1e-9))
                    log_time, log_steps = now, state.env_steps
                    next_log = self._next(c.log_every)
                    bar.update(bar.task_ids[0], completed=state.env_steps)
                if c.eval_episodes and (state.env_steps >= next_eval or done):
                    self._evaluate()
                    next_eval = self._next(c.eval_every)
                pause = state.env_steps >= chunk_end or time.monotonic() >= deadline
                if state.env_steps >= next_ckpt or done or pause or self.stop_requested:
                    self.save()
                    next_ckpt = self._next(c.checkpoint_every)
                if pause:
                    break

    def request_stop(self) -> None:
        """Finish the current round, checkpoint and return (safe in a signal handler)."""
        self.stop_requested = True

    def _log(self, sps: float) -> None:
        state = self.state
        scalars = self.metrics.pop()
        scalars["charts/sps"] = sps
        scalars["charts/episodes"] = float(state.episodes)
        if state.recent_returns:
            scalars["charts/episode_return"] = float(np.mean(state.recent_returns))
            scalars["charts/episode_length"] = float(np.mean(state.recent_lengths))
            state.recent_returns.clear()
            state.recent_lengths.clear()
        self.ctx.logger.log(state.env_steps, scalars)

    def _evaluate(self) -> None:
        with torch.random.fork_rng(devices=[]):  # evaluation leaves training's RNG alone
            metrics = {k: float(v) for k, v in self.algorithm.evaluate(self.state).items()}
        if metrics:
            self.state.evaluations.append((self.state.env_steps, metrics))
            self.ctx.logger.log(self.state.env_steps, metrics)

    def save(self) -> Path:
        """Checkpoint the algorithm, the counters and every RNG; then `status.json`."""
        ctx, state = self.ctx, self.state
        root = ctx.logger.checkpoint_dir
        large = getattr(self.algorithm, "large_state_dict", None)
        if large is not None:  # first: a crash between the two saves leaves a complete pair
            checkpoint.save(root / LARGE_DIR, step=state.env_steps, state=large(), keep=2)
        path = checkpoint.save(
            root,
            step=state.env_steps,
            state={
                "run": state.to_json(),
                "rng": checkpoint.rng_state(ctx.rng),
                "config": to_jsonable(self.config),
                "algorithm": self.algorithm.state_dict(),
            },
            keep=self.config.keep_checkpoints,
        )
        status = {
            **state.to_json(),
            "total_steps": self.config.total_steps,
            "finished": state.env_steps >= self.config.total_steps,
            "checkpoint": str(path),
        }
        _write_json_atomic(ctx.run_dir / "status.json", to_jsonable(status))
        return path


def check_parts(algorithm: Algorithm, saved: Any, source: Path, field: str) -> None:
    """CheckpointError unless the saved algorithm state is a mapping whose module and optimizer
    states (`checkpoint_parts`) fit the algorithm's own; nothing is modified."""
    if not isinstance(saved, Mapping):
        raise checkpoint.CheckpointError(f"{source}: field {field}: not a mapping")
    parts_of = getattr(algorithm, "checkpoint_parts", None)
    for key, part in (parts_of() if parts_of is not None else {}).items():
        if key not in saved:
            raise checkpoint.CheckpointError(f"{source}: field {field}/{key}: missing")
        check = (checkpoint.check_module_state if isinstance(part, torch.nn.Module)
                 else checkpoint.check_optimizer_state)
        check(part, saved[key], source, f"{field}/{key}")


def restore(ctx: RunContext, algorithm: Algorithm) -> RunState | None:
    """Load the latest checkpoint of `ctx.run_dir` into `algorithm` and the RNGs; None when
    the run has none yet (killed before its first checkpoint). Everything is read and checked
    first (run state, RNG states, module and optimizer states, the large state's presence), so
    a bad checkpoint raises a CheckpointError while the algorithm is still untouched."""
    root = ctx.logger.checkpoint_dir
    if checkpoint.latest(root) is None:
        return None
    ckpt = checkpoint.load(root, map_location=ctx.device)
    source = ckpt.path / checkpoint.MANIFEST
    for key in ("run", "rng", "algorithm"):
        if key not in ckpt.state:
            raise checkpoint.CheckpointError(f"{ckpt.path} has no {key!r} state: not a run")
    state = RunState.from_json(ckpt.state["run"])
    checkpoint.check_rng_state(ckpt.state["rng"], source, "state/rng", ctx.rng)
    check_parts(algorithm, ckpt.state["algorithm"], source, "state/algorithm")
    load_large = getattr(algorithm, "load_large_state_dict", None)
    large_state = None
    if load_large is not None:
        large = root / LARGE_DIR / ckpt.path.name
        if not (large / checkpoint.MANIFEST).is_file():
            raise checkpoint.CheckpointError(f"{ckpt.path} has no matching {large}")
        large_state = checkpoint.load(large, map_location=ctx.device).state
    algorithm.load_state_dict(ckpt.state["algorithm"])
    if load_large is not None:
        load_large(large_state)
    checkpoint.restore_rng(ckpt.state["rng"], ctx.rng)
    return state


def seed_everything(seed: int) -> np.random.Generator:
    """Seed torch and Python's `random`; return the run's numpy Generator."""
    torch.manual_seed(seed)
    random.seed(seed)
    return np.random.default_rng(seed)


def run(
    factory: Callable[[RunContext], Algorithm],
    config: RunConfig,
    *,
    callback: Callback | None = None,
) -> Path:
    """Train (or with `config.resume`, continue) one run; return its run directory.

    `factory` builds the algorithm from a `RunContext`. Seeds are set before it is called, and
    on resume the checkpoint is loaded right after it, so building may draw from any RNG.
    """
    config.validate()
    if config.resume:
        check_resume(config)
        run_dir = Path(config.resume)
    else:
        run_dir = _new_run_dir(config)
    torch.set_num_threads(config.torch_threads)
    rng = seed_everything(config.seed)
    with Logger(run_dir, config.backends) as logger:
        ctx = RunContext(run_dir, logger, config, rng, resolve_device(config.device),
                         resuming=bool(config.resume))
        if not config.resume:
            logger.log_hparams(config)
        algorithm = factory(ctx)
        try:
            state = restore(ctx, algorithm) if config.resume else None
            loop = _Loop(ctx, algorithm, state or RunState(), callback)
            if loop.state.env_steps < config.total_steps:
                loop.run()
        finally:
            close = getattr(algorithm, "close", None)
            if close is not None:
                close()
    return run_dir
