"""Rollout collection into the shared ReplayBuffer: bootstrapping on truncation versus
termination, and the two Gymnasium autoreset modes giving the same advantages."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium.vector import AutoresetMode

from rlsuite.agents.pg.networks import ActorCritic, NetSpec
from rlsuite.agents.pg.rollout import RolloutCollector
from rlsuite.vecenv import GymVectorEnvs

GAMMA, LAM = 0.9, 0.8


def _always_left_policy() -> ActorCritic:
    """A fixed policy (action 0 with probability 1 - e^-100) with a random value net: episodes
    of CartPole with a 5-step limit then always end by truncation, before the pole falls."""
    torch.manual_seed(0)
    policy = ActorCritic(NetSpec(obs_shape=(4,), obs_dtype="float32", action_kind="discrete",
                                 action_dim=2))
    with torch.no_grad():
        policy.policy_head.weight.zero_()
        policy.policy_head.bias.copy_(torch.tensor([50.0, -50.0]))
    return policy


def _collect(mode: AutoresetMode, num_steps: int, max_steps: int = 5):
    vec = gym.make_vec("CartPole-v1", num_envs=2, vectorization_mode="sync",
                       vector_kwargs={"autoreset_mode": mode}, max_episode_steps=max_steps)
    envs = GymVectorEnvs(vec, seed=3)
    policy = _always_left_policy()
    collector = RolloutCollector(envs, policy, num_steps=num_steps)
    buffer = collector.new_buffer()
    episodes = collector.collect(buffer)
    collector.compute_advantages(buffer, GAMMA, LAM)
    envs.close()
    return buffer, episodes, policy


def test_rollout_fills_the_shared_buffer_time_major() -> None:
    buffer, episodes, _ = _collect(AutoresetMode.SAME_STEP, num_steps=12)
    assert len(buffer) == 24
    done = buffer.time_major("done", 2)
    assert done.shape == (12, 2)
    # 5-step limit: steps 4 and 9 (0-based) end every episode, all by truncation
    assert done[:, 0].nonzero()[0].tolist() == [4, 9]
    assert not buffer.time_major("terminated", 2).any()
    np.testing.assert_array_equal(episodes.lengths, [5, 5, 5, 5])
    np.testing.assert_array_equal(episodes.returns, [5.0, 5.0, 5.0, 5.0])
    assert (buffer.fields["action"][:24] == 0).all()


def test_truncation_bootstraps_from_the_final_observation() -> None:
    buffer, _, policy = _collect(AutoresetMode.SAME_STEP, num_steps=6)
    # rebuild the final observation of env 0's first episode by replaying it: same seed,
    # same (constant) actions
    env = gym.make("CartPole-v1", max_episode_steps=5)
    env.reset(seed=3)
    for _ in range(5):
        final_obs, *_ = env.step(0)
    with torch.no_grad():
        v_final = policy.value(torch.as_tensor(final_obs[None])).item()
    adv = buffer.time_major("advantage", 2)[:, 0]
    values = buffer.time_major("value", 2)[:, 0]
    assert buffer.time_major("final_value", 2)[4, 0] == pytest.approx(v_final, rel=1e-5)
    # the truncated step: A = r + gamma V(final obs) - V(s), no lambda-carry from the next
    # episode (row 5)
    assert adv[4] == pytest.approx(1.0 + GAMMA * v_final - values[4], rel=1e-5)
    # one step earlier: delta + gamma*lambda*A4
    delta3 = 1.0 + GAMMA * values[4] - values[3]
    assert adv[3] == pytest.approx(delta3 + GAMMA * LAM * adv[4], rel=1e-5)
    np.testing.assert_allclose(buffer.time_major("ret", 2), buffer.time_major("advantage", 2)
                               + buffer.time_major("value", 2), rtol=1e-6)


def test_next_step_autoreset_gives_the_same_advantages_as_same_step() -> None:
    """NEXT_STEP envs (Atari, batched CartPole) spend one dummy step per reset: those rows are
    marked invalid, and the real rows must carry exactly the SAME_STEP advantages."""
    same, _, _ = _collect(AutoresetMode.SAME_STEP, num_steps=10)
    nxt, episodes, _ = _collect(AutoresetMode.NEXT_STEP, num_steps=12)
    valid = nxt.time_major("valid", 2)
    assert valid[:, 0].tolist() == [True] * 5 + [False] + [True] * 5 + [False]
    np.testing.assert_array_equal(episodes.lengths, [5, 5, 5, 5])
    for env in range(2):
        real = nxt.time_major("advantage", 2)[:, env][valid[:, env]]
        np.testing.assert_allclose(real, same.time_major("advantage", 2)[:, env], rtol=1e-5)
        obs = nxt.time_major("obs", 2)[:, env][valid[:, env]]
        np.testing.assert_array_equal(obs, same.time_major("obs", 2)[:, env])
