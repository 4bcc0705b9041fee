"""Pong with Rainbow-lite DQN on a GPU, in resumable chunks of a few minutes.

Each `chunk` call trains for `--minutes` of wall time (default 7: with start-up, replay loading
and the final checkpoint a chunk stays under 9 minutes), checkpoints everything (networks,
optimizer, counters, RNG, replay) and exits; the next call resumes the same run. Repeat until
`status` says finished (2M agent steps with the `[dqn."ALE/Pong-v5"]` preset).

    python scripts/recipes/pong_dqn.py chunk            # start, then resume, the run
    python scripts/recipes/pong_dqn.py status           # steps done, last evaluation
    python scripts/recipes/pong_dqn.py plot             # RUN/returns.png: return curve
    python scripts/recipes/pong_dqn.py sps              # steps/s beside SB3 DQN, same device

`chunk` takes extra trainer flags after `--` for a new run (e.g. a CPU smoke test:
`chunk --device cpu --minutes 1 -- --total-steps 600 --learning-starts 200 --buffer-size 4000`).
The last line of every command is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import torch

from rlsuite.agents.dqn import train
from rlsuite.cli.train import parse_config

ENV = "ALE/Pong-v5"
DEFAULT_RUNS = Path("runs/pong_dqn")
# rl-baselines3-zoo's Atari DQN settings (hyperparams/dqn.yml, atari), except learning_starts,
# which only delays when timing begins here.
SB3_ZOO_ATARI = dict(
    buffer_size=10_000,
    learning_rate=1e-4,
    batch_size=32,
    target_update_interval=1_000,
    train_freq=4,
    gradient_steps=1,
    exploration_fraction=0.1,
    exploration_final_eps=0.01,
    optimize_memory_usage=False,
)


def find_run(runs: Path) -> Path | None:
    found = sorted(p.parent for p in runs.glob("*/config.json"))
    if len(found) > 1:
        raise SystemExit(f"{runs} holds several runs {found}; pass --runs for one of them")
    return found[0] if found else None


def status(run: Path) -> dict[str, Any]:
    path = run / "status.json"
    return {"run": str(run), **(json.loads(path.read_text()) if path.exists() else {})}


def chunk(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    run = find_run(args.runs)
    control = ["--max-minutes", str(args.minutes), "--device", args.device]
    if run is None:
        argv = ["--env", ENV, "--run-root", str(args.runs), "--run-name", "pong", *extra]
    elif extra:
        raise SystemExit(f"{run} exists: trainer flags apply to new runs only ({extra})")
    else:
        argv = ["--resume", str(run)]
    start = status(run).get("env_steps", 0) if run is not None else 0
    tic = time.perf_counter()
    result = status(train(parse_config("dqn", [*argv, *control])))
    result["chunk_steps_per_s"] = (result["env_steps"] - start) / (time.perf_counter() - tic)
    return result


def read_curves(run: Path) -> dict[str, list[tuple[int, float]]]:
    curves: dict[str, list[tuple[int, float]]] = {}
    with (run / "metrics.csv").open() as f:
        for row in csv.DictReader(f):
            if row["tag"] in ("charts/episode_return", "eval/return_mean", "charts/sps"):
                curves.setdefault(row["tag"], []).append((int(row["step"]), float(row["value"])))
    return curves


def plot(run: Path) -> dict[str, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = read_curves(run)
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for tag, label in (("charts/episode_return", "training games"), ("eval/return_mean", "eval")):
        if tag in curves:
            steps, values = zip(*sorted(curves[tag]), strict=True)
            ax.plot(steps, values, label=label, marker="o" if tag.startswith("eval") else None)
    ax.axhline(20, color="grey", linestyle=":", label="target 20")
    ax.set(xlabel="agent steps", ylabel="Pong score (raw)", title=f"DQN on {ENV}: {run.name}")
    ax.legend()
    fig.tight_layout()
    out = run / "returns.png"
    fig.savefig(out, dpi=120)
    evals = curves.get("eval/return_mean", [])
    reached = next((s for s, r in sorted(evals) if r >= 20), None)
    return {"png": str(out), "last_eval": evals[-1] if evals else None, "steps_to_20": reached}


def sb3_vec_env(seed: int) -> Any:
    """One `make_atari` game as an SB3 VecEnv, so both libraries step the same emulator under
    the same protocol (SB3's own AtariWrapper needs OpenCV, which this project does not ship).
    make_atari resets on the step after a done; SB3 wants the reset observation at once, with
    the final one in `infos[0]["terminal_observation"]`, so that extra step happens here."""
    import numpy as np
    from stable_baselines3.common.vec_env import VecEnv

    from rlsuite.envs.atari import make_atari

    class AtariSB3(VecEnv):
        def __init__(self) -> None:
            self.atari = make_atari(ENV, num_envs=1, seed=seed)
            super().__init__(1, self.atari.single_observation_space,
                             self.atari.single_action_space)  # fmt: skip
            self.actions = np.zeros(1, dtype=np.int64)

        def reset(self) -> np.ndarray:
            return self.atari.reset()[0]

        def step_async(self, actions: np.ndarray) -> None:
            self.actions = np.asarray(actions, dtype=np.int64).reshape(1)

        def step_wait(self) -> Any:
            obs, reward, terminated, truncated, _ = self.atari.step(self.actions)
            info: dict[str, Any] = {"TimeLimit.truncated": bool(truncated[0] and not terminated[0])}
            done = terminated | truncated
            if done[0]:
                info["terminal_observation"] = obs[0]
                obs = self.atari.step(np.zeros(1, dtype=np.int64))[0]
            return obs, reward, done, [info]

        def close(self) -> None:
            self.atari.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self.atari, attr_name)]

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self.atari, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None, **kw: Any) -> Any:
            return [getattr(self.atari, method_name)(*args, **kw)]

        def env_is_wrapped(self, wrapper_class: type, indices: Any = None) -> list[bool]:
            return [False]

    return AtariSB3()


def sb3_sps(steps: int, learning_starts: int, device: str) -> float:
    """SB3 DQN steps/s on Pong (1 env, rl-zoo Atari settings), timed after learning starts."""
    from stable_baselines3 import DQN
    from stable_baselines3.common.callbacks import BaseCallback

    class Clock(BaseCallback):
        start = 0.0

        def _on_step(self) -> bool:
            if self.num_timesteps == learning_starts:
                self.start = time.perf_counter()
            return True

    clock = Clock()
    model = DQN("CnnPolicy", sb3_vec_env(0), learning_starts=learning_starts, device=device,
                seed=0, **SB3_ZOO_ATARI)  # type: ignore[arg-type]  # fmt: skip
    model.learn(total_timesteps=learning_starts + steps, callback=clock)
    return steps / (time.perf_counter() - clock.start)


def rlsuite_sps(steps: int, learning_starts: int, device: str, num_envs: int | None) -> float:
    """rlsuite DQN steps/s on Pong with the preset once learning runs: the difference of a run
    of `learning_starts + steps` and one of `learning_starts` steps (training time only).
    `num_envs=1` keeps the preset's updates per agent step (train every 4 steps, as SB3)."""
    import tempfile

    preset = parse_config("dqn", ["--env", ENV])
    shape = []
    if num_envs is not None and num_envs != preset.num_envs:
        per_step = preset.gradient_steps / (preset.train_every * preset.num_envs)
        shape = ["--num-envs", str(num_envs), "--gradient-steps", "1",
                 "--train-every", str(round(1 / (per_step * num_envs)))]  # fmt: skip

    def train_seconds(total: int) -> float:
        argv = ["--env", ENV, "--device", device, *shape,
                "--total-steps", str(total), "--learning-starts", str(learning_starts),
                "--eval-episodes", "0", "--no-checkpoint-replay", "--backends", "csv",
                "--run-root", tempfile.mkdtemp(prefix="pong-sps-")]  # fmt: skip
        run_dir = train(parse_config("dqn", argv))
        return float(json.loads((run_dir / "status.json").read_text())["wall_seconds"])

    return steps / (train_seconds(learning_starts + steps) - train_seconds(learning_starts))


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["chunk", "status", "plot", "sps"])
    parser.add_argument("--runs", type=Path, default=DEFAULT_RUNS, help="parent of the run dir")
    parser.add_argument("--minutes", type=float, default=7.0, help="training time per chunk")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sps-steps", type=int, default=20_000)
    parser.add_argument("--sps-learning-starts", type=int, default=2_000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.command == "chunk":
        result = chunk(args, extra)
    else:
        run = find_run(args.runs)
        if run is None and args.command != "sps":
            raise SystemExit(f"no run under {args.runs}: start one with `chunk`")
        if args.command == "status":
            result = status(run)  # type: ignore[arg-type]
        elif args.command == "plot":
            result = plot(run)  # type: ignore[arg-type]
        else:
            n, start = args.sps_steps, args.sps_learning_starts
            sb3 = sb3_sps(n, start, args.device)
            ours_1 = rlsuite_sps(n, start, args.device, num_envs=1)
            ours = rlsuite_sps(n, start, args.device, num_envs=None)
            result = {
                "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
                "sb3_sps": sb3,
                "rlsuite_sps_1_env": ours_1,
                "rlsuite_sps": ours,
                "ratio_vs_sb3": ours / sb3,
            }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
