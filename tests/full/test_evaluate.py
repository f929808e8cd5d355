"""Tests for full.evaluate: the untrained baseline's batch-norm statistics."""

from __future__ import annotations

import torch

from collapse.recipe import preset
from collapse.siamese import Siamese
from full import evaluate
from full.augment import SIMSIAM_CIFAR
from full.data import shapes
from full.encoder import Encoder


def untrained(seed: int = 0) -> Siamese:
    torch.manual_seed(seed)
    return Siamese(Encoder(4, 32, 32), 32, preset("simsiam"), 8)


def test_batch_statistics_are_estimated_on_a_copy(one_thread):
    model = untrained()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images, _ = shapes(96, seed=0)
    calibrated = evaluate.with_batch_statistics(model, images, SIMSIAM_CIFAR, seed=1, batch=32)
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # the training model is intact
    assert model.training
    assert not calibrated.training
    bn = calibrated.encoder.projector[-1]
    assert int(bn.num_batches_tracked) == 3  # 96 images in batches of 32, a cumulative average
    assert not torch.allclose(bn.running_var, torch.ones_like(bn.running_var))


def test_an_untrained_network_looks_collapsed_only_without_its_batch_statistics(one_thread):
    # The reason for the copy: with the initial running statistics (mean 0, var 1) the eval-mode
    # outputs of a random network share one direction; with estimated ones they do not.
    model = untrained()
    images, _ = shapes(256, seed=0)
    raw = evaluate.probe_batch(model, images, SIMSIAM_CIFAR, seed=2)
    calibrated = evaluate.with_batch_statistics(model, images, SIMSIAM_CIFAR, seed=1, batch=128)
    fair = evaluate.probe_batch(calibrated, images, SIMSIAM_CIFAR, seed=2)
    assert raw["center_norm"] > 0.9
    assert fair["center_norm"] < 0.5
    assert fair["state"] != "collapsed"
