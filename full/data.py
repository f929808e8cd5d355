"""Labelled image datasets held as uint8 tensors: CIFAR-10/100 and the built-in ``shapes``.

The whole dataset is kept as one ``(N, 3, 32, 32)`` uint8 tensor (CIFAR-10 is 150 MB) so that it
can sit on the GPU and be augmented batch-wise there (:mod:`full.augment`; paper-notes §6 and
full-notes "speed tricks").

- ``cifar10`` / ``cifar100``: through ``torchvision.datasets``, downloaded on first use into
  ``data_dir``. Offline and absent, :class:`DataError` says in one line where to put the files.
- ``shapes``: procedurally generated from a seed, no download: 10 classes = 5 shapes (disk,
  square, triangle, ring, cross) x 2 textures (solid, striped), each drawn large (radius
  0.30-0.45 of the image, like a CIFAR object) anywhere in the middle 40 % of the image, at a
  random rotation, with its stripes turned with it, in a grey level on a noisy background. The
  label survives every SimSiam augmentation: a crop of scale >= 0.2 almost always holds part of
  the shape, and brightness, colour and flips do not define the class. What raw pixels match on
  (where the shape lies, which way its stripes run) varies from image to image: a kNN on raw
  pixels reaches 29.8-32.5 % (seeds 0, 1), the CPU demo's SimSiam (7 epochs) 56-62 % (issue 9
  §4; BENCHMARKS.md, "Issue 9 §4: the new `shapes`", tells how this style was found).
- ``shapes-centred``: the earlier default, the shape near the centre with vertical stripes.
  Raw pixels reach 55.6 % there, as much as 3 epochs of SimSiam: the stripes' direction and the
  shape's place were the same in every image, so raw pixels matched them.
- ``shapes-spread``: the shape anywhere in the middle 40 % at a radius of 0.25-0.42, stripes
  vertical (raw-pixel kNN 37-39 %). With smaller shapes SimSiam learned less (50.6 % kNN on one
  seed, below the raw pixels on two others): more crops miss the shape. Nuisances that both
  views share (a light gradient, a colour clutter field, a random tint; :class:`ShapesStyle`)
  lowered the raw-pixel kNN further but SimSiam's more: SimSiam learns what its two views have
  in common (BENCHMARKS.md, full/).
"""

from __future__ import annotations

import math
import pathlib
from dataclasses import dataclass

import torch
from torch import Tensor

DATASETS = ("cifar10", "cifar100", "shapes", "shapes-centred", "shapes-spread")
SHAPES = ("disk", "square", "triangle", "ring", "cross")
TEXTURES = ("solid", "striped")
# CIFAR-10 channel statistics (of the training set, in [0, 1]); used for every dataset here.
CIFAR_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR_STD = (0.2470, 0.2435, 0.2616)


class DataError(RuntimeError):
    """A dataset that cannot be loaded; the message is one line meant for the user."""


@dataclass
class ImageData:
    """Train and test images (N, 3, H, W) uint8 with int64 labels."""

    name: str
    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    num_classes: int


@dataclass(frozen=True)
class ShapesStyle:
    """What varies between images of one ``shapes`` class (the nuisances).

    Sizes are fractions of the image side. ``ramp`` is the amplitude of a linear illumination
    gradient in a random direction; ``clutter`` the amplitude of a smooth random colour field
    (4 x 4 per channel, bicubic to the image size); both lie over the whole image, the shape
    included. ``turn_stripes`` turns the stripes with the shape (else they are vertical). The
    ramp and the clutter are off in every built-in style: they were tried for issue 9 and hurt
    SimSiam more than they hurt raw pixels (the module docstring); they stay to repeat that
    measurement.
    """

    radius: tuple[float, float] = (0.32, 0.45)
    center: tuple[float, float] = (0.4, 0.6)
    turn_stripes: bool = False
    ramp: float = 0.0
    clutter: float = 0.0
    contrast: tuple[float, float] = (0.3, 0.5)
    tint: float = 0.05
    noise: float = 0.06


# ``shapes`` (issue 9 §4): large shapes anywhere in the middle 40 %, stripes turned with them.
TURNED = ShapesStyle(radius=(0.30, 0.45), center=(0.3, 0.7), turn_stripes=True)
# ``shapes-centred``: the earlier default, large centred shapes, vertical stripes.
CENTRED = ShapesStyle()
# ``shapes-spread``: smaller shapes anywhere in the middle 40 %, vertical stripes.
SPREAD = ShapesStyle(radius=(0.25, 0.42), center=(0.3, 0.7))
SHAPES_STYLES = {"shapes": TURNED, "shapes-centred": CENTRED, "shapes-spread": SPREAD}


def shapes(n: int, seed: int, size: int = 32,
           style: ShapesStyle = TURNED) -> tuple[Tensor, Tensor]:
    """``n`` images of the ``shapes`` dataset, (n, 3, size, size) uint8, and their labels."""
    g = torch.Generator().manual_seed(seed)

    def uniform(low: float, high: float, *shape: int) -> Tensor:
        return low + (high - low) * torch.rand(n, *shape, generator=g)

    labels = torch.randint(len(SHAPES) * len(TEXTURES), (n,), generator=g)
    kind, striped = labels % len(SHAPES), labels // len(SHAPES)
    s = float(size)
    lo, hi = style.center[0] * s, style.center[1] * s
    cx, cy = uniform(lo, hi, 1, 1), uniform(lo, hi, 1, 1)
    radius = uniform(style.radius[0] * s, style.radius[1] * s, 1, 1)
    theta = uniform(0, 2 * math.pi, 1, 1)
    coords = torch.arange(size, dtype=torch.float32) + 0.5
    px = coords.view(1, 1, -1).expand(n, size, size)  # pixel centres, x then y
    py = coords.view(1, -1, 1).expand(n, size, size)
    x, y = (px - cx) / radius, (py - cy) / radius
    u = x * torch.cos(theta) + y * torch.sin(theta)
    v = -x * torch.sin(theta) + y * torch.cos(theta)
    r = torch.sqrt(u * u + v * v)
    triangle = torch.ones_like(u, dtype=torch.bool)
    for k in range(3):
        a = 2 * math.pi * k / 3
        triangle &= (u * math.cos(a) + v * math.sin(a)) <= 0.5
    masks = torch.stack([
        r <= 1.0,
        torch.maximum(u.abs(), v.abs()) <= 0.8,
        triangle,
        (r >= 0.55) & (r <= 1.0),
        ((u.abs() <= 0.3) & (v.abs() <= 1.0)) | ((v.abs() <= 0.3) & (u.abs() <= 1.0)),
    ])
    mask = masks.gather(0, kind.view(1, n, 1, 1).expand(1, n, size, size)).squeeze(0)
    phase = uniform(0, 2 * math.pi, 1, 1)
    across = (u if style.turn_stripes else x) * radius  # pixels across the stripes
    stripes = torch.sin(2 * math.pi * across / 4.0 + phase) > 0  # period 4 pixels
    mask &= ~striped.bool().view(n, 1, 1) | stripes
    # Grey levels with a faint tint: the class lives in the shape and its texture, and what
    # varies between images (brightness, contrast, position, size, light, clutter) is what the
    # SimSiam augmentations vary or crop away. Fully random colours would be an invariant the
    # augmentations keep (hue jitter is only +-0.1): self-supervision would learn colour.
    level = uniform(0.15, 0.85, 1, 1, 1)
    flat = (level + uniform(-style.tint, style.tint, 3, 1, 1)).clamp(0, 1)
    background = flat.expand(n, 3, size, size)
    if style.ramp:
        angle = uniform(0, 2 * math.pi, 1, 1)
        ramp = ((px - s / 2) * torch.cos(angle) + (py - s / 2) * torch.sin(angle)) / s
        background = background + style.ramp * ramp.unsqueeze(1) * uniform(0.5, 1.0, 1, 1, 1)
    if style.clutter:
        field = torch.randn(n, 3, 4, 4, generator=g)
        background = background + style.clutter * torch.nn.functional.interpolate(
            field, size=(size, size), mode="bicubic", align_corners=False)
    sign = torch.where(level > 0.5, -1.0, 1.0)  # the shape is darker on a light background
    foreground = background + sign * uniform(*style.contrast, 1, 1, 1)
    image = torch.where(mask.unsqueeze(1), foreground.clamp(0, 1), background.clamp(0, 1))
    image = image + style.noise * torch.randn(n, 3, size, size, generator=g)
    return (image.clamp(0, 1) * 255).round().to(torch.uint8), labels


def _torchvision(name: str, data_dir: pathlib.Path, download: bool) -> ImageData:
    """CIFAR-10 or CIFAR-100 through torchvision, as uint8 (N, 3, 32, 32) tensors."""
    from torchvision import datasets

    cls, folder, archive, url = {
        "cifar10": (datasets.CIFAR10, "cifar-10-batches-py", "cifar-10-python.tar.gz",
                    "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"),
        "cifar100": (datasets.CIFAR100, "cifar-100-python", "cifar-100-python.tar.gz",
                     "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"),
    }[name]
    splits = []
    for train in (True, False):
        try:
            ds = cls(str(data_dir), train=train, download=False)
        except RuntimeError:
            if not download:
                raise DataError(f"{name} not found in {data_dir}: put {archive} (from {url}) or "
                                f"its extracted folder {folder}/ there, or drop --no-download"
                                ) from None
            try:
                ds = cls(str(data_dir), train=train, download=True)
            except Exception as error:  # noqa: BLE001 - any network/disk failure is one line
                reason = " ".join(str(error).split()) or type(error).__name__
                raise DataError(f"{name} not found in {data_dir} and the download failed "
                                f"({reason}): put {archive} (from {url}) or its extracted folder "
                                f"{folder}/ in {data_dir}") from None
        images = torch.from_numpy(ds.data).permute(0, 3, 1, 2).contiguous()
        splits += [images, torch.as_tensor(ds.targets, dtype=torch.int64)]
    return ImageData(name, *splits, num_classes=len(ds.classes))


def load(name: str, data_dir: str | pathlib.Path = "data", seed: int = 0,
         train_size: int | None = None, test_size: int | None = None,
         download: bool = True) -> ImageData:
    """The dataset ``name`` (one of :data:`DATASETS`), optionally cut to the first N images.

    The built-in ``shapes`` styles are generated with ``train_size`` (default 4096) and
    ``test_size`` (default 1024) images from ``seed`` (train) and ``seed + 1`` (test).
    """
    if name in SHAPES_STYLES:
        train = shapes(train_size or 4096, seed, style=SHAPES_STYLES[name])
        test = shapes(test_size or 1024, seed + 1, style=SHAPES_STYLES[name])
        return ImageData(name, *train, *test, num_classes=len(SHAPES) * len(TEXTURES))
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; valid: {', '.join(DATASETS)}")
    data = _torchvision(name, pathlib.Path(data_dir), download)
    if train_size is not None:
        data.train_images, data.train_labels = (data.train_images[:train_size],
                                                data.train_labels[:train_size])
    if test_size is not None:
        data.test_images, data.test_labels = (data.test_images[:test_size],
                                              data.test_labels[:test_size])
    return data
