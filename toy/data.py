"""Synthetic data in R^n and its augmentations, generated from a seed (nothing is downloaded).

Labels exist only for evaluation (kNN). The default, ``nuisance-clusters``, makes collapse
visible to kNN: 16 Gaussian clusters live in 8 signal dimensions, 8 more dimensions are large
noise, and the augmentation shakes the nuisance dimensions hard, so a useful representation has
to drop them (toy-notes). On a plain mixture a collapsed model still scores kNN = 1.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from toy.config import DATASETS


@dataclass(frozen=True)
class Augmentation:
    """``x + noise * N(0, 1)`` per dimension, then each feature zeroed with ``mask`` probability."""

    noise: tuple[float, ...]
    mask: float = 0.0

    def scaled(self, strength: float) -> Augmentation:
        return Augmentation(tuple(s * strength for s in self.noise), min(self.mask * strength, 0.9))


@dataclass(frozen=True)
class Dataset:
    """Train and held-out points with their hidden labels, and the augmentation of the views."""

    train: Tensor  # (N, n)
    train_labels: Tensor  # (N,)
    test: Tensor  # (N_test, n)
    test_labels: Tensor  # (N_test,)
    augmentation: Augmentation
    num_classes: int


def _clusters(n_points: int, centres: Tensor, sigma: float, g: torch.Generator
              ) -> tuple[Tensor, Tensor]:
    labels = torch.randint(len(centres), (n_points,), generator=g)
    x = centres[labels] + sigma * torch.randn(n_points, centres.shape[1], generator=g)
    return x, labels


def make_dataset(name: str, seed: int, train_size: int = 4096, test_size: int = 1024) -> Dataset:
    """The named dataset for ``seed``; see :data:`DATASETS`."""
    g = torch.Generator().manual_seed(seed)
    total = train_size + test_size
    if name == "nuisance-clusters":
        centres = torch.randn(16, 8, generator=g)
        signal, labels = _clusters(total, centres, 0.3, g)
        x = torch.cat([signal, 2.0 * torch.randn(total, 8, generator=g)], dim=1)
        augmentation, classes = Augmentation((0.3,) * 8 + (2.0,) * 8), 16
    elif name == "clusters":
        x, labels = _clusters(total, torch.randn(8, 8, generator=g), 0.3, g)
        augmentation, classes = Augmentation((0.3,) * 8), 8
    elif name == "rings":
        labels = torch.randint(3, (total,), generator=g)
        angle = 2 * math.pi * torch.rand(total, generator=g)
        radius = (labels + 1).float() + 0.1 * torch.randn(total, generator=g)
        plane = torch.stack([radius * angle.cos(), radius * angle.sin()], dim=1)
        x = torch.cat([plane, 0.5 * torch.randn(total, 6, generator=g)], dim=1)
        augmentation, classes = Augmentation((0.2, 0.2) + (0.5,) * 6), 3
    elif name == "isotropic":
        x = torch.randn(total, 16, generator=g)
        labels = x[:, :4].argmax(dim=1)
        augmentation, classes = Augmentation((0.3,) * 16, mask=0.1), 4
    else:
        raise ValueError(f"dataset={name!r} is not one of {', '.join(DATASETS)}")
    return Dataset(x[:train_size], labels[:train_size], x[train_size:], labels[train_size:],
                   augmentation, classes)


def augment(x: Tensor, augmentation: Augmentation, g: torch.Generator) -> Tensor:
    """One random view of ``x`` (B, n)."""
    noise = torch.tensor(augmentation.noise, dtype=x.dtype)
    view = x + noise * torch.randn(x.shape, generator=g, dtype=x.dtype)
    if augmentation.mask > 0:
        view = view * (torch.rand(x.shape, generator=g) >= augmentation.mask)
    return view
