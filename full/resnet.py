"""ResNet-18 with the CIFAR stem: the backbone of the SimSiam CIFAR recipe (paper-notes §6).

He et al., "Deep Residual Learning for Image Recognition" (CVPR 2016), with the change every
CIFAR reproduction makes: a 3x3 stride-1 stem convolution and no max-pool (the ImageNet stem,
7x7 stride 2 + max-pool, throws away most of a 32x32 image and costs about 10 points).
``width`` is the channel count of the first stage (64 in the paper); a CPU run uses 8-16. The
output is the global-average-pooled feature of size ``8 * width`` (512 for width 64).

Channels-last friendly: only convolutions, batch norm, ReLU, additions and an adaptive pool,
so ``model.to(memory_format=memory_format(device, width))`` keeps every activation in NHWC where
that is safe (:func:`memory_format`).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

# Narrower nets run in NCHW on the CPU: oneDNN's channels-last convolutions corrupted the heap
# ("double free or corruption", "corrupted size vs. prev_size") or hung for ResNet-18 widths 1-7
# on an AVX2-only CPU (AMD EPYC, torch 2.14.1, 1 and 2 threads); widths 8-32 ran, and every
# width ran in NCHW (BENCHMARKS.md, "channels_last on an AVX2 CPU").
CPU_CHANNELS_LAST_MIN_WIDTH = 8


def memory_format(device: torch.device | str, width: int) -> torch.memory_format:
    """The activations' layout for a ResNet-18 of ``width`` on ``device``: channels_last on CUDA
    (tensor cores read NHWC) and on the CPU from width 8; NCHW for narrower nets on the CPU."""
    if torch.device(device).type == "cpu" and width < CPU_CHANNELS_LAST_MIN_WIDTH:
        return torch.contiguous_format
    return torch.channels_last


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with an identity (or 1x1 conv-BN) shortcut."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = nn.Sequential()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(y)) + self.shortcut(x))


class ResNet18(nn.Module):
    """CIFAR ResNet-18: stem 3x3/1, stages of 2 blocks at widths w, 2w, 4w, 8w, global pool."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width={width!r} must be >= 1")
        self.width = width
        self.feature_dim = 8 * width
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(width), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        c_in = width
        for stage, c_out in enumerate((width, 2 * width, 4 * width, 8 * width)):
            stride = 1 if stage == 0 else 2
            layers += [BasicBlock(c_in, c_out, stride), BasicBlock(c_out, c_out, 1)]
            c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) images -> (B, 8 * width) features. Images in channels_last are taken
        back to NCHW where :func:`memory_format` says so: a convolution follows its input's
        layout, and the views are made in channels_last (:mod:`full.augment`)."""
        if memory_format(x.device, self.width) is torch.contiguous_format:
            x = x.contiguous()
        return self.pool(self.layers(self.stem(x))).flatten(1)
