"""Network shapes and wiring: the fused twin MLP computes two independent MLPs, board policy
heads read one logit per cell, torsos are chosen from the observation space."""

from __future__ import annotations

import pytest
import torch

from rlsuite.agents.networks import BoardHead
from rlsuite.agents.pg.networks import ActorCritic, NetSpec, TwinMLP


def test_twin_mlp_is_two_independent_mlps() -> None:
    torch.manual_seed(0)
    twin = TwinMLP(3, (8, 5), "tanh")
    x = torch.randn(6, 3)
    actor, critic = twin(x)
    w1, b1 = twin.first.weight, twin.first.bias
    for k, out in enumerate((actor, critic)):
        h = torch.tanh(x @ w1[8 * k : 8 * (k + 1)].T + b1[8 * k : 8 * (k + 1)])
        expected = torch.tanh(h @ twin.weights[0][k] + twin.biases[0][k])
        torch.testing.assert_close(out, expected)
    # the critic's output does not depend on the actor's weights
    critic.sum().backward()
    assert twin.weights[0].grad is not None
    assert (twin.weights[0].grad[0] == 0).all() and (twin.weights[0].grad[1] != 0).any()


def test_board_policy_head_reads_one_logit_per_cell() -> None:
    torch.manual_seed(0)
    head = BoardHead((4, 3, 5), num_actions=3 * 5 + 1, gain=0.01)  # Go-like: cells then pass
    features = torch.zeros(1, 4, 3, 5)
    features[0, :, 1, 2] = 1.0  # only cell (row 1, col 2) carries a signal
    logits = head(features)
    assert logits.shape == (1, 16)
    changed = (logits[0, :15] != head(torch.zeros(1, 4, 3, 5))[0, :15]).nonzero().flatten()
    assert changed.tolist() == [1 * 5 + 2]  # action row * width + col
    assert BoardHead((4, 3, 5), num_actions=7, gain=0.01)(features).shape == (1, 7)


@pytest.mark.parametrize(
    ("obs_shape", "dtype", "torso"),
    [((4,), "float32", "mlp"), ((4, 84, 84), "uint8", "nature_cnn"),
     ((17, 9, 9), "uint8", "board_cnn"), ((5, 20, 20), "float32", "board_cnn")],
)
def test_torso_follows_the_observation_space(obs_shape: tuple[int, ...], dtype: str,
                                             torso: str) -> None:
    spec = NetSpec(obs_shape=obs_shape, obs_dtype=dtype, action_kind="discrete", action_dim=6)
    assert spec.resolved_torso() == torso
    net = ActorCritic(spec)
    dist, value = net(torch.zeros(2, *obs_shape, dtype=getattr(torch, dtype)))
    assert dist.log_probs.shape == (2, 6) and value.shape == (2,)


def test_unsupported_observation_rank_is_named() -> None:
    with pytest.raises(ValueError, match="no torso"):
        NetSpec(obs_shape=(2, 3), obs_dtype="float32", action_kind="discrete",
                action_dim=2).resolved_torso()
