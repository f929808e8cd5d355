"""How each of the paper's 16 claims (paper-notes §7) is judged: small pure functions, plain data.

API (stable; ``toy.claims`` and ``full.claims`` both call it):

- ``Run(final, curves)``: one recipe trained on one seed. ``Runs = Mapping[label, Run]``: every
  run of one seed, keyed by the label the claims name (a preset of :mod:`collapse.recipe`, or one
  of the toy-only labels below).
- ``Verdict(word, measured, controls)``: ``word`` is one of ``holds``, ``partly`` (no complete
  collapse, but dimensional collapse: the rank is in ``measured``), ``no``, ``identity`` (a
  mathematical identity, verified numerically) and ``measured`` (reported, not judged);
  ``controls`` maps each control run to the same judge's word on it (and its numbers).
  ``Verdict.holds`` is True / False / None.
- Single-run judges: :func:`collapsed`, :func:`learns_nothing`, :func:`spread_and_learns`,
  :func:`inverse_learned`, :func:`eta_negative`, :func:`recovers`, :func:`identity`,
  :func:`falls_monotonically`, :func:`decorrelates`; :func:`against` applies a judge's verdict
  requirement that every control fails the same judge; :func:`conjunction` and :func:`best_of`
  combine parts.
- ``CLAIM_JUDGES``: one :class:`ClaimJudge` per claim (statement, criterion, control, the labels
  it reads, ``judge(runs) -> Verdict``). :func:`overall` and :func:`claim_record` turn the
  per-seed verdicts of one claim into the JSON object of ``claims.json``.

Expected keys of ``Run.final`` (the end of training; a key is needed only by the judges that
read it):

- ``z_state``, ``z_std_scaled``, ``z_center_norm``, ``z_effective_rank`` of the encoder output Z
  (``*_state`` from :func:`collapse.criterion.collapse_state`), ``z_off_diagonal_correlation``;
- the same ``p_*`` keys for the prediction P when the recipe has a predictor;
- ``knn`` (kNN accuracy of Z) and ``knn_init`` (the same network's kNN at random init);
- ``grad_eta`` (eta = o_e.o_A/|o_A|^2 on the last batch, :func:`collapse.gradients.crossing`);
- ``switch`` (claim 12: the step at which the recipe was switched);
- the analytic pseudo-run ``ANALYTIC`` holds ``dummy_term_gap`` (claim 8), ``dummy_loss_gap``
  (claim 7), ``infonce_gap`` (claim 14), ``tau`` and the tau-sweep ratios ``ratio_trained``,
  ``ratio_random``, ``ratio_near_collapsed`` (claim 14).

Expected keys of ``Run.curves`` (one value per record, in order; NaN where undefined, e.g. the
gradient before the first step): ``step``, ``grad_eta``, ``z_center_norm``,
``z_residual_norm``, ``z_std_scaled``, ``z_off_diagonal_covariance``, ``inverse_cos``.

Every "does not collapse" judge names a negative control, a run that collapses, and the verdict
holds only when the control fails the same judge (and vice versa for "collapses" judges, whose
control is a run that does not collapse). The thresholds below are ours, not the paper's (the
paper gives none); KNN_GAIN, INVERSE_FIT and EXACT were set before the claims were first run.
RANK_GAIN (one effective dimension of d) was chosen for issue 9 after the toy's ranks had been
seen: with a gain of 0 the triplet's half of claim 16 would read holds on seeds 0 and 1 and no on
seed 2 (rank gains 0.33, 0.05, -0.02), differences smaller than the spread between seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from collapse.criterion import COLLAPSED_STD_SCALED

Word = Literal["holds", "partly", "no", "identity", "measured"]
WORDS: tuple[Word, ...] = ("holds", "partly", "no", "identity", "measured")

KNN_GAIN = 0.10  # "learns": kNN at least this much above the random-init kNN (accuracy, 0-1)
INVERSE_FIT = 0.8  # "h^-1 is learnable": mean cos(g(P), Z) on held-out points at least this
EXACT = 1e-9  # an identity checked in float64 holds when the gap is below this
RANK_GAIN = 1.0  # claim 16: r_e "de-correlates" if it adds at least one effective dimension

EOA_WITH_PREDICTOR = "eoa-target+predictor=mlp"  # toy label: the EOA target with an MLP predictor
BIAS_RAW = "bias-predictor+predictor=bias-raw"  # toy label: h(z) = z + b before normalisation
RECOVERY = "no-predictor->decorrelation-only"  # toy label: collapse, then the regulariser alone
RECOVERY_CONTROL = "no-predictor->no-predictor"  # toy label: collapse, then the same naive loss
ANALYTIC = "analytic"  # pseudo-run holding the exact checks (no training)


@dataclass(frozen=True)
class Run:
    """One recipe trained on one seed: final metrics and curves (keys: module docstring)."""

    final: Mapping[str, object]
    curves: Mapping[str, Sequence[float]] = field(default_factory=dict)


Runs = Mapping[str, Run]


@dataclass(frozen=True)
class Verdict:
    """A judge's word on one seed, the numbers it read, and its controls' results."""

    word: Word
    measured: dict[str, object]
    controls: dict[str, dict[str, object]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.word not in WORDS:
            raise ValueError(f"verdict word {self.word!r} is not one of {', '.join(WORDS)}")

    @property
    def holds(self) -> bool | None:
        """True for holds / identity, False for partly / no, None for measured."""
        return None if self.word == "measured" else self.word in ("holds", "identity")


_RANK = {"no": 0, "partly": 1, "holds": 2, "identity": 2}


def _r(value: object, digits: int = 3) -> object:
    return round(value, digits) if isinstance(value, float) else value


def brief(final: Mapping[str, object], reps: Sequence[str] = ("z", "p")) -> dict[str, object]:
    """The key numbers of a run: state, std*sqrt(d), m_o, rank per representation, kNN."""
    out: dict[str, object] = {}
    for rep in reps:
        if f"{rep}_state" in final:
            out[f"{rep}_state"] = final[f"{rep}_state"]
            out |= {f"{rep}_{k}": _r(final[f"{rep}_{k}"]) for k in
                    ("std_scaled", "center_norm", "effective_rank") if f"{rep}_{k}" in final}
    out |= {k: _r(final[k]) for k in ("knn", "knn_init") if k in final}
    return out


# ---------------------------------------------------------------------------------------------
# Single-run judges.


def collapsed(final: Mapping[str, object], rep: str = "z") -> Verdict:
    """``rep`` (Z or P) is completely collapsed (collapse.criterion)."""
    word: Word = "holds" if final[f"{rep}_state"] == "collapsed" else "no"
    return Verdict(word, brief(final))


def learns_nothing(final: Mapping[str, object]) -> Verdict:
    """P collapsed and kNN(Z) no better than at random init (Z itself may stay spread)."""
    ok = final["p_state"] == "collapsed" and final["knn"] <= final["knn_init"]
    return Verdict("holds" if ok else "no", brief(final))


def spread_and_learns(final: Mapping[str, object], reps: Sequence[str] = ("z", "p"),
                      knn_gain: float = KNN_GAIN) -> Verdict:
    """No representation in ``reps`` collapsed and kNN >= random-init kNN + ``knn_gain``.

    ``p`` is judged when the run has a predictor (``p_state`` present). "partly" when none
    collapsed completely but one is dimensionally collapsed (its rank is in ``measured``).
    """
    states = [final[f"{rep}_state"] for rep in reps if rep == "z" or f"{rep}_state" in final]
    learns = final["knn"] >= final["knn_init"] + knn_gain
    if "collapsed" in states or not learns:
        word: Word = "no"
    else:
        word = "partly" if "dimensional" in states else "holds"
    return Verdict(word, brief(final))


def inverse_learned(curves: Mapping[str, Sequence[float]], fit: float = INVERSE_FIT) -> Verdict:
    """h^-1 is learned: mean cos(g(P), Z) ends >= ``fit`` and started below it (at init)."""
    start, end = curves["inverse_cos"][0], curves["inverse_cos"][-1]
    word: Word = "holds" if start < fit <= end else "no"
    return Verdict(word, {"inverse_cos_init": _r(start), "inverse_cos_end": _r(end)})


def _finite(values: Sequence[float]) -> list[float]:
    return [v for v in values if v is not None and math.isfinite(v)]


def eta_negative(curves: Mapping[str, Sequence[float]]) -> Verdict:
    """eta < 0 at every record after the first step (o_e points against the center)."""
    etas = _finite(curves["grad_eta"])
    if not etas:
        raise ValueError("grad_eta has no finite value: no gradient was recorded")
    tenth = max(1, len(etas) // 10)
    word: Word = "holds" if all(e < 0 for e in etas) else "no"
    return Verdict(word, {"eta_early": _r(sum(etas[:tenth]) / tenth),
                          "eta_late": _r(sum(etas[-tenth:]) / tenth),
                          "eta_min": _r(min(etas)), "eta_max": _r(max(etas))})


def recovers(curves: Mapping[str, Sequence[float]], switch: int, within: int) -> Verdict:
    """Z collapsed at the ``switch`` step and no longer collapsed ``within`` steps later."""
    steps = list(curves["step"])
    std, m_r = curves["z_std_scaled"], curves["z_residual_norm"]
    at = steps.index(switch)
    later = next((i for i, s in enumerate(steps) if s >= switch + within), None)
    if later is None:
        raise ValueError(f"the curves end at step {steps[-1]:g}, before switch + {within}")
    ok = std[at] < COLLAPSED_STD_SCALED <= std[later]
    return Verdict("holds" if ok else "no", {
        "m_r_at_switch": _r(m_r[at]), f"m_r_{within}_steps_later": _r(m_r[later]),
        "m_r_end": _r(m_r[-1]), "std_scaled_later": _r(std[later])})


def identity(gap: float, name: str, tol: float = EXACT) -> Verdict:
    """A mathematical identity, verified: the measured ``gap`` is below ``tol``."""
    return Verdict("identity" if gap < tol else "no", {name: gap})


def falls_monotonically(values: Sequence[float]) -> bool:
    """Strictly decreasing (the tau sweep of claim 14)."""
    return all(a > b for a, b in zip(values, values[1:], strict=False))


def decorrelates(with_residual: Mapping[str, object], center_only: Mapping[str, object],
                 gain: float = RANK_GAIN) -> Verdict:
    """Keeping r_e raises Z's effective rank by >= ``gain`` over o_e alone (de-correlation)."""
    a, b = with_residual["z_effective_rank"], center_only["z_effective_rank"]
    out = {"rank_with_r_e": _r(a), "rank_o_e_only": _r(b), "rank_gain": _r(a - b)}
    if "z_off_diagonal_correlation" in with_residual and "z_off_diagonal_correlation" in \
            center_only:
        out |= {"corr_with_r_e": _r(with_residual["z_off_diagonal_correlation"]),
                "corr_o_e_only": _r(center_only["z_off_diagonal_correlation"])}
    return Verdict("holds" if a >= b + gain else "no", out)


# ---------------------------------------------------------------------------------------------
# Combining verdicts.


def against(verdict: Verdict, controls: Mapping[str, Verdict]) -> Verdict:
    """``verdict`` stands only if every control fails the same judge (its word is "no")."""
    record = {label: {"word": v.word} | v.measured for label, v in controls.items()}
    passed = [label for label, v in controls.items() if v.word != "no"]
    word: Word = "no" if passed else verdict.word
    measured = dict(verdict.measured)
    if passed:
        measured["controls_passing_the_judge"] = passed
    return Verdict(word, measured, {**verdict.controls, **record})


def conjunction(parts: Mapping[str, Verdict]) -> Verdict:
    """Every part must hold: the weakest word (no < partly < holds = identity)."""
    words = [v.word for v in parts.values()]
    if "measured" in words:
        raise ValueError("a measured part cannot be combined into a verdict")
    weakest = min(words, key=_RANK.__getitem__)
    if weakest in ("holds", "identity") and "holds" in words:
        weakest = "holds"
    controls: dict[str, dict[str, object]] = {}
    for v in parts.values():
        controls |= v.controls
    return Verdict(weakest, {label: {"word": v.word} | v.measured for label, v in
                             parts.items()}, controls)


def best_of(parts: Mapping[str, Verdict]) -> Verdict:
    """One of several forms must hold: the strongest word; each form's word is in measured."""
    best = max(parts.values(), key=lambda v: _RANK[v.word])
    controls: dict[str, dict[str, object]] = {}
    for v in parts.values():
        controls |= v.controls
    return Verdict(best.word, {label: {"word": v.word} | v.measured for label, v in
                               parts.items()}, controls)


# ---------------------------------------------------------------------------------------------
# The claims. Each judge reads one seed's runs; toy and ResNet runners call the same functions.


def _f(runs: Runs, label: str) -> Mapping[str, object]:
    return runs[label].final


def claim_collapses(label: str, control: str = "simsiam") -> Callable[[Runs], Verdict]:
    """Claims 1, 2 (and 6): Z of ``label`` collapsed; ``control`` (not collapsing) must fail it."""
    def judge(runs: Runs) -> Verdict:
        return against(collapsed(_f(runs, label)), {control: collapsed(_f(runs, control))})
    return judge


def claim_3(runs: Runs, control: str = "simsiam") -> Verdict:
    label = "symmetric-predictor"
    return against(learns_nothing(_f(runs, label)), {control: learns_nothing(_f(runs, control))})


def claim_4(runs: Runs, controls: Sequence[str] = ("no-stop-gradient", "symmetric-predictor")
            ) -> Verdict:
    return against(spread_and_learns(_f(runs, "simsiam")),
                   {c: spread_and_learns(_f(runs, c)) for c in controls})


def claim_5(runs: Runs, control: str = "symmetric-predictor") -> Verdict:
    run = runs["inverse-predictor"]
    spread = against(spread_and_learns(run.final), {control: spread_and_learns(_f(runs, control))})
    return conjunction({"inverse-predictor": spread,
                        "h^-1 learned (vs its random init)": inverse_learned(run.curves)})


def claim_6(runs: Runs) -> Verdict:
    return claim_collapses("eoa-target", EOA_WITH_PREDICTOR)(runs)


def claim_7(runs: Runs) -> Verdict:
    """Identity: the dummy losses are gradient ascent on m_o^2/2 and mean|r|^2/2; the runs move."""
    gap = identity(_f(runs, ANALYTIC)["dummy_loss_gap"], "max_abs_gap_vs_grad_of_m2")
    o = runs["center-dummy"].curves["z_center_norm"]
    r = runs["residual-dummy"].curves["z_residual_norm"]
    moved = o[-1] > o[0] and r[-1] > r[0]
    word: Word = gap.word if moved else "no"
    return Verdict(word, gap.measured | {
        "center-dummy m_o": f"{_r(o[0])} -> {_r(o[-1])}",
        "residual-dummy m_r": f"{_r(r[0])} -> {_r(r[-1])}",
        "center-dummy z_state": _f(runs, "center-dummy")["z_state"],
        "residual-dummy z_state": _f(runs, "residual-dummy")["z_state"]})


def claim_8(runs: Runs) -> Verdict:
    return identity(_f(runs, ANALYTIC)["dummy_term_gap"], "max_abs_gradient_difference")


def claim_9(runs: Runs) -> Verdict:
    """o_e only and full G_e: spread and learn (control: r_e only); r_e only collapses
    (control: o_e only)."""
    f = {k: _f(runs, k) for k in ("triplet", "triplet-center", "triplet-residual")}
    no_collapse = {k: against(spread_and_learns(f[k]), {
        "triplet-residual": spread_and_learns(f["triplet-residual"])})
        for k in ("triplet-center", "triplet")}
    collapse = against(collapsed(f["triplet-residual"]),
                       {"triplet-center": collapsed(f["triplet-center"])})
    return conjunction(no_collapse | {"triplet-residual": collapse})


SURVIVORS = ("simsiam-center", "simsiam-residual", "simsiam")


def claim_10(runs: Runs) -> Verdict:
    """X = 0 learns nothing (control: SimSiam); o_e, r_e, G_e keep P spread and learn (control:
    X = 0). The kNN ranking is reported, not judged."""
    x0 = "simsiam-no-extra"
    parts = {x0: against(learns_nothing(_f(runs, x0)),
                         {"simsiam": learns_nothing(_f(runs, "simsiam"))})}
    parts |= {k: against(spread_and_learns(_f(runs, k)), {x0: spread_and_learns(_f(runs, x0))})
              for k in SURVIVORS}
    verdict = conjunction(parts)
    ranking = sorted(SURVIVORS, key=lambda k: -_f(runs, k)["knn"])
    return Verdict(verdict.word, verdict.measured | {"knn_ranking (reported)": ranking},
                   verdict.controls)


def claim_11(runs: Runs, control: str = "center-dummy") -> Verdict:
    return against(eta_negative(runs["simsiam"].curves),
                   {control: eta_negative(runs[control].curves)})


def claim_12(runs: Runs, within: int = 100) -> Verdict:
    run, control = runs[RECOVERY], runs[RECOVERY_CONTROL]
    return against(recovers(run.curves, int(run.final["switch"]), within),
                   {RECOVERY_CONTROL: recovers(control.curves, int(control.final["switch"]),
                                               within)})


def claim_13(runs: Runs) -> Verdict:
    """Measured, not judged: SimSiam's off-diagonal covariance over training."""
    curves = runs["simsiam"].curves
    steps, cov = curves["step"], curves["z_off_diagonal_covariance"]
    peak = max(range(len(cov)), key=cov.__getitem__)
    return Verdict("measured", {
        "covariance_start": _r(cov[0], 5), "peak_step": int(steps[peak]),
        "covariance_peak": _r(cov[peak], 5), "covariance_end": _r(cov[-1], 5),
        "drop_from_peak": _r(1 - cov[-1] / cov[peak]) if cov[peak] else 0.0})


def claim_14(runs: Runs) -> Verdict:
    """Identity: autograd = the closed form. The tau trend is a property of the closed form:
    required on the trained Z, shown on random and near-collapsed Z as well."""
    a = _f(runs, ANALYTIC)
    exact = identity(a["infonce_gap"], "max_abs_gap_autograd_vs_closed_form")
    trend = {k: falls_monotonically(a[f"ratio_{k}"]) for k in
             ("trained", "random", "near_collapsed") if f"ratio_{k}" in a}
    word: Word = exact.word if trend["trained"] else "no"
    return Verdict(word, exact.measured | {
        "ratio falls as tau rises (trained, random, near-collapsed Z)": trend,
        "ratio on the trained Z, tau -> value": {
            str(t): _r(v, 4) for t, v in zip(a["tau"], a["ratio_trained"], strict=True)}})


def claim_15(runs: Runs, control: str = "no-predictor") -> Verdict:
    """Both bias forms judged; the claim holds through the form that holds. Control: no
    predictor (the bias head at b = 0)."""
    forms = {"h(Z) = Z + b on the normalised Z (ours)": "bias-predictor",
             "h(z) = z + b on the raw z (the notes')": BIAS_RAW}
    parts = {name: against(spread_and_learns(_f(runs, label)),
                           {control: spread_and_learns(_f(runs, control))})
             for name, label in forms.items() if label in runs}
    if not parts:
        raise KeyError(f"claim 15 needs a run labelled {' or '.join(forms.values())}")
    return best_of(parts)


def claim_16(runs: Runs) -> Verdict:
    """De-centering: SimSiam's final eta < 0 (measured; for the triplet and InfoNCE eta < 0 by
    construction, reported). De-correlation: r_e adds >= RANK_GAIN effective dimensions over o_e
    alone, for SimSiam and for the triplet."""
    eta = _f(runs, "simsiam")["grad_eta"]
    decentering = Verdict("holds" if eta < 0 else "no", {"simsiam final eta": _r(eta)} | {
        f"{k} final eta (by construction)": _r(_f(runs, k)["grad_eta"])
        for k in ("triplet", "infonce") if k in runs})
    return conjunction({
        "de-centering": decentering,
        "de-correlation simsiam vs simsiam-center": decorrelates(
            _f(runs, "simsiam"), _f(runs, "simsiam-center")),
        "de-correlation triplet vs triplet-center": decorrelates(
            _f(runs, "triplet"), _f(runs, "triplet-center"))})


@dataclass(frozen=True)
class ClaimJudge:
    """One claim of the paper (paper-notes §7) and how it is judged."""

    id: int
    claim: str  # the paper's statement
    criterion: str  # what the judge requires, in words
    control: str  # the control runs and what they must do
    labels: tuple[str, ...]  # the runs the judge reads
    judge: Callable[[Runs], Verdict]


_GAIN = f"kNN >= random-init kNN + {KNN_GAIN}"
CLAIM_JUDGES: tuple[ClaimJudge, ...] = (
    ClaimJudge(1, "No stop-gradient collapses (std -> 0, m_o -> 1).", "Z collapsed",
               "simsiam must not be collapsed", ("no-stop-gradient", "simsiam"),
               claim_collapses("no-stop-gradient")),
    ClaimJudge(2, "Naive Siamese (stop-grad, no predictor) collapses.", "Z collapsed",
               "simsiam must not be collapsed", ("no-predictor", "simsiam"),
               claim_collapses("no-predictor")),
    ClaimJudge(3, "Symmetric predictor collapses.",
               "P collapsed and kNN(Z) <= random-init kNN (Z itself may stay spread)",
               "simsiam must fail it", ("symmetric-predictor", "simsiam"), claim_3),
    ClaimJudge(4, "SimSiam does not collapse.",
               f"Z and P not collapsed and {_GAIN}; partly if dimensional",
               "no-stop-gradient and symmetric-predictor must fail it",
               ("simsiam", "no-stop-gradient", "symmetric-predictor"), claim_4),
    ClaimJudge(5, "Inverse predictor does not collapse, and h^-1 is learnable.",
               f"Z and P not collapsed and {_GAIN}; mean cos(g(P), Z) on held-out points "
               f"below {INVERSE_FIT} at init and >= {INVERSE_FIT} at the end",
               "symmetric-predictor must fail the collapse part",
               ("inverse-predictor", "symmetric-predictor"), claim_5),
    ClaimJudge(6, "Explicit EOA target collapses.", "EOA target without predictor: Z collapsed",
               "the EOA target with an MLP predictor must not be collapsed",
               ("eoa-target", EOA_WITH_PREDICTOR), claim_6),
    ClaimJudge(7, "Conjecture 1: -Z_a.sg(o) raises m_o; -Z_a.sg(r_a) raises m_r.",
               f"identity: the dummy losses' gradient = gradient ascent on m_o^2/2 and "
               f"mean|r|^2/2 (gap < {EXACT}, float64); the runs: m_o and m_r end above their "
               f"start", "none (an identity)", ("center-dummy", "residual-dummy", ANALYTIC),
               claim_7),
    ClaimJudge(8, "The dummy -Z_a term has no effect on the encoder's gradient (exact, autograd).",
               f"identity: max |grad difference| < {EXACT} (float64), incl. the projection "
               f"formula", "none (an identity)", (ANALYTIC,), claim_8),
    ClaimJudge(9, "Triplet: o_e only -> no collapse; r_e only -> collapse; full G_e -> no "
                  "collapse.",
               f"o_e only and G_e: Z not collapsed and {_GAIN} (partly if dimensional); r_e "
               f"only: Z collapsed",
               "triplet-residual must fail the no-collapse judge; triplet-center must fail "
               "the collapse judge", ("triplet", "triplet-center", "triplet-residual"), claim_9),
    ClaimJudge(10, "SimSiam surgery: X = 0 collapses; o_e, r_e, G_e each avoid collapse; G_e is "
                   "best downstream.",
               f"X = 0: P collapsed and kNN <= random init; o_e, r_e, G_e: Z and P not "
               f"collapsed and {_GAIN} (partly if dimensional); kNN ranking reported",
               "X = 0 (simsiam-no-extra) must fail the survivors' judge; simsiam must fail "
               "X = 0's", ("simsiam-no-extra", *SURVIVORS), claim_10),
    ClaimJudge(11, "o_e ~ -0.5 o_p during SimSiam training (zero crossing of cos(o_e - eta o_p, "
                   "o_p)).", "eta = o_e.o_p/|o_p|^2 < 0 at every record; trajectory reported",
               "center-dummy (extra gradient +o, eta = +1) must fail it",
               ("simsiam", "center-dummy"), claim_11),
    ClaimJudge(12, "After forced collapse, a correlation regulariser alone restores m_r quickly.",
               "naive loss for half the steps (Z collapsed at the switch), then the "
               "regulariser alone: Z not collapsed 100 steps later",
               "the naive loss kept after the switch must fail it",
               (RECOVERY, RECOVERY_CONTROL), claim_12),
    ClaimJudge(13, "SimSiam's feature covariance decreases after the first phase of training.",
               "measured and reported (not judged)", "none", ("simsiam",), claim_13),
    ClaimJudge(14, "InfoNCE's extra gradient = -o/tau - sum(lambda_i r_i)/tau (exact), and "
                   "larger tau -> relatively more de-centering.",
               f"identity: autograd vs closed form < {EXACT}; |sum lambda r| / |o| falls "
               f"strictly as tau rises on the trained InfoNCE model's Z (a property of the "
               f"closed form: also reported on random and near-collapsed Z)",
               "none (an identity)", ("infonce", ANALYTIC), claim_14),
    ClaimJudge(15, "A bias-only predictor prevents collapse.",
               f"each form of h = identity + b: Z and P not collapsed and {_GAIN} (partly if "
               f"dimensional); the claim takes the form that holds",
               "no-predictor (b = 0) must fail it", ("bias-predictor", BIAS_RAW, "no-predictor"),
               claim_15),
    ClaimJudge(16, "Unified: negatives and SimSiam's predictor both avoid collapse through the "
                   "center part of an extra gradient, with the residual part adding "
                   "de-correlation.",
               f"SimSiam's final eta < 0 (triplet's and InfoNCE's eta < 0 by construction, "
               f"reported); keeping r_e raises Z's effective rank by >= {RANK_GAIN} over o_e "
               f"alone, for SimSiam and for the triplet",
               "none: a comparison of two runs per method",
               ("simsiam", "simsiam-center", "triplet", "triplet-center", "infonce"), claim_16),
)


def overall(verdicts: Sequence[Verdict]) -> Word:
    """One word for a claim over seeds: the weakest seed's (measured stays measured)."""
    words = [v.word for v in verdicts]
    if "measured" in words:
        return "measured"
    return min(words, key=_RANK.__getitem__)


def claim_record(judge: ClaimJudge, seeds: Sequence[int],
                 verdicts: Sequence[Verdict]) -> dict[str, object]:
    """The object of ``claims.json`` for one claim: ``holds`` is True only when every seed holds
    (or is an identity), None when measured; ``verdict`` is :func:`overall`'s word."""
    word = overall(verdicts)
    words = [v.word for v in verdicts]
    return {
        "id": judge.id, "claim": judge.claim, "criterion": judge.criterion,
        "control": judge.control, "recipes": list(judge.labels),
        "verdict": word,
        "holds": None if word == "measured" else all(v.holds for v in verdicts),
        "seed_verdicts": dict(zip((str(s) for s in seeds), words, strict=True)),
        "control_failed": None if not verdicts[0].controls else all(
            c["word"] == "no" for v in verdicts for c in v.controls.values()),
        "per_seed": [{"seed": s, "verdict": v.word, "holds": v.holds, "measured": v.measured,
                      "controls": v.controls} for s, v in zip(seeds, verdicts, strict=True)],
    }
