"""make_atari against the raw ALE: the same seed and actions must give the same frames, rewards,
lives and episode ends as `ale_py.ALEInterface` driven frame by frame (atari_reference.py)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from atari_reference import RawAtari, resize

from rlsuite.envs.atari import PROTOCOLS, make_atari
from rlsuite.envs.atari.games import available_games, resolve_game


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to the 1-level rounding difference between our area resize and OpenCV's."""
    return int(np.abs(a.astype(np.int16) - b.astype(np.int16)).max()) <= 1


def test_spaces_and_first_observation() -> None:
    env = make_atari("ALE/Pong-v5", num_envs=2, seed=1)
    obs, info = env.reset()
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    assert env.observation_space.shape == (2, 4, 84, 84)
    assert env.single_action_space.n == 6  # Pong's minimal action set
    assert obs in env.observation_space
    assert not obs[:, :3].any() and obs[:, 3].any()  # a fresh stack is zero-padded
    assert set(info) == {"lives", "frame_number", "episode_frame_number"}
    machado = make_atari("Pong", protocol="machado", training=True)
    assert machado.single_action_space.n == 18
    assert machado.metadata["autoreset_mode"].value == "NextStep"
    # Machado et al.: episodes end at game over only, even in training.
    assert machado.clip_rewards and not machado.life_loss_terminal
    assert env.clip_rewards and env.life_loss_terminal
    assert not make_atari("Pong", training=False).clip_rewards
    env.close()


def test_frames_are_the_max_of_the_last_two_raw_frames() -> None:
    env = make_atari("Pong", seed=3, training=False)
    obs, info = env.reset()
    raw = RawAtari("pong", seed=3)
    frames = int(info["episode_frame_number"][0])
    assert close(raw.reset(frames, fire=True), obs[0, -1])
    rng = np.random.default_rng(0)
    last_frame_only_differs = 0
    for _ in range(250):
        action = int(rng.integers(env.num_actions))
        prev = obs
        obs, reward, terminated, truncated, _ = env.step(np.array([action]))
        expected, raw_reward = raw.step(action)
        assert close(expected, obs[0, -1])
        assert np.array_equal(obs[0, :-1], prev[0, 1:])  # the stack shifts by one frame
        assert reward[0] == raw_reward and not terminated[0] and not truncated[0]
        # Without the max over two frames, the moving ball and paddles would not match.
        last_frame_only_differs += not close(resize(raw.screen()), obs[0, -1])
    assert last_frame_only_differs > 100


@pytest.mark.parametrize(
    ("game", "protocol", "low", "high"),
    [("Freeway", "dqn", 0, 30), ("Pong", "dqn", 1, 30), ("Pong", "machado", 0, 0)],
)
def test_noop_starts(game: str, protocol: str, low: int, high: int) -> None:
    env = make_atari(game, protocol=protocol, seed=11, training=False)
    raw = RawAtari(env.game, seed=11, full_action_space=protocol == "machado")
    fire = PROTOCOLS[protocol].fire_reset and "FIRE" in env.action_meanings
    frames = []
    for i in range(30):  # resets without a seed go on drawing from the seeded stream
        obs, info = env.reset(seed=11 if i == 0 else None)
        frames.append(int(info["episode_frame_number"][0]))
        if i % 6 == 0:  # each start is exactly FIRE (if the game has it) then NOOPs
            assert close(raw.reset(frames[-1], fire=fire), obs[0, -1])
    assert low <= min(frames) and max(frames) <= high
    if high > low:
        assert len(set(frames)) >= 10  # drawn, not fixed
    _, info = env.reset(seed=11)
    assert info["episode_frame_number"][0] == frames[0]  # the same seed, the same start


def test_life_loss_ends_episodes_in_training_only() -> None:
    """SpaceInvaders (3 lives, rewards of 5-30 points) played to game over three ways at once:
    training env, evaluation env and the raw ALE, all with the same seed and actions."""
    train = make_atari("SpaceInvaders", seed=5, training=True)
    evaluate = make_atari("SpaceInvaders", seed=5, training=False)
    obs_t, info = train.reset()
    obs_e, _ = evaluate.reset()
    raw = RawAtari("space_invaders", seed=5)
    raw.reset(int(info["episode_frame_number"][0]), fire=True)
    rng = np.random.default_rng(1)
    lives, score, steps, life_losses, big_rewards, life_began = 3, 0.0, 0, 0, 0, -10
    after_life_loss = False
    while True:
        action = 0 if after_life_loss else int(rng.integers(train.num_actions))
        # After a life loss the training env plays NOOP whatever it is sent (here FIRE).
        sent = 1 if after_life_loss else action
        obs_t, r_t, term_t, trunc_t, info_t = train.step(np.array([sent]))
        obs_e, r_e, term_e, trunc_e, info_e = evaluate.step(np.array([action]))
        expected, raw_reward = raw.step(action)
        steps += 1
        if after_life_loss:
            life_began = steps
        score += raw_reward
        big_rewards += raw_reward > 1
        game_over = raw.ale.game_over()
        lost = 0 < raw.ale.lives() < lives
        lives = raw.ale.lives()
        # At game over ale-py's native env stops before grabbing the last frames, so its final
        # observation is stale; only that one is exempt.
        assert game_over or close(expected, obs_e[0, -1])
        assert r_e[0] == raw_reward
        assert r_t[0] == (0.0 if after_life_loss else np.sign(raw_reward))
        assert term_e[0] == game_over and not trunc_e[0]
        assert term_t[0] == (game_over or lost)
        # After a life loss the game goes on (no reset) but the training stack starts over:
        # [0, 0, 0, f], then [0, 0, f, f'], ...
        stale = 4 - min(steps - life_began + 1, 4)
        assert not obs_t[0, :stale].any() and np.array_equal(obs_t[0, stale:], obs_e[0, stale:])
        if after_life_loss:
            assert info_t["episode_frame_number"][0] > 100
        life_losses += lost and not game_over
        after_life_loss = lost and not game_over
        if game_over:
            break
    assert life_losses == 2 and big_rewards > 0
    for info in (info_t, info_e):
        assert info["_episode"].tolist() == [True]
        assert info["episode"]["r"][0] == score and info["episode"]["l"][0] == steps
    # The step after game over starts a new game: action ignored, reward 0, fresh stack.
    for env in (train, evaluate):
        obs, reward, terminated, _, info = env.step(np.array([1]))
        assert reward[0] == 0 and not terminated[0] and "episode" not in info
        assert info["episode_frame_number"][0] <= 30 and not obs[0, :-1].any()


def test_sticky_action_rate_is_a_quarter_under_machado() -> None:
    """Machado et al. (2018): each frame repeats the previous frame's action with p = 0.25.

    Per agent step the emulator plays j frames of the old action then 4 - j of the new one,
    P(j >= k) = 0.25^k. Replaying all five candidates from the raw emulator's state (RAM
    compared) tells which j happened; the raw ALE with the same seed must reproduce every frame
    of the vector env, so the rate measured is the vector env's.
    """
    env = make_atari("Freeway", protocol="machado", seed=7, training=False)
    obs, _ = env.reset()
    sticky = RawAtari("freeway", seed=7, sticky=0.25, full_action_space=True)
    twin = RawAtari("freeway", seed=7, full_action_space=True)
    sticky.reset(0, fire=False)
    up, down, noop = (env.action_meanings.index(name) for name in ("UP", "DOWN", "NOOP"))
    rng = np.random.default_rng(0)
    repeats: list[int] = []
    previous = noop
    for _ in range(350):
        # Each action is sent for two steps, so the action before a change is known.
        action = int(rng.choice([a for a in (up, down, noop) if a != previous]))
        state = sticky.ale.cloneState()
        outcomes = []
        for j in range(5):
            twin.ale.restoreState(state)
            for frame in range(4):
                twin.ale.act(twin.actions[previous if frame < j else action])
            outcomes.append(twin.ale.getRAM().tobytes())
        for _ in range(2):
            obs, *_ = env.step(np.array([action]))
            expected, _ = sticky.step(action)
            assert close(expected, obs[0, -1])
            if len(outcomes) == 5:
                ram = sticky.ale.getRAM().tobytes()
                assert ram in outcomes
                if len(set(outcomes)) == 5:  # every j leaves a different RAM
                    repeats.append(outcomes.index(ram))
                outcomes = []
        previous = action
    j = np.array(repeats)
    assert len(j) > 200
    assert abs((j >= 1).mean() - 0.25) < 0.06
    assert abs((j >= 2).mean() - 0.0625) < 0.035


def test_truncation_at_the_frame_cap() -> None:
    env = make_atari("Pong", num_envs=2, seed=0, max_episode_frames=200)
    env.reset()
    for step in range(1, 51):
        _, _, terminated, truncated, info = env.step(np.zeros(2, dtype=np.int64))
        assert not terminated.any()
        assert truncated.all() == (step == 50)
    assert info["episode"]["l"].tolist() == [50, 50] and info["_episode"].all()
    obs, reward, _, truncated, info = env.step(np.zeros(2, dtype=np.int64))
    assert not truncated.any() and not reward.any() and not obs[:, :-1].any()
    assert (info["episode_frame_number"] <= 30).all()


def test_game_names_resolve_and_unknown_ones_suggest() -> None:
    for name in ("Pong", "pong", "ALE/Pong-v5", "PongNoFrameskip-v4"):
        assert resolve_game(name) == "pong"
    assert resolve_game("ALE/MsPacman-v5") == resolve_game("ms_pacman") == "ms_pacman"
    with pytest.raises(ValueError, match="close matches: .*Breakout"):
        make_atari("Breakot")
    with pytest.raises(ValueError, match="unknown Atari game 'Chess'"):
        make_atari("Chess")
    with pytest.raises(ValueError, match="non-empty string"):
        make_atari("")


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="unknown protocol 'nature'"):
        make_atari("Pong", protocol="nature")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['sticky'\]"):
        make_atari("Pong", sticky=0.25)
    with pytest.raises(ValueError, match="repeat_action_probability"):
        make_atari("Pong", repeat_action_probability=1.5)
    with pytest.raises(ValueError, match="num_envs"):
        make_atari("Pong", num_envs=0)
    env = make_atari("Pong")
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(1, dtype=np.int64))
    with pytest.raises(ValueError, match="seed must be >= 0"):
        env.reset(seed=-1)


def test_actions_outside_the_action_space_raise() -> None:
    env = make_atari("Pong", num_envs=2)
    env.reset()
    with pytest.raises(ValueError, match=r"action 6 for env 1 is outside .*Discrete\(6\)"):
        env.step(np.array([0, 6]))
    with pytest.raises(ValueError, match="action -1 for env 0"):
        env.step(np.array([-1, 0]))
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        env.step(np.array([0]))
    with pytest.raises(ValueError, match="integers"):
        env.step(np.array([0.5, 1.0]))
    env.step([0, 1])  # lists of ints are fine


def test_missing_ale_py_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    available_games.cache_clear()
    monkeypatch.setitem(sys.modules, "ale_py", None)  # what an absent package looks like
    try:
        with pytest.raises(ImportError, match=r'pip install "rlsuite\[atari\]"'):
            make_atari("Pong")
    finally:
        available_games.cache_clear()
