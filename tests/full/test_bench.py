"""Tests for full.bench: it runs end to end on tiny sizes and reports the ratio."""

from __future__ import annotations

import re

from full import bench


def test_bench_prints_every_row_and_the_ratio(capsys, one_thread):
    assert bench.main(["--batch", "8", "--batches", "1", "--repeats", "2", "--workers", "0",
                       "--width", "2", "--steps", "1"]) == 0
    out = capsys.readouterr().out
    rates = dict(re.findall(r"\| ([^|]+?) \| ([\d,]+) \|", out))
    assert set(rates) == {"device augmentation (2 views)",
                          "torchvision DataLoader, 0 workers (2 views)",
                          "training step, ResNet-18 width 2, batch 8"}
    assert all(int(v.replace(",", "")) > 0 for v in rates.values())
    ratio = float(re.search(r"ratio device / torchvision \| ([\d.]+)x", out).group(1))
    device, loader = (int(rates[k].replace(",", "")) for k in (
        "device augmentation (2 views)", "torchvision DataLoader, 0 workers (2 views)"))
    assert abs(ratio - device / loader) <= 0.05 + 0.01 * ratio  # printed with one decimal


def test_best_time_is_the_fastest_pass(monkeypatch):
    durations = iter([0.03, 0.01, 0.02])
    clock = {"t": 0.0}

    def work():
        clock["t"] += next(durations)

    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock["t"])
    assert abs(bench.best_time(work, 3, lambda: None) - 0.01) < 1e-12
