"""Layers with a leading *members* dimension: several independent models trained side by side.

Toy experiments are tiny (a 16-64-16 MLP), so a step costs more in Python overhead than in
arithmetic. Stacking M independent models (one per seed) into one set of tensors of shape
(M, ...) runs them in one batched kernel per op (``torch.baddbmm``) instead of M. Inputs are
(M, B, features); with ``members=1`` a plain (B, features) input is accepted too, so the same
heads serve full/'s ResNet. Each member is initialised from its own generator, so member i of a
stacked run equals a run of seed i alone.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def _as_members(x: Tensor, members: int) -> tuple[Tensor, bool]:
    """View ``x`` as (members, B, features); report whether it came in without the member dim."""
    if x.dim() == 2 and members == 1:
        return x.unsqueeze(0), True
    if x.dim() != 3 or x.shape[0] != members:
        raise ValueError(f"expected input of shape ({members}, batch, features)"
                         f"{' or (batch, features)' if members == 1 else ''}, "
                         f"got {tuple(x.shape)}")
    return x, False


class Linear(nn.Module):
    """``y = x W + b`` for each member; PyTorch's default uniform(±1/√in) initialisation."""

    def __init__(self, in_features: int, out_features: int, members: int = 1, bias: bool = True,
                 generators: list[torch.Generator] | None = None) -> None:
        super().__init__()
        self.members = members
        bound = 1 / math.sqrt(in_features)
        gens = generators or [None] * members
        self.weight = nn.Parameter(torch.stack([
            torch.empty(in_features, out_features).uniform_(-bound, bound, generator=g)
            for g in gens]))
        self.bias = nn.Parameter(torch.stack([
            torch.empty(1, out_features).uniform_(-bound, bound, generator=g)
            for g in gens])) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        x, squeeze = _as_members(x, self.members)
        y = torch.bmm(x, self.weight) if self.bias is None else torch.baddbmm(
            self.bias, x, self.weight)
        return y.squeeze(0) if squeeze else y


class BatchNorm(nn.Module):
    """Batch normalisation over the batch dimension, per member and feature.

    Always uses the statistics of the batch at hand (no running averages): the toy evaluates
    on a large held-out batch, and full/ evaluates the backbone, never these heads.
    """

    def __init__(self, features: int, members: int = 1, eps: float = 1e-5) -> None:
        super().__init__()
        self.members, self.eps = members, eps
        self.weight = nn.Parameter(torch.ones(members * features))
        self.bias = nn.Parameter(torch.zeros(members * features))

    def forward(self, x: Tensor) -> Tensor:
        x, squeeze = _as_members(x, self.members)
        m, b, c = x.shape
        # (M, B, C) -> (B, M*C): one native batch_norm kernel normalises every member at once.
        flat = x.transpose(0, 1).reshape(b, m * c)
        y = F.batch_norm(flat, None, None, self.weight, self.bias, True, 0.0, self.eps)
        y = y.reshape(b, m, c).transpose(0, 1)
        return y.squeeze(0) if squeeze else y


class MLP(nn.Sequential):
    """Linear-BN-ReLU-Linear: the toy encoder and the SimSiam predictor shape."""

    def __init__(self, in_features: int, hidden: int, out_features: int, members: int = 1,
                 generators: list[torch.Generator] | None = None) -> None:
        super().__init__(
            Linear(in_features, hidden, members, generators=generators),
            BatchNorm(hidden, members),
            nn.ReLU(),
            Linear(hidden, out_features, members, generators=generators),
        )
