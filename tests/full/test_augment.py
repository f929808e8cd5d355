"""The device-side augmentation is distributed like torchvision.transforms.v2 (paper-notes §6).

Each test draws many views of the same images from :func:`full.augment.augment` and from the
per-image v2 pipeline and compares a statistic. Tolerances: for a rate p measured on n views by
both, the difference has standard error sqrt(2 p (1 - p) / n); we allow about 4.5 standard
errors (a false alarm about 1 in 150,000 runs). For distributions we use the two-sample
Kolmogorov-Smirnov statistic against its alpha = 0.001 critical value 1.95 sqrt(2 / n).
Each statistic isolates one transform (the others set to the identity) so a broken one shows.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torchvision.transforms import v2

from full.augment import SIMSIAM_CIFAR, Augmentation, augment, crop_boxes, torchvision_transform
from full.data import shapes

NO_COLOUR = replace(SIMSIAM_CIFAR, jitter_p=0.0, gray_p=0.0)
IDENTITY = replace(NO_COLOUR, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_p=0.0)


def ks(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the empirical CDFs."""
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.abs(cdf_a - cdf_b).max())


def ks_limit(n: int) -> float:
    return 1.95 * math.sqrt(2 / n)


def rate_limit(p: float, n: int) -> float:
    return 4.5 * math.sqrt(2 * p * (1 - p) / n)


def ours(images: torch.Tensor, cfg: Augmentation, seed: int = 0) -> torch.Tensor:
    return augment(images, cfg, torch.Generator().manual_seed(seed))


def theirs(images: torch.Tensor, cfg: Augmentation) -> torch.Tensor:
    torch.manual_seed(0)
    t = torchvision_transform(cfg, normalized=False)
    return torch.stack([t(image) for image in images.float() / 255])


def test_crop_boxes_match_random_resized_crop():
    n = 20_000
    boxes = crop_boxes(n, 32, 32, SIMSIAM_CIFAR.scale, SIMSIAM_CIFAR.ratio,
                       torch.Generator().manual_seed(0)).numpy()
    torch.manual_seed(0)
    ref = np.array([v2.RandomResizedCrop.get_params(torch.zeros(3, 32, 32), [0.2, 1.0],
                                                    [3 / 4, 4 / 3]) for _ in range(n)],
                   dtype=np.float64)
    for column, name in enumerate("ijhw"):
        assert ks(boxes[:, column], ref[:, column]) < ks_limit(n), name
    area = lambda b: b[:, 2] * b[:, 3] / 1024  # noqa: E731
    aspect = lambda b: np.log(b[:, 3] / b[:, 2])  # noqa: E731
    assert ks(area(boxes), area(ref)) < ks_limit(n)
    assert ks(aspect(boxes), aspect(ref)) < ks_limit(n)
    assert ((boxes[:, :2] >= 0) & (boxes[:, :2] + boxes[:, 2:] <= 32)).all()


def test_identity_crop_returns_the_image():
    images, _ = shapes(8, seed=0)
    out = ours(images, IDENTITY)
    assert torch.allclose(out, images.float() / 255, atol=1e-5)
    assert torch.allclose(out, theirs(images, IDENTITY), atol=1e-5)


def test_crop_resizes_the_box_like_torchvision():
    # a 2x upscale of a fixed box, rendered by grid_sample vs torchvision's resized_crop
    images, _ = shapes(4, seed=1)
    from full.augment import _resized_crop
    box = torch.tensor([[4.0, 6.0, 16.0, 16.0]]).repeat(4, 1)
    ours_ = _resized_crop(images.float() / 255, box, torch.zeros(4, dtype=torch.bool), 32)
    ref = v2.functional.resized_crop(images.float() / 255, 4, 6, 16, 16, [32, 32],
                                     antialias=True)
    inner = (slice(None), slice(None), slice(1, -1), slice(1, -1))  # borders differ < 1 px
    assert (ours_[inner] - ref[inner]).abs().max() < 1e-4


def test_flip_rate():
    n = 4000
    half = torch.zeros(n, 3, 32, 32, dtype=torch.uint8)
    half[..., 16:] = 255  # dark left, bright right: a flip makes the left bright
    cfg = replace(IDENTITY, flip_p=0.5)

    def flipped(x: torch.Tensor) -> float:
        return (x[..., :16].mean(dim=(1, 2, 3)) > x[..., 16:].mean(dim=(1, 2, 3))).float()

    a, b = flipped(ours(half, cfg)).mean().item(), flipped(theirs(half, cfg)).mean().item()
    assert abs(a - b) < rate_limit(0.5, n)
    assert abs(a - 0.5) < rate_limit(0.5, n)


def test_grayscale_rate():
    n = 4000
    images, _ = shapes(n, seed=2)
    cfg = replace(IDENTITY, gray_p=0.2)

    def gray(x: torch.Tensor) -> torch.Tensor:
        return ((x[:, 0] - x[:, 1]).abs().amax(dim=(1, 2)) < 1e-6).float()

    a, b = gray(ours(images, cfg)).mean().item(), gray(theirs(images, cfg)).mean().item()
    assert abs(a - b) < rate_limit(0.2, n)
    assert abs(a - 0.2) < rate_limit(0.2, n)


JITTER_N = 2000


@pytest.fixture(scope="module")
def jittered() -> tuple[torch.Tensor, torch.Tensor]:
    """One image jittered JITTER_N times by each pipeline (drawn once for the four statistics)."""
    image, _ = shapes(1, seed=5)
    images = image.repeat(JITTER_N, 1, 1, 1)  # one image, n jitters: only the jitter varies
    cfg = replace(IDENTITY, jitter_p=0.8)
    return ours(images, cfg), theirs(images, cfg)


@pytest.mark.parametrize("statistic", ["brightness", "saturation", "contrast", "hue"])
def test_colour_jitter_distribution(statistic, jittered):
    def measure(x: torch.Tensor) -> np.ndarray:
        if statistic == "brightness":  # mean brightness shift
            value = x.mean(dim=(1, 2, 3))
        elif statistic == "saturation":  # spread between the channels
            value = (x.amax(dim=1) - x.amin(dim=1)).mean(dim=(1, 2))
        elif statistic == "contrast":  # spread of the luminance
            value = x.mean(dim=1).std(dim=(1, 2))
        else:  # a hue rotation moves weight between the channels
            value = x[:, 0].mean(dim=(1, 2)) - x[:, 2].mean(dim=(1, 2))
        return value.numpy().astype(np.float64)

    a, b = jittered
    assert ks(measure(a), measure(b)) < ks_limit(JITTER_N)
