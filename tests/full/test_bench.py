"""Tests for full.bench: it runs end to end on tiny sizes and reports counts, rates and ratios."""

from __future__ import annotations

import re
import subprocess
import sys

import torch

from full import bench

TINY = ["--batch", "8", "--batches", "1", "--repeats", "2", "--workers", "0", "--width", "2",
        "--steps", "2"]


def table(out: str) -> dict[str, float]:
    return {k: float(v.replace(",", "")) for k, v in re.findall(r"\| ([^|]+?) \| ([\d,.]+)x? \|",
                                                                out)}


def test_bench_prints_every_row_and_the_ratios(capsys, one_thread):
    assert bench.main(TINY) == 0
    rows = table(capsys.readouterr().out)
    step = "ResNet-18 width 2, batch 8"
    rates = ["device augmentation (2 views)", "torchvision DataLoader, 0 workers (2 views)",
             f"training step alone, {step}", f"augmentation + training step, {step}"]
    counts = ["augmentation, 2 views", "model: forward, backward, SGD"]
    ratios = ["ratio device augmentation / torchvision", "ratio augmentation + step / torchvision"]
    assert set(rows) == set(rates + counts + ratios)
    assert all(rows[k] > 0 for k in rates + counts)
    assert 20 < rows["augmentation, 2 views"] <= 150  # full.augment's budget (issue 11 §4)
    device, loader = rows[rates[0]], rows[rates[1]]
    ratio = rows[ratios[0]]
    assert abs(ratio - device / loader) <= 0.05 + 0.01 * ratio  # printed with one decimal


def test_dispatches_counts_the_operators_called_from_python():
    x = torch.ones(4, 4)
    assert bench.dispatches(lambda: x + 1) == 1
    assert bench.dispatches(lambda: (x + 1) * 2 - x) == 3
    # linear calls addmm (or matmul) inside: one dispatch from Python
    layer = torch.nn.Linear(4, 4)
    assert bench.dispatches(lambda: torch.nn.functional.linear(x, layer.weight)) == 1


def test_best_time_is_the_fastest_pass(monkeypatch):
    durations = iter([0.03, 0.01, 0.02])
    clock = {"t": 0.0}

    def work():
        clock["t"] += next(durations)

    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock["t"])
    assert abs(bench.best_time(work, 3, lambda: None) - 0.01) < 1e-12


def test_bench_runs_as_a_command_and_rejects_a_bad_flag():
    ok = subprocess.run([sys.executable, "-m", "full.bench", *TINY, "--steps", "0"],
                        capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert "ratio device augmentation / torchvision" in ok.stdout
    assert "training step" not in ok.stdout  # --steps 0 skips the step
    bad = subprocess.run([sys.executable, "-m", "full.bench", "--steps", "-1"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert "--steps" in bad.stderr
    assert "Traceback" not in bad.stderr
