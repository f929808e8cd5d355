"""Tests for full.resnet: the layout a ResNet-18 runs in on each device, and that a narrow net
trains on the CPU from channels_last views (oneDNN's channels-last convolutions corrupted the
heap for widths 1-7 on an AVX2-only CPU)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from full.resnet import ResNet18, memory_format


@pytest.mark.parametrize(("device", "width", "layout"), [
    ("cpu", 2, torch.contiguous_format), ("cpu", 7, torch.contiguous_format),
    ("cpu", 8, torch.channels_last), ("cpu", 64, torch.channels_last),
    ("cuda", 2, torch.channels_last), ("cuda", 64, torch.channels_last)])
def test_the_layout_is_channels_last_where_it_is_safe(device, width, layout):
    assert memory_format(device, width) is layout


def test_a_narrow_net_on_the_cpu_convolves_nchw_even_from_channels_last_views():
    """A convolution follows its input's layout, and full.augment's views are channels_last:
    the net itself must take them back to NCHW."""
    net = ResNet18(2)
    seen = []
    net.stem[0].register_forward_pre_hook(
        lambda module, args: seen.append(args[0].is_contiguous()))
    x = torch.randn(2, 3, 8, 8).contiguous(memory_format=torch.channels_last)
    net(x)
    assert seen == [True]


def test_a_wide_net_keeps_channels_last():
    net = ResNet18(8).to(memory_format=memory_format("cpu", 8))
    seen = []
    net.stem[0].register_forward_pre_hook(
        lambda module, args: seen.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    net(torch.randn(2, 3, 8, 8).contiguous(memory_format=torch.channels_last))
    assert seen == [True]


STEPS = """
import torch
from full.resnet import ResNet18, memory_format
torch.set_num_threads({threads})
for width in (2, 4, 6):
    net = ResNet18(width).to(memory_format=memory_format("cpu", width))
    for _ in range(3):
        x = torch.randn(16, 3, 32, 32).contiguous(memory_format=torch.channels_last)
        net(x).sum().backward()
print("trained")
"""


@pytest.mark.parametrize("threads", [1, 2])
def test_narrow_nets_train_on_the_cpu_in_their_own_process(threads):
    """In a process of its own, so that a heap corruption fails this test, not the whole run
    (before the fix: "double free or corruption" or a hang, on an AVX2-only CPU)."""
    done = subprocess.run([sys.executable, "-c", STEPS.format(threads=threads)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained" in done.stdout
