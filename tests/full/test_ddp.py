"""Two-process DDP with the gloo backend on the CPU (issue 4; issue 11 §2): real processes, each
in its own process group, killed with it on a timeout.

- every preset trains 2 steps under DDP, the ranks then hold identical weights, and the logged
  loss and std are those of the global batch (tests/full/ddp_worker.py runs the checks, once);
- rank 0 loads the data first, and a failure there stops every rank;
- the SyncBatchNorm path makes the same collective calls on every rank (a recording stand-in);
- ``torchrun -m full.train``: only rank 0 writes; a SIGTERM to one rank stops both, rank 0 saves
  one checkpoint, and ``--resume`` under DDP continues bit for bit.
"""

from __future__ import annotations

import json
import signal

import pytest
import torch

from collapse import metrics
from collapse.recipe import PRESETS
from full import errors
from tests.full.conftest import TINY
from tests.full.processes import finish, free_port, ranks, run_module, running, wait_for


def rows(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    """Both ranks' reports of tests/full/ddp_worker.py, run once for the module."""
    out = tmp_path_factory.mktemp("ddp")
    results = finish(ranks(["-m", "tests.full.ddp_worker", str(out)]), timeout=400)
    for rank, result in enumerate(results):
        assert result.returncode == 0, f"rank {rank}: {result.stderr[-3000:]}"
    return out, [json.loads((out / f"rank{r}.json").read_text()) for r in range(2)]


def test_every_preset_trains_two_steps_and_the_ranks_agree(worker):
    out, reports = worker
    for name in PRESETS:
        assert rows(out / name)[-1]["step"] == 2, name
        for rank, report in enumerate(reports):
            assert report["presets"][name]["identical"], f"{name}: rank {rank} differs"


def test_the_logged_loss_and_std_are_those_of_the_global_batch(worker):
    out, reports = worker
    for name in PRESETS:
        local = [r["presets"][name]["local_losses"] for r in reports]  # per rank, per step
        assert len(local[0]) == 2
        steps = [sum(per_rank) / 2 for per_rank in zip(*local, strict=True)]
        assert rows(out / name)[-1]["loss"] == pytest.approx(sum(steps) / 2, rel=1e-6), name
        assert local[0] != local[1]  # each rank's slice has its own loss
        assert reports[0]["presets"][name]["logged_loss"] == pytest.approx(steps[-1], rel=1e-6)
        z = torch.cat([torch.load(out / f"z-{name}-rank{r}.pt") for r in range(2)])
        assert reports[0]["presets"][name]["logged_std"] == pytest.approx(
            float(metrics.std(z)), rel=1e-6), name


def test_rank_0_loads_first_and_its_failure_stops_every_rank(worker):
    _, reports = worker
    (start0, end0), failing0 = reports[0]["loading"]["calls"]
    (start1, _), = reports[1]["loading"]["calls"]  # rank 1 never tried the failing load
    assert failing0 == "failing"
    assert start1 >= end0 > start0 + 0.9  # rank 1 began after rank 0's 1 s "download"
    for report in reports:
        assert report["loading"]["status"] == errors.BAD_INPUT
    assert "cifar10 not found (test)" in reports[0]["loading"]["message"]


def test_sync_bn_makes_the_same_collective_calls_on_every_rank(worker):
    _, reports = worker
    calls = [r["sync_bn"]["calls"] for r in reports]
    assert all(r["sync_bn"]["converted"] for r in reports)
    assert calls[0] > 0  # the stand-in ran in the training steps
    assert calls[0] == calls[1]  # rank 0 alone made none (epoch 0 is calibrated on plain BN)


def shapes(out, *extra):
    # 32 images, global batch 8 (4 per rank): 4 steps per epoch
    return ["-m", "full.train", "--dataset", "shapes", "--train-size", "32", "--test-size", "16",
            "--epochs", "5", "--out", str(out), *TINY, *extra]


def test_sigterm_to_one_rank_stops_both_and_resume_continues_exactly(tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    # The reference, through the real launcher: torchrun, 2 workers.
    result = run_module("torch.distributed.run", "--nproc_per_node=2",
                        f"--master_port={free_port()}", *shapes(whole), timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads((whole / "summary.json").read_text())["config"]["world_size"] == 2
    assert result.stdout.count("simsiam: std*sqrt(d)") == 1  # one writer: rank 0
    assert sorted(p.name for p in whole.iterdir()) == ["checkpoint.pt", "curves.png",
                                                       "metrics.jsonl", "summary.json"]

    with running(ranks(shapes(cut))) as procs:
        wait_for(lambda: (cut / "metrics.jsonl").exists() and len(rows(cut)) >= 2, 200, procs)
        procs[1].send_signal(signal.SIGTERM)  # rank 1 only
        results = finish(procs, 120)
    status = errors.interrupted(signal.SIGTERM)
    assert [r.returncode for r in results] == [status, status], results[0].stderr[-2000:]
    assert "Traceback" not in results[0].stderr + results[1].stderr
    assert results[0].stderr.count("\n") == 1
    assert "interrupted by SIGTERM" in results[0].stderr
    assert results[1].stderr == ""  # rank 0 speaks for both
    state = torch.load(cut / "checkpoint.pt", weights_only=True)
    assert (state["epoch"], state["step"]) < (5, 0)
    assert sorted(p.name for p in cut.iterdir()) == ["checkpoint.pt", "metrics.jsonl"]

    with running(ranks([*shapes(cut), "--resume"])) as procs:
        results = finish(procs, 300)
    assert [r.returncode for r in results] == [0, 0], results[0].stderr[-3000:]
    assert [r.get("loss") for r in rows(cut)] == [r.get("loss") for r in rows(whole)]
    wa = torch.load(whole / "checkpoint.pt", weights_only=True)["model"]
    wb = torch.load(cut / "checkpoint.pt", weights_only=True)["model"]
    assert all(torch.equal(wa[k], wb[k]) for k in wa)

