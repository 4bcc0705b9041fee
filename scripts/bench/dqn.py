"""DQN against Stable-Baselines3 on CartPole-v1 or Acrobot-v1, in one process, same steps and
seeds.

SB3 runs DQN with rl-baselines3-zoo's tuned hyperparameters for the env (hyperparams/dqn.yml,
copied into `ZOO` below); rlsuite runs its `[dqn.ENV]` preset. For each seed both train for
the same env steps (alternating which goes first, since the machine is shared) with one torch
thread, and both are evaluated by the same routine every `--eval-every` steps:
`--eval-episodes` greedy episodes on the same seeded envs. Evaluation time is excluded from
the wall times, and each library first runs 3k untimed steps, so one-time costs (imports,
JIT, allocator warm-up) fall on neither side.

What a user keeps after training is the last model, so besides the curve each library's
final model is evaluated again on `--final-episodes` greedy episodes of envs seeded apart from
the training and evaluation ones; for rlsuite that model is loaded back from the checkpoint
the run left on disk (`rlsuite.agents.dqn.load_agent`).

Reported per library: training wall time, env steps/s, final evaluation return, the return of
the model left behind, and the env steps at which the evaluation return first reached the
env's target (500 on CartPole, the cap; -100 on Acrobot). The last line is one JSON object:
`ratio_wall_vs_sb3`, `rlsuite_return` / `sb3_return` (means of the final evaluation),
`rlsuite_median_final_return` / `sb3_median_final_return`, `rlsuite_min_final_return`,
`rlsuite_steps_to_target` / `sb3_steps_to_target` (medians over seeds; seeds that never got
there count as latest; null when fewer than half did), on CartPole also under their old names
`*_steps_to_500`, and per-seed rows.

    .venv/bin/python scripts/bench/dqn.py [--env Acrobot-v1] [--seeds 0 1 2] [--steps 50000]
    .venv/bin/python scripts/bench/dqn.py --merge half1.log half2.log  # seeds run apart
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from rlsuite.agents.dqn import DQNConfig, load_agent, train
from rlsuite.agents.dqn.train import discrete_envs
from rlsuite.cli.train import parse_config
from rlsuite.vecenv import ActFn, evaluate_episodes


@dataclasses.dataclass(frozen=True)
class Task:
    """One benchmark env: rl-zoo's SB3 settings, its step budget and the return to reach."""

    steps: int
    target: float
    zoo: dict[str, Any]


ZOO_NET = dict(net_arch=[256, 256])
TASKS = {
    "CartPole-v1": Task(50_000, 500.0, dict(
        learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1_000,
        gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
        exploration_fraction=0.16, exploration_final_eps=0.04, policy_kwargs=ZOO_NET)),
    "Acrobot-v1": Task(100_000, -100.0, dict(
        learning_rate=6.3e-4, batch_size=128, buffer_size=50_000, learning_starts=0,
        gamma=0.99, target_update_interval=250, train_freq=4, gradient_steps=-1,
        exploration_fraction=0.12, exploration_final_eps=0.1, policy_kwargs=ZOO_NET)),
}
FINAL_SEED_OFFSET = 10_000  # envs of the final-model evaluation: apart from training and eval


def steps_to(evaluations: list[tuple[int, float]], level: float) -> int | None:
    return next((step for step, ret in evaluations if ret >= level), None)


def final_model_return(env: str, seed: int, episodes: int, act: ActFn) -> float:
    """Mean greedy return of `act` over `episodes` episodes on freshly seeded envs."""
    envs = discrete_envs(DQNConfig(env=env, seed=seed + FINAL_SEED_OFFSET,
                                   eval_episodes=episodes), evaluation=True)
    try:
        return float(evaluate_episodes(act, envs, episodes).mean())
    finally:
        envs.close()


def run_rlsuite(env: str, seed: int, steps: int, eval_every: int, eval_episodes: int,
                final_episodes: int) -> dict[str, Any]:
    preset = parse_config("dqn", ["--env", env])
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
    run_dir = train(config)
    status = json.loads((run_dir / "status.json").read_text())
    evaluations = [(step, m["eval/return_mean"]) for step, m in status["evaluations"]]
    agent = load_agent(run_dir)
    return {
        "wall_s": status["wall_seconds"],
        "evaluations": evaluations,
        "final_return": evaluations[-1][1],
        "model_return": final_model_return(env, seed, final_episodes,
                                           lambda obs, mask: agent.act(obs, mask)),
    }


def run_sb3(env: str, seed: int, steps: int, eval_every: int, eval_episodes: int,
            final_episodes: int) -> dict[str, Any]:
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    eval_config = DQNConfig(env=env, seed=seed, eval_episodes=eval_episodes)

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
    model = DQN("MlpPolicy", env, seed=seed, device="cpu", verbose=0, **TASKS[env].zoo)
    tic = time.perf_counter()
    model.learn(total_timesteps=steps, callback=callback)
    wall = time.perf_counter() - tic - callback.eval_seconds
    return {
        "wall_s": wall,
        "evaluations": callback.evaluations,
        "final_return": callback.evaluations[-1][1],
        "model_return": final_model_return(
            env, seed, final_episodes, lambda obs, mask: model.predict(obs, deterministic=True)[0]
        ),
    }


def median_or_none(values: list[int | None]) -> float | None:
    reached = [v for v in values if v is not None]
    if 2 * len(reached) < len(values):
        return None
    # seeds that never got there count as later than every seed that did
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    mid = ordered[(len(ordered) - 1) // 2 : len(ordered) // 2 + 1]
    return float(statistics.mean(v for v in mid if v is not None))


def last_json_line(path: Path) -> dict[str, Any]:
    """The JSON object a bench run printed last (its output file may hold logs before it)."""
    for line in reversed(path.read_text().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"{path}: no JSON line from a bench run")


def merged_runs(paths: list[Path]) -> tuple[str, int, dict[str, list[dict[str, Any]]]]:
    """(env, steps, per-seed rows per library) of bench runs over disjoint seeds, e.g. halves
    of the seeds run on two cores at once."""
    runs = [last_json_line(p) for p in paths]
    if len({(r["env"], r["steps"]) for r in runs}) != 1:
        found = (f"{p}: {r['env']} {r['steps']}" for p, r in zip(paths, runs, strict=True))
        raise ValueError(f"runs to merge must share env and steps: {', '.join(found)}")
    results: dict[str, list[dict[str, Any]]] = {"rlsuite": [], "sb3": []}
    for run in runs:
        for name in results:
            results[name] += run["per_seed"][name]
    seeds = [r["seed"] for r in results["rlsuite"]]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"runs to merge repeat seeds: {sorted(seeds)}")
    return runs[0]["env"], runs[0]["steps"], results


def train_seeds(args: argparse.Namespace, task: Task, steps: int,
                console: Console) -> dict[str, list[dict[str, Any]]]:
    """Both libraries on every seed of `args.seeds`, alternating which goes first."""
    torch.set_num_threads(1)
    runners = {"rlsuite": run_rlsuite, "sb3": run_sb3}
    for runner in runners.values():  # warm-up, untimed
        runner(args.env, seed=99, steps=3_000, eval_every=3_000, eval_episodes=1,
               final_episodes=1)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
    for i, seed in enumerate(args.seeds):
        order = list(runners) if i % 2 == 0 else list(reversed(runners))
        for name in order:
            result = runners[name](args.env, seed, steps, args.eval_every, args.eval_episodes,
                                   args.final_episodes)
            result["seed"] = seed
            result["steps_to_target"] = steps_to(result["evaluations"], task.target)
            results[name].append(result)
            console.log(
                f"{name} seed {seed}: {result['wall_s']:.1f} s, final {result['final_return']:.1f}"
                f", model {result['model_return']:.1f}, {task.target:g} at "
                f"{result['steps_to_target']}, curve {result['evaluations']}"
            )
    return results


def report(env: str, steps: int, results: dict[str, list[dict[str, Any]]],
           console: Console) -> dict[str, Any]:
    """Print the table; return the figures of the JSON line."""
    task = TASKS[env]
    seeds = [r["seed"] for r in results["rlsuite"]]
    table = Table(title=f"DQN on {env}, {steps} steps, seeds {seeds}")
    for column in ("library", "wall s (mean)", "steps/s", "final return (median, min)",
                   "model left (median)", f"steps to {task.target:g} (median)"):
        table.add_column(column)
    summary: dict[str, dict[str, Any]] = {}
    for name, runs in results.items():
        wall = statistics.mean(r["wall_s"] for r in runs)
        finals = [r["final_return"] for r in runs]
        summary[name] = {
            "wall_s": wall,
            "steps_per_s": steps / wall,
            "return": statistics.mean(finals),
            "median_final": statistics.median(finals),
            "min_final": min(finals),
            "model_return": statistics.median(r["model_return"] for r in runs),
            "steps_to_target": median_or_none([r["steps_to_target"] for r in runs]),
            "per_seed": [{k: r[k] for k in ("seed", "wall_s", "final_return", "model_return",
                                            "steps_to_target")} for r in runs],
        }
        s = summary[name]
        table.add_row(name, f"{wall:.1f}", f"{s['steps_per_s']:.0f}",
                      f"{s['median_final']:.1f}, {s['min_final']:.1f}",
                      f"{s['model_return']:.1f}", str(s["steps_to_target"]))
    console.print(table)
    ours, theirs = summary["rlsuite"], summary["sb3"]
    figures: dict[str, Any] = {
        "env": env,
        "ratio_wall_vs_sb3": ours["wall_s"] / theirs["wall_s"],
        "rlsuite_return": ours["return"],
        "sb3_return": theirs["return"],
        "rlsuite_median_final_return": ours["median_final"],
        "sb3_median_final_return": theirs["median_final"],
        "rlsuite_min_final_return": ours["min_final"],
        "sb3_min_final_return": theirs["min_final"],
        "rlsuite_model_return": ours["model_return"],
        "sb3_model_return": theirs["model_return"],
        "target_return": task.target,
        "rlsuite_steps_to_target": ours["steps_to_target"],
        "sb3_steps_to_target": theirs["steps_to_target"],
    }
    if task.target == 500.0:
        figures["rlsuite_steps_to_500"] = ours["steps_to_target"]
        figures["sb3_steps_to_500"] = theirs["steps_to_target"]
    figures.update({
        "rlsuite_steps_per_s": ours["steps_per_s"],
        "sb3_steps_per_s": theirs["steps_per_s"],
        "steps": steps,
        "seeds": seeds,
        "per_seed": {name: summary[name]["per_seed"] for name in summary},
    })
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", choices=sorted(TASKS), default="CartPole-v1")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--steps", type=int, default=None,
                        help="env steps per run (default: rl-zoo's budget for the env)")
    parser.add_argument("--eval-every", type=int, default=2_500)
    parser.add_argument("--eval-episodes", type=int, default=10)
    parser.add_argument("--final-episodes", type=int, default=20)
    parser.add_argument("--merge", type=Path, nargs="+", metavar="OUTPUT",
                        help="train nothing: report the seeds of earlier runs together (their "
                             "printed output, e.g. two halves of the seeds run at once)")
    args = parser.parse_args()
    console = Console(stderr=True)
    if args.merge:
        env, steps, results = merged_runs(args.merge)
    else:
        env, steps = args.env, args.steps or TASKS[args.env].steps
        results = train_seeds(args, TASKS[env], steps, console)
    print(json.dumps(report(env, steps, results, console)))


if __name__ == "__main__":
    main()
