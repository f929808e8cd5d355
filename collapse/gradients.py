"""The gradient decomposition of paper §3-§4, for any recipe and batch.

For one direction, ``G = -dL/dA_a`` per sample (the loss is a batch mean, so we multiply by B):
the gradient the anchor receives before the projection onto the sphere. It splits into

- the **basic** gradient B (the anchor's counterpart P_b or Z_b; times 1/tau for InfoNCE), which
  alone collapses, and
- the **extra** gradient G_e = G - B, itself split into its center part o_e (batch mean,
  de-centering when it points against the anchor's center o) and residual part r_e = G_e - o_e
  (de-correlation).

``eta = o_e . o_A / |o_A|^2`` is the point where ``cos(o_e - eta o_A, o_A)`` crosses zero
(Fig. 5a): SimSiam's o_e ~ -0.5 o_p means eta ~ -0.5.

The target is held fixed: without stop-gradient the target branch also receives a gradient,
which this anchor-side decomposition (the paper's) does not show. For ``objective='none'``
(only the regulariser) it is the alignment gradient the recipe would have, not one it applies.

For InfoNCE (§4) the closed form ``G = (1/tau)[Z_b - o - sum_i lambda_i r_i]`` is given by
:func:`infonce_parts`: -o/tau de-centers, -sum(lambda r)/tau de-correlates.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from collapse.losses import ViewOutputs, directional_loss, pair
from collapse.recipe import Recipe


@dataclass
class GradientParts:
    """Per-sample vectors of the decomposition, shapes (..., B, d) or (..., d)."""

    anchor: Tensor  # A_a, unit vectors
    gradient: Tensor  # G = -dL/dA_a per sample
    basic: Tensor  # B
    extra: Tensor  # G_e = G - B
    extra_center: Tensor  # o_e, (..., d)
    extra_residual: Tensor  # r_e, (..., B, d)

    def summary(self) -> dict[str, Tensor]:
        """Magnitudes and angles, one value per member (no host sync)."""
        o_anchor = self.anchor.mean(-2)
        o_e = self.extra_center
        norm = torch.linalg.vector_norm
        o_sq = (o_anchor * o_anchor).sum(-1).clamp_min(1e-12)
        return {
            "basic_norm": norm(self.basic, dim=-1).mean(-1),
            "extra_norm": norm(self.extra, dim=-1).mean(-1),
            "extra_center_norm": norm(o_e, dim=-1),
            "extra_residual_norm": norm(self.extra_residual, dim=-1).mean(-1),
            "anchor_center_norm": o_sq.sqrt(),
            # undefined (NaN) when there is no center part, e.g. residual-only surgery
            "extra_center_cos": torch.where(
                norm(o_e, dim=-1) > 1e-8,
                (o_e * o_anchor).sum(-1) / (norm(o_e, dim=-1) * o_sq.sqrt()).clamp_min(1e-12),
                torch.nan),
            "eta": crossing(o_e, o_anchor),
        }


def anchor_gradient(recipe: Recipe, anchor: Tensor, target: Tensor) -> Tensor:
    """``-dL/dA`` per sample for one direction, by autograd; the target is held fixed."""
    leaf = anchor.detach().requires_grad_(True)
    with torch.enable_grad():
        loss = directional_loss(recipe, leaf, target.detach()).sum()
        (grad,) = torch.autograd.grad(loss, leaf)
    return -grad * anchor.shape[-2]


def decompose(recipe: Recipe, a: ViewOutputs, b: ViewOutputs) -> GradientParts:
    """Basic and extra gradient of the direction a -> b, with the extra split into o_e and r_e."""
    anchor, basic, target = pair(recipe, a, b)
    anchor, basic = anchor.detach(), basic.detach()
    gradient = anchor_gradient(recipe, anchor, target)
    if recipe.negatives == "infonce":
        basic = target.detach() / recipe.tau
    extra = gradient - basic
    extra_center = extra.mean(-2)
    return GradientParts(anchor, gradient, basic, extra, extra_center,
                         extra - extra_center.unsqueeze(-2))


def crossing(extra_center: Tensor, anchor_center: Tensor) -> Tensor:
    """eta at which ``cos(o_e - eta o_A, o_A)`` is zero: ``o_e . o_A / |o_A|^2`` (Fig. 5a)."""
    return (extra_center * anchor_center).sum(-1) / (anchor_center * anchor_center).sum(-1)


def infonce_parts(anchor: Tensor, candidates: Tensor, tau: float) -> dict[str, Tensor]:
    """Closed form of InfoNCE's ``-dL/dA_i`` (paper §4), each (..., B, d).

    With ``lambda_ij = softmax_j(A_i . Z_j / tau)`` and ``Z_j = o + r_j``:
    ``-dL/dA_i = Z_i/tau - o/tau - sum_j lambda_ij r_j / tau``.
    """
    weights = torch.softmax(anchor @ candidates.transpose(-1, -2) / tau, dim=-1)
    o = candidates.mean(-2, keepdim=True)
    r = candidates - o
    return {
        "positive": candidates / tau,
        "decentering": (-o / tau).expand_as(candidates),
        "decorrelation": -(weights @ r) / tau,
    }


def sphere_projection(z: Tensor, grad_unit: Tensor) -> Tensor:
    """``dL/dz = (I - Z Z^T) dL/dZ / |z|`` for ``Z = z/|z|`` (paper §3).

    Any part of ``dL/dZ`` along Z is projected away: the -Z_a term of the MSE gradient
    ``Z_b - Z_a`` is a dummy that changes nothing (claim 8).
    """
    norm = torch.linalg.vector_norm(z, dim=-1, keepdim=True)
    unit = z / norm
    return (grad_unit - unit * (unit * grad_unit).sum(-1, keepdim=True)) / norm
