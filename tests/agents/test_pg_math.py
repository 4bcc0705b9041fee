"""The arithmetic of the policy-gradient core against hand-computed numbers: GAE with
truncation inside a rollout, the masked categorical, the Gaussian head and the PPO loss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rlsuite.agents.pg.distributions import DiagGaussian, MaskedCategorical
from rlsuite.agents.pg.losses import (
    actor_critic_loss,
    approx_kl_and_clip_fraction,
    gae,
    normalize_advantages,
)


def test_gae_matches_hand_computation_with_termination_and_truncation() -> None:
    # gamma 0.9, lambda 0.8 (gamma*lambda = 0.72). Env 0 terminates at t=1; env 1 is truncated
    # at t=2 with V(final obs) = 2.0 and keeps bootstrapping from it; both bootstrap at t=3.
    rewards = np.array([[1, 0], [1, 1], [1, 2], [1, 3]], np.float32)
    values = np.array([[0.5, 1], [0.6, 1], [0.7, 1], [0.8, 1]], np.float32)
    next_values = np.array([[0.6, 1], [99.0, 1], [0.8, 2.0], [0.9, 5.0]], np.float32)
    terminated = np.array([[0, 0], [1, 0], [0, 0], [0, 0]], bool)
    done = np.array([[0, 0], [1, 0], [0, 1], [0, 0]], bool)
    adv = gae(rewards, values, next_values, terminated, done, gamma=0.9, lam=0.8)
    # env 0: d3 = 1 + .9*.9 - .8 = 1.01; d2 = 1 + .9*.8 - .7 = 1.02 -> A2 = 1.02 + .72*1.01;
    # t=1 terminated: A1 = 1 - .6 = .4 (the 99 is never read); A0 = 1.04 + .72*.4
    # env 1: A3 = 3 + .9*5 - 1 = 6.5; t=2 truncated: A2 = 2 + .9*2 - 1 = 2.8 (no lambda-carry
    # from t=3); A1 = .9 + .72*2.8 = 2.916; A0 = -.1 + .72*2.916 = 1.99952
    expected = np.array([[1.328, 1.99952], [0.4, 2.916], [1.7472, 2.8], [1.01, 6.5]])
    np.testing.assert_allclose(adv, expected, rtol=1e-5)


def test_gae_with_lambda_one_is_monte_carlo_return_minus_baseline() -> None:
    rewards = np.array([[1.0], [2.0], [3.0]], np.float32)
    values = np.array([[0.5], [0.25], [1.0]], np.float32)
    next_values = np.array([[0.25], [1.0], [0.0]], np.float32)
    terminated = np.array([[0], [0], [1]], bool)
    adv = gae(rewards, values, next_values, terminated, terminated, gamma=0.5, lam=1.0)
    returns = [1 + 0.5 * 2 + 0.25 * 3, 2 + 0.5 * 3, 3.0]
    np.testing.assert_allclose(adv[:, 0], np.array(returns) - values[:, 0], rtol=1e-6)


def test_gae_rejects_mismatched_shapes() -> None:
    a = np.zeros((3, 2), np.float32)
    with pytest.raises(ValueError, match="shape"):
        gae(a, a, np.zeros((3, 1), np.float32), a.astype(bool), a.astype(bool), 0.9, 0.9)


def test_masked_categorical_log_prob_and_entropy_by_hand() -> None:
    logits = torch.tensor([[1.0, 2.0, 3.0, 4.0]])
    dist = MaskedCategorical(logits, torch.tensor([[True, False, True, False]]))
    # only logits 1 and 3 remain: p = e^1/(e^1+e^3), e^3/(e^1+e^3)
    p0 = 1.0 / (1.0 + math.exp(2.0))
    p2 = 1.0 - p0
    assert dist.log_prob(torch.tensor([0])).item() == pytest.approx(math.log(p0), rel=1e-6)
    assert dist.log_prob(torch.tensor([2])).item() == pytest.approx(math.log(p2), rel=1e-6)
    assert dist.log_prob(torch.tensor([1])).item() == -math.inf
    expected_entropy = -(p0 * math.log(p0) + p2 * math.log(p2))
    assert dist.entropy().item() == pytest.approx(expected_entropy, rel=1e-6)
    np.testing.assert_allclose(dist.probs[0].numpy(), [p0, 0.0, p2, 0.0], rtol=1e-6)
    assert dist.mode().item() == 2  # logit 4 is illegal, so 3 wins


def test_masked_categorical_without_mask_is_plain_softmax() -> None:
    logits = torch.tensor([[0.0, math.log(3.0)]])
    dist = MaskedCategorical(logits)
    np.testing.assert_allclose(dist.probs[0].numpy(), [0.25, 0.75], rtol=1e-6)
    assert dist.entropy().item() == pytest.approx(-(0.25 * math.log(0.25) + 0.75 * math.log(0.75)))


def test_masked_categorical_never_samples_illegal_and_matches_probabilities() -> None:
    gen = torch.Generator().manual_seed(0)
    rows, n = 64, 9
    logits = torch.randn(rows, n, generator=gen) * 3
    mask = torch.rand(rows, n, generator=gen) < 0.4
    mask[torch.arange(rows), torch.randint(0, n, (rows,), generator=gen)] = True
    dist = MaskedCategorical(logits, mask)
    counts = torch.zeros(rows, n)
    draws = 2000
    for _ in range(draws):
        a = dist.sample(gen)
        assert mask[torch.arange(rows), a].all()
        counts[torch.arange(rows), a] += 1
    assert (counts[~mask] == 0).all()
    # frequencies within 5 standard errors of the probabilities, row by row
    p = dist.probs
    tolerance = 5 * torch.sqrt(p * (1 - p) / draws) + 1e-3
    assert ((counts / draws - p).abs() <= tolerance).all()


def test_masked_entropy_gradient_is_finite() -> None:
    logits = torch.randn(4, 6, requires_grad=True)
    mask = torch.tensor([[1, 0, 0, 0, 0, 1]] * 3 + [[0, 0, 0, 1, 0, 0]], dtype=torch.bool)
    dist = MaskedCategorical(logits, mask)
    (dist.entropy().sum() + dist.log_prob(torch.tensor([0, 5, 0, 3])).sum()).backward()
    assert logits.grad is not None and torch.isfinite(logits.grad).all()
    assert (logits.grad[~mask] == 0).all()
    assert dist.entropy()[3].item() == 0.0  # a single legal move carries no uncertainty


def test_masked_categorical_rejects_bad_masks() -> None:
    logits = torch.zeros(2, 3)
    with pytest.raises(ValueError, match="no legal action"):
        MaskedCategorical(logits, torch.tensor([[True, False, False], [False, False, False]]))
    with pytest.raises(ValueError, match="shape"):
        MaskedCategorical(logits, torch.ones(2, 4, dtype=torch.bool))


def test_diag_gaussian_matches_closed_form() -> None:
    mean = torch.tensor([[0.0, 1.0]])
    log_std = torch.tensor([0.0, math.log(2.0)])
    dist = DiagGaussian(mean, log_std)
    x = torch.tensor([[1.0, -1.0]])
    # N(1; 0, 1) and N(-1; 1, 2): -0.5 z^2 - log(sigma) - 0.5 log(2 pi), z = 1 and -1
    expected = (-0.5 - 0.5 * math.log(2 * math.pi)) + (-0.5 - math.log(2.0)
                                                       - 0.5 * math.log(2 * math.pi))
    assert dist.log_prob(x).item() == pytest.approx(expected, rel=1e-6)
    expected_entropy = 2 * 0.5 * math.log(2 * math.pi * math.e) + math.log(2.0)
    assert dist.entropy().item() == pytest.approx(expected_entropy, rel=1e-6)
    samples = DiagGaussian(mean.expand(20000, 2), log_std).sample(torch.Generator().manual_seed(1))
    np.testing.assert_allclose(samples.mean(0).numpy(), [0.0, 1.0], atol=0.05)
    np.testing.assert_allclose(samples.std(0).numpy(), [1.0, 2.0], atol=0.05)


def _fixed_batch() -> dict[str, torch.Tensor]:
    return {
        "old_log_prob": torch.zeros(4),
        "new_log_prob": torch.log(torch.tensor([1.5, 0.5, 1.1, 0.9])).requires_grad_(),
        "advantages": torch.tensor([1.0, 1.0, -1.0, -2.0]),
        "new_value": torch.tensor([1.0, 2.0, 3.0, 4.0]),
        "old_value": torch.tensor([0.0, 2.0, 3.5, 3.0]),
        "returns": torch.tensor([1.5, 2.0, 2.0, 6.0]),
        "entropy": torch.tensor([0.5, 0.7, 0.6, 0.2]),
    }


def test_ppo_loss_terms_by_hand() -> None:
    b = _fixed_batch()
    terms = actor_critic_loss(**b, clip_coef=0.2, vf_clip=None, ent_coef=0.01, vf_coef=0.5)
    # ratios 1.5, .5, 1.1, .9; min(rA, clip(r)A) = 1.2, .5, -1.1, -1.8 -> mean -.3
    assert terms.policy.item() == pytest.approx(0.3, rel=1e-6)
    # 0.5 * mean((v - R)^2) = 0.5 * (.25 + 0 + 1 + 4) / 4
    assert terms.value.item() == pytest.approx(0.65625, rel=1e-6)
    # entropy mean 0.5 enters with -ent_coef
    assert terms.total.item() == pytest.approx(0.3 - 0.01 * 0.5 + 0.5 * 0.65625, rel=1e-6)
    approx_kl, clip_fraction = approx_kl_and_clip_fraction(terms.log_ratio, 0.2)
    assert clip_fraction.item() == pytest.approx(0.5)  # ratios 1.5 and .5
    kl = [0.5 - math.log(1.5), -0.5 - math.log(0.5), 0.1 - math.log(1.1), -0.1 - math.log(0.9)]
    assert approx_kl.item() == pytest.approx(sum(kl) / 4, rel=1e-5)
    # the clipped sample (r=1.5, A>0) gets no gradient; the others -A r / 4
    terms.policy.backward()
    grad = b["new_log_prob"].grad
    assert grad is not None
    np.testing.assert_allclose(grad.numpy(), [0.0, -0.125, 0.275, 0.45], rtol=1e-5, atol=1e-7)


def test_ppo_value_clipping_takes_the_larger_error() -> None:
    terms = actor_critic_loss(**_fixed_batch(), clip_coef=0.2, vf_clip=0.5, ent_coef=0.0,
                              vf_coef=0.5)
    # clipped values .5, 2, 3, 3.5 -> errors 1, 0, 1, 6.25; unclipped .25, 0, 1, 4
    assert terms.value.item() == pytest.approx(0.5 * (1.0 + 0 + 1 + 6.25) / 4, rel=1e-6)


def test_ppo_loss_with_normalised_advantages() -> None:
    b = _fixed_batch()
    normalised = normalize_advantages(b["advantages"].numpy())
    # (A + .25) / 1.5 with the sample std 1.5: 5/6, 5/6, -1/2, -7/6
    np.testing.assert_allclose(normalised, [5 / 6, 5 / 6, -0.5, -7 / 6], rtol=1e-6)
    b["advantages"] = torch.from_numpy(normalised)
    terms = actor_critic_loss(**b, clip_coef=0.2, vf_clip=None, ent_coef=0.0, vf_coef=0.5)
    # min terms: 1.0, 5/12, -.55, -1.05
    assert terms.policy.item() == pytest.approx(-(1.0 + 5 / 12 - 0.55 - 1.05) / 4, rel=1e-5)
    assert normalize_advantages(np.array([3.0], np.float32)).tolist() == [3.0]


def test_unclipped_policy_term_is_score_function() -> None:
    b = _fixed_batch()
    terms = actor_critic_loss(**b, clip_coef=None, vf_clip=None, ent_coef=0.0, vf_coef=0.5)
    logp = [math.log(1.5), math.log(0.5), math.log(1.1), math.log(0.9)]
    expected = -sum(a * lp for a, lp in zip([1, 1, -1, -2], logp, strict=True)) / 4
    assert terms.policy.item() == pytest.approx(expected, rel=1e-5)
    assert approx_kl_and_clip_fraction(terms.log_ratio, None)[1].item() == 0.0


def test_entropy_bonus_needs_an_entropy() -> None:
    b = _fixed_batch()
    b["entropy"] = None
    with pytest.raises(ValueError, match="entropy"):
        actor_critic_loss(**b, clip_coef=0.2, vf_clip=None, ent_coef=0.01, vf_coef=0.5)
