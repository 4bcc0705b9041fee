"""`rlsuite watch go|chip|atari`: watch agents play in a pygame window, and record it.

    rlsuite watch go --black greedy --white gnugo:1 --board-size 9
    rlsuite watch go --black human --white gnugo:3        # play yourself: click, Pass, Resign
    rlsuite watch chip --netlist PATH --placer greedy
    rlsuite watch atari --env ALE/Pong-v5 --agent dqn:RUN --record pong.gif

Keys in every window: space pauses, + / - (or the arrow keys) change the speed, N steps one
frame while paused, Q or Esc quits. `--record` takes a .gif, an .mp4 (needs ffmpeg) or a
folder for numbered PNG frames. The drawing itself belongs to each env's view
(`GoBoardView`, the chip view, `AtariView`); this module adds the window, the controls, the
human's buttons and the recording. Headless (SDL_VIDEODRIVER=dummy) it runs unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlsuite.config import parse
from rlsuite.game import Game, State

DOMAINS = ("go", "chip", "atari")
PANEL_HEIGHT = 88
PANEL_COLOUR = (60, 45, 30)
BUTTON_COLOUR = (235, 215, 170)
BUTTON_ACTIVE = (250, 240, 200)
TEXT_COLOUR = (245, 240, 230)


def _pygame() -> Any:
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")  # no view plays sound
    try:
        import pygame
    except ImportError as e:  # pragma: no cover - pygame is a declared dependency
        raise ImportError("rlsuite watch needs pygame: pip install pygame") from e
    pygame.display.init()
    pygame.font.init()
    return pygame


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
        pg = _pygame()
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
        pg = _pygame()
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

    def describe(self) -> str:
        speed = "max speed" if self.fps <= 0 else f"{self.fps:.3g}/s"
        state = "PAUSED (space)" if self.paused else "space: pause"
        return f"{speed}  +/-: speed  {state}  q: quit"


# --------------------------------------------------------------------------- recording


class Recorder:
    """Collects frames (uint8 [H, W, 3]) into a GIF, an MP4 or a folder of PNGs."""

    def __init__(self, target: str | Path, fps: float) -> None:
        self.target = Path(target)
        self.fps = fps if fps > 0 else 10.0
        self.kind = {".gif": "gif", ".mp4": "mp4"}.get(self.target.suffix.lower(), "folder")
        self.count = 0
        self._gif: list[Any] = []
        self._ffmpeg: subprocess.Popen[bytes] | None = None
        if self.kind == "mp4" and shutil.which("ffmpeg") is None:
            raise ValueError(
                f"recording {self.target.name} needs ffmpeg on PATH (apt-get install ffmpeg); "
                "or record to a .gif or a folder of PNG frames"
            )
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
                    ["ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24",
                     "-s", f"{width}x{height}", "-r", f"{self.fps:g}", "-i", "-",
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


# --------------------------------------------------------------------------- Go


class GoWindow:
    """A Go board (drawn by `GoBoardView`) above a panel with Pass / Resign buttons, a message
    line and the speed line. It shows positions for the watcher and takes a human's moves."""

    def __init__(self, board_size: int, *, cell: int | None = None,
                 controls: Controls | None = None, title: str | None = None) -> None:
        from rlsuite.envs.go.view import GoBoardView

        self.pg = _pygame()
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
        return np.transpose(self.pg.surfarray.array3d(self.screen), (1, 0, 2)).copy()

    def wait_for_move(self, game: Game, state: State) -> int | None:
        """Block until the human clicks a legal point or Pass (P); None means resign.

        A click on an illegal point keeps waiting and says why it is illegal. Closing the
        window also resigns, and tells the controls to stop.
        """
        pg, pass_action = self.pg, game.num_actions - 1
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
    from rlsuite.arena.match import GoConfig, play_game
    from rlsuite.arena.players import HumanPlayer, make_player, parse_spec

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
        if config.hold and not headless():
            controls.paused = True
            while True:
                controls.wait()
    except WatchClosed:
        pass
    finally:
        if recorder is not None:
            recorder.close()
        window.close()
    return outcomes


# --------------------------------------------------------------------------- chip


class ChipWindow:
    """The chip view (`rlsuite.envs.chip.view.draw`) in a window, with the speed line."""

    def __init__(self, size: int = 640, *, controls: Controls | None = None) -> None:
        self.pg = _pygame()
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
        return np.transpose(self.pg.surfarray.array3d(self.screen), (1, 0, 2)).copy()

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
    from rlsuite.arena.chip import chip_game, make_placer

    game = chip_game(config.netlist, config.grid)
    placer = make_placer(config.placer, game, seed=config.seed)
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
        if config.hold and not headless():
            controls.paused = True
            while True:
                controls.wait()
    except WatchClosed:
        pass
    finally:
        placer.close()
        if recorder is not None:
            recorder.close()
        window.close()
    return metrics


# --------------------------------------------------------------------------- Atari


@dataclass(kw_only=True)
class AtariWatchConfig:
    """Options of `rlsuite watch atari`."""

    env: str = "ALE/Pong-v5"
    agent: str = "random"
    """random, dqn:RUN or ppo:RUN (a run trained on this game)"""
    episodes: int = 1
    protocol: str = "dqn"
    fps: float = 30.0
    """agent steps per second (0: as fast as possible)"""
    max_steps: int | None = None
    """stop after this many steps (a short clip) even mid-episode"""
    seed: int = 0
    scale: int = 4
    record: Path | None = None


def watch_atari(config: AtariWatchConfig) -> list[float]:
    """Play evaluation episodes on screen; returns the raw scores of the finished ones."""
    from rlsuite.arena.players import load_agent, parse_spec
    from rlsuite.envs.atari import make_atari
    from rlsuite.envs.atari.view import AtariView

    spec = parse_spec(config.agent)
    if spec.kind not in ("random", "dqn", "ppo"):
        raise ValueError(f"an Atari agent is random, dqn:RUN or ppo:RUN, not {config.agent!r}")
    agent = load_agent(spec) if spec.kind != "random" else None
    env = make_atari(config.env, num_envs=1, protocol=config.protocol,  # type: ignore[arg-type]
                     seed=config.seed, training=False)
    view = AtariView(scale=config.scale, render_mode="rgb_array")
    pg = _pygame()
    screen = pg.display.set_mode(view.size)
    pg.display.set_caption(f"rlsuite: {config.env} ({config.agent})")
    controls = Controls(config.fps)
    recorder = Recorder(config.record, config.fps) if config.record else None
    rng = np.random.default_rng(config.seed)
    scores: list[float] = []
    try:
        obs, info = env.reset(seed=config.seed)
        score, step, total = 0.0, 0, 0
        while len(scores) < config.episodes:
            if config.max_steps is not None and total >= config.max_steps:
                break
            if agent is None:
                action = rng.integers(0, env.single_action_space.n, size=1)  # type: ignore[attr-defined]
            else:
                action = np.asarray(agent.act(obs, None, deterministic=True)).reshape(1)
            obs, reward, _, _, info = env.step(action)
            score, step, total = score + float(reward[0]), step + 1, total + 1
            if "episode" in info:
                scores.append(float(info["episode"]["r"][0]))
                score, step = 0.0, 0
            view.draw(obs[0], score=score, episode=len(scores) + 1,
                      lives=int(info["lives"][0]), step=step)
            screen.blit(view.surface, (0, 0))
            pg.display.flip()
            if recorder is not None:
                recorder.add(view.to_array())
            controls.wait()
    except WatchClosed:
        pass
    finally:
        env.close()
        if recorder is not None:
            recorder.close()
        pg.display.quit()
    return scores


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """`rlsuite watch DOMAIN [OPTIONS]` with DOMAIN one of go, chip, atari."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] not in DOMAINS:
        print(f"usage: rlsuite watch DOMAIN [OPTIONS]; DOMAIN is one of {list(DOMAINS)}\n"
              "       rlsuite watch DOMAIN --help lists its options", file=sys.stderr)
        return 2
    domain, rest = args[0], args[1:]
    prog = f"rlsuite watch {domain}"
    try:
        if domain == "go":
            outcomes = watch_go(parse(GoWatchConfig, rest, prog=prog))
            for outcome in outcomes:
                print(f"result {outcome.result} after {len(outcome.actions)} moves"
                      + (f": {outcome.error}" if outcome.error else ""))
        elif domain == "chip":
            metrics = watch_chip(parse(ChipWatchConfig, rest, prog=prog))
            print("dead end" if metrics is None else
                  "  ".join(f"{k} {v:.6g}" for k, v in metrics.items()))
        else:
            scores = watch_atari(parse(AtariWatchConfig, rest, prog=prog))
            print(f"episode scores: {scores}")
    except (ValueError, RuntimeError, FileNotFoundError) as e:
        print(f"{prog}: {e}", file=sys.stderr)
        return 2
    return 0
