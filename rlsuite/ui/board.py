"""The Go board window and the human who plays at it.

`GoWindow` shows positions (drawn by the Go view) above a panel with Pass / Resign buttons,
and takes a human's clicks; `HumanPlayer` is the `Player` behind the `human` spec. Neither
imports the arena: the arena's player registry names `HumanPlayer` and imports it on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from rlsuite.game import Game, State
from rlsuite.player import Resign
from rlsuite.ui.toolkit import (
    BUTTON_ACTIVE,
    BUTTON_COLOUR,
    PANEL_COLOUR,
    PANEL_HEIGHT,
    TEXT_COLOUR,
    Controls,
    pygame,
    screen_array,
)

if TYPE_CHECKING:
    from rlsuite.envs.go import GoGame


class GoWindow:
    """A Go board (drawn by `GoBoardView`) above a panel with Pass / Resign buttons, a message
    line and the speed line. It shows positions for the watcher and takes a human's moves."""

    def __init__(self, board_size: int, *, cell: int | None = None,
                 controls: Controls | None = None, title: str | None = None) -> None:
        from rlsuite.envs.go.view import GoBoardView

        self.pg = pygame()
        if cell is None:  # about 420 pixels across whatever the size, within readable limits
            cell = int(np.clip(round(420 / (board_size + 1.5)), 28, 64))
        self.view = GoBoardView(board_size, cell=cell, render_mode="rgb_array")
        self.controls = controls
        self.board_height = self.view.width  # the view's own status bar is replaced below
        self.size = (self.view.width, self.board_height + PANEL_HEIGHT)
        self.screen = self.pg.display.set_mode(self.size)
        self.pg.display.set_caption(title or f"rlsuite Go {board_size}x{board_size}")
        top = self.board_height + 30
        self.buttons = {
            "pass": self.pg.Rect(8, top, 72, 28),
            "resign": self.pg.Rect(88, top, 84, 28),
        }
        self._font = self.pg.font.Font(None, 22)
        self._small = self.pg.font.Font(None, 18)
        self.message = ""

    def show(self, game: Game, state: State, *, human_turn: bool = False) -> None:
        """Draw the position, then the panel: score line, buttons (lit on a human's turn) with
        the message, and the speed line."""
        view, screen, pg = self.view, self.screen, self.pg
        board = view.draw(game.board(state), last_move=state.last_move)  # type: ignore[attr-defined]
        screen.blit(board, (0, 0), pg.Rect(0, 0, view.width, self.board_height))
        pg.draw.rect(screen, PANEL_COLOUR, pg.Rect(0, self.board_height, *self.size))
        status = self._font.render(view.status_line(game, state), True,  # type: ignore[arg-type]
                                   TEXT_COLOUR)
        screen.blit(status, (8, self.board_height + 6))
        for label, rect in self.buttons.items():
            pg.draw.rect(screen, BUTTON_ACTIVE if human_turn else BUTTON_COLOUR, rect,
                         border_radius=5)
            text = self._font.render(label.capitalize(), True, (30, 25, 20))
            screen.blit(text, text.get_rect(center=rect.center))
        message = self._font.render(self.message, True, TEXT_COLOUR)
        screen.blit(message, (self.buttons["resign"].right + 10,
                              self.buttons["resign"].centery - message.get_height() // 2))
        if self.controls is not None:
            speed = self._small.render(self.controls.describe(), True, TEXT_COLOUR)
            screen.blit(speed, (8, self.size[1] - speed.get_height() - 6))
        pg.display.flip()

    def frame(self) -> np.ndarray:
        """The window as uint8 [height, width, 3] (what a screenshot shows)."""
        return screen_array(self.screen)

    def wait_for_move(self, game: Game, state: State) -> int | None:
        """Block until the human clicks a legal point or Pass (P); None means resign.

        A click on an illegal point keeps waiting and says why it is illegal. Closing the
        window also resigns, and tells the controls to stop.
        """
        pg, pass_action = self.pg, game.pass_action  # type: ignore[attr-defined]
        self.message = "your move: click a point, or Pass / Resign"
        self.show(game, state, human_turn=True)
        while True:
            for event in pg.event.get():
                if event.type == pg.KEYDOWN and event.key == pg.K_p:
                    return self._done(pass_action)
                if self.controls is not None:  # Q, Esc, speed keys keep working
                    self.controls.handle(event)
                if event.type == pg.QUIT or (self.controls is not None and self.controls.quit):
                    if self.controls is not None:
                        self.controls.quit = True
                    return None
                if event.type != pg.MOUSEBUTTONDOWN or event.button != 1:
                    continue
                if self.buttons["pass"].collidepoint(event.pos):
                    return self._done(pass_action)
                if self.buttons["resign"].collidepoint(event.pos):
                    return self._done(None)
                action = self.view.action_at(event.pos)
                if action is None:
                    continue
                error = game.move_error(state, action)  # type: ignore[attr-defined]
                if error is None:
                    return self._done(action)
                self.message = error
                self.show(game, state, human_turn=True)
            pg.time.wait(10)

    def _done(self, move: int | None) -> int | None:
        self.message = ""
        return move

    def close(self) -> None:
        self.pg.display.quit()


class HumanPlayer:
    """A person at a pygame window: click a point to play, or the Pass / Resign buttons.

    A `GoWindow` is opened on `reset` unless one is given, so a human can also play inside
    `rlsuite watch go`, where the watcher's window is shared.
    """

    name = "human"

    def __init__(self, window: Any | None = None) -> None:
        self.window = window
        self._own_window = window is None
        self.game: GoGame | None = None

    def reset(self, game: Game) -> None:
        from rlsuite.envs.go import GoGame

        if not isinstance(game, GoGame):
            raise ValueError(f"human plays Go only, not {type(game).__name__}")
        if self._own_window and (self.window is None or self.window.view.n != game.board_size):
            if self.window is not None:
                self.window.close()
            self.window = GoWindow(game.board_size)
        self.game = game

    def act(self, state: State) -> int:
        if self.game is None or self.window is None:
            raise RuntimeError("human: call reset(game) before act(state)")
        move = self.window.wait_for_move(self.game, state)
        if move is None:
            raise Resign(self.name)
        return int(move)

    def close(self) -> None:
        if self._own_window and self.window is not None:
            self.window.close()
            self.window = None
        self.game = None
