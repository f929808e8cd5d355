"""Tests for collapse.metrics: analytic anchors, member dims, kNN and input checking."""

import math

import pytest
import torch

from collapse import metrics

D = 8


def _pm_identity(d: int = D) -> torch.Tensor:
    """``[I; -I]``: orthonormal rows with zero center, so std is exactly ``1/sqrt(d)``."""
    eye = torch.eye(d, dtype=torch.float64)
    return torch.cat([eye, -eye])


def _hadamard(n: int) -> torch.Tensor:
    """Sylvester Hadamard matrix of order ``n`` (a power of two)."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], dim=1), torch.cat([h, -h], dim=1)])
    return h


def _random(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def test_normalize_gives_unit_rows_and_keeps_zero_rows():
    z = torch.cat([_random(5, D), torch.zeros(1, D, dtype=torch.float64)])
    norms = metrics.normalize(z).norm(dim=-1)
    torch.testing.assert_close(norms[:5], torch.ones(5, dtype=torch.float64))
    assert norms[5] == 0


def test_complete_collapse_anchors():
    z = torch.tensor([[3.0, -1.0, 2.0, 0.5]]).repeat(16, 1)
    assert metrics.std(z) == pytest.approx(0.0, abs=1e-7)
    assert metrics.center_norm(z) == pytest.approx(1.0, abs=1e-6)
    assert metrics.residual_norm(z) == pytest.approx(0.0, abs=1e-6)
    assert metrics.effective_rank(z) == pytest.approx(1.0, rel=1e-4)
    torch.testing.assert_close(metrics.center(z), metrics.normalize(z[:1])[0])
    torch.testing.assert_close(metrics.residual(z), torch.zeros_like(z))


def test_orthonormal_rows_with_zero_center():
    z = _pm_identity()
    assert metrics.std(z).item() == pytest.approx(1 / math.sqrt(D), abs=1e-12)
    assert metrics.center_norm(z).item() == pytest.approx(0.0, abs=1e-12)
    assert metrics.residual_norm(z).item() == pytest.approx(1.0, abs=1e-12)
    torch.testing.assert_close(metrics.covariance(z), torch.eye(D, dtype=torch.float64) / D)
    torch.testing.assert_close(
        metrics.eigenspectrum(z), torch.full((D,), 1 / D, dtype=torch.float64)
    )


def test_metrics_are_scale_invariant_per_row():
    z = _random(32, D)
    scaled = z * torch.linspace(0.1, 10.0, 32, dtype=torch.float64).unsqueeze(-1)
    for fn in (metrics.std, metrics.center_norm, metrics.effective_rank, metrics.uniformity):
        torch.testing.assert_close(fn(scaled), fn(z))


def test_effective_rank_of_identity_is_d():
    eye = torch.eye(D, dtype=torch.float64)
    assert metrics.effective_rank(eye, eps=0.0).item() == pytest.approx(D, rel=1e-12)
    assert metrics.effective_rank(eye).item() == pytest.approx(D, rel=1e-4)


def test_effective_rank_counts_spanned_dimensions():
    z = torch.zeros(12, D, dtype=torch.float64)
    z[:, :3] = _pm_identity(3).repeat(2, 1)
    assert metrics.effective_rank(z, eps=0.0).item() == pytest.approx(3.0, rel=1e-12)


def test_center_residual_decomposition_identity():
    z = _random(64, 16)
    o2 = metrics.center_norm(z).square()
    r2 = metrics.residual(z).norm(dim=-1).square().mean()
    assert (o2 + r2).item() == pytest.approx(1.0, abs=1e-6)
    torch.testing.assert_close(
        metrics.center(z).unsqueeze(0) + metrics.residual(z), metrics.normalize(z)
    )


def test_covariance_and_correlation_match_torch():
    z = _random(50, 6)
    u = metrics.normalize(z)
    torch.testing.assert_close(metrics.covariance(z), torch.cov(u.T, correction=0))
    torch.testing.assert_close(metrics.correlation(z), torch.corrcoef(u.T), atol=1e-5, rtol=0)


def test_eigenspectrum_is_descending_and_sums_to_trace():
    z = _random(40, 10)
    eig = metrics.eigenspectrum(z)
    assert eig.shape == (10,)
    assert torch.all(eig[:-1] >= eig[1:])
    assert eig.sum().item() == pytest.approx(metrics.covariance(z).trace().item(), rel=1e-10)
    assert eig.min().item() > -1e-12


def test_perfectly_correlated_columns():
    a = _random(30, 1)
    z = torch.cat([a, 2 * a, -a], dim=-1)
    corr = metrics.correlation(z)
    expected = torch.tensor([[1.0, 1.0, -1.0], [1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
    torch.testing.assert_close(corr, expected.double(), atol=1e-6, rtol=0)
    assert metrics.off_diagonal_correlation(z).item() == pytest.approx(1.0, abs=1e-6)


def test_decorrelated_hadamard_columns():
    z = _hadamard(8)[:, 1:]  # zero-mean, mutually orthogonal columns, rows of equal norm
    torch.testing.assert_close(metrics.correlation(z), torch.eye(7, dtype=torch.float64))
    assert metrics.off_diagonal_correlation(z).item() == pytest.approx(0.0, abs=1e-12)
    assert metrics.off_diagonal_covariance(z).item() == pytest.approx(0.0, abs=1e-12)
    assert metrics.correlation_penalty(z).item() == pytest.approx(0.0, abs=1e-12)


def test_off_diagonal_covariance_formula():
    z = _random(20, 5)
    cov = metrics.covariance(z)
    expected = (cov.square().sum() - cov.diagonal().square().sum()) / 5
    assert metrics.off_diagonal_covariance(z).item() == pytest.approx(expected.item(), rel=1e-10)


def test_correlation_penalty_is_differentiable():
    a = _random(32, 1)
    z = torch.cat([a, a + 0.3 * _random(32, 3, seed=1)], dim=-1).requires_grad_(True)
    loss = metrics.correlation_penalty(z)
    loss.backward()
    assert loss.item() > 0
    assert torch.isfinite(z.grad).all()
    assert z.grad.abs().sum() > 0


def test_correlation_penalty_gradient_finite_for_zero_variance_dimension():
    z = _random(16, 4)
    z[:, 0] = 0.0
    z.requires_grad_(True)
    metrics.correlation_penalty(z).backward()
    assert torch.isfinite(z.grad).all()


def test_correlation_penalty_does_not_check_finiteness():
    z = _random(8, 4)
    z[0, 0] = float("nan")
    assert torch.isnan(metrics.correlation_penalty(z))


def test_alignment():
    z = _random(10, D)
    assert metrics.alignment(z, z).item() == 0.0
    assert metrics.alignment(z, 3 * z).item() == pytest.approx(0.0, abs=1e-12)
    e1, e2 = torch.eye(2, dtype=torch.float64)
    assert metrics.alignment(e1.repeat(4, 1), e2.repeat(4, 1)).item() == pytest.approx(2.0)
    assert metrics.alignment(e1.repeat(4, 1), e2.repeat(4, 1), alpha=1.0).item() == pytest.approx(
        math.sqrt(2)
    )


def test_uniformity_of_antipodal_pair():
    z = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 0.0, 0.0]], dtype=torch.float64)
    assert metrics.uniformity(z).item() == pytest.approx(-8.0)
    assert metrics.uniformity(z, t=1.0).item() == pytest.approx(-4.0)


def test_uniformity_matches_pdist_reference():
    z = _random(20, 4)
    u = metrics.normalize(z)
    expected = torch.pdist(u).pow(2).mul(-2).exp().mean().log()
    assert metrics.uniformity(z).item() == pytest.approx(expected.item(), rel=1e-10)
    collapsed = z[:1].repeat(20, 1)
    assert metrics.uniformity(collapsed).item() == pytest.approx(0.0, abs=1e-12)


MEMBER_FNS = [
    metrics.normalize,
    metrics.center,
    metrics.residual,
    metrics.std,
    metrics.center_norm,
    metrics.residual_norm,
    metrics.effective_rank,
    metrics.covariance,
    metrics.eigenspectrum,
    metrics.correlation,
    metrics.off_diagonal_correlation,
    metrics.off_diagonal_covariance,
    metrics.correlation_penalty,
    metrics.uniformity,
]


@pytest.mark.parametrize("fn", MEMBER_FNS, ids=lambda fn: fn.__name__)
def test_leading_member_dims(fn):
    z = _random(3, 16, 5)
    batched = fn(z)
    separate = torch.stack([fn(member) for member in z])
    assert fn(z[0]).shape == batched.shape[1:]
    torch.testing.assert_close(batched, separate)


def test_alignment_leading_member_dims():
    z_a, z_b = _random(2, 4, 16, 5).unbind(0)
    separate = torch.stack([metrics.alignment(a, b) for a, b in zip(z_a, z_b, strict=True)])
    torch.testing.assert_close(metrics.alignment(z_a, z_b), separate)


def test_scalar_outputs_for_plain_batch():
    z = _random(16, 5)
    assert metrics.std(z).shape == ()
    assert metrics.center(z).shape == (5,)
    assert metrics.covariance(z).shape == (5, 5)


def test_two_leading_member_dims():
    z = _random(2, 3, 16, 5)
    assert metrics.std(z).shape == (2, 3)
    torch.testing.assert_close(metrics.std(z)[1, 2], metrics.std(z[1, 2]))


# Used inside training losses: they check the shape only (no host sync), NaN passes through.
UNCHECKED_FNS = (metrics.normalize, metrics.center, metrics.residual, metrics.correlation_penalty)
CHECKED_FNS = [
    fn
    for fn in MEMBER_FNS
    if fn not in UNCHECKED_FNS
]


@pytest.mark.parametrize("fn", CHECKED_FNS, ids=lambda fn: fn.__name__)
def test_input_checks(fn):
    with pytest.raises(ValueError, match=r"batch >= 2 and dim >= 1, got \(5,\)"):
        fn(torch.ones(5))
    with pytest.raises(ValueError, match=r"got \(1, 4\)"):
        fn(torch.ones(1, 4))
    with pytest.raises(ValueError, match=r"got \(3, 0\)"):
        fn(torch.ones(3, 0))
    with pytest.raises(ValueError, match="floating-point"):
        fn(torch.ones(3, 4, dtype=torch.int64))
    for bad in (float("nan"), float("inf")):
        z = torch.ones(3, 4)
        z[1, 2] = bad
        with pytest.raises(ValueError, match="z contains NaN or inf"):
            fn(z)


def test_shape_checks_without_finiteness_check():
    nan = torch.ones(3, 4)
    nan[0, 0] = float("nan")
    for fn in UNCHECKED_FNS:
        assert torch.isnan(fn(nan)).any()
    with pytest.raises(ValueError, match=r"got \(4,\)"):
        metrics.normalize(torch.ones(4))
    with pytest.raises(ValueError, match=r"got \(1, 4\)"):
        metrics.correlation_penalty(torch.ones(1, 4))
    assert metrics.normalize(torch.ones(1, 4)).shape == (1, 4)


def test_alignment_checks():
    with pytest.raises(ValueError, match=r"same shape, got \(4, 3\) and \(5, 3\)"):
        metrics.alignment(torch.ones(4, 3), torch.ones(5, 3))
    with pytest.raises(ValueError, match="z_b contains NaN or inf"):
        metrics.alignment(torch.ones(4, 3), torch.full((4, 3), float("nan")))
    with pytest.raises(ValueError, match="alpha"):
        metrics.alignment(torch.ones(4, 3), torch.ones(4, 3), alpha=0.0)


def test_off_diagonal_correlation_needs_two_dims():
    with pytest.raises(ValueError, match=r"dim >= 2.*\(4, 1\)"):
        metrics.off_diagonal_correlation(torch.ones(4, 1))


def test_uniformity_rejects_nonpositive_t():
    with pytest.raises(ValueError, match="t must be > 0"):
        metrics.uniformity(_random(4, 3), t=0.0)


def test_summary():
    z = _random(64, D)
    out = metrics.summary(z)
    assert set(out) == {
        "std",
        "std_scaled",
        "center_norm",
        "residual_norm",
        "effective_rank",
        "off_diagonal_correlation",
    }
    assert all(type(v) is float for v in out.values())
    assert out["std"] == pytest.approx(metrics.std(z).item())
    assert out["std_scaled"] == pytest.approx(metrics.std(z).item() * math.sqrt(D))
    assert out["center_norm"] == pytest.approx(metrics.center_norm(z).item())
    assert out["residual_norm"] == pytest.approx(metrics.residual_norm(z).item())
    assert out["effective_rank"] == pytest.approx(metrics.effective_rank(z).item())
    assert out["off_diagonal_correlation"] == pytest.approx(
        metrics.off_diagonal_correlation(z).item()
    )
    with pytest.raises(ValueError, match=r"\(2, 16, 8\)"):
        metrics.summary(_random(2, 16, D))


def _clusters(n_per_class: int, num_classes: int, dim: int, seed: int):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_classes).repeat_interleave(n_per_class)
    features = torch.eye(dim)[labels] + 0.05 * torch.randn(len(labels), dim, generator=g)
    return features, labels


def test_knn_separable_clusters():
    train_x, train_y = _clusters(50, 4, 16, seed=0)
    test_x, test_y = _clusters(20, 4, 16, seed=1)
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=20) == 1.0


def test_knn_random_labels_near_chance():
    g = torch.Generator().manual_seed(0)
    train_x, test_x = torch.randn(2000, 32, generator=g), torch.randn(1000, 32, generator=g)
    train_y = torch.arange(4).repeat(500)[torch.randperm(2000, generator=g)]
    test_y = torch.arange(4).repeat(250)[torch.randperm(1000, generator=g)]
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y) == pytest.approx(0.25, abs=0.06)


def test_knn_chunking_and_k_clipping():
    g = torch.Generator().manual_seed(0)
    train_x, test_x = torch.randn(300, 8, generator=g), torch.randn(101, 8, generator=g)
    train_y, test_y = (
        torch.randint(0, 5, (300,), generator=g),
        torch.randint(0, 5, (101,), generator=g),
    )
    one_chunk = metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=30, chunk_size=10**6)
    assert 0.0 < one_chunk < 1.0
    for chunk_size in (1, 7, 100):
        assert (
            metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=30, chunk_size=chunk_size)
            == one_chunk
        )
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=10**6) == (
        metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=300)
    )


def test_knn_weights_votes_by_similarity():
    angles = torch.tensor([0.1, 0.5, -0.5])
    train_x = torch.stack([angles.cos(), angles.sin()], dim=-1)
    train_y = torch.tensor([1, 0, 0])
    test_x, test_y = torch.tensor([[1.0, 0.0]]), torch.tensor([1])
    # A sharp temperature lets the single closest neighbour win; a flat one lets the majority win.
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=3, temperature=0.01) == 1.0
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=3, temperature=10.0) == 0.0
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=1, temperature=10.0) == 1.0


def test_knn_num_classes_covers_unseen_test_class():
    train_x, train_y = _clusters(10, 2, 4, seed=0)
    test_x, test_y = torch.eye(4)[:1], torch.tensor([3])
    assert metrics.knn_accuracy(train_x, train_y, test_x, test_y, k=5) == 0.0
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\)"):
        metrics.knn_accuracy(train_x, train_y, test_x, test_y, num_classes=2)


def test_knn_input_checks():
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    with pytest.raises(ValueError, match=r"train_labels must have shape \(10,\).*\(9,\)"):
        metrics.knn_accuracy(x, y[:9], x, y)
    with pytest.raises(ValueError, match="feature dim"):
        metrics.knn_accuracy(x, y, torch.randn(10, 5), y)
    with pytest.raises(ValueError, match="k must be >= 1"):
        metrics.knn_accuracy(x, y, x, y, k=0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        metrics.knn_accuracy(x, y, x, y, temperature=0.0)
    with pytest.raises(ValueError, match="chunk_size"):
        metrics.knn_accuracy(x, y, x, y, chunk_size=0)
    with pytest.raises(ValueError, match=r"train_features .*got \(0, 4\)"):
        metrics.knn_accuracy(torch.randn(0, 4), y[:0], x, y)
    with pytest.raises(ValueError, match=r"test_features .*got \(0, 4\)"):
        metrics.knn_accuracy(x, y, torch.randn(0, 4), y[:0])
    with pytest.raises(ValueError, match=r"shape \(N, D\), got \(2, 10, 4\)"):
        metrics.knn_accuracy(x.expand(2, 10, 4), y, x, y)
    with pytest.raises(ValueError, match="integer"):
        metrics.knn_accuracy(x, y.float(), x, y)
    nan_x = x.clone()
    nan_x[3, 1] = float("nan")
    with pytest.raises(ValueError, match="test_features contains NaN or inf"):
        metrics.knn_accuracy(x, y, nan_x, y)
