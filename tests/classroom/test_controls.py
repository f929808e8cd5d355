"""Tests for classroom.controls: parsing and refusing URL values, presets and overrides, the
fallback for an invalid combination, the URL round trip, and the bounds of every control."""

import math

import pytest

from classroom.controls import (
    BY_NAME,
    CONTROLS,
    DEFAULTS,
    RECIPE_FIELDS,
    config_of,
    from_query,
    parameters_of,
    preset_name,
    recipe_of,
    recipe_values,
    to_query,
    why_not,
)
from collapse.recipe import PRESETS, name_of, preset
from toy.train import ToyConfig

NUMBERS = [c for c in CONTROLS if c.kind in ("int", "float")]


def _good_texts(control):
    """Every value a control accepts, as (URL text, parsed value)."""
    if control.kind == "choice":
        return [(c, c) for c in control.choices]
    if control.kind == "bool":
        return [("true", True), ("false", False), ("1", True), ("0", False), ("On", True)]
    cast = int if control.integer else float
    middle = cast((control.low + control.high) / 2)
    return [(str(cast(control.low)), cast(control.low)), (str(middle), middle),
            (str(cast(control.high)), cast(control.high))]


@pytest.mark.parametrize("control", CONTROLS, ids=lambda c: c.name)
def test_every_control_parses_its_good_values(control):
    for text, value in _good_texts(control):
        parsed = control.parse(text)
        assert parsed == value
        assert type(parsed) is type(value)


BAD = [("tau", "-1"), ("tau", "nan"), ("tau", "inf"), ("dim", "abc"), ("dim", "1"),
       ("dim", "3.5"), ("batch", str(10**9)), ("recipe", "nope"), ("stop_gradient", "maybe"),
       ("predictor", "MLP"), ("lr", ""), ("seed", "-1")]


@pytest.mark.parametrize(("name", "text"), BAD)
def test_bad_values_are_refused_with_a_message_naming_them(name, text):
    with pytest.raises(ValueError, match=name) as error:
        BY_NAME[name].parse(text)
    assert repr(text) in str(error.value)
    values, warnings = from_query({name: text})
    assert len(warnings) == 1
    assert repr(text) in warnings[0]
    assert warnings[0].name == name  # the app drops the warning once this control changes
    assert values[name] == DEFAULTS[name]


def test_an_unknown_parameter_is_refused_by_name():
    values, warnings = from_query({"learning_rate": "0.1", "lesson": "1", "hide": "lr"})
    assert warnings == ["unknown parameter 'learning_rate' ignored"]
    assert values == from_query({})[0]


def test_the_empty_url_gives_the_defaults_and_simsiam():
    values, warnings = from_query({})
    assert warnings == []
    assert values == DEFAULTS
    assert recipe_of(values) == preset("simsiam")


@pytest.mark.parametrize("name", list(PRESETS))
def test_a_preset_in_the_url_sets_its_recipe_fields(name):
    values, warnings = from_query({"recipe": name})
    assert warnings == []
    assert values["recipe"] == name
    assert recipe_of(values) == preset(name)
    assert recipe_values(preset(name)) == {k: values[k] for k in RECIPE_FIELDS}


def test_explicit_fields_override_the_preset_and_rename_the_recipe():
    values, warnings = from_query({"recipe": "simsiam", "stop_gradient": "false"})
    assert warnings == []
    assert values["recipe"] == "no-stop-gradient"  # the preset the fields now match
    values, warnings = from_query({"recipe": "infonce", "tau": "0.5"})
    assert warnings == []
    assert values["recipe"] == "infonce"  # tau is a parameter of infonce, not a new recipe
    assert recipe_of(values) == preset("infonce").replace(tau=0.5)
    values, _ = from_query({"recipe": "simsiam", "decorrelation": "0.5"})
    assert values["recipe"] == "custom"  # a regulariser added to SimSiam is a new recipe
    values, _ = from_query({"predictor": "bias", "dim": "2"})
    assert values["recipe"] == "bias-predictor"
    assert values["dim"] == 2


@pytest.mark.parametrize(("name", "changes", "expected"), [
    ("simsiam", {"tau": 3.0}, "simsiam"),  # tau unused without negatives
    ("infonce", {"tau": 0.05}, "infonce"),
    ("byol", {"ema": 0.9}, "byol"),  # the momentum is BYOL's parameter
    ("simsiam", {"ema": 0.5}, "byol"),  # an EMA target makes SimSiam BYOL
    ("decorrelation-only", {"decorrelation": 3.0}, "decorrelation-only"),
    ("simsiam", {"decorrelation": 0.1}, "custom"),
    ("simsiam", {"predictor": "linear"}, "linear-predictor"),
])
def test_a_parameter_keeps_the_preset_name_and_a_change_of_method_does_not(name, changes,
                                                                          expected):
    recipe = preset(name).replace(**changes)
    assert preset_name(recipe) == expected
    if expected == name:
        assert parameters_of(recipe) == changes
    assert parameters_of(preset(name)) == {}


@pytest.mark.parametrize(("start", "reason"), [
    ("byol", "EMA momentum to 0"), ("eoa-target", "Target to 'view'"),
    ("symmetric-predictor", "placement to 'online'"), ("simsiam-center", "full")])
def test_why_not_says_in_a_students_words_why_stop_gradient_stays_on(start, reason):
    values = {**DEFAULTS, **recipe_values(preset(start)), "stop_gradient": False}
    text = why_not(values, "stop_gradient")
    assert reason in text
    assert "ema=0" not in text  # no field names of the code
    assert "target='view'" not in text


def test_why_not_names_the_control_otherwise_and_refuses_a_valid_recipe():
    values = {**DEFAULTS, **recipe_values(preset("infonce")), "predictor": "mlp"}
    assert why_not(values, "predictor").startswith("Predictor h = mlp does not fit")
    with pytest.raises(ValueError, match="valid recipe"):
        why_not(DEFAULTS, "predictor")


def test_an_invalid_combination_falls_back_to_simsiam_with_a_warning():
    values, warnings = from_query({"stop_gradient": "false", "placement": "both", "dim": "5"})
    assert len(warnings) == 1
    assert "invalid recipe" in warnings[0]
    assert "simsiam" in warnings[0]
    assert values["recipe"] == "simsiam"
    assert recipe_of(values) == preset("simsiam")
    assert values["dim"] == 5  # the valid non-recipe values are kept


def test_a_start_such_as_a_lesson_is_overridden_by_the_url():
    start = {"recipe": "no-stop-gradient", "compare": "simsiam", "dim": 3}
    values, warnings = from_query({"dim": "2"}, start)
    assert warnings == []
    assert (values["recipe"], values["compare"], values["dim"]) == ("no-stop-gradient",
                                                                   "simsiam", 2)
    values, _ = from_query({"recipe": "simsiam"}, start)
    assert recipe_of(values) == preset("simsiam")


@pytest.mark.parametrize("name", list(PRESETS))
def test_to_query_round_trips_every_preset(name):
    values, _ = from_query({"recipe": name})
    query = to_query(values)
    assert query == ({} if name == DEFAULTS["recipe"] else {"recipe": name})
    assert from_query(query) == (values, [])


def test_to_query_round_trips_a_custom_recipe_and_every_control():
    values = dict(DEFAULTS, tau=0.5, decorrelation=0.3, ema=0.0, lr=0.013, weight_decay=0.0005,
                  batch=64, dim=5, dataset=BY_NAME["dataset"].choices[-1], augmentation=1.7,
                  seed=123, compare="infonce", negatives="triplet", predictor="none")
    values["recipe"] = name_of(recipe_of(values))
    assert values["recipe"] == "custom"
    query = to_query(values)
    assert all(isinstance(v, str) for v in query.values())
    assert from_query(query) == (values, [])
    start = {"recipe": "no-stop-gradient", "compare": "simsiam", "dim": 3}
    for changed in (values, dict(from_query({}, start)[0], compare="none", dim=3)):
        assert from_query(to_query(changed, start), start) == (changed, [])


@pytest.mark.parametrize("control", NUMBERS, ids=lambda c: c.name)
def test_every_number_is_bounded_and_both_bounds_make_a_valid_config(control):
    assert math.isfinite(control.low)
    assert math.isfinite(control.high)
    assert control.low <= control.default <= control.high
    assert 0 < control.step <= control.high - control.low
    for bound in (control.low, control.high):
        value = int(bound) if control.integer else float(bound)
        values = dict(DEFAULTS, **{control.name: value})
        if control.name in RECIPE_FIELDS:
            recipe_of(values)  # a valid recipe at either bound
        else:
            config = config_of(values)
            if hasattr(config, control.name):
                assert getattr(config, control.name) == value


def test_config_of_maps_the_controls_and_bounds_the_work_of_a_tick():
    config = config_of(DEFAULTS)
    assert isinstance(config, ToyConfig)
    assert (config.dim, config.batch, config.lr) == (DEFAULTS["dim"], DEFAULTS["batch"],
                                                      DEFAULTS["lr"])
    biggest = config_of({**DEFAULTS, "batch": int(BY_NAME["batch"].high),
                         "dim": int(BY_NAME["dim"].high)})
    assert biggest.batch <= biggest.train_size  # a batch never exceeds the dataset
