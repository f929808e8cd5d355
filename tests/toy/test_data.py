"""Tests for toy.data: shapes, seeding, and the augmentation's stated noise."""

import pytest
import torch

from toy.data import DATASETS, Augmentation, augment, make_dataset

SIZES = {"nuisance-clusters": (16, 16), "clusters": (8, 8), "rings": (8, 3), "isotropic": (16, 4)}


@pytest.mark.parametrize("name", DATASETS)
def test_dataset_shapes_and_labels(name):
    features, classes = SIZES[name]
    data = make_dataset(name, seed=0, train_size=300, test_size=100)
    assert data.train.shape == (300, features)
    assert data.test.shape == (100, features)
    assert data.train_labels.shape == (300,)
    assert data.test_labels.shape == (100,)
    assert data.num_classes == classes
    assert len(data.augmentation.noise) == features
    for labels in (data.train_labels, data.test_labels):
        assert not labels.is_floating_point()
        assert int(labels.min()) >= 0
        assert int(labels.max()) < classes
    assert bool(torch.isfinite(data.train).all())


@pytest.mark.parametrize("name", DATASETS)
def test_same_seed_same_data_other_seed_other_data(name):
    a, b = make_dataset(name, 3, 200, 50), make_dataset(name, 3, 200, 50)
    c = make_dataset(name, 4, 200, 50)
    assert torch.equal(a.train, b.train)
    assert torch.equal(a.test, b.test)
    assert torch.equal(a.train_labels, b.train_labels)
    assert not torch.equal(a.train, c.train)
    assert not torch.equal(a.test, c.test)


def test_augment_is_reproducible_with_a_seeded_generator():
    data = make_dataset("nuisance-clusters", 0, 64, 8)
    one = augment(data.train, data.augmentation, torch.Generator().manual_seed(5))
    two = augment(data.train, data.augmentation, torch.Generator().manual_seed(5))
    other = augment(data.train, data.augmentation, torch.Generator().manual_seed(6))
    assert torch.equal(one, two)
    assert not torch.equal(one, other)
    assert one.shape == data.train.shape


UNMASKED = [n for n in DATASETS if make_dataset(n, 0, 2, 2).augmentation.mask == 0]


@pytest.mark.parametrize("name", UNMASKED)
def test_augment_noise_has_the_stated_scale_per_dim(name):
    data = make_dataset(name, 0, 4000, 2)
    view = augment(data.train, data.augmentation, torch.Generator().manual_seed(0))
    measured = (view - data.train).std(dim=0)
    stated = torch.tensor(data.augmentation.noise)
    assert torch.allclose(measured, stated, rtol=0.1)


def test_every_dataset_but_isotropic_is_unmasked():
    assert set(DATASETS) - set(UNMASKED) == {"isotropic"}


def test_augment_mask_zeroes_the_stated_fraction():
    data = make_dataset("isotropic", 0, 4000, 2)
    assert data.augmentation.mask == pytest.approx(0.1)
    view = augment(data.train, data.augmentation, torch.Generator().manual_seed(0))
    zeroed = (view == 0).float().mean().item()
    assert zeroed == pytest.approx(0.1, abs=0.01)


def test_scaled_augmentation_scales_noise_and_caps_mask():
    aug = Augmentation((0.5, 2.0), mask=0.4)
    assert aug.scaled(2.0) == Augmentation((1.0, 4.0), mask=0.8)
    assert aug.scaled(10.0).mask == 0.9


def test_nuisance_augmentation_is_heavier_on_the_nuisance_dims():
    data = make_dataset("nuisance-clusters", 0, 4000, 2)
    noise = torch.tensor(data.augmentation.noise)
    signal, nuisance = noise[:8], noise[8:]
    assert float(nuisance.min()) > 5 * float(signal.max())
    view = augment(data.train, data.augmentation, torch.Generator().manual_seed(1))
    shift = (view - data.train).std(dim=0)
    assert float(shift[8:].min()) > 5 * float(shift[:8].max())


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="moons") as error:
        make_dataset("moons", 0)
    for name in DATASETS:
        assert name in str(error.value)
