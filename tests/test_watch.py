"""Watching play headless: frames show the stones at the right points; the human player works
from scripted clicks; speed/pause keys; recordings; bad input."""

import subprocess
import sys

import numpy as np
import pygame
import pytest
from PIL import Image

from rlsuite.arena.match import GoConfig, default_jobs, run_games, schedule
from rlsuite.cli.watch import main
from rlsuite.envs.go import GoGame, gtp_to_action
from rlsuite.envs.go.view import BLACK, WHITE, WOOD
from rlsuite.player import Resign
from rlsuite.ui.board import GoWindow, HumanPlayer
from rlsuite.ui.chip import ChipWatchConfig, watch_chip
from rlsuite.ui.go import GoWatchConfig, watch_go
from rlsuite.ui.toolkit import Controls, Recorder, WatchClosed, find_ffmpeg


def play(game, vertices):
    state = game.initial_state()
    for v in vertices:
        state = game.next_state(state, gtp_to_action(v, game.board_size))
    return state


def colour_at(frame, window, action):
    """Pixel a quarter cell right of and below an intersection, clear of the grid lines, the
    star points and the last-move marker: the stone's colour, or wood when the point is empty."""
    x, y = window.view.point_center(action)
    off = window.view.cell // 4
    return tuple(int(c) for c in frame[y + off, x + off])


def assert_board_pixels(frame, window, board):
    for action, value in enumerate(board.ravel()):
        expected = {1: BLACK, -1: WHITE, 0: WOOD}[int(value)]
        assert colour_at(frame, window, action) == expected, (action, value)


def click(pos):
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))


def key(k):
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=k))


@pytest.fixture
def window():
    w = GoWindow(5)
    yield w
    w.close()


def test_frame_shows_each_stone_at_its_point(window):
    game = GoGame(5, 0.5)
    state = play(game, ["C3", "D4", "B2", "pass", "E5"])
    window.show(game, state)
    frame = window.frame()
    assert frame.shape == (window.size[1], window.size[0], 3)
    assert_board_pixels(frame, window, game.board(state))
    assert colour_at(frame, window, gtp_to_action("D4", 5)) == WHITE
    assert colour_at(frame, window, gtp_to_action("E5", 5)) == BLACK


def test_human_plays_from_clicks_and_is_told_about_illegal_ones(window):
    game = GoGame(5, 0.5)
    human = HumanPlayer(window)
    human.reset(game)
    state = play(game, ["C3"])
    click((2, 2))  # the margin: no point, ignored
    click(window.view.point_center(gtp_to_action("C3", 5)))  # occupied: refused
    click(window.view.point_center(gtp_to_action("B4", 5)))
    assert human.act(state) == gtp_to_action("B4", 5)
    click(window.buttons["pass"].center)
    assert human.act(state) == game.pass_action
    key(pygame.K_p)
    assert human.act(state) == game.pass_action


def test_illegal_click_message_names_the_reason(window):
    game = GoGame(5, 0.5)
    state = play(game, ["C3"])
    click(window.view.point_center(gtp_to_action("C3", 5)))
    pygame.event.post(pygame.event.Event(pygame.QUIT))  # then the window is closed
    assert window.wait_for_move(game, state) is None
    assert window.message == "illegal move C3 (action 12): the point is occupied"


def test_human_resigns_with_the_button_or_by_closing_the_window(window):
    game = GoGame(5, 0.5)
    controls = Controls(0)
    window.controls = controls
    human = HumanPlayer(window)
    human.reset(game)
    click(window.buttons["resign"].center)
    with pytest.raises(Resign):
        human.act(game.initial_state())
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    with pytest.raises(Resign):
        human.act(game.initial_state())
    assert controls.quit


def test_speed_and_pause_keys():
    GoWindow(5).close()
    pygame.display.init()
    controls = Controls(2.0)
    for k in (pygame.K_PLUS, pygame.K_UP):
        key(k)
    key(pygame.K_SPACE)
    key(pygame.K_n)  # one step while paused: wait returns at once
    controls.wait()
    assert controls.fps == pytest.approx(2.0 * 1.5**2) and controls.paused
    key(pygame.K_MINUS)
    key(pygame.K_q)
    with pytest.raises(WatchClosed):
        controls.wait()
    assert controls.fps == pytest.approx(2.0 * 1.5)
    pygame.display.quit()


def test_watch_go_records_every_position_with_the_right_stones(tmp_path):
    config = GoWatchConfig(black="greedy", white="random", board_size=5, komi=0.5, fps=0,
                           record=tmp_path / "frames", seed=4)
    (outcome,) = watch_go(config)
    frames = sorted((tmp_path / "frames").glob("frame_*.png"))
    assert len(frames) == len(outcome.actions) + 2  # start, every move, the result
    game = GoGame(5, 0.5)
    window = GoWindow(5)  # same geometry as the watcher's window
    window.close()
    final = np.asarray(Image.open(frames[-1]).convert("RGB"))
    assert_board_pixels(final, window, game.board(outcome.final_state))
    first = np.asarray(Image.open(frames[0]).convert("RGB"))
    assert_board_pixels(first, window, np.zeros((5, 5)))


def test_watch_go_with_a_human_who_resigns():
    window = GoWindow(5)  # the watcher's window has the same geometry
    resign = window.buttons["resign"].center
    window.close()
    pygame.display.init()
    click(resign)  # queued: read when the human is first to move
    outcomes = watch_go(GoWatchConfig(black="human", white="random", board_size=5, fps=0))
    assert outcomes[0].result == "W+R" and outcomes[0].actions == []


def test_human_plays_in_the_arena_in_its_own_window():
    window = GoWindow(5)
    resign = window.buttons["resign"].center
    window.close()
    pygame.display.init()
    click(resign)
    tasks = schedule(["human", "random"], 1)
    assert default_jobs(["human", "random"], len(tasks)) == 1  # a person plays in-process
    ((record, _),) = run_games(tasks, GoConfig(board_size=5, komi=0.5), jobs=1)
    assert record.result == "W+R" and record.black == "human" and record.moves == []


def test_watch_chip_animates_the_placement(tmp_path):
    metrics = watch_chip(ChipWatchConfig(placer="greedy", fps=0, record=tmp_path / "chip.gif"))
    assert metrics is not None and metrics["overlap"] == 0 and metrics["proxy_cost"] > 0
    gif = Image.open(tmp_path / "chip.gif")
    assert gif.n_frames == 8 + 2  # empty canvas, 8 macros, the result


def test_recorder_formats(tmp_path, monkeypatch):
    rec = Recorder(tmp_path / "out.gif", fps=5)
    for k in range(3):
        frame = np.zeros((10, 12, 3), np.uint8)
        frame[k : k + 3, 3:7] = (200, 10, 10)
        rec.add(frame)
    rec.close()
    gif = Image.open(tmp_path / "out.gif")
    assert gif.n_frames == 3 and gif.size == (12, 10)
    rec = Recorder(tmp_path / "frames", fps=5)
    rec.add(frame)
    rec.close()
    saved = np.asarray(Image.open(tmp_path / "frames" / "frame_00001.png"))
    assert np.array_equal(saved, frame)
    monkeypatch.setenv("PATH", "")
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # neither ffmpeg nor the wheel
    with pytest.raises(ValueError, match=r"needs ffmpeg: pip install \"rlsuite\[video\]\""):
        Recorder(tmp_path / "out.mp4", fps=5)


def test_mp4_recording_decodes_to_the_frames_it_was_given(tmp_path):
    """Real MP4 through the ffmpeg that `imageio-ffmpeg` ships: three flat colours go in, the
    decoded video has three frames of those colours (within H.264's rounding)."""
    pytest.importorskip("imageio_ffmpeg", reason="pip install imageio-ffmpeg (the video extra)")
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    rec = Recorder(tmp_path / "out.mp4", fps=5)
    for colour in colours:
        rec.add(np.full((16, 24, 3), colour, np.uint8))
    rec.close()
    decoded = subprocess.run(
        [find_ffmpeg("test"), "-loglevel", "error", "-i", str(tmp_path / "out.mp4"),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(decoded, np.uint8).reshape(-1, 16, 24, 3)
    assert len(frames) == 3
    for frame, colour in zip(frames, colours, strict=True):
        assert np.abs(frame.reshape(-1, 3).mean(0) - colour).max() < 12, (frame[0, 0], colour)


def test_cli_rejects_bad_input(capsys):
    assert main(["chess"]) == 2
    assert "DOMAIN is one of ['go', 'chip', 'atari']" in capsys.readouterr().err
    assert main(["go", "--black", "alphago", "--fps", "0"]) == 2
    err = capsys.readouterr().err
    assert "unknown player spec 'alphago'" in err and "gnugo:LEVEL" in err
    assert main(["chip", "--placer", "gnugo:1", "--fps", "0"]) == 2
    assert "'gnugo:1' does not play chip" in capsys.readouterr().err
