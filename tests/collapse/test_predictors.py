"""Tests for collapse.predictors: the bias head, DirectPred and the predictor factory."""

import pytest
import torch

from collapse import predictors as pr
from collapse.layers import MLP, Linear
from collapse.metrics import normalize


def _random(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_bias_predictor_adds_its_bias_to_the_normalised_z():
    head = pr.BiasPredictor(5, members=2).double()
    assert head.bias.shape == (2, 1, 5)
    torch.testing.assert_close(head.bias, torch.zeros_like(head.bias))  # starts as identity on Z
    with torch.no_grad():
        head.bias.copy_(_random(2, 1, 5, seed=1))
    z = _random(2, 7, 5) * 3
    torch.testing.assert_close(head(z), normalize(z) + head.bias, rtol=0, atol=1e-12)
    # Each member adds its own bias.
    assert not torch.allclose(head(z)[1] - normalize(z)[1], head.bias[0].expand(7, 5))


def test_bias_predictor_plain_batch_and_gradient():
    head = pr.BiasPredictor(4).double()
    with torch.no_grad():
        head.bias.copy_(_random(1, 1, 4, seed=2))
    z = _random(6, 4)
    p = head(z)
    assert p.shape == (6, 4)
    torch.testing.assert_close(p, normalize(z) + head.bias[0], rtol=0, atol=1e-12)
    p.sum().backward()
    torch.testing.assert_close(head.bias.grad, torch.full((1, 1, 4), 6.0, dtype=torch.float64))


@pytest.mark.parametrize("eps", [pr.DIRECTPRED_EPS, 0.0, 0.25])
def test_directpred_weight_of_a_diagonal_correlation(eps):
    s = torch.tensor([4.0, 1.0, 0.25, 9.0, 2.0], dtype=torch.float64)
    w = pr.directpred_weight(torch.diag(s), eps)
    expected = torch.diag(torch.sqrt(s / s.max()) + eps)
    torch.testing.assert_close(w, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(w, w.T, rtol=0, atol=0)


def test_directpred_weight_default_eps_and_rotation():
    s = torch.tensor([0.5, 3.0, 1.5, 0.1], dtype=torch.float64)
    q, _ = torch.linalg.qr(_random(4, 4))
    w = pr.directpred_weight(q @ torch.diag(s) @ q.T)
    gains = torch.sqrt(s / s.max()) + pr.DIRECTPRED_EPS
    torch.testing.assert_close(w, q @ torch.diag(gains) @ q.T, rtol=0, atol=1e-12)
    torch.testing.assert_close(w, w.T, rtol=0, atol=1e-12)


def test_directpred_weight_clamps_negative_eigenvalues_and_batches():
    s0 = torch.tensor([2.0, -0.5, 1.0], dtype=torch.float64)  # a slightly indefinite estimate
    s1 = torch.tensor([1.0, 4.0, 0.0], dtype=torch.float64)
    w = pr.directpred_weight(torch.stack([torch.diag(s0), torch.diag(s1)]), 0.1)
    assert w.shape == (2, 3, 3)
    g0 = torch.sqrt(s0.clamp_min(0) / 2.0) + 0.1
    g1 = torch.sqrt(s1 / 4.0) + 0.1
    torch.testing.assert_close(w[0], torch.diag(g0), rtol=0, atol=1e-12)
    torch.testing.assert_close(w[1], torch.diag(g1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("rho", [pr.DIRECTPRED_RHO, 0.0, 0.9])
def test_running_correlation_formula(rho):
    members, batch, d = 2, 6, 3
    f = _random(members, d, d, seed=1)
    z = _random(members, batch, d, seed=2)
    second_moment = torch.stack([
        sum(torch.outer(z[m, i], z[m, i]) for i in range(batch)) / batch for m in range(members)])
    expected = rho * f + (1 - rho) * second_moment
    torch.testing.assert_close(pr.running_correlation(f, z, rho), expected, rtol=0, atol=1e-12)


def test_running_correlation_default_rho():
    f = torch.eye(3, dtype=torch.float64)
    z = _random(5, 3)
    expected = pr.DIRECTPRED_RHO * f + (1 - pr.DIRECTPRED_RHO) * z.T @ z / 5
    torch.testing.assert_close(pr.running_correlation(f, z), expected, rtol=0, atol=1e-12)


def test_directpredictor_updates_its_buffer_only_in_training_mode():
    head = pr.DirectPredictor(4, members=2).double()
    start = head.correlation.clone()
    torch.testing.assert_close(start, torch.eye(4, dtype=torch.float64).expand(2, 4, 4))
    assert "correlation" in dict(head.named_buffers())
    assert not list(head.parameters())

    z = _random(2, 8, 4) * 2
    head.train()
    p = head(z)
    updated = pr.running_correlation(start, z)
    torch.testing.assert_close(head.correlation, updated, rtol=0, atol=1e-12)
    torch.testing.assert_close(p, z @ pr.directpred_weight(updated), rtol=0, atol=1e-12)
    assert not head.correlation.requires_grad

    head.eval()
    z2 = _random(2, 8, 4, seed=5)
    p2 = head(z2)
    torch.testing.assert_close(head.correlation, updated, rtol=0, atol=0)
    torch.testing.assert_close(p2, z2 @ pr.directpred_weight(updated), rtol=0, atol=1e-12)


def test_directpredictor_gradient_flows_to_z_only():
    head = pr.DirectPredictor(3).double()
    z = _random(5, 3).requires_grad_(True)
    p = head(z)
    assert p.shape == (5, 3)
    p.sum().backward()
    w = pr.directpred_weight(head.correlation[0])
    torch.testing.assert_close(z.grad, torch.ones(5, 3, dtype=torch.float64) @ w.T,
                               rtol=0, atol=1e-12)


def test_raw_bias_predictor_adds_its_bias_to_the_raw_z():
    """``bias-raw``: h(z) = z + b before any normalisation (the notes' form, claim 15)."""
    head = pr.make_predictor("bias-raw", 5, 8, members=2)
    assert isinstance(head, pr.BiasPredictor)
    z = 3.0 * _random(2, 7, 5)
    with torch.no_grad():
        head.bias.copy_(_random(2, 1, 5, seed=1))
    torch.testing.assert_close(head(z), z + head.bias, rtol=0, atol=1e-12)
    assert not torch.allclose(head(z), normalize(z) + head.bias)


def test_make_predictor_kinds():
    assert pr.make_predictor("none", 4, 8) is None
    kinds = {"mlp": MLP, "linear": Linear, "bias": pr.BiasPredictor,
             "directpred": pr.DirectPredictor}
    z = _random(2, 6, 4).float()
    for kind, cls in kinds.items():
        head = pr.make_predictor(kind, 4, 8, members=2)
        assert isinstance(head, cls), kind
        assert head(z).shape == (2, 6, 4), kind
    linear = pr.make_predictor("linear", 4, 8)
    assert linear.bias is None
    assert linear.weight.shape == (1, 4, 4)


def test_make_predictor_uses_the_generators():
    a = pr.make_predictor("mlp", 4, 8, 1, [torch.Generator().manual_seed(0)])
    b = pr.make_predictor("mlp", 4, 8, 1, [torch.Generator().manual_seed(0)])
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_make_predictor_unknown_raises():
    with pytest.raises(ValueError, match="nope"):
        pr.make_predictor("nope", 4, 8)
