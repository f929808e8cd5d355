"""Tests for classroom.pool: a session's run trains in a worker process while playing and stands
when paused, runs on one worker share it fairly and at most TICKS_PER_S ticks/s each, a run
nobody views stops, new runs go to the least busy worker, closed or dropped runs are freed, a
dead worker gives a clear error and is replaced, exports come back from the worker."""

import gc
import os
import signal
import time

import pytest

from classroom.controls import DEFAULTS, config_of
from classroom.pace import TICKS_PER_S
from classroom.pool import Pool, PoolError, RemoteRun, pool_size
from collapse.recipe import preset

CONFIG = config_of(DEFAULTS)
IDLE_S = 1.5  # this pool's idle time: a run not viewed for 1.5 s stops training
WAIT_S = 60.0  # a worker on a loaded machine may take long to import torch


@pytest.fixture(scope="module")
def pool():
    workers = Pool(2, warm=False, idle_after_s=IDLE_S)
    _until(lambda: len(workers.workers) == 2)  # the second starts once the first answered
    yield workers
    workers.close()


def _until(condition, timeout=WAIT_S, every=0.05):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def _runs(pool) -> list[int]:
    return [s["runs"] for s in pool.stats()]


def test_a_run_trains_while_playing_and_stands_when_paused(pool):
    run = RemoteRun([preset("simsiam")], CONFIG, seed=0, pool=pool)
    assert run.steps == 0
    assert not run.view.playing
    run.play(True)
    _until(lambda: run.refresh().steps > 0)
    assert set(run.figures(0)) >= {"picture", "curves"}
    assert all(isinstance(text, str) for text in run.figures(0).values())
    run.play(False)  # acts between two ticks: nothing lands after it
    paused = run.refresh().steps
    time.sleep(0.5)
    assert run.refresh().steps == paused
    run.tick()  # one tick now
    assert run.steps > paused
    before = run.steps
    run.tick(steps=7)  # the Step button: exactly 7 steps
    assert run.steps == before + 7
    assert run.refresh().steps == run.steps  # a paused run stands
    run.close()


def test_runs_on_a_worker_share_it_fairly_at_most_ticks_per_s_each(pool):
    runs = [RemoteRun([preset("simsiam")], CONFIG, seed=s, pool=pool) for s in range(4)]
    try:
        for run in runs:
            run.play(True)
        first = [run.refresh().ticks for run in runs]
        start = time.monotonic()
        for _ in range(30):  # 3 s of play, each page viewing its run
            for run in runs:
                run.refresh()
            time.sleep(0.1)
        ticks = [run.refresh().ticks - t for run, t in zip(runs, first, strict=True)]
        elapsed = time.monotonic() - start
        for worker in pool.workers:
            mine = [t for run, t in zip(runs, ticks, strict=True) if run._worker is worker]
            assert len(mine) == 2  # the least busy worker took each new run
            assert min(mine) >= 3, ticks
            assert max(mine) - min(mine) <= 2, ticks  # earliest due first: round robin
        assert max(ticks) <= TICKS_PER_S * elapsed + 1, (ticks, elapsed)
    finally:
        for run in runs:
            run.close()


def test_a_run_nobody_views_stops_training(pool):
    run = RemoteRun([preset("simsiam")], CONFIG, seed=0, pool=pool)
    worker = pool.workers.index(run._worker)
    run.play(True)
    _until(lambda: run.refresh().ticks > 0)
    time.sleep(IDLE_S + 0.3)  # no view (stats do not count as one): the worker stops ticking it
    stalled = pool.stats()[worker]["ticks"]
    time.sleep(0.5)
    assert pool.stats()[worker]["ticks"] == stalled
    seen = run.refresh().ticks  # viewed again: it resumes
    _until(lambda: run.refresh().ticks > seen, timeout=5)
    run.close()


def test_new_runs_go_to_the_least_busy_worker_and_are_freed(pool):
    before = _runs(pool)
    a = RemoteRun([preset("simsiam")], CONFIG, seed=0, pool=pool)
    b = RemoteRun([preset("simsiam")], CONFIG, seed=1, pool=pool)
    assert a._worker is not b._worker
    assert _runs(pool) == [n + 1 for n in before]
    a.close()
    del b
    gc.collect()
    _until(lambda: _runs(pool) == before, timeout=5)


def test_exports_and_errors_come_back_from_the_worker(pool):
    run = RemoteRun([preset("simsiam"), preset("no-stop-gradient")], CONFIG, seed=0, pool=pool)
    run.tick()
    assert [sim.steps for sim in run.sims] == [run.steps] * 2
    assert run.csv(1).startswith("step,")
    assert run.png(0, "curves").startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="what="):
        run.png(0, "sphere")
    assert run.set_recipe(0, preset("no-stop-gradient"))
    assert run.sims[0].recipe == preset("no-stop-gradient")
    assert not run.set_recipe(0, preset("decorrelation-only"))  # other modules: a reset
    run.close()


def test_a_dead_worker_gives_a_clear_error_and_is_replaced(pool):  # last: it kills one
    run = RemoteRun([preset("simsiam")], CONFIG, seed=0, pool=pool)
    os.kill(run._worker.process.pid, signal.SIGKILL)  # a process this test's pool started
    with pytest.raises(PoolError, match="exited .*press Reset"):
        run.refresh()
    fresh = RemoteRun([preset("simsiam")], CONFIG, seed=0, pool=pool)
    assert fresh.refresh().steps == 0
    assert all(worker.alive for worker in pool.workers)


def test_the_first_worker_starts_alone_and_the_others_once_it_answers():
    """On a cold server the first page waits for one worker, not for two importing torch at
    once on two cores (issue 10 §2)."""
    pool = Pool(3, warm=False)
    try:
        (first,) = pool.workers  # torch takes seconds to import: nobody has answered yet
        assert first.call("stats")["runs"] == 0
        _until(lambda: len(pool.workers) == 3)
        assert pool.workers[0] is first
        assert [s["runs"] for s in pool.stats()] == [0, 0, 0]
    finally:
        pool.close()


def test_a_second_run_starts_the_other_workers_at_once():
    """A class opening the link together is spread over the workers, not all on the first."""
    pool = Pool(2, warm=False)
    try:
        first = pool.worker()
        assert len(pool.workers) == 1  # nobody has answered yet: torch takes seconds
        second = pool.worker()
        assert second is not first
        assert pool.workers == [first, second]
    finally:
        pool.close()


def test_pool_size_is_the_cores_but_one_or_a_valid_override(monkeypatch):
    monkeypatch.delenv("CLASSROOM_WORKERS", raising=False)
    assert pool_size() == max(1, len(os.sched_getaffinity(0)) - 1)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert pool_size() == 1  # one core: one worker, never none
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(8)))
    assert pool_size() == 7  # the server keeps a core
    monkeypatch.setenv("CLASSROOM_WORKERS", "3")
    assert pool_size() == 3
    for bad in ("0", "two", "-1"):
        monkeypatch.setenv("CLASSROOM_WORKERS", bad)
        with pytest.raises(ValueError, match=f"CLASSROOM_WORKERS='{bad}' must be an integer"):
            pool_size()
