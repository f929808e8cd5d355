"""A Siamese variant described as data: one frozen :class:`Recipe` per row of the paper.

Every experiment of Zhang et al. (ICLR 2022) is a small change to the same loss
``L = -A_a . sg(T_b)`` (anchor A of view a, target T of view b; symmetrised). A recipe names
which change: where the stop-gradient is, which predictor ``h`` sits on which branch, which
negatives are added, which part of the extra gradient is kept (gradient surgery, paper §3,
Tables 3-4), what the target is (the other view, or its expectation over augmentations, §2
Table 1), and the auxiliary terms (the dummy losses of Fig. 4, the correlation regulariser of
Fig. 5b, the EMA target of BYOL).

The app's toggles, ``toy.run --recipe`` and ``full.train --recipe`` all build a ``Recipe``;
:func:`preset` gives the named rows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

Predictor = Literal["none", "mlp", "linear", "bias", "bias-raw", "directpred"]
Placement = Literal["online", "both", "target", "inverse"]
Negatives = Literal["none", "triplet", "infonce"]
ExtraGradient = Literal["full", "center", "residual", "none"]
Target = Literal["view", "eoa"]
Objective = Literal["siamese", "center-dummy", "residual-dummy", "none"]

CHOICES: dict[str, tuple[str, ...]] = {
    "predictor": ("none", "mlp", "linear", "bias", "bias-raw", "directpred"),
    "placement": ("online", "both", "target", "inverse"),
    "negatives": ("none", "triplet", "infonce"),
    "extra_gradient": ("full", "center", "residual", "none"),
    "target": ("view", "eoa"),
    "objective": ("siamese", "center-dummy", "residual-dummy", "none"),
}


@dataclass(frozen=True)
class Recipe:
    """One Siamese variant. Defaults are SimSiam: ``L = -P_a . sg(Z_b)``, symmetrised.

    Attributes:
        stop_gradient: detach the target branch (SimSiam's sg). False lets the gradient flow
            through both branches (SimSiam paper's "no stop-gradient" row).
        predictor: the head ``h``: ``mlp`` (Linear-BN-ReLU-Linear), ``linear`` (bias-free
            d x d), ``bias`` (``h(Z) = Z + b`` on the normalised Z, paper §5), ``bias-raw``
            (``h(z) = z + b`` on the raw z, the notes' reading of §5), ``directpred``
            (linear, set from the eigen-decomposition of the feature correlation, Tian et al.
            2021), or ``none`` (naive Siamese).
        placement: where ``h`` sits: ``online`` (SimSiam, -P_a.sg(Z_b)), ``both`` (symmetric
            predictor, -P_a.sg(P_b)), ``target`` (mirror, -Z_a.sg(P_b)) or ``inverse``
            (-P_a.sg(g(P_b)) with a jointly trained inverse head g, paper Fig. 2). In the mirror
            layout h only ever sees detached inputs, so it keeps its initial weights.
        negatives: ``triplet`` (-Z_a.sg(Z_b - Z_n), §3) or ``infonce`` (temperature ``tau``, §4).
        tau: InfoNCE temperature (> 0).
        extra_gradient: gradient surgery, which part of the extra gradient G_e = o_e + r_e the
            target keeps: ``full`` (the plain loss), ``center`` (o_e only), ``residual`` (r_e
            only) or ``none`` (basic gradient only). For SimSiam the target becomes
            ``P_b + X`` (Table 4), for the triplet ``Z_b + X`` (Table 3).
        target: ``view`` (the other view) or ``eoa`` (mean of Z over ``eoa_samples``
            augmentations through the current model, Table 1).
        eoa_samples: K, the number of augmentations averaged for the EOA target.
        objective: ``siamese`` (the alignment loss above), ``center-dummy`` (-Z_a.sg(o)),
            ``residual-dummy`` (-Z_a.sg(r_a)) (both Fig. 4, Conjecture 1), or ``none`` (no
            alignment term: only the correlation regulariser, Fig. 5b).
        decorrelation: weight of the correlation regulariser (sum of squared off-diagonal
            correlations of Z over the batch, / d; the paper's exact form is unconfirmed).
        ema: BYOL target momentum; 0 means the target branch shares the online weights.
    """

    stop_gradient: bool = True
    predictor: Predictor = "mlp"
    placement: Placement = "online"
    negatives: Negatives = "none"
    tau: float = 0.2
    extra_gradient: ExtraGradient = "full"
    target: Target = "view"
    eoa_samples: int = 8
    objective: Objective = "siamese"
    decorrelation: float = 0.0
    ema: float = 0.0

    def __post_init__(self) -> None:
        validate(self)

    @property
    def anchor_is_prediction(self) -> bool:
        """True when the loss differentiates the predictor output P_a (not Z_a)."""
        return self.predictor != "none" and self.placement in ("online", "both", "inverse")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    def replace(self, **changes: object) -> Recipe:
        """A copy with ``changes`` applied (validated); unknown fields raise ``ValueError``."""
        unknown = sorted(set(changes) - FIELD_NAMES)
        if unknown:
            raise ValueError(f"unknown recipe field(s) {unknown}; valid: {sorted(FIELD_NAMES)}")
        return replace(self, **changes)


FIELD_NAMES = frozenset(f.name for f in fields(Recipe))


def validate(r: Recipe) -> None:
    """Raise ``ValueError`` naming the fields of an invalid combination."""
    for name, allowed in CHOICES.items():
        value = getattr(r, name)
        if value not in allowed:
            raise ValueError(f"{name}={value!r} is not one of {list(allowed)}")
    if not isinstance(r.stop_gradient, bool):
        raise ValueError(f"stop_gradient={r.stop_gradient!r} must be True or False")
    if not (isinstance(r.tau, (int, float)) and math.isfinite(r.tau) and r.tau > 0):
        raise ValueError(f"tau={r.tau!r} must be a finite number > 0")
    if not (isinstance(r.eoa_samples, int) and r.eoa_samples >= 2):
        raise ValueError(f"eoa_samples={r.eoa_samples!r} must be an integer >= 2")
    if not (isinstance(r.decorrelation, (int, float)) and math.isfinite(r.decorrelation)
            and r.decorrelation >= 0):
        raise ValueError(f"decorrelation={r.decorrelation!r} must be a finite number >= 0")
    if not (isinstance(r.ema, (int, float)) and 0 <= r.ema < 1):
        raise ValueError(f"ema={r.ema!r} must be in [0, 1)")

    def bad(message: str) -> None:
        raise ValueError(f"invalid recipe: {message}")

    if r.predictor == "none" and r.placement != "online":
        bad(f"placement={r.placement!r} needs a predictor, but predictor='none'")
    if not r.stop_gradient:
        if r.placement != "online":
            bad(f"stop_gradient=False is defined for placement='online' only, "
                f"got placement={r.placement!r}")
        if r.ema > 0 or r.target != "view":
            bad("stop_gradient=False needs ema=0 and target='view' (both imply a stop-gradient)")
        if r.extra_gradient != "full":
            bad("extra_gradient surgery needs stop_gradient=True")
    if r.objective != "siamese":
        if r.predictor != "none" or r.negatives != "none" or r.target != "view" or r.ema > 0:
            bad(f"objective={r.objective!r} acts on Z alone: it needs predictor='none', "
                f"negatives='none', target='view', ema=0")
        if r.objective == "none" and r.decorrelation == 0:
            bad("objective='none' with decorrelation=0 trains nothing; set decorrelation > 0")
    if r.negatives != "none":
        if r.predictor != "none":
            bad(f"negatives={r.negatives!r} are defined without a predictor "
                f"(got predictor={r.predictor!r})")
        if r.target != "view" or r.ema > 0:
            bad(f"negatives={r.negatives!r} need target='view' and ema=0")
    if r.target == "eoa" and (r.placement not in ("online",) or r.ema > 0):
        bad("target='eoa' needs placement='online' and ema=0")
    if r.extra_gradient != "full":
        simsiam = r.predictor != "none" and r.placement == "online" and r.negatives == "none"
        triplet = r.negatives == "triplet"
        if not (simsiam or triplet) or r.target != "view" or r.ema > 0:
            bad(f"extra_gradient={r.extra_gradient!r} (surgery) is defined for SimSiam "
                f"(predictor on the online branch) and for the triplet loss, with target='view' "
                f"and ema=0")


@dataclass(frozen=True)
class Preset:
    """A named recipe and the row of the paper it reproduces."""

    name: str
    recipe: Recipe
    source: str
    summary: str


def _presets() -> dict[str, Preset]:
    s = Recipe()
    naive = s.replace(predictor="none")
    rows = [
        ("simsiam", s, "Table 2", "SimSiam: -P_a.sg(Z_b); asymmetric, does not collapse"),
        ("no-stop-gradient", s.replace(stop_gradient=False), "SimSiam paper, Fig. 2",
         "SimSiam without stop-gradient: collapses"),
        ("no-predictor", naive, "Table 2", "naive Siamese -Z_a.sg(Z_b): collapses"),
        ("symmetric-predictor", s.replace(placement="both"), "Table 2",
         "predictor on both branches -P_a.sg(P_b): collapses"),
        ("mirror", s.replace(placement="target"), "Fig. 2 (name ours)",
         "predictor on the target branch only -Z_a.sg(P_b)"),
        ("inverse-predictor", s.replace(placement="inverse"), "Table 2",
         "-P_a.sg(g(P_b)) with a learned inverse g: does not collapse"),
        ("eoa-target", naive.replace(target="eoa"), "Table 1",
         "explicit expectation over augmentations as the target, no predictor: collapses"),
        ("center-dummy", naive.replace(objective="center-dummy"), "Fig. 4",
         "dummy loss -Z_a.sg(o): the center component raises m_o"),
        ("residual-dummy", naive.replace(objective="residual-dummy"), "Fig. 4",
         "dummy loss -Z_a.sg(r_a): the residual component raises m_r"),
        ("triplet", naive.replace(negatives="triplet"), "Table 3",
         "-Z_a.sg(Z_b - Z_n): extra gradient -Z_n"),
        ("triplet-center", naive.replace(negatives="triplet", extra_gradient="center"),
         "Table 3", "triplet keeping only the center part o_e of -Z_n: no collapse"),
        ("triplet-residual", naive.replace(negatives="triplet", extra_gradient="residual"),
         "Table 3", "triplet keeping only the residual part r_e of -Z_n: collapses"),
        ("simsiam-no-extra", s.replace(extra_gradient="none"), "Table 4",
         "-P_a.sg(P_b + X) with X = 0: basic gradient only, collapses"),
        ("simsiam-center", s.replace(extra_gradient="center"), "Table 4",
         "X = o_e (center part of Z_b - P_b): no collapse"),
        ("simsiam-residual", s.replace(extra_gradient="residual"), "Table 4",
         "X = r_e (residual part of Z_b - P_b): no collapse"),
        ("decorrelation-only", naive.replace(objective="none", decorrelation=1.0), "Fig. 5b",
         "correlation regulariser alone (form ours): restores m_r after a collapse"),
        ("infonce", naive.replace(negatives="infonce"), "§4",
         "InfoNCE, tau 0.2, stop-gradient on the candidates: -o/tau de-centers, "
         "-sum(lambda r)/tau de-correlates"),
        ("bias-predictor", s.replace(predictor="bias"), "§5",
         "h(Z) = Z + b, a single learnable bias as the predictor"),
        ("linear-predictor", s.replace(predictor="linear"), "§5",
         "bias-free linear predictor: de-correlation only"),
        ("directpred", s.replace(predictor="directpred"), "§5 (Tian et al. 2021)",
         "linear predictor set from the eigen-decomposition of the feature correlation"),
        ("byol", s.replace(ema=0.99), "related work (BYOL)",
         "SimSiam with an EMA target encoder (momentum 0.99)"),
    ]
    return {name: Preset(name, recipe, source, summary) for name, recipe, source, summary in rows}


PRESETS: dict[str, Preset] = _presets()


def preset(name: str) -> Recipe:
    """The recipe of a named preset; an unknown name raises ``ValueError`` listing valid names."""
    try:
        return PRESETS[name].recipe
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; valid: {', '.join(PRESETS)}") from None


def name_of(recipe: Recipe) -> str:
    """The preset name equal to ``recipe``, or ``"custom"``."""
    return next((p.name for p in PRESETS.values() if p.recipe == recipe), "custom")
