"""The trainer in the run layer: exact resume, symmetric sampling, models that refuse the
wrong board or network, and the player the arena loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from rlsuite.agents.alphazero.model import ModelInfo, ModelMismatch, check_same, load_model
from rlsuite.agents.alphazero.network import NetConfig
from rlsuite.agents.alphazero.player import load_player
from rlsuite.agents.alphazero.ship import main as ship_main
from rlsuite.agents.alphazero.trainer import AlphaZeroConfig, BoardSymmetries, train
from rlsuite.envs.go import GoGame


def tiny(tmp_path: Path, **kw) -> AlphaZeroConfig:
    base = dict(board_size=5, komi=24.5, blocks=1, channels=8, simulations=4, history=2,
                parallel_games=8, games_per_collect=8, min_replay=50, batch_size=32,
                replay_size=2000, total_steps=400, log_every=100, eval_every=10_000,
                eval_episodes=2, eval_simulations=2, checkpoint_every=200,
                run_root=str(tmp_path), backends=("csv",), seed=3)
    base.update(kw)
    return AlphaZeroConfig(**base)


def weights(run_dir: Path) -> dict[str, torch.Tensor]:
    latest = (run_dir / "checkpoints" / "latest").read_text().strip()
    return load_file(str(run_dir / "checkpoints" / latest / "tensors.safetensors"))


def test_resume_continues_the_same_run(tmp_path: Path) -> None:
    whole = train(tiny(tmp_path / "a"))
    first = train(tiny(tmp_path / "b", chunk_steps=200))
    assert (first / "status.json").read_text().count('"finished": false') == 1
    resumed = train(AlphaZeroConfig(**{**tiny(tmp_path / "b").__dict__, "resume": str(first)}))
    assert resumed == first
    a, b = weights(whole), weights(resumed)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=0, atol=0)
    # the trained network plays through the player the arena builds for az:RUN@SIMS
    player = load_player(f"az:{resumed}@8")  # the spec text the arena passes
    assert player.simulations == 8 and player.name == f"az:{resumed}@8"
    game = GoGame(5, 24.5)  # the arena's default history (8) is more than the net's (2)
    player.reset(game)
    state = game.initial_state()
    assert game.legal_mask(state)[player.act(state)]
    with pytest.raises(ModelMismatch, match="5x5, not 7x7"):
        player.reset(GoGame(7))
    # a snapshot written by evaluation loads as a model file too
    snaps = sorted((resumed / "snapshots").glob("*.safetensors"))
    net, info = load_model(snaps[-1])
    assert info.board_size == 5 and info.net.channels == 8
    # shipping writes the model, its card and curve; the shipped file loads as a player
    assert ship_main([str(resumed), "--name", "go-test", "--zoo", str(tmp_path / "zoo")]) == 0
    card = json.loads((tmp_path / "zoo" / "go-test.json").read_text())
    assert card["board_size"] == 5 and card["self_play_positions"] >= 400
    assert (tmp_path / "zoo" / "go-test-curve.png").stat().st_size > 1000
    assert load_player(tmp_path / "zoo" / "go-test.safetensors").info.history == 2


def test_a_checkpoint_of_another_shape_or_board_is_refused(tmp_path: Path) -> None:
    run_dir = train(tiny(tmp_path, total_steps=120, eval_episodes=0))
    changed = {**tiny(tmp_path, total_steps=120, eval_episodes=0).__dict__, "channels": 16}
    with pytest.raises(ValueError, match=r"\['channels'\] cannot change"):
        train(AlphaZeroConfig(**{**changed, "resume": str(run_dir)}))
    with pytest.raises(ModelMismatch, match="5x5, not 9x9"):  # the player checks the game
        load_player(run_dir).reset(GoGame(9))
    info = ModelInfo(net=NetConfig(in_channels=5, board_size=5, num_actions=26), board_size=5,
                     komi=24.5, rules="tromp-taylor", superko="positional", history=2,
                     score_weight=0.3)
    other = ModelInfo(net=NetConfig(in_channels=5, board_size=7, num_actions=50), board_size=7,
                      komi=8.5, rules="tromp-taylor", superko="positional", history=2,
                      score_weight=0.3)
    with pytest.raises(ModelMismatch, match=r"board_size 7 \(expected 5\)"):
        check_same(info, other, "go-7x7.safetensors")


def test_symmetries_move_planes_policy_and_mask_together() -> None:
    game = GoGame(5, history=1)
    board = np.zeros((5, 5), np.int8)
    board[0, 1] = 1  # a black stone at row 0, column 1
    state = game.state_from_board(board, to_play=1)
    planes = np.repeat(game.encode(state)[None], 64, axis=0)
    policy = np.zeros((64, 26), np.float32)
    policy[:, 1] = 0.75  # the policy names the point of the stone ...
    policy[:, 25] = 0.25  # ... and pass
    mask = np.repeat(game.legal_mask(state)[None], 64, axis=0)
    fields = BoardSymmetries(5)({"planes": planes.copy(), "policy": policy.copy(),
                                 "mask": mask.copy()}, np.random.default_rng(0))
    seen = set()
    for p, pol, m in zip(fields["planes"], fields["policy"], fields["mask"], strict=True):
        stone = int(np.flatnonzero(p[1].ravel())[0])  # opponent (black) stones for white
        assert pol[stone] == 0.75 and pol[25] == 0.25
        assert not m[stone] and m.sum() == mask[0].sum()
        seen.add(stone)
    assert len(seen) == 8  # a point off the axes and diagonals has eight images
