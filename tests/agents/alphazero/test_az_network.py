"""Search inference: the float32 and bfloat16 copies of a trained-shape net agree."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rlsuite.agents.alphazero.network import (
    InferenceNet,
    NetConfig,
    PolicyValueNet,
    inference_dtype,
    padded_batch,
)


def _net() -> PolicyValueNet:
    torch.manual_seed(0)
    net = PolicyValueNet(NetConfig(in_channels=9, board_size=5, num_actions=26, blocks=2,
                                   channels=16))
    net.train()
    for _ in range(3):  # give BatchNorm running statistics that folding must carry over
        net(torch.rand(32, 9, 5, 5))
    return net.eval()


def test_bfloat16_copy_matches_the_eager_net_to_bfloat16_precision() -> None:
    net = _net()
    planes = np.random.default_rng(0).integers(0, 2, (64, 9, 5, 5)).astype(np.uint8)
    with torch.no_grad():
        logits, values = net(torch.from_numpy(planes).float())
    # bfloat16 keeps 8 bits of mantissa: errors within a tenth of the outputs' spread, which a
    # wrong layout or a lost BatchNorm would exceed many times over
    for dtype, share in ((torch.float32, 1e-4), (torch.bfloat16, 0.1)):
        got_logits, got_values = InferenceNet(net, dtype=dtype)(planes)
        assert got_logits.dtype == np.float32 and got_values.dtype == np.float32
        assert got_logits.shape == (64, 26) and got_values.shape == (64,)
        assert np.abs(got_logits - logits.numpy()).max() < share * logits.std().item(), dtype
        assert np.abs(got_values - values.numpy()).max() < share * values.std().item(), dtype


def test_inference_dtype_names() -> None:
    assert inference_dtype("float32") == torch.float32
    assert inference_dtype("bfloat16") == torch.bfloat16
    assert inference_dtype("auto") in (torch.float32, torch.bfloat16)
    with pytest.raises(ValueError, match="float16"):
        inference_dtype("float16")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="float32 or bfloat16"):
        InferenceNet(_net(), dtype=torch.float16)


def test_padded_calls_return_exactly_the_rows_asked_for() -> None:
    sizes = (1, 2, 3, 5, 16, 17, 33, 256, 257)
    assert [padded_batch(n) for n in sizes] == [1, 2, 4, 8, 16, 32, 64, 256, 288]
    net = InferenceNet(_net())
    planes = np.random.default_rng(1).integers(0, 2, (37, 9, 5, 5)).astype(np.uint8)
    all_logits, all_values = net(planes)
    assert all_logits.shape == (37, 26) and all_values.shape == (37,)
    for n in (1, 3, 5, 17):
        logits, values = net(planes[:n])
        assert logits.shape == (n, 26) and values.shape == (n,)
        np.testing.assert_allclose(logits, all_logits[:n], atol=1e-5)
        np.testing.assert_allclose(values, all_values[:n], atol=1e-5)


def test_a_conv_policy_head_has_the_same_weights_on_any_board_and_folds_exactly() -> None:
    def net(board: int) -> PolicyValueNet:
        return PolicyValueNet(NetConfig(in_channels=4, board_size=board,
                                        num_actions=board * board, channels=8,
                                        policy_head="conv"))

    def head_weights(n: PolicyValueNet) -> int:
        return sum(p.numel() for p in n.policy_head.parameters())

    assert head_weights(net(10)) == head_weights(net(80)) == 8 * 8 * 9 + 2 * 8 + 8 + 1
    dense = PolicyValueNet(NetConfig(in_channels=4, board_size=80, num_actions=6400,
                                     channels=8))
    assert head_weights(dense) > 80_000_000  # why large grids need the conv head
    torch.manual_seed(0)
    small = net(10).train()
    for _ in range(3):
        small(torch.rand(16, 4, 10, 10))
    small.eval()
    planes = np.random.default_rng(2).integers(0, 2, (8, 4, 10, 10)).astype(np.uint8)
    with torch.no_grad():
        logits, values = small(torch.from_numpy(planes).float())
    got_logits, got_values = InferenceNet(small)(planes)
    assert got_logits.shape == (8, 100)
    np.testing.assert_allclose(got_logits, logits.numpy(), atol=1e-4)
    np.testing.assert_allclose(got_values, values.numpy(), atol=1e-4)


def test_a_conv_policy_head_needs_one_action_per_point() -> None:
    with pytest.raises(ValueError, match=r"one action per point \(25\), got 26"):
        NetConfig(in_channels=3, board_size=5, num_actions=26, policy_head="conv")
    with pytest.raises(ValueError, match="policy_head must be 'dense' or 'conv'"):
        NetConfig(in_channels=3, board_size=5, num_actions=25, policy_head="deconv")  # type: ignore[arg-type]
