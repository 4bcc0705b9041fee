"""AlphaZero search and self-play speed on this CPU; the last line printed is one JSON object.

- `ratio_batched_vs_per_leaf`: simulations per second of `BatchedSearch` over 256 games against
  a one-leaf-at-a-time search in the style of alpha-zero-general (Python dicts keyed by the
  position, recursion, one network call per leaf), same network, same Go rules, from random
  openings; the headline figure is 9x9 (5x5 is reported beside it). Both get the machine's
  cores (`--threads`, default all): the batched search as that many shards of games on as
  many threads (`BatchedSearch(threads=)`), the one-leaf search as torch threads for its
  network if that is faster at batch 1 (its search is one sequential recursion and cannot use
  more). The one-thread figures are reported beside them (`*_one_thread`), and so is the
  one-leaf search with the network as alpha-zero-general itself runs it (`EagerNet`: eager
  float32 PyTorch, one thread; `*_eager`). The headline keeps the one-leaf search's fastest
  setting of our own inference engine, so that it measures batching alone. This machine's
  speed drifts by up to 2x from minute to minute, so the headline ratio is the median over
  pairs of runs taken back to back, each `--pair-seconds` long (the one-leaf search in its
  fastest setting, then the batched search; `--pairs`, `*_pairs` lists each), not a ratio of
  figures measured minutes apart.
- `ratio_selfplay_vs_pgx_mctx_5x5` / `_9x9`: self-play positions per second of our batched
  Gumbel search against pgx 2.6.0 + mctx 0.0.71 (`gumbel_muzero_policy`, jit-compiled JAX),
  both with a 3-block x 32-channel residual net with BatchNorm, 17 input planes, 32
  simulations, 256 games at once, timed over the same number of moves after random openings
  of N * N / 2 moves and a warm-up move (ours with the position cache self-play uses).
  Our self-play runs on `--threads` threads; XLA runs pgx + mctx on its own thread pool.
  Our batched search and self-play run the net in bfloat16 where the CPU has AMX (`--dtype`;
  the trainer's default); the one-leaf search is run in every setting of float32 or bfloat16
  and one or `--threads` torch threads, before the batched search, and the fastest counts
  (reported as `per_leaf_dtype_*`, `per_leaf_torch_threads_*`, and all of them).
  Needs the bench extra (`pip install -e .[bench]`); without JAX those figures are null.

Usage: `rlsuite bench mcts [--repeats 3] [--moves 8]` (run it on a quiet machine: the
figures are shares of two cores).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch

from rlsuite.agents.alphazero.network import (
    CachedEvaluator,
    InferenceNet,
    NetConfig,
    PolicyValueNet,
    inference_dtype,
)
from rlsuite.agents.alphazero.search import BatchedSearch, SearchConfig
from rlsuite.envs.go import GoGame

GAMES = 256
SIMS = 32


def training_net(game: GoGame, seed: int = 0) -> PolicyValueNet:
    """The 3x32 network every search here uses (the same weights for a seed)."""
    torch.manual_seed(seed)
    c, n, _ = game.observation_shape
    return PolicyValueNet(NetConfig(in_channels=c, board_size=n, num_actions=game.num_actions,
                                    blocks=3, channels=32)).eval()


def make_net(game: GoGame, dtype: torch.dtype, seed: int = 0) -> InferenceNet:
    return InferenceNet(training_net(game, seed), dtype=dtype)


class EagerNet:
    """The network as alpha-zero-general's `NNet.predict` runs it: the training module in
    eval mode, float32, eager PyTorch (no BatchNorm folding, tracing or fusion)."""

    def __init__(self, net: PolicyValueNet) -> None:
        self.net = net

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            logits, values = self.net(torch.from_numpy(planes).float())
        return logits.numpy(), values.numpy()


class PerLeafMCTS:
    """alpha-zero-general's MCTS (Coach/MCTS.py) on the `Game` API: dicts keyed by the
    position, a recursive descent, and the network called on one leaf at a time."""

    def __init__(self, game: GoGame, net: InferenceNet, c_puct: float = 1.5) -> None:
        self.game, self.net, self.c = game, net, c_puct
        self.q: dict[tuple[bytes, int], float] = {}
        self.n_sa: dict[tuple[bytes, int], int] = {}
        self.n_s: dict[bytes, int] = {}
        self.p: dict[bytes, np.ndarray] = {}
        self.valid: dict[bytes, np.ndarray] = {}

    def search(self, state: Any) -> float:
        game = self.game
        if game.is_terminal(state):
            return -float(game.returns(state)[game.to_play(state)])
        key = game.encode(state).tobytes()
        if key not in self.p:
            logits, value = self.net(game.encode(state)[None])
            valid = game.legal_mask(state)
            p = np.exp(logits[0] - logits[0].max()) * valid
            self.p[key], self.valid[key], self.n_s[key] = p / p.sum(), valid, 0
            return -float(value[0])
        sq = math.sqrt(self.n_s[key] + 1e-8)
        best, best_a = -math.inf, -1
        for a in np.flatnonzero(self.valid[key]).tolist():
            qa = self.q.get((key, a))
            u = (self.c * self.p[key][a] * sq if qa is None
                 else qa + self.c * self.p[key][a] * sq / (1 + self.n_sa[(key, a)]))
            if u > best:
                best, best_a = u, int(a)
        v = self.search(game.next_state(state, best_a))
        k = (key, best_a)
        n = self.n_sa.get(k, 0)
        self.q[k] = (n * self.q.get(k, 0.0) + v) / (n + 1)
        self.n_sa[k] = n + 1
        self.n_s[key] += 1
        return -v


def openings(game: GoGame, count: int, seed: int = 0) -> Any:
    """`count` positions after N * N // 2 uniformly random moves each (all different), so no
    benchmark times only the shared first moves of games started together."""
    rng = np.random.default_rng(seed)
    batch = game.initial_batch(count)
    for _ in range(game.board_size**2 // 2):
        game.next_states(batch, game.random_actions(batch, rng), inplace=True)
    done = np.flatnonzero(game.is_terminal_batch(batch))
    if done.size:
        batch.put(done, game.initial_batch(done.size))
    return batch


def per_leaf_settings(threads: int) -> list[tuple[torch.dtype, int]]:
    """(network dtype, torch threads) of the one-leaf search to measure; the bench keeps the
    fastest. One-thread settings come first, so that nothing run before them (another thread
    count, the batched search) can slow them down. bfloat16 with the oneDNN fuser can win even
    at batch 1 on AMX CPUs."""
    counts = [1] if threads == 1 else [1, threads]
    return [(dtype, count) for count in counts for dtype in (torch.float32, torch.bfloat16)]


def per_leaf_sims_per_s(game: GoGame, net: InferenceNet | EagerNet, seconds: float,
                        torch_threads: int) -> float:
    torch.set_num_threads(torch_threads)
    sims = 0
    start = time.perf_counter()
    batch = openings(game, 64)
    while time.perf_counter() - start < seconds:
        state = batch.state(sims // SIMS % 64)
        mcts = PerLeafMCTS(game, net)
        for _ in range(SIMS):
            mcts.search(state)
        sims += SIMS
    rate = sims / (time.perf_counter() - start)
    torch.set_num_threads(1)
    return rate


def selfplay_moves(game: GoGame, net: InferenceNet, moves: int, threads: int,
                   seed: int = 0) -> float:
    """Positions per second of batched Gumbel self-play over GAMES games for `moves` moves
    from random openings (finished games restart), after one warm-up move, with the position
    cache self-play uses (a new one, as after each training round)."""
    search = BatchedSearch(game, CachedEvaluator(net),
                           SearchConfig(simulations=SIMS, algorithm="gumbel"), GAMES,
                           threads=threads)
    rng = np.random.default_rng(seed)
    batch = openings(game, GAMES, seed)
    fresh = game.initial_batch(GAMES)
    start = 0.0
    for move in range(moves + 1):
        if move == 1:
            start = time.perf_counter()
        result = search.search(batch, rng.integers(2**63, size=GAMES))
        game.next_states(batch, result.action, inplace=True)
        done = np.flatnonzero(game.is_terminal_batch(batch))
        if done.size:
            batch.put(done, fresh.take(done))
    return GAMES * moves / (time.perf_counter() - start)


def batched_sims_per_s(game: GoGame, net: InferenceNet, threads: int, seconds: float) -> float:
    """Simulations per second of whole searches of GAMES games from fresh roots, repeated for
    at least `seconds` after a warm-up search."""
    search = BatchedSearch(game, net, SearchConfig(simulations=SIMS, algorithm="puct"), GAMES,
                           threads=threads)
    batch = openings(game, GAMES)
    search.search(batch, np.arange(GAMES))
    search.reset()
    evals = search.evaluations
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        search.search(batch, np.arange(GAMES))
        search.reset()
    return (search.evaluations - evals) / (time.perf_counter() - start)


def pgx_selfplay(size: int, moves: int, seed: int = 0) -> float | None:
    """Positions per second of pgx + mctx Gumbel self-play, same net shape and settings."""
    try:
        import flax.linen as nn
        import jax
        import jax.numpy as jnp
        import mctx
        from pgx.experimental import auto_reset
        from pgx.go import Go
    except ImportError:
        return None
    env = Go(size=size, komi=7.5)
    num_actions = size * size + 1

    class Block(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            y = nn.relu(nn.BatchNorm(use_running_average=True)(nn.Conv(32, (3, 3))(x)))
            y = nn.BatchNorm(use_running_average=True)(nn.Conv(32, (3, 3))(y))
            return nn.relu(x + y)

    class Net(nn.Module):
        @nn.compact
        def __call__(self, x: Any) -> Any:
            x = nn.relu(nn.BatchNorm(use_running_average=True)(nn.Conv(32, (3, 3))(x)))
            for _ in range(3):
                x = Block()(x)
            p = nn.relu(nn.BatchNorm(use_running_average=True)(nn.Conv(2, (1, 1))(x)))
            logits = nn.Dense(num_actions)(p.reshape(p.shape[0], -1))
            v = nn.relu(nn.BatchNorm(use_running_average=True)(nn.Conv(1, (1, 1))(x)))
            v = nn.relu(nn.Dense(64)(v.reshape(v.shape[0], -1)))
            return logits, jnp.tanh(nn.Dense(1)(v))[:, 0]

    net = Net()
    key = jax.random.PRNGKey(seed)
    state = jax.vmap(env.init)(jax.random.split(key, GAMES))
    variables = net.init(key, state.observation.astype(jnp.float32))

    def forward(obs: Any) -> Any:
        return net.apply(variables, obs.astype(jnp.float32))

    def recurrent_fn(params: Any, rng: Any, action: Any, state: Any) -> Any:
        player = state.current_player
        state = jax.vmap(env.step)(state, action)
        logits, value = forward(state.observation)
        logits = jnp.where(state.legal_action_mask, logits - logits.max(-1, keepdims=True),
                           jnp.finfo(logits.dtype).min)
        reward = state.rewards[jnp.arange(GAMES), player]
        value = jnp.where(state.terminated, 0.0, value)
        discount = jnp.where(state.terminated, 0.0, -jnp.ones_like(value))
        return mctx.RecurrentFnOutput(reward=reward, discount=discount, prior_logits=logits,
                                      value=value), state

    step = auto_reset(env.step, env.init)

    @jax.jit
    def move(state: Any, key: Any) -> Any:
        k1, k2 = jax.random.split(key)
        logits, value = forward(state.observation)
        root = mctx.RootFnOutput(prior_logits=logits, value=value, embedding=state)
        out = mctx.gumbel_muzero_policy(params=None, rng_key=k1, root=root,
                                        recurrent_fn=recurrent_fn, num_simulations=SIMS,
                                        invalid_actions=~state.legal_action_mask)
        return jax.vmap(step)(state, out.action, jax.random.split(k2, GAMES))

    @jax.jit
    def random_move(state: Any, key: Any) -> Any:
        logits = jnp.where(state.legal_action_mask, 0.0, -jnp.inf)
        action = jax.random.categorical(key, logits)
        return jax.vmap(step)(state, action, jax.random.split(key, GAMES))

    for i in range(size * size // 2):  # random openings, as for ours
        state = random_move(state, jax.random.fold_in(key, 10_000 + i))
    state = move(state, key)
    jax.block_until_ready(state)
    start = time.perf_counter()
    for i in range(moves):
        state = move(state, jax.random.fold_in(key, i))
    jax.block_until_ready(state)
    return GAMES * moves / (time.perf_counter() - start)


def median(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.median(vals)) if vals else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--moves", type=int, default=8, help="timed self-play moves per size")
    parser.add_argument("--per-leaf-seconds", type=float, default=5.0,
                        help="time each setting of the one-leaf search gets when the fastest "
                             "is chosen")
    parser.add_argument("--pairs", type=int, default=5,
                        help="back-to-back pairs (one-leaf, batched) the headline ratio is the "
                             "median of")
    parser.add_argument("--pair-seconds", type=float, default=2.0,
                        help="time each search of a pair runs")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                        help="threads of the batched search and self-play, and the most torch "
                             "threads the one-leaf search may take (default: this machine's "
                             "cores)")
    parser.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16"],
                        help="network dtype of the batched search and self-play (auto: bfloat16 "
                             "on CPUs with AMX)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    batched_dtype = inference_dtype(args.dtype)
    threads = args.threads
    out: dict[str, Any] = {"games": GAMES, "simulations": SIMS, "net": "3x32 BN, 17 planes",
                           "batched_dtype": str(batched_dtype).removeprefix("torch."),
                           "threads": threads}
    for size in (9, 5):
        game = GoGame(size, 7.5)
        tag = f"{size}x{size}"
        per_leaf_rates = {}
        for dtype, torch_threads in per_leaf_settings(threads):
            per_leaf_net = make_net(game, dtype)
            per_leaf_rates[dtype, torch_threads] = median(
                [per_leaf_sims_per_s(game, per_leaf_net, args.per_leaf_seconds, torch_threads)
                 for _ in range(args.repeats)])
        per_leaf_dtype, per_leaf_threads = max(per_leaf_rates, key=per_leaf_rates.__getitem__)
        per_leaf_one = max(rate for (_, t), rate in per_leaf_rates.items() if t == 1)
        out[f"per_leaf_dtype_{tag}"] = str(per_leaf_dtype).removeprefix("torch.")
        out[f"per_leaf_torch_threads_{tag}"] = per_leaf_threads
        out[f"per_leaf_sims_per_s_all_settings_{tag}"] = {
            f"{str(d).removeprefix('torch.')}x{t}": rate for (d, t), rate in per_leaf_rates.items()}
        eager = median([per_leaf_sims_per_s(game, EagerNet(training_net(game)),
                                            args.per_leaf_seconds, 1)
                        for _ in range(args.repeats)])
        net = make_net(game, batched_dtype)
        per_leaf_net = make_net(game, per_leaf_dtype)
        window = args.pair_seconds
        pairs = [(per_leaf_sims_per_s(game, per_leaf_net, window, per_leaf_threads),
                  batched_sims_per_s(game, net, threads, window)) for _ in range(args.pairs)]
        per_leaf = median([one for one, _ in pairs])
        batched = median([many for _, many in pairs])
        one_thread = median([batched_sims_per_s(game, net, 1, window)
                             for _ in range(args.repeats)])
        assert batched and one_thread and per_leaf and per_leaf_one and eager
        out[f"batched_sims_per_s_{tag}"] = batched
        out[f"per_leaf_sims_per_s_{tag}"] = per_leaf
        out[f"ratio_batched_vs_per_leaf_{tag}"] = median([many / one for one, many in pairs])
        out[f"ratio_batched_vs_per_leaf_pairs_{tag}"] = [many / one for one, many in pairs]
        out[f"batched_sims_per_s_one_thread_{tag}"] = one_thread
        out[f"per_leaf_sims_per_s_one_thread_{tag}"] = per_leaf_one
        out[f"ratio_batched_vs_per_leaf_one_thread_{tag}"] = one_thread / per_leaf_one
        out[f"per_leaf_eager_sims_per_s_{tag}"] = eager
        out[f"ratio_batched_vs_per_leaf_eager_{tag}"] = batched / eager
        print(f"search {tag}: batched {batched:.0f} sims/s on {threads} threads "
              f"({one_thread:.0f} on one), per-leaf {per_leaf:.0f} sims/s "
              f"({per_leaf_one:.0f} on one; {eager:.0f} with the eager network)", flush=True)
    out["ratio_batched_vs_per_leaf"] = out["ratio_batched_vs_per_leaf_9x9"]
    out["ratio_batched_vs_per_leaf_one_thread"] = out["ratio_batched_vs_per_leaf_one_thread_9x9"]
    out["ratio_batched_vs_per_leaf_eager"] = out["ratio_batched_vs_per_leaf_eager_9x9"]
    for size in (5, 9):
        game = GoGame(size, 7.5)
        net = make_net(game, batched_dtype)
        ours = median([selfplay_moves(game, net, args.moves, threads)
                       for _ in range(args.repeats)])
        theirs = median([pgx_selfplay(size, args.moves) for _ in range(args.repeats)])
        out[f"selfplay_positions_per_s_{size}x{size}"] = ours
        out[f"pgx_mctx_positions_per_s_{size}x{size}"] = theirs
        ratio = ours / theirs if ours and theirs else None
        out[f"ratio_selfplay_vs_pgx_mctx_{size}x{size}"] = ratio
        print(f"self-play {size}x{size}: ours {ours:.0f} positions/s, pgx+mctx {theirs}",
              flush=True)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
