"""The pygame toolkit every watch window shares: pacing and pause (`Controls`), recording to
GIF / MP4 / PNG frames (`Recorder`), the panel colours, and headless detection.

Keys in every window: space pauses, + / - (or the arrow keys) change the speed, N steps one
frame while paused, Q or Esc quits. Headless (SDL_VIDEODRIVER=dummy) everything runs unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from rlsuite import lazy

PANEL_HEIGHT = 88
PANEL_COLOUR = (60, 45, 30)
BUTTON_COLOUR = (235, 215, 170)
BUTTON_ACTIVE = (250, 240, 200)
TEXT_COLOUR = (245, 240, 230)


def pygame() -> Any:
    """pygame with its display and fonts initialised (every window here draws text)."""
    pg = lazy.pygame("rlsuite watch")
    pg.display.init()
    pg.font.init()
    return pg


def headless() -> bool:
    """True under SDL's dummy video driver (tests, CI, screenshots)."""
    return os.environ.get("SDL_VIDEODRIVER") == "dummy"


class WatchClosed(Exception):
    """The viewer quit (Q, Esc or closing the window)."""


# --------------------------------------------------------------------------- controls


class Controls:
    """Pace and pause shared by the watch windows: `wait()` holds each frame 1/fps seconds.

    fps <= 0 means as fast as possible (tests, recordings).
    """

    FASTER = 1.5

    def __init__(self, fps: float) -> None:
        self.fps = float(fps)
        self.paused = False
        self.quit = False
        self._step = False

    def handle(self, event: Any) -> None:
        pg = pygame()
        if event.type == pg.QUIT:
            self.quit = True
        elif event.type == pg.KEYDOWN:
            key = event.key
            if key in (pg.K_q, pg.K_ESCAPE):
                self.quit = True
            elif key == pg.K_SPACE:
                self.paused = not self.paused
            elif key in (pg.K_PLUS, pg.K_EQUALS, pg.K_KP_PLUS, pg.K_UP, pg.K_RIGHT):
                self.fps *= self.FASTER
            elif key in (pg.K_MINUS, pg.K_KP_MINUS, pg.K_DOWN, pg.K_LEFT):
                self.fps /= self.FASTER
            elif key in (pg.K_n, pg.K_PERIOD):
                self._step = True

    def wait(self) -> None:
        """Hold the frame on screen for one tick (or while paused); raise `WatchClosed` on quit."""
        pg = pygame()
        start = pg.time.get_ticks()
        while True:
            # Mouse clicks stay queued: a human's click lands on their next turn.
            for event in pg.event.get((pg.QUIT, pg.KEYDOWN)):
                self.handle(event)
            if self.quit:
                raise WatchClosed
            if self._step:
                self._step = False
                return
            hold_ms = 1000.0 / self.fps if self.fps > 0 else 0.0
            if not self.paused and pg.time.get_ticks() - start >= hold_ms:
                return
            pg.time.wait(5)

    def hold(self) -> None:
        """Keep the last frame on screen, paused, until the viewer quits (`WatchClosed`);
        returns at once when headless, where nobody could quit."""
        if headless():
            return
        self.paused = True
        while True:
            self.wait()

    def describe(self) -> str:
        speed = "max speed" if self.fps <= 0 else f"{self.fps:.3g}/s"
        state = "PAUSED (space)" if self.paused else "space: pause"
        return f"{speed}  +/-: speed  {state}  q: quit"


# --------------------------------------------------------------------------- recording


def find_ffmpeg(purpose: str) -> str:
    """ffmpeg on PATH, else the binary that the `imageio-ffmpeg` wheel ships (the `video`
    extra), so that MP4 recording works on a machine without a system ffmpeg."""
    on_path = shutil.which("ffmpeg")
    if on_path:
        return on_path
    try:
        import imageio_ffmpeg
    except ImportError:
        raise ValueError(
            f"recording {purpose} needs ffmpeg: pip install \"rlsuite[video]\" (or apt-get "
            "install ffmpeg); or record to a .gif or a folder of PNG frames"
        ) from None
    return str(imageio_ffmpeg.get_ffmpeg_exe())


class Recorder:
    """Collects frames (uint8 [H, W, 3]) into a GIF, an MP4 or a folder of PNGs."""

    def __init__(self, target: str | Path, fps: float) -> None:
        self.target = Path(target)
        self.fps = fps if fps > 0 else 10.0
        self.kind = {".gif": "gif", ".mp4": "mp4"}.get(self.target.suffix.lower(), "folder")
        self.count = 0
        self._gif: list[Any] = []
        self._ffmpeg: subprocess.Popen[bytes] | None = None
        self._ffmpeg_exe = find_ffmpeg(self.target.name) if self.kind == "mp4" else ""
        if self.kind == "folder":
            self.target.mkdir(parents=True, exist_ok=True)
        else:
            self.target.parent.mkdir(parents=True, exist_ok=True)

    def add(self, frame: np.ndarray) -> None:
        from PIL import Image

        frame = np.ascontiguousarray(frame, dtype=np.uint8)
        self.count += 1
        if self.kind == "folder":
            Image.fromarray(frame).save(self.target / f"frame_{self.count:05d}.png")
        elif self.kind == "gif":
            self._gif.append(Image.fromarray(frame))
        else:
            if self._ffmpeg is None:
                height, width = frame.shape[:2]
                self._ffmpeg = subprocess.Popen(
                    [self._ffmpeg_exe, "-loglevel", "error", "-y", "-f", "rawvideo",
                     "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", f"{self.fps:g}",
                     "-i", "-",
                     "-pix_fmt", "yuv420p", "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2",
                     str(self.target)],
                    stdin=subprocess.PIPE,
                )
            assert self._ffmpeg.stdin is not None
            self._ffmpeg.stdin.write(frame.tobytes())

    def close(self) -> None:
        if self.kind == "gif" and self._gif:
            first, *rest = self._gif
            first.save(self.target, save_all=True, append_images=rest,
                       duration=int(1000 / self.fps), loop=0)
            self._gif = []
        if self._ffmpeg is not None:
            assert self._ffmpeg.stdin is not None
            self._ffmpeg.stdin.close()
            if self._ffmpeg.wait() != 0:
                raise RuntimeError(f"ffmpeg could not write {self.target}")
            self._ffmpeg = None


def screen_array(screen: Any) -> np.ndarray:
    """A pygame surface as uint8 [height, width, 3] (what a screenshot shows)."""
    return np.transpose(lazy.pygame("rlsuite watch").surfarray.array3d(screen), (1, 0, 2)).copy()
