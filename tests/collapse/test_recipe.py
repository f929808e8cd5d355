"""Tests for collapse.recipe: named presets, validation, ``replace``, ``name_of``, frozenness."""

import dataclasses
import math

import pytest
import torch

from collapse import recipe as rc
from collapse.layers import MLP
from collapse.siamese import Siamese

# The 21 rows of the issue, each as its change from the default (SimSiam) recipe.
NAIVE = {"predictor": "none"}
EXPECTED = {
    "simsiam": {},
    "no-stop-gradient": {"stop_gradient": False},
    "no-predictor": NAIVE,
    "symmetric-predictor": {"placement": "both"},
    "mirror": {"placement": "target"},
    "inverse-predictor": {"placement": "inverse"},
    "eoa-target": {**NAIVE, "target": "eoa"},
    "center-dummy": {**NAIVE, "objective": "center-dummy"},
    "residual-dummy": {**NAIVE, "objective": "residual-dummy"},
    "triplet": {**NAIVE, "negatives": "triplet"},
    "triplet-center": {**NAIVE, "negatives": "triplet", "extra_gradient": "center"},
    "triplet-residual": {**NAIVE, "negatives": "triplet", "extra_gradient": "residual"},
    "simsiam-no-extra": {"extra_gradient": "none"},
    "simsiam-center": {"extra_gradient": "center"},
    "simsiam-residual": {"extra_gradient": "residual"},
    "decorrelation-only": {**NAIVE, "objective": "none", "decorrelation": 1.0},
    "infonce": {**NAIVE, "negatives": "infonce"},
    "bias-predictor": {"predictor": "bias"},
    "linear-predictor": {"predictor": "linear"},
    "directpred": {"predictor": "directpred"},
    "byol": {"ema": 0.99},
}
NAMES = tuple(EXPECTED)


def test_presets_are_exactly_the_21_rows_of_the_issue():
    assert len(NAMES) == 21
    assert sorted(rc.PRESETS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_preset_returns_its_row(name):
    entry = rc.PRESETS[name]
    assert entry.name == name
    assert rc.preset(name) is entry.recipe
    assert entry.recipe == rc.Recipe(**EXPECTED[name])
    assert entry.source
    assert entry.summary


def test_presets_are_distinct_recipes():
    recipes = [p.recipe for p in rc.PRESETS.values()]
    assert len(set(recipes)) == len(recipes)


@pytest.mark.parametrize("name", NAMES)
def test_every_preset_builds_a_model_that_trains(name):
    recipe = rc.preset(name)
    members, batch, n_in, dim = 2, 8, 6, 4
    gens = [torch.Generator().manual_seed(s) for s in (0, 1)]
    model = Siamese(MLP(n_in, 16, dim, members, gens), dim, recipe, 8, members, gens)
    g = torch.Generator().manual_seed(7)
    x_a, x_b = torch.randn(2, members, batch, n_in, generator=g)
    eoa = None
    if recipe.target == "eoa":
        eoa = list(torch.randn(3, members, batch, n_in, generator=g))
    loss, a, b = model(x_a, x_b, eoa)
    assert loss.shape == (members,)
    assert torch.isfinite(loss).all()
    assert a.z.shape == b.z.shape == (members, batch, dim)
    loss.sum().backward()
    grads = [p.grad for p in model.encoder.parameters()]
    assert any(g is not None and bool(g.abs().sum() > 0) for g in grads)


def test_unknown_preset_lists_valid_names():
    with pytest.raises(ValueError, match="nope") as info:
        rc.preset("nope")
    message = str(info.value)
    for name in ("simsiam", "byol", "infonce", "triplet-center"):
        assert name in message


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"predictor": "none", "placement": "both"}, ("placement", "predictor")),
        ({"predictor": "none", "placement": "inverse"}, ("placement", "predictor")),
        ({"stop_gradient": False, "placement": "both"}, ("stop_gradient", "placement")),
        ({"stop_gradient": False, "ema": 0.9}, ("stop_gradient", "ema")),
        ({"stop_gradient": False, "extra_gradient": "center"}, ("extra_gradient", "stop_gradient")),
        ({"predictor": "none", "negatives": "infonce", "extra_gradient": "center"},
         ("extra_gradient",)),
        ({"objective": "center-dummy"}, ("objective", "predictor")),
        ({"predictor": "none", "objective": "none"}, ("objective", "decorrelation")),
        ({"negatives": "triplet"}, ("negatives", "predictor")),
        ({"predictor": "none", "negatives": "infonce", "ema": 0.5}, ("negatives", "ema")),
        ({"target": "eoa", "placement": "both"}, ("target", "placement")),
        ({"tau": 0.0}, ("tau",)),
        ({"tau": -1.0}, ("tau",)),
        ({"tau": math.nan}, ("tau",)),
        ({"tau": math.inf}, ("tau",)),
        ({"ema": 1.0}, ("ema",)),
        ({"ema": -0.1}, ("ema",)),
        ({"eoa_samples": 1}, ("eoa_samples",)),
        ({"decorrelation": -1.0}, ("decorrelation",)),
        ({"predictor": "nope"}, ("predictor",)),
        ({"placement": "nope"}, ("placement",)),
        ({"objective": "nope"}, ("objective",)),
    ],
)
def test_invalid_combinations_raise_naming_the_fields(changes, named):
    with pytest.raises(ValueError, match=named[0]) as info:
        rc.Recipe(**changes)
    for field in named:
        assert field in str(info.value)
    # ``replace`` validates the same way.
    with pytest.raises(ValueError, match=named[0]):
        rc.Recipe().replace(**changes)


def test_replace_applies_changes_and_rejects_unknown_fields():
    r = rc.Recipe().replace(tau=0.5, decorrelation=0.1)
    assert (r.tau, r.decorrelation) == (0.5, 0.1)
    assert rc.Recipe().tau != 0.5  # the original is untouched
    with pytest.raises(ValueError, match="temperature"):
        rc.Recipe().replace(temperature=0.5)


@pytest.mark.parametrize("name", NAMES)
def test_name_of_round_trips(name):
    assert rc.name_of(rc.preset(name)) == name
    assert rc.name_of(rc.Recipe(**EXPECTED[name])) == name


def test_name_of_custom_recipe():
    assert rc.name_of(rc.Recipe(decorrelation=0.1)) == "custom"
    assert rc.name_of(rc.preset("infonce").replace(tau=0.5)) == "custom"


def test_recipe_is_frozen():
    r = rc.preset("simsiam")
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.tau = 1.0  # type: ignore[misc]
    assert r.tau == rc.Recipe().tau


def test_to_dict_round_trips():
    r = rc.preset("triplet-center")
    assert rc.Recipe(**r.to_dict()) == r
    assert set(r.to_dict()) == rc.FIELD_NAMES


@pytest.mark.parametrize("name", NAMES)
def test_anchor_is_prediction(name):
    r = rc.preset(name)
    expected = r.predictor != "none" and r.placement != "target"
    assert r.anchor_is_prediction == expected
