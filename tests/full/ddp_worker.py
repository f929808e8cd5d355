"""One rank of the DDP checks of tests/full/test_ddp.py (issue 11 §2), gloo on the CPU.

Run as ``python -m tests.full.ddp_worker OUT`` in each of two processes with torchrun's
environment (tests.full.processes.ranks). One pair of processes runs every check, to keep CI
short; each rank writes what it saw to ``OUT/rank<R>.json`` and the test compares the ranks:

- ``loading``: rank 0 loads (downloads) the data before any other rank starts; a failure on
  rank 0 stops both ranks with status 2 (no rank left waiting);
- ``sync_bn``: a stand-in for SyncBatchNorm (the real one needs CUDA) that makes one collective
  call per forward in training mode and counts them: the ranks must make the same calls;
- ``presets``: every preset of collapse.recipe.PRESETS trains 2 steps; the ranks' parameters
  after them, their own (local) losses, the logged loss and std, and the z of the last step.
"""

from __future__ import annotations

import datetime
import json
import pathlib
import sys
import time
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from collapse.recipe import PRESETS
from full import trainer as trainer_module
from full.data import DataError
from full.errors import Stop
from full.train import parse
from full.trainer import Trainer
from tests.full.conftest import TINY


def flags(out: pathlib.Path, *extra: str) -> list[str]:
    # 16 images, global batch 8 (4 per rank): 2 steps in one epoch
    return ["--dataset", "shapes", "--train-size", "16", "--test-size", "16", "--epochs", "1",
            "--out", str(out), *TINY, *extra]


def loading(out: pathlib.Path, rank: int) -> dict[str, Any]:
    real, calls = trainer_module.load, []

    def slow_load(*args: Any, **kwargs: Any):  # noqa: ANN202
        start = time.time()
        if rank == 0:
            time.sleep(1.0)  # a download: the other rank must not start meanwhile
        data = real(*args, **kwargs)
        calls.append([start, time.time()])
        return data

    def failing_load(*args: Any, **kwargs: Any):  # noqa: ANN202
        calls.append("failing")
        if rank == 0:
            raise DataError("cifar10 not found (test)")
        return real(*args, **kwargs)

    trainer_module.load = slow_load
    Trainer(parse(flags(out / "loading"), cuda=False)).close()
    trainer_module.load = failing_load
    status, message = None, None
    try:
        Trainer(parse(flags(out / "loading"), cuda=False)).close()
    except Stop as stop:
        status, message = stop.status, str(stop)
    trainer_module.load = real
    return {"calls": calls, "status": status, "message": message}


class RecordingSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """Batch norm that, like SyncBatchNorm, makes a collective call per forward in training."""

    calls = 0

    def _check_input_dim(self, input: torch.Tensor) -> None:  # 2-d and 4-d, as SyncBatchNorm
        pass

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            dist.all_reduce(torch.ones(1))
            RecordingSyncBatchNorm.calls += 1
        return super().forward(x)


def convert(module: nn.Module, process_group: object = None) -> nn.Module:
    """Stand-in for ``nn.SyncBatchNorm.convert_sync_batchnorm``: in place, like the real one."""
    for name, child in module.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            new = RecordingSyncBatchNorm(child.num_features, child.eps, child.momentum,
                                         child.affine, child.track_running_stats)
            new.load_state_dict(child.state_dict())
            setattr(module, name, new)
        else:
            convert(child)
    return module


def sync_bn(out: pathlib.Path) -> dict[str, Any]:
    real = nn.SyncBatchNorm.convert_sync_batchnorm
    nn.SyncBatchNorm.convert_sync_batchnorm = convert
    try:
        args = parse(flags(out / "sync-bn"), cuda=False)
        args.sync_bn = True  # the flag is refused without CUDA; the stand-in runs on the CPU
        run = Trainer(args)
        try:
            run.fit()
        finally:
            run.close()
        converted = any(isinstance(m, RecordingSyncBatchNorm) for m in run.model.modules())
    finally:
        nn.SyncBatchNorm.convert_sync_batchnorm = real
    return {"calls": RecordingSyncBatchNorm.calls, "converted": converted}


def presets(out: pathlib.Path, rank: int) -> dict[str, Any]:
    result = {}
    for name in PRESETS:
        run = Trainer(parse(flags(out / name, "--recipe", name), cuda=False))
        run._finish = lambda: None  # rank 0's final probe and figure: no DDP in them, and slow
        local: list[float] = []
        step = run.train_step

        def recording(views, step=step, run=run, local=local):  # noqa: ANN001, ANN202
            a = step(views)
            local.append(run.epoch_losses[-1].item())  # this rank's, before the read-back
            run.last_z = a.z.detach()
            return a

        run.train_step = recording
        try:
            run.fit()
        finally:
            run.close()
        flat = torch.cat([p.detach().flatten() for p in run.model.parameters()])
        every = [torch.empty_like(flat) for _ in range(dist.get_world_size())]
        dist.all_gather(every, flat)
        torch.save(run.last_z, out / f"z-{name}-rank{rank}.pt")
        result[name] = {"identical": all(torch.equal(every[0], f) for f in every),
                        "local_losses": local, "logged_loss": run.last_logged[0],
                        "logged_std": run.last_logged[1]}
    return result


def main(out: pathlib.Path) -> None:
    dist.init_process_group("gloo", timeout=datetime.timedelta(seconds=60))
    rank = dist.get_rank()
    torch.set_num_threads(1)
    report = {"loading": loading(out, rank), "sync_bn": sync_bn(out),
              "presets": presets(out, rank)}
    (out / f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


if __name__ == "__main__":
    main(pathlib.Path(sys.argv[1]))
