"""The one vector-env layer: both autoreset modes give the same transitions, masks follow the
env, episodes are counted whole, and in-process envs resume exactly by replay."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers the env ids)
from rlsuite.vecenv import GymVectorEnvs, InProcessEnvs, evaluate_episodes, make_envs


def test_in_process_envs_match_gymnasium_vector_env_with_next_step_reset() -> None:
    """Same seed, same actions: the in-process envs (same-step reset) and Gymnasium's
    SyncVectorEnv (next-step reset) give the same transitions and episode returns; the vector
    env's reset steps come out marked invalid."""
    py = InProcessEnvs(lambda: gym.make("CartPole-v1"), 1, seed=3)
    vec = GymVectorEnvs(gym.make_vec("CartPole-v1", num_envs=1), seed=3)
    rng = np.random.default_rng(0)
    py_log, vec_log, resets = [], [], 0
    for _ in range(300):
        actions = rng.integers(0, 2, 1)
        a = py.step(actions)
        py_log.append((a.next_obs[0].tolist(), bool(a.terminated[0]), a.episode_returns))
        b = vec.step(actions)
        assert b.valid is not None
        if not b.valid[0]:  # the reset step: no transition, then the real one
            resets += 1
            assert b.episode_returns == []
            b = vec.step(actions)
        vec_log.append((b.next_obs[0].tolist(), bool(b.terminated[0]), b.episode_returns))
        if not (b.terminated[0] or b.truncated[0]):
            assert np.array_equal(py.obs, vec.obs)
    assert resets >= 5 and py_log == vec_log


def test_same_step_vector_env_reports_final_observations() -> None:
    vec = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync",
                       vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP},
                       max_episode_steps=3)
    envs = GymVectorEnvs(vec, seed=0)
    for _ in range(2):
        envs.step(np.zeros(2, np.int64))
    before = envs.obs
    step = envs.step(np.zeros(2, np.int64))
    assert step.truncated.all() and step.valid is None and step.episode_lengths == [3, 3]
    assert not np.array_equal(step.next_obs, envs.obs)  # final obs vs the new episodes' first
    assert not np.array_equal(step.next_obs, before)


def test_masks_come_from_info_and_follow_each_step() -> None:
    envs = make_envs("rlsuite/Go-v0", 2, seed=0, env_kwargs={"board_size": 5})
    assert envs.mask is not None and envs.mask.shape == (2, 26)
    rng = np.random.default_rng(0)
    for _ in range(40):
        mask = envs.mask
        actions = np.array([rng.choice(np.flatnonzero(m)) for m in mask])
        step = envs.step(actions)  # Go raises on an illegal move: every action was legal
        assert step.next_mask is not None and step.next_mask.shape == (2, 26)
    envs.close()


def test_evaluate_counts_whole_episodes_per_env() -> None:
    envs = InProcessEnvs(lambda: gym.make("CartPole-v1"), 3, seed=0)
    returns = evaluate_episodes(lambda obs, mask: np.zeros(len(obs), dtype=np.int64), envs, 7)
    assert returns.shape == (7,)
    assert (returns >= 8).all() and (returns <= 12).all()  # always-left falls in ~10 steps


@pytest.mark.parametrize(("env_id", "kwargs"), [("rlsuite/Go-v0", {"board_size": 5}),
                                                 ("Pendulum-v1", {})])
def test_in_process_envs_resume_exactly_by_replay(env_id: str, kwargs: dict) -> None:
    """A fresh copy loaded from `state_dict` mid-episode continues exactly like the original,
    for masked discrete (Go against its random opponent) and continuous (Pendulum) actions."""
    def act(envs: InProcessEnvs, rng: np.random.Generator) -> np.ndarray:
        if envs.mask is not None:
            return np.array([rng.choice(np.flatnonzero(m)) for m in envs.mask])
        return rng.uniform(-2, 2, size=(envs.num_envs, 1)).astype(np.float32)

    def make() -> InProcessEnvs:
        return InProcessEnvs(lambda: gym.make(env_id, **kwargs), 2, seed=5)

    original, rng = make(), np.random.default_rng(1)
    for _ in range(23):
        original.step(act(original, rng))
    copy = make()
    copy.load_state_dict(original.state_dict())
    assert np.array_equal(copy.obs, original.obs)
    seed = int(rng.integers(2**32))
    rng_orig, rng_copy = np.random.default_rng(seed), np.random.default_rng(seed)
    for _ in range(60):
        a, b = original.step(act(original, rng_orig)), copy.step(act(copy, rng_copy))
        assert np.array_equal(a.next_obs, b.next_obs) and np.array_equal(a.reward, b.reward)
        assert a.episode_returns == b.episode_returns


def test_vector_envs_without_snapshot_restart_fresh() -> None:
    envs = make_envs("CartPole-v1", 2, seed=0, vectorization="native")
    assert not envs.restorable
    state = envs.state_dict()
    envs.step(np.zeros(2, np.int64))
    envs.load_state_dict(state)  # fresh episodes from another seed, counters reset
    assert envs.obs.shape == (2, 4)
    envs.close()


def test_bad_vectorization_is_named() -> None:
    with pytest.raises(ValueError, match="vectorization must be"):
        make_envs("CartPole-v1", 1, seed=0, vectorization="threads")  # type: ignore[arg-type]
