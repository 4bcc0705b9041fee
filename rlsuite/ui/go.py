"""`rlsuite watch go`: games between any two players on a Go board window.

    rlsuite watch go --black greedy --white gnugo:1 --board-size 9
    rlsuite watch go --black human --white gnugo:3        # play yourself: click, Pass, Resign

`--record` takes a .gif, an .mp4 (needs ffmpeg) or a folder for numbered PNG frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlsuite.arena.match import GoConfig, play_game
from rlsuite.arena.players import make_player, parse_spec
from rlsuite.game import State
from rlsuite.ui.board import GoWindow, HumanPlayer
from rlsuite.ui.toolkit import Controls, Recorder, WatchClosed


@dataclass(kw_only=True)
class GoWatchConfig:
    """Options of `rlsuite watch go`."""

    black: str = "greedy"
    """player spec for black (see `rlsuite arena --help`); `human` to play yourself"""
    white: str = "random"
    board_size: int = 9
    komi: float = 7.5
    fps: float = 2.0
    """moves per second (0: as fast as possible)"""
    games: int = 1
    seed: int = 0
    record: Path | None = None
    """write the game to a .gif, an .mp4 or a folder of PNG frames"""
    hold: bool = True
    """keep the window open at the end until it is closed (never when headless)"""


def watch_go(config: GoWatchConfig) -> list[Any]:
    """Play `config.games` games on screen; returns their `Outcome`s (colours alternate)."""
    game = GoConfig(board_size=config.board_size, komi=config.komi).build()
    controls = Controls(config.fps)
    window = GoWindow(config.board_size, controls=controls)
    recorder = Recorder(config.record, config.fps) if config.record else None
    outcomes = []

    def build(spec_text: str, seed: int) -> Any:
        spec = parse_spec(spec_text)
        if spec.kind == "human":
            return HumanPlayer(window)
        return make_player(spec, game, seed=seed)

    def on_move(state: State, action: int) -> None:
        window.show(game, state)
        if recorder is not None:
            recorder.add(window.frame())
        controls.wait()

    specs = [config.black, config.white]
    try:
        for index in range(config.games):
            black_spec, white_spec = specs if index % 2 == 0 else specs[::-1]
            black = build(black_spec, config.seed + 2 * index)
            white = build(white_spec, config.seed + 2 * index + 1)
            window.message = f"{black_spec} vs {white_spec}"
            on_move(game.initial_state(), -1)
            try:
                outcome = play_game(game, black, white, on_move=on_move)
            finally:
                black.close()
                white.close()
            if controls.quit:
                raise WatchClosed
            outcomes.append(outcome)
            window.message = f"{black_spec} vs {white_spec}: {outcome.result}"
            if outcome.error:
                window.message += " (forfeit)"
            on_move(outcome.final_state, -1)
        if config.hold:
            controls.hold()
    except WatchClosed:
        pass
    finally:
        if recorder is not None:
            recorder.close()
        window.close()
    return outcomes
