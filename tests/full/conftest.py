"""Fixtures for full/: tiny CPU-sized runs and a tiny dataset in the real CIFAR-10 layout."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

# A run of a few steps with a width-2 ResNet: the real pipeline, in about a second.
TINY = ["--width", "2", "--dim", "16", "--proj-hidden", "16", "--pred-hidden", "8",
        "--batch", "8", "--probe-epochs", "2", "--no-progress", "--knn-k", "5"]


@pytest.fixture
def tiny_cifar(tmp_path, monkeypatch):
    """``tmp_path/cifar`` holding CIFAR-10's on-disk pickles (4 images per data batch, 8 test
    images) and torchvision's CIFAR10 with its MD5 checks relaxed, in this test only."""
    from torchvision.datasets import CIFAR10

    root = tmp_path / "cifar"
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)

    def batch(name: str, n: int) -> None:
        data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, n)]
        with open(folder / name, "wb") as f:
            pickle.dump({"batch_label": name, "labels": labels, "data": data,
                         "filenames": [f"{name}_{i}.png" for i in range(n)]}, f)

    for i in range(1, 6):
        batch(f"data_batch_{i}", 4)
    batch("test_batch", 8)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)],
                     "num_cases_per_batch": 4, "num_vis": 3072}, f)
    monkeypatch.setattr(CIFAR10, "train_list", [[f"data_batch_{i}", None] for i in range(1, 6)])
    monkeypatch.setattr(CIFAR10, "test_list", [["test_batch", None]])
    monkeypatch.setattr(CIFAR10, "meta", {**CIFAR10.meta, "md5": None})
    return root
