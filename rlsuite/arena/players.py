"""Player specs and the one registry that turns them into players, for every game.

A spec is a short string naming a player: `random`, `greedy`, `sa`, `gnugo:LEVEL`, `dqn:RUN`,
`ppo:RUN`, `az:RUN[@SIMS]`, `az:zoo/NAME`, `human`, `gtp:COMMAND`. The spec text is also the
player's name in league records and Elo tables, so the same spec always rates as the same
player.

`PLAYERS` maps each kind to how it is built and which games it plays. Builders import their
module only when called, so the arena needs no hard import of GTP, pygame or any agent: a
front end asks `make_player(spec, game)` and gets a `Player`, whether Go or chip placement.
Trained agents load through their package's `load_agent` (DQN, PPO) or `load_player`
(AlphaZero), named here by module path.
"""

from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rlsuite.game import Game, State
from rlsuite.player import GreedyPlayer, Player, RandomPlayer, Resign

Builder = Callable[["PlayerSpec", Game, "int | None"], Player]
AGENT_MODULES = {"dqn": "rlsuite.agents.dqn", "ppo": "rlsuite.agents.pg"}
ALPHAZERO_MODULE = "rlsuite.agents.alphazero"


class UnknownPlayerSpec(ValueError):
    """A spec that names no player; the message lists the valid forms."""


class PlayerUnavailable(RuntimeError):
    """The spec is valid but its player cannot be built here (module not built, run missing,
    engine not installed); the message says which and, where it can, how to fix it."""


@dataclass(frozen=True)
class PlayerKind:
    """One registry entry: the spec form (`gnugo:LEVEL`), what it is, how to build it.

    `games` names the games it plays (`go`, `chip`) or is None for any game; `check` raises
    `PlayerUnavailable` early, before any game starts, where the player cannot be built.
    """

    form: str
    help: str
    build: Builder
    games: tuple[str, ...] | None = None
    check: Callable[[PlayerSpec], None] | None = None

    @property
    def takes_arg(self) -> bool:
        return ":" in self.form


@dataclass(frozen=True)
class PlayerSpec:
    """A parsed spec: `kind` is a key of `PLAYERS`, `arg` the part after the colon."""

    kind: str
    arg: str | None = None

    @property
    def text(self) -> str:
        return self.kind if self.arg is None else f"{self.kind}:{self.arg}"

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------- builders


def _random(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    return RandomPlayer(seed)


def _greedy(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    return GreedyPlayer(seed)


def _anneal(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    from rlsuite.arena.placers import AnnealPlacer

    return AnnealPlacer(seed)


def _gnugo(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    from rlsuite.gtp.player import gnugo_player

    return gnugo_player(int(spec.arg or 0), name=spec.text, seed=seed)


def _gtp(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    from rlsuite.gtp.player import command_player

    return command_player(spec.arg or "", name=spec.text)


def _human(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    from rlsuite.ui.board import HumanPlayer

    return HumanPlayer()


def _trained(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    return AgentPlayer(load_agent(spec), name=spec.text)


def _alphazero(spec: PlayerSpec, game: Game, seed: int | None) -> Player:
    player: Player = _alphazero_loader(spec)(spec.text)
    return player


# --------------------------------------------------------------------------- checks


def _check_gnugo(spec: PlayerSpec) -> None:
    from rlsuite.gtp.client import GnuGoNotFound, find_gnugo

    try:
        find_gnugo()
    except GnuGoNotFound as e:
        raise PlayerUnavailable(f"{spec.text}: {e}") from e


def _check_gtp(spec: PlayerSpec) -> None:
    from rlsuite.gtp.player import check_command

    try:
        check_command(spec.arg or "")
    except (FileNotFoundError, ValueError) as e:
        raise PlayerUnavailable(f"{spec.text}: {e}") from e


def _check_trained(spec: PlayerSpec) -> None:
    _agent_loader(spec)


def _check_alphazero(spec: PlayerSpec) -> None:
    """Build the player once: a missing run, a non-AlphaZero checkpoint or an unknown zoo name
    is named before the first game rather than in the middle of a league."""
    load = _alphazero_loader(spec)
    try:
        load(spec.text).close()
    except (FileNotFoundError, ValueError) as e:  # ValueError: ModelMismatch, CheckpointError
        raise PlayerUnavailable(f"{spec.text}: {e}") from e


PLAYERS: dict[str, PlayerKind] = {
    "random": PlayerKind("random", "uniform over the legal moves", _random),
    "greedy": PlayerKind("greedy", "the game's one-step heuristic", _greedy),
    "sa": PlayerKind("sa", "simulated-annealing placer", _anneal, games=("chip",)),
    "gnugo": PlayerKind("gnugo:LEVEL", "GnuGo over GTP at LEVEL 0..10 (apt-get install gnugo)",
                        _gnugo, games=("go",), check=_check_gnugo),
    "dqn": PlayerKind("dqn:RUN", "a DQN run directory or checkpoint (rlsuite train dqn)",
                      _trained, check=_check_trained),
    "ppo": PlayerKind("ppo:RUN", "a PPO/A2C/REINFORCE run directory or checkpoint "
                      "(rlsuite train ppo)", _trained, check=_check_trained),
    "az": PlayerKind("az:RUN[@SIMS]", "an AlphaZero run with SIMS simulations per move, or "
                     "az:zoo/NAME for a shipped network", _alphazero, check=_check_alphazero),
    "human": PlayerKind("human", "you, clicking at a pygame window", _human, games=("go",)),
    "gtp": PlayerKind("gtp:COMMAND", "any GTP engine started by COMMAND, "
                      "e.g. 'gtp:rlsuite gtp --player greedy'", _gtp, games=("go",),
                      check=_check_gtp),
}


def register_player(kind: str, entry: PlayerKind) -> None:
    """Add a kind of player (a new agent, another engine) to every front end at once."""
    if kind in PLAYERS:
        raise ValueError(f"player kind {kind!r} is already registered")
    PLAYERS[kind] = entry


def valid_forms(game_name: str | None = None) -> str:
    """The spec forms (of the players of one game, or all), one per line with their help."""
    return "\n".join(f"  {k.form:<16} {k.help}" for k in PLAYERS.values()
                     if game_name is None or k.games is None or game_name in k.games)


# --------------------------------------------------------------------------- specs


def parse_spec(text: str) -> PlayerSpec:
    """Check a spec's form (not whether its run exists); raise `UnknownPlayerSpec` if bad."""
    kind, sep, arg = text.strip().partition(":")
    kind = kind.lower()

    def bad(why: str) -> UnknownPlayerSpec:
        return UnknownPlayerSpec(f"{why}; valid player specs are:\n{valid_forms()}")

    entry = PLAYERS.get(kind)
    if entry is None:
        raise bad(f"unknown player spec {text!r}")
    if not entry.takes_arg:
        if sep:
            raise bad(f"player spec {text!r}: {kind!r} takes no argument")
        return PlayerSpec(kind)
    arg = arg.strip()
    if not arg:
        raise bad(f"player spec {text!r}: {kind!r} needs an argument after the colon")
    if kind == "gnugo":
        if not (arg.isascii() and arg.isdigit()) or not 0 <= int(arg) <= 10:
            raise bad(f"player spec {text!r}: GnuGo level must be an integer 0..10")
        return PlayerSpec(kind, str(int(arg)))
    if kind == "az" and "@" in arg:
        _, sims = arg.rsplit("@", 1)
        if not (sims.isascii() and sims.isdigit()) or int(sims) < 1:
            raise bad(f"player spec {text!r}: SIMS must be a positive integer")
    return PlayerSpec(kind, arg)


GAME_CLASSES = {"go": ("rlsuite.envs.go", "GoGame"), "chip": ("rlsuite.envs.chip", "ChipGame")}


def game_name(game: Game) -> str:
    """`go`, `chip`, or the game's class name: what `PlayerKind.games` is matched against.

    A game's module is loaded once the game exists, so this looks in `sys.modules` and never
    imports a domain just to compare against it.
    """
    for name, (module_name, class_name) in GAME_CLASSES.items():
        module = sys.modules.get(module_name)
        if module is not None and isinstance(game, getattr(module, class_name)):
            return name
    return type(game).__name__


def require_plays(spec: PlayerSpec, name: str) -> None:
    """Raise ValueError, listing the players of that game, unless the spec's player plays the
    game called `name` (`go`, `chip`)."""
    games = PLAYERS[spec.kind].games
    if games is not None and name not in games:
        raise ValueError(f"player {spec.text!r} does not play {name}; players of {name} are:\n"
                         f"{valid_forms(name)}")


def make_player(spec: str | PlayerSpec, game: Game, *, seed: int | None = None) -> Player:
    """Build the player a spec names, for `game` (whose rules GTP engines are set to)."""
    if isinstance(spec, str):
        spec = parse_spec(spec)
    require_plays(spec, game_name(game))
    player = PLAYERS[spec.kind].build(spec, game, seed)
    player.name = spec.text
    return player


def check_available(spec: PlayerSpec) -> None:
    """Fail fast, before any game starts, on a player that cannot be built on this machine."""
    check = PLAYERS[spec.kind].check
    if check is not None:
        check(spec)


# --------------------------------------------------------------------------- trained agents


def _agent_loader(spec: PlayerSpec) -> Callable[[Path], Any]:
    module_name = AGENT_MODULES[spec.kind]
    run = Path(spec.arg or "")
    if not run.exists():
        raise PlayerUnavailable(f"{spec.text}: no run directory or checkpoint at {run}")
    return _module_attr(spec, module_name, "load_agent")  # type: ignore[no-any-return]


def _alphazero_loader(spec: PlayerSpec) -> Callable[[str], Player]:
    return _module_attr(spec, ALPHAZERO_MODULE, "load_player")  # type: ignore[no-any-return]


def _module_attr(spec: PlayerSpec, module_name: str, attr: str) -> Any:
    """`module_name.attr`, or `PlayerUnavailable` saying the agent is not yet available."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name is None or not module_name.startswith(e.name):
            raise  # the agent's package exists but one of its own imports is missing
        raise PlayerUnavailable(f"{spec.text}: not yet available ({module_name} is not built)"
                                ) from e
    found = getattr(module, attr, None)
    if found is None:
        raise PlayerUnavailable(f"{spec.text}: not yet available ({module_name}.{attr} "
                                "does not exist)")
    return found


def load_agent(spec: str | PlayerSpec) -> Any:
    """A trained agent (`act(obs, mask, deterministic)`) from the run directory a `dqn:RUN` or
    `ppo:RUN` spec names, through its trainer's `load_agent`.

    A process loads each run once: a round robin builds its players afresh for every game,
    and reading the checkpoint each time would dominate short games. So a run that is still
    training is played as it was at the first load of this process (one arena call).
    """
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if spec.kind not in AGENT_MODULES:
        raise ValueError(f"{spec.text!r} is not a trained agent (dqn:RUN or ppo:RUN)")
    return _load_once(spec.kind, Path(spec.arg or "").resolve())


@functools.lru_cache(maxsize=8)
def _load_once(kind: str, run: Path) -> Any:
    return _agent_loader(PlayerSpec(kind, str(run)))(run)


class AgentPlayer:
    """A trained agent (DQN, PPO, ...) playing greedily on the game's encoded state and mask."""

    def __init__(self, agent: Any, name: str = "agent") -> None:
        self.agent = agent
        self.name = name
        self.game: Game | None = None

    def reset(self, game: Game) -> None:
        expected = tuple(getattr(self.agent.observation_space, "shape", ()) or ())
        if expected and expected != tuple(game.observation_shape):
            raise ValueError(
                f"{self.name}: the agent expects observations of shape {expected}, "
                f"the game gives {tuple(game.observation_shape)} (another board size?)"
            )
        self.game = game

    def act(self, state: State) -> int:
        if self.game is None:
            raise RuntimeError(f"{self.name}: call reset(game) before act(state)")
        obs = np.asarray(self.game.encode(state))[None]
        mask = np.asarray(self.game.legal_mask(state))[None]
        return int(self.agent.act(obs, mask, deterministic=True)[0])

    def close(self) -> None:
        self.game = None


__all__ = [
    "PLAYERS",
    "AgentPlayer",
    "PlayerKind",
    "PlayerSpec",
    "PlayerUnavailable",
    "Resign",
    "UnknownPlayerSpec",
    "check_available",
    "load_agent",
    "make_player",
    "parse_spec",
    "register_player",
]
