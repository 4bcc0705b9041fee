"""The raw ALE driven frame by frame, as ale-py's native vector env drives each emulator.

Tests step this reference beside `make_atari` with the same seed and actions and compare what
comes out: the vector env must equal four `ALEInterface.act` calls per step, the max of the
last two grayscale screens, and an area resize to 84x84 (OpenCV's INTER_AREA, written here as
two overlap-weight matrices; it agrees with OpenCV to within 1 grey level of rounding).
"""

from __future__ import annotations

import ale_py
import numpy as np
from ale_py import roms


def area_taps(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """(taps, n_out) input indices and weights: each output pixel averages the span it covers.

    Taps instead of a dense matrix product: BLAS threads crawl on a loaded 2-core machine.
    """
    scale = n_in / n_out
    taps = int(np.ceil(scale)) + 1
    index = np.zeros((taps, n_out), dtype=np.int64)
    weight = np.zeros((taps, n_out))
    for i in range(n_out):
        lo, hi = i * scale, (i + 1) * scale
        for k, j in enumerate(range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in))):
            index[k, i] = j
            weight[k, i] = max(0.0, min(hi, j + 1) - max(lo, j)) / scale
    return index, weight


ROW_TAPS, COL_TAPS = area_taps(210, 84), area_taps(160, 84)


def resize(screen: np.ndarray) -> np.ndarray:
    """210x160 grayscale -> 84x84 by area averaging."""
    (ri, rw), (ci, cw) = ROW_TAPS, COL_TAPS
    img = screen.astype(np.float64)
    rows = sum(w[:, None] * img[i] for i, w in zip(ri, rw, strict=True))
    out = sum(w[None, :] * rows[:, i] for i, w in zip(ci, cw, strict=True))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class RawAtari:
    """One `ale_py.ALEInterface` with a seed, sticky-action rate and action set."""

    def __init__(
        self, rom: str, seed: int, *, sticky: float = 0.0, full_action_space: bool = False
    ) -> None:
        self.ale = ale_py.ALEInterface()
        self.ale.setLoggerMode(ale_py.LoggerMode.Error)
        self.ale.setInt("random_seed", seed)
        self.ale.setFloat("repeat_action_probability", sticky)
        self.ale.loadROM(roms.get_rom_path(rom))
        legal = self.ale.getLegalActionSet() if full_action_space else None
        self.actions = list(legal if legal is not None else self.ale.getMinimalActionSet())

    def screen(self) -> np.ndarray:
        return self.ale.getScreenGrayscale().copy()

    def reset(self, frames: int, *, fire: bool) -> np.ndarray:
        """New game, FIRE if asked, NOOPs until `frames` frames have run; the 84x84 frame."""
        self.ale.reset_game()
        if fire:
            self.ale.act(ale_py.Action.FIRE)
        for _ in range(frames - int(fire)):
            self.ale.act(ale_py.Action.NOOP)
        return resize(self.screen())

    def step(self, action: int, skip: int = 4) -> tuple[np.ndarray, float]:
        """Repeat `action` for `skip` frames: (84x84 max of the last two frames, summed reward)."""
        reward, last = 0.0, []
        for _ in range(skip):
            reward += self.ale.act(self.actions[action])
            last = [*last[-1:], self.screen()]
        return resize(np.maximum(*last) if len(last) == 2 else last[0]), reward
