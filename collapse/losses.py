"""Every loss of the paper as one formula: ``L = -A_a . T_b`` per direction, symmetrised.

For one direction (view a learns from view b) a recipe picks three vectors per sample:

- the **anchor** A_a: the unit vector the loss differentiates, P_a (predictor on the online
  branch) or Z_a;
- the **basic** target B_b: A's counterpart from the other view (P_b or Z_b); ``-dL/dA = B``
  alone is the basic gradient that collapses (paper §3);
- the **target** T_b: what the recipe actually pulls A_a towards, so that ``-dL/dA_a = T_b``
  per sample and ``T_b - B_b`` is the extra gradient G_e.

SimSiam: A = P_a, B = P_b, T = sg(Z_b), so G_e = Z_b - P_b. Triplet: A = Z_a, B = Z_b,
T = sg(Z_b - Z_n), so G_e = -Z_n. InfoNCE replaces the dot product by a softmax over the
batch's targets (§4). Shapes are (M, B, d): M members (independent models), batch B, dim d.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from collapse.metrics import center, correlation_penalty, normalize, residual
from collapse.recipe import Recipe


@dataclass
class ViewOutputs:
    """One augmented view through the model.

    Attributes:
        z: online encoder output (M, B, d).
        p: predictor output h(z), when the recipe has a predictor.
        z_target: the target branch's representation when it is not z itself: the EMA
            encoder's output (BYOL) or the mean over augmentations (EOA target).
        inverse: the inverse head's output g(sg(P)) (inverse-predictor recipe).
    """

    z: Tensor
    p: Tensor | None = None
    z_target: Tensor | None = None
    inverse: Tensor | None = None


def negatives(target: Tensor) -> Tensor:
    """Z_n: for each sample, another sample's target (the batch rolled by one)."""
    return target.roll(1, dims=-2)


def keep_part(extra: Tensor, part: str) -> Tensor:
    """Gradient surgery: the ``part`` of the extra gradient G_e = o_e + r_e that is kept.

    o_e is the batch mean of G_e (its center part), r_e = G_e - o_e (its residual part).
    """
    if part == "full":
        return extra
    if part == "none":
        return torch.zeros_like(extra)
    o_e = extra.mean(-2, keepdim=True)
    if part == "center":
        return o_e.expand_as(extra)
    if part == "residual":
        return extra - o_e
    raise ValueError(f"extra_gradient={part!r} is not one of full, center, residual, none")


def pair(recipe: Recipe, a: ViewOutputs, b: ViewOutputs) -> tuple[Tensor, Tensor, Tensor]:
    """(anchor A_a, basic B_b, target T_b) for the direction a -> b (see the module docstring)."""
    z_a = normalize(a.z)
    if recipe.objective == "center-dummy":  # -Z_a . sg(o), Fig. 4
        return z_a, torch.zeros_like(z_a), center(a.z).unsqueeze(-2).expand_as(z_a).detach()
    if recipe.objective == "residual-dummy":  # -Z_a . sg(r_a), Fig. 4
        return z_a, torch.zeros_like(z_a), residual(a.z).detach()

    z_b = normalize(b.z if b.z_target is None else b.z_target)
    if recipe.anchor_is_prediction:
        anchor, basic = normalize(a.p), normalize(b.p)
    else:
        anchor, basic = z_a, z_b

    if recipe.placement in ("both", "target") and recipe.predictor != "none":
        target = normalize(b.p)
    elif recipe.placement == "inverse":
        target = normalize(b.inverse)
    else:
        target = z_b
    if recipe.negatives == "triplet":
        target = target - negatives(target)
    if recipe.extra_gradient != "full":
        target = basic + keep_part(target - basic, recipe.extra_gradient)
    if recipe.stop_gradient:
        target = target.detach()
    return anchor, basic, target


def info_nce(anchor: Tensor, candidates: Tensor, tau: float) -> Tensor:
    """InfoNCE (paper §4): cross-entropy of ``A_i . T_j / tau`` over j, the positive at j = i."""
    logits = anchor @ candidates.transpose(-1, -2) / tau
    return -torch.diagonal(F.log_softmax(logits, dim=-1), dim1=-2, dim2=-1).mean(-1)


def directional_loss(recipe: Recipe, anchor: Tensor, target: Tensor) -> Tensor:
    """The loss of one direction, per member: ``-mean_i A_i . T_i`` or InfoNCE."""
    if recipe.negatives == "infonce":
        return info_nce(anchor, target, recipe.tau)
    return -(anchor * target).sum(-1).mean(-1)


def inverse_fit(a: ViewOutputs) -> Tensor:
    """Training loss of the inverse head g: ``-cos(g(sg P), sg Z)`` (toy-notes' reading)."""
    z = a.z if a.z_target is None else a.z_target
    return -(normalize(a.inverse) * normalize(z).detach()).sum(-1).mean(-1)


def siamese_loss(recipe: Recipe, a: ViewOutputs, b: ViewOutputs) -> Tensor:
    """The recipe's full training loss per member (M,), symmetrised over the two views."""
    loss = torch.zeros(a.z.shape[:-2], dtype=a.z.dtype, device=a.z.device)
    if recipe.objective != "none":
        for x, y in ((a, b), (b, a)):
            anchor, _, target = pair(recipe, x, y)
            loss = loss + 0.5 * directional_loss(recipe, anchor, target)
    if recipe.decorrelation > 0:
        loss = loss + recipe.decorrelation * 0.5 * (
            correlation_penalty(a.z) + correlation_penalty(b.z))
    if recipe.placement == "inverse":
        loss = loss + 0.5 * (inverse_fit(a) + inverse_fit(b))
    return loss
