"""ChipPlacementEnv and ChipGame: checkers, rewards, masks, rendering, SB3 training runs."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import rlsuite
from rlsuite.envs.chip import ChipGame, Netlist, synthetic_netlist
from rlsuite.envs.chip.env import ChipPlacementEnv
from rlsuite.envs.chip.metrics import overlap_area
from rlsuite.game import Game
from rlsuite.player import GreedyPlayer, RandomPlayer

ENV_ID = "rlsuite/ChipPlacement-v0"


def make(**kwargs) -> ChipPlacementEnv:
    """Through the registry when the id is registered (it is, by `import rlsuite`)."""
    assert ENV_ID in rlsuite.ENV_IDS
    return gym.make(ENV_ID, disable_env_checker=True, **kwargs).unwrapped


def test_gymnasium_and_sb3_checkers_pass():
    from stable_baselines3.common.env_checker import check_env as sb3_check_env

    check_env(gym.make(ENV_ID).unwrapped)  # default arguments: arbitrary actions are stepped
    env = make(render_mode="rgb_array")
    check_env(env)
    with warnings.catch_warnings():
        # SB3 guesses a 3-D Box is an image for its CNN policy; these planes are float features
        warnings.filterwarnings("ignore", message=".*is an image.*")
        warnings.filterwarnings("ignore", message=".*minimal resolution.*")
        sb3_check_env(env)
        sb3_check_env(gym.make(ENV_ID))


def test_registered_env_on_a_real_netlist(chip_data):
    env = make(netlist=chip_data / "mcnc_apte" / "apte.aux", grid=12)
    obs, info = env.reset(seed=0)
    assert obs.shape == (5, 12, 12) and obs.dtype == np.float32
    assert info["macro"].startswith("cc_") and info["action_mask"].any()
    np.testing.assert_array_equal(info["action_mask"], env.action_masks())


def play(env: ChipPlacementEnv, policy) -> tuple[list[float], dict]:
    obs, info = env.reset(seed=0)
    rewards, done = [], False
    while not done:
        obs, r, term, trunc, info = env.step(policy(info))
        assert env.observation_space.contains(obs)
        rewards.append(r)
        done = term or trunc
    return rewards, info


def first_legal(info) -> int:
    return int(np.flatnonzero(info["action_mask"])[0])


def test_dense_rewards_sum_to_normalised_wirelength():
    nl = synthetic_netlist(10, 40, 60, seed=7)
    env = make(netlist=nl)
    rewards, info = play(env, first_legal)
    assert len(rewards) == 10 and "metrics" in info
    centers = env.macro_centers()
    hpwl0 = env.model.hpwl0
    assert sum(rewards) == pytest.approx(-(nl.hpwl(centers) - hpwl0) / nl.wirelength_norm)
    assert info["metrics"]["hpwl"] == pytest.approx(nl.hpwl(centers))
    assert info["metrics"]["overlap"] < 1e-9


@pytest.mark.parametrize("seed", range(4))
def test_random_legal_play_never_overlaps(seed):
    env = make(netlist=synthetic_netlist(16, 20, 30, seed=seed, utilization=0.5), grid=12)
    rng = np.random.default_rng(seed)
    _, info = play(env, lambda info: int(rng.choice(np.flatnonzero(info["action_mask"]))))
    centers = env.macro_centers()
    placed = ~np.isnan(centers[:, 0])
    rects = env.model.netlist.node_rects(np.where(placed[:, None], centers, -1e6))
    hard = env.model.netlist.macro_ids[placed]
    assert overlap_area(rects[hard]) < 1e-9
    assert "metrics" in info or info["infeasible"]


def test_sparse_reward_is_minus_proxy_cost_at_the_end():
    env = make(reward="sparse")
    rewards, info = play(env, first_legal)
    assert all(r == 0.0 for r in rewards[:-1])
    assert rewards[-1] == pytest.approx(-info["metrics"]["proxy_cost"])
    assert rewards[-1] < 0


def test_illegal_cells_lose_by_default_or_raise():
    env = make(illegal_action="raise")
    _, info = env.reset(seed=0)
    bad = int(np.flatnonzero(~info["action_mask"])[0])
    with pytest.raises(ValueError, match="illegal action"):
        env.step(bad)
    env = make(infeasible_cost=3.0)
    obs, info = env.reset(seed=0)
    obs2, r, term, trunc, info2 = env.step(bad)
    assert (r, term, trunc) == (-3.0, True, False) and "not in the action mask" in info2[
        "illegal_move"]
    np.testing.assert_array_equal(obs, obs2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(first_legal(info))
    env.reset(seed=0)
    assert not env.step(first_legal(info))[2]  # a new episode after reset
    with pytest.raises(ValueError, match="reward must be one of"):
        make(reward="shaped")
    with pytest.raises(ValueError, match="illegal_action must be one of"):
        make(illegal_action="penalize")


@pytest.mark.parametrize("action", ["22", 22.9, True, None, -1, 10**6, np.array([1, 2])])
def test_non_cells_are_value_errors_whatever_the_illegal_option(action):
    for option in ("lose", "raise"):
        env = make(illegal_action=option)
        env.reset(seed=0)
        with pytest.raises(ValueError, match="action"):
            env.step(action)


def test_numpy_integers_are_cells():
    env = make()
    _, info = env.reset(seed=0)
    cell = first_legal(info)
    for action in (np.int64(cell), np.array(cell), np.uint8(cell)):
        env.reset(seed=0)
        assert "illegal_move" not in env.step(action)[4]


def tight_netlist() -> Netlist:
    """Two 6x6 macros on a 10x10 canvas: the second can never fit."""
    return Netlist(
        name="tight", node_names=["a", "b"], kind=[0, 0], size=[[6, 6], [6, 6]],
        pos=[[3, 3], [7, 7]], net_ptr=[0, 2], pin_node=[0, 1], pin_offset=np.zeros((2, 2)),
        net_weight=[1.0], origin=(0, 0), canvas=(10, 10),
    )


def test_dead_end_ends_the_episode_with_the_infeasible_cost():
    env = make(netlist=tight_netlist(), grid=10, infeasible_cost=3.0)
    _, info = env.reset()
    _, r, term, _, info = env.step(first_legal(info))
    assert term and info["infeasible"] and r == pytest.approx(-3.0)
    assert not info["action_mask"].any()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    game = env.game
    state = game.next_state(game.initial_state(), first_legal({"action_mask": game.legal_mask(
        game.initial_state())}))
    assert game.is_terminal(state) and game.returns(state)[0] == -3.0


def test_render_rgb_and_human(tmp_path):
    env = make(render_mode="rgb_array", show_congestion=True, render_size=200)
    _, info = env.reset(seed=0)
    empty = env.render()
    env.step(first_legal(info))
    frame = env.render()
    assert frame.shape == (200, 200, 3) and frame.dtype == np.uint8
    assert (frame != empty).any() and len(np.unique(frame.reshape(-1, 3), axis=0)) > 10
    human = make(render_mode="human", render_size=160)
    human.metadata = {**human.metadata, "render_fps": 1000}
    _, info = human.reset(seed=0)
    human.step(first_legal(info))
    human.close()


def test_game_protocol_and_players():
    game = ChipGame(synthetic_netlist(6, 20, 20, seed=1))
    assert isinstance(game, Game) and game.num_players == 1
    for player in (RandomPlayer(seed=0), GreedyPlayer(seed=0)):
        player.reset(game)
        state = game.initial_state()
        while not game.is_terminal(state):
            assert game.to_play(state) == 0
            state = game.next_state(state, player.act(state))
        assert game.returns(state).shape == (1,)
    planes = game.encode(game.initial_state())
    assert planes.shape == game.observation_shape and planes.min() >= 0 and planes.max() <= 1
    batch = game.encode_batch([game.initial_state()] * 2)
    assert batch.shape == (2, *game.observation_shape)
    with pytest.raises(ValueError, match="terminal"):
        game.returns(game.initial_state())


def test_greedy_player_beats_random_on_proxy_cost():
    game = ChipGame(synthetic_netlist(20, 100, 150, seed=3))

    def final(player):
        player.reset(game)
        state = game.initial_state()
        while not game.is_terminal(state):
            state = game.next_state(state, player.act(state))
        return game.returns(state)[0]

    greedy = final(GreedyPlayer(seed=0))
    randoms = [final(RandomPlayer(seed=s)) for s in range(3)]
    assert greedy > max(randoms)


def test_same_actions_same_observations():
    a, b = make(), make()
    oa, ia = a.reset(seed=1)
    ob, _ = b.reset(seed=2)
    np.testing.assert_array_equal(oa, ob)
    for _ in range(3):
        act = first_legal(ia)
        oa, ra, *_, ia = a.step(act)
        ob, rb, *_ = b.step(act)
        np.testing.assert_array_equal(oa, ob)
        assert ra == rb


def test_sb3_ppo_and_maskable_ppo_run_2k_steps():
    from sb3_contrib import MaskablePPO
    from stable_baselines3 import PPO
    from stable_baselines3.common.env_util import make_vec_env

    small = {"n_steps": 128, "batch_size": 128, "n_epochs": 1, "seed": 0, "device": "cpu",
             "policy_kwargs": {"net_arch": [64]}}
    lenient = make_vec_env(lambda: make(), n_envs=4, seed=0)  # illegal cells lose
    ppo = PPO("MlpPolicy", lenient, **small).learn(2048)
    assert ppo.num_timesteps >= 2048
    # strict env: a single unmasked illegal action would raise, so masks reach the policy
    strict = make_vec_env(lambda: make(illegal_action="raise"), n_envs=4, seed=0)
    masked = MaskablePPO("MlpPolicy", strict, **small).learn(2048)
    assert masked.num_timesteps >= 2048
