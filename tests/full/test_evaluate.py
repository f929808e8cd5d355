"""Tests for full.evaluate: the untrained baseline's batch-norm statistics."""

from __future__ import annotations

import torch

from collapse.criterion import collapse_state
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
    for row in (raw, fair):  # P is judged by the same criterion as Z (claims 3 and 10)
        assert row["p_state"] == collapse_state(row["p_std_scaled"], row["p_effective_rank"], 32)


def test_raw_pixel_baseline_reads_what_the_pixels_hold(one_thread):
    # Class c is a bright column c on a noisy grey image: the pixels alone separate the
    # classes, so both the kNN and the linear probe on raw pixels are near perfect; with labels
    # unrelated to the images they fall to chance.
    g = torch.Generator().manual_seed(0)

    def images(labels: torch.Tensor) -> torch.Tensor:
        x = 100 + 30 * torch.randn(labels.shape[0], 3, 8, 8, generator=g)
        x[torch.arange(labels.shape[0]), :, :, labels] = 250.0
        return x.clamp(0, 255).to(torch.uint8)

    train_y, test_y = torch.randint(5, (400,), generator=g), torch.randint(5, (200,), generator=g)
    train_x, test_x = images(train_y), images(test_y)
    features = evaluate.raw_pixels(test_x)
    assert features.shape == (200, 3 * 8 * 8)
    assert torch.allclose(features[:, :64].mean(1), (test_x[:, 0].float().flatten(1).mean(1)
                                                     / 255 - 0.4914) / 0.2470, atol=1e-5)
    held = evaluate.raw_pixel_baseline(train_x, train_y, test_x, test_y, 5, k=20,
                                       probe_epochs=30)
    assert held["knn_acc"] > 0.95
    assert held["linear_acc"] > 0.9
    shuffled = train_y[torch.randperm(400, generator=g)]
    chance = evaluate.raw_pixel_baseline(train_x, shuffled, test_x, test_y, 5, k=20,
                                         probe_epochs=30)
    assert chance["knn_acc"] < 0.4
    assert chance["linear_acc"] < 0.4
