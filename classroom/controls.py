"""Every control of the app, its bounds, and how it maps to a Recipe, a ToyConfig and the URL.

The controls are named like the recipe and config fields (``stop_gradient``, ``predictor``,
``tau``, ``dim``, ``batch``, ``lr``, ``seed``, ...), so a teacher's link reads like the paper:
``?recipe=no-stop-gradient`` or ``?predictor=bias&dim=2``. Every value read from a URL is
validated here: a bad one is refused with a message and its safe default is used, so no link
can crash the app or make one user's session starve the server (all numbers are bounded).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

from collapse.recipe import CHOICES, PRESETS, Recipe, name_of, preset
from toy.data import DATASETS
from toy.train import ToyConfig


@dataclass(frozen=True)
class Control:
    """One control: a choice among ``choices``, a bool, or a number in [low, high]."""

    name: str
    label: str
    default: object
    choices: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None
    integer: bool = False
    step: float = 1.0  # widget increment of a number
    help: str = ""

    @property
    def kind(self) -> str:
        if self.choices:
            return "choice"
        if isinstance(self.default, bool):
            return "bool"
        return "int" if self.integer else "float"

    def parse(self, raw: str) -> object:
        """The value of ``raw`` (a URL string), or ``ValueError`` naming what is allowed."""
        if self.kind == "choice":
            if raw not in self.choices:
                raise ValueError(f"{self.name}={raw!r} is not one of {', '.join(self.choices)}")
            return raw
        if self.kind == "bool":
            lowered = raw.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(f"{self.name}={raw!r} must be true or false")
        try:
            value = int(raw) if self.integer else float(raw)
        except ValueError:
            kind = "an integer" if self.integer else "a number"
            raise ValueError(f"{self.name}={raw!r} must be {kind} in "
                             f"[{self.low:g}, {self.high:g}]") from None
        if not math.isfinite(value) or not self.low <= value <= self.high:
            raise ValueError(f"{self.name}={raw!r} is outside [{self.low:g}, {self.high:g}]")
        return value


_S = Recipe()
_C = ToyConfig()
RECIPE_NAMES = (*PRESETS, "custom")

CONTROLS: tuple[Control, ...] = (
    Control("recipe", "Preset", "simsiam", choices=RECIPE_NAMES,
            help="a named row of the paper; changing a toggle below makes it 'custom'"),
    Control("stop_gradient", "Stop-gradient on the target", _S.stop_gradient,
            help="SimSiam's sg(·): no gradient through the target branch"),
    Control("predictor", "Predictor h", _S.predictor, choices=CHOICES["predictor"]),
    Control("placement", "Predictor placement", _S.placement, choices=CHOICES["placement"],
            help="online = SimSiam; both = symmetric; target = mirror; inverse = h⁻¹ on target"),
    Control("negatives", "Negatives", _S.negatives, choices=CHOICES["negatives"]),
    Control("tau", "InfoNCE temperature τ", _S.tau, low=0.02, high=10.0, step=0.01),
    Control("extra_gradient", "Extra gradient kept (surgery)", _S.extra_gradient,
            choices=CHOICES["extra_gradient"],
            help="center = o_e only, residual = r_e only (paper Tables 3–4)"),
    Control("target", "Target", _S.target, choices=CHOICES["target"],
            help="eoa = mean over augmentations through the current model (Table 1)"),
    Control("objective", "Objective", _S.objective, choices=CHOICES["objective"],
            help="the dummy losses of Fig. 4, or none (only the correlation regulariser)"),
    Control("decorrelation", "Correlation regulariser weight", _S.decorrelation, low=0.0,
            high=10.0, step=0.1),
    Control("ema", "EMA target momentum (BYOL)", _S.ema, low=0.0, high=0.999, step=0.001),
    Control("lr", "Learning rate", _C.lr, low=0.001, high=0.5, step=0.001),
    Control("weight_decay", "Weight decay", _C.weight_decay, low=0.0, high=0.01, step=0.0001),
    Control("batch", "Batch size", 128, low=16, high=1024, integer=True),
    Control("dim", "Output dimension d", 3, low=2, high=64, integer=True,
            help="2 = circle, 3 = sphere, more = PCA view"),
    Control("dataset", "Dataset", _C.dataset, choices=DATASETS),
    Control("augmentation", "Augmentation strength", _C.augmentation, low=0.0, high=3.0,
            step=0.1),
    Control("seed", "Seed", 0, low=0, high=1_000_000, integer=True),
    Control("compare", "Compare with", "none", choices=("none", *PRESETS),
            help="a second recipe trained side by side on the same data and seed"),
)
BY_NAME: dict[str, Control] = {c.name: c for c in CONTROLS}
RECIPE_FIELDS = tuple(f.name for f in fields(Recipe) if f.name in BY_NAME)
DEFAULTS: dict[str, object] = {c.name: c.default for c in CONTROLS}


def from_query(query: Mapping[str, str | list[str]], start: Mapping[str, object] | None = None
               ) -> tuple[dict[str, object], list[str]]:
    """Control values from URL parameters, and a warning for each refused value.

    The values start from the defaults, updated by ``start`` (a lesson's settings); a preset
    named by ``recipe`` (or by ``start``) sets the recipe fields; explicit fields then override
    it, and ``recipe`` becomes the name of the preset they match, or 'custom'. Unknown
    parameters (other than the app's own ``lesson`` and ``hide``) are refused too, and so is an
    invalid combination of fields (the preset ``simsiam`` is used instead).
    """
    given: dict[str, object] = {}
    warnings = []
    for name, text in query.items():
        if name in ("lesson", "hide"):
            continue
        control = BY_NAME.get(name)
        if control is None:
            warnings.append(f"unknown parameter {name!r} ignored")
            continue
        try:
            given[name] = control.parse(text[-1] if isinstance(text, list) else text)
        except ValueError as error:
            warnings.append(f"{error}; using {(start or {}).get(name, control.default)!r}")
    values = {**DEFAULTS, **(start or {})}
    if given.get("recipe", values["recipe"]) != "custom":
        values.update(recipe_values(preset(str(given.get("recipe", values["recipe"])))))
    values.update(given)
    try:
        recipe_of(values)
    except ValueError as error:
        warnings.append(f"{error}; using the preset {DEFAULTS['recipe']!r}")
        values.update(recipe_values(preset(str(DEFAULTS["recipe"]))), recipe="simsiam")
    values["recipe"] = name_of(recipe_of(values))
    return values, warnings


def recipe_of(values: Mapping[str, object]) -> Recipe:
    """The Recipe of the current controls (``ValueError`` for an invalid combination)."""
    return Recipe(**{name: values[name] for name in RECIPE_FIELDS})


def recipe_values(recipe: Recipe) -> dict[str, object]:
    """The control values of a recipe's fields."""
    return {name: getattr(recipe, name) for name in RECIPE_FIELDS}


def config_of(values: Mapping[str, object]) -> ToyConfig:
    """The ToyConfig of the current controls (the toy's network, a smaller default batch)."""
    return ToyConfig(dataset=values["dataset"], dim=values["dim"], batch=values["batch"],
                     lr=values["lr"], weight_decay=values["weight_decay"],
                     augmentation=values["augmentation"])


def to_query(values: Mapping[str, object], start: Mapping[str, object] | None = None
             ) -> dict[str, str]:
    """URL parameters for ``values``: only what differs from where :func:`from_query` starts
    (the defaults updated by ``start``, and the fields of the preset that ``recipe`` names), so
    ``from_query(to_query(v, s), s)`` gives ``v`` back."""
    start = start or {}
    query: dict[str, str] = {}
    name = values["recipe"]
    base = recipe_values(preset(name)) if name != "custom" else {}
    for control in CONTROLS:
        value = values[control.name]
        if control.name in RECIPE_FIELDS:
            reference = base.get(control.name, start.get(control.name, control.default))
        else:
            reference = start.get(control.name, control.default)
        if value == reference:
            continue
        query[control.name] = str(value).lower() if isinstance(value, bool) else str(value)
    return query
