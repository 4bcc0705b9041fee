"""The DQN training loop: act on a batch of envs, store n-step transitions, learn, evaluate,
log and checkpoint; `--resume` continues a run so that its next actions equal those of an
uninterrupted run with the same seed (on CPU, for envs whose randomness is their `np_random`).

Run layout: `RUN/config.json`, `metrics.csv`, TensorBoard events, `status.json` and
`checkpoints/` (networks, optimizer, counters, RNG, env and n-step state), with the replay
buffer under `checkpoints/replay/` so that loading an agent for play never reads it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from rlsuite import checkpoint
from rlsuite.agents.dqn.config import RUN_CONTROL, DQNConfig
from rlsuite.agents.dqn.envs import EnvBatch, PyEnvBatch, VectorEnvBatch
from rlsuite.agents.dqn.learner import QLearner
from rlsuite.agents.dqn.network import QNetwork, pick_torso
from rlsuite.agents.dqn.policy import EpsilonGreedy
from rlsuite.agents.dqn.storage import FrameStore, Store, TransitionStore, transition_spec
from rlsuite.config import flag_value, load_config, new_run_dir, parse
from rlsuite.logger import Logger

ActFn = Callable[[np.ndarray, np.ndarray | None], np.ndarray]
REPLAY_DIR = "replay"


def is_atari(env_id: str) -> bool:
    return env_id.startswith("ALE/")


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available; use --device cpu")
    return device


def make_env_batch(config: DQNConfig, num_envs: int, seed: int, training: bool) -> EnvBatch:
    """Atari ids through `make_atari` (native vector env), everything else in-process."""
    if is_atari(config.env):
        try:
            from rlsuite.envs.atari import make_atari
        except ImportError as e:
            raise ImportError(
                f"Atari needs the atari extra: pip install 'rlsuite[atari]' ({e})"
            ) from e
        vec = make_atari(
            config.env,
            num_envs=num_envs,
            protocol=config.atari_protocol,
            seed=seed,
            training=training,
            **config.env_kwargs,
        )
        return VectorEnvBatch(vec, seed, config.env, info_episodes=True)
    import rlsuite  # noqa: F401  (registers the rlsuite/* ids)

    def factory() -> gym.Env:
        return gym.make(config.env, **config.env_kwargs)

    return PyEnvBatch(factory, num_envs, seed, config.env)


def build_network(
    config: DQNConfig, obs_shape: tuple[int, ...], obs_dtype: np.dtype, num_actions: int
) -> QNetwork:
    is_uint8 = np.dtype(obs_dtype) == np.uint8
    torso = pick_torso(config.torso, obs_shape, is_uint8)
    return QNetwork(
        obs_shape,
        num_actions,
        torso=torso,
        hidden_sizes=config.hidden_sizes,
        dueling=config.dueling,
        scale_uint8=is_uint8 and torso == "nature",
    )


def make_store(
    config: DQNConfig,
    obs_shape: tuple[int, ...],
    obs_dtype: np.dtype,
    num_actions: int,
    masked: bool,
) -> Store:
    """Atari frame stacks go to the frame-deduplicated replay, everything else whole."""
    common = dict(
        num_envs=config.num_envs,
        n_step=config.n_step,
        gamma=config.gamma,
        prioritized=config.prioritized,
        alpha=config.per_alpha,
    )
    if is_atari(config.env):
        return FrameStore(obs_shape, config.buffer_size, **common)  # type: ignore[arg-type]
    spec = transition_spec(obs_shape, obs_dtype, num_actions, masked)
    return TransitionStore(spec, config.buffer_size, **common)  # type: ignore[arg-type]


def evaluate(act: ActFn, envs: EnvBatch, episodes: int) -> np.ndarray:
    """Returns of `episodes` complete episodes, split evenly over the envs up front (stopping
    at the first N finished episodes would favour short ones)."""
    quota = np.full(envs.num_envs, episodes // envs.num_envs)
    quota[: episodes % envs.num_envs] += 1
    returns: list[float] = []
    while quota.any():
        step = envs.step(act(envs.obs, envs.mask))
        for env, ret in zip(step.episode_envs, step.episode_returns, strict=True):
            if quota[env] > 0:
                quota[env] -= 1
                returns.append(ret)
    return np.asarray(returns)


def resume_config(config: DQNConfig) -> DQNConfig:
    """The saved config of `config.resume`, with this invocation's run-control fields."""
    saved = load_config(DQNConfig, config.resume)
    return dataclasses.replace(saved, **{k: getattr(config, k) for k in RUN_CONTROL})


class Trainer:
    """One training run (new or resumed). `run()` trains until done or the chunk ends."""

    def __init__(self, config: DQNConfig) -> None:
        if config.resume:
            config = resume_config(config)
            run_dir = Path(config.resume)
        else:
            name = config.run_name or f"dqn-{config.env.replace('/', '_')}-s{config.seed}"
            run_dir = new_run_dir(config.run_dir, name)
        self.config = config
        self.device = resolve_device(config.device)
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.envs = make_env_batch(config, config.num_envs, config.seed, training=True)
        space = self.envs.observation_space
        self.obs_shape = tuple(int(d) for d in space.shape)
        self.num_actions = int(self.envs.action_space.n)
        masked = self.envs.mask is not None
        self.network = build_network(config, self.obs_shape, space.dtype, self.num_actions)
        self.learner = QLearner(
            self.network,
            learning_rate=config.learning_rate,
            adam_eps=config.adam_eps,
            double=config.double,
            max_grad_norm=config.max_grad_norm,
            tau=config.tau,
            device=self.device,
        )
        self.policy = EpsilonGreedy(self.learner.online, self.num_actions, self.device)
        self.store = make_store(config, self.obs_shape, space.dtype, self.num_actions, masked)
        self.store.start(self.envs.obs)
        self.step = 0
        self.vec_steps = 0
        self.episodes = 0
        self.evaluations: list[tuple[int, float]] = []
        self.train_seconds = 0.0
        self.finished = False
        self._stop = False
        self.logger = Logger(run_dir, config.log_backends)
        if config.resume:
            self._restore()
        else:
            self.logger.log_hparams(config)

    @property
    def run_dir(self) -> Path:
        return self.logger.run_dir

    def request_stop(self) -> None:
        """Finish the current step, checkpoint and return from `run` (signal-safe)."""
        self._stop = True

    def epsilon(self, step: int) -> float:
        c = self.config
        horizon = c.exploration_fraction * c.total_steps
        frac = 1.0 if horizon <= 0 else min(1.0, step / horizon)
        return c.eps_start + frac * (c.eps_end - c.eps_start)

    def beta(self, step: int) -> float:
        c = self.config
        return c.per_beta + (1.0 - c.per_beta) * min(1.0, step / c.total_steps)

    # --- the loop -------------------------------------------------------------------------

    def run(self) -> Path:
        c = self.config
        if self.step >= c.total_steps:
            self.finished = True
            self.envs.close()
            self.logger.close()
            return self.run_dir
        chunk_start_step, chunk_start = self.step, time.perf_counter()
        next_log = self._next_multiple(c.log_every)
        next_eval = self._next_multiple(c.eval_every) if c.eval_every else math.inf
        next_ckpt = self._next_multiple(c.checkpoint_every)
        recent: list[float] = []
        lengths: list[int] = []
        log_time, log_step = time.perf_counter(), self.step
        tic = time.perf_counter()
        with self.logger.progress(c.total_steps, "dqn") as progress:
            progress.update(0, completed=self.step)  # type: ignore[arg-type]
            while self.step < c.total_steps and not self._stop:
                self._collect(recent, lengths)
                if self.step >= c.learning_starts and self.vec_steps % c.train_every == 0:
                    self._learn()
                if self.step >= next_log:
                    now = time.perf_counter()
                    sps = (self.step - log_step) / max(now - log_time, 1e-9)
                    self._log(recent, lengths, sps)
                    log_time, log_step = now, self.step
                    next_log = self._next_multiple(c.log_every)
                    progress.update(0, completed=self.step)  # type: ignore[arg-type]
                chunk_over = (c.chunk_steps and self.step - chunk_start_step >= c.chunk_steps) or (
                    c.chunk_seconds and time.perf_counter() - chunk_start >= c.chunk_seconds
                )
                done = self.step >= c.total_steps
                if c.eval_episodes and (self.step >= next_eval or done):
                    self.train_seconds += time.perf_counter() - tic
                    self._evaluate()
                    next_eval = self._next_multiple(c.eval_every) if c.eval_every else math.inf
                    tic = time.perf_counter()
                if self.step >= next_ckpt or done or chunk_over or self._stop:
                    self.train_seconds += time.perf_counter() - tic
                    self.save()
                    next_ckpt = self._next_multiple(c.checkpoint_every)
                    tic = time.perf_counter()
                if chunk_over:
                    break
        self.finished = self.step >= c.total_steps
        self.envs.close()
        self.logger.close()
        return self.run_dir

    def _next_multiple(self, every: int) -> int:
        return (self.step // every + 1) * every

    def _collect(self, recent: list[float], lengths: list[int]) -> None:
        """One vector step: act, step the envs, push the transitions."""
        envs = self.envs
        obs, mask = envs.obs, envs.mask
        actions = self.policy(obs, mask, self.epsilon(self.step), self.rng)
        step = envs.step(actions)
        fields = {
            "obs": obs,
            "action": actions,
            "reward": step.reward,
            "terminated": step.terminated,
            "truncated": step.truncated,
            "next_obs": step.next_obs,
        }
        if step.next_mask is not None:
            fields["next_mask"] = step.next_mask
        self.store.push(fields, step.valid)
        self.step += envs.num_envs
        self.vec_steps += 1
        self.episodes += len(step.episode_returns)
        recent.extend(step.episode_returns)
        lengths.extend(step.episode_lengths)

    def _learn(self) -> None:
        c = self.config
        self.store.flush()
        if len(self.store) < c.batch_size:
            return
        beta = self.beta(self.step)
        for _ in range(c.gradient_steps):
            batch = self.store.sample(c.batch_size, self.rng, beta)
            td = self.learner.update(batch, need_td=c.prioritized)
            if td is not None:
                self.store.update_priorities(batch["index"], td)
            if self.learner.updates % c.target_update_every == 0:
                self.learner.sync_target()

    def _log(self, recent: list[float], lengths: list[int], sps: float) -> None:
        scalars = {
            "charts/epsilon": self.epsilon(self.step),
            "charts/sps": sps,
            "charts/episodes": float(self.episodes),
            **self.learner.pop_stats(),
        }
        if recent:
            scalars["charts/episode_return"] = float(np.mean(recent))
            scalars["charts/episode_length"] = float(np.mean(lengths))
            recent.clear()
            lengths.clear()
        self.logger.log(self.step, scalars)

    def _evaluate(self) -> None:
        c = self.config
        envs = make_env_batch(c, min(c.eval_episodes, 8), c.seed + 100_000, training=False)
        rng = np.random.default_rng(c.seed + 100_000)

        def act(obs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
            return self.policy(obs, mask, c.eval_epsilon, rng)

        try:
            returns = evaluate(act, envs, c.eval_episodes)
        finally:
            envs.close()
        mean = float(returns.mean())
        self.evaluations.append((self.step, mean))
        self.logger.log(
            self.step,
            {"eval/return_mean": mean, "eval/return_std": float(returns.std())},
        )

    # --- checkpoints ----------------------------------------------------------------------

    def _spaces_state(self) -> dict[str, Any]:
        space = self.envs.observation_space
        return {
            "obs_low": np.asarray(space.low),
            "obs_high": np.asarray(space.high),
            "obs_dtype": np.dtype(space.dtype).str,
            "num_actions": self.num_actions,
        }

    def save(self) -> Path:
        """Checkpoint everything a resumed run needs; the replay goes to its own root first,
        so a crash between the two saves leaves the previous pair complete."""
        c = self.config
        store_state = self.store.state_dict()
        if c.checkpoint_replay:
            checkpoint.save(
                self.logger.checkpoint_dir / REPLAY_DIR,
                step=self.step,
                state={"replay": self.store.replay_state()},
                keep=2,
            )
        state = {
            "counters": {
                "step": self.step,
                "vec_steps": self.vec_steps,
                "updates": self.learner.updates,
                "episodes": self.episodes,
                "train_seconds": self.train_seconds,
            },
            "evaluations": [list(e) for e in self.evaluations],
            "rng": checkpoint.rng_state(self.rng),
            "envs": self.envs.state_dict(),
            "store": store_state,
            "spaces": self._spaces_state(),
        }
        path = checkpoint.save(
            self.logger.checkpoint_dir,
            step=self.step,
            modules={"online": self.learner.online, "target": self.learner.target},
            optimizers={"adam": self.learner.optimizer},
            state=state,
            keep=c.keep_checkpoints,
        )
        status = {
            "step": self.step,
            "total_steps": c.total_steps,
            "finished": self.step >= c.total_steps,
            "train_seconds": self.train_seconds,
            "last_eval": self.evaluations[-1] if self.evaluations else None,
        }
        (self.run_dir / "status.json").write_text(json.dumps(status, indent=2) + "\n")
        return path

    def _restore(self) -> None:
        ckpt = checkpoint.load(
            self.logger.checkpoint_dir,
            modules={"online": self.learner.online, "target": self.learner.target},
            optimizers={"adam": self.learner.optimizer},
            map_location=self.device,
        )
        state = ckpt.state
        counters = state["counters"]
        self.step, self.vec_steps = int(counters["step"]), int(counters["vec_steps"])
        self.learner.updates = int(counters["updates"])
        self.episodes = int(counters["episodes"])
        self.train_seconds = float(counters["train_seconds"])
        self.evaluations = [(int(s), float(r)) for s, r in state["evaluations"]]
        checkpoint.restore_rng(state["rng"], self.rng)
        self.envs.load_state_dict(state["envs"])
        self.store.load_state_dict(state["store"])
        if self.config.checkpoint_replay:
            replay_root = self.logger.checkpoint_dir / REPLAY_DIR / f"step_{ckpt.step:012d}"
            if not (replay_root / checkpoint.MANIFEST).is_file():
                raise checkpoint.CheckpointError(
                    f"{ckpt.path} has no replay checkpoint at {replay_root}; it was saved "
                    "with --no-checkpoint-replay or the replay directory was removed"
                )
            self.store.load_replay_state(checkpoint.load(replay_root).state["replay"])
        if not self.envs.restorable:  # fresh episodes: no n-step window may span the gap
            self.store.start(self.envs.obs)


def train(config: DQNConfig) -> Path:
    """Train (or resume, when `config.resume` names a run) and return the run directory."""
    return Trainer(config).run()


def parse_args(argv: Sequence[str]) -> DQNConfig:
    """Flags over the env's preset; with `--resume RUN`, flags over the run's saved config,
    where only run-control fields may change."""
    resume = flag_value(argv, "resume")
    if not resume:
        return parse(DQNConfig, argv, algo="dqn", prog="rlsuite train dqn")
    import tyro

    saved = load_config(DQNConfig, resume)
    config = tyro.cli(DQNConfig, default=saved, args=list(argv), prog="rlsuite train dqn")
    changed = [
        f.name
        for f in dataclasses.fields(DQNConfig)
        if f.name not in RUN_CONTROL and getattr(config, f.name) != getattr(saved, f.name)
    ]
    if changed:
        raise ValueError(
            f"--resume continues a run with its saved config; {changed} cannot change "
            f"(only {list(RUN_CONTROL)} can)"
        )
    return config


def main(argv: Sequence[str] | None = None) -> int:
    """`rlsuite train dqn [--env ID] [--resume RUN] ...`; SIGTERM/SIGINT checkpoint and stop."""
    config = parse_args(list(sys.argv[1:] if argv is None else argv))
    torch.set_num_threads(1)  # the env loop and the learner share the cores
    trainer = Trainer(config)

    def stop(signum: int, frame: Any) -> None:
        trainer.request_stop()
        signal.signal(signum, previous[signal.Signals(signum)])  # a second one is not deferred

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        run_dir = trainer.run()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    state = "finished" if trainer.finished else f"stopped at step {trainer.step}"
    if trainer.evaluations:
        step, ret = trainer.evaluations[-1]
        print(f"eval return {ret:.2f} at step {step}")
    print(f"{state}; run_dir: {run_dir}")
    return 0
