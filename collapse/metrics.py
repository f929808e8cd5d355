"""Collapse metrics for representations, following Zhang et al., "How Does SimSiam Avoid Collapse
Without Negative Samples?" (ICLR 2022), plus the standard diagnostics used alongside it.

Every metric takes representations ``z`` of shape ``(..., B, d)``: any number of leading "member"
dimensions (independent models trained side by side), then the batch ``B``, then the dimension
``d``. Reductions run over the last two dimensions, so results have shape ``(...)`` (a 0-dim
tensor for a plain ``(B, d)`` input). Metrics defined on unit vectors l2-normalise internally with
:func:`normalize`. Results stay torch tensors; the only host synchronisation is the finiteness
check in ``_check`` (and the final transfer in :func:`knn_accuracy` and :func:`summary`).
"""

import math

import torch
import torch.nn.functional as F


def _check_shape(z: torch.Tensor, name: str = "z", min_batch: int = 2) -> None:
    """Raise ``ValueError`` unless ``z`` is a floating tensor of shape ``(..., B, d)``.

    Needs ``B >= min_batch`` and ``d >= 1``. Reads only metadata, so it never syncs the device.
    """
    if not z.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {z.dtype}")
    if z.ndim < 2 or z.shape[-2] < min_batch or z.shape[-1] < 1:
        raise ValueError(
            f"{name} must have shape (..., batch, dim) with batch >= {min_batch} and dim >= 1, "
            f"got {tuple(z.shape)}"
        )


def _check(z: torch.Tensor, name: str = "z", min_batch: int = 2) -> None:
    """Validate the shape of ``z`` as in ``_check_shape`` and that all its entries are finite.

    The finiteness test is the one host synchronisation of the metrics in this module.
    """
    _check_shape(z, name, min_batch)
    if not bool(torch.isfinite(z).all()):
        raise ValueError(f"{name} contains NaN or inf")


def _unit(z: torch.Tensor) -> torch.Tensor:
    """Unchecked l2 normalisation along the last dimension (zero rows stay zero)."""
    return F.normalize(z, dim=-1)


def _center(u: torch.Tensor) -> torch.Tensor:
    """Batch mean ``o = E[u]`` of unit vectors ``u`` (Zhang et al. 2022, §3), shape ``(..., d)``."""
    return u.mean(dim=-2)


def _residual(u: torch.Tensor) -> torch.Tensor:
    """Residuals ``r = u - o`` of unit vectors ``u`` (Zhang et al. 2022, §3)."""
    return u - u.mean(dim=-2, keepdim=True)


def _covariance(u: torch.Tensor) -> torch.Tensor:
    """Biased (divide by ``B``) covariance ``(..., d, d)`` of ``u`` over the batch."""
    r = _residual(u)
    return r.mT @ r / u.shape[-2]


def _correlation(u: torch.Tensor, eps: float) -> torch.Tensor:
    """Pearson correlation ``C_ij = S_ij / sqrt((S_ii + eps)(S_jj + eps))`` of ``u``.

    ``eps`` sits inside the square root so the result and its gradient stay finite for a
    dimension with zero variance (its row and column of ``C`` are then zero).
    """
    cov = _covariance(u)
    scale = torch.rsqrt(cov.diagonal(dim1=-2, dim2=-1) + eps)
    return cov * scale.unsqueeze(-1) * scale.unsqueeze(-2)


def _off_diagonal(m: torch.Tensor) -> torch.Tensor:
    """``m`` with the diagonal of its last two dimensions set to zero (differentiable)."""
    return m - torch.diag_embed(m.diagonal(dim1=-2, dim2=-1))


def _std(u: torch.Tensor) -> torch.Tensor:
    """Per-dimension batch std (``correction=0``) of ``u``, averaged over dimensions."""
    return u.std(dim=-2, correction=0).mean(dim=-1)


def _center_norm(u: torch.Tensor) -> torch.Tensor:
    """``m_o = ||o||`` for unit vectors ``u``."""
    return _center(u).norm(dim=-1)


def _residual_norm(u: torch.Tensor) -> torch.Tensor:
    """``m_r = mean_i ||r_i||`` for unit vectors ``u``."""
    return _residual(u).norm(dim=-1).mean(dim=-1)


def _effective_rank(u: torch.Tensor, eps: float) -> torch.Tensor:
    """RankMe ``exp(-sum_k p_k log p_k)`` with ``p_k = sigma_k / sum(sigma) + eps``."""
    sigma = torch.linalg.svdvals(u)
    total = sigma.sum(dim=-1, keepdim=True).clamp_min(torch.finfo(sigma.dtype).tiny)
    p = sigma / total + eps
    return torch.exp(-torch.special.xlogy(p, p).sum(dim=-1))


def _off_diagonal_correlation(u: torch.Tensor) -> torch.Tensor:
    """Mean absolute off-diagonal entry of the correlation matrix of ``u`` (needs ``d >= 2``)."""
    d = u.shape[-1]
    return _off_diagonal(_correlation(u, 1e-8)).abs().sum(dim=(-2, -1)) / (d * (d - 1))


def normalize(z: torch.Tensor) -> torch.Tensor:
    """L2-normalise ``z`` along its last dimension: the unit vectors ``Z`` of Zhang et al. (2022).

    This is the single shared definition of normalisation for the package. Because it is also used
    inside training losses it checks only the shape (batch >= 1), never finiteness, so it causes no
    host synchronisation; NaN or inf entries propagate. Zero rows stay zero.
    """
    _check_shape(z, min_batch=1)
    return _unit(z)


def center(z: torch.Tensor) -> torch.Tensor:
    """Center vector ``o = E[Z]`` of the normalised batch, shape ``(..., d)``.

    Zhang et al. (2022), §3: each unit representation decomposes as ``Z = o + r``. Used inside
    losses (the dummy losses), so like :func:`normalize` it checks only the shape (no host sync).
    """
    _check_shape(z)
    return _center(_unit(z))


def residual(z: torch.Tensor) -> torch.Tensor:
    """Residual vectors ``r = Z - o`` of the normalised batch, shape ``(..., B, d)``.

    Zhang et al. (2022), §3. Checks only the shape, as :func:`center`.
    """
    _check_shape(z)
    return _residual(_unit(z))


def std(z: torch.Tensor) -> torch.Tensor:
    """SimSiam's collapse metric: per-dimension batch std of normalised ``Z``, averaged over ``d``.

    Chen & He, "Exploring Simple Siamese Representation Learning" (CVPR 2021), §4.1: about
    ``1/sqrt(d)`` for well-spread unit vectors and ``0`` under complete collapse. Uses the biased
    estimator (``correction=0``).
    """
    _check(z)
    return _std(_unit(z))


def center_norm(z: torch.Tensor) -> torch.Tensor:
    """Center magnitude ``m_o = ||o||`` of the normalised batch (Zhang et al. 2022, §3).

    Equals 1 under complete collapse and 0 when the center vanishes.
    """
    _check(z)
    return _center_norm(_unit(z))


def residual_norm(z: torch.Tensor) -> torch.Tensor:
    """Residual magnitude ``m_r = mean_i ||r_i||`` of the normalised batch (Zhang et al. 2022, §3).

    For unit vectors ``||o||^2 + mean_i ||r_i||^2 = 1``, so ``m_r -> 0`` under complete collapse.
    """
    _check(z)
    return _residual_norm(_unit(z))


def effective_rank(z: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """RankMe effective rank of the normalised ``(B, d)`` matrix.

    Garrido et al., "RankMe: Assessing the Downstream Performance of Pretrained Self-Supervised
    Representations by Their Rank" (ICML 2023), eq. 1: ``exp(-sum_k p_k log p_k)`` with
    ``p_k = sigma_k / ||sigma||_1 + eps`` over the singular values ``sigma``. The identity matrix
    gives ``d`` (up to ``eps``); a rank-one batch gives 1.
    """
    _check(z)
    return _effective_rank(_unit(z), eps)


def covariance(z: torch.Tensor) -> torch.Tensor:
    """Covariance matrix ``(..., d, d)`` of normalised ``Z`` over the batch, divided by ``B``."""
    _check(z)
    return _covariance(_unit(z))


def eigenspectrum(z: torch.Tensor) -> torch.Tensor:
    """Eigenvalues of :func:`covariance`, in descending order, shape ``(..., d)``.

    The covariance spectrum used to diagnose dimensional collapse (Hua et al., "On Feature
    Decorrelation in Self-Supervised Learning", ICCV 2021; Jing et al., ICLR 2022).
    """
    _check(z)
    return torch.linalg.eigvalsh(_covariance(_unit(z))).flip(-1)


def correlation(z: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Pearson correlation matrix ``(..., d, d)`` of normalised ``Z`` over the batch.

    ``C_ij = S_ij / sqrt((S_ii + eps)(S_jj + eps))`` with ``S`` = :func:`covariance`; a dimension
    with zero variance gets a zero row and column.
    """
    _check(z)
    return _correlation(_unit(z), eps)


def off_diagonal_correlation(z: torch.Tensor) -> torch.Tensor:
    """Mean absolute off-diagonal entry of :func:`correlation` (requires ``d >= 2``).

    0 for decorrelated dimensions, 1 when all dimensions are perfectly (anti-)correlated.
    """
    _check(z)
    if z.shape[-1] < 2:
        raise ValueError(f"z must have dim >= 2 for off-diagonal correlation, got {tuple(z.shape)}")
    return _off_diagonal_correlation(_unit(z))


def off_diagonal_covariance(z: torch.Tensor) -> torch.Tensor:
    """``(1/d) sum_{i != j} S_ij^2`` over the off-diagonal entries of :func:`covariance`.

    Intended as the covariance measure plotted in Zhang et al. (2022), Fig. 6. The paper does not
    spell out its exact form, so this is unconfirmed; it follows the covariance term of VICReg
    (Bardes et al., ICLR 2022, eq. 4).
    """
    _check(z)
    return _off_diagonal(_covariance(_unit(z))).square().sum(dim=(-2, -1)) / z.shape[-1]


def correlation_penalty(z: torch.Tensor) -> torch.Tensor:
    """Decorrelation loss ``(1/d) sum_{i != j} C_ij^2`` over the off-diagonal of ``correlation``.

    Meant as a differentiable training loss (gradients stay finite even for zero-variance
    dimensions). It checks only the shape of ``z`` and, unlike the other metrics, never checks
    finiteness, so it causes no host synchronisation; NaN or inf entries propagate to the loss.
    """
    _check_shape(z)
    return _off_diagonal(_correlation(_unit(z), 1e-8)).square().sum(dim=(-2, -1)) / z.shape[-1]


def alignment(z_a: torch.Tensor, z_b: torch.Tensor, alpha: float = 2.0) -> torch.Tensor:
    """Alignment ``E_i ||Z_a,i - Z_b,i||^alpha`` of two normalised views (shapes must match).

    Wang & Isola, "Understanding Contrastive Representation Learning through Alignment and
    Uniformity on the Hypersphere" (ICML 2020), eq. 4 / ``align_loss``.
    """
    _check(z_a, "z_a")
    _check(z_b, "z_b")
    if z_a.shape != z_b.shape:
        raise ValueError(
            f"z_a and z_b must have the same shape, got {tuple(z_a.shape)} and {tuple(z_b.shape)}"
        )
    if alpha <= 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    return (_unit(z_a) - _unit(z_b)).norm(dim=-1).pow(alpha).mean(dim=-1)


def uniformity(z: torch.Tensor, t: float = 2.0) -> torch.Tensor:
    """Uniformity ``log E_{i != j} exp(-t ||Z_i - Z_j||^2)`` of the normalised batch.

    Wang & Isola (ICML 2020), eq. 5 / ``uniform_loss``; computed with a log-sum-exp over the
    ``B (B - 1)`` ordered pairs (the same mean as over unordered pairs).
    """
    _check(z)
    if t <= 0:
        raise ValueError(f"t must be > 0, got {t}")
    u = _unit(z)
    b = u.shape[-2]
    sq_norm = u.square().sum(dim=-1)
    sq_dist = (sq_norm.unsqueeze(-1) + sq_norm.unsqueeze(-2) - 2 * u @ u.mT).clamp_min(0)
    diagonal = torch.eye(b, dtype=torch.bool, device=u.device)
    logits = (-t * sq_dist).masked_fill(diagonal, float("-inf"))
    return torch.logsumexp(logits, dim=(-2, -1)) - math.log(b * (b - 1))


def _check_labels(labels: torch.Tensor, name: str, n: int) -> None:
    """Raise ``ValueError`` unless ``labels`` is an integer tensor of shape ``(n,)``."""
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor, got {labels.dtype}")
    if labels.shape != (n,):
        raise ValueError(
            f"{name} must have shape ({n},) to match the features, got {tuple(labels.shape)}"
        )


def knn_accuracy(
    train_features: torch.Tensor,
    train_labels: torch.Tensor,
    test_features: torch.Tensor,
    test_labels: torch.Tensor,
    k: int = 200,
    temperature: float = 0.1,
    num_classes: int | None = None,
    chunk_size: int = 1024,
) -> float:
    """Weighted kNN accuracy of ``test_features`` against a bank of ``train_features``.

    Wu et al., "Unsupervised Feature Learning via Non-Parametric Instance Discrimination" (CVPR
    2018), as used by the SimSiam/InstDisc monitors: cosine similarity of normalised features, the
    ``k`` most similar training points (``k`` clipped to the bank size) vote for their class with
    weight ``exp(sim / temperature)``, and the class with the largest summed weight is predicted.
    Weights are computed as ``exp((sim - max sim) / temperature)``, which leaves every argmax
    unchanged but cannot overflow. Features are ``(N, D)``, labels ``(N,)`` integers; test points
    are processed ``chunk_size`` at a time so memory stays ``O(chunk_size * N_train)``.
    ``num_classes`` defaults to one plus the largest label. Returns a float in ``[0, 1]``.
    """
    for name, features in (("train_features", train_features), ("test_features", test_features)):
        _check(features, name, min_batch=1)
        if features.ndim != 2:
            raise ValueError(f"{name} must have shape (N, D), got {tuple(features.shape)}")
    if train_features.shape[1] != test_features.shape[1]:
        raise ValueError(
            f"train_features and test_features must have the same feature dim, got "
            f"{tuple(train_features.shape)} and {tuple(test_features.shape)}"
        )
    _check_labels(train_labels, "train_labels", train_features.shape[0])
    _check_labels(test_labels, "test_labels", test_features.shape[0])
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    low = int(torch.minimum(train_labels.min(), test_labels.min().to(train_labels.device)))
    high = int(torch.maximum(train_labels.max(), test_labels.max().to(train_labels.device)))
    if num_classes is None:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}), got range [{low}, {high}]")

    device = train_features.device
    bank = _unit(train_features)
    bank_labels = train_labels.to(device=device, dtype=torch.int64)
    k = min(k, bank.shape[0])
    correct = torch.zeros((), dtype=torch.int64, device=device)
    for start in range(0, test_features.shape[0], chunk_size):
        queries = _unit(test_features[start : start + chunk_size].to(device))
        sim, idx = (queries @ bank.T).topk(k, dim=-1)
        weights = ((sim - sim[:, :1]) / temperature).exp()
        scores = torch.zeros(queries.shape[0], num_classes, dtype=weights.dtype, device=device)
        scores.scatter_add_(1, bank_labels[idx], weights)
        targets = test_labels[start : start + chunk_size].to(device=device, dtype=torch.int64)
        correct += (scores.argmax(dim=-1) == targets).sum()
    return correct.item() / test_features.shape[0]


def summary(z: torch.Tensor) -> dict[str, float]:
    """Collapse summary of one ``(B, d)`` batch (``d >= 2``) as python floats.

    Keys: ``std``, ``std_scaled`` (``std * sqrt(d)``, about 1 when healthy), ``center_norm``,
    ``residual_norm``, ``effective_rank`` and ``off_diagonal_correlation``; one host transfer.
    """
    _check(z)
    if z.ndim != 2 or z.shape[-1] < 2:
        raise ValueError(f"z must have shape (batch, dim) with dim >= 2, got {tuple(z.shape)}")
    u = _unit(z)
    s = _std(u)
    values = torch.stack(
        [
            s,
            s * math.sqrt(z.shape[-1]),
            _center_norm(u),
            _residual_norm(u),
            _effective_rank(u, 1e-7),
            _off_diagonal_correlation(u),
        ]
    ).tolist()
    keys = (
        "std",
        "std_scaled",
        "center_norm",
        "residual_norm",
        "effective_rank",
        "off_diagonal_correlation",
    )
    return dict(zip(keys, values, strict=True))
