"""AlphaZero on chip placement: exact resume, legal complete placements, Go networks refused,
and search beating the greedy wire-mask placer where greedy is provably wrong."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from rlsuite.agents.alphazero.model import ZOO, ModelMismatch, load_model, save_model
from rlsuite.agents.alphazero.network import PolicyValueNet
from rlsuite.agents.alphazero.placement import (
    ChipAlphaZero,
    ChipAlphaZeroConfig,
    ScaledChipGame,
    load_placement_network,
    model_info,
    train,
)
from rlsuite.envs.chip import ChipGame, Netlist, greedy_placement
from rlsuite.envs.chip.netlist import KIND_MACRO, KIND_PORT
from rlsuite.run import RunContext


def tiny(tmp_path: Path, **kw) -> ChipAlphaZeroConfig:
    """The default 8-macro synthetic netlist on its 10 x 10 grid: 2 rounds of 4 episodes."""
    base = dict(blocks=1, channels=8, simulations=4, max_considered=4, parallel_games=4,
                games_per_collect=4, min_replay=16, batch_size=16, replay_size=500,
                total_steps=64, log_every=32, eval_every=32, checkpoint_every=32,
                inference_dtype="float32", run_root=str(tmp_path), backends=("csv",), seed=5)
    base.update(kw)
    return ChipAlphaZeroConfig(**base)


def latest(run_dir: Path) -> Path:
    return run_dir / "checkpoints" / (run_dir / "checkpoints" / "latest").read_text().strip()


def test_resume_continues_the_same_run_and_places_legally(tmp_path: Path) -> None:
    whole = train(tiny(tmp_path / "a"))
    first = train(tiny(tmp_path / "b", chunk_steps=32))
    assert json.loads((first / "status.json").read_text())["finished"] is False
    resumed = train(ChipAlphaZeroConfig(**{**tiny(tmp_path / "b").__dict__,
                                           "resume": str(first)}))
    assert resumed == first
    a = load_file(str(latest(whole) / "tensors.safetensors"))
    b = load_file(str(latest(resumed) / "tensors.safetensors"))
    assert a.keys() == b.keys() and any("net" in k for k in a)
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    best_a = json.loads((whole / "best_placement.json").read_text())
    best_b = json.loads((resumed / "best_placement.json").read_text())
    assert best_a == best_b  # the same episodes were searched
    # the search's placement is complete and legal: replaying it through the game checks
    # every cell against the position mask, and no macro overlaps another
    game = ChipGame()
    state = game.initial_state()
    for cell in best_a["cells"]:
        state = game.next_state(state, cell)
    assert game.is_complete(state)
    metrics = game.metrics(state)
    assert metrics["overlap"] == 0
    assert metrics["proxy_cost"] == pytest.approx(best_a["metrics"]["proxy_cost"])


def test_a_go_network_or_checkpoint_is_refused_for_chip(tmp_path: Path) -> None:
    game = ChipGame()
    with pytest.raises(ModelMismatch, match=r"rules tromp-taylor \(expected chip-placement"):
        load_placement_network(ZOO / "go-5x5.safetensors", game)
    # a model file from a placement run of another netlist names the netlist
    other = ChipGame(grid=10, order="file")
    info = model_info(other, 1, 8)
    path = save_model(tmp_path / "chip.safetensors", PolicyValueNet(info.net), info)
    assert load_placement_network(path, other).config == info.net
    with pytest.raises(ModelMismatch, match="board_size 10 \\(expected 12\\)"):
        load_placement_network(path, ChipGame(grid=12))
    # resuming a placement run from a Go checkpoint's algorithm state
    run_dir = train(tiny(tmp_path, total_steps=32, eval_episodes=0))
    config = tiny(tmp_path, total_steps=32, eval_episodes=0)
    algo = ChipAlphaZero(RunContext(run_dir, None, config,  # type: ignore[arg-type]
                                    np.random.default_rng(0), torch.device("cpu"), True))
    _, go_info = load_model(ZOO / "go-5x5.safetensors")
    state = algo.state_dict() | {"model_info": go_info.to_json()}
    with pytest.raises(ModelMismatch, match="rules tromp-taylor"):
        algo.load_state_dict(state)


def trap_netlist() -> Netlist:
    """Two macros between ports p1 (left edge) and p2 (right edge), on a 10 x 10 canvas:
    nets a-p1 (weight 1), a-b (3), b-p2 (5). Greedy puts a beside p1 (a-b has no other placed
    pin yet, so only a-p1 counts), then b beside p2: HPWL 1*1 + 3*8 + 5*1 = 30. Putting a
    next to b near p2 costs 1*7 + 3*2 + 5*1 = 18: the greedy placement is provably worse."""
    return Netlist(
        name="trap", node_names=["a", "b", "p1", "p2"],
        kind=np.array([KIND_MACRO, KIND_MACRO, KIND_PORT, KIND_PORT], np.uint8),
        size=np.array([[2.0, 2.0], [1.8, 1.8], [0.0, 0.0], [0.0, 0.0]]),
        pos=np.array([[1.0, 1.0], [3.0, 1.0], [0.0, 5.0], [10.0, 5.0]]),
        net_ptr=np.array([0, 2, 4, 6]), pin_node=np.array([0, 2, 0, 1, 1, 3]),
        pin_offset=np.zeros((6, 2)), net_weight=np.array([1.0, 3.0, 5.0]),
        origin=(0.0, 0.0), canvas=(10.0, 10.0), source="test_az_chip.trap_netlist",
    )


def test_search_beats_greedy_where_greedy_is_provably_suboptimal(tmp_path: Path) -> None:
    kw = dict(grid=5, congestion_weight=0.0, density_weight=0.0)  # proxy = wirelength
    game = ScaledChipGame(netlist=trap_netlist(), value_margin=0.1, **kw)
    cells, ok = greedy_placement(game.model)
    assert ok
    greedy = game.metrics(_placed(game, cells))
    assert greedy["hpwl"] == pytest.approx(30.0)
    config = ChipAlphaZeroConfig(env_kwargs=kw, blocks=1, channels=8, simulations=32,
                                 max_considered=32, parallel_games=2, greedy_temperature=1.0,
                                 value_scale=0.1, inference_dtype="float32")
    algo = ChipAlphaZero(RunContext(tmp_path, None, config,  # type: ignore[arg-type]
                                    np.random.default_rng(0), torch.device("cpu"), False), game)
    played = algo.play(2, 32, np.random.default_rng(0), noise=False, keep_records=False)
    searched = game.metrics(_placed(game, played.cells[0]))
    assert searched["hpwl"] < greedy["hpwl"] - 1  # one grid step of a-b saves 3
    assert searched["proxy_cost"] < greedy["proxy_cost"]
    assert algo.best_cost == pytest.approx(min(played.costs))


def _placed(game: ChipGame, cells: np.ndarray):
    state = game.initial_state()
    for cell in cells:
        state = game.next_state(state, int(cell))
    return state


def test_the_cli_routes_alphazero_on_the_chip_env_and_its_resume(tmp_path: Path,
                                                                 capsys) -> None:
    from rlsuite.cli.train import main

    flags = ["--env", "rlsuite/ChipPlacement-v0", "--env-kwargs", "grid", "10", "--blocks", "1",
             "--channels", "8", "--simulations", "2", "--parallel-games", "2",
             "--games-per-collect", "2", "--total-steps", "32", "--chunk-steps", "16",
             "--eval-episodes", "0", "--inference-dtype", "float32", "--backends", "csv",
             "--run-root", str(tmp_path)]
    assert main(["alphazero", *flags]) == 0
    run_dir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert json.loads((run_dir / "config.json").read_text())["simulations"] == 2
    assert main(["alphazero", "--resume", str(run_dir)]) == 0
    assert json.loads((run_dir / "status.json").read_text())["finished"] is True


def test_grids_above_40_get_a_conv_policy_head_that_trains(tmp_path: Path) -> None:
    def head(grid: int, choice: str = "auto") -> str:
        config = tiny(tmp_path, env_kwargs={"grid": grid}, policy_head=choice)
        algo = ChipAlphaZero(RunContext(tmp_path, None, config,  # type: ignore[arg-type]
                                        np.random.default_rng(0), torch.device("cpu"), False))
        return algo.info.net.policy_head

    assert head(40) == "dense" and head(41) == "conv" and head(10, "conv") == "conv"
    with pytest.raises(ValueError, match="policy_head must be auto, dense or conv"):
        tiny(tmp_path, policy_head="wide").validate()
    run_dir = train(tiny(tmp_path, policy_head="conv", total_steps=32))
    tensors = load_file(str(latest(run_dir) / "tensors.safetensors"))
    assert not any("policy_head.4" in k for k in tensors)  # no dense layer
    best = json.loads((run_dir / "best_placement.json").read_text())
    assert len(best["cells"]) == len(ChipGame().model.order)
