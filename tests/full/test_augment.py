"""The device-side augmentation against torchvision.transforms.v2 (paper-notes §6).

Two kinds of test. Statistical: each draws many views of the same images from
:func:`full.augment.augment` and from the per-image v2 pipeline and compares a statistic.
Tolerances: for a rate p measured on n views by both, the difference has standard error
sqrt(2 p (1 - p) / n); we allow about 4.5 standard errors (a false alarm about 1 in 150,000
runs). For distributions we use the two-sample Kolmogorov-Smirnov statistic against its
alpha = 0.001 critical value 1.95 sqrt(2 / n). Each statistic isolates one transform (the others
set to the identity) so a broken one shows. Exact: our batched kernels and
``torchvision.transforms.v2.functional`` image by image, with the same parameters (below).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
import torch
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as TF

from full.augment import (
    RANDOM_COLUMNS,
    SIMSIAM_CIFAR,
    Augmentation,
    Params,
    apply,
    augment,
    blend,
    color_jitter,
    crop_boxes,
    draw_params,
    grayscale,
    hue_shift,
    resized_crop,
    torchvision_transform,
)
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
    u = torch.rand(n, 22, generator=torch.Generator().manual_seed(0))
    boxes = crop_boxes(u[:, :10], u[:, 10:20], u[:, 20:], 32, 32, SIMSIAM_CIFAR.scale,
                       SIMSIAM_CIFAR.ratio).numpy()
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


# Exact per-image comparisons: our batched kernels against torchvision.transforms.v2.functional
# applied image by image with the same parameters. They agree up to float rounding (one unit in
# the last place of 1.0 is 1.2e-7): measured 0 to 1.8e-7 for the crop, brightness, contrast,
# saturation and grayscale, 1.3e-6 for the hue, which reaches the same HSV rotation by another
# sequence of float operations (full.augment.hue_shift), 2e-6 for chains holding it.
TOL, HUE_TOL = 1e-6, 5e-6


def colourful(n: int, seed: int) -> torch.Tensor:
    """Float images in [0, 1] with every hue and saturation (the shapes are gray)."""
    return torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))


def drawn(n: int, seed: int) -> Params:
    u = torch.rand(n, RANDOM_COLUMNS, generator=torch.Generator().manual_seed(seed))
    return draw_params(u, SIMSIAM_CIFAR, 32, 32)


def reference(image: torch.Tensor, p: Params, k: int, steps: str = "crop jitter gray"):
    """Image ``k`` through torchvision's functionals with its parameters in ``p``."""
    if "crop" in steps:
        top, left, h, w = (int(v) for v in p.boxes[k])
        image = TF.resized_crop(image, top, left, h, w, [32, 32], antialias=True)
        if p.flip[k]:
            image = TF.horizontal_flip(image)
    if "jitter" in steps and p.jitter[k]:
        b, c, s = (float(v) for v in p.factors[k])
        ops = (lambda y: TF.adjust_brightness(y, b), lambda y: TF.adjust_contrast(y, c),
               lambda y: TF.adjust_saturation(y, s),
               lambda y: TF.adjust_hue(y, float(p.hue[k])))
        for op in p.order[k].tolist():
            image = ops[op](image)
    if "gray" in steps and p.gray[k]:
        image = TF.rgb_to_grayscale(image, num_output_channels=3)
    return image


def max_error(ours_: torch.Tensor, theirs_: list[torch.Tensor]) -> float:
    return float((ours_ - torch.stack(theirs_)).abs().max())


def test_crop_and_flip_match_torchvision_per_image():
    x, p = colourful(64, 0), drawn(64, 0)
    assert 0 < int(p.flip.sum()) < 64  # both mirrored and plain views
    assert len(set(p.boxes[:, 2].tolist())) > 5  # boxes of many heights
    out = resized_crop(x, p.boxes, p.flip, 32)
    assert max_error(out, [reference(x[k], p, k, "crop") for k in range(64)]) < TOL


@pytest.mark.parametrize("op", ["brightness", "contrast", "saturation", "hue"])
def test_each_jitter_matches_torchvision_per_image(op):
    x = colourful(32, 1)
    f = torch.linspace(0.6, 1.4, 32)  # factors on both sides of 1: the clamp at 1 is hit
    if op == "hue":
        shift = torch.linspace(-0.1, 0.1, 32)
        out = hue_shift(x, shift)
        ref = [TF.adjust_hue(x[k], float(shift[k])) for k in range(32)]
    else:
        flags = torch.tensor([op == "saturation", op == "contrast"], dtype=torch.float32)
        out = blend(x, f.view(-1, 1, 1, 1), *flags.view(2, 1, 1, 1, 1).expand(2, 32, 1, 1, 1))
        adjust = getattr(TF, f"adjust_{op}")
        ref = [adjust(x[k], float(f[k])) for k in range(32)]
    assert max_error(out, ref) < (HUE_TOL if op == "hue" else TOL)


def test_color_jitter_keeps_each_images_order():
    x, p = colourful(96, 2), drawn(96, 2)
    assert len({tuple(o) for o in p.order[p.jitter[:, 0]].tolist()}) > 12  # many orders
    out = color_jitter(x, p)
    assert max_error(out, [reference(x[k], p, k, "jitter") for k in range(96)]) < HUE_TOL


def test_grayscale_matches_torchvision_per_image():
    x = colourful(16, 3)
    ref = [TF.rgb_to_grayscale(x[k], num_output_channels=1) for k in range(16)]
    assert max_error(grayscale(x), ref) < TOL


def test_every_step_together_matches_torchvision_per_image():
    images = (colourful(96, 4) * 255).to(torch.uint8)
    p = drawn(96, 4)
    out = apply(images, p, SIMSIAM_CIFAR)
    ref = [reference(TF.to_dtype(images[k], torch.float32, scale=True), p, k)
           for k in range(96)]
    assert max_error(out, ref) < HUE_TOL
