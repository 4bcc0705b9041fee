"""`rlsuite watch chip`: one placement animated macro by macro, by any placer.

    rlsuite watch chip --netlist PATH --placer greedy --record out.gif
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlsuite.arena.chip import chip_game
from rlsuite.arena.players import make_player
from rlsuite.ui.toolkit import (
    PANEL_COLOUR,
    TEXT_COLOUR,
    Controls,
    Recorder,
    WatchClosed,
    pygame,
    screen_array,
)


class ChipWindow:
    """The chip view (`rlsuite.envs.chip.view.draw`) in a window, with the speed line."""

    def __init__(self, size: int = 640, *, controls: Controls | None = None) -> None:
        self.pg = pygame()
        self.controls = controls
        self.size = (size, size + 28)
        self.screen = self.pg.display.set_mode(self.size)
        self.pg.display.set_caption("rlsuite chip placement")
        self.canvas = self.pg.Surface((size, size))
        self._font = self.pg.font.Font(None, 20)

    def show(self, model: Any, state: Any, message: str = "") -> None:
        from rlsuite.envs.chip import view

        view.draw(self.canvas, model, state)
        self.screen.fill(PANEL_COLOUR)
        self.screen.blit(self.canvas, (0, 0))
        line = message or (self.controls.describe() if self.controls else "")
        self.screen.blit(self._font.render(line, True, TEXT_COLOUR), (8, self.size[0] + 4))
        self.pg.display.flip()

    def frame(self) -> np.ndarray:
        return screen_array(self.screen)

    def close(self) -> None:
        self.pg.display.quit()


@dataclass(kw_only=True)
class ChipWatchConfig:
    """Options of `rlsuite watch chip`."""

    netlist: Path | None = None
    """netlist (.aux or netlist.pb.txt); default: the seeded synthetic netlist"""
    placer: str = "greedy"
    """placer spec: random, greedy, sa, dqn:RUN, ppo:RUN"""
    grid: int | None = None
    fps: float = 4.0
    """macros per second (0: as fast as possible)"""
    seed: int = 0
    record: Path | None = None
    hold: bool = True


def watch_chip(config: ChipWatchConfig) -> dict[str, float] | None:
    """Animate one placement macro by macro; returns its metrics (None at a dead end)."""
    game = chip_game(config.netlist, config.grid)
    placer = make_player(config.placer, game, seed=config.seed)
    controls = Controls(config.fps)
    window = ChipWindow(controls=controls)
    recorder = Recorder(config.record, config.fps) if config.record else None
    metrics = None

    def show(state: Any, message: str = "") -> None:
        window.show(game.model, state, message)
        if recorder is not None:
            recorder.add(window.frame())
        controls.wait()

    try:
        state = game.initial_state()
        placer.reset(game)
        show(state)
        while not game.is_terminal(state):
            state = game.next_state(state, placer.act(state))
            show(state)
        if game.is_complete(state):
            metrics = game.metrics(state)
            show(state, f"{config.placer}: proxy cost {metrics['proxy_cost']:.4f}  "
                        f"HPWL {metrics['hpwl']:.4g}")
        else:
            show(state, f"{config.placer}: dead end, no legal cell for the next macro")
        if config.hold:
            controls.hold()
    except WatchClosed:
        pass
    finally:
        placer.close()
        if recorder is not None:
            recorder.close()
        window.close()
    return metrics
