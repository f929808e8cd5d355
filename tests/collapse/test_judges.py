"""collapse.judges: every judge says yes on inputs where the claim holds and no where it does not
(small synthetic runs, no training), and a claim's verdict needs its control to fail the judge."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from collapse import judges as jd
from collapse.criterion import COLLAPSED_STD_SCALED


def final(z: str = "healthy", p: str | None = None, knn: float = 0.95, knn_init: float = 0.55,
          rank: float | None = None, eta: float = -0.1, **extra: object) -> dict[str, object]:
    """Final metrics of one synthetic run (keys: collapse.judges docstring)."""
    def rep(prefix: str, state: str, r: float | None) -> dict[str, object]:
        std = 0.05 if state == "collapsed" else 0.9
        r = r if r is not None else {"collapsed": 1.5, "dimensional": 3.0, "healthy": 12.0}[state]
        return {f"{prefix}_state": state, f"{prefix}_std_scaled": std,
                f"{prefix}_center_norm": math.sqrt(1 - std**2), f"{prefix}_effective_rank": r}
    out = rep("z", z, rank) | {"knn": knn, "knn_init": knn_init, "grad_eta": eta}
    if p is not None:
        out |= rep("p", p, None)
    return out | extra


def curves(**series: list[float]) -> dict[str, list[float]]:
    steps = len(next(iter(series.values())))
    return {"step": [10.0 * i for i in range(steps)]} | series


TAUS = [0.1, 1.0, 10.0]
HUNDREDS = [0.0, 100.0, 200.0, 300.0, 400.0]


def paper_world() -> dict[str, jd.Run]:
    """One seed's runs in which every judged claim holds as the paper states it."""
    r = jd.Run
    collapsed_p = final("healthy", "collapsed", knn=0.4)
    falling = [0.05, 0.05, 0.05, 0.6, 0.8]
    return {
        "simsiam": r(final("healthy", "healthy", eta=-0.1, z_off_diagonal_correlation=0.25),
                     curves(grad_eta=[math.nan, -0.5, -0.3, -0.1],
                            z_off_diagonal_covariance=[0.001, 0.005, 0.004, 0.003])),
        "no-stop-gradient": r(final("collapsed", "collapsed", knn=0.6)),
        "no-predictor": r(final("collapsed", knn=0.8)),
        "symmetric-predictor": r(collapsed_p),
        "simsiam-no-extra": r(collapsed_p),
        "simsiam-center": r(final("healthy", "healthy", rank=9.0,
                                  z_off_diagonal_correlation=0.4)),
        "simsiam-residual": r(final("healthy", "healthy", knn=0.97)),
        "inverse-predictor": r(final("healthy", "healthy"), curves(inverse_cos=[0.3, 0.7, 0.95])),
        "eoa-target": r(final("collapsed", knn=0.8)),
        jd.EOA_WITH_PREDICTOR: r(final("healthy", "healthy")),
        "center-dummy": r(final("collapsed", knn=0.4, eta=1.0),
                          curves(z_center_norm=[0.5, 0.9, 1.0], grad_eta=[math.nan, 1.0, 1.0])),
        "residual-dummy": r(final("healthy", knn=0.4), curves(z_residual_norm=[0.8, 0.9, 1.0])),
        "triplet": r(final("healthy", rank=10.0, eta=-1.0)),
        "triplet-center": r(final("healthy", rank=8.0, eta=-1.0)),
        "triplet-residual": r(final("collapsed", knn=0.8)),
        "infonce": r(final("healthy", rank=15.0, eta=-3.5)),
        "bias-predictor": r(final("healthy", "healthy")),
        jd.BIAS_RAW: r(final("collapsed", "collapsed", knn=0.6)),
        jd.RECOVERY: r(final("healthy", switch=200),
                       {"step": HUNDREDS, "z_std_scaled": falling, "z_residual_norm": falling}),
        jd.RECOVERY_CONTROL: r(final("collapsed", switch=200),
                               {"step": HUNDREDS, "z_std_scaled": [0.05] * 5,
                                "z_residual_norm": [0.05] * 5}),
        jd.ANALYTIC: r({"dummy_term_gap": 1e-17, "dummy_loss_gap": 1e-17, "infonce_gap": 1e-15,
                        "tau": TAUS, "ratio_trained": [10.0, 1.0, 0.1],
                        "ratio_random": [9.0, 2.0, 0.2], "ratio_near_collapsed": [5.0, 1.0, 0.5]}),
    }


def judge(claim_id: int, runs: dict[str, jd.Run]) -> jd.Verdict:
    return jd.CLAIM_JUDGES[claim_id - 1].judge(runs)


def with_final(runs: dict[str, jd.Run], label: str, **changes: object) -> dict[str, jd.Run]:
    """A copy of ``runs`` with ``label``'s final metrics replaced by ``final(**changes)``,
    keeping its curves."""
    old = runs[label]
    return runs | {label: replace(old, final=final(**changes) | {
        k: v for k, v in old.final.items() if k == "switch"})}


def with_analytic(runs: dict[str, jd.Run], **changes: object) -> dict[str, jd.Run]:
    return runs | {jd.ANALYTIC: jd.Run(dict(runs[jd.ANALYTIC].final) | changes)}


def with_curves(runs: dict[str, jd.Run], label: str, **changes: list[float]) -> dict[str, jd.Run]:
    old = runs[label]
    return runs | {label: replace(old, curves=dict(old.curves) | changes)}


# ---------------------------------------------------------------------------------------------
# Single-run judges: a True and a False case each.


def test_collapsed_reads_the_state_of_the_named_representation():
    assert jd.collapsed(final("collapsed")).word == "holds"
    assert jd.collapsed(final("healthy")).word == "no"
    assert jd.collapsed(final("dimensional")).word == "no"
    assert jd.collapsed(final("healthy", "collapsed"), rep="p").word == "holds"
    assert jd.collapsed(final("healthy", "collapsed"), rep="z").word == "no"


def test_learns_nothing_needs_p_collapsed_and_no_knn_gain():
    assert jd.learns_nothing(final("healthy", "collapsed", knn=0.4, knn_init=0.5)).holds
    assert not jd.learns_nothing(final("healthy", "collapsed", knn=0.6, knn_init=0.5)).holds
    assert not jd.learns_nothing(final("healthy", "healthy", knn=0.4, knn_init=0.5)).holds


def test_spread_and_learns_words():
    assert jd.spread_and_learns(final("healthy", "healthy")).word == "holds"
    assert jd.spread_and_learns(final("healthy")).word == "holds"  # no predictor: Z only
    assert jd.spread_and_learns(final("collapsed")).word == "no"
    assert jd.spread_and_learns(final("healthy", "collapsed")).word == "no"  # P collapsed
    assert jd.spread_and_learns(final("healthy", "collapsed"), reps=("z",)).word == "holds"
    assert jd.spread_and_learns(final("dimensional")).word == "partly"
    assert jd.spread_and_learns(final("healthy", "dimensional")).word == "partly"
    # Spread but no better than random init (the X = 0 run): no.
    gain = jd.KNN_GAIN
    assert jd.spread_and_learns(final(knn=0.55 + gain * 0.99, knn_init=0.55)).word == "no"
    assert jd.spread_and_learns(final(knn=0.55 + gain * 1.01, knn_init=0.55)).word == "holds"


def test_partly_shows_the_rank():
    verdict = jd.spread_and_learns(final("dimensional", rank=3.3))
    assert verdict.measured["z_effective_rank"] == 3.3
    assert verdict.holds is False


def test_inverse_learned_needs_the_fit_reached_from_below():
    assert jd.inverse_learned({"inverse_cos": [0.3, 0.9]}).holds
    assert not jd.inverse_learned({"inverse_cos": [0.3, 0.7]}).holds  # never reaches the fit
    assert not jd.inverse_learned({"inverse_cos": [0.9, 0.95]}).holds  # fitted from the start


def test_eta_negative_skips_the_record_before_the_first_step_only():
    assert jd.eta_negative({"grad_eta": [math.nan, -0.5, -0.1]}).holds
    assert not jd.eta_negative({"grad_eta": [math.nan, -0.5, 0.01]}).holds
    assert not jd.eta_negative({"grad_eta": [math.nan, 0.0, 0.0]}).holds  # no extra gradient
    measured = jd.eta_negative({"grad_eta": [math.nan] + [-0.5] * 10 + [-0.1] * 10}).measured
    assert measured["eta_early"] == -0.5
    assert measured["eta_late"] == -0.1
    with pytest.raises(ValueError, match="grad_eta"):
        jd.eta_negative({"grad_eta": [math.nan]})


def test_recovers_needs_collapse_at_the_switch_and_spread_later():
    up = [0.05, 0.05, 0.05, 0.6, 0.8]
    steps = [0.0, 10.0, 20.0, 30.0, 40.0]
    assert jd.recovers({"step": steps, "z_std_scaled": up, "z_residual_norm": up}, 20, 10).holds
    assert not jd.recovers({"step": steps, "z_std_scaled": up, "z_residual_norm": up}, 20,
                           0).holds  # still collapsed at the switch itself
    flat = [0.05] * 5
    assert not jd.recovers({"step": steps, "z_std_scaled": flat, "z_residual_norm": flat},
                           20, 10).holds
    spread = [0.9] * 5  # never collapsed: nothing to recover from
    assert not jd.recovers({"step": steps, "z_std_scaled": spread, "z_residual_norm": spread},
                           20, 10).holds
    assert COLLAPSED_STD_SCALED > 0.05
    with pytest.raises(ValueError, match="before switch"):
        jd.recovers({"step": steps, "z_std_scaled": up, "z_residual_norm": up}, 20, 100)


def test_identity_is_identity_only_below_the_tolerance():
    assert jd.identity(1e-15, "gap").word == "identity"
    assert jd.identity(1e-3, "gap").word == "no"
    assert jd.identity(1e-3, "gap").measured == {"gap": 1e-3}


def test_falls_monotonically():
    assert jd.falls_monotonically([3.0, 2.0, 1.0])
    assert not jd.falls_monotonically([3.0, 2.0, 2.0])
    assert not jd.falls_monotonically([1.0, 2.0, 3.0])


def test_decorrelates_needs_a_rank_gain():
    assert jd.decorrelates(final(rank=12.0), final(rank=12.0 - jd.RANK_GAIN)).holds
    assert not jd.decorrelates(final(rank=3.3), final(rank=3.0)).holds
    assert not jd.decorrelates(final(rank=3.0), final(rank=9.0)).holds


def test_against_requires_every_control_to_fail():
    yes, no = jd.Verdict("holds", {}), jd.Verdict("no", {})
    assert jd.against(yes, {"c": no}).word == "holds"
    verdict = jd.against(yes, {"c": no, "d": jd.Verdict("partly", {})})
    assert verdict.word == "no"
    assert verdict.measured["controls_passing_the_judge"] == ["d"]
    assert verdict.controls["c"]["word"] == "no"


def test_conjunction_and_best_of():
    h, p, n, i = (jd.Verdict(w, {}) for w in ("holds", "partly", "no", "identity"))
    assert jd.conjunction({"a": h, "b": p}).word == "partly"
    assert jd.conjunction({"a": h, "b": n}).word == "no"
    assert jd.conjunction({"a": h, "b": i}).word == "holds"
    assert jd.conjunction({"a": i}).word == "identity"
    assert jd.best_of({"a": n, "b": p}).word == "partly"
    assert jd.best_of({"a": n, "b": n}).word == "no"
    with pytest.raises(ValueError, match="measured"):
        jd.conjunction({"a": jd.Verdict("measured", {})})


def test_verdict_words_and_holds():
    assert jd.Verdict("identity", {}).holds is True
    assert jd.Verdict("partly", {}).holds is False
    assert jd.Verdict("measured", {}).holds is None
    with pytest.raises(ValueError, match="yes"):
        jd.Verdict("yes", {})  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------
# The claims: each holds in the paper's world, fails when its run misbehaves, and fails when its
# control passes the same judge.

EXPECTED = dict.fromkeys(range(1, 17), "holds") | {7: "identity", 8: "identity", 14: "identity",
                                                  13: "measured"}


@pytest.mark.parametrize("claim_id", range(1, 17))
def test_every_claim_holds_in_the_papers_world(claim_id):
    assert judge(claim_id, paper_world()).word == EXPECTED[claim_id]


BROKEN = {  # claim -> the runs changed so that the claim fails
    1: lambda w: with_final(w, "no-stop-gradient", z="healthy", p="healthy"),
    2: lambda w: with_final(w, "no-predictor", z="healthy"),
    3: lambda w: with_final(w, "symmetric-predictor", z="healthy", p="collapsed", knn=0.9),
    4: lambda w: with_final(w, "simsiam", z="healthy", p="healthy", knn=0.56),
    5: lambda w: with_curves(w, "inverse-predictor", inverse_cos=[0.3, 0.5, 0.6]),
    6: lambda w: with_final(w, "eoa-target", z="healthy"),
    7: lambda w: with_analytic(w, dummy_loss_gap=1e-4),
    8: lambda w: with_analytic(w, dummy_term_gap=1e-4),
    9: lambda w: with_final(w, "triplet-residual", z="healthy"),
    10: lambda w: with_final(w, "simsiam-residual", z="healthy", p="collapsed"),
    11: lambda w: with_curves(w, "simsiam", grad_eta=[math.nan, -0.5, 0.2]),
    12: lambda w: with_curves(w, jd.RECOVERY, z_std_scaled=[0.05] * 5),
    14: lambda w: with_analytic(w, ratio_trained=[1.0, 2.0, 0.5]),
    15: lambda w: with_final(w, "bias-predictor", z="collapsed", p="collapsed"),
    16: lambda w: with_final(w, "triplet", rank=8.5, eta=-1.0),
}


@pytest.mark.parametrize("claim_id", sorted(BROKEN))
def test_every_judged_claim_can_say_no(claim_id):
    assert judge(claim_id, BROKEN[claim_id](paper_world())).word == "no"


CONTROL_PASSES = {  # claim -> its control changed so that it passes the judge too
    1: lambda w: with_final(w, "simsiam", z="collapsed", p="collapsed"),
    2: lambda w: with_final(w, "simsiam", z="collapsed", p="collapsed"),
    3: lambda w: with_final(w, "simsiam", p="collapsed", knn=0.5),
    4: lambda w: with_final(w, "symmetric-predictor", z="healthy", p="healthy"),
    5: lambda w: with_final(w, "symmetric-predictor", z="healthy", p="healthy"),
    6: lambda w: with_final(w, jd.EOA_WITH_PREDICTOR, z="collapsed", p="collapsed"),
    9: lambda w: with_final(w, "triplet-residual", z="healthy"),
    10: lambda w: with_final(w, "simsiam-no-extra", z="healthy", p="healthy"),
    11: lambda w: with_curves(w, "center-dummy", grad_eta=[math.nan, -1.0, -1.0]),
    12: lambda w: with_curves(w, jd.RECOVERY_CONTROL, z_std_scaled=[0.05, 0.05, 0.05, 0.5, 0.5]),
    15: lambda w: with_final(w, "no-predictor", z="healthy"),
}


@pytest.mark.parametrize("claim_id", sorted(CONTROL_PASSES))
def test_a_claim_fails_when_its_control_passes_the_same_judge(claim_id):
    world = paper_world()
    assert judge(claim_id, world).controls, "the claim names no control"
    assert all(c["word"] == "no" for c in judge(claim_id, world).controls.values())
    verdict = judge(claim_id, CONTROL_PASSES[claim_id](world))
    assert verdict.word == "no"
    assert verdict.measured.get("controls_passing_the_judge") or any(
        isinstance(v, dict) and v.get("controls_passing_the_judge")
        for v in verdict.measured.values())


def test_dimensional_collapse_is_partly():
    """Claims 9, 10 and 15 say partly, not holds, when a survivor is dimensionally collapsed."""
    world = paper_world()
    assert judge(9, with_final(world, "triplet", z="dimensional", rank=3.3)).word == "partly"
    assert judge(10, with_final(world, "simsiam-center", z="healthy", p="dimensional")).word \
        == "partly"
    assert judge(15, with_final(world, "bias-predictor", z="dimensional", p="dimensional")
                 ).word == "partly"


def test_claim_15_says_which_bias_form_holds():
    verdict = judge(15, paper_world())
    words = {name: part["word"] for name, part in verdict.measured.items()}
    assert sorted(words.values()) == ["holds", "no"]
    raw_holds = with_final(paper_world(), jd.BIAS_RAW, z="healthy", p="healthy")
    assert sorted(p["word"] for p in judge(15, raw_holds).measured.values()) == ["holds", "holds"]
    both_fail = with_final(paper_world(), "bias-predictor", z="collapsed", p="collapsed")
    assert judge(15, both_fail).word == "no"


def test_claim_7_needs_the_runs_to_move_as_the_identity_says():
    world = with_curves(paper_world(), "center-dummy", z_center_norm=[0.9, 0.5])
    assert judge(7, world).word == "no"


def test_claim_14_reports_the_trend_on_random_z_as_a_property_of_the_closed_form():
    measured = judge(14, paper_world()).measured
    trend = measured["ratio falls as tau rises (trained, random, near-collapsed Z)"]
    assert trend == {"trained": True, "random": True, "near_collapsed": True}


def test_claim_16_judges_the_residual_part_per_method():
    world = with_final(paper_world(), "simsiam-center", z="healthy", p="healthy", rank=12.0)
    verdict = judge(16, world)
    assert verdict.word == "no"
    assert verdict.measured["de-correlation simsiam vs simsiam-center"]["word"] == "no"
    assert verdict.measured["de-correlation triplet vs triplet-center"]["word"] == "holds"
    assert judge(16, with_final(paper_world(), "simsiam", eta=0.1)).word == "no"


def test_overall_and_claim_record():
    h, p, m = jd.Verdict("holds", {}), jd.Verdict("partly", {"r": 3.0}), jd.Verdict("measured", {})
    assert jd.overall([h, h]) == "holds"
    assert jd.overall([h, p]) == "partly"
    assert jd.overall([m, m]) == "measured"
    judge_ = jd.CLAIM_JUDGES[8]
    record = jd.claim_record(judge_, [0, 1], [h, p])
    assert record["id"] == 9
    assert record["verdict"] == "partly"
    assert record["holds"] is False
    assert record["seed_verdicts"] == {"0": "holds", "1": "partly"}
    assert jd.claim_record(judge_, [0], [h])["holds"] is True
    assert jd.claim_record(jd.CLAIM_JUDGES[12], [0], [m])["holds"] is None


def test_claim_table_is_complete():
    assert [c.id for c in jd.CLAIM_JUDGES] == list(range(1, 17))
    world = paper_world()
    for c in jd.CLAIM_JUDGES:
        assert set(c.labels) <= set(world), c.id
