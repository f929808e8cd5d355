"""The toy's settings, without torch: the dataset names and :class:`ToyConfig`.

Kept apart from the training code so that what only needs the settings (the app's server, which
builds a config from its controls while its training workers import torch, classroom/pool.py)
does not import torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DATASETS = ("nuisance-clusters", "clusters", "rings", "isotropic")  # made by toy.data


@dataclass(frozen=True)
class ToyConfig:
    """Everything about a toy run except the recipe and the seeds (toy-notes' working setup)."""

    dataset: str = "nuisance-clusters"
    dim: int = 16
    hidden: int = 64
    batch: int = 256
    lr: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 1e-4
    augmentation: float = 1.0
    train_size: int = 4096
    test_size: int = 1024

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset={self.dataset!r} is not one of {', '.join(DATASETS)}")
        for name, low in (("dim", 2), ("hidden", 1), ("batch", 2), ("train_size", 2),
                          ("test_size", 2)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ValueError(f"{name}={value!r} must be an integer >= {low}")
        for name in ("lr", "momentum", "weight_decay", "augmentation"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise ValueError(f"{name}={value!r} must be a finite number >= 0")
