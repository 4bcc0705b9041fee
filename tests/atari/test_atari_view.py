"""The pygame view on real surfaces (headless through SDL's dummy driver)."""

from __future__ import annotations

import numpy as np
import pytest

from rlsuite.envs.atari.view import BAR_HEIGHT, AtariView, watch


def test_draw_scales_the_newest_frame_and_writes_the_status() -> None:
    view = AtariView(scale=3, render_mode="rgb_array")
    stack = np.zeros((4, 84, 84), dtype=np.uint8)
    stack[-1, 10:20, 30:40] = 200  # a bright square in the newest frame only
    stack[0] = 255  # older frames are not shown
    view.draw(stack, score=21, episode=2, lives=3, step=40)
    picture = view.to_array()
    assert picture.shape == (84 * 3 + BAR_HEIGHT, 84 * 3, 3)
    assert (picture[30:60, 90:120] == 200).all()  # scaled 3x, grey on all channels
    assert (picture[: 84 * 3][:30] == 0).all()
    assert picture[84 * 3 :].max() == 255  # white status text in the bar
    blank = AtariView(scale=3, render_mode="rgb_array")
    blank.draw(stack, score=0, episode=1)
    assert not np.array_equal(blank.to_array()[84 * 3 :], picture[84 * 3 :])  # text differs


def test_show_in_a_window_and_close() -> None:
    view = AtariView(scale=2, render_mode="human", fps=1000)
    assert view.show(np.full((84, 84), 128, dtype=np.uint8), score=0, episode=1)
    assert view.window is not None and view.window.get_size() == view.size
    view.close()
    assert view.window is None


def test_watch_plays_whole_games_and_returns_raw_scores() -> None:
    view = AtariView(render_mode="rgb_array")
    scores = watch("SpaceInvaders", episodes=1, seed=2, view=view)
    assert len(scores) == 1 and scores[0] > 0 and scores[0] % 5 == 0  # aliens score 5..30
    assert view.to_array().any()


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="scale"):
        AtariView(scale=0)
    with pytest.raises(ValueError, match="render_mode"):
        AtariView(render_mode="ansi")  # type: ignore[arg-type]
    view = AtariView(render_mode="rgb_array")
    with pytest.raises(ValueError, match=r"uint8 \(84, 84\)"):
        view.draw(np.zeros((84, 84), dtype=np.float32), score=0, episode=1)
    with pytest.raises(ValueError, match="episodes"):
        watch("Pong", episodes=0)
