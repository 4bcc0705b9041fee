"""AlphaZero as a `Player` for the arena, the GTP engine and the watch window, and
`load_player`, the entry point the player registry calls for `az:RUN[@SIMS]` specs.

`RUN` may be a run directory (its latest checkpoint), a checkpoint directory, a model file
(`*.safetensors`, e.g. a training snapshot), or `zoo/NAME` for a network shipped in the package
(`az:zoo/go-5x5`). The player searches each move afresh with PUCT and no noise and plays the
most visited move; a game with more history planes than the network was trained on is fine
(the extra planes are dropped), one of another board size is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlsuite.agents.alphazero.model import ZOO, ModelInfo, ModelMismatch, load_model
from rlsuite.agents.alphazero.network import InferenceNet, PolicyValueNet
from rlsuite.agents.alphazero.search import BatchedSearch, SearchConfig

DEFAULT_SIMULATIONS = 200


def play_config(simulations: int) -> SearchConfig:
    """Search settings for play: PUCT without root noise, fresh tree each move."""
    return SearchConfig(simulations=simulations, algorithm="puct", dirichlet_fraction=0.0,
                        reuse_tree=False)


class ChannelSelect:
    """Evaluator over a game with `history` >= the network's: keeps the planes it knows."""

    def __init__(self, net: InferenceNet, info: ModelInfo, game_history: int) -> None:
        self.net = net
        h = info.history
        self.channels = np.array([*range(2 * h), 2 * game_history])
        self.identity = game_history == h

    def __call__(self, planes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.net(planes if self.identity else planes[:, self.channels])


class AlphaZeroPlayer:
    """Plays Go with a trained network and `simulations` PUCT simulations per move."""

    def __init__(self, net: PolicyValueNet, info: ModelInfo, *,
                 simulations: int = DEFAULT_SIMULATIONS, name: str = "alphazero",
                 seed: int = 0) -> None:
        if simulations < 1:
            raise ValueError(f"simulations must be at least 1, got {simulations}")
        self.info = info
        self.inference = InferenceNet(net)
        self.simulations = simulations
        self.name = name
        self.rng = np.random.default_rng(seed)
        self.game: Any = None
        self.search: BatchedSearch | None = None

    def reset(self, game: Any) -> None:
        from rlsuite.envs.go import GoGame

        if not isinstance(game, GoGame):
            raise ValueError(f"{self.name} plays Go only, not {type(game).__name__}")
        info = self.info
        if game.board_size != info.board_size:
            raise ModelMismatch(f"{self.name} was trained on {info.board_size}x{info.board_size}, "
                                f"not {game.board_size}x{game.board_size}")
        if game.history < info.history or game.rules != info.rules:
            raise ModelMismatch(f"{self.name} needs rules={info.rules!r} and at least "
                                f"{info.history} history planes, got {game!r}")
        self.game = game
        evaluator = ChannelSelect(self.inference, info, game.history)
        self.search = BatchedSearch(game, evaluator, play_config(self.simulations), 1,
                                    score_weight=info.score_weight)

    def act(self, state: Any) -> int:
        if self.search is None:
            raise RuntimeError(f"{self.name}: call reset(game) before act(state)")
        from rlsuite.envs.go import GoBatch

        self.search.reset()
        batch = GoBatch(state.data, state.meta, state.layout)
        result = self.search.search(batch, self.rng.integers(2**63, size=1))
        return int(result.action[0])

    def close(self) -> None:
        self.search = None
        self.game = None


def resolve_model(run: str | Path) -> Path | tuple[Path, str]:
    """The model file `run` names, or (checkpoint root, source) for a run or checkpoint."""
    text = str(run)
    if text.startswith("zoo/"):
        path = ZOO / f"{text.removeprefix('zoo/')}.safetensors"
        if not path.is_file():
            shipped = sorted(p.stem for p in ZOO.glob("*.safetensors"))
            raise FileNotFoundError(f"no shipped network {text!r}; shipped: {shipped}")
        return path
    path = Path(run)
    if path.is_file():
        return path
    if (path / "checkpoints").is_dir():
        return path / "checkpoints", str(path)
    if path.is_dir():
        return path, str(path)
    raise FileNotFoundError(f"no AlphaZero run, checkpoint or model file at {path}")


def load_network(run: str | Path) -> tuple[PolicyValueNet, ModelInfo]:
    """The network of a run, checkpoint, model file or `zoo/NAME` (see the module docstring)."""
    found = resolve_model(run)
    if isinstance(found, Path):
        return load_model(found)
    root, source = found
    from rlsuite import checkpoint
    from rlsuite.agents.alphazero.model import network_from_state

    ckpt = checkpoint.load(root)
    algo = ckpt.state.get("algorithm")
    if not isinstance(algo, dict) or "model_info" not in algo:
        raise ModelMismatch(f"{source}: not an AlphaZero checkpoint")
    info = ModelInfo.from_json(algo["model_info"], source)
    return network_from_state(info, algo["net"], source), info


def load_player(spec: str | Path, *, simulations: int | None = None,
                seed: int = 0) -> AlphaZeroPlayer:
    """The player for `az:RUN[@SIMS]`: the arena's player registry passes the spec text
    (`az:runs/go5@400`, `az:zoo/go-5x5`); a bare RUN works too. `simulations` overrides
    @SIMS; the default is `DEFAULT_SIMULATIONS`."""
    text = str(spec)
    name = text if text.startswith("az:") else f"az:{text}"
    run = text.removeprefix("az:")
    head, at, tail = run.rpartition("@")
    if at and tail.isdigit():
        run = head
        simulations = simulations or int(tail)
    net, info = load_network(run)
    return AlphaZeroPlayer(net, info, simulations=simulations or DEFAULT_SIMULATIONS,
                           name=name, seed=seed)
