"""`rlsuite watch atari` headless on the real ALE: frames recorded as the agent plays."""

import numpy as np
import pytest
from PIL import Image

from rlsuite.cli.watch import main
from rlsuite.ui.atari import AtariWatchConfig, watch_atari

pytest.importorskip("ale_py", reason="ale-py not installed: pip install 'rlsuite[atari]'")


def test_watch_atari_records_the_frames_it_shows(tmp_path):
    config = AtariWatchConfig(env="ALE/Pong-v5", agent="random", fps=0, max_steps=40,
                              record=tmp_path / "frames", scale=2)
    assert watch_atari(config) == []  # 40 steps: no finished episode yet
    frames = sorted((tmp_path / "frames").glob("frame_*.png"))
    assert len(frames) == 40
    pictures = [np.asarray(Image.open(f).convert("RGB")) for f in frames]
    assert pictures[0].shape == (84 * 2 + 28, 84 * 2, 3)
    screen = np.stack([p[: 84 * 2] for p in pictures])
    assert screen.std() > 10  # a game picture, not a blank window
    assert np.abs(np.diff(screen.astype(int), axis=0)).sum() > 0  # and it moves


def test_watch_atari_rejects_a_go_engine(capsys):
    assert main(["atari", "--agent", "gnugo:1", "--fps", "0"]) == 2
    assert "random, dqn:RUN or ppo:RUN" in capsys.readouterr().err
