"""The shared replay layer: ring storage, uniform / prioritized sampling, n-step, rollouts."""

import numpy as np
import pytest
from scipy import stats

from rlsuite.replay import NStepAccumulator, PrioritizedReplayBuffer, ReplayBuffer, SumTree

SPEC = {"obs": ((3,), np.float32), "action": ((), np.int64), "reward": ((), np.float32)}


def rows(start: int, n: int) -> dict[str, np.ndarray]:
    ids = np.arange(start, start + n)
    return {
        "obs": np.repeat(ids[:, None], 3, axis=1).astype(np.float32),
        "action": ids,
        "reward": ids.astype(np.float32) / 2,
    }


def test_add_single_and_batch_rows() -> None:
    buf = ReplayBuffer(SPEC, capacity=10)
    buf.add({"obs": np.ones(3, np.float32), "action": 7, "reward": 0.5})
    idx = buf.add(rows(100, 3))
    assert len(buf) == 4
    assert idx.tolist() == [1, 2, 3]
    assert buf.fields["action"][:4].tolist() == [7, 100, 101, 102]
    assert buf.fields["obs"][0].tolist() == [1.0, 1.0, 1.0]


def test_uniform_sampling_covers_all_rows() -> None:
    buf = ReplayBuffer(SPEC, capacity=50)
    buf.add(rows(0, 50))
    batch = buf.sample(5000, np.random.default_rng(0))
    seen = np.bincount(batch["action"], minlength=50)
    assert np.all(seen > 0)
    # Each row holds its own values: fields stay aligned in a sample.
    assert np.array_equal(batch["obs"][:, 0], batch["action"].astype(np.float32))
    assert stats.chisquare(seen).pvalue > 1e-3


def test_ring_wraparound_keeps_newest_rows() -> None:
    buf = ReplayBuffer(SPEC, capacity=8)
    buf.add(rows(0, 5))
    buf.add(rows(5, 6))  # 11 rows into 8 slots
    assert len(buf) == 8
    assert sorted(buf.fields["action"].tolist()) == list(range(3, 11))
    assert buf.pos == 3
    buf.add(rows(100, 20))  # more than capacity at once: only the last 8 survive
    assert sorted(buf.fields["action"].tolist()) == list(range(112, 120))
    assert buf.total_added == 31


def test_prioritized_frequencies_match_priorities() -> None:
    buf = PrioritizedReplayBuffer(SPEC, capacity=16, alpha=1.0, beta=1.0)
    buf.add(rows(0, 16))
    priorities = np.arange(1, 17, dtype=np.float64)
    buf.update_priorities(np.arange(16), priorities)
    rng = np.random.default_rng(1)
    counts = np.zeros(16)
    for _ in range(200):
        batch = buf.sample(256, rng)
        counts += np.bincount(batch["index"], minlength=16)
    expected = priorities / priorities.sum() * counts.sum()
    assert stats.chisquare(counts, expected).pvalue > 1e-3
    # Importance weights undo the bias: w_i proportional to 1 / p_i, largest weight is 1.
    batch = buf.sample(64, rng)
    w = batch["weight"].astype(np.float64)
    assert w.max() == pytest.approx(1.0)
    np.testing.assert_allclose(
        w * priorities[batch["index"]], priorities[batch["index"]].min(), rtol=1e-5
    )


def test_prioritized_alpha_and_new_rows_get_max_priority() -> None:
    buf = PrioritizedReplayBuffer(SPEC, capacity=4, alpha=0.5)
    buf.add(rows(0, 2))
    buf.update_priorities(np.array([0, 1]), np.array([4.0, 16.0]))
    buf.add(rows(2, 1))
    leaf = buf.tree.get(np.arange(3))
    np.testing.assert_allclose(leaf, np.sqrt([4.0, 16.0, 16.0]), rtol=1e-5)
    with pytest.raises(ValueError, match="finite"):
        buf.update_priorities(np.array([0]), np.array([np.nan]))


def test_sum_tree_prefix_search() -> None:
    tree = SumTree(5)
    tree.set(np.arange(5), np.array([1.0, 0.0, 2.0, 3.0, 4.0]))
    assert tree.total == 10.0
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 5.99, 6.0, 9.99])).tolist() == [
        0, 0, 2, 2, 3, 3, 4, 4,
    ]  # fmt: skip


def test_state_dict_round_trip_gives_identical_samples() -> None:
    for cls in (ReplayBuffer, PrioritizedReplayBuffer):
        buf = cls(SPEC, capacity=12)
        buf.add(rows(0, 20))
        if isinstance(buf, PrioritizedReplayBuffer):
            buf.update_priorities(np.arange(12), np.linspace(0.1, 3, 12))
        copy = cls(SPEC, capacity=12)
        copy.load_state_dict(buf.state_dict())
        a = buf.sample(32, np.random.default_rng(5))
        b = copy.sample(32, np.random.default_rng(5))
        for key in a:
            np.testing.assert_array_equal(a[key], b[key])
        assert copy.add(rows(50, 1)).tolist() == buf.add(rows(50, 1)).tolist()


def test_state_dict_refuses_a_different_spec() -> None:
    buf = ReplayBuffer(SPEC, capacity=4)
    other = ReplayBuffer({"obs": ((4,), np.float32)}, capacity=4)
    with pytest.raises(ValueError, match="does not fit"):
        other.load_state_dict(buf.state_dict())


@pytest.mark.parametrize(
    ("batch", "message"),
    [
        ({"obs": np.zeros(3), "action": 1}, "missing \\['reward'\\]"),
        ({**rows(0, 1), "extra": 1}, "unexpected \\['extra'\\]"),
        ({**rows(0, 2), "obs": np.zeros((2, 4), np.float32)}, "field 'obs': shape"),
        ({**rows(0, 2), "action": np.zeros(2, np.float32)}, "field 'action': dtype float32"),
        ({**rows(0, 2), "reward": np.zeros(3, np.float32)}, "field 'reward': 3 rows"),
    ],
)
def test_bad_batches_name_the_field(batch: dict, message: str) -> None:
    buf = ReplayBuffer(SPEC, capacity=4)
    with pytest.raises(ValueError, match=message):
        buf.add(batch)
    assert len(buf) == 0


def test_empty_buffer_refuses_to_sample() -> None:
    with pytest.raises(ValueError, match="empty replay buffer"):
        ReplayBuffer(SPEC, capacity=4).sample(1, np.random.default_rng())
    with pytest.raises(ValueError, match="empty replay buffer"):
        PrioritizedReplayBuffer(SPEC, capacity=4).sample(1, np.random.default_rng())
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(SPEC, capacity=0)


def test_rollout_minibatches_visit_every_row_once_per_epoch() -> None:
    buf = ReplayBuffer(SPEC, capacity=24)
    buf.add(rows(0, 24))
    seen = [b["action"] for b in buf.minibatches(8, np.random.default_rng(0), epochs=2)]
    assert [len(s) for s in seen] == [8] * 6
    assert sorted(np.concatenate(seen[:3]).tolist()) == list(range(24))
    assert sorted(np.concatenate(seen[3:]).tolist()) == list(range(24))
    assert not np.array_equal(np.concatenate(seen[:3]), np.arange(24))  # shuffled
    steps = buf.time_major("action", num_envs=4)
    assert steps.shape == (6, 4)
    assert steps[1].tolist() == [4, 5, 6, 7]


def _nstep_reference(rewards, ends, terminals, n, gamma):
    """Hand-rolled n-step targets for one env: (start, reward, discount, next index)."""
    out = []
    for t in range(len(rewards)):
        total, k = 0.0, 0
        while True:
            total += gamma**k * rewards[t + k]
            k += 1
            if ends[t + k - 1] or k == n:
                break
        last = t + k - 1
        out.append((t, total, 0.0 if terminals[last] else gamma**k, last))
    return out


def test_nstep_returns_match_hand_computed_reference_across_episode_ends() -> None:
    gamma, n = 0.9, 3
    # env 0 terminates at step 3, env 1 is truncated at step 4 (bootstraps), then both go on.
    rewards = np.array([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60], [7, 70]], float)
    terminated = np.zeros((7, 2), bool)
    truncated = np.zeros((7, 2), bool)
    terminated[3, 0] = True
    truncated[4, 1] = True
    terminated[6, :] = True  # flush the tails
    acc = NStepAccumulator(num_envs=2, n=n, gamma=gamma)
    emitted = []
    for t in range(7):
        out = acc.push(
            {
                "obs": np.array([t, t]),
                "next_obs": np.array([t + 1, t + 1]),
                "env": np.array([0, 1]),
                "reward": rewards[t],
                "terminated": terminated[t],
                "truncated": truncated[t],
            }
        )
        if out is not None:
            emitted += [
                dict(zip(out, vals, strict=True)) for vals in zip(*out.values(), strict=True)
            ]
    for env in (0, 1):
        got = sorted((int(r["obs"]), float(r["reward"]), float(r["discount"]), int(r["next_obs"]))
                     for r in emitted if r["env"] == env)  # fmt: skip
        ends = terminated[:, env] | truncated[:, env]
        ref = _nstep_reference(rewards[:, env], ends, terminated[:, env], n, gamma)
        assert len(got) == 7
        for (t, r, d, nxt), (rt, rr, rd, rlast) in zip(got, ref, strict=True):
            assert t == rt and nxt == rlast + 1
            assert r == pytest.approx(rr, rel=1e-6) and d == pytest.approx(rd, rel=1e-6)
    # Spot-check by hand: env 0 from t=1 sees 2 + .9*3 + .81*4 then termination.
    row = next(r for r in emitted if r["env"] == 0 and r["obs"] == 1)
    assert float(row["reward"]) == pytest.approx(2 + 0.9 * 3 + 0.81 * 4)
    assert float(row["discount"]) == 0.0
    # env 1 from t=3 is cut by truncation at t=4: bootstraps with gamma^2 from obs 5.
    row = next(r for r in emitted if r["env"] == 1 and r["obs"] == 3)
    assert float(row["reward"]) == pytest.approx(40 + 0.9 * 50)
    assert float(row["discount"]) == pytest.approx(0.81)
    assert int(row["next_obs"]) == 5
