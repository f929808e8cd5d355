"""The training loop behind ``python -m full.train`` (flags and docs: :mod:`full.train`).

One :class:`Trainer` per process. Under ``torchrun`` every process trains its slice of each
global batch inside DistributedDataParallel (NCCL on GPUs, gloo on CPU); only rank 0 evaluates
and writes. The loss, the heads and the metrics are the shared package's
(:class:`collapse.siamese.Siamese`, :mod:`collapse.metrics`); this loop only feeds it images.

Under DDP every decision is taken by all ranks together, at the same step, so no rank waits in a
collective that another rank has left (issue 11 §2): rank 0 loads (downloads) the data first and
a failure on any rank stops all of them; the logged losses and std are those of the global batch
(losses averaged over the ranks, z gathered); a signal received by any rank stops every rank at
the next read-back, after rank 0 has saved; batch-norm statistics of the untrained network are
estimated before the SyncBatchNorm conversion, on rank 0 alone; ``find_unused_parameters`` is
switched on only for a recipe whose parameters do not all get a gradient (``mirror``).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import signal
import time
from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor

from collapse import metrics
from collapse.losses import ViewOutputs
from collapse.recipe import PRESETS, preset
from collapse.siamese import Siamese
from common import files
from full import checkpoint, evaluate
from full.augment import SIMSIAM_CIFAR, TorchvisionViews, two_views
from full.data import DataError, ImageData, load
from full.encoder import Encoder
from full.errors import BAD_INPUT, DIVERGED, Stop, interrupted, signal_name
from full.resnet import memory_format

PROBE_SEED = 12345  # the fixed batch's views
PROBE_BATCH = 512
# What shapes the trajectory, numerics included: a checkpoint written with other values is
# refused with one line naming each difference (``device`` and ``precision`` as resolved from
# ``auto``: "cuda"/"cpu", "bf16"/"fp32").
TRAJECTORY = ("dataset", "recipe", "epochs", "batch", "lr", "momentum", "weight_decay",
              "fix_pred_lr", "width", "dim", "proj_hidden", "pred_hidden", "train_size", "seed",
              "loader", "world_size", "device", "precision", "compile", "sync_bn",
              "deterministic")


def trajectory(args: argparse.Namespace) -> dict[str, Any]:
    """The values of :data:`TRAJECTORY` for parsed flags ``args``: what a resume must match."""
    resolved = {"device": "cuda" if args.cuda else "cpu",
                "precision": "bf16" if args.bf16 else "fp32"}
    return {k: resolved[k] if k in resolved else getattr(args, k) for k in TRAJECTORY}


def cosine_lr(base: float, epoch: int, epochs: int) -> float:
    """SimSiam's schedule: ``base * 0.5 (1 + cos(pi epoch / epochs))``, set once per epoch."""
    return base * 0.5 * (1.0 + math.cos(math.pi * epoch / epochs))


def jsonl(rows: list[dict[str, Any]]) -> str:
    """``metrics.jsonl``: one strict-JSON line per row."""
    return "".join(files.json_text(r) + "\n" for r in rows)


def parameters_without_gradient(model: Siamese, views: list[Tensor]) -> list[str]:
    """Names of the trainable parameters that one step on ``views`` leaves without a gradient.

    Measured on a copy (``model`` and its statistics are untouched). DDP must be told about them
    (``find_unused_parameters``), or it waits for their gradients forever: the ``mirror``
    recipe's predictor only ever sees detached inputs (collapse.recipe, ``placement="target"``).
    """
    probe = copy.deepcopy(model).train()
    loss, _, _ = probe(views[0], views[1], views[2:] or None)
    loss.sum().backward()
    return [name for name, p in probe.named_parameters() if p.requires_grad and p.grad is None]


class DetachedViews(torch.nn.Module):
    """What DDP wraps: the model's loss, with the views' outputs detached.

    With ``find_unused_parameters`` DDP follows the autograd graph back from every tensor the
    forward returns; the ``mirror`` predictor's output P is returned but feeds only the detached
    target, so DDP would wait for gradients that never come.
    """

    def __init__(self, model: Siamese) -> None:
        super().__init__()
        self.model = model

    def forward(self, x_a: Tensor, x_b: Tensor, eoa: list[Tensor] | None = None
                ) -> tuple[Tensor, ViewOutputs, ViewOutputs]:
        loss, a, b = self.model(x_a, x_b, eoa)
        return loss, *(ViewOutputs(*(t.detach() if t is not None else None
                                     for t in (v.z, v.p, v.z_target, v.inverse)))
                       for v in (a, b))


def step_seed(seed: int, rank: int, step: int) -> int:
    """Seed of the views of global step ``step`` on ``rank``: resume needs no RNG state."""
    return (seed * 1_000_003 + step) * 1024 + rank


def epoch_order(seed: int, epoch: int, n: int) -> Tensor:
    """The data order of ``epoch``: a permutation of ``n`` drawn from (seed, epoch)."""
    return torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100_003 + epoch))


class Trainer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.distributed = args.world_size > 1
        self.bar = None
        self._owns_group = False
        self._old_handlers: dict[int, Any] = {}
        self._old_deterministic: tuple[bool, bool] | None = None
        try:
            self._build(args)
        except BaseException:  # a Stop while building: no handler or process group is left
            self.close()
            raise

    def _build(self, args: argparse.Namespace) -> None:
        if self.distributed and not dist.is_initialized():
            dist.init_process_group("nccl" if args.cuda else "gloo")
            self._owns_group = True
        self.rank = dist.get_rank() if self.distributed else 0
        self.local = int(os.environ.get("LOCAL_RANK", "0"))
        if args.deterministic:  # before the first cuBLAS call; undone by close()
            os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
            self._old_deterministic = (torch.are_deterministic_algorithms_enabled(),
                                       torch.backends.cudnn.deterministic)
            torch.use_deterministic_algorithms(True)
            torch.backends.cudnn.deterministic = True
        if args.cuda:
            torch.cuda.set_device(self.local)
            self.device = torch.device("cuda", self.local)
            torch.backends.cudnn.benchmark = not args.deterministic
        else:
            self.device = torch.device("cpu")
        self.main = self.rank == 0
        self.stop_signal: int | None = None
        self._old_handlers = {s: signal.signal(s, self._on_signal)
                              for s in (signal.SIGINT, signal.SIGTERM)}
        data = self._load_data()
        self.data = data
        self.num_classes = data.num_classes
        self.train_images = data.train_images.to(self.device)
        self.test_images = data.test_images.to(self.device)
        self.recipe = preset(args.recipe)
        torch.manual_seed(args.seed)
        encoder = Encoder(args.width, args.proj_hidden, args.dim)
        model = Siamese(encoder, args.dim, self.recipe, args.pred_hidden).to(self.device)
        self.model = model.to(memory_format=memory_format(self.device, args.width))
        self.base_lr = args.lr * args.batch / 256
        heads = [m for m in (model.predictor, model.inverse) if m is not None]
        head_ids = {id(p) for m in heads for p in m.parameters()}
        groups = [{"params": [p for p in model.parameters()
                              if p.requires_grad and id(p) not in head_ids], "fixed": False},
                  {"params": [p for m in heads for p in m.parameters()],
                   "fixed": args.fix_pred_lr}]
        # One fused kernel per step on CUDA, a few multi-tensor ops on the CPU (issue 11 §4)
        self.optimizer = torch.optim.SGD([g for g in groups if g["params"]], lr=self.base_lr,
                                         momentum=args.momentum,
                                         weight_decay=args.weight_decay,
                                         fused=args.cuda, foreach=not args.cuda)
        self.n = self.train_images.shape[0]
        self.steps_per_epoch = self.n // args.batch
        self.local_batch = args.batch // args.world_size
        self.epoch, self.step_in_epoch = 0, 0
        self.epoch_losses: list[Tensor] = []  # this epoch's; [:_read] averaged over the ranks
        self._read = 0
        self.last_saved: str | None = None
        self.last_logged = (math.nan, math.nan)  # (loss, std) of the global batch, last read
        self.rows: list[dict[str, Any]] = []
        self.config = trajectory(args)
        self.ckpt_path = args.out / "checkpoint.pt"
        g = torch.Generator().manual_seed(PROBE_SEED)
        probe_idx = torch.randperm(self.test_images.shape[0], generator=g)[:PROBE_BATCH]
        self.probe_images = self.test_images[probe_idx.to(self.device)]
        if args.resume:
            self._restore()
        # Epoch 0, the untrained network, where the curves start: its batch-norm statistics are
        # estimated here, before any SyncBatchNorm conversion, since rank 0 does it alone.
        self.untrained: Siamese | None = None
        if self.main and not self.rows:
            self.untrained = evaluate.with_batch_statistics(
                model, self.train_images[:4096], SIMSIAM_CIFAR, PROBE_SEED, bf16=args.bf16)
        self.net: torch.nn.Module = model
        if self.distributed:
            k = self.recipe.eoa_samples if self.recipe.target == "eoa" else 0
            views = two_views(self.train_images[:2], SIMSIAM_CIFAR,
                              torch.Generator(device=self.device).manual_seed(PROBE_SEED),
                              count=2 + k)
            unused = parameters_without_gradient(model, views)
            if args.sync_bn:
                self.net = torch.nn.SyncBatchNorm.convert_sync_batchnorm(self.net)
            self.net = torch.nn.parallel.DistributedDataParallel(
                DetachedViews(self.net), device_ids=[self.local] if args.cuda else None,
                find_unused_parameters=bool(unused))
        if args.compile:
            self.net = torch.compile(self.net)

    # -- agreement between ranks ---------------------------------------------------------------
    def _max_over_ranks(self, value: int) -> int:
        """The largest ``value`` over the ranks (``value`` itself without DDP). A collective:
        every rank calls it at the same point of the run."""
        if not self.distributed:
            return value
        t = torch.tensor([value], dtype=torch.int64, device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return int(t.item())

    def _load_data(self) -> ImageData:
        """The dataset. Under DDP rank 0 loads (and downloads) first, the other ranks after it,
        from what rank 0 put in ``--data-dir``; a failure on any rank stops every rank."""
        args = self.args

        def attempt() -> tuple[ImageData | None, str | None]:
            try:
                return load(args.dataset, args.data_dir, args.seed, args.train_size,
                            args.test_size, download=not args.no_download), None
            except DataError as error:
                return None, str(error)

        data, error = attempt() if self.main else (None, None)
        if self._max_over_ranks(error is not None):  # also the barrier after rank 0's download
            raise Stop(f"error: {error or 'rank 0 could not load the data'}", BAD_INPUT)
        if not self.main:
            data, error = attempt()
        if self._max_over_ranks(error is not None):
            raise Stop(f"error: {error or 'another rank could not load the data'}", BAD_INPUT)
        assert data is not None
        return data

    # -- signals and checkpoints -------------------------------------------------------------
    def _on_signal(self, signum: int, frame: object) -> None:
        self.stop_signal = signum

    def close(self) -> None:
        """Undo what the trainer set in this process (handlers, deterministic mode, the process
        group it created); safe after a failed construction."""
        for s, handler in self._old_handlers.items():
            signal.signal(s, handler)
        self._old_handlers = {}
        if self._old_deterministic is not None:
            torch.use_deterministic_algorithms(self._old_deterministic[0])
            torch.backends.cudnn.deterministic = self._old_deterministic[1]
            self._old_deterministic = None
        if self.bar is not None:
            self.bar.close()
        if self._owns_group and dist.is_initialized():
            dist.destroy_process_group()
            self._owns_group = False

    def _restore(self) -> None:
        try:
            state = checkpoint.load(self.ckpt_path, self.config)
        except checkpoint.CheckpointError as error:
            raise Stop(f"error: {error}", BAD_INPUT) from None
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
        except (RuntimeError, ValueError, KeyError) as error:
            reason = " ".join(str(error).split())[:200]
            raise Stop(f"error: checkpoint {self.ckpt_path} does not fit this model: {reason}",
                       BAD_INPUT) from None
        self.epoch, self.step_in_epoch = int(state["epoch"]), int(state["step"])
        self.epoch_losses = [t.to(self.device) for t in state["epoch_losses"].unbind(0)]
        self._read = len(self.epoch_losses)  # saved after the read-back: already averaged
        self.last_saved = f"epoch {self.epoch} step {self.step_in_epoch}"
        self.rows = json.loads(state["rows"])
        torch.set_rng_state(state["rng_cpu"])
        if self.main:
            files.write_text(self.args.out / "metrics.jsonl", jsonl(self.rows))
            print(f"full.train: resumed from {self.ckpt_path} at epoch {self.epoch} step "
                  f"{self.step_in_epoch}", flush=True)

    def save(self) -> None:
        if not self.main:
            return
        for p in self.model.parameters():  # never overwrite a good checkpoint with NaN weights
            if not bool(torch.isfinite(p).all()):
                return
        losses = torch.stack(self.epoch_losses).cpu() if self.epoch_losses \
            else torch.zeros(0)
        checkpoint.save(self.ckpt_path, {
            "config": self.config, "epoch": self.epoch, "step": self.step_in_epoch,
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "epoch_losses": losses, "rows": json.dumps(self.rows),
            "rng_cpu": torch.get_rng_state(), "recipe": self.args.recipe})

    # -- training ------------------------------------------------------------------------------
    def _set_lr(self) -> float:
        lr = cosine_lr(self.base_lr, self.epoch, self.args.epochs)
        for group in self.optimizer.param_groups:
            group["lr"] = self.base_lr if group["fixed"] else lr
        return lr

    def _batches(self):  # noqa: ANN202 - yields (step_in_epoch, list of views)
        args = self.args
        order = epoch_order(args.seed, self.epoch, self.n)
        lo = self.rank * self.local_batch
        if args.loader == "device":
            order = order.to(self.device)
            g = torch.Generator(device=self.device)
            k = self.recipe.eoa_samples if self.recipe.target == "eoa" else 0
            for s in range(self.step_in_epoch, self.steps_per_epoch):
                start = s * args.batch + lo
                x = self.train_images[order[start:start + self.local_batch]]
                g.manual_seed(step_seed(args.seed, self.rank, self.global_step(s)))
                yield s, two_views(x, SIMSIAM_CIFAR, g, count=2 + k, compiled=args.compile)
            return
        k = self.recipe.eoa_samples if self.recipe.target == "eoa" else 0
        idx = torch.cat([order[s * args.batch + lo: s * args.batch + lo + self.local_batch]
                         for s in range(self.step_in_epoch, self.steps_per_epoch)]) \
            if self.step_in_epoch < self.steps_per_epoch else torch.zeros(0, dtype=torch.long)
        loader = torch.utils.data.DataLoader(
            TorchvisionViews(self.data.train_images, self.data.train_labels, count=2 + k),
            batch_size=self.local_batch, sampler=idx.tolist(), num_workers=args.workers,
            generator=torch.Generator().manual_seed(step_seed(args.seed, self.rank,
                                                              self.global_step(0))),
            pin_memory=args.cuda, drop_last=True)
        for s, batch in enumerate(loader, start=self.step_in_epoch):
            yield s, [v.to(self.device, non_blocking=True).contiguous(
                memory_format=memory_format(self.device, args.width)) for v in batch[:-1]]

    def train_step(self, views: list[Tensor]) -> ViewOutputs:
        """One SGD step on a batch's views; the loss stays on the device (no host sync)."""
        with evaluate.autocast(self.device, self.args.bf16):
            loss, a, _ = self.net(views[0], views[1], views[2:] or None)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.model.update_target()
        self.epoch_losses.append(loss.detach().float())
        return a

    def global_step(self, s: int) -> int:
        return self.epoch * self.steps_per_epoch + s

    def _check(self) -> float:
        """Average the losses not read yet over the ranks (a collective under DDP) and read them
        back; stop with the first non-finite one's step. Returns the last loss."""
        start = self._read
        if start == len(self.epoch_losses):
            return self.epoch_losses[-1].item() if self.epoch_losses else math.nan
        fresh = torch.stack(self.epoch_losses[start:])
        if self.distributed:
            dist.all_reduce(fresh)
            fresh = fresh / self.args.world_size
        self.epoch_losses[start:] = list(fresh.unbind(0))
        self._read = len(self.epoch_losses)
        values = fresh.tolist()
        for s, v in enumerate(values, start=start):
            if not math.isfinite(v):
                saved = (f"the last good checkpoint is {self.ckpt_path} ({self.last_saved})"
                         if self.last_saved else "no checkpoint was written")
                raise Stop(f"error: loss is {v} at step {self.global_step(s)} (epoch "
                           f"{self.epoch + 1}, batch {s + 1}); stopped without saving; {saved}",
                           DIVERGED)
        return values[-1]

    def _std(self, z: Tensor) -> float:
        """std of the normalised z of the global batch (z gathered from every rank)."""
        z = z.detach().float().contiguous()
        if self.distributed:
            parts = [torch.empty_like(z) for _ in range(self.args.world_size)]
            dist.all_gather(parts, z)
            z = torch.cat(parts, dim=-2)
        return float(metrics.std(z))

    def _interrupt(self, signum: int) -> None:
        """Every rank got here at the same step: rank 0 saves, then all stop."""
        self._check()
        self.save()
        if self.distributed:
            dist.barrier()  # the checkpoint is whole before any rank exits
        raise Stop(f"interrupted by {signal_name(signum)} at epoch {self.epoch + 1} step "
                   f"{self.step_in_epoch}; checkpoint saved to {self.ckpt_path}; continue with "
                   f"--resume", interrupted(signum))

    def fit(self) -> None:
        args = self.args
        from tqdm import tqdm

        total = args.epochs * self.steps_per_epoch
        self.bar = tqdm(total=total, initial=self.global_step(self.step_in_epoch),
                        disable=args.no_progress or not self.main, unit="step",
                        dynamic_ncols=True, desc=args.recipe)
        if self.untrained is not None:  # epoch 0: the untrained network, where curves start
            self._record({"epoch": 0, "step": 0}, knn=True, model=self.untrained)
            self.untrained = None
        while self.epoch < args.epochs:
            self._set_lr()
            t0, images = time.perf_counter(), 0
            for s, views in self._batches():
                a = self.train_step(views)
                self.step_in_epoch = s + 1
                images += self.local_batch * args.world_size
                read = self.step_in_epoch % args.log_every == 0 or s + 1 == self.steps_per_epoch
                if read:  # the same steps on every rank: the collectives below pair up
                    self.last_logged = (self._check(), self._std(a.z))
                    rate = images / max(time.perf_counter() - t0, 1e-9)
                    self.bar.set_postfix_str(
                        f"img/s {rate:.0f} loss {self.last_logged[0]:.4f} std "
                        f"{self.last_logged[1]:.4f} epoch {self.epoch + 1}/{args.epochs}")
                self.bar.update(1)
                # A signal is acted on where every rank looks at once (each step without DDP).
                if read or not self.distributed:
                    signum = self._max_over_ranks(self.stop_signal or 0)
                    if signum:
                        self._interrupt(signum)
            self._check()
            elapsed = time.perf_counter() - t0
            self._end_epoch(images / max(elapsed, 1e-9))
        self._finish()

    def _end_epoch(self, images_per_s: float) -> None:
        args = self.args
        losses = torch.stack(self.epoch_losses).double()
        self.epoch += 1
        row: dict[str, Any] = {"epoch": self.epoch, "step": self.global_step(0),
                               "loss": losses.mean().item(), "loss_last": losses[-1].item(),
                               "lr": self.optimizer.param_groups[0]["lr"],
                               "images_per_s": images_per_s}
        self.epoch_losses, self._read, self.step_in_epoch = [], 0, 0
        self._record(row, knn=self.epoch % args.eval_every == 0 or self.epoch == args.epochs)
        if self.epoch % args.checkpoint_every == 0 or self.epoch == args.epochs:
            self.save()
            self.last_saved = f"epoch {self.epoch}"
        if self.distributed:
            dist.barrier()

    def _record(self, row: dict[str, Any], knn: bool, model: Siamese | None = None) -> None:
        """Rank 0: add the fixed batch's collapse metrics (and kNN) of ``model`` (default: the
        one training) to ``row``; log and print it."""
        if not self.main:
            return
        model = model or self.model
        row.update(evaluate.probe_batch(model, self.probe_images, SIMSIAM_CIFAR, PROBE_SEED,
                                        self.args.bf16))
        if knn:
            row["knn_acc"] = self._knn(model)[0]
        self.rows.append(row)  # the whole file anew: a fresh run never appends to an old one
        files.write_text(self.args.out / "metrics.jsonl", jsonl(self.rows))
        self.bar.write(self._describe(row))

    def _features(self, model: Siamese) -> tuple[Tensor, Tensor]:
        enc = model.encoder
        return (evaluate.features(enc, self.train_images, bf16=self.args.bf16),
                evaluate.features(enc, self.test_images, bf16=self.args.bf16))

    def _knn(self, model: Siamese | None = None) -> tuple[float, Tensor, Tensor]:
        train_f, test_f = self._features(model or self.model)
        acc = evaluate.knn(train_f, self.data.train_labels, test_f, self.data.test_labels,
                           self.num_classes, self.args.knn_k, self.args.knn_t)
        return acc, train_f, test_f

    def _describe(self, row: dict[str, Any]) -> str:
        knn = f"  kNN {100 * row['knn_acc']:.1f}%" if row.get("knn_acc") is not None else ""
        head = (f"epoch {row['epoch']}: loss {row['loss']:.4f}" if "loss" in row
                else "epoch 0 (untrained):")
        speed = f"  {row['images_per_s']:.0f} img/s" if "images_per_s" in row else ""
        return (f"{head}  std*sqrt(d) {row['std_scaled']:.3f}  |o| {row['center_norm']:.3f}  "
                f"eff. rank {row['effective_rank']:.1f}/{self.args.dim}{knn}{speed}  -> "
                f"{row['state']}")

    def _finish(self) -> None:
        if not self.main:
            return
        args = self.args
        knn, train_f, test_f = self._knn()
        linear = evaluate.linear_probe(train_f, self.data.train_labels, test_f,
                                       self.data.test_labels, self.num_classes,
                                       args.probe_epochs, args.seed)
        raw = evaluate.raw_pixel_baseline(self.train_images, self.data.train_labels,
                                          self.test_images, self.data.test_labels,
                                          self.num_classes, args.knn_k, args.knn_t,
                                          args.probe_epochs, args.seed)
        last = self.rows[-1] if self.rows else {}
        first = self.rows[0] if self.rows and self.rows[0]["epoch"] == 0 else {}
        summary = {
            "recipe": args.recipe, "recipe_fields": self.recipe.to_dict(),
            "paper": {"source": PRESETS[args.recipe].source,
                      "statement": PRESETS[args.recipe].summary},
            "dataset": args.dataset, "epochs": self.epoch, "num_classes": self.num_classes,
            "chance": 1 / self.num_classes, "knn_acc": knn, "linear_acc": linear,
            "raw_pixels": raw,
            "config": {k: (str(v) if not isinstance(v, (int, float, str, bool, type(None)))
                           else v) for k, v in vars(args).items()},
            "final": last,
            "untrained": {k: first.get(k) for k in ("knn_acc", "std_scaled", "center_norm",
                                                    "effective_rank", "state")},
        }
        files.write_json(args.out / "summary.json", summary)
        from full.report import plot_curves
        plot_curves(self.rows, args.out / "curves.png", f"{args.dataset} / {args.recipe}",
                    chance=1 / self.num_classes)
        self.bar.close()
        print(f"{args.recipe}: std*sqrt(d) {last.get('std_scaled', math.nan):.3f}  |o| "
              f"{last.get('center_norm', math.nan):.3f}  kNN {100 * knn:.1f}% (untrained "
              f"{100 * first.get('knn_acc', math.nan):.1f}%, raw pixels "
              f"{100 * raw['knn_acc']:.1f}%)  linear {100 * linear:.1f}% (raw pixels "
              f"{100 * raw['linear_acc']:.1f}%)  (chance {100 / self.num_classes:.1f}%)  -> "
              f"{last.get('state')}  [{args.out}]", flush=True)
