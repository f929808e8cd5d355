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
from toy.config import DATASETS, ToyConfig


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
    restarts: bool = False  # changing it starts a new run from step 0 (new data or weights)

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
REPRESENTATIONS = ("Z", "P")  # what the picture and its banner show: Z = z/|z| or P = p/|p|
_RESTART = "Changing it restarts the run from step 0."

CONTROLS: tuple[Control, ...] = (
    Control("recipe", "Preset", "simsiam", choices=RECIPE_NAMES,
            help="a named row of the paper; a toggle below that makes another recipe shows "
            "'custom' (τ and the EMA momentum are parameters: they keep the name)"),
    Control("stop_gradient", "Stop-gradient on the target", _S.stop_gradient,
            help="SimSiam's sg(·): no gradient through the target branch. Switches live, "
            "the run goes on."),
    Control("predictor", "Predictor h", _S.predictor, choices=CHOICES["predictor"],
            help=f"the head h on top of the encoder. A new predictor needs new weights: "
            f"{_RESTART}", restarts=True),
    Control("placement", "Predictor placement", _S.placement, choices=CHOICES["placement"],
            help=f"online = SimSiam; both = symmetric; target = mirror; inverse = h⁻¹ on "
            f"target. {_RESTART}", restarts=True),
    Control("negatives", "Negatives", _S.negatives, choices=CHOICES["negatives"]),
    Control("tau", "InfoNCE temperature τ", _S.tau, low=0.02, high=10.0, step=0.01,
            help="used by InfoNCE only (Negatives = infonce); a parameter, not a new recipe"),
    Control("extra_gradient", "Extra gradient kept (surgery)", _S.extra_gradient,
            choices=CHOICES["extra_gradient"],
            help="center = o_e only, residual = r_e only (paper Tables 3–4)"),
    Control("target", "Target", _S.target, choices=CHOICES["target"],
            help="eoa = mean over augmentations through the current model (Table 1)"),
    Control("objective", "Objective", _S.objective, choices=CHOICES["objective"],
            help="the dummy losses of Fig. 4, or none (only the correlation regulariser)"),
    Control("decorrelation", "Correlation regulariser weight", _S.decorrelation, low=0.0,
            high=10.0, step=0.1),
    Control("ema", "EMA target momentum (BYOL)", _S.ema, low=0.0, high=0.999, step=0.001,
            help=f"0 = the target shares the online weights (SimSiam). Switching between 0 and "
            f"> 0 adds or removes a target network: {_RESTART}", restarts=True),
    Control("lr", "Learning rate", _C.lr, low=0.001, high=0.5, step=0.001),
    Control("weight_decay", "Weight decay", _C.weight_decay, low=0.0, high=0.01, step=0.0001),
    Control("batch", "Batch size", 128, low=16, high=1024, integer=True, help=_RESTART,
            restarts=True),
    Control("dim", "Output dimension d", 3, low=2, high=64, integer=True,
            help=f"2 = circle, 3 = sphere, more = PCA view. {_RESTART}", restarts=True),
    Control("dataset", "Dataset", _C.dataset, choices=DATASETS, help=_RESTART, restarts=True),
    Control("augmentation", "Augmentation strength", _C.augmentation, low=0.0, high=3.0,
            step=0.05, help=_RESTART, restarts=True),
    Control("seed", "Seed", 0, low=0, high=1_000_000, integer=True, help=_RESTART,
            restarts=True),
    Control("compare", "Compare with", "none", choices=("none", *PRESETS),
            help=f"a second recipe trained side by side on the same data and seed. {_RESTART}",
            restarts=True),
    Control("view", "Picture shows", "Z", choices=REPRESENTATIONS,
            help="Z = z/|z|, the encoder's output, or P = p/|p|, the predictor's (lesson 4); "
            "the banner judges the same one. Recipes without a predictor show Z."),
)
BY_NAME: dict[str, Control] = {c.name: c for c in CONTROLS}
RECIPE_FIELDS = tuple(f.name for f in fields(Recipe) if f.name in BY_NAME)
DEFAULTS: dict[str, object] = {c.name: c.default for c in CONTROLS}


class Refusal(str):
    """A refused URL value's one-line message; ``name`` is the control it concerns ('' for an
    unknown parameter or an invalid combination), so the app can drop it once that control
    changes."""

    name: str

    def __new__(cls, message: str, name: str = "") -> Refusal:
        refusal = super().__new__(cls, message)
        refusal.name = name
        return refusal


def parameters_free(recipe: Recipe) -> Recipe:
    """``recipe`` with its parameters set to canonical values, keeping what makes it a recipe:
    τ (InfoNCE's temperature, unused without it), the EMA momentum's value (only 0 vs > 0
    changes the method, paper's related work: BYOL) and the regulariser's weight when it is the
    only objective (Fig. 5b). Two recipes that differ only there are the same method."""
    changes: dict[str, object] = {"tau": Recipe().tau, "ema": 0.99 if recipe.ema > 0 else 0.0}
    if recipe.objective == "none":
        changes["decorrelation"] = 1.0
    return recipe.replace(**changes)


def preset_name(recipe: Recipe) -> str:
    """The preset ``recipe`` is, its parameters aside (``?recipe=infonce&tau=0.05`` stays
    'infonce'; moving τ without negatives changes nothing), or 'custom'."""
    exact = name_of(recipe)
    if exact != "custom":
        return exact
    free = parameters_free(recipe)
    return next((p.name for p in PRESETS.values() if parameters_free(p.recipe) == free),
                "custom")


def parameters_of(recipe: Recipe) -> dict[str, object]:
    """The parameters in which ``recipe`` differs from the preset it is named after (for the
    heading: 'infonce, τ = 0.05'); empty for an exact preset or 'custom'."""
    name = preset_name(recipe)
    if name == "custom":
        return {}
    base = preset(name)
    return {k: getattr(recipe, k) for k in ("tau", "ema", "decorrelation")
            if getattr(recipe, k) != getattr(base, k)}


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
            warnings.append(Refusal(f"unknown parameter {name!r} ignored"))
            continue
        try:
            given[name] = control.parse(text[-1] if isinstance(text, list) else text)
        except ValueError as error:
            warnings.append(Refusal(f"{error}; using "
                                    f"{(start or {}).get(name, control.default)!r}", name))
    values = {**DEFAULTS, **(start or {})}
    if given.get("recipe", values["recipe"]) != "custom":
        values.update(recipe_values(preset(str(given.get("recipe", values["recipe"])))))
    values.update(given)
    try:
        recipe_of(values)
    except ValueError as error:
        warnings.append(Refusal(f"{error}; using the preset {DEFAULTS['recipe']!r}"))
        values.update(recipe_values(preset(str(DEFAULTS["recipe"]))), recipe="simsiam")
    values["recipe"] = preset_name(recipe_of(values))
    return values, warnings


def why_not(values: Mapping[str, object], name: str) -> str:
    """In a student's words, why setting control ``name`` to its value in ``values`` gives no
    valid recipe (``values`` must be invalid: ``recipe_of`` raises on them)."""
    try:
        recipe_of(values)
    except ValueError as error:
        reason = str(error).removeprefix("invalid recipe: ")
    else:
        raise ValueError(f"{name}={values[name]!r} gives a valid recipe; nothing to explain")
    if name == "stop_gradient" and not values[name]:
        if values["ema"] > 0:
            return ("This recipe's target is a slowly moving copy of the network (the EMA "
                    "target of BYOL): it never receives a gradient, so there is no "
                    "stop-gradient to switch off. Set the EMA momentum to 0 first (that is "
                    "SimSiam).")
        if values["target"] != "view":
            return ("The averaged (EOA) target is computed without gradient, so there is no "
                    "stop-gradient to switch off. Set Target to 'view' first.")
        if values["placement"] != "online":
            return ("Stop-gradient can be switched off only with the predictor on the online "
                    "branch (SimSiam's layout). Set the placement to 'online' first.")
        if values["extra_gradient"] != "full":
            return ("Gradient surgery edits the target's gradient, so it needs stop-gradient "
                    "on. Set 'Extra gradient kept' to full first.")
    label = BY_NAME[name].label
    return f"{label} = {values[name]} does not fit the rest of this recipe ({reason})."


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
