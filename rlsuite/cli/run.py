"""`make run` / `rlsuite run`: the suite's main job on embedded defaults, headless.

It trains an agent and evaluates it, then lets the arena rate players on both board games:

1. PPO on CartPole-v1 (rl-zoo settings) until its rollouts average 475, then 10 greedy
   evaluation episodes from the saved checkpoint;
2. a round robin on 5x5 Go between random, greedy, GnuGo (when installed) and the shipped
   AlphaZero agent (`az:zoo/go-5x5`), with Elo ratings and their bounds as a table and a PNG;
3. a chip-placement leaderboard (random, greedy wire-mask, simulated annealing) on the MCNC
   apte netlist when the shared data is present, else on a synthetic netlist.

Everything lands under `--out` (default runs/main): the PPO run directory, the league.
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
    """games per pairing in the Go round robin (colours alternate)"""
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


def go_round_robin(config: MainJobConfig) -> int:
    from rlsuite.cli.arena import main as arena

    players = ["random", "greedy"]
    if shutil.which("gnugo") or Path("/usr/games/gnugo").exists():
        players.append("gnugo:1")
    if config.go_board_size == 5:
        players.append(f"az:zoo/go-5x5@{ZOO_SIMULATIONS}")  # the shipped AlphaZero agent
    return arena(
        [
            "--game", "go",
            "--board-size", str(config.go_board_size),
            "--komi", "0.5",
            "--players", *players,
            "--games", str(config.go_games),
            "--league", str(config.out / "league"),
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
    console.rule("1/3  PPO on CartPole-v1")
    train_and_evaluate_ppo(config, console)
    console.rule(f"2/3  Go {config.go_board_size}x{config.go_board_size} round robin")
    status = go_round_robin(config)
    console.rule("3/3  chip placement leaderboard")
    status = status or chip_leaderboard(config)
    console.print(f"done: results under {config.out}")
    return status
