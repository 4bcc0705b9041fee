"""rlsuite/Go-v0 (Gymnasium), the PettingZoo AEC adapter and the pygame board view."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import rlsuite  # noqa: F401  (registers rlsuite/Go-v0)
from rlsuite.envs.go import GoBoardView, GoGame, aec_env, gtp_to_action
from rlsuite.envs.go.env import GoEnv
from rlsuite.player import RandomPlayer


def make(**kwargs):
    return gym.make("rlsuite/Go-v0", **kwargs)


def test_registered_id_builds_a_go_env():
    env = make(board_size=5)
    assert isinstance(env.unwrapped, GoEnv)
    assert env.observation_space.shape == (17, 5, 5)
    assert env.observation_space.dtype == np.uint8
    assert env.action_space.n == 26
    env.close()


def test_gymnasium_env_checker_passes():
    from gymnasium.utils.env_checker import check_env

    check_env(make().unwrapped)  # default arguments: the checker steps arbitrary actions
    env = make(board_size=5, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    env = make(board_size=5, agent_color="white", opponent="greedy")
    check_env(env.unwrapped)


# SB3 reads a 3-D uint8 Box as an image and advises 0..255 bounds and 36x36 frames for its
# CnnPolicy; Go planes are 0/1 and small, and the tests use MlpPolicy.
@pytest.mark.filterwarnings("ignore:It seems that your observation space")
@pytest.mark.filterwarnings("ignore:Treating image space as channels-last")
@pytest.mark.filterwarnings("ignore:The minimal resolution for an image")
def test_sb3_env_checker_passes():
    from stable_baselines3.common.env_checker import check_env

    check_env(make(), warn=True)  # the registered id with default arguments
    check_env(GoEnv(board_size=5), warn=True)


def test_a_full_game_against_random_gives_a_final_reward():
    env = make(board_size=5, komi=0.5)
    obs, info = env.reset(seed=3)
    rng = np.random.default_rng(0)
    assert obs.shape == (17, 5, 5) and info["action_mask"].dtype == np.bool_
    total, steps, terminated = 0.0, 0, False
    while not terminated:
        legal = np.flatnonzero(info["action_mask"])
        obs, reward, terminated, truncated, info = env.step(int(rng.choice(legal)))
        assert not truncated
        total += reward
        steps += 1
        if not terminated:
            assert reward == 0.0
            assert np.array_equal(info["action_mask"], env.unwrapped.action_masks())
    game, state = env.unwrapped.game, env.unwrapped.state
    assert total == game.returns(state)[0] != 0.0
    assert info["score"] == game.score(state)
    assert info["action_mask"].tolist() == [False] * 25 + [True]  # pass only, once it is over
    with pytest.raises(RuntimeError, match="reset"):
        env.step(25)


def test_observation_is_from_the_agents_side_when_playing_white():
    env = GoEnv(board_size=5, agent_color="white", opponent="greedy")
    obs, info = env.reset(seed=0)
    assert env.state.move_count == 1  # black (the opponent) has moved
    black_stone = np.argwhere(obs[1] == 1)
    assert len(black_stone) == 1 and obs[0].sum() == 0  # plane 1 = opponent's stones
    assert (obs[-1] == 0).all()  # white to play
    assert not info["action_mask"][black_stone[0][0] * 5 + black_stone[0][1]]


def test_random_colour_and_seeded_resets_repeat():
    env = GoEnv(board_size=5, agent_color="random")
    colours = set()
    for seed in range(8):
        env.reset(seed=seed)
        colours.add(env.agent)
    assert colours == {0, 1}
    first = [GoEnv(board_size=5, agent_color="white").reset(seed=7)[0] for _ in range(2)]
    assert np.array_equal(first[0], first[1])


def test_illegal_action_raise_names_the_move():
    env = make(board_size=5, illegal_action="raise")
    env.reset(seed=0)
    env.unwrapped.state = env.unwrapped.game.next_state(env.unwrapped.game.initial_state(), 12)
    env.unwrapped.state = env.unwrapped.game.next_state(env.unwrapped.state, 25)
    with pytest.raises(ValueError, match=r"illegal move C3 \(action 12\): the point is occupied"):
        env.step(12)


def test_illegal_action_loses_by_default_ending_the_game_with_minus_one():
    env = GoEnv(board_size=5)
    env.reset(seed=0)
    stone = int(np.flatnonzero(env.game.board(env.state).ravel() == 0)[0])
    env.step(stone)
    occupied = stone
    obs, reward, terminated, truncated, info = env.step(occupied)
    assert (reward, terminated, truncated) == (-1.0, True, False)
    assert "occupied" in info["illegal_move"]
    with pytest.raises(RuntimeError, match="reset"):
        env.step(25)


@pytest.mark.parametrize("action", [-1, 26, 3.5, "D4", None])
def test_out_of_range_actions_are_value_errors(action):
    env = make(board_size=5)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(action)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"board_size": 20}, "board size 20"),
        ({"opponent": "gnugo"}, "opponent"),
        ({"opponent": object()}, "reset/act/close"),
        ({"agent_color": "red"}, "agent_color"),
        ({"illegal_action": "ignore"}, "illegal_action"),
        ({"render_mode": "ansi"}, "render_mode"),
    ],
)
def test_bad_env_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GoEnv(**kwargs)


def test_an_opponent_player_object_is_used_as_given():
    class PassingPlayer:
        name = "passer"

        def reset(self, game):
            self.resets = getattr(self, "resets", 0) + 1

        def act(self, state):
            return 25

        def close(self):
            pass

    opponent = PassingPlayer()
    env = GoEnv(board_size=5, opponent=opponent, komi=0.5)
    env.reset(seed=0)
    _, reward, terminated, _, info = env.step(12)
    assert opponent.resets == 1 and not terminated
    _, reward, terminated, _, info = env.step(25)  # we pass after its pass: game over
    assert terminated and reward == 1.0 and info["score"] == 24.5


def test_a_misbehaving_opponent_is_named():
    class Cheater:
        name = "cheater"

        def reset(self, game):
            pass

        def act(self, state):
            return 12

        def close(self):
            pass

    env = GoEnv(board_size=5, opponent=Cheater())
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="opponent cheater: illegal move C3"):
        env.step(12)
    Cheater.act = lambda self, state: 99  # off the board altogether
    env.reset(seed=0)
    with pytest.raises(RuntimeError, match="opponent cheater: action 99 out of range"):
        env.step(12)


def test_sb3_ppo_runs_2k_steps_on_go_5x5():
    from stable_baselines3 import PPO

    env = make(board_size=5, illegal_action="lose")
    model = PPO("MlpPolicy", env, n_steps=512, batch_size=128, n_epochs=2, seed=0, device="cpu")
    model.learn(total_timesteps=2048)
    assert model.num_timesteps >= 2048
    env.close()


def test_maskable_ppo_uses_the_action_masks():
    from sb3_contrib import MaskablePPO

    env = GoEnv(board_size=5)  # illegal moves would raise: the masks must be honoured
    model = MaskablePPO("MlpPolicy", env, n_steps=256, batch_size=64, n_epochs=1, seed=0)
    model.learn(total_timesteps=512)
    assert model.num_timesteps >= 512


# ----- PettingZoo ---------------------------------------------------------------------------


# PettingZoo's classic board games share this dict observation; api_test notes it.
@pytest.mark.filterwarnings("ignore:Observation space for each agent probably")
@pytest.mark.filterwarnings("ignore:Observation is not a NumPy array")
def test_pettingzoo_api_test_passes():
    from pettingzoo.test import api_test

    api_test(aec_env(board_size=5), num_cycles=200)
    api_test(aec_env(board_size=3, illegal_action="lose"), num_cycles=50)


def test_aec_two_agents_play_a_game_to_the_end():
    env = aec_env(board_size=5, komi=0.5)
    env.reset(seed=0)
    rng = np.random.default_rng(1)
    players = {a: RandomPlayer(i) for i, a in enumerate(env.possible_agents)}
    totals = dict.fromkeys(env.possible_agents, 0.0)
    for agent in env.agent_iter(max_iter=500):
        obs, reward, terminated, truncated, info = env.last()
        totals[agent] += reward
        if terminated or truncated:
            env.step(None)
            continue
        mask = obs["action_mask"]
        assert mask.sum() >= 1 and obs["observation"].shape == (17, 5, 5)
        env.step(int(rng.choice(np.flatnonzero(mask))))
    assert sorted(totals.values()) == [-1.0, 1.0]
    assert players  # RandomPlayer is importable alongside the adapter


def test_aec_illegal_move_loses_by_default_or_raises():
    env = aec_env(board_size=5, illegal_action="raise")
    env.reset()
    env.step(12)
    with pytest.raises(ValueError, match="occupied"):
        env.step(12)
    env = aec_env(board_size=5)
    env.reset()
    env.step(12)
    env.step(12)  # white plays on black's stone
    assert env.rewards == {"black_0": 1.0, "white_0": -1.0}
    assert "occupied" in env.infos["white_0"]["illegal_move"]
    assert all(env.terminations.values())


# ----- pygame view ----------------------------------------------------------------------------


def _pixel(img: np.ndarray, xy: tuple[int, int]) -> np.ndarray:
    x, y = xy
    return img[y, x].astype(int)


def test_view_draws_stones_at_their_intersections():
    g = GoGame(9)
    s = g.initial_state()
    for v in ("D4", "E5", "C7"):
        s = g.next_state(s, gtp_to_action(v, 9))
    view = GoBoardView(9, cell=30)
    img = view.render(g, s)
    assert img.shape == (view.height, view.width, 3) and img.dtype == np.uint8
    black = view.point_center(gtp_to_action("D4", 9))
    white = view.point_center(gtp_to_action("E5", 9))
    empty = view.point_center(gtp_to_action("F6", 9))
    off_centre = (black[0] + 6, black[1] + 6)  # inside the stone, off the grid lines
    assert _pixel(img, off_centre).max() < 60  # black stone
    assert _pixel(img, (white[0] + 6, white[1] + 6)).min() > 200  # white stone
    assert abs(_pixel(img, (empty[0] + 6, empty[1] + 6)) - [220, 179, 92]).max() < 10  # wood
    last = view.point_center(gtp_to_action("C7", 9))
    assert _pixel(img, last)[0] > 150 and _pixel(img, last)[1] < 80  # red last-move mark


def test_view_geometry_round_trips_and_rejects_the_margin():
    view = GoBoardView(19, cell=20)
    for a in (0, 18, 180, 360):
        x, y = view.point_center(a)
        assert view.action_at((x, y)) == a
        assert view.action_at((x + 5, y - 5)) == a
    assert view.action_at((view.point_center(0)[0] - 15, view.point_center(0)[1])) is None
    x, y = view.point_center(0)
    assert view.action_at((x + 10, y + 10)) is None  # between four points
    with pytest.raises(ValueError, match="pass"):
        view.point_center(361)


def test_env_rgb_array_render_matches_the_board():
    env = make(board_size=5, render_mode="rgb_array")
    env.reset(seed=0)
    env.step(12)
    img = env.render()
    view = env.unwrapped._view
    x, y = view.point_center(12)
    assert img[y + 5, x + 5].max() < 60  # our black stone on C3


def test_human_mode_opens_a_window_and_maps_clicks(monkeypatch):
    pygame = pytest.importorskip("pygame")
    g = GoGame(5)
    view = GoBoardView(5, render_mode="human")
    assert view.render(g, g.initial_state()) is None
    assert pygame.display.get_surface() is not None
    x, y = view.point_center(gtp_to_action("B2", 5))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x, y), button=1))
    assert view.wait_for_move(timeout_s=1.0) == gtp_to_action("B2", 5)
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_p))
    assert view.wait_for_move(timeout_s=1.0) == 25
    assert view.wait_for_move(timeout_s=0.05) is None
    view.close()


def test_view_refuses_bad_arguments():
    with pytest.raises(ValueError, match="board size"):
        GoBoardView(30)
    with pytest.raises(ValueError, match="render_mode"):
        GoBoardView(9, render_mode="ansi")


def test_seeded_episodes_against_the_random_opponent_repeat():
    def trajectory(seed):
        env = GoEnv(board_size=5, agent_color="random")
        obs, info = env.reset(seed=seed)
        frames, done = [obs], False
        while not done:
            first_legal = int(np.flatnonzero(info["action_mask"])[0])
            obs, _, done, _, info = env.step(first_legal)
            frames.append(obs)
        return np.stack(frames), env.state.move_count

    a, b, c = trajectory(11), trajectory(11), trajectory(12)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]
    assert a[1] != c[1] or not np.array_equal(a[0], c[0])


def test_player_opponents_get_a_copy_they_cannot_spoil():
    class Vandal:
        name = "vandal"

        def reset(self, game):
            self.game = game

        def act(self, state):
            state.meta[:] = 0  # scribbles over what it was given
            return self.game.pass_action

        def close(self):
            pass

    env = GoEnv(board_size=5, opponent=Vandal())
    env.reset(seed=0)
    env.step(12)
    assert env.state.move_count == 2 and env.state.last_move == 25
