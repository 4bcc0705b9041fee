"""FrameReplay against a naive buffer that keeps every observation stack whole.

Streams come from a synthetic NEXT_STEP vector env (random frames and episode ends, including
the rare done reported on an autoreset step) and from the real make_atari (life losses, game
overs); small capacities force the ring to wrap many times.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pytest

from rlsuite import checkpoint
from rlsuite.envs.atari import make_atari
from rlsuite.frame_replay import FrameReplay
from rlsuite.nstep_replay import Transitions


class StackedFrames:
    """A NEXT_STEP vector env of random frames with zero-padded stacks at episode starts."""

    def __init__(
        self, num_envs: int, seed: int, shape: tuple[int, int] = (3, 2), ends: bool = True
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.end_rate = 0.08 if ends else 0.0
        self.num_envs, self.shape = num_envs, shape
        self.obs = np.zeros((num_envs, 4, *shape), dtype=np.uint8)
        self.after_done = np.zeros(num_envs, dtype=bool)

    def frame(self) -> np.ndarray:
        return self.rng.integers(1, 256, size=self.shape, dtype=np.uint8)

    def reset(self) -> np.ndarray:
        self.obs[:] = 0
        for e in range(self.num_envs):
            self.obs[e, -1] = self.frame()
        self.after_done[:] = False
        return self.obs.copy()

    def step(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        n = self.num_envs
        reward = self.rng.normal(size=n).astype(np.float32)
        terminated = self.rng.random(n) < self.end_rate
        truncated = ~terminated & (self.rng.random(n) < self.end_rate / 2)
        for e in range(n):
            if self.after_done[e]:  # autoreset step: a new episode, usually no done
                self.obs[e] = 0
                reward[e] = 0.0
                terminated[e] &= self.rng.random() < 0.1
                truncated[e] = False
            else:
                self.obs[e, :-1] = self.obs[e, 1:]
            self.obs[e, -1] = self.frame()
        self.after_done = terminated | truncated
        return self.obs.copy(), reward, terminated, truncated


@dataclass
class NaiveReplay:
    """Every step's full observation per env; n-step transitions computed by walking forward."""

    n_step: int
    gamma: float
    obs: list[np.ndarray] = field(default_factory=list)  # per write: (num_envs, 4, ...)
    steps: list[tuple[np.ndarray, ...]] = field(default_factory=list)  # (a, r, term, trunc)
    real: list[np.ndarray] = field(default_factory=list)  # step leads from the previous obs

    def start(self, obs: np.ndarray) -> None:
        self.obs.append(obs.copy())
        self.steps.append((None,) * 4)  # type: ignore[arg-type]
        self.real.append(np.zeros(len(obs), dtype=bool))

    def add(self, action, reward, terminated, truncated, next_obs, real) -> None:  # type: ignore[no-untyped-def]
        self.obs.append(next_obs.copy())
        self.steps.append((action.copy(), reward.copy(), terminated.copy(), truncated.copy()))
        self.real.append(real.copy())

    def transition(self, t: int, env: int) -> dict[str, Any] | None:
        """The n-step transition from write t of `env`, or None if not (yet) a whole one."""
        if t + 1 >= len(self.obs) or not self.real[t + 1][env]:
            return None
        reward, m = 0.0, 0
        for k in range(1, self.n_step + 1):
            if t + k >= len(self.obs) or not self.real[t + k][env]:
                return None  # window not complete yet, or cut by a restart
            _, r, term, trunc = self.steps[t + k]
            reward += self.gamma ** (k - 1) * float(r[env])
            m = k
            if term[env] or trunc[env]:
                break
        terminated = bool(self.steps[t + m][2][env])
        return {
            "obs": self.obs[t][env],
            "action": int(self.steps[t + 1][0][env]),
            "reward": reward,
            "next_obs": self.obs[t + m][env],
            "discount": 0.0 if terminated else self.gamma**m,
        }


def vars_of(batch: Transitions) -> dict[str, Any]:
    return {f.name: getattr(batch, f.name) for f in fields(batch)}


def check_against_naive(replay: FrameReplay, naive: NaiveReplay) -> int:
    """Every transition the naive buffer can form from surviving rows is ready in `replay`, and
    nothing else; each has the same stacks, action, n-step reward and discount."""
    writes = len(naive.obs)
    expected = {}
    oldest = max(0, writes - replay.rows + replay.stack - 1)  # stacks must survive whole
    for t in range(oldest, writes):
        for env in range(replay.num_envs):
            tr = naive.transition(t, env)
            if tr is not None:
                expected[((t + 1) % replay.rows) * replay.num_envs + env] = tr
    ready = replay.ready_index()
    assert sorted(expected) == ready.tolist()
    assert len(replay) == len(ready)
    if not len(ready):
        return 0
    batch = replay.get(ready)
    for i, slot in enumerate(ready.tolist()):
        tr = expected[slot]
        assert np.array_equal(batch.obs[i], tr["obs"])
        assert np.array_equal(batch.next_obs[i], tr["next_obs"])
        assert batch.action[i] == tr["action"]
        assert batch.reward[i] == pytest.approx(tr["reward"], rel=1e-5, abs=1e-5)
        assert batch.discount[i] == pytest.approx(tr["discount"], rel=1e-6)
    return len(ready)


@pytest.mark.parametrize(("n_step", "rows"), [(1, 12), (3, 9), (5, 40)])
def test_same_transitions_as_a_naive_stacked_buffer(n_step: int, rows: int) -> None:
    env = StackedFrames(num_envs=3, seed=n_step)
    replay = FrameReplay(rows * 3, 3, frame_shape=env.shape, n_step=n_step, gamma=0.9)
    naive = NaiveReplay(n_step, 0.9)
    obs = env.reset()
    replay.start(obs)
    naive.start(obs)
    rng = np.random.default_rng(0)
    checked = 0
    for step in range(150):  # many ring wrap-arounds
        real = ~env.after_done
        action = rng.integers(0, 6, size=3)
        obs, reward, terminated, truncated = env.step()
        replay.add(action, reward, terminated, truncated, obs)
        naive.add(action, reward, terminated, truncated, obs, real)
        if step % 7 == 0:
            checked += check_against_naive(replay, naive)
        if step == 80:  # a restart in the middle of episodes (e.g. after evaluation)
            obs = env.reset()
            replay.start(obs)
            naive.start(obs)
    assert checked > 100


def test_real_atari_stream_with_life_losses_and_wrap_around() -> None:
    env = make_atari("Breakout", num_envs=2, seed=3, training=True)
    replay = FrameReplay(2 * 70, 2, n_step=3, gamma=0.99)
    naive = NaiveReplay(3, 0.99)
    obs, _ = env.reset()
    replay.start(obs)
    naive.start(obs)
    rng = np.random.default_rng(0)
    after_done = np.zeros(2, dtype=bool)
    ends = 0
    for _ in range(260):
        action = rng.integers(0, env.num_actions, size=2)
        obs, reward, terminated, truncated, _ = env.step(action)
        replay.add(action, reward, terminated, truncated, obs)
        naive.add(action, reward, terminated, truncated, obs, ~after_done)
        after_done = terminated | truncated
        ends += int(after_done.sum())
    assert ends >= 5  # life losses, each followed by a fresh stack
    assert check_against_naive(replay, naive) > 80


def test_uniform_sampling_covers_ready_transitions_evenly() -> None:
    env = StackedFrames(num_envs=2, seed=5)
    replay = FrameReplay(2 * 30, 2, frame_shape=env.shape, n_step=2)
    replay.start(env.reset())
    for _ in range(25):
        obs, reward, terminated, truncated = env.step()
        replay.add(np.zeros(2, dtype=np.int64), reward, terminated, truncated, obs)
    ready = replay.ready_index()
    batch = replay.sample(40_000, np.random.default_rng(0))
    assert np.isin(batch.index, ready).all()
    counts = np.bincount(batch.index, minlength=replay.capacity)[ready]
    expected = 40_000 / len(ready)
    assert np.abs(counts - expected).max() < 0.2 * expected
    assert batch.weight is None and batch.obs.dtype == np.uint8


def test_prioritized_sampling_follows_priorities() -> None:
    env = StackedFrames(num_envs=1, seed=6, ends=False)
    replay = FrameReplay(20, 1, frame_shape=env.shape, prioritized=True, alpha=1.0, beta=1.0)
    obs = env.reset()
    replay.start(obs)
    for _ in range(6):
        obs, reward, _, _ = env.step()
        no = np.zeros(1, dtype=bool)
        replay.add(np.zeros(1, dtype=np.int64), reward, no, no, obs)
    ready = replay.ready_index()
    assert len(ready) == 6
    priorities = np.arange(1, 7, dtype=np.float64)
    replay.update_priorities(ready, priorities)
    batch = replay.sample(60_000, np.random.default_rng(1))
    freq = np.bincount(batch.index, minlength=20)[ready] / 60_000
    assert np.allclose(freq, priorities / priorities.sum(), atol=0.01)
    # Importance weights (N P(i))^-beta / max: the rarest transition weighs 1.
    assert batch.weight is not None and replay.sampler.tree is not None
    weights = {int(i): float(w) for i, w in zip(batch.index, batch.weight, strict=True)}
    assert weights[int(ready[0])] == pytest.approx(1.0)
    assert weights[int(ready[5])] == pytest.approx(1 / 6, rel=1e-4)
    # New transitions arrive with the largest priority seen so far.
    obs, reward, _, _ = env.step()
    no = np.zeros(1, dtype=bool)
    replay.add(np.zeros(1, dtype=np.int64), reward, no, no, obs)
    newest = np.setdiff1d(replay.ready_index(), ready)
    assert replay.sampler.tree.get(newest)[0] == pytest.approx(6.0 + replay.sampler.eps, rel=1e-6)


def test_priorities_of_unsampleable_slots_stay_zero() -> None:
    """Slots overwritten (or whose stacks were) since sampling are not revived by an update."""
    env = StackedFrames(num_envs=1, seed=7, ends=False)
    replay = FrameReplay(8, 1, frame_shape=env.shape, prioritized=True)
    replay.start(env.reset())
    no = np.zeros(1, dtype=bool)
    for _ in range(13):
        obs, reward, _, _ = env.step()
        replay.add(np.zeros(1, dtype=np.int64), reward, no, no, obs)
    ready = len(replay)
    dead = np.setdiff1d(np.arange(8), replay.ready_index())
    assert len(dead) == 8 - ready >= 3  # the oldest stacks reach into overwritten rows
    replay.update_priorities(dead, np.full(len(dead), 9.0))
    assert replay.sampler.tree is not None
    assert (replay.sampler.tree.get(dead) == 0).all() and len(replay) == ready


def test_checkpoint_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A restored replay samples like the saved one and continues its stream exactly; after
    `start` (envs that could not be restored) it begins a new one."""
    env = StackedFrames(num_envs=2, seed=8)

    def make() -> FrameReplay:
        return FrameReplay(2 * 16, 2, frame_shape=env.shape, n_step=3, prioritized=True)

    replay = make()
    replay.start(env.reset())
    for _ in range(30):
        obs, reward, terminated, truncated = env.step()
        replay.add(np.array([1, 2]), reward, terminated, truncated, obs)
    batch = replay.sample(8, np.random.default_rng(0))
    replay.update_priorities(batch.index, np.linspace(0.1, 3.0, 8))
    checkpoint.save(tmp_path, step=30, state={"replay": replay.state_dict()})
    restored = make()
    restored.load_state_dict(checkpoint.load(tmp_path).state["replay"])
    assert len(restored) == len(replay)
    for _ in range(5):  # the stream goes on where it stopped
        obs, reward, terminated, truncated = env.step()
        for r in (replay, restored):
            r.add(np.array([1, 2]), reward, terminated, truncated, obs)
    a, b = (r.sample(16, np.random.default_rng(3)) for r in (replay, restored))
    for key, value in vars_of(a).items():
        assert np.array_equal(value, getattr(b, key)), key
    ready = len(restored)
    restored.start(env.reset())  # a new stream: pending windows never complete
    assert len(restored) <= ready
    with pytest.raises(ValueError, match="does not fit"):
        FrameReplay(2 * 16, 2, frame_shape=env.shape, n_step=1).load_state_dict(
            replay.state_dict()
        )


def test_memory_per_transition() -> None:
    replay = FrameReplay(100_000, 8, n_step=3, prioritized=True)  # lazily allocated pages
    assert replay.bytes_per_transition <= 7.5 * 1024
    assert replay.capacity == 100_000
    # One 84x84 frame plus a few bytes of step data and the sampling tree.
    assert 84 * 84 < replay.bytes_per_transition < 84 * 84 + 64


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="too small"):
        FrameReplay(10, 2)
    with pytest.raises(ValueError, match="gamma"):
        FrameReplay(100, 1, gamma=1.5)
    env = StackedFrames(num_envs=2, seed=9)
    replay = FrameReplay(64, 2, frame_shape=env.shape)
    obs = env.reset()
    with pytest.raises(ValueError, match="start"):
        no = np.zeros(2, dtype=bool)
        replay.add(np.zeros(2, dtype=np.int64), np.zeros(2), no, no, obs)
    with pytest.raises(ValueError, match="no complete transition"):
        replay.start(obs)
        replay.sample(4, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"uint8 \(2, 4, 3, 2\)"):
        replay.start(obs.astype(np.float32))
    with pytest.raises(ValueError, match="older frames are not zero"):
        replay.start(np.ones_like(obs))
    no = np.zeros(2, dtype=bool)
    with pytest.raises(ValueError, match="does not continue"):
        replay.add(np.zeros(2, dtype=np.int64), np.zeros(2), no, no, obs)  # obs, not next_obs
    next_obs, *_ = env.step()
    with pytest.raises(ValueError, match=r"action must have shape \(2,\)"):
        replay.add(np.zeros(3, dtype=np.int64), np.zeros(2), no, no, next_obs)
    with pytest.raises(ValueError, match="integers"):
        replay.add(np.zeros(2), np.zeros(2), no, no, next_obs)
    with pytest.raises(ValueError, match="prioritized=True"):
        replay.update_priorities(np.zeros(1, dtype=np.int64), np.ones(1))
    with pytest.raises(ValueError, match="NEXT_STEP autoreset"):  # a same-step env's stream
        replay.add(np.zeros(2, dtype=np.int64), np.zeros(2), no, no, next_obs,
                   valid=np.array([True, False]))  # fmt: skip
    with pytest.raises(ValueError, match="unmasked"):
        replay.add(np.zeros(2, dtype=np.int64), np.zeros(2), no, no, next_obs,
                   next_mask=np.ones((2, 3), bool))  # fmt: skip


def test_transform_hook_sees_rebuilt_stacks() -> None:
    """The hook gets the stacks as the learner would (here: mirrored frames) and the stored
    frames stay as they were."""
    env = StackedFrames(num_envs=1, seed=10, ends=False)

    def mirror(batch: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        return {**batch, "obs": batch["obs"][..., ::-1].copy(),
                "next_obs": batch["next_obs"][..., ::-1].copy()}  # fmt: skip

    replay = FrameReplay(16, 1, frame_shape=env.shape, transform=mirror)
    replay.start(env.reset())
    no = np.zeros(1, dtype=bool)
    for _ in range(5):
        obs, reward, _, _ = env.step()
        replay.add(np.zeros(1, dtype=np.int64), reward, no, no, obs)
    batch = replay.sample(8, np.random.default_rng(0))
    plain = replay.get(batch.index)
    assert np.array_equal(batch.obs, plain.obs[..., ::-1])
    assert np.array_equal(batch.next_obs, plain.next_obs[..., ::-1])
