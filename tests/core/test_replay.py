"""The shared replay layer: ring storage, one sampler (uniform / prioritized), typed batches,
the transform hook, n-step transitions across episode ends, exact state round trips."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import pytest
from scipy import stats

from rlsuite.nstep_replay import TransitionReplay, Transitions
from rlsuite.replay import Fields, ReplayBuffer, SumTree

SPEC = {"obs": ((3,), np.float32), "action": ((), np.int64), "reward": ((), np.float32)}


def vars_of(batch: Transitions) -> dict[str, Any]:
    return {f.name: getattr(batch, f.name) for f in fields(batch)}


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
    seen = np.bincount(batch.fields["action"], minlength=50)
    assert np.all(seen > 0) and batch.weight is None
    # Each row holds its own values: fields stay aligned in a sample.
    assert np.array_equal(batch.fields["obs"][:, 0], batch.fields["action"].astype(np.float32))
    assert np.array_equal(batch.index, batch.fields["action"])
    assert stats.chisquare(seen).pvalue > 1e-3


@pytest.mark.parametrize("alpha", [1.0, 0.6])
def test_prioritized_frequencies_follow_priority_to_the_alpha(alpha: float) -> None:
    buf = ReplayBuffer(SPEC, capacity=16, prioritized=True, alpha=alpha, beta=0.7)
    buf.add(rows(0, 16))
    priorities = np.arange(1, 17, dtype=np.float64)
    buf.update_priorities(np.arange(16), priorities)
    rng = np.random.default_rng(1)
    counts = np.zeros(16)
    for _ in range(200):
        counts += np.bincount(buf.sample(256, rng).index, minlength=16)
    probs = (priorities + buf.sampler.eps) ** alpha
    probs /= probs.sum()
    assert stats.chisquare(counts, probs * counts.sum()).pvalue > 1e-3
    # Importance weights undo the bias: w_i = (N P(i))^-beta / max_j w_j over the batch.
    batch = buf.sample(64, rng)
    assert batch.weight is not None
    raw = (16 * probs[batch.index]) ** -0.7
    np.testing.assert_allclose(batch.weight, raw / raw.max(), rtol=1e-5)
    assert batch.weight.max() == pytest.approx(1.0)
    # beta given at sample time overrides the configured one (annealing towards 1)
    full = buf.sample(64, rng, beta=1.0)
    assert full.weight is not None
    np.testing.assert_allclose(full.weight * probs[full.index], probs[full.index].min(), rtol=1e-5)


def test_new_rows_get_the_largest_priority_and_bad_priorities_are_refused() -> None:
    buf = ReplayBuffer(SPEC, capacity=4, prioritized=True, alpha=0.5)
    buf.add(rows(0, 2))
    buf.update_priorities(np.array([0, 1]), np.array([4.0, 16.0]))
    buf.add(rows(2, 1))
    assert buf.sampler.tree is not None
    leaf = buf.sampler.tree.get(np.arange(3))
    np.testing.assert_allclose(leaf, np.sqrt([4.0, 16.0, 16.0]), rtol=1e-5)
    with pytest.raises(ValueError, match="finite"):
        buf.update_priorities(np.array([0]), np.array([np.nan]))
    with pytest.raises(ValueError, match=r"lie in \[0, 4\)"):
        buf.update_priorities(np.array([4]), np.array([1.0]))  # the tree is compiled: no check
    with pytest.raises(ValueError, match="one per slot"):
        buf.update_priorities(np.array([0, 1]), np.array([1.0]))
    with pytest.raises(ValueError, match="prioritized=True"):
        ReplayBuffer(SPEC, capacity=4).update_priorities(np.array([0]), np.array([1.0]))


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


def test_sum_tree_prefix_search() -> None:
    tree = SumTree(5)
    tree.set(np.arange(5), np.array([1.0, 0.0, 2.0, 3.0, 4.0]))
    assert tree.total == 10.0
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 5.99, 6.0, 9.99])).tolist() == [
        0, 0, 2, 2, 3, 3, 4, 4,
    ]  # fmt: skip


def test_state_dict_round_trip_gives_identical_samples() -> None:
    for prioritized in (False, True):
        buf = ReplayBuffer(SPEC, capacity=12, prioritized=prioritized)
        buf.add(rows(0, 20))
        if prioritized:
            buf.update_priorities(np.arange(12), np.linspace(0.1, 3, 12))
        copy = ReplayBuffer(SPEC, capacity=12, prioritized=prioritized)
        copy.load_state_dict(buf.state_dict())
        a = buf.sample(32, np.random.default_rng(5))
        b = copy.sample(32, np.random.default_rng(5))
        for key in a.fields:
            np.testing.assert_array_equal(a.fields[key], b.fields[key])
        np.testing.assert_array_equal(a.index, b.index)
        assert (a.weight is None) == (not prioritized)
        if prioritized:
            np.testing.assert_array_equal(a.weight, b.weight)  # type: ignore[arg-type]
        assert copy.add(rows(50, 1)).tolist() == buf.add(rows(50, 1)).tolist()
    with pytest.raises(ValueError, match="does not fit"):
        ReplayBuffer(SPEC, capacity=12).load_state_dict(copy.state_dict())


def _flip(fields: Fields, rng: np.random.Generator) -> Fields:
    """A toy symmetry: reverse `obs` in a random half of the rows (AlphaZero's 8 are alike)."""
    flip = rng.random(len(fields["obs"])) < 0.5
    fields["obs"][flip] = fields["obs"][flip, ::-1]
    return fields


def test_transform_hook_rewrites_samples_reproducibly() -> None:
    spec = {"obs": ((3,), np.float32), "action": ((), np.int64)}
    buf = ReplayBuffer(spec, capacity=8, transform=_flip)
    obs = np.tile(np.array([0.0, 1.0, 2.0], np.float32), (8, 1))
    buf.add({"obs": obs, "action": np.arange(8)})
    a = buf.sample(400, np.random.default_rng(0))
    flipped = a.fields["obs"][:, 0] == 2.0
    assert 0.35 < flipped.mean() < 0.65
    assert np.array_equal(a.fields["obs"][flipped], np.tile([2.0, 1.0, 0.0], (flipped.sum(), 1)))
    assert (buf.fields["obs"] == obs).all()  # stored rows are untouched
    b = buf.sample(400, np.random.default_rng(0))  # the hook draws from the sampling rng
    assert np.array_equal(a.fields["obs"], b.fields["obs"])
    # rollout iteration hands out the stored rows as they are
    assert all((m["obs"] == obs[0]).all() for m in buf.minibatches(4, np.random.default_rng(0)))

    def bad_shape(fields: Fields, rng: np.random.Generator) -> Fields:
        return {**fields, "obs": fields["obs"][:, :2]}

    def bad_names(fields: Fields, rng: np.random.Generator) -> Fields:
        return {"obs": fields["obs"]}

    buf.transform = bad_shape
    with pytest.raises(ValueError, match="changed field 'obs': shape"):
        buf.sample(4, np.random.default_rng(0))
    buf.transform = bad_names
    with pytest.raises(ValueError, match=r"expected \['action', 'obs'\]"):
        buf.sample(4, np.random.default_rng(0))


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
    for prioritized in (False, True):
        with pytest.raises(ValueError, match="empty replay buffer"):
            ReplayBuffer(SPEC, 4, prioritized=prioritized).sample(1, np.random.default_rng())
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


def _nstep_reference(rewards, ends, terminals, n, gamma):  # type: ignore[no-untyped-def]
    """Hand-rolled n-step targets for one env: (start, reward, discount, last step)."""
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


def _step(replay: TransitionReplay, t: int, reward: np.ndarray, terminated: np.ndarray,
          truncated: np.ndarray, valid: np.ndarray | None = None) -> None:  # fmt: skip
    """One vector step whose obs is t and next obs t + 1 (first feature), env id second."""
    n = replay.num_envs
    obs = np.stack([np.full(n, t), np.arange(n)], axis=1).astype(np.float32)
    mask = np.zeros((n, 3), bool)
    mask[:, (t + 1) % 3] = True  # legal at next_obs: one action, changing every step
    replay.add(np.full(n, t % 3), reward, terminated, truncated, obs + [1, 0], obs=obs,
               next_mask=mask if replay.num_actions else None, valid=valid)  # fmt: skip


def _all(replay: TransitionReplay) -> Transitions:
    return replay.get(replay.ready_index())


def test_nstep_returns_match_hand_computed_reference_across_episode_ends() -> None:
    gamma, n = 0.9, 3
    # env 0 terminates at step 3, env 1 is truncated at step 4 (bootstraps), then both go on.
    rewards = np.array([[1, 10], [2, 20], [3, 30], [4, 40], [5, 50], [6, 60], [7, 70]], float)
    terminated = np.zeros((7, 2), bool)
    truncated = np.zeros((7, 2), bool)
    terminated[3, 0] = True
    truncated[4, 1] = True
    terminated[6, :] = True  # complete the tails
    replay = TransitionReplay(64, 2, (2,), n_step=n, gamma=gamma, num_actions=3)
    for t in range(7):
        _step(replay, t, rewards[t], terminated[t], truncated[t])
        # a transition is sampleable exactly when its window is complete
        assert len(replay) == sum(
            1 for env in (0, 1) for s in range(t + 1)
            if t - s + 1 >= n or (terminated | truncated)[s : t + 1, env].any()
        )  # fmt: skip
    batch = _all(replay)
    assert batch.next_mask is not None and batch.weight is None
    for env in (0, 1):
        rows = np.flatnonzero(batch.obs[:, 1] == env)
        got = sorted(zip(batch.obs[rows, 0].tolist(), batch.reward[rows].tolist(),
                         batch.discount[rows].tolist(), batch.next_obs[rows, 0].tolist(),
                         batch.next_mask[rows].argmax(1).tolist(), strict=True))  # fmt: skip
        ends = terminated[:, env] | truncated[:, env]
        ref = _nstep_reference(rewards[:, env], ends, terminated[:, env], n, gamma)
        assert len(got) == 7
        for (t, r, d, nxt, legal), (rt, rr, rd, last) in zip(got, ref, strict=True):
            assert t == rt and nxt == last + 1 and legal == (last + 1) % 3
            assert r == pytest.approx(rr, rel=1e-6) and d == pytest.approx(rd, rel=1e-6)
    assert batch.action.dtype == np.int64 and (batch.action == batch.obs[:, 0] % 3).all()
    # By hand: env 0 from t=1 sees 2 + .9*3 + .81*4, then termination: no bootstrap.
    row = _all(replay)
    one = np.flatnonzero((row.obs[:, 0] == 1) & (row.obs[:, 1] == 0))[0]
    assert row.reward[one] == pytest.approx(2 + 0.9 * 3 + 0.81 * 4) and row.discount[one] == 0
    # env 1 from t=3 is cut by truncation at t=4: bootstraps with gamma^2 from obs 5.
    three = np.flatnonzero((row.obs[:, 0] == 3) & (row.obs[:, 1] == 1))[0]
    assert row.reward[three] == pytest.approx(40 + 0.9 * 50)
    assert row.discount[three] == pytest.approx(0.81) and row.next_obs[three, 0] == 5


def test_next_step_reset_rows_are_no_transition_and_cut_windows() -> None:
    replay = TransitionReplay(100, 2, (2,), n_step=2, gamma=0.5)
    valid = np.ones(2, bool)
    no, one = np.zeros(2, bool), np.ones(2, np.float32)
    _step(replay, 0, one, no, no, valid)
    _step(replay, 1, one, np.array([True, False]), no, valid)
    _step(replay, 2, one, no, no, np.array([False, True]))  # env 0's autoreset step
    _step(replay, 3, one, no, no, valid)
    batch = _all(replay)
    # ready: env 0 (0->2), (1->2 terminal); env 1 (0->2), (1->3), (2->4). Env 0's reset row
    # (obs 2) is none, and its step 3 waits for a window that does not reach back to the reset
    assert sorted(batch.obs[:, 0].tolist()) == [0, 0, 1, 1, 2]
    assert batch.next_obs[batch.obs[:, 0] == 2, 0].tolist() == [4]
    assert sorted(batch.discount.tolist()) == [0.0, 0.0, 0.25, 0.25, 0.25]
    replay.start(np.zeros((2, 2), np.float32))  # envs reset: pending windows are dropped
    _step(replay, 4, one, np.ones(2, bool), no)
    assert sorted(_all(replay).obs[:, 0].tolist()) == [0, 0, 1, 1, 2, 4, 4]


def test_transition_replay_round_trip_continues_the_stream_exactly(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from rlsuite import checkpoint

    def make() -> TransitionReplay:
        return TransitionReplay(24, 2, (2,), num_actions=3, n_step=3, gamma=0.9,
                                prioritized=True, alpha=0.7)  # fmt: skip

    rng = np.random.default_rng(0)
    steps = [(rng.normal(size=2).astype(np.float32), rng.random(2) < 0.2, rng.random(2) < 0.1)
             for _ in range(30)]  # fmt: skip
    replay = make()
    for t, (r, term, trunc) in enumerate(steps[:17]):  # wraps; windows pending mid-episode
        _step(replay, t, r, term, trunc & ~term)
    batch = replay.sample(8, np.random.default_rng(1))
    replay.update_priorities(batch.index, np.linspace(0.5, 4.0, 8))
    checkpoint.save(tmp_path, step=17, state={"replay": replay.state_dict()})
    copy = make()
    copy.load_state_dict(checkpoint.load(tmp_path).state["replay"])
    for t, (r, term, trunc) in enumerate(steps[17:], start=17):
        for rep in (replay, copy):
            _step(rep, t, r, term, trunc & ~term)
    a, b = (rep.sample(64, np.random.default_rng(2), beta=0.5) for rep in (replay, copy))
    for name, value in vars_of(a).items():
        assert np.array_equal(value, getattr(b, name)), name
    for name, value in replay.state_dict()["fields"].items():
        assert np.array_equal(value, copy.state_dict()["fields"][name]), name
    with pytest.raises(ValueError, match="does not fit"):
        TransitionReplay(24, 2, (2,), num_actions=3, n_step=2).load_state_dict(
            replay.state_dict()
        )


def test_transition_replay_transform_and_bad_input() -> None:
    seen: list[list[str]] = []

    def negate(fields: Fields, rng: np.random.Generator) -> Fields:
        seen.append(sorted(fields))
        return {**fields, "obs": -fields["obs"], "next_obs": -fields["next_obs"]}

    replay = TransitionReplay(16, 1, (2,), num_actions=3, transform=negate)
    no, one = np.zeros(1, bool), np.ones(1, np.float32)
    with pytest.raises(ValueError, match="no complete transition"):
        replay.sample(1, np.random.default_rng(0))
    _step(replay, 5, one, no, no)
    batch = replay.sample(2, np.random.default_rng(0))
    assert batch.obs[:, 0].tolist() == [-5, -5] and batch.next_obs[:, 0].tolist() == [-6, -6]
    assert seen == [["action", "discount", "next_mask", "next_obs", "obs", "reward"]]
    with pytest.raises(ValueError, match="next_mask must be given"):
        replay.add(np.zeros(1, int), one, no, no, np.zeros((1, 2)), obs=np.zeros((1, 2)))
    with pytest.raises(ValueError, match="finite"):
        _step(replay, 6, np.array([np.nan], np.float32), no, no)
    with pytest.raises(ValueError, match=r"valid must have shape \(1,\)"):
        _step(replay, 6, one, no, no, valid=np.ones(2, bool))
    with pytest.raises(ValueError, match=r"obs must have shape \(1, 2\)"):
        replay.add(np.zeros(1, int), one, no, no, np.zeros((1, 2)), obs=np.zeros((1, 3)),
                   next_mask=np.ones((1, 3), bool))  # fmt: skip
    with pytest.raises(ValueError, match="too small"):
        TransitionReplay(4, 2, (2,), n_step=3)
