"""Screenshots of the `rlsuite watch` windows, one PNG per domain, for people to look at.

    python scripts/screenshots.py [--out docs/screenshots]

Runs headless (SDL's dummy video driver) and deterministically: a 9x9 Go game between the
greedy player and GnuGo level 1 (random when GnuGo is absent) after 40 moves; a chip
placement half done by the greedy placer on MCNC apte (the synthetic netlist when the sample
data is absent), which shows the next macro's ghost and flylines; Pong after 150 random steps.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import numpy as np
from PIL import Image

from rlsuite.ui.board import GoWindow
from rlsuite.ui.toolkit import Controls


def go_screenshot() -> np.ndarray:
    from rlsuite.arena.match import GoConfig
    from rlsuite.arena.players import make_player
    from rlsuite.gtp.client import GnuGoNotFound, find_gnugo

    try:
        find_gnugo()
        opponent = "gnugo:1"
    except GnuGoNotFound:
        opponent = "random"
    game = GoConfig(board_size=9, komi=7.5).build()
    players = [make_player("greedy", game, seed=0), make_player(opponent, game, seed=1)]
    for player in players:
        player.reset(game)
    state = game.initial_state()
    for _ in range(40):
        if game.is_terminal(state):
            break
        state = game.next_state(state, players[game.to_play(state)].act(state))
    for player in players:
        player.close()
    window = GoWindow(9, controls=Controls(2.0))
    window.message = f"greedy vs {opponent}"
    window.show(game, state)
    frame = window.frame()
    window.close()
    return frame


def chip_screenshot() -> np.ndarray:
    from rlsuite.arena.chip import chip_game
    from rlsuite.envs.chip import data_dir
    from rlsuite.ui.chip import ChipWindow

    apte = data_dir() / "mcnc_apte" / "apte.aux"
    game = chip_game(apte if apte.exists() else None)
    state = game.initial_state()
    for _ in range(game.model.num_macros // 2):
        state = game.next_state(state, game.greedy_action(state))
    window = ChipWindow(controls=Controls(4.0))
    window.show(game.model, state)
    frame = window.frame()
    window.close()
    return frame


def atari_screenshot() -> np.ndarray:
    from rlsuite.envs.atari import make_atari
    from rlsuite.envs.atari.view import AtariView

    env = make_atari("ALE/Pong-v5", num_envs=1, seed=0, training=False)
    rng = np.random.default_rng(0)
    obs, info = env.reset(seed=0)
    score = 0.0
    for _ in range(150):
        obs, reward, _, _, info = env.step(rng.integers(0, env.single_action_space.n, size=1))
        score += float(reward[0])
    env.close()
    view = AtariView(render_mode="rgb_array")
    view.draw(obs[0], score=score, episode=1, lives=int(info["lives"][0]), step=150)
    return view.to_array()


SHOTS = {"go": go_screenshot, "chip": chip_screenshot, "atari": atari_screenshot}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    parser.add_argument("--only", choices=sorted(SHOTS), nargs="*", default=sorted(SHOTS))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only:
        path = args.out / f"{name}.png"
        Image.fromarray(SHOTS[name]()).save(path, optimize=True)
        print(f"{path} ({path.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
