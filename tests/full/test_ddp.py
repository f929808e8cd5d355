"""``torchrun --nproc_per_node=2 -m full.train`` with the gloo backend on CPU (issue 4, DDP)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

from tests.full.conftest import TINY


def test_two_processes_train_and_only_rank_0_writes(tmp_path):
    out = tmp_path / "ddp"
    with socket.socket() as s:  # a free port for the rendezvous (torchrun cannot take 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Its own process group: on a timeout the workers die with torchrun, none is left behind.
    proc = subprocess.Popen(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
         f"--master_port={port}", "-m", "full.train", "--dataset", "shapes", "--train-size", "16",
         "--test-size", "16", "--epochs", "1", "--out", str(out), *TINY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
    assert result.returncode == 0, result.stderr[-2000:]
    untrained, row = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert (untrained["epoch"], row["epoch"]) == (0, 1)
    assert row["step"] == 2  # 16 images, global batch 8 (4 per process): 2 steps
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["world_size"] == 2
    # one writer: rank 1 printed no summary line and left no temp files behind
    assert result.stdout.count("simsiam: std*sqrt(d)") == 1
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt", "curves.png",
                                                     "metrics.jsonl", "summary.json"]
