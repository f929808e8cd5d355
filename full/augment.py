"""SimSiam's CIFAR augmentations, batch-wise on the device, on uint8-resident images.

The recipe (paper-notes §6; Chen & He 2021, appendix D): RandomResizedCrop(32, scale 0.2-1,
ratio 3/4-4/3), horizontal flip p 0.5, colour jitter (brightness 0.4, contrast 0.4, saturation
0.4, hue 0.1) with p 0.8, grayscale p 0.2, no blur; then CIFAR mean/std normalisation.

Every view of a step comes from one call on the stacked batch (:func:`views`), in a fixed,
short sequence of whole-batch tensor ops: no host sync, no data-dependent shapes, so a GPU
runs it as a few dozen kernels and ``torch.compile(fullgraph=True)`` takes it whole.

1. randomness: one ``torch.rand(n, RANDOM_COLUMNS)`` draws every number of every image
   (:data:`COLUMNS` names them); :func:`draw_params` turns them into per-image parameters;
2. crop boxes are drawn like ``RandomResizedCrop.get_params``: 10 tries of (area, log-ratio),
   the first that fits, integer sizes and offsets, the whole image as fallback;
3. crop + resize + flip (:func:`resized_crop`) is torchvision's bilinear resize of the box
   (``align_corners=False``, edge pixels repeated inside the box), done separably with index
   tensors: two source rows and two source columns per output pixel;
4. colour jitter (:func:`color_jitter`) keeps torchvision's random order *per image*. Brightness,
   contrast and saturation are each a blend ``f x + (1 - f) other`` (other: 0, the mean
   luminance, the luminance); an image whose op at a stage is another one, or that is not
   jittered, gets ``f = 1``, the identity. Hue is the one non-blend: it runs once on the whole
   batch, between three blend stages for the ops each image puts before its hue and three for
   the ops after;
5. grayscale with ITU-R 601 weights, as torchvision.

:func:`torchvision_transform` is the per-image ``torchvision.transforms.v2`` equivalent: the
``--loader torchvision`` baseline and the reference of the tests.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from full.data import CIFAR_MEAN, CIFAR_STD

GRAY = (0.2989, 0.587, 0.114)  # torchvision's rgb_to_grayscale weights
TRIES = 10  # RandomResizedCrop.get_params tries this many boxes before its fallback
BRIGHTNESS, CONTRAST, SATURATION, HUE = range(4)  # torchvision's ColorJitter op indices
# Columns of the uniform numbers of one image, in the order of the random tensor. "coins" are
# the flip, jitter and grayscale draws, side by side so one comparison decides all three.
COLUMNS = {"area": TRIES, "log_ratio": TRIES, "offset": 2, "coins": 3, "factors": 3, "hue": 1,
           "order": 4}
RANDOM_COLUMNS = sum(COLUMNS.values())


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


class Params(NamedTuple):
    """Per-image parameters of a batch of views (n images)."""

    boxes: Tensor    # (n, 4) float: top, left, height, width of the crop (integers)
    flip: Tensor     # (n, 1) bool: mirror horizontally
    jitter: Tensor   # (n, 1) bool: apply the colour jitter
    factors: Tensor  # (n, 3) brightness, contrast, saturation factors
    hue: Tensor      # (n, 1) hue shift in turns, in [-cfg.hue, cfg.hue]
    order: Tensor    # (n, 4) long: the jitter ops in the order applied (a permutation)
    gray: Tensor     # (n, 1) bool: convert to grayscale


def _constant(values: tuple[float, ...], shape: tuple[int, ...], like: Tensor,
              dtype: torch.dtype | None = None) -> Tensor:
    """``values`` as a tensor on ``like``'s device (of ``like``'s dtype unless given): made once
    per device in eager mode (a fresh host-to-device copy every step would make the host
    wait), inline when compiling."""
    dtype = dtype or like.dtype
    if torch.compiler.is_compiling():
        return torch.tensor(values, dtype=dtype, device=like.device).view(shape)
    return _cached(values, shape, dtype, like.device)


@functools.cache
def _cached(values: tuple[float, ...], shape: tuple[int, ...], dtype: torch.dtype,
            device: torch.device) -> Tensor:
    return torch.tensor(values, dtype=dtype).view(shape).to(device)


def random_numbers(n: int, g: torch.Generator, device: torch.device | str) -> Tensor:
    """Every uniform number of ``n`` views, (n, RANDOM_COLUMNS), in one draw from ``g``."""
    return torch.rand(n, RANDOM_COLUMNS, generator=g, device=device)


def crop_boxes(area_u: Tensor, ratio_u: Tensor, offset_u: Tensor, height: int, width: int,
               scale: tuple[float, float], ratio: tuple[float, float]) -> Tensor:
    """(n, 4) integer boxes ``(top, left, h, w)`` drawn as ``RandomResizedCrop.get_params``.

    ``area_u`` and ``ratio_u`` (n, TRIES) are the uniform numbers of the tries, ``offset_u``
    (n, 2) those of the box's position. The first try whose box fits is kept; if none fits, the
    central crop of the ratio-clamped aspect, which for a square image and a ratio range holding
    1 is the whole image.
    """
    area = area_u * (height * width * (scale[1] - scale[0])) + height * width * scale[0]
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    aspect = torch.exp(ratio_u * (log_hi - log_lo) + log_lo)
    hw = torch.stack([(area / aspect).sqrt_(), (area * aspect).sqrt_()], dim=1).round_()
    limit = _constant((height, width), (1, 2, 1), hw)
    ok = ((hw > 0) & (hw <= limit)).all(dim=1, keepdim=True)  # (n, 1, TRIES)
    first = ok.to(torch.uint8).argmax(dim=2, keepdim=True)  # the first try that fits (0 if none)
    hw = torch.where(ok.any(dim=2, keepdim=True), hw.take_along_dim(first, dim=2), limit)
    # A box of side s has size - s + 1 positions; the fallback's single one is the centre only
    # for the whole image, which is what it is here.
    top_left = offset_u.mul((limit + 1 - hw).view(-1, 2)).floor_()
    return torch.cat([top_left, hw.view(-1, 2)], dim=1)


def draw_params(u: Tensor, cfg: Augmentation, height: int, width: int) -> Params:
    """The per-image parameters encoded by the uniform numbers ``u`` (n, RANDOM_COLUMNS)."""
    area, log_ratio, offset, coins, factors, hue, order = u.split(list(COLUMNS.values()), 1)
    coins = coins < _constant((cfg.flip_p, cfg.jitter_p, cfg.gray_p), (1, 3), u)
    flip, jitter, gray = coins.split(1, dim=1)  # (n, 1) each
    strengths = (cfg.brightness, cfg.contrast, cfg.saturation)
    span = _constant(tuple(2 * v for v in strengths), (1, 3), u)  # factor: 1 - v + 2 v u
    low = _constant(tuple(1 - v for v in strengths), (1, 3), u)
    return Params(
        boxes=crop_boxes(area, log_ratio, offset, height, width, cfg.scale, cfg.ratio),
        flip=flip, jitter=jitter, gray=gray,
        factors=torch.addcmul(low, factors, span),
        hue=hue.mul(2 * cfg.hue).sub_(cfg.hue),
        order=order.argsort(dim=1),  # a uniform random permutation per image
    )


def resized_crop(x: Tensor, boxes: Tensor, flip: Tensor, size: int) -> Tensor:
    """Crop ``boxes`` (n, 4: top, left, h, w) of float images ``x`` (n, C, H, W), resize each
    to ``size`` x ``size`` bilinearly and mirror those where ``flip`` (n, 1).

    torchvision resizes the cropped box with ``interpolate(mode="bilinear",
    align_corners=False)``: output index o reads the box at ``(o + 0.5) h / size - 0.5``,
    clamped to the box, [0, h - 1], so that the edge pixels repeat. We compute those coordinates
    and let one ``grid_sample`` read every view at once; a mirrored view reads the x coordinates
    in reverse. The coordinates pass through grid_sample's [-1, 1] scale, which costs about
    1e-5 of a pixel in position, hence up to 1e-5 in value.
    """
    n, _, height, width = x.shape
    start, length = boxes.view(n, 2, 2, 1).unbind(1)  # (n, 2 axes: y, x, 1)
    half = tuple(k + 0.5 for k in range(size))
    centres = torch.where(flip.view(n, 1, 1), _constant(half + half[::-1], (1, 2, size), x),
                          _constant(half + half, (1, 2, size), x))
    src = (length / size * centres).sub_(0.5).clamp_(min=0)  # (n, 2, size), in the box
    src = torch.minimum(src, length - 1).add_(start)  # in the image
    # grid_sample (align_corners=False) reads pixel coordinate p at (2 p + 1) / side - 1.
    grid = src.mul_(2).add_(1).div_(_constant((height, width), (1, 2, 1), x)).sub_(1)
    gy, gx = grid.unbind(1)
    grid = torch.stack([gx.view(n, 1, size).expand(n, size, size),
                        gy.view(n, size, 1).expand(n, size, size)], dim=3)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def grayscale(x: Tensor) -> Tensor:
    """(B, 1, H, W) luminance of RGB images in [0, 1] (ITU-R 601, as torchvision)."""
    return (x * _constant(GRAY, (1, 3, 1, 1), x)).sum(dim=1, keepdim=True)


def hue_shift(x: Tensor, shift: Tensor) -> Tensor:
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
    offset = torch.add(_constant((5.0, 3.0, 1.0), (1, 3, 1, 1), x), shift.view(-1, 1, 1, 1),
                       alpha=6)  # (B, 3, 1, 1): the channel's n + 6 x shift
    k = torch.remainder(hue6.add_(first, alpha=2) + offset, 6)
    return maxc - chroma * torch.minimum(k, 4 - k).clamp_(0, 1)


def blend(x: Tensor, factor: Tensor, saturation: Tensor, contrast: Tensor) -> Tensor:
    """One blend stage ``clamp(f x + (1 - f) other, 0, 1)`` per image, arguments (B, 1, 1, 1):
    other is the luminance times ``saturation`` plus its mean times ``contrast`` (each 0 or 1,
    both 0 for brightness). ``factor`` 1 is the identity."""
    gray = grayscale(x)
    other = torch.addcmul(gray.mean(dim=(1, 2, 3), keepdim=True) * contrast, gray, saturation)
    return torch.lerp(other, x, factor).clamp_(0, 1)


def color_jitter(x: Tensor, p: Params) -> Tensor:
    """torchvision's ColorJitter (ops in ``p.order``) on the images where ``p.jitter``."""
    n = x.shape[0]
    # Six blend stages: order positions 0-2 for the ops an image puts before its hue, 1-3 for
    # those after. An op is applied at a stage of the first three while the hue is not yet
    # seen, at one of the last three once it is; elsewhere its index becomes 4, the identity.
    stage = _constant((0, 1, 2, 1, 2, 3), (6,), x, torch.long)
    after = _constant((0, 0, 0, 1, 1, 1), (1, 6), x, torch.long)
    seen = (p.order == HUE).cumsum(dim=1).index_select(1, stage)  # (n, 6): 1 once hue is done
    op = torch.where((seen == after) & p.jitter, p.order.index_select(1, stage), 4)
    factor = F.pad(p.factors, (0, 2), value=1.0).gather(1, op)  # hue and identity: 1
    # The three arguments of the six stages, one (n, 1, 1, 1) slice each.
    args = torch.stack([factor, op == SATURATION, op == CONTRAST]).transpose(1, 2)
    args = args.reshape(18, n, 1, 1, 1).unbind(0)
    for s in range(6):
        if s == 3:
            x = torch.where(p.jitter.view(-1, 1, 1, 1), hue_shift(x, p.hue), x)
        x = blend(x, args[s], args[6 + s], args[12 + s])
    return x


def apply(images: Tensor, p: Params, cfg: Augmentation) -> Tensor:
    """The views of uint8 images (n, 3, H, W) under parameters ``p``: floats in [0, 1]."""
    x = images.float().div_(255)
    x = resized_crop(x, p.boxes, p.flip, cfg.size)
    x = color_jitter(x, p)
    return torch.where(p.gray.view(-1, 1, 1, 1), grayscale(x), x)


def augment(images: Tensor, cfg: Augmentation, g: torch.Generator) -> Tensor:
    """One random view of each uint8 image (B, 3, H, W) as floats in [0, 1] (B, 3, S, S).

    ``g`` must live on the images' device; every random draw of the batch comes from it.
    """
    n, _, height, width = images.shape
    u = random_numbers(n, g, images.device)
    return apply(images, draw_params(u, cfg, height, width), cfg)


def normalize(x: Tensor) -> Tensor:
    """CIFAR mean/std normalisation of images in [0, 1] (B, 3, H, W)."""
    mean = _constant(CIFAR_MEAN, (1, 3, 1, 1), x)
    std = _constant(CIFAR_STD, (1, 3, 1, 1), x)
    return (x - mean).div_(std)


def views(images: Tensor, u: Tensor, cfg: Augmentation, count: int) -> tuple[Tensor, ...]:
    """``count`` normalised views of a uint8 batch (B, 3, H, W), channels_last, from the uniform
    numbers ``u`` (count B, RANDOM_COLUMNS): one pass over the stacked count x B batch.

    A pure function of its inputs: ``torch.compile(views, fullgraph=True)`` traces it whole.
    """
    _, _, height, width = images.shape
    stacked = images.repeat(count, 1, 1, 1)
    x = normalize(apply(stacked, draw_params(u, cfg, height, width), cfg))
    return x.contiguous(memory_format=torch.channels_last).chunk(count)


@functools.cache
def compiled_views():  # noqa: ANN201 - a compiled version of views
    """:func:`views` through ``torch.compile(fullgraph=True)``, compiled on first use."""
    return torch.compile(views, fullgraph=True, dynamic=False)


def two_views(images: Tensor, cfg: Augmentation, g: torch.Generator, count: int = 2,
              compiled: bool = False) -> list[Tensor]:
    """``count`` normalised views of a uint8 batch, in channels_last memory format.

    Every number comes from one draw of ``g`` (on the images' device); ``compiled`` runs
    :func:`views` through ``torch.compile`` (the same views, up to float rounding).
    """
    u = random_numbers(count * images.shape[0], g, images.device)
    return list((compiled_views() if compiled else views)(images, u, cfg, count))


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
