"""`rlsuite watch atari`: evaluation episodes of a trained agent (or a random one) on screen.

    rlsuite watch atari --env ALE/Pong-v5 --agent dqn:RUN --record pong.gif
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rlsuite.arena.players import load_agent, parse_spec
from rlsuite.ui.toolkit import Controls, Recorder, WatchClosed, pygame


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
    from rlsuite.envs.atari import make_atari
    from rlsuite.envs.atari.view import AtariView

    spec = parse_spec(config.agent)
    if spec.kind not in ("random", "dqn", "ppo"):
        raise ValueError(f"an Atari agent is random, dqn:RUN or ppo:RUN, not {config.agent!r}")
    agent = load_agent(spec) if spec.kind != "random" else None
    env = make_atari(config.env, num_envs=1, protocol=config.protocol,  # type: ignore[arg-type]
                     seed=config.seed, training=False)
    view = AtariView(scale=config.scale, render_mode="rgb_array")
    pg = pygame()
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
