"""`GoBoardView`: a pygame picture of a Go position, headless (`rgb_array`) or in a window.

It draws a wooden board with its lines and star points, GTP coordinates on all four sides,
the stones, a marker on the last move, and a status line (captures, who is to play, the
Tromp-Taylor score). Pixel geometry is exposed (`point_center`, `action_at`) so a click in
the window maps to a move and tests can look for stones at the right pixels. pygame is
imported on first use, with a clear message when it is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlsuite import lazy
from rlsuite.envs.go.coords import GTP_COLUMNS, check_action, check_board_size
from rlsuite.envs.go.rules import GoGame
from rlsuite.envs.go.state import GoState

WOOD = (220, 179, 92)
LINE = (40, 30, 20)
BLACK = (20, 20, 20)
WHITE = (240, 240, 236)
MARK = (200, 30, 30)
TEXT = (30, 25, 20)


def star_points(n: int) -> list[tuple[int, int]]:
    """(row, col) of the hoshi drawn on 9x9, 13x13 and 19x19 (and the centre of odd boards)."""
    edge = 2 if n < 13 else 3
    if n < 9:
        return [(n // 2, n // 2)] if n % 2 else []
    far = n - 1 - edge
    points = [(edge, edge), (edge, far), (far, edge), (far, far)]
    if n % 2:
        points.append((n // 2, n // 2))
    if n >= 19:
        mid = n // 2
        points += [(edge, mid), (far, mid), (mid, edge), (mid, far)]
    return points


class GoBoardView:
    """Renders positions of one board size; `render(game, state)` returns an RGB array in
    "rgb_array" mode and shows a window in "human" mode (returning None)."""

    def __init__(self, board_size: int, *, cell: int = 36, render_mode: str = "rgb_array") -> None:
        self.n = check_board_size(board_size)
        if render_mode not in ("rgb_array", "human"):
            raise ValueError(f"render_mode must be 'rgb_array' or 'human', got {render_mode!r}")
        if cell < 8:
            raise ValueError(f"cell must be at least 8 pixels, got {cell}")
        self.cell = cell
        self.margin = int(cell * 1.25)  # room for the coordinates
        self.render_mode = render_mode
        self.width = 2 * self.margin + (self.n - 1) * cell
        self.status_height = cell
        self.height = self.width + self.status_height
        self._pg = lazy.pygame("the Go board view")
        self._pg.font.init()
        self._font = self._pg.font.Font(None, max(12, cell // 2))
        self._window: Any = None
        self.surface = self._pg.Surface((self.width, self.height))

    # ----- geometry -----------------------------------------------------------------------

    def point_center(self, action: int) -> tuple[int, int]:
        """Pixel (x, y) of the intersection of a board action."""
        a = check_action(action, self.n)
        if a == self.n * self.n:
            raise ValueError("pass has no point on the board")
        row, col = divmod(a, self.n)
        return self.margin + col * self.cell, self.margin + row * self.cell

    def action_at(self, pixel_xy: tuple[float, float]) -> int | None:
        """The action of the intersection nearest a pixel, or None when the pixel is farther
        than 0.45 cell from every intersection (between points, in the margin, off the board)."""
        x, y = pixel_xy
        col = round((x - self.margin) / self.cell)
        row = round((y - self.margin) / self.cell)
        if not (0 <= row < self.n and 0 <= col < self.n):
            return None
        cx, cy = self.margin + col * self.cell, self.margin + row * self.cell
        if (x - cx) ** 2 + (y - cy) ** 2 > (0.45 * self.cell) ** 2:
            return None
        return row * self.n + col

    # ----- drawing ------------------------------------------------------------------------

    def draw(
        self,
        board: np.ndarray,
        *,
        last_move: int | None = None,
        status: str = "",
    ) -> Any:
        """Draw a board (int8 [N, N]: 1 black, -1 white) and a status line; returns the surface."""
        pg = self._pg
        grid = np.asarray(board).reshape(self.n, self.n)
        surf = self.surface
        surf.fill(WOOD)
        lo, hi = self.margin, self.margin + (self.n - 1) * self.cell
        near, far = int(self.margin * 0.35), self.width - int(self.margin * 0.35)
        for i in range(self.n):
            at = self.margin + i * self.cell
            pg.draw.line(surf, LINE, (lo, at), (hi, at), 1)
            pg.draw.line(surf, LINE, (at, lo), (at, hi), 1)
            for xy in ((at, near), (at, far)):
                self._label(GTP_COLUMNS[i], xy)
            for xy in ((near, at), (far, at)):
                self._label(str(self.n - i), xy)
        for r, c in star_points(self.n):
            pg.draw.circle(surf, LINE, self.point_center(r * self.n + c), max(2, self.cell // 10))
        radius = int(self.cell * 0.47)
        for a in np.flatnonzero(grid.ravel()):
            centre = self.point_center(int(a))
            black = grid.flat[a] == 1
            pg.draw.circle(surf, BLACK if black else WHITE, centre, radius)
            pg.draw.circle(surf, BLACK, centre, radius, 1)
        if last_move is not None and last_move < self.n * self.n:
            pg.draw.circle(surf, MARK, self.point_center(last_move), max(3, self.cell // 6))
        bar = pg.Rect(0, self.width, self.width, self.status_height)
        pg.draw.rect(surf, (200, 160, 80), bar)
        self._label(status, (self.width // 2, self.width + self.status_height // 2))
        return surf

    def _label(self, text: str, centre: tuple[int, int]) -> None:
        image = self._font.render(text, True, TEXT)
        self.surface.blit(image, image.get_rect(center=centre))

    def status_line(self, game: GoGame, state: GoState) -> str:
        black, white = state.captures
        score = game.score(state)
        lead = f"B+{score:g}" if score > 0 else f"W+{-score:g}" if score < 0 else "even"
        turn = (
            "game over"
            if game.is_terminal(state)
            else ("black to play" if game.to_play(state) == 0 else "white to play")
        )
        return f"captures B {black} W {white} | area {lead} | {turn}"

    def render(self, game: GoGame, state: GoState) -> np.ndarray | None:
        """rgb_array: uint8 [height, width, 3]; human: draw into the window, return None."""
        surf = self.draw(
            game.board(state), last_move=state.last_move, status=self.status_line(game, state)
        )
        if self.render_mode == "rgb_array":
            return np.transpose(self._pg.surfarray.array3d(surf), (1, 0, 2)).copy()
        self._show(surf)
        return None

    # ----- window -------------------------------------------------------------------------

    def _show(self, surf: Any) -> None:
        pg = self._pg
        if self._window is None:
            pg.display.init()
            pg.display.set_caption(f"rlsuite Go {self.n}x{self.n}")
            self._window = pg.display.set_mode((self.width, self.height))
        self._window.blit(surf, (0, 0))
        pg.event.pump()
        pg.display.flip()

    def wait_for_move(
        self, legal: np.ndarray | None = None, timeout_s: float | None = None
    ) -> int | None:
        """Human mode: block until a click on a (legal) point or the P key (pass); returns
        the action, or None when the window is closed or `timeout_s` passes."""
        if self._window is None:
            raise RuntimeError("wait_for_move() needs a window: render in human mode first")
        pg = self._pg
        deadline = None if timeout_s is None else pg.time.get_ticks() + int(1000 * timeout_s)
        while deadline is None or pg.time.get_ticks() < deadline:
            for event in pg.event.get():
                if event.type == pg.QUIT:
                    return None
                if event.type == pg.KEYDOWN and event.key == pg.K_p:
                    return self.n * self.n
                if event.type == pg.MOUSEBUTTONDOWN and event.button == 1:
                    a = self.action_at(event.pos)
                    if a is not None and (legal is None or legal[a]):
                        return a
            pg.time.wait(10)
        return None

    def close(self) -> None:
        if self._window is not None:
            self._pg.display.quit()
            self._window = None
