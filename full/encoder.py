"""The encoder f of SimSiam on images: backbone + projector (paper-notes §6).

Chen & He, "Exploring Simple Siamese Representation Learning" (CVPR 2021), appendix D (CIFAR):
the projector has 2 layers, Linear-BN-ReLU-Linear-BN, to ``proj_dim`` = 2048, with batch norm
on its output (no affine on that last BN, as in the official builder). The predictor h is *not*
here: :class:`collapse.siamese.Siamese` adds it from the recipe, exactly as for the toy.

``forward`` returns z only, the interface ``Siamese`` needs; :meth:`Encoder.encode` returns
``(features, z)`` so the kNN monitor and the linear probe use the backbone features.
"""

from __future__ import annotations

from torch import Tensor, nn

from full.resnet import ResNet18


def projector(in_dim: int, hidden: int, out_dim: int) -> nn.Sequential:
    """SimSiam's CIFAR projector: Linear-BN-ReLU-Linear-BN (the output BN without affine)."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True),
        nn.Linear(hidden, out_dim, bias=False), nn.BatchNorm1d(out_dim, affine=False))


class Encoder(nn.Module):
    """f = projector(backbone(x)); ``dim`` is the output dimension d of z."""

    def __init__(self, width: int = 64, proj_hidden: int = 2048, dim: int = 2048) -> None:
        super().__init__()
        self.backbone = ResNet18(width)
        self.projector = projector(self.backbone.feature_dim, proj_hidden, dim)
        self.dim = dim

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(backbone features (B, 8 * width), z (B, dim))."""
        h = self.backbone(x)
        return h, self.projector(h)

    def forward(self, x: Tensor) -> Tensor:
        return self.encode(x)[1]
