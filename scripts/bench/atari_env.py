"""Atari environment benchmark: make_atari against envpool, and replay memory per transition.

In one process, on the same cores and under the same protocol (DQN training: frame skip 4 with
max-pooling, 84x84 grayscale, stack of 4, up to 30 NOOP starts, FIRE reset, life loss as
terminal, clipped rewards, 27k-step cap), it times uniform-random play in

- rlsuite's `make_atari` (ale-py's native vector env plus rlsuite's wrapper),
- ale-py's bare `AtariVectorEnv` (to show what the wrapper costs),
- envpool (bench-only: `pip install envpool==1.2.5`; reported unavailable when missing),

alternating them over several rounds (the machine is shared: medians are reported). Then it
fills a `FrameReplay` from make_atari and reports its bytes per transition (1M-transition
buffer, prioritized, 3-step: allocated lazily, pages are not touched), add and sample times,
and SB3's stacked-observation layout for comparison. The last line is one JSON object with
`ratio_vs_envpool` (make_atari steps/s over envpool's; null without envpool) and
`bytes_per_transition`.

    .venv/bin/python scripts/bench/atari_env.py [--game Pong] [--num-envs 8] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

from rlsuite.envs.atari import make_atari
from rlsuite.envs.atari.env import PROTOCOLS, STACK
from rlsuite.envs.atari.games import pascal_name
from rlsuite.frame_replay import FrameReplay

TARGET_BYTES = 7.5 * 1024


def make_envs(game: str, num_envs: int, threads: int) -> tuple[dict[str, Any], dict[str, str]]:
    """Each contestant as an object with reset() and step(actions), under the dqn protocol."""
    from ale_py.vector_env import AtariVectorEnv

    dqn = PROTOCOLS["dqn"]
    ours = make_atari(game, num_envs=num_envs, protocol="dqn", seed=0, num_threads=threads)
    envs: dict[str, Any] = {"rlsuite make_atari": ours}
    envs["ale-py AtariVectorEnv"] = AtariVectorEnv(
        ours.game,
        num_envs,
        num_threads=threads,
        noop_max=dqn.noop_max + 1,
        life_loss_info=True,
        reward_clipping=True,
    )
    missing: dict[str, str] = {}
    try:
        import envpool

        envs["envpool"] = envpool.make(
            f"{pascal_name(ours.game)}-v5",
            env_type="gymnasium",
            num_envs=num_envs,
            batch_size=num_envs,
            num_threads=threads,
            seed=0,
            episodic_life=True,
            reward_clip=True,
            noop_max=dqn.noop_max,
            use_fire_reset=dqn.fire_reset,
            repeat_action_probability=dqn.repeat_action_probability,
            full_action_space=dqn.full_action_space,
            max_episode_steps=dqn.max_episode_frames // 4,
            stack_num=STACK,
        )
    except Exception as e:  # ImportError, or a wheel that does not load here
        missing["envpool"] = f"{type(e).__name__}: {e}"
    return envs, missing


def steps_per_s(env: Any, actions: np.ndarray) -> float:
    env.reset(seed=0) if not hasattr(env, "config") else env.reset()
    for a in actions[:50]:  # warm up threads and caches
        env.step(a)
    start = time.perf_counter()
    for a in actions:
        env.step(a)
    return actions.size / (time.perf_counter() - start)


def time_env(envs: dict[str, Any], steps: int, rounds: int, num_envs: int) -> dict[str, list]:
    # All contestants play the game's minimal action set.
    num_actions = envs["rlsuite make_atari"].num_actions
    rng = np.random.default_rng(0)
    actions = rng.integers(0, num_actions, size=(steps, num_envs), dtype=np.int32)
    rates: dict[str, list] = {name: [] for name in envs}
    names = list(envs)
    for r in range(rounds):  # alternate the order so no one always runs on a warmer machine
        for name in names if r % 2 == 0 else names[::-1]:
            rates[name].append(steps_per_s(envs[name], actions))
    return rates


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def replay_figures(game: str, num_envs: int, threads: int) -> dict[str, float]:
    """Bytes per transition of a 1M buffer; add/sample times on a buffer filled by make_atari."""
    big = FrameReplay(1_000_000, num_envs, n_step=3, prioritized=True)
    figures = {"bytes_per_transition": big.bytes_per_transition, "replay_1m_gb": big.nbytes / 1e9}
    del big
    env = make_atari(game, num_envs=num_envs, seed=1, num_threads=threads)
    replay = FrameReplay(50_000, num_envs, n_step=3, prioritized=True)
    obs, _ = env.reset()
    replay.start(obs)
    rng = np.random.default_rng(0)
    add_times = []
    for _ in range(1500):
        action = rng.integers(0, env.num_actions, size=num_envs)
        obs, reward, terminated, truncated, _ = env.step(action)
        start = time.perf_counter()
        replay.add(action, reward, terminated, truncated, obs)
        add_times.append(time.perf_counter() - start)
    env.close()
    figures["replay_add_us"] = statistics.median(add_times) * 1e6
    figures["replay_sample32_us"] = best_time(lambda: replay.sample(32, rng), 200) * 1e6
    batch = replay.sample(32, rng)
    figures["replay_update32_us"] = (
        best_time(lambda: replay.update_priorities(batch.index, rng.random(32)), 200) * 1e6
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--game", default="Pong")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=1000, help="vector steps per timing")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    console = Console()

    envs, missing = make_envs(args.game, args.num_envs, args.threads)
    rates = time_env(envs, args.steps, args.rounds, args.num_envs)
    table = Table(title=f"{args.game}, {args.num_envs} envs, {args.threads} threads, dqn protocol")
    for col in ("env", "median steps/s", "best steps/s", "rounds"):
        table.add_column(col, justify="right")
    for name, values in rates.items():
        table.add_row(name, f"{statistics.median(values):,.0f}", f"{max(values):,.0f}",
                      " ".join(f"{v:,.0f}" for v in values))
    for name, reason in missing.items():
        table.add_row(name, "unavailable", "", reason[:60])
    console.print(table)

    ours = statistics.median(rates["rlsuite make_atari"])
    envpool = statistics.median(rates["envpool"]) if "envpool" in rates else None
    replay = replay_figures(args.game, args.num_envs, args.threads)
    sb3 = 2 * STACK * 84 * 84  # obs and next_obs stacks per transition
    console.print(
        f"FrameReplay: {replay['bytes_per_transition']:,.0f} B/transition "
        f"(target <= {TARGET_BYTES:,.0f}); 1M transitions = {replay['replay_1m_gb']:.2f} GB; "
        f"SB3 layout {sb3:,} B = {sb3 * 1e6 / 1e9:.1f} GB ({sb3 // 2 * 1e6 / 1e9:.1f} GB with "
        f"optimize_memory_usage); add {replay['replay_add_us']:.0f} us/vector step, "
        f"sample(32) {replay['replay_sample32_us']:.0f} us, "
        f"update_priorities(32) {replay['replay_update32_us']:.0f} us"
    )
    result = {
        "ratio_vs_envpool": None if envpool is None else round(ours / envpool, 3),
        "bytes_per_transition": round(replay["bytes_per_transition"], 1),
        "rlsuite_steps_per_s": round(ours),
        "envpool_steps_per_s": None if envpool is None else round(envpool),
        "ale_native_steps_per_s": round(statistics.median(rates["ale-py AtariVectorEnv"])),
        "envpool_unavailable": missing.get("envpool"),
        "game": args.game,
        "num_envs": args.num_envs,
        "threads": args.threads,
        "replay_1m_gb": round(replay["replay_1m_gb"], 2),
        "sb3_bytes_per_transition": sb3,
        "replay_add_us": round(replay["replay_add_us"], 1),
        "replay_sample32_us": round(replay["replay_sample32_us"], 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
