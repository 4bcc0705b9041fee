"""PPO on Atari (Breakout or Pong) on a GPU, in resumable chunks, and its throughput beside SB3.

Settings are rl-baselines3-zoo's Atari PPO (hyperparams/ppo.yml, `atari`: 8 envs x 128 steps,
4 epochs of 256-sample minibatches, lr and clip range decaying linearly from 2.5e-4 and 0.1,
entropy 0.01, 1e7 steps), kept in the `[ppo."ALE/<Game>-v5"]` presets, on rlsuite's
`make_atari` (ale-py's threaded vector env, DQN protocol: life loss ends a training episode,
rewards clipped; episode returns are logged as raw game scores).

    python scripts/recipes/ppo_atari.py chunk --game Breakout      # start, then resume, a run
    python scripts/recipes/ppo_atari.py status --game Breakout     # steps done, recent returns
    python scripts/recipes/ppo_atari.py sps --game Breakout        # env steps/s beside SB3 PPO

`chunk` trains for `--minutes` of wall time, checkpoints and exits; the next call resumes the
same run (Atari envs restart from a reset on resume: ALE states are not snapshotted). Extra
trainer flags after `--` apply to a new run, e.g. a CPU smoke test:
`chunk --device cpu --minutes 1 -- --total-steps 2048 --num-envs 2 --num-steps 32`.
`sps` times both libraries on the same device after their first update (so start-up and
cuDNN autotuning are left out), with the same settings, both on ale-py's C++ emulator vector
(SB3 through a small VecEnv adapter, as SB3's AtariWrapper needs OpenCV, absent here). The
last line of every command is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from rlsuite.agents.pg import UpdateReport, train
from rlsuite.cli.train import parse_config

DEFAULT_RUNS = Path("runs/ppo_atari")


def env_id(game: str) -> str:
    return f"ALE/{game}-v5"


def find_run(runs: Path) -> Path | None:
    found = sorted(p.parent for p in runs.glob("*/config.json"))
    if len(found) > 1:
        raise SystemExit(f"{runs} holds several runs {found}; pass --runs for one of them")
    return found[0] if found else None


def chunk(args: argparse.Namespace, extra: list[str]) -> dict[str, Any]:
    run = find_run(args.runs)
    if run is None:
        argv = ["--env", env_id(args.game), "--device", args.device, "--run-root",
                str(args.runs), "--backends", "csv", "tensorboard", *extra]
    elif extra:
        raise SystemExit(f"{run} exists: trainer flags apply to new runs only ({extra})")
    else:
        argv = ["--resume", str(run)]
    config = parse_config("ppo", argv)
    deadline = time.perf_counter() + 60 * args.minutes
    seen: dict[str, float] = {}

    def stop_in_time(report: UpdateReport) -> bool:
        seen.setdefault("first_step", report.global_step)
        seen.setdefault("first_time", time.perf_counter())
        seen["step"], seen["time"] = report.global_step, time.perf_counter()
        return time.perf_counter() > deadline

    run_dir = train(config, callback=stop_in_time)
    result = status(run_dir)
    if seen.get("step", 0) > seen.get("first_step", 0):
        result["chunk_steps_per_s"] = (seen["step"] - seen["first_step"]) / (
            seen["time"] - seen["first_time"])
    return result


def status(run: Path) -> dict[str, Any]:
    returns: list[tuple[int, float]] = []
    steps = 0
    with (run / "metrics.csv").open() as f:
        for row in csv.DictReader(f):
            steps = max(steps, int(row["step"]))
            if row["tag"] == "charts/episode_return":
                returns.append((int(row["step"]), float(row["value"])))
    config = json.loads((run / "config.json").read_text())
    recent = [r for _, r in returns[-20:]]
    return {
        "run": str(run),
        "env": config["env"],
        "steps": steps,
        "total_steps": config["total_steps"],
        "finished": steps >= config["total_steps"] - config["num_envs"] * config["num_steps"],
        "recent_return": sum(recent) / len(recent) if recent else None,
    }


def rlsuite_sps(game: str, steps: int, device: str, num_envs: int | None) -> float:
    """Env steps/s of rlsuite PPO with the preset, timed from the end of its first update."""
    marks: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory() as root:
        argv = ["--env", env_id(game), "--device", device, "--total-steps", str(steps),
                "--run-root", root, "--backends", "csv", "--checkpoint-every", str(steps),
                "--eval-episodes", "0"]
        if num_envs is not None:
            argv += ["--num-envs", str(num_envs)]
        config = parse_config("ppo", argv)
        train(config, callback=lambda r: marks.append((r.global_step, time.perf_counter())))
    (s0, t0), (s1, t1) = marks[0], marks[-1]
    return (s1 - s0) / (t1 - t0)


def sb3_native_atari(game: str, num_envs: int, seed: int) -> Any:
    """An SB3 `VecEnv` on ale-py's C++ vector env with SB3's Atari preprocessing (84x84 gray,
    4-frame stack, frame skip 4, NOOP/FIRE reset, life loss as terminal, clipped rewards).

    SB3's own `AtariWrapper` needs OpenCV, which this environment does not ship, and this puts
    both libraries on the same emulator core, so `sps` compares learners, not env stacks.
    """
    import numpy as np
    from ale_py.vector_env import AtariVectorEnv
    from gymnasium import spaces
    from gymnasium.vector import AutoresetMode
    from stable_baselines3.common.vec_env import VecEnv

    from rlsuite.envs.atari import resolve_game

    class NativeAtari(VecEnv):
        def __init__(self) -> None:
            self.ale = AtariVectorEnv(resolve_game(game), num_envs,
                                      autoreset_mode=AutoresetMode.SAME_STEP, episodic_life=True,
                                      reward_clipping=True, use_fire_reset=True, noop_max=30)
            super().__init__(num_envs, spaces.Box(0, 255, (4, 84, 84), np.uint8),
                             spaces.Discrete(len(self.ale.ale.get_action_set())))
            self.actions = np.zeros(num_envs, np.int64)

        def reset(self) -> Any:
            return self.ale.reset(seed=seed)[0]

        def step_async(self, actions: Any) -> None:
            self.actions = actions

        def step_wait(self) -> Any:
            obs, reward, terminated, truncated, info = self.ale.step(self.actions)
            dones = terminated | truncated
            infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = info["final_obs"][i]
                infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
            return obs, reward.astype(np.float32), dones, infos

        def close(self) -> None:
            self.ale.close()

        def get_attr(self, attr_name: str, indices: Any = None) -> list[Any]:
            return [getattr(self, attr_name, None)] * num_envs

        def set_attr(self, attr_name: str, value: Any, indices: Any = None) -> None:
            setattr(self, attr_name, value)

        def env_method(self, method_name: str, *args: Any, indices: Any = None,
                       **kwargs: Any) -> list[Any]:
            raise NotImplementedError(f"{method_name}: sub-envs live in C++")

        def env_is_wrapped(self, wrapper_class: Any, indices: Any = None) -> list[bool]:
            return [False] * num_envs

    return NativeAtari()


def sb3_sps(game: str, steps: int, device: str) -> float:
    """Env steps/s of SB3 PPO with rl-zoo's Atari settings (8 envs), timed from the end of its
    first rollout-and-update, like `rlsuite_sps`."""
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback

    env = sb3_native_atari(game, num_envs=8, seed=0)
    marks: list[tuple[int, float]] = []

    class Clock(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_start(self) -> None:  # i.e. after the previous update
            marks.append((self.num_timesteps, time.perf_counter()))

    model = PPO("CnnPolicy", env, n_steps=128, n_epochs=4, batch_size=256,
                learning_rate=lambda f: 2.5e-4 * f, clip_range=lambda f: 0.1 * f, vf_coef=0.5,
                ent_coef=0.01, device=device, seed=0, verbose=0)
    model.learn(total_timesteps=steps, callback=Clock())
    marks.append((model.num_timesteps, time.perf_counter()))
    env.close()
    (s0, t0), (s1, t1) = marks[1], marks[-1]  # marks[0] is before any update
    return (s1 - s0) / (t1 - t0)


def main(argv: list[str]) -> int:
    extra: list[str] = []
    if "--" in argv:
        argv, extra = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["chunk", "status", "sps"])
    parser.add_argument("--game", default="Breakout", choices=["Breakout", "Pong"])
    parser.add_argument("--runs", type=Path, default=None,
                        help="parent of the run dir (default runs/ppo_atari/<game>)")
    parser.add_argument("--minutes", type=float, default=7.0, help="training time per chunk")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--sps-steps", type=int, default=40_960)
    parser.add_argument("--sps-num-envs", type=int, nargs="*", default=[32],
                        help="extra rlsuite runs with more envs (same update settings)")
    args = parser.parse_args(argv)
    args.runs = args.runs or DEFAULT_RUNS / args.game
    torch.set_num_threads(1)
    if args.command == "chunk":
        result = chunk(args, extra)
    elif args.command == "status":
        run = find_run(args.runs)
        if run is None:
            raise SystemExit(f"no run under {args.runs}: start one with `chunk`")
        result = status(run)
    else:
        sb3 = sb3_sps(args.game, args.sps_steps, args.device)
        ours = rlsuite_sps(args.game, args.sps_steps, args.device, None)
        result = {
            "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu",
            "game": args.game,
            "sb3_sps": sb3,
            "rlsuite_sps": ours,
            "ratio_vs_sb3": ours / sb3,
        }
        for n in args.sps_num_envs:
            result[f"rlsuite_sps_{n}_envs"] = rlsuite_sps(args.game, args.sps_steps,
                                                          args.device, n)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
