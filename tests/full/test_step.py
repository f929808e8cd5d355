"""The training step is ready for a GPU (issue 11 §4): few dispatches, whole graphs for
torch.compile, one optimiser kernel. Measured on the CPU; the CUDA-only checks run on a GPU
machine (``benchmarks/gpu_check.sh``).

Dispatches are the aten operators called from Python (:func:`full.bench.dispatches`); on a GPU
each launches at least one kernel, so their count bounds how fast a small step can go.
"""

from __future__ import annotations

import pytest
import torch

from collapse.recipe import preset
from collapse.siamese import Siamese
from full import trainer
from full.augment import RANDOM_COLUMNS, SIMSIAM_CIFAR, two_views, views
from full.bench import dispatches
from full.data import shapes
from full.encoder import Encoder
from full.train import parse
from tests.full.conftest import TINY

AUGMENTATION_BUDGET = 150  # dispatches for both views of a batch (issue 11 §4)
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def tiny_run(out, *extra: str, cuda: bool = False) -> trainer.Trainer:
    return trainer.Trainer(parse(["--dataset", "shapes", "--train-size", "16", "--test-size",
                                  "16", "--out", str(out), *TINY, *extra], cuda=cuda))


def test_augmentation_dispatches_are_few_and_do_not_grow_with_the_batch():
    g = torch.Generator().manual_seed(0)
    counts = {}
    for n in (4, 64):
        images, _ = shapes(n, seed=0)
        two_views(images, SIMSIAM_CIFAR, g)  # the first call also makes the constants
        counts[n] = dispatches(lambda images=images: two_views(images, SIMSIAM_CIFAR, g))
    assert counts[4] == counts[64]  # no per-image or data-dependent work
    assert counts[64] <= AUGMENTATION_BUDGET


def test_augmentation_compiles_as_one_graph(one_thread):
    # fullgraph=True raises at the first graph break; aot_eager traces what inductor would get
    # (autograd's functional graph) without generating code, so the test stays fast.
    images, _ = shapes(4, seed=0)
    u = torch.rand(8, RANDOM_COLUMNS, generator=torch.Generator().manual_seed(1))
    compiled = torch.compile(views, fullgraph=True, backend="aot_eager", dynamic=False)
    for ours, eager in zip(compiled(images, u, SIMSIAM_CIFAR, 2),
                           views(images, u, SIMSIAM_CIFAR, 2), strict=True):
        assert ours.is_contiguous(memory_format=torch.channels_last)
        assert torch.allclose(ours, eager, atol=1e-5)


def test_model_has_no_graph_break(one_thread):
    model = Siamese(Encoder(2, 16, 16), 16, preset("simsiam"), 8)
    x = torch.randn(4, 3, 32, 32)
    explained = torch._dynamo.explain(model)(x, x)
    assert explained.graph_break_count == 0, explained.break_reasons
    assert explained.graph_count == 1


def test_sgd_step_is_a_few_multi_tensor_ops_on_the_cpu(tmp_path):
    run = tiny_run(tmp_path / "run")
    try:
        views_ = next(run._batches())[1]
        run.train_step(views_)  # momentum buffers exist from here on
        tensors = len(list(run.model.parameters()))
        loss, _, _ = run.net(views_[0], views_[1])
        loss.backward()
        count = dispatches(run.optimizer.step)
    finally:
        run.close()
    assert tensors > 60
    assert count < 30  # a per-parameter loop makes >= 2 per tensor


@needs_cuda
def test_sgd_is_fused_on_cuda(tmp_path):
    run = tiny_run(tmp_path / "run", "--device", "cuda", cuda=True)
    try:
        assert run.optimizer.defaults["fused"] is True
    finally:
        run.close()


@needs_cuda
def test_augmentation_is_the_same_on_cpu_and_cuda():
    images, _ = shapes(256, seed=0)
    u = torch.rand(512, RANDOM_COLUMNS, generator=torch.Generator().manual_seed(2))
    on_cpu = views(images, u, SIMSIAM_CIFAR, 2)
    on_cuda = views(images.cuda(), u.cuda(), SIMSIAM_CIFAR, 2)
    for a, b in zip(on_cpu, on_cuda, strict=True):
        assert (a - b.cpu()).abs().max() < 1e-4  # normalised units: 2.5e-5 of a pixel value
