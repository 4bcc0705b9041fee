"""DQN on CartPole-v1: rlsuite against Stable-Baselines3, in one process, same steps and seeds.

SB3 runs DQN with rl-baselines3-zoo's tuned CartPole-v1 hyperparameters (hyperparams/dqn.yml:
lr 2.3e-3, batch 64, buffer 100k, learning_starts 1000, gamma 0.99, target_update_interval 10,
train_freq 256, gradient_steps 128, exploration_fraction 0.16, final eps 0.04, net [256, 256]).
rlsuite runs its `[dqn."CartPole-v1"]` preset. For each seed both train for the same env steps
(alternating which goes first, since the machine is shared) with one torch thread, and both are
evaluated by the same routine every `--eval-every` steps: `--eval-episodes` greedy episodes on
the same seeded CartPole envs. Evaluation time is excluded from the wall times, and each
library first runs 3k untimed steps, so one-time costs (imports, JIT, allocator warm-up) fall
on neither side.

Reported per library: training wall time, env steps/s, final evaluation return, and the env
steps at which the evaluation return first reached 500 (the cap). The last line is one JSON
object with `ratio_wall_vs_sb3`, `rlsuite_return`, `sb3_return`, `rlsuite_steps_to_500`,
`sb3_steps_to_500` (medians over seeds; null when fewer than half the seeds got there).

    .venv/bin/python scripts/bench/dqn.py [--seeds 0 1 2] [--steps 50000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from rlsuite.agents.dqn import DQNConfig, train
from rlsuite.agents.dqn.train import discrete_envs
from rlsuite.cli.train import parse_config
from rlsuite.vecenv import evaluate_episodes

ENV = "CartPole-v1"
SB3_ZOO = dict(
    learning_rate=2.3e-3,
    batch_size=64,
    buffer_size=100_000,
    learning_starts=1_000,
    gamma=0.99,
    target_update_interval=10,
    train_freq=256,
    gradient_steps=128,
    exploration_fraction=0.16,
    exploration_final_eps=0.04,
    policy_kwargs=dict(net_arch=[256, 256]),
)


def steps_to(evaluations: list[tuple[int, float]], level: float = 500.0) -> int | None:
    return next((step for step, ret in evaluations if ret >= level), None)


def run_rlsuite(seed: int, steps: int, eval_every: int, eval_episodes: int) -> dict[str, Any]:
    preset = parse_config("dqn", ["--env", ENV])
    config = dataclasses.replace(
        preset,
        seed=seed,
        total_steps=steps,
        eval_every=eval_every,
        eval_episodes=eval_episodes,
        run_root=tempfile.mkdtemp(prefix="rlsuite-bench-dqn-"),
        backends=("csv",),
        checkpoint_every=steps,
        checkpoint_replay=False,
    )
    status = json.loads((train(config) / "status.json").read_text())
    evaluations = [(step, m["eval/return_mean"]) for step, m in status["evaluations"]]
    return {
        "wall_s": status["wall_seconds"],
        "evaluations": evaluations,
        "final_return": evaluations[-1][1],
    }


def run_sb3(seed: int, steps: int, eval_every: int, eval_episodes: int) -> dict[str, Any]:
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    eval_config = DQNConfig(env=ENV, seed=seed, eval_episodes=eval_episodes)

    class Evaluate(BaseCallback):
        """Same evaluation as rlsuite's trainer (envs, seeds, episode split), timed apart."""

        def __init__(self) -> None:
            super().__init__()
            self.evaluations: list[tuple[int, float]] = []
            self.eval_seconds = 0.0

        def _on_step(self) -> bool:
            if self.num_timesteps % eval_every == 0 or self.num_timesteps == steps:
                self.run_eval()
            return True

        def run_eval(self) -> None:
            tic = time.perf_counter()
            envs = discrete_envs(eval_config, evaluation=True)
            model = self.model

            def act(obs: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
                return model.predict(obs, deterministic=True)[0]

            returns = evaluate_episodes(act, envs, eval_episodes)
            envs.close()
            self.evaluations.append((self.num_timesteps, float(returns.mean())))
            self.eval_seconds += time.perf_counter() - tic

    callback = Evaluate()
    model = DQN("MlpPolicy", ENV, seed=seed, device="cpu", verbose=0, **SB3_ZOO)  # type: ignore[arg-type]
    tic = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callback)
    wall = time.perf_counter() - tic - callback.eval_seconds
    return {
        "wall_s": wall,
        "evaluations": callback.evaluations,
        "final_return": callback.evaluations[-1][1],
    }


def median_or_none(values: list[int | None]) -> float | None:
    reached = [v for v in values if v is not None]
    if 2 * len(reached) < len(values):
        return None
    # seeds that never got there count as later than every seed that did
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    mid = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
    return float(statistics.mean(v for v in mid if v is not None))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=50_000)
    parser.add_argument("--eval-every", type=int, default=2_500)
    parser.add_argument("--eval-episodes", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    console = Console(stderr=True)
    runners = {"rlsuite": run_rlsuite, "sb3": run_sb3}
    for runner in runners.values():  # warm-up, untimed
        runner(seed=99, steps=3_000, eval_every=3_000, eval_episodes=1)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
    for i, seed in enumerate(args.seeds):
        order = list(runners) if i % 2 == 0 else list(reversed(runners))
        for name in order:
            result = runners[name](seed, args.steps, args.eval_every, args.eval_episodes)
            result["seed"] = seed
            result["steps_to_500"] = steps_to(result["evaluations"])
            results[name].append(result)
            console.log(
                f"{name} seed {seed}: {result['wall_s']:.1f} s, final {result['final_return']:.1f}"
                f", 500 at {result['steps_to_500']}, curve {result['evaluations']}"
            )

    table = Table(title=f"DQN on {ENV}, {args.steps} steps, seeds {args.seeds}")
    for column in ("library", "wall s (mean)", "steps/s", "final return", "steps to 500"):
        table.add_column(column)
    summary: dict[str, dict[str, Any]] = {}
    for name, runs in results.items():
        wall = statistics.mean(r["wall_s"] for r in runs)
        summary[name] = {
            "wall_s": wall,
            "steps_per_s": args.steps / wall,
            "return": statistics.mean(r["final_return"] for r in runs),
            "steps_to_500": median_or_none([r["steps_to_500"] for r in runs]),
            "per_seed": [
                {k: r[k] for k in ("seed", "wall_s", "final_return", "steps_to_500")} for r in runs
            ],
        }
        s = summary[name]
        table.add_row(name, f"{wall:.1f}", f"{s['steps_per_s']:.0f}", f"{s['return']:.1f}",
                      str(s["steps_to_500"]))  # fmt: skip
    console.print(table)
    print(
        json.dumps(
            {
                "ratio_wall_vs_sb3": summary["rlsuite"]["wall_s"] / summary["sb3"]["wall_s"],
                "rlsuite_return": summary["rlsuite"]["return"],
                "sb3_return": summary["sb3"]["return"],
                "rlsuite_steps_to_500": summary["rlsuite"]["steps_to_500"],
                "sb3_steps_to_500": summary["sb3"]["steps_to_500"],
                "rlsuite_steps_per_s": summary["rlsuite"]["steps_per_s"],
                "sb3_steps_per_s": summary["sb3"]["steps_per_s"],
                "steps": args.steps,
                "seeds": args.seeds,
                "per_seed": {name: summary[name]["per_seed"] for name in summary},
            }
        )
    )


if __name__ == "__main__":
    main()
