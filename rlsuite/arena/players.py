"""Player specs and the players the arena builds from them.

A spec is a short string naming a player: `random`, `greedy`, `gnugo:LEVEL`, `dqn:RUN`,
`ppo:RUN`, `az:RUN[@SIMS]`, `human`, `gtp:COMMAND`. The spec text is also the player's name in
league records and Elo tables, so the same spec always rates as the same player.

Random and greedy come from `rlsuite.player`; this module adds trained agents (through
`load_agent` of their trainer), GTP engines (GnuGo, or any command line) and a human at a
pygame window.
"""

from __future__ import annotations

import importlib
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rlsuite.game import Game, State
from rlsuite.gtp import EngineFailure, GtpClient, GtpCommandError, find_gnugo, gnugo_argv
from rlsuite.player import GreedyPlayer, Player, RandomPlayer, Resign

if TYPE_CHECKING:
    from rlsuite.envs.go import GoGame, GoState

SPEC_FORMS = {
    "random": "uniform over the legal moves",
    "greedy": "the game's one-step heuristic",
    "sa": "simulated-annealing placer (chip placement only)",
    "gnugo:LEVEL": "GnuGo over GTP at LEVEL 0..10 (apt-get install gnugo)",
    "dqn:RUN": "a DQN run directory or checkpoint (rlsuite train dqn)",
    "ppo:RUN": "a PPO/A2C/REINFORCE run directory or checkpoint (rlsuite train ppo)",
    "az:RUN[@SIMS]": "an AlphaZero run with SIMS simulations per move",
    "human": "you, clicking at a pygame window",
    "gtp:COMMAND": "any GTP engine started by COMMAND, e.g. 'gtp:rlsuite gtp --player greedy'",
}
KINDS = tuple(form.split(":")[0] for form in SPEC_FORMS)
AGENT_LOADERS = {"dqn": "rlsuite.agents.dqn", "ppo": "rlsuite.agents.pg"}
GO_ONLY = ("gnugo", "human", "gtp")


class UnknownPlayerSpec(ValueError):
    """A spec that names no player; the message lists the valid forms."""


class PlayerUnavailable(RuntimeError):
    """The spec is valid but its player cannot be built here (module not built, run missing)."""


def valid_forms() -> str:
    return "\n".join(f"  {form:<16} {text}" for form, text in SPEC_FORMS.items())


@dataclass(frozen=True)
class PlayerSpec:
    """A parsed spec: `kind` is one of KINDS, `arg` the part after the colon."""

    kind: str
    arg: str | None = None

    @property
    def text(self) -> str:
        return self.kind if self.arg is None else f"{self.kind}:{self.arg}"

    def __str__(self) -> str:
        return self.text


def parse_spec(text: str) -> PlayerSpec:
    """Check a spec's form (not whether its run exists); raise `UnknownPlayerSpec` if bad."""
    kind, sep, arg = text.strip().partition(":")
    kind = kind.lower()

    def bad(why: str) -> UnknownPlayerSpec:
        return UnknownPlayerSpec(f"{why}; valid player specs are:\n{valid_forms()}")

    if kind not in KINDS:
        raise bad(f"unknown player spec {text!r}")
    if kind in ("random", "greedy", "sa", "human"):
        if sep:
            raise bad(f"player spec {text!r}: {kind!r} takes no argument")
        return PlayerSpec(kind)
    if not arg.strip():
        raise bad(f"player spec {text!r}: {kind!r} needs an argument after the colon")
    arg = arg.strip()
    if kind == "gnugo":
        if not arg.isdigit() or not 0 <= int(arg) <= 10:
            raise bad(f"player spec {text!r}: GnuGo level must be an integer 0..10")
        return PlayerSpec(kind, str(int(arg)))
    if kind == "az" and "@" in arg:
        _, sims = arg.rsplit("@", 1)
        if not sims.isdigit() or int(sims) < 1:
            raise bad(f"player spec {text!r}: SIMS must be a positive integer")
    return PlayerSpec(kind, arg)


def make_player(spec: str | PlayerSpec, game: Game, *, seed: int | None = None) -> Player:
    """Build the player a spec names, for `game` (whose rules GTP engines are set to)."""
    if isinstance(spec, str):
        spec = parse_spec(spec)
    if spec.kind in GO_ONLY:
        _require_go(game, spec)
    if spec.kind == "sa":
        raise ValueError("'sa' is a chip placer: use it with --game chip")
    player: Player
    if spec.kind == "random":
        player = RandomPlayer(seed)
    elif spec.kind == "greedy":
        player = GreedyPlayer(seed)
    elif spec.kind == "gnugo":
        level = int(spec.arg or 0)
        player = GtpPlayer(lambda g: gnugo_argv(level, **go_rules(g)), name=spec.text)
    elif spec.kind == "gtp":
        argv = shlex.split(spec.arg or "")
        player = GtpPlayer(lambda g: argv, name=spec.text)
    elif spec.kind == "human":
        player = HumanPlayer()
    elif spec.kind == "az":
        player = _alphazero_player(spec)
    else:
        player = AgentPlayer(load_agent(spec), name=spec.text)
    player.name = spec.text
    return player


def _require_go(game: Game, spec: PlayerSpec) -> None:
    from rlsuite.envs.go import GoGame

    if not isinstance(game, GoGame):
        raise ValueError(f"player {spec.text!r} plays Go only, not {type(game).__name__}")


def go_rules(game: GoGame) -> dict[str, Any]:
    """The parts of a GoGame's configuration a GTP engine must be started with."""
    if game.rules != "tromp-taylor":
        raise ValueError(f"GTP engines play standard Go, not rules={game.rules!r}")
    return {"board_size": game.board_size, "komi": game.komi, "superko": game.superko,
            "allow_suicide": game.allow_suicide}


def check_available(spec: PlayerSpec) -> None:
    """Fail fast, before any game starts, on a player that cannot be built on this machine."""
    if spec.kind == "gnugo":
        find_gnugo()
    elif spec.kind == "gtp":
        program = shlex.split(spec.arg or "")[0]
        if shutil.which(program) is None:
            raise PlayerUnavailable(f"{spec.text}: no program {program!r} found")
    elif spec.kind == "az":
        _alphazero_loader(spec)
    elif spec.kind in AGENT_LOADERS:
        _agent_loader(spec)


def _agent_loader(spec: PlayerSpec) -> Callable[[Path], Any]:
    module_name = AGENT_LOADERS[spec.kind]
    run = Path(spec.arg or "")
    if not run.exists():
        raise PlayerUnavailable(f"{spec.text}: no run directory or checkpoint at {run}")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        raise PlayerUnavailable(
            f"{spec.text}: not yet available ({module_name} is not built)"
        ) from e
    loader = getattr(module, "load_agent", None)
    if loader is None:
        raise PlayerUnavailable(f"{spec.text}: not yet available ({module_name}.load_agent)")
    return loader  # type: ignore[no-any-return]


def load_agent(spec: PlayerSpec) -> Any:
    """A trained agent from its run directory through its trainer's `load_agent`."""
    return _agent_loader(spec)(Path(spec.arg or ""))


def _alphazero_loader(spec: PlayerSpec) -> Callable[..., Player]:
    try:
        module = importlib.import_module("rlsuite.agents.alphazero")
    except ModuleNotFoundError:
        module = None
    loader = getattr(module, "load_player", None)
    if loader is None:
        raise PlayerUnavailable(
            f"{spec.text}: not yet available (no AlphaZero trainer in rlsuite.agents.alphazero)"
        )
    return loader  # type: ignore[no-any-return]


def _alphazero_player(spec: PlayerSpec) -> Player:
    loader = _alphazero_loader(spec)
    run, _, sims = (spec.arg or "").partition("@")
    return loader(Path(run), **({"simulations": int(sims)} if sims else {}))


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


class GtpPlayer:
    """A GTP engine subprocess as a Player (GnuGo, or any engine command line).

    The engine keeps its own board. Before each `genmove` the player brings it up to date: one
    `play` for the opponent's last move when the new state follows the last one it knew, or a
    fresh set-up of the whole position otherwise (a mid-game start). The process survives
    between games of the same rules and is restarted if it died.
    """

    def __init__(
        self, argv_for: Callable[[GoGame], list[str]], *, name: str = "gtp",
        timeout: float = 60.0,
    ) -> None:
        self.argv_for = argv_for
        self.name = name
        self.timeout = timeout
        self.client: GtpClient | None = None
        self.game: GoGame | None = None
        self._known: GoState | None = None

    def reset(self, game: Game) -> None:
        from rlsuite.envs.go import GoGame

        if not isinstance(game, GoGame):
            raise ValueError(f"{self.name} plays Go only, not {type(game).__name__}")
        argv = self.argv_for(game)
        if self.client is not None and (
            self.client.argv != argv or self.client.process.poll() is not None
        ):
            self.client.close()
            self.client = None
        if self.client is None:
            self.client = GtpClient(argv, name=self.name, timeout=self.timeout)
        self.game = game
        self._command(f"boardsize {game.board_size}")
        self._command("clear_board")
        self._command(f"komi {game.komi:g}")
        self._known = game.initial_state()

    def _command(self, command: str) -> str:
        if self.client is None:
            raise RuntimeError(f"{self.name}: call reset(game) first")
        try:
            return self.client.send(command)
        except GtpCommandError as e:
            raise EngineFailure(f"{self.name}: {e}", self.client.stderr) from e

    def sync(self, state: GoState) -> None:
        """Make the engine's board equal `state` (see the class docstring)."""
        game, known = self.game, self._known
        if game is None:
            raise RuntimeError(f"{self.name}: call reset(game) before sync(state)")
        if known is not None and _same_position(game, known, state):
            return
        last = state.last_move
        if known is not None and last is not None and state.move_count == known.move_count + 1:
            try:
                expected = game.next_state(known, last)
            except ValueError:
                expected = None
            if expected is not None and _same_position(game, expected, state):
                color = "b" if game.to_play(known) == 0 else "w"
                self._command(f"play {color} {_vertex(last, game.board_size)}")
                self._known = state
                return
        self._command("clear_board")
        board = game.board(state).ravel()
        for point in np.flatnonzero(board):
            color = "b" if board[point] == 1 else "w"
            self._command(f"play {color} {_vertex(int(point), game.board_size)}")
        self._known = state

    def act(self, state: State) -> int:
        from rlsuite.envs.go import gtp_to_action

        game = self.game
        if game is None:
            raise RuntimeError(f"{self.name}: call reset(game) before act(state)")
        self.sync(state)
        color = "b" if game.to_play(state) == 0 else "w"
        reply = self._command(f"genmove {color}")
        if reply.lower() == "resign":
            self._known = None
            raise Resign(self.name)
        try:
            action = gtp_to_action(reply, game.board_size)
        except ValueError:
            assert self.client is not None
            raise EngineFailure(
                f"{self.name}: genmove answered {reply!r}, not a move", self.client.stderr
            ) from None
        try:
            self._known = game.next_state(state, action)
        except ValueError:
            self._known = None  # illegal by our rules: the referee will forfeit it
        return action

    def final_score(self) -> str:
        """The engine's own count of the current position (GTP `final_score`)."""
        return self._command("final_score")

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        self.game = None


def _same_position(game: GoGame, a: GoState, b: GoState) -> bool:
    return (
        a.move_count == b.move_count
        and game.to_play(a) == game.to_play(b)
        and bool(np.array_equal(game.board(a), game.board(b)))
    )


def _vertex(action: int, board_size: int) -> str:
    from rlsuite.envs.go import action_to_gtp

    return str(action_to_gtp(action, board_size))


class HumanPlayer:
    """A person at a pygame window: click a point to play, or the Pass / Resign buttons.

    The window (`rlsuite.watch.GoWindow`) is opened on `reset` unless one is given, so a
    human can also play inside `rlsuite watch`, where the watcher's window is shared.
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
            from rlsuite.watch import GoWindow

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
