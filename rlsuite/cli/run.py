"""`make run` / `rlsuite run`: the suite's main job on embedded defaults, headless.

It trains agents and evaluates them, then lets the arena rate players on both board games:

1. PPO on CartPole-v1 (rl-zoo settings) until its rollouts average 475, then 10 greedy
   evaluation episodes from the saved checkpoint;
2. AlphaZero self-play on 5x5 Go for `--az-minutes` (a short run from scratch: what the
   trainer's console, TensorBoard logs and checkpoints look like);
3. a round robin on 5x5 Go between random, greedy, GnuGo (when installed), that fresh
   AlphaZero run and the shipped agent (`az:zoo/go-5x5`), with Elo ratings and their bounds as
   a table and a PNG;
4. the shipped 7x7 agent (`az:zoo/go-7x7`) against greedy and GnuGo on 7x7;
5. a chip-placement leaderboard (random, greedy wire-mask, simulated annealing) on the MCNC
   apte netlist when the shared data is present, else on a synthetic netlist.

Everything lands under `--out` (default runs/main): the PPO and AlphaZero run directories,
the leagues.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
from rich.console import Console

from rlsuite.cli.parsing import parse


@dataclass(kw_only=True)
class MainJobConfig:
    """Options of `rlsuite run`."""

    out: Path = Path("runs/main")
    """where the PPO run and the league go"""
    ppo_steps: int = 100_000
    """PPO env-step budget; training stops earlier once rollouts average `target_return`"""
    target_return: float = 475.0
    eval_episodes: int = 10
    go_board_size: int = 5
    go_games: int = 4
    """games per pairing in the Go round robins (colours alternate)"""
    az_minutes: float = 2.0
    """minutes of the short AlphaZero self-play run on 5x5 (0 skips it)"""
    seed: int = 0


def train_and_evaluate_ppo(config: MainJobConfig, console: Console) -> float:
    """Train PPO on CartPole-v1 up to the target, reload it from disk and evaluate it."""
    from rlsuite.agents.pg import UpdateReport, load_agent, train
    from rlsuite.cli.train import parse_config

    ppo = parse_config("ppo", ["--env", "CartPole-v1", "--total-steps", str(config.ppo_steps),
                               "--seed", str(config.seed), "--run-root", str(config.out),
                               "--backends", "tensorboard", "csv"])

    def reached_target(report: UpdateReport) -> bool:
        returns = report.episodes.returns
        return len(returns) > 0 and float(np.mean(returns)) >= config.target_return

    run_dir = train(ppo, callback=reached_target)
    agent = load_agent(run_dir)
    env = gym.make("CartPole-v1")
    returns = []
    for episode in range(config.eval_episodes):
        obs, _ = env.reset(seed=10_000 + config.seed * 1000 + episode)
        total, done = 0.0, False
        while not done:
            action = int(agent.act(obs[None])[0])
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    mean = float(np.mean(returns))
    console.print(
        f"PPO CartPole-v1: evaluation return {mean:.1f} +/- {np.std(returns):.1f} "
        f"over {len(returns)} episodes (run: {run_dir})"
    )
    return mean


ZOO_SIMULATIONS = 64
"""searches per move for the shipped agent in the main job: a fraction of a second a move"""


def train_alphazero(config: MainJobConfig) -> Path:
    """A short AlphaZero run on the round robin's board from scratch; returns its run
    directory."""
    from rlsuite.agents.alphazero.trainer import train
    from rlsuite.cli.train import parse_config

    az = parse_config("alphazero", ["--board-size", str(config.go_board_size),
                                    "--max-minutes", str(config.az_minutes),
                                    "--seed", str(config.seed), "--run-root", str(config.out),
                                    "--backends", "tensorboard", "csv"])
    return train(az)


def has_gnugo() -> bool:
    return bool(shutil.which("gnugo")) or Path("/usr/games/gnugo").exists()


def go_round_robin(config: MainJobConfig, size: int, komi: float, agents: list[str],
                   league: str) -> int:
    """random, greedy, GnuGo level 1 (when installed) and `agents` on `size` x `size`."""
    from rlsuite.cli.arena import main as arena

    players = ["random", "greedy", *(["gnugo:1"] if has_gnugo() else []), *agents]
    return arena(
        [
            "--game", "go",
            "--board-size", str(size),
            "--komi", str(komi),
            "--players", *players,
            "--games", str(config.go_games),
            "--league", str(config.out / league),
            "--bootstrap", "200",
        ]
    )  # fmt: skip


def chip_leaderboard(config: MainJobConfig) -> int:
    from rlsuite.cli.arena import main as arena
    from rlsuite.envs.chip.loader import data_dir

    args = ["--game", "chip", "--players", "random", "greedy", "sa", "--games", "1"]
    apte = data_dir() / "mcnc_apte" / "apte.aux"
    if apte.exists():
        args += ["--netlist", str(apte)]
    return arena([*args, "--league", str(config.out / "league"), "--seed", str(config.seed)])


def main(argv: Sequence[str] | None = None) -> int:
    config = parse(MainJobConfig, list(sys.argv[1:] if argv is None else argv), prog="rlsuite run")
    console = Console()
    console.rule("1/5  PPO on CartPole-v1")
    train_and_evaluate_ppo(config, console)
    size = config.go_board_size
    agents = [f"az:zoo/go-5x5@{ZOO_SIMULATIONS}"] if size == 5 else []  # the shipped agent
    if config.az_minutes > 0:
        console.rule(f"2/5  AlphaZero self-play on {size}x{size} for {config.az_minutes:g} minutes")
        agents.insert(0, f"az:{train_alphazero(config)}@{ZOO_SIMULATIONS}")
    console.rule(f"3/5  Go {size}x{size} round robin")
    status = go_round_robin(config, size, 0.5, agents, "league")
    console.rule("4/5  the shipped 7x7 agent against GnuGo")
    status = status or go_round_robin(config, 7, 8.5, [f"az:zoo/go-7x7@{ZOO_SIMULATIONS}"],
                                      "league-7x7")
    console.rule("5/5  chip placement leaderboard")
    status = status or chip_leaderboard(config)
    console.print(f"done: results under {config.out}")
    return status
