"""Worker pools on a local Ray cluster (`ray.init(num_cpus=2)`): AlphaZero self-play and
evaluation games through Ray equal the local backend's (spawned processes), a worker killed
mid-run loses no finished game and counts no half-played one on either backend, weight
versions only increase, a run started on Ray (evaluating on its workers) resumes locally, PPO
trains on Ray rollout workers, and a missing Ray names the pip command."""

from __future__ import annotations

import csv
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from rlsuite.agents.alphazero.distributed import (
    DistributedSelfPlay,
    EvalTask,
    PoolSelfPlayWorker,
    evaluation_tasks,
    merge_wins,
    play_evaluation,
)
from rlsuite.agents.alphazero.model import ModelInfo
from rlsuite.agents.alphazero.network import (
    InferenceNet,
    NetConfig,
    PolicyValueNet,
    inference_dtype,
)
from rlsuite.agents.alphazero.search import SearchConfig
from rlsuite.agents.alphazero.selfplay import SelfPlayConfig
from rlsuite.agents.alphazero.trainer import AlphaZeroConfig, train
from rlsuite.agents.pg.config import PPOConfig
from rlsuite.agents.pg.trainer import UpdateReport
from rlsuite.agents.pg.trainer import train as train_pg
from rlsuite.envs.go import GoGame
from rlsuite.workers import Result, WorkerDied, WorkerError, WorkerPool

HAVE_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAVE_RAY, reason='ray is not installed (pip install "rlsuite[ray]"): Ray backend untested')

GAME = GoGame(4, 0.5, history=2)
INFO = ModelInfo(
    net=NetConfig(in_channels=GAME.observation_shape[0], board_size=4,
                  num_actions=GAME.num_actions, blocks=1, channels=8),
    board_size=4, komi=0.5, rules=GAME.rules, superko="positional", history=2, score_weight=0.0)
CONFIG = SelfPlayConfig(parallel_games=4, search=SearchConfig(simulations=8))


def network(seed: int) -> PolicyValueNet:
    torch.manual_seed(seed)
    return PolicyValueNet(INFO.net).eval()


def weights(seed: int, best: int | None = None) -> dict[str, dict[str, np.ndarray]]:
    """What a pool publishes: the network's (and for evaluation the best one's) arrays."""
    nets = {"net": network(seed)} | ({} if best is None else {"best": network(best)})
    return {name: {k: v.numpy().copy() for k, v in net.state_dict().items()}
            for name, net in nets.items()}


def assert_valid(records: dict[str, np.ndarray]) -> None:
    """Planes are 0/1, policies are distributions over legal moves, values are outcomes."""
    n = len(records["value"])
    assert n > 0
    assert records["planes"].shape == (n, *GAME.observation_shape)
    assert records["policy"].shape == records["mask"].shape == (n, GAME.num_actions)
    assert set(np.unique(records["planes"])) <= {0, 1}
    np.testing.assert_allclose(records["policy"].sum(1), 1.0, atol=1e-5)
    assert not (records["policy"] > 0)[~records["mask"]].any()
    assert np.all(np.abs(records["value"]) <= 1)


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A local Ray cluster, one at a time: `make test` runs pytest-xdist with `--dist load`,
    which may split this module over both workers (and `loadgroup` does not group on pytest
    9.2: pytest-xdist issue 1386), so a lock in the session's shared temp directory keeps a
    second cluster from starting until the first is shut down."""
    if not HAVE_RAY:
        pytest.skip('ray is not installed (pip install "rlsuite[ray]"): Ray backend untested')
    import ray
    from filelock import FileLock  # a dependency of ray (and torch)

    with FileLock(tmp_path_factory.getbasetemp().parent / "rlsuite-ray.lock"):
        ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
        yield
        ray.shutdown()


@pytest.fixture(scope="module")
def ray_selfplay(ray_cluster: None) -> Iterator[DistributedSelfPlay]:
    selfplay = DistributedSelfPlay(INFO, CONFIG, 6, backend="ray", workers=2,
                                   cpus_per_worker=0.5)  # leaves a CPU for the run test's
    yield selfplay
    selfplay.close()


@pytest.fixture(scope="module")
def local_selfplay() -> Iterator[DistributedSelfPlay]:
    selfplay = DistributedSelfPlay(INFO, CONFIG, 6, backend="local", workers=2)  # processes
    yield selfplay
    selfplay.close()


def assert_same_games(records: dict[str, np.ndarray], expected: dict[str, np.ndarray]) -> None:
    """The same moves, planes and outcomes exactly; float targets to rounding, since two
    processes may run the network through different kernels (seen here: 1e-9 apart)."""
    assert records.keys() == expected.keys()
    for key, value in expected.items():
        if np.issubdtype(value.dtype, np.floating):
            np.testing.assert_allclose(records[key], value, rtol=1e-5, atol=1e-7, err_msg=key)
        else:
            np.testing.assert_array_equal(records[key], value, err_msg=key)


@needs_ray
def test_selfplay_through_ray_equals_the_local_backend(
        ray_selfplay: DistributedSelfPlay, local_selfplay: DistributedSelfPlay) -> None:
    net = PolicyValueNet(INFO.net)
    ray_round = ray_selfplay.play(net, 6, np.random.default_rng(1))
    local = local_selfplay.play(net, 6, np.random.default_rng(1))
    assert ray_round.stats["games"] == local.stats["games"] == 6
    assert len(ray_round.finished[0]) == 6 and ray_round.versions == [1, 1]
    assert_valid(ray_round.records)
    assert ray_round.records.keys() == local.records.keys()
    assert_same_games(ray_round.records, local.records)  # games depend on seeds and weights


def in_driver_wins(tasks: list[EvalTask]) -> dict[str, np.ndarray]:
    """What an unpooled run's `evaluate` plays: every task in this process."""
    dtype = inference_dtype(CONFIG.inference_dtype)
    net, best = (InferenceNet(network(s), dtype=dtype) for s in (0, 1))
    return merge_wins(tasks, [play_evaluation(GAME, net, best, t) for t in tasks])


@needs_ray
def test_evaluation_through_ray_equals_the_local_backend_and_the_driver(
        ray_selfplay: DistributedSelfPlay, local_selfplay: DistributedSelfPlay) -> None:
    tasks = evaluation_tasks(7, 8, 0.0, np.random.default_rng(3), parts=2)
    assert [(t.opponent, t.first, len(t.seeds)) for t in tasks] == [
        ("best", 0, 4), ("best", 4, 3), ("greedy", 0, 4), ("greedy", 4, 3)]
    for t in tasks:  # colours alternate, so every share is balanced to one game
        assert abs(2 * int(t.net_black.sum()) - len(t.seeds)) <= 1
    # seeds and colours per game, not per share: an unpooled run gives each game the same
    # (its wins match as far as the network's kernels give the same rows at other batch
    # sizes, so only the same split is compared exactly below)
    unsplit = evaluation_tasks(7, 8, 0.0, np.random.default_rng(3), parts=1)
    for opponent in ("best", "greedy"):
        whole, = (t for t in unsplit if t.opponent == opponent)
        shares = [t for t in tasks if t.opponent == opponent]
        assert whole.seeds == sum((t.seeds for t in shares), ())
        np.testing.assert_array_equal(whole.net_black,
                                      np.concatenate([t.net_black for t in shares]))
    expected = in_driver_wins(tasks)
    for name, selfplay in (("ray", ray_selfplay), ("local", local_selfplay)):
        evaluation = selfplay.evaluate(network(0), network(1), tasks)
        assert not evaluation.died, name
        for opponent in ("best", "greedy"):
            np.testing.assert_array_equal(evaluation.wins[opponent], expected[opponent],
                                          err_msg=f"{name} vs {opponent}")


@needs_ray
def test_a_killed_worker_loses_no_finished_game_and_counts_no_half_played_one(
        ray_selfplay: DistributedSelfPlay, local_selfplay: DistributedSelfPlay) -> None:
    evaluation = evaluation_tasks(4, 8, 0.0, np.random.default_rng(4), parts=2)
    # worker 0 starts on one short game, worker 1 on evaluation games: the one killed
    tasks: list[EvalTask | tuple[int, int]] = [(1, 9), *evaluation, *((2, s) for s in range(3))]
    selfplay = [0, *range(len(evaluation) + 1, len(tasks))]
    expected = in_driver_wins(evaluation)
    finished = {}
    for name, pool in (("ray", ray_selfplay.pool), ("local", local_selfplay.pool)):
        pool.publish(weights(0, best=1))
        events: list[Result | WorkerDied] = []
        for event in pool.results(tasks):
            events.append(event)
            if len(events) == 1:  # the other worker is mid-way through evaluation games
                assert isinstance(event, Result)
                pool.kill(1 - event.worker)
        done = sorted((e for e in events if isinstance(e, Result)), key=lambda r: r.task)
        died = [e for e in events if isinstance(e, WorkerDied)]
        assert len(died) == 1 and died[0].worker != events[0].worker, name
        # which task the killed worker held depends on timing (usually an evaluation share):
        # whichever it was, it is replayed whole and counted once, as checked below
        assert [r.task for r in done] == list(range(len(tasks))), name  # each exactly once
        wins = merge_wins(evaluation, [r.value for r in done[1:len(evaluation) + 1]])
        for opponent in ("best", "greedy"):  # the replayed share counts whole, once
            np.testing.assert_array_equal(wins[opponent], expected[opponent], err_msg=name)
        for i in selfplay:
            games = tasks[i][0]  # type: ignore[index]
            assert done[i].value["stats"]["games"] == games
            assert len(done[i].value["finished"][0]) == games
            assert_valid(done[i].value["records"])
        finished[name] = [done[i] for i in selfplay]
    # both backends, each with a death and a replayed task, played the very same games
    for ray_result, local_result in zip(finished["ray"], finished["local"], strict=True):
        assert_same_games(ray_result.value["records"], local_result.value["records"])


@needs_ray
def test_weight_versions_reported_by_workers_only_increase(
        ray_selfplay: DistributedSelfPlay) -> None:
    pool = ray_selfplay.pool
    seen: dict[int, list[int]] = {0: [], 1: []}
    for round_ in range(3):
        version = pool.publish(weights(round_))
        results, _ = pool.run([(1, seed) for seed in range(4)])
        assert {r.version for r in results} == {version}
        for r in results:
            seen[r.worker].append(r.version)
    for versions in seen.values():
        assert versions and versions == sorted(versions)


@needs_ray
def test_a_run_started_on_ray_resumes_locally(ray_cluster: None, tmp_path: Path) -> None:
    base = dict(board_size=4, komi=0.5, blocks=1, channels=8, simulations=4, history=2,
                parallel_games=4, games_per_collect=4, min_replay=20, batch_size=16,
                total_steps=120, log_every=50, eval_episodes=2, eval_every=1,
                eval_simulations=2, checkpoint_every=1000,
                run_root=str(tmp_path), backends=("csv",))
    first = train(AlphaZeroConfig(**base, chunk_steps=1, backend="ray", cpus_per_worker=0.5))
    status = json.loads((first / "status.json").read_text())
    assert not status["finished"] and status["iterations"] == 1
    assert train(AlphaZeroConfig(**base, resume=str(first))) == first  # local backend
    status = json.loads((first / "status.json").read_text())
    assert status["finished"] and status["iterations"] > 1
    # evaluated on the Ray workers in the first chunk, in the driver after the resume
    with (first / "metrics.csv").open() as f:
        rates = [float(row["value"]) for row in csv.DictReader(f)
                 if row["tag"] == "eval/win_rate_vs_greedy"]
    assert len(rates) == status["iterations"] and set(rates) <= {0.0, 0.5, 1.0}


@needs_ray
def test_ppo_trains_on_ray_rollout_workers(ray_cluster: None, tmp_path: Path) -> None:
    buffers = []

    def check(report: UpdateReport) -> None:  # each update's buffer: both workers' rows
        rows = report.buffer.get(np.arange(len(report.buffer)))
        buffers.append(len(report.buffer))
        assert rows["obs"].shape == (128, 4) and np.isfinite(rows["advantage"]).all()
        np.testing.assert_allclose(rows["ret"], rows["advantage"] + rows["value"], atol=1e-5)

    run_dir = train_pg(PPOConfig(env="CartPole-v1", num_envs=4, num_steps=32, total_steps=256,
                                 backend="ray", workers=2, cpus_per_worker=0.5, eval_episodes=0,
                                 log_every=128, run_root=str(tmp_path), backends=("csv",)),
                       check)
    status = json.loads((run_dir / "status.json").read_text())
    assert status["finished"] and status["updates"] == 2 and status["episodes"] > 4
    assert buffers == [128, 128]
    with pytest.raises(ValueError, match="num_envs=4 must split evenly over workers=3"):
        PPOConfig(num_envs=4, workers=3)


def test_a_failing_task_is_an_error_naming_it_and_the_pool_goes_on() -> None:
    with WorkerPool(PoolSelfPlayWorker, {"info": INFO.to_json(), "config": CONFIG}) as pool:
        pool.publish(weights(0))
        with pytest.raises(WorkerError, match="task 1 failed in worker 0(.|\n)*negative"):
            pool.run([(1, 0), (1, -1)])  # a negative seed: numpy refuses it
        (result,), died = pool.run([(1, 0)])
        assert result.version == 1 and result.value["stats"]["games"] == 1 and not died


def test_a_missing_ray_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    with pytest.raises(ImportError, match=r'pip install "rlsuite\[ray\]"'):
        WorkerPool(PoolSelfPlayWorker, backend="ray")
