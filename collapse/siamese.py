"""A Siamese network assembled from a recipe: any encoder, the recipe's heads, its loss.

The encoder is all that differs between the toy (a small MLP) and full/ (ResNet-18 + projector):
``Siamese(encoder, dim, recipe)`` adds the predictor, the inverse head, the EMA target encoder
and the loss of :mod:`collapse.losses`. Everything keeps a leading members dimension M (see
:mod:`collapse.layers`); the loss is returned per member.
"""

from __future__ import annotations

import copy

import torch
from torch import Tensor, nn

from collapse.layers import MLP
from collapse.losses import ViewOutputs, siamese_loss
from collapse.metrics import normalize
from collapse.predictors import make_predictor
from collapse.recipe import Recipe


class Siamese(nn.Module):
    """Encoder f, predictor h and the recipe's extras; ``forward`` returns the loss per member.

    Args:
        encoder: maps an input batch to z of shape (M, B, dim) (or (B, dim) when M = 1).
        dim: the output dimension d of the encoder.
        recipe: the variant to train.
        hidden: width of the predictor's (and inverse head's) hidden layer.
        members: M, the number of independent models stacked in the encoder's parameters.
        generators: one per member, to initialise the heads reproducibly.
    """

    def __init__(self, encoder: nn.Module, dim: int, recipe: Recipe, hidden: int,
                 members: int = 1, generators: list[torch.Generator] | None = None) -> None:
        super().__init__()
        self.recipe = recipe
        self.encoder = encoder
        self.predictor = make_predictor(recipe.predictor, dim, hidden, members, generators)
        self.inverse = (MLP(dim, hidden, dim, members, generators)
                        if recipe.placement == "inverse" else None)
        self.target_encoder = (copy.deepcopy(encoder).requires_grad_(False)
                               if recipe.ema > 0 else None)

    def set_recipe(self, recipe: Recipe) -> None:
        """Switch the loss mid-training (e.g. collapse, then de-correlate: Fig. 5b).

        The new recipe must use the same modules: same predictor, placement and EMA use.
        """
        old = self.recipe
        same = (old.predictor, old.placement, old.ema > 0) == (
            recipe.predictor, recipe.placement, recipe.ema > 0)
        if not same:
            raise ValueError("set_recipe needs the same predictor, placement and ema use; "
                             f"got {old.predictor}/{old.placement}/ema={old.ema} -> "
                             f"{recipe.predictor}/{recipe.placement}/ema={recipe.ema}")
        self.recipe = recipe

    def view(self, x: Tensor, eoa: list[Tensor] | None = None) -> ViewOutputs:
        """One augmented view through the model (and its target branch, if the recipe has one)."""
        z = self.encoder(x)
        p = self.predictor(z) if self.predictor is not None else None
        z_target = None
        if self.target_encoder is not None:
            with torch.no_grad():
                z_target = self.target_encoder(x)
        if eoa is not None:
            with torch.no_grad():
                z_target = torch.stack([normalize(self.encoder(v)) for v in eoa]).mean(0)
        inverse = self.inverse(normalize(p).detach()) if self.inverse is not None else None
        return ViewOutputs(z, p, z_target, inverse)

    def forward(self, x_a: Tensor, x_b: Tensor, eoa: list[Tensor] | None = None
                ) -> tuple[Tensor, ViewOutputs, ViewOutputs]:
        """Loss per member for two views; ``eoa`` are K views of the same inputs (EOA target)."""
        if self.recipe.target == "eoa" and eoa is None:
            raise ValueError("recipe target='eoa' needs the K augmented views (eoa=...)")
        eoa = eoa if self.recipe.target == "eoa" else None
        a, b = self.view(x_a, eoa), self.view(x_b, eoa)
        return siamese_loss(self.recipe, a, b), a, b

    @torch.no_grad()
    def update_target(self) -> None:
        """BYOL's target update ``xi <- m xi + (1 - m) theta`` (no-op without an EMA target)."""
        if self.target_encoder is None:
            return
        m = self.recipe.ema
        for t, o in zip(self.target_encoder.parameters(), self.encoder.parameters(), strict=True):
            t.lerp_(o, 1 - m)
