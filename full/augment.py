"""SimSiam's CIFAR augmentations, batch-wise on the device, on uint8-resident images.

The recipe (paper-notes §6; Chen & He 2021, appendix D): RandomResizedCrop(32, scale 0.2-1,
ratio 3/4-4/3), horizontal flip p 0.5, colour jitter (brightness 0.4, contrast 0.4, saturation
0.4, hue 0.1) with p 0.8, grayscale p 0.2, no blur; then CIFAR mean/std normalisation.

:func:`augment` draws every random parameter for the whole batch at once and applies it with a
handful of tensor ops, so a GPU augments 512 images in a few kernels and no host sync:

1. crop + resize + flip are one affine map per image, sampled with ``F.affine_grid`` and
   ``F.grid_sample`` (bilinear, like torchvision's resize of the crop; the only difference is at
   the crop's border, where we may blend in the pixel just outside the box, < 1 pixel);
2. crop boxes are drawn like ``RandomResizedCrop.get_params``: 10 tries of (area, log-ratio),
   the first that fits, integer sizes and offsets, the whole image as fallback;
3. colour jitter applies its four operations in a random order *per image* (as torchvision
   does per call): at each of the four stages every image applies the operation its permutation
   names there; the others get the identity factor;
4. grayscale with ITU-R 601 weights, as torchvision.

:func:`torchvision_transform` is the per-image ``torchvision.transforms.v2`` equivalent: the
``--loader torchvision`` baseline and the reference of the statistical tests.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from full.data import CIFAR_MEAN, CIFAR_STD

GRAY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights


@dataclass(frozen=True)
class Augmentation:
    """The parameters of the SimSiam CIFAR augmentation (defaults: paper-notes §6)."""

    size: int = 32
    scale: tuple[float, float] = (0.2, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    flip_p: float = 0.5
    brightness: float = 0.4
    contrast: float = 0.4
    saturation: float = 0.4
    hue: float = 0.1
    jitter_p: float = 0.8
    gray_p: float = 0.2


SIMSIAM_CIFAR = Augmentation()


def _rand(g: torch.Generator, *shape: int, device: torch.device) -> Tensor:
    return torch.rand(*shape, generator=g, device=device)


def crop_boxes(n: int, height: int, width: int, scale: tuple[float, float],
               ratio: tuple[float, float], g: torch.Generator,
               device: torch.device | str = "cpu") -> Tensor:
    """(n, 4) integer boxes ``(i, j, h, w)`` drawn as ``RandomResizedCrop.get_params``."""
    device = torch.device(device)
    tries = 10
    area = height * width * (scale[0] + (scale[1] - scale[0]) * _rand(g, n, tries, device=device))
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(log_lo + (log_hi - log_lo) * _rand(g, n, tries, device=device))
    w = torch.sqrt(area * aspect).round()
    h = torch.sqrt(area / aspect).round()
    ok = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = ok.to(torch.int8).argmax(dim=1, keepdim=True)  # index of the first try that fits
    w, h, found = w.gather(1, first)[:, 0], h.gather(1, first)[:, 0], ok.any(dim=1)
    # Fallback (no try fits): torchvision's central crop; for a ratio inside the range it is the
    # whole image (all images here are square).
    w = torch.where(found, w, torch.full_like(w, width))
    h = torch.where(found, h, torch.full_like(h, height))
    u = _rand(g, n, 2, device=device)
    i = torch.where(found, torch.floor(u[:, 0] * (height - h + 1)), (height - h) // 2)
    j = torch.where(found, torch.floor(u[:, 1] * (width - w + 1)), (width - w) // 2)
    return torch.stack([i, j, h, w], dim=1)


def _resized_crop(x: Tensor, boxes: Tensor, flip: Tensor, size: int) -> Tensor:
    """Crop ``boxes`` of float images ``x`` (B, C, H, W), resize to ``size``, mirror ``flip``."""
    b, _, height, width = x.shape
    i, j, h, w = boxes.to(x.dtype).unbind(1)
    sx = torch.where(flip, -w / width, w / width)
    theta = torch.zeros(b, 2, 3, dtype=x.dtype, device=x.device)
    theta[:, 0, 0] = sx
    theta[:, 0, 2] = (2 * j + w) / width - 1
    theta[:, 1, 1] = h / height
    theta[:, 1, 2] = (2 * i + h) / height - 1
    grid = F.affine_grid(theta, [b, x.shape[1], size, size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grayscale(x: Tensor) -> Tensor:
    """(B, 1, H, W) luminance of RGB images in [0, 1]."""
    r, g, b = x.unbind(1)
    return (GRAY[0] * r + GRAY[1] * g + GRAY[2] * b).unsqueeze(1)


def _hue_shift(x: Tensor, shift: Tensor) -> Tensor:
    """Rotate the hue of RGB images by ``shift`` (B,) turns, through HSV as torchvision.

    Value v = max and chroma c = max - min stay; 6 x hue is 2i + (next - previous) / c for the
    first channel i holding the max (r, then g, then b, as torchvision's tie order), with
    next/previous the channels after it, cyclically. Back to RGB, channel n of (5, 3, 1) is
    ``v - c clamp(min(k, 4 - k), 0, 1)`` with ``k = (n + 6 hue) mod 6``.
    """
    maxc, first = x.max(dim=1, keepdim=True)  # ties: the first channel, as torchvision
    chroma = maxc - x.amin(dim=1, keepdim=True)
    following = x.roll(-1, 1) - x.roll(-2, 1)  # (g - b, b - r, r - g)
    hue6 = following.gather(1, first).div_(torch.where(chroma == 0, 1.0, chroma))
    hue6.add_(2 * first).add_(6 * shift.view(-1, 1, 1, 1))
    n = torch.arange(5, 0, -2, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)  # (5, 3, 1)
    k = torch.remainder(hue6 + n, 6)
    return maxc - chroma * torch.minimum(k, 4 - k).clamp_(0, 1)


def _masked(x: Tensor, mask: Tensor, fn) -> Tensor:  # noqa: ANN001
    """``fn`` applied to the images where ``mask`` is True (``fn`` maps a batch to a batch).

    On an accelerator every image goes through ``fn`` and ``torch.where`` keeps the selected
    ones (no host sync); on the CPU only the selected images are computed (a sync is free there,
    and it saves 3/4 of the colour-jitter arithmetic) and written back *into* ``x``.
    """
    if x.device.type != "cpu":
        return torch.where(mask.view(-1, 1, 1, 1), fn(x, mask), x)
    index = mask.nonzero()[:, 0]
    if index.numel():
        x[index] = fn(x[index], index)
    return x


def _blend(x: Tensor, other: Tensor, factor: Tensor) -> Tensor:
    return (factor.view(-1, 1, 1, 1) * x + (1 - factor.view(-1, 1, 1, 1)) * other).clamp(0, 1)


def color_jitter(x: Tensor, cfg: Augmentation, g: torch.Generator) -> Tensor:
    """torchvision's ColorJitter, applied to each image with probability ``cfg.jitter_p``."""
    n, device = x.shape[0], x.device

    def factor(strength: float) -> Tensor:
        return 1 - strength + 2 * strength * _rand(g, n, device=device)

    apply = _rand(g, n, device=device) < cfg.jitter_p
    brightness, contrast, saturation = (factor(cfg.brightness), factor(cfg.contrast),
                                        factor(cfg.saturation))
    shift = cfg.hue * (2 * _rand(g, n, device=device) - 1)
    order = _rand(g, n, 4, device=device).argsort(dim=1)  # one random permutation per image
    x = x.clone()  # _masked writes into it on the CPU

    def pick(values: Tensor, sel: Tensor) -> Tensor:  # per-image values of the selection
        return values if sel.dtype == torch.bool else values[sel]

    ops = (
        lambda y, sel: _blend(y, torch.zeros_like(y), pick(brightness, sel)),
        lambda y, sel: _blend(y, grayscale(y).mean(dim=(1, 2, 3), keepdim=True),
                              pick(contrast, sel)),
        lambda y, sel: _blend(y, grayscale(y), pick(saturation, sel)),
        lambda y, sel: _hue_shift(y, pick(shift, sel)),
    )
    for stage in range(4):
        for k, op in enumerate(ops):
            x = _masked(x, apply & (order[:, stage] == k), op)
    return x


def augment(images: Tensor, cfg: Augmentation, g: torch.Generator) -> Tensor:
    """One random view of each uint8 image (B, 3, H, W) as floats in [0, 1] (B, 3, S, S).

    ``g`` must live on the images' device; every random draw of the batch comes from it.
    """
    n, _, height, width = images.shape
    device = images.device
    x = images.float().div_(255)
    boxes = crop_boxes(n, height, width, cfg.scale, cfg.ratio, g, device)
    flip = _rand(g, n, device=device) < cfg.flip_p
    x = _resized_crop(x, boxes, flip, cfg.size)
    x = color_jitter(x, cfg, g)
    gray = (_rand(g, n, device=device) < cfg.gray_p).view(-1, 1, 1, 1)
    return torch.where(gray, grayscale(x).expand_as(x), x)


@functools.cache
def _channel_constants(dtype: torch.dtype, device: torch.device) -> tuple[Tensor, Tensor]:
    """CIFAR mean and std as (1, 3, 1, 1) tensors, copied to ``device`` once: a host-to-device
    copy of a fresh tensor at every step would make the host wait for the GPU."""
    mean = torch.tensor(CIFAR_MEAN, dtype=dtype).view(1, 3, 1, 1).to(device)
    std = torch.tensor(CIFAR_STD, dtype=dtype).view(1, 3, 1, 1).to(device)
    return mean, std


def normalize(x: Tensor) -> Tensor:
    """CIFAR mean/std normalisation of images in [0, 1] (B, 3, H, W)."""
    mean, std = _channel_constants(x.dtype, x.device)
    return (x - mean).div_(std)


def two_views(images: Tensor, cfg: Augmentation, g: torch.Generator,
              count: int = 2) -> list[Tensor]:
    """``count`` normalised views of a uint8 batch, in channels_last memory format."""
    return [normalize(augment(images, cfg, g)).contiguous(memory_format=torch.channels_last)
            for _ in range(count)]


def torchvision_transform(cfg: Augmentation = SIMSIAM_CIFAR, normalized: bool = True):  # noqa: ANN201
    """The same augmentation as a per-image ``torchvision.transforms.v2`` pipeline."""
    from torchvision.transforms import v2

    steps = [
        v2.RandomResizedCrop(cfg.size, scale=cfg.scale, ratio=cfg.ratio, antialias=True),
        v2.RandomHorizontalFlip(cfg.flip_p),
        v2.RandomApply([v2.ColorJitter(cfg.brightness, cfg.contrast, cfg.saturation, cfg.hue)],
                       p=cfg.jitter_p),
        v2.RandomGrayscale(cfg.gray_p),
        v2.ToDtype(torch.float32, scale=True),
    ]
    if normalized:
        steps.append(v2.Normalize(CIFAR_MEAN, CIFAR_STD))
    return v2.Compose(steps)


class TorchvisionViews(torch.utils.data.Dataset):
    """Per-image baseline: ``count`` torchvision-augmented views of uint8 image ``index``."""

    def __init__(self, images: Tensor, labels: Tensor, cfg: Augmentation = SIMSIAM_CIFAR,
                 count: int = 2) -> None:
        self.images, self.labels, self.count = images, labels, count
        self.transform = torchvision_transform(cfg)

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        image = self.images[index]
        return (*(self.transform(image) for _ in range(self.count)), self.labels[index])
