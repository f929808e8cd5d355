"""Tests for classroom.live: bounded ticks in lock-step, bounded history, the
collapse banner (collapse, then recovery under the correlation regulariser), exports."""

import pytest

from classroom import live
from classroom.controls import DEFAULTS, config_of
from classroom.live import LiveRun
from collapse.recipe import preset

CONFIG = config_of(DEFAULTS)  # the app's defaults: d = 3
FEW_TICKS = 5  # "within a few ticks"
RECOVERY_TICKS = 40  # the reasonable budget for the regulariser to undo a collapse


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_tick_takes_between_one_and_max_steps_and_runs_in_lock_step():
    run = LiveRun([preset("simsiam"), preset("no-stop-gradient")], CONFIG, seed=0)
    assert [sim.steps for sim in run.sims] == [0, 0]
    taken = [run.tick() for _ in range(3)]
    assert all(1 <= k <= live.STEPS_PER_TICK for k in taken)
    assert run.steps == sum(taken)
    assert [sim.steps for sim in run.sims] == [run.steps] * 2
    assert run.tick(budget_s=0.0) == 1
    assert run.tick(budget_s=60.0) == live.STEPS_PER_TICK
    assert [sim.steps for sim in run.sims] == [run.steps] * 2
    assert [len(r) for r in run.records] == [1 + run.ticks] * 2
    assert run.latest(0)["step"] == run.steps


def test_a_busy_machine_does_not_shrink_the_tick(monkeypatch):
    """Time the core spends on other processes is not this run's step time: a tick whose wall
    clock is stretched (here by a sleep in every step, as a preempted worker's is) still trains
    the class pace, STEPS_PER_TICK steps."""
    import time

    run = LiveRun([preset("simsiam")], CONFIG, seed=0)
    sim = run.sims[0]

    def preempted(k):
        # 10 ms of wall clock per step and almost no CPU: no real training, whose own CPU
        # time came near the budget on a slow, loaded machine (CI: 15, 15, 15, 14 steps)
        time.sleep(0.01 * k)
        sim.steps += k

    monkeypatch.setattr(run.sims[0], "step", preempted)
    taken = [run.tick() for _ in range(4)]
    assert taken == [live.STEPS_PER_TICK] * 4


def test_a_slow_step_still_shrinks_the_tick(monkeypatch):
    """The budget still bounds a tick's CPU time: steps that compute for 10 ms each (60 ms
    budget) bring a tick down to at most 6 steps."""
    import time

    run = LiveRun([preset("simsiam")], CONFIG, seed=0)
    step = run.sims[0].step

    def slow(k):
        end = time.thread_time() + 0.01 * k
        while time.thread_time() < end:  # 10 ms of this thread's CPU per step
            pass
        return step(k)

    monkeypatch.setattr(run.sims[0], "step", slow)
    taken = [run.tick(budget_s=0.06) for _ in range(6)]
    assert taken[-1] <= 6, taken


def test_history_stays_bounded_after_many_ticks(monkeypatch):
    monkeypatch.setattr(live, "HISTORY", 6)
    monkeypatch.setattr(live, "KNN_EVERY", 2)
    run = LiveRun([preset("simsiam")], CONFIG, seed=0)
    for _ in range(20):
        run.tick(budget_s=0.0)
    assert run.ticks == 20
    assert len(run.records[0]) == len(run.sims[0].history) == len(run.knn[0]) == 6
    series = run.series(0)
    assert series["step"] == [float(s) for s in range(15, 21)]
    assert all(len(v) == 6 for v in series.values())


def test_banner_trips_for_no_stop_gradient_within_a_few_ticks():
    run = LiveRun([preset("no-stop-gradient"), preset("simsiam")], CONFIG, seed=0)
    assert run.banner(0) is None
    for _ in range(FEW_TICKS):
        run.tick()
        if run.banner(0) == "collapsed":
            break
    assert run.banner(0) == "collapsed"
    assert run.latest(0)["z_std_scaled"] < 0.3
    assert run.banner(1) is None  # SimSiam, same data, seed and steps


def test_banner_recovers_when_switched_to_decorrelation_only():
    run = LiveRun([preset("no-predictor")], CONFIG, seed=0)
    for _ in range(FEW_TICKS):
        run.tick()
        if run.banner(0) == "collapsed":
            break
    assert run.banner(0) == "collapsed"
    assert run.set_recipe(0, preset("decorrelation-only"))
    assert run.sims[0].recipe == preset("decorrelation-only")
    states = []
    for _ in range(RECOVERY_TICKS):
        run.tick()
        states.append(run.banner(0))
        if states[-1] == "recovered":
            break
    assert states[-1] == "recovered", (run.steps, run.latest(0)["z_std_scaled"])
    assert run.banner(0) == "recovered"  # it stays labelled recovered while it is


def test_set_recipe_refuses_an_incompatible_recipe():
    run = LiveRun([preset("no-stop-gradient")], CONFIG, seed=0)  # has the MLP predictor
    assert not run.set_recipe(0, preset("decorrelation-only"))  # has none: needs a reset
    assert run.sims[0].recipe == preset("no-stop-gradient")
    assert run.set_recipe(0, preset("simsiam"))  # stop-gradient back on: same modules


def test_set_optimizer_changes_every_run():
    run = LiveRun([preset("simsiam"), preset("byol")], CONFIG, seed=0)
    run.set_optimizer(0.123, 0.004)
    for sim in run.sims:
        assert {(g["lr"], g["weight_decay"]) for g in sim.optimizer.param_groups} == {
            (0.123, 0.004)}


def test_gradient_parts_name_the_recorded_parts():
    run = LiveRun([preset("simsiam"), preset("infonce")], CONFIG, seed=0)
    assert run.gradient_parts(0) == {}  # no batch before the first step
    run.tick(budget_s=0.0)
    simsiam, infonce = run.gradient_parts(0), run.gradient_parts(1)
    assert {kind for kind, _ in simsiam.values()} == {"basic", "center", "residual"}
    assert {"decentering", "decorrelation"} <= {kind for kind, _ in infonce.values()}
    assert all(value >= 0 for _, value in [*simsiam.values(), *infonce.values()])


def test_csv_has_a_header_and_one_row_per_record():
    run = LiveRun([preset("simsiam")], CONFIG, seed=0)
    for _ in range(4):
        run.tick(budget_s=0.0)
    lines = run.csv(0).splitlines()
    header = lines[0].split(",")
    assert header[0] == "step"
    assert {"z_std_scaled", "z_center_norm", "z_effective_rank", "loss"} <= set(header)
    assert len(lines) == 1 + len(run.records[0])
    assert all(len(line.split(",")) == len(header) for line in lines[1:])
    assert [float(line.split(",")[0]) for line in lines[1:]] == run.series(0)["step"]


def test_png_returns_png_bytes():
    run = LiveRun([preset("simsiam")], CONFIG, seed=0)
    run.tick(budget_s=0.0)
    for what in ("representations", "curves"):
        assert run.png(0, what).startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="what="):
        run.png(0, "sphere")
