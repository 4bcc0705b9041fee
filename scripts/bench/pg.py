"""Policy-gradient benchmarks: rlsuite PPO against Stable-Baselines3 PPO on CartPole-v1 (the
default task), and PPO placements against random ones on the shipped chip netlists (`--task chip`).

CartPole: both libraries run side by side in one process.

SB3 runs rl-baselines3-zoo's tuned CartPole-v1 settings (hyperparams/ppo.yml: 8 envs, n_steps 32,
batch 256, 20 epochs, gamma 0.98, lambda 0.8, lr lin_1e-3, clip lin_0.2, 1e5 steps); rlsuite runs
its `[ppo."CartPole-v1"]` preset (flags after `--rlsuite` override it). Seeds alternate between
the two so load from other processes hits both alike.

"Reached 475" means the mean return of the last `--window` finished training episodes is at
least 475 (CartPole-v1's reward threshold), checked once per rollout by both. Reported per run:
env steps and wall/CPU seconds to reach it, and the final return (mean of 10 deterministic
evaluation episodes after the full budget). Last line: one JSON object.

    python scripts/bench/pg.py --seeds 0 1 2
    python scripts/bench/pg.py --seeds 0 --rlsuite --vectorization sync

Chip: for each netlist under the chip data folder, train PPO with the
`[ppo."rlsuite/ChipPlacement-v0"]` preset, place every macro with the deterministic policy, and
score that placement, 20 random legal placements and the greedy wire-mask placer with the chip
package's `evaluate_placement` (macro HPWL, full HPWL). Last line: one JSON object.

    python scripts/bench/pg.py --task chip --chip-steps 9216
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np
import torch

ENV_ID = "CartPole-v1"


@dataclass
class Run:
    """One training run's milestones, measured identically for both libraries."""

    library: str
    seed: int
    target: float
    window: int
    returns: deque[float] = field(default_factory=deque)
    steps_to_target: int | None = None
    wall_to_target: float | None = None
    cpu_to_target: float | None = None
    wall_total: float = 0.0
    final_return: float = float("nan")

    def __post_init__(self) -> None:
        self.returns = deque(maxlen=self.window)
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()

    def check(self, new_returns: list[float], env_steps: int) -> None:
        """Feed episodes that finished during the last rollout."""
        self.returns.extend(new_returns)
        if (
            self.steps_to_target is None
            and len(self.returns) == self.window
            and sum(self.returns) / self.window >= self.target
        ):
            self.steps_to_target = env_steps
            self.wall_to_target = time.perf_counter() - self.wall0
            self.cpu_to_target = time.process_time() - self.cpu0


def evaluate(act: Callable[[np.ndarray], np.ndarray], seed: int, episodes: int = 10) -> float:
    """Mean undiscounted return of a deterministic policy over fresh episodes."""
    env = gym.make(ENV_ID)
    total = 0.0
    for i in range(episodes):
        obs, _ = env.reset(seed=10_000 + 100 * seed + i)
        done = False
        while not done:
            obs, reward, terminated, truncated, _ = env.step(int(act(obs[None])[0]))
            total += float(reward)
            done = terminated or truncated
    env.close()
    return total / episodes


def run_sb3(seed: int, total_steps: int, target: float, window: int) -> Run:
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    run = Run("sb3", seed, target, window)

    class Milestones(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.finished: list[float] = []

        def _on_step(self) -> bool:  # Monitor puts a finished episode in info["episode"]
            self.finished.extend(i["episode"]["r"] for i in self.locals["infos"] if "episode" in i)
            return True

        def _on_rollout_end(self) -> None:
            run.check(self.finished, self.num_timesteps)
            self.finished = []

    env = make_vec_env(ENV_ID, n_envs=8, seed=seed)
    model = PPO(
        "MlpPolicy", env, n_steps=32, batch_size=256, gae_lambda=0.8, gamma=0.98, n_epochs=20,
        ent_coef=0.0, learning_rate=lambda f: 1e-3 * f, clip_range=lambda f: 0.2 * f,
        seed=seed, device="cpu", verbose=0,
    )
    model.learn(total_steps, callback=Milestones())
    run.wall_total = time.perf_counter() - run.wall0
    env.close()
    run.final_return = evaluate(lambda o: model.predict(o, deterministic=True)[0], seed)
    return run


def run_rlsuite(seed: int, total_steps: int, target: float, window: int,
                extra: list[str]) -> Run:
    from rlsuite.agents.pg import UpdateReport, load_agent, train
    from rlsuite.cli.train import parse_config

    with tempfile.TemporaryDirectory() as root:
        config = parse_config("ppo", ["--env", ENV_ID, "--seed", str(seed), "--total-steps",
                                      str(total_steps), "--run-root", root, "--backends", "csv",
                                      "--checkpoint-every", str(total_steps), "--eval-episodes",
                                      "0", *extra])
        run = Run("rlsuite", seed, target, window)

        def milestones(report: UpdateReport) -> None:
            run.check(report.episodes.returns.tolist(), report.global_step)

        run_dir = train(config, callback=milestones)
        run.wall_total = time.perf_counter() - run.wall0
        agent = load_agent(run_dir)
        run.final_return = evaluate(agent.act, seed)
    return run


def median_or_inf(values: list[float | None]) -> float:
    """Median with runs that never reached the target counted as infinitely slow."""
    return statistics.median(math.inf if v is None else v for v in values)


def summary(runs: list[Run]) -> dict[str, Any]:
    return {
        "steps_to_475": median_or_inf([r.steps_to_target for r in runs]),
        "wall_to_475_s": median_or_inf([r.wall_to_target for r in runs]),
        "cpu_to_475_s": median_or_inf([r.cpu_to_target for r in runs]),
        "reached": sum(r.steps_to_target is not None for r in runs),
        "final_return": statistics.mean(r.final_return for r in runs),
        "wall_total_s": statistics.median(r.wall_total for r in runs),
    }


def _finite(value: Any) -> Any:
    """JSON has no infinity: runs that never reached the target read as null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, float) and math.isinf(value):
        return None
    return value


CHIP_NETLISTS = (
    "mcnc_apte",
    "ct/macro_tiles_10x10",
    "ct/toy_macro_stdcell",
    "ct/sample_clustered",
    "ct/simple_with_coords",
    "ct/simple_grouped_with_coords",
    "ct/simple_grouped_with_coords_with_blockage",
)


def place_with_policy(netlist: str, run_dir: Any, seed: int = 0) -> dict[str, float]:
    """Metrics of the placement the trained policy makes (most likely legal cell each step)."""
    import rlsuite  # noqa: F401  (registers the env id)
    from rlsuite.agents.pg import load_agent
    from rlsuite.envs.chip import evaluate_placement

    agent = load_agent(run_dir)
    env = gym.make("rlsuite/ChipPlacement-v0", netlist=netlist)
    obs, info = env.reset(seed=seed)
    done = False
    while not done:
        action = agent.act(obs[None], info["action_mask"][None], deterministic=True)[0]
        obs, _, terminated, truncated, info = env.step(int(action))
        done = terminated or truncated
    chip: Any = env.unwrapped
    model, state = chip.model, chip.state
    if not model.is_complete(state):
        return {"complete": 0.0}
    metrics = evaluate_placement(model.netlist, model.cells_to_centers(state.cells),
                                 (model.cols, model.rows))
    return {"complete": 1.0, **metrics}


def chip_task(netlists: list[str], steps: int, random_seeds: int) -> dict[str, Any]:
    from rlsuite.agents.pg import train
    from rlsuite.cli.train import parse_config
    from rlsuite.envs.chip import data_dir, run_baseline

    rows: dict[str, Any] = {}
    for name in netlists:
        path = str(data_dir() / name)
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as root:
            config = parse_config("ppo", ["--env", "rlsuite/ChipPlacement-v0", "--env-kwargs",
                                          "netlist", path, "--total-steps", str(steps),
                                          "--run-root", root, "--backends", "csv"])
            run_dir = train(config)
            ppo = place_with_policy(path, run_dir)
        train_s = time.perf_counter() - start
        chip: Any = gym.make("rlsuite/ChipPlacement-v0", netlist=path).unwrapped
        model = chip.model
        randoms = [run_baseline("random", model, seed=s).metrics for s in range(random_seeds)]
        greedy = run_baseline("greedy", model).metrics
        row = {
            "macros": model.num_macros,
            "grid": [model.rows, model.cols],
            "train_steps": config.num_updates * config.batch_size,
            "train_s": round(train_s, 1),
            "ppo_complete": bool(ppo["complete"]),
            "ppo_macro_hpwl": ppo.get("macro_hpwl"),
            "random_macro_hpwl_mean": statistics.mean(r["macro_hpwl"] for r in randoms),
            "random_macro_hpwl_best": min(r["macro_hpwl"] for r in randoms),
            "greedy_macro_hpwl": greedy.get("macro_hpwl"),
            "ppo_hpwl": ppo.get("hpwl"),
            "random_hpwl_mean": statistics.mean(r["hpwl"] for r in randoms),
            "greedy_hpwl": greedy.get("hpwl"),
        }
        rows[name] = row
        print(f"{name}: {json.dumps(row)}", flush=True)
    compared = [r for r in rows.values() if r["random_macro_hpwl_mean"] > 0]
    return {
        "task": "chip",
        "netlists": rows,
        "ppo_beats_random_mean_macro_hpwl": sum(
            r["ppo_macro_hpwl"] is not None
            and r["ppo_macro_hpwl"] < r["random_macro_hpwl_mean"] for r in compared),
        "netlists_with_macro_nets": len(compared),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", choices=("cartpole", "chip"), default="cartpole")
    parser.add_argument("--chip-netlists", nargs="+", default=list(CHIP_NETLISTS))
    parser.add_argument("--chip-steps", type=int, default=9216)
    parser.add_argument("--random-placements", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--total-steps", type=int, default=100_000)
    parser.add_argument("--target", type=float, default=475.0)
    parser.add_argument("--window", type=int, default=20)
    parser.add_argument("--rlsuite", nargs=argparse.REMAINDER, default=[],
                        help="flags passed on to rlsuite's PPO config")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.task == "chip":
        chip = chip_task(args.chip_netlists, args.chip_steps, args.random_placements)
        print(json.dumps(_finite(chip)))
        return chip
    runs: dict[str, list[Run]] = {"sb3": [], "rlsuite": []}
    for seed in args.seeds:
        for name in ("sb3", "rlsuite"):  # alternate so background load hits both alike
            run = (run_sb3(seed, args.total_steps, args.target, args.window) if name == "sb3"
                   else run_rlsuite(seed, args.total_steps, args.target, args.window,
                                    args.rlsuite))
            runs[name].append(run)
            print(f"{name:8s} seed {seed}: steps_to_475={run.steps_to_target} "
                  f"wall_to_475={run.wall_to_target and round(run.wall_to_target, 2)} "
                  f"cpu_to_475={run.cpu_to_target and round(run.cpu_to_target, 2)} "
                  f"wall_total={run.wall_total:.1f} final_return={run.final_return:.1f}",
                  flush=True)
    ours, sb3 = summary(runs["rlsuite"]), summary(runs["sb3"])

    def ratio(key: str) -> float | None:
        a, b = ours[key], sb3[key]
        return None if math.isinf(a) or math.isinf(b) else round(a / b, 3)

    result = {
        "env": ENV_ID,
        "seeds": args.seeds,
        "window": args.window,
        "rlsuite_flags": args.rlsuite,
        "ratio_wall_to_475_vs_sb3": ratio("wall_to_475_s"),
        "ratio_cpu_to_475_vs_sb3": ratio("cpu_to_475_s"),
        "rlsuite_steps_to_475": ours["steps_to_475"],
        "sb3_steps_to_475": sb3["steps_to_475"],
        "rlsuite": ours,
        "sb3": sb3,
    }
    print(json.dumps(_finite(result)))
    return result


if __name__ == "__main__":
    main()
