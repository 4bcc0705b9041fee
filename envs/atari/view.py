"""pygame view of an Atari game as the agent sees it: the newest 84x84 frame, scaled, with a
status bar (score, episode, lives, step).

`AtariView.draw` renders onto an off-screen surface (works headless, SDL_VIDEODRIVER=dummy);
`show` also puts it in a window and reports whether the user closed it. `watch` plays whole
games with a policy (a trained agent's `act`, or uniform random actions) and returns their raw
scores; `rlsuite watch atari` builds on it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from rlsuite import lazy
from rlsuite.envs.atari.env import FRAME_SIZE, make_atari

BAR_HEIGHT = 28
Policy = Callable[[np.ndarray], np.ndarray]
"""uint8 observations (1, 4, 84, 84) -> actions (1,), e.g. a DQN agent's `act`."""


class AtariView:
    """Draws frames `scale` times their size above a one-line status bar."""

    def __init__(
        self,
        *,
        scale: int = 4,
        render_mode: Literal["human", "rgb_array"] = "human",
        fps: int = 15,
        title: str = "rlsuite Atari",
    ) -> None:
        if scale < 1:
            raise ValueError(f"scale must be >= 1, got {scale}")
        if render_mode not in ("human", "rgb_array"):
            raise ValueError(f"render_mode must be 'human' or 'rgb_array', got {render_mode!r}")
        self.pg = lazy.pygame("the Atari view")
        self.pg.display.init()  # not pygame.init(): no audio device is needed
        self.pg.font.init()
        self.scale, self.render_mode, self.fps, self.title = scale, render_mode, fps, title
        self.size = (FRAME_SIZE * scale, FRAME_SIZE * scale + BAR_HEIGHT)
        self.surface = self.pg.Surface(self.size)
        self.font = self.pg.font.Font(None, BAR_HEIGHT - 4)
        self.window: Any = None
        self.clock = self.pg.time.Clock()

    def draw(
        self,
        frame: np.ndarray,
        *,
        score: float,
        episode: int,
        lives: int | None = None,
        step: int | None = None,
    ) -> Any:
        """Render one grayscale frame (84, 84) or the newest of a stack (4, 84, 84)."""
        frame = np.asarray(frame)
        if frame.ndim == 3:
            frame = frame[-1]
        if frame.shape != (FRAME_SIZE, FRAME_SIZE) or frame.dtype != np.uint8:
            raise ValueError(
                f"frame must be uint8 ({FRAME_SIZE}, {FRAME_SIZE}) or a stack of them, "
                f"got {frame.dtype} {frame.shape}"
            )
        big = np.repeat(np.repeat(frame, self.scale, axis=0), self.scale, axis=1)
        rgb = np.repeat(big.T[:, :, None], 3, axis=2)  # pygame arrays are (width, height, 3)
        self.surface.fill((0, 0, 0))
        self.pg.surfarray.blit_array(self.surface.subsurface((0, 0, *big.shape[::-1])), rgb)
        parts = [f"score {score:g}", f"episode {episode}"]
        if lives is not None:
            parts.append(f"lives {lives}")
        if step is not None:
            parts.append(f"step {step}")
        text = self.font.render("   ".join(parts), True, (255, 255, 255))
        self.surface.blit(text, (6, self.size[1] - BAR_HEIGHT + 4))
        return self.surface

    def to_array(self) -> np.ndarray:
        """The last drawn picture as uint8 (height, width, 3)."""
        return np.transpose(self.pg.surfarray.array3d(self.surface), (1, 0, 2))

    def show(self, frame: np.ndarray, **status: Any) -> bool:
        """Draw and, in "human" mode, display at `fps`; False once the window is closed."""
        self.draw(frame, **status)
        if self.render_mode != "human":
            return True
        if self.window is None:
            self.window = self.pg.display.set_mode(self.size)
            self.pg.display.set_caption(self.title)
        for event in self.pg.event.get():
            if event.type == self.pg.QUIT:
                return False
        self.window.blit(self.surface, (0, 0))
        self.pg.display.flip()
        self.clock.tick(self.fps)
        return True

    def close(self) -> None:
        if self.window is not None:
            self.pg.display.quit()
            self.window = None


def watch(
    game: str,
    policy: Policy | None = None,
    *,
    episodes: int = 1,
    protocol: Literal["dqn", "machado"] = "dqn",
    seed: int = 0,
    view: AtariView | None = None,
) -> list[float]:
    """Play `episodes` evaluation games (raw scores, no life-loss terminals) on screen.

    Without a policy, actions are uniform random. Returns each finished game's raw score; stops
    early, returning the finished ones, if the window is closed.
    """
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    env = make_atari(game, num_envs=1, protocol=protocol, seed=seed, training=False)
    view = AtariView(title=f"rlsuite: {env.game}") if view is None else view
    rng = np.random.default_rng(seed)
    scores: list[float] = []
    try:
        obs, info = env.reset()
        score, step = 0.0, 0
        while len(scores) < episodes:
            if policy is None:
                action = rng.integers(0, env.num_actions, size=1)
            else:
                action = np.asarray(policy(obs)).reshape(1)
            obs, reward, _, _, info = env.step(action)
            score, step = score + float(reward[0]), step + 1
            if "episode" in info:
                scores.append(float(info["episode"]["r"][0]))
                score, step = 0.0, 0
            alive = view.show(
                obs[0], score=score, episode=len(scores) + 1, lives=int(info["lives"][0]), step=step
            )
            if not alive:
                break
    finally:
        env.close()
        view.close()
    return scores
