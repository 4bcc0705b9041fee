"""DQN parts: config checks, masked acting, targets (replay and envs: tests/core)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rlsuite.agents.dqn import DQNConfig
from rlsuite.agents.dqn.learner import QLearner
from rlsuite.agents.dqn.network import QNetwork
from rlsuite.agents.dqn.policy import EpsilonGreedy, masked_argmax, random_actions
from rlsuite.agents.dqn.train import build_network, discrete_envs
from rlsuite.agents.networks import BoardHead
from rlsuite.cli.train import parse_config
from rlsuite.nstep_replay import Transitions
from rlsuite.run import resolve_device

# --- config ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("n_step", 0, "n_step must be positive"),
        ("gamma", 1.5, "gamma must lie in"),
        ("tau", 0.0, "tau must be > 0"),
        ("learning_rate", -1e-3, "learning_rate"),
        ("hidden_sizes", (), "hidden_sizes"),
        ("learning_starts", -1, "learning_starts must be >= 0"),
        ("backends", ("wandb",), "unknown backends"),
    ],
)
def test_config_rejects_bad_values(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DQNConfig(**{field: value})  # type: ignore[arg-type]


def test_config_rejects_batch_larger_than_buffer() -> None:
    with pytest.raises(ValueError, match="batch_size 64 exceeds buffer_size 10"):
        DQNConfig(buffer_size=10)


def test_cli_applies_preset_then_flags() -> None:
    preset = parse_config("dqn", ["--env", "CartPole-v1"])
    assert preset.hidden_sizes != DQNConfig().hidden_sizes  # the CartPole preset applied
    flagged = parse_config("dqn", ["--env", "CartPole-v1", "--gamma", "0.9", "--no-dueling"])
    assert (flagged.gamma, flagged.dueling) == (0.9, False)
    assert flagged.hidden_sizes == preset.hidden_sizes
    with pytest.raises(SystemExit):
        parse_config("dqn", ["--no-such-flag", "1"])


def test_cuda_request_without_cuda_is_a_clear_error() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda")
    assert resolve_device("auto") == torch.device("cpu")


# --- acting with masks -------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    masks=st.integers(2, 9).flatmap(
        lambda a: st.lists(
            st.lists(st.booleans(), min_size=a, max_size=a).filter(any), min_size=1, max_size=8
        )
    ),
    seed=st.integers(0, 2**31),
)
def test_random_actions_are_legal(masks: list[list[bool]], seed: int) -> None:
    mask = np.array(masks)
    actions = random_actions(np.random.default_rng(seed), len(mask), mask.shape[1], mask)
    assert mask[np.arange(len(mask)), actions].all()


def test_random_actions_are_uniform_over_legal_ones() -> None:
    mask = np.tile(np.array([True, False, True, True, False]), (30_000, 1))
    actions = random_actions(np.random.default_rng(0), len(mask), 5, mask)
    counts = np.bincount(actions, minlength=5)
    assert counts[1] == counts[4] == 0
    assert np.allclose(counts[[0, 2, 3]] / len(mask), 1 / 3, atol=0.01)


def test_row_without_legal_action_is_rejected() -> None:
    mask = np.array([[True, False], [False, False]])
    with pytest.raises(ValueError, match="no legal action"):
        random_actions(np.random.default_rng(0), 2, 2, mask)
    policy = EpsilonGreedy(_biased_network(2, favourite=0), 2, torch.device("cpu"))
    with pytest.raises(ValueError, match="no legal action"):
        policy(np.zeros((2, 3), np.float32), mask, 0.0, np.random.default_rng(0))


def _biased_network(num_actions: int, favourite: int) -> QNetwork:
    """A real QNetwork whose output prefers `favourite` by a wide margin for every input."""
    net = QNetwork((3,), num_actions, torso="mlp", hidden_sizes=(8,), dueling=False,
                   scale_uint8=False)  # fmt: skip
    with torch.no_grad():
        for p in net.parameters():
            p.zero_()
        net.head.bias[favourite] = 100.0
        net.head.bias[(favourite + 1) % num_actions] = 50.0
    return net


@pytest.mark.parametrize("epsilon", [0.0, 0.3, 1.0])
def test_epsilon_greedy_never_picks_an_illegal_action(epsilon: float) -> None:
    policy = EpsilonGreedy(_biased_network(6, favourite=2), 6, torch.device("cpu"))
    rng = np.random.default_rng(1)
    obs = rng.normal(size=(512, 3)).astype(np.float32)
    mask = rng.random((512, 6)) < 0.5
    mask[:256, 2] = False  # the favourite is illegal in half the rows
    others = np.array([0, 1, 3, 4, 5])
    mask[np.arange(512), others[rng.integers(0, 5, 512)]] = True  # a legal action in each row
    actions = policy(obs, mask, epsilon, rng)
    assert mask[np.arange(512), actions].all()
    if epsilon == 0.0:  # greedy: the favourite where legal, else the runner-up where legal
        favourite_legal = mask[:, 2]
        assert (actions[favourite_legal] == 2).all()
        assert (actions[~favourite_legal & mask[:, 3]] == 3).all()


def test_masked_argmax_ignores_larger_illegal_values() -> None:
    q = torch.tensor([[5.0, 1.0, 3.0], [0.0, 9.0, -1.0]])
    mask = torch.tensor([[False, True, True], [True, False, True]])
    assert masked_argmax(q, mask).tolist() == [2, 0]
    assert masked_argmax(q, None).tolist() == [0, 1]


# --- learner ----------------------------------------------------------------------------


def _learner(double: bool, net: QNetwork | None = None, lr: float = 1e-3) -> QLearner:
    net = net or QNetwork((3,), 4, torso="mlp", hidden_sizes=(16,), dueling=True,
                          scale_uint8=False)  # fmt: skip
    return QLearner(net, learning_rate=lr, adam_eps=1e-8, double=double, max_grad_norm=10.0,
                    tau=1.0, device=torch.device("cpu"))  # fmt: skip


def test_target_max_skips_illegal_actions_and_terminals() -> None:
    learner = _learner(double=False, net=_biased_network(4, favourite=1))
    next_obs = torch.zeros(3, 3)
    reward = torch.tensor([1.0, 1.0, 1.0])
    discount = torch.tensor([0.5, 0.5, 0.0])
    mask = torch.tensor(
        [[True, True, True, True], [True, False, True, True], [False, False, False, False]]
    )
    target = learner.td_target(reward, discount, next_obs, mask, None)
    # row 0 bootstraps from Q=100 (action 1); row 1 cannot, so Q=50 (action 2); row 2 is
    # terminal with no legal action at all and must stay finite
    assert target.tolist() == [51.0, 26.0, 1.0]


def test_double_dqn_values_the_online_choice_with_the_target_net() -> None:
    learner = _learner(double=True, net=_biased_network(4, favourite=1))
    with torch.no_grad():  # target now prefers action 3; the online net still prefers 1
        learner.target.head.bias.copy_(torch.tensor([0.0, 7.0, 0.0, 200.0]))
    online_q = learner.online(torch.zeros(1, 3))
    target = learner.td_target(torch.zeros(1), torch.ones(1), torch.zeros(1, 3), None, online_q)
    assert target.item() == 7.0


def test_update_reduces_td_error_and_reports_it() -> None:
    learner = _learner(double=True, lr=1e-2)
    rng = np.random.default_rng(0)
    batch = Transitions(
        obs=rng.normal(size=(32, 3)).astype(np.float32),
        action=rng.integers(0, 4, 32),
        reward=rng.normal(size=32).astype(np.float32),
        discount=np.zeros(32, np.float32),
        next_obs=rng.normal(size=(32, 3)).astype(np.float32),
        next_mask=None,
        weight=np.ones(32, np.float32),
        index=np.arange(32),
    )
    first = learner.update(batch, need_td=True)
    for _ in range(300):
        last = learner.update(batch, need_td=True)
    assert first is not None and last is not None and first.shape == (32,)
    assert last.mean() < 0.2 * first.mean()
    stats = learner.pop_stats()
    assert set(stats) == {"losses/td", "losses/q_mean"} and learner.pop_stats() == {}


def test_polyak_update_moves_target_by_tau() -> None:
    learner = _learner(double=True)
    learner.tau = 0.25
    online = [p.detach().clone() for p in learner.online.parameters()]
    before = [p.detach().clone() for p in learner.target.parameters()]
    with torch.no_grad():
        for p in learner.online.parameters():
            p.add_(1.0)
    learner.sync_target()
    for b, o, t in zip(before, online, learner.target.parameters(), strict=True):
        assert torch.allclose(t, b + 0.25 * (o + 1.0 - b))


@pytest.mark.parametrize(
    ("shape", "torso", "dueling"),
    [((6,), "mlp", True), ((6,), "mlp", False), ((4, 36, 36), "nature_cnn", True)],
)
def test_action_scores_rank_actions_like_q_values(
    shape: tuple[int, ...], torso: str, dueling: bool
) -> None:
    torch.manual_seed(0)
    net = QNetwork(shape, 5, torso=torso, hidden_sizes=(16,), dueling=dueling,
                   scale_uint8=torso == "nature_cnn")  # fmt: skip
    obs = torch.randint(0, 255, (64, *shape)).float()
    q, scores = net(obs), net.action_scores(obs)
    assert q.shape == scores.shape == (64, 5)
    assert torch.equal(q.argmax(1), scores.argmax(1))
    if dueling:  # scores differ from Q by one constant per row
        assert torch.allclose((q - scores).std(dim=1), torch.zeros(64), atol=1e-5)


def test_torso_names_are_the_shared_ones() -> None:
    net = build_network(DQNConfig(), (4, 84, 84), np.dtype(np.uint8), 6)
    assert net.scale == 1 / 255 and not net.fused_head  # nature_cnn on raw bytes
    board = build_network(DQNConfig(), (17, 9, 9), np.dtype(np.float32), 82)
    q, scores = board(torch.zeros(3, 17, 9, 9)), board.action_scores(torch.zeros(3, 17, 9, 9))
    assert q.shape == scores.shape == (3, 82)  # 81 cells from one 1x1 conv, then pass
    assert isinstance(board.advantage, BoardHead) and board.advantage.extra is not None
    with pytest.raises(ValueError, match="nature_cnn torso needs"):
        QNetwork((4,), 2, torso="nature_cnn", hidden_sizes=(8,), dueling=True, scale_uint8=False)


def test_continuous_actions_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="Discrete action space"):
        discrete_envs(DQNConfig(env="Pendulum-v1"))


def test_config_is_a_keyword_only_dataclass() -> None:
    assert dataclasses.is_dataclass(DQNConfig)
    with pytest.raises(TypeError):
        DQNConfig("CartPole-v1")  # type: ignore[misc]


def test_every_flag_has_help_text() -> None:
    from tyro._docstrings import get_field_docstring

    blank = [f.name for f in dataclasses.fields(DQNConfig)
             if not get_field_docstring(DQNConfig, f.name, ())]
    assert blank == []


def test_layer_norm_bounds_q_values_whatever_the_input() -> None:
    """With LayerNorm every hidden unit of a width-16 layer lies within sqrt(15) of zero, so Q is
    bounded by the head's weights however large the input: the property that keeps bootstrapped
    targets from running away (issue 14). Without it Q grows with the input."""
    torch.manual_seed(0)
    kwargs = dict(torso="mlp", hidden_sizes=(16, 16), dueling=True, scale_uint8=False)
    normed = QNetwork((4,), 3, layer_norm=True, **kwargs)  # type: ignore[arg-type]
    plain = QNetwork((4,), 3, **kwargs)  # type: ignore[arg-type]
    assert {"torso.norms.0.weight", "torso.norms.1.bias"} <= set(normed.state_dict())
    assert not any("norms" in k for k in plain.state_dict())
    w, b = normed.head.weight.detach(), normed.head.bias.detach()
    per_output = w.abs().sum(1) * 15**0.5 + b.abs()  # |V| or |A_i| at most this
    bound = float(per_output[0] + 2 * per_output[1:].max())  # V + A - mean(A)
    obs = torch.randn(64, 4) * 1e6
    with torch.no_grad():
        assert normed(obs).abs().max() <= bound
        assert plain(obs).abs().max() > 1e3 * bound
