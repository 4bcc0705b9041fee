"""Go rules benchmark: rlsuite's compiled engine against OpenSpiel, side by side in one process.

Uniformly random playouts (komi 7.5, games to the end: two passes or the 2 * N * N move cap,
which is also OpenSpiel's `max_game_length`), counted in moves per second:

- OpenSpiel: ``state.apply_action(rng.choice(state.legal_actions()))`` on one state;
- rlsuite single state: ``game.legal_mask`` + a random pick + ``game.next_state`` (a copy);
- rlsuite batched: ``game.random_actions`` + ``game.next_states(..., inplace=True)`` over B
  games at once, finished games replaced by fresh ones (the playout / self-play pattern:
  like OpenSpiel's ``apply_action``, it advances games in place);
- rlsuite batched, copying: the same with ``next_states`` returning a new batch each step
  (what MCTS pays when it keeps every node's state); reported, not a target;
- rlsuite batched via masks: ``game.legal_masks`` + a numpy pick + copying ``next_states``
  (the full MCTS expansion path); reported, not a target.

Env stepping with observation planes, in steps per second, one step being the agent's random
legal move, the random opponent's reply and a fresh observation and mask:

- rlsuite: ``gymnasium.make("rlsuite/Go-v0", opponent="random")`` (17 uint8 planes);
- OpenSpiel: two ``apply_action`` calls, then ``observation_tensor()`` as a float32 array
  and ``legal_actions_mask()`` (its 4-plane tensor: less to compute than 17 planes).

rlsuite runs positional superko (OpenSpiel does not check it for legal moves), so it does at
least the same work. The machine is shared: contestants alternate over several rounds and
medians are reported. Targets: batched >= 2x OpenSpiel on 9x9 and 19x19, env steps >= 1.5x.
The last line is one JSON object.

    .venv/bin/python scripts/bench/go_rules.py [--seconds 1.5] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from rich.console import Console
from rich.table import Table

import rlsuite  # noqa: F401  (registers rlsuite/Go-v0)
from rlsuite.envs.go import GoGame

Counter = Callable[[float], tuple[int, float]]  # run for ~seconds -> (work units, elapsed)
BATCH = {9: 256, 19: 128}


def openspiel_playouts(n: int) -> Counter:
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": n, "komi": 7.5})
    rng = random.Random(0)

    def run(seconds: float) -> tuple[int, float]:
        moves, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            state = game.new_initial_state()
            while not state.is_terminal():
                state.apply_action(rng.choice(state.legal_actions()))
                moves += 1
        return moves, time.perf_counter() - start

    return run


def single_playouts(n: int) -> Counter:
    game = GoGame(n, 7.5)
    rng = random.Random(0)

    def run(seconds: float) -> tuple[int, float]:
        moves, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            state = game.initial_state()
            while not game.is_terminal(state):
                legal = np.flatnonzero(game.legal_mask(state))
                state = game.next_state(state, int(legal[rng.randrange(legal.size)]))
                moves += 1
        return moves, time.perf_counter() - start

    return run


def batched_playouts(n: int, *, masks: bool, inplace: bool) -> Counter:
    game = GoGame(n, 7.5)
    rng = np.random.default_rng(0)
    size = BATCH[n]
    fresh = game.initial_batch(size)

    def pick(batch) -> np.ndarray:
        if not masks:
            return game.random_actions(batch, rng)
        legal = game.legal_masks(batch)
        acts = np.argmax(rng.random(legal.shape, dtype=np.float32) * legal, axis=1)
        return np.where(game.is_terminal_batch(batch), -1, acts)

    def run(seconds: float) -> tuple[int, float]:
        batch = fresh.copy()
        moves, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            acts = pick(batch)
            moves += int((acts >= 0).sum())
            batch = game.next_states(batch, acts, inplace=inplace)
            done = np.flatnonzero(game.is_terminal_batch(batch))
            if done.size:
                batch.put(done, fresh.take(done))
        return moves, time.perf_counter() - start

    return run


def env_steps(n: int) -> Counter:
    env = gym.make("rlsuite/Go-v0", board_size=n, komi=7.5, opponent="random")
    rng = random.Random(0)

    def run(seconds: float) -> tuple[int, float]:
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            _, info = env.reset(seed=rng.randrange(2**31))
            done = False
            while not done:
                legal = np.flatnonzero(info["action_mask"])
                _, _, done, _, info = env.step(int(legal[rng.randrange(legal.size)]))
                steps += 1
        return steps, time.perf_counter() - start

    return run


def openspiel_obs_steps(n: int) -> Counter:
    import pyspiel

    game = pyspiel.load_game("go", {"board_size": n, "komi": 7.5})
    shape = game.observation_tensor_shape()
    rng = random.Random(0)

    def run(seconds: float) -> tuple[int, float]:
        steps, start = 0, time.perf_counter()
        while time.perf_counter() - start < seconds:
            state = game.new_initial_state()
            mask = np.asarray(state.legal_actions_mask(), np.bool_)
            while not state.is_terminal():
                state.apply_action(int(rng.choice(np.flatnonzero(mask))))  # the agent
                if not state.is_terminal():
                    state.apply_action(rng.choice(state.legal_actions()))  # the opponent
                obs = np.asarray(state.observation_tensor(0), np.float32).reshape(shape)
                if not state.is_terminal():
                    mask = np.asarray(state.legal_actions_mask(), np.bool_)
                steps += 1
                assert obs.shape[0] == 4
        return steps, time.perf_counter() - start

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=1.5, help="per contestant per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    contestants: dict[str, Counter] = {}
    for n in (9, 19):
        contestants[f"openspiel_moves_per_s_{n}x{n}"] = openspiel_playouts(n)
        contestants[f"rlsuite_single_moves_per_s_{n}x{n}"] = single_playouts(n)
        contestants[f"rlsuite_batched_moves_per_s_{n}x{n}"] = batched_playouts(
            n, masks=False, inplace=True
        )
        contestants[f"rlsuite_batched_copy_moves_per_s_{n}x{n}"] = batched_playouts(
            n, masks=False, inplace=False
        )
        contestants[f"rlsuite_batched_masks_moves_per_s_{n}x{n}"] = batched_playouts(
            n, masks=True, inplace=False
        )
    contestants["openspiel_obs_steps_per_s_9x9"] = openspiel_obs_steps(9)
    contestants["rlsuite_env_steps_per_s_9x9"] = env_steps(9)

    for run in contestants.values():  # compile (numba cache) and warm up outside the timing
        run(0.05)
    rates: dict[str, list[float]] = {key: [] for key in contestants}
    for _ in range(args.rounds):
        for key, run in contestants.items():
            work, elapsed = run(args.seconds)
            rates[key].append(work / elapsed)
    result: dict[str, float] = {k: round(statistics.median(v)) for k, v in rates.items()}
    for n in (9, 19):
        peer = result[f"openspiel_moves_per_s_{n}x{n}"]
        for kind in ("batched", "batched_copy", "batched_masks", "single"):
            ours = result[f"rlsuite_{kind}_moves_per_s_{n}x{n}"]
            result[f"ratio_{kind}_vs_openspiel_{n}x{n}"] = round(ours / peer, 2)
    env_ratio = result["rlsuite_env_steps_per_s_9x9"] / result["openspiel_obs_steps_per_s_9x9"]
    result["ratio_env_obs_vs_openspiel_9x9"] = round(env_ratio, 2)
    result["batch_size_9x9"], result["batch_size_19x19"] = BATCH[9], BATCH[19]
    result["rounds"] = args.rounds

    table = Table(title="Go rules: median rate over rounds (higher is better)")
    table.add_column("contestant")
    table.add_column("per second", justify="right")
    table.add_column("spread", justify="right")
    for key, values in rates.items():
        table.add_row(
            key, f"{statistics.median(values):,.0f}", f"{min(values):,.0f}-{max(values):,.0f}"
        )
    Console().print(table)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
