"""Tests for toy.train: stacked seeds equal single runs, records, curves and the config checks."""

import math

import pytest
import torch

from collapse.recipe import preset
from toy.train import Simulation, ToyConfig

SMALL = ToyConfig(dim=4, hidden=16, batch=32, train_size=128, test_size=64)
Z_KEYS = ("z_std_scaled", "z_center_norm", "z_residual_norm", "z_effective_rank")
P_KEYS = tuple("p" + key[1:] for key in Z_KEYS)


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_stacked_member_equals_its_seed_alone():
    config = ToyConfig()  # the real working setup
    stacked = Simulation(preset("simsiam"), config, seeds=(0, 1))
    stacked.step(20)
    z_stacked, p_stacked = stacked.representations()
    assert z_stacked.shape == (2, config.test_size, config.dim)
    for i in (0, 1):
        alone = Simulation(preset("simsiam"), config, seeds=(i,))
        alone.step(20)
        z_alone, p_alone = alone.representations()
        torch.testing.assert_close(z_stacked[i], z_alone[0], atol=1e-5, rtol=0)
        torch.testing.assert_close(p_stacked[i], p_alone[0], atol=1e-5, rtol=0)
    assert not torch.allclose(z_stacked[0], z_stacked[1])


def test_record_rows_z_and_p_metrics_and_grads_after_a_step():
    sim = Simulation(preset("simsiam"), SMALL, seeds=(0, 1))
    first = sim.record()
    assert len(sim.history) == 1
    assert first["step"].item() == 0
    assert all(key in first for key in Z_KEYS + P_KEYS)
    assert first[Z_KEYS[0]].shape == (2,)
    assert not any(key.startswith("grad_") for key in first)  # no batch seen yet
    assert torch.isnan(first["loss"]).all()
    sim.step(3)
    second = sim.record()
    assert len(sim.history) == 2
    assert second["step"].item() == 3
    grads = [key for key in second if key.startswith("grad_")]
    assert {"grad_basic_norm", "grad_extra_center_norm", "grad_extra_residual_norm"} <= set(grads)
    assert torch.isfinite(second["loss"]).all()
    d = SMALL.dim
    assert ((second["z_std_scaled"] >= 0) & (second["z_std_scaled"] <= math.sqrt(d))).all()
    assert ((second["z_effective_rank"] >= 1 - 1e-4)
            & (second["z_effective_rank"] <= d + 1e-4)).all()


def test_record_has_no_p_metrics_without_a_predictor():
    sim = Simulation(preset("no-predictor"), SMALL, seeds=(0,))
    sim.step(1)
    row = sim.record()
    assert all(key in row for key in Z_KEYS)
    assert not any(key.startswith("p_") for key in row)


def test_curves_are_records_by_members():
    sim = Simulation(preset("simsiam"), SMALL, seeds=(0, 1, 2))
    sim.record()
    for _ in range(3):
        sim.step(2)
        sim.record()
    curves = sim.curves()
    assert set(Z_KEYS + P_KEYS + ("step", "loss", "grad_basic_norm")) <= set(curves)
    for key, values in curves.items():
        assert len(values) == 4, key
        assert all(len(row) == 3 for row in values), key
    assert [row[0] for row in curves["step"]] == [0, 2, 4, 6]
    assert curves["step"][1] == [2.0, 2.0, 2.0]
    assert all(math.isnan(v) for v in curves["grad_basic_norm"][0])  # absent before a step
    assert all(math.isfinite(v) for v in curves["grad_basic_norm"][1])


@pytest.mark.parametrize(("field", "value"), [
    ("dim", 1), ("batch", 0), ("lr", float("nan")), ("dataset", "moons"),
])
def test_toy_config_rejects_bad_fields_naming_them(field, value):
    with pytest.raises(ValueError, match=f"^{field}="):
        ToyConfig(**{field: value})


def test_set_recipe_switches_no_predictor_to_decorrelation_only():
    sim = Simulation(preset("no-predictor"), SMALL, seeds=(0,))
    sim.step(2)
    assert sim.record()["loss"].item() < 0  # -cos of the two views
    sim.set_recipe(preset("decorrelation-only"))
    assert sim.recipe == preset("decorrelation-only")
    assert sim.model.recipe == preset("decorrelation-only")
    sim.step(2)
    row = sim.record()
    assert row["loss"].item() >= 0  # the correlation penalty alone
    assert not any(key.startswith("grad_") for key in row)  # no alignment term to decompose


def test_set_recipe_refuses_a_different_predictor():
    sim = Simulation(preset("no-predictor"), SMALL, seeds=(0,))
    with pytest.raises(ValueError, match="predictor"):
        sim.set_recipe(preset("simsiam"))
