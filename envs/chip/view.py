"""Drawing a placement with pygame (imported lazily): `render_rgb` for arrays and PNGs,
`PlacementWindow` for a live window (render_mode "human").

What is drawn: the canvas and grid, an optional RUDY congestion heatmap of the placed pins,
fixed blocks and blockages (grey), ports (green dots), placed macros (blue rectangles), and for
the macro to place next a ghost at its greedy cell with flylines from its pins to each of its
nets' placed pins.
"""

from __future__ import annotations

import numpy as np

from rlsuite import lazy
from rlsuite.envs.chip.metrics import rudy_map
from rlsuite.envs.chip.placement import PlacementModel, PlacementState


def _heat(value: float) -> tuple[int, int, int]:
    """Black -> red -> yellow colour ramp for a value in [0, 1]."""
    v = float(np.clip(value, 0.0, 1.0))
    return int(255 * min(1.0, 2 * v)), int(255 * max(0.0, 2 * v - 1)), 40


def draw(surface, model: PlacementModel, state: PlacementState, show_congestion: bool = False):
    """Draw the placement onto a pygame surface (any size; the canvas is fitted inside)."""
    pygame = lazy.pygame("the chip placement view")
    nl = model.netlist
    width, height = surface.get_size()
    margin = 24
    scale = min((width - 2 * margin) / nl.canvas[0], (height - 2 * margin - 16) / nl.canvas[1])
    x0, y0 = nl.origin

    def to_px(x: float, y: float) -> tuple[int, int]:
        return (int(round(margin + (x - x0) * scale)),
                int(round(height - margin - (y - y0) * scale)))

    def rect_px(r):
        (ax, ay), (bx, by) = to_px(r[0], r[3]), to_px(r[2], r[1])
        return pygame.Rect(ax, ay, max(bx - ax, 1), max(by - ay, 1))

    surface.fill((18, 18, 24))
    pygame.draw.rect(surface, (36, 36, 48), rect_px(nl.bounds))
    if show_congestion:
        live = state.lo[:, 0] <= state.hi[:, 0]
        heat = rudy_map(state.lo[live], state.hi[live], model.weight[live], nl.bounds,
                        (model.cols, model.rows))
        heat = heat / heat.max() if heat.max() > 0 else heat
        for r in range(model.rows):
            for c in range(model.cols):
                cell = (model.xe[c], model.ye[r], model.xe[c + 1], model.ye[r + 1])
                pygame.draw.rect(surface, _heat(heat[r, c]), rect_px(cell))
    for c in range(model.cols + 1):
        pygame.draw.line(surface, (52, 52, 66), to_px(model.xe[c], model.ye[0]),
                         to_px(model.xe[c], model.ye[-1]))
    for r in range(model.rows + 1):
        pygame.draw.line(surface, (52, 52, 66), to_px(model.xe[0], model.ye[r]),
                         to_px(model.xe[-1], model.ye[r]))
    for ob in model.obstacles:
        pygame.draw.rect(surface, (110, 110, 110), rect_px(ob))
    for x, y in nl.pos[nl.port_ids]:
        pygame.draw.circle(surface, (120, 230, 140), to_px(x, y), 2)
    for rect in model.placed_rects(state):
        box = rect_px(rect)
        pygame.draw.rect(surface, (70, 130, 220), box)
        pygame.draw.rect(surface, (200, 220, 255), box, 1)

    k = state.step
    if k < model.num_macros and model.position_mask(state).any():
        cell = model.greedy_cell(state)
        ghost = rect_px(model.rect(k, cell))
        pygame.draw.rect(surface, (250, 200, 60), ghost, 2)
        cx, cy = model.cell_center(cell)
        s, e = model.mn_ptr[k], model.mn_ptr[k + 1]
        for j in range(s, e):
            n = model.mn_net[j]
            if state.lo[n, 0] > state.hi[n, 0]:
                continue  # no placed pin on this net yet
            pin = np.array([cx, cy]) + 0.5 * (model.mn_dlo[j] + model.mn_dhi[j])
            target = np.clip(pin, state.lo[n], state.hi[n])
            pygame.draw.line(surface, (250, 200, 60), to_px(*pin), to_px(*target), 1)
    pygame.font.init()
    font = pygame.font.Font(None, 18)
    done = min(k, model.num_macros)
    caption = f"{nl.name}  macro {done}/{model.num_macros}  HPWL {state.hpwl:.4g}"
    surface.blit(font.render(caption, True, (230, 230, 230)), (margin, 4))


def render_rgb(
    model: PlacementModel, state: PlacementState, size: int = 512, show_congestion: bool = False
) -> np.ndarray:
    """uint8[size, size, 3] picture of the placement (headless: no display needed)."""
    pygame = lazy.pygame("the chip placement view")
    surface = pygame.Surface((size, size))
    draw(surface, model, state, show_congestion)
    return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))


def save_png(
    path, model: PlacementModel, state: PlacementState, size: int = 640,
    show_congestion: bool = False,
) -> None:
    """Write the placement picture to a PNG file."""
    pygame = lazy.pygame("the chip placement view")
    surface = pygame.Surface((size, size))
    draw(surface, model, state, show_congestion)
    pygame.image.save(surface, str(path))


class PlacementWindow:
    """A pygame window that shows the latest state (render_mode "human")."""

    def __init__(self, size: int = 640, title: str = "rlsuite chip placement") -> None:
        pygame = lazy.pygame("the chip placement view")
        pygame.display.init()
        self.screen = pygame.display.set_mode((size, size))
        pygame.display.set_caption(title)
        self.clock = pygame.time.Clock()

    def show(self, model: PlacementModel, state: PlacementState, fps: int,
             show_congestion: bool = False) -> None:
        pygame = lazy.pygame("the chip placement view")
        pygame.event.pump()
        draw(self.screen, model, state, show_congestion)
        pygame.display.flip()
        self.clock.tick(fps)

    def close(self) -> None:
        pygame = lazy.pygame("the chip placement view")
        pygame.display.quit()
