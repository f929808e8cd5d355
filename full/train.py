"""Train a Siamese recipe on images with a CIFAR ResNet-18: ``python -m full.train``.

    python -m full.train                                    # SimSiam, CIFAR-10, 800 epochs
    python -m full.train --dataset shapes --epochs 3        # CPU-sized, built-in data
    python -m full.train --dataset shapes --epochs 3 --recipe no-stop-gradient   # collapses
    torchrun --nproc_per_node=8 -m full.train --sync-bn     # DDP, one process per GPU

With no flags this is the standard SimSiam CIFAR recipe of paper-notes §6 (Chen & He 2021,
appendix D): ResNet-18 CIFAR stem, projector 2048 with BN, predictor 2048-512-2048, SGD lr
0.03 x batch/256 with cosine decay and a constant predictor lr, momentum 0.9, wd 5e-4, batch
512, 800 epochs. ``--recipe`` takes any row of :data:`collapse.recipe.PRESETS` (Zhang et al.,
ICLR 2022): the loss, the predictor and the gradient surgery all come from :mod:`collapse`.

Speed tricks (each a flag or automatic): 1. the dataset lives on the device as uint8; 2. crops,
flips, jitter and grayscale are batch-wise on the device (:mod:`full.augment`); 3. bf16
autocast and channels_last on CUDA; 4. optional ``--compile``; 5. the loss is read back to the
host only every ``--log-every`` steps; 6. kNN only every ``--eval-every`` epochs.

Reliability: atomic checkpoints every ``--checkpoint-every`` epochs and on SIGINT/SIGTERM;
``--resume`` continues from the same position (the views of step t are drawn from a generator
seeded by (seed, rank, t) and the data order of epoch e from (seed, e), so the checkpoint needs
only the weights, the optimiser and the position): bit for bit on the CPU and with
``--deterministic``; on CUDA without it, the same schedule, order and views, not every last bit
(``cudnn.benchmark`` and atomics). A checkpoint written with other flags or numerics (device,
precision, compile, sync-bn, deterministic, world size) is refused, naming the difference. A
NaN/inf loss stops the run naming the step. Every stop is one line and an exit status
(:mod:`full.errors`); under DDP the ranks stop together (:mod:`full.trainer`).

Outputs in ``--out``: ``metrics.jsonl`` (one line per epoch), ``checkpoint.pt``,
``summary.json`` (kNN, linear probe, collapse metrics, verdict) and ``curves.png``.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from collapse.recipe import PRESETS
from common import cli
from full.errors import Stop

DATASETS = ("cifar10", "cifar100", "shapes", "shapes-centred", "shapes-spread")
# CPU-sized defaults of the built-in dataset when no GPU is present (each still a flag): a
# width-8 ResNet-18 (1/64 of the FLOPs), projector 512 -> 64, predictor 64-16-64 (the paper's
# 4:1 bottleneck), 8192 training images, batch 32: 256 steps per epoch on a 2-core CPU. The base
# lr is 17x the paper's: 5 epochs are 1,280 steps, not 78,000. At 0.03 they learned nothing
# (kNN 15.8 %, chance 10 %); with batch 64 and lr 0.3, the default until issue 9 §4, SimSiam's
# kNN on ``shapes`` ended 13-17 points above the raw pixels' instead of 20 (BENCHMARKS.md, full/).
CPU_SHAPES = {"width": 8, "dim": 64, "proj_hidden": 512, "pred_hidden": 16, "batch": 32,
              "lr": 0.5, "train_size": 8192, "test_size": 1024, "eval_every": 1,
              "checkpoint_every": 1}
PAPER = {"width": 64, "dim": 2048, "proj_hidden": 2048, "pred_hidden": 512, "batch": 512,
         "lr": 0.03, "train_size": None, "test_size": None, "eval_every": 10,
         "checkpoint_every": 10}
EXIT_STATUSES = ("exit status: 0 done; 1 a non-finite loss (the last good checkpoint is kept); "
                 "2 a bad flag, missing data or an unusable checkpoint; 128+N stopped by signal N "
                 "(130 SIGINT, 143 SIGTERM) after saving a checkpoint; --resume continues. Resume "
                 "is bit-exact on the CPU and with --deterministic; otherwise (CUDA) it keeps the "
                 "schedule, the data order and the random views, not every last bit.")


def dataset_name(text: str) -> str:
    if text not in DATASETS:
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; valid: {', '.join(DATASETS)}")
    return text


def build_parser() -> cli.Parser:
    p = cli.Parser(prog="full.train", description="Train a Siamese recipe of Zhang et al. "
                   "(ICLR 2022) with a CIFAR ResNet-18 (paper-notes §6).", epilog=EXIT_STATUSES)
    add = p.add_argument
    add("--recipe", metavar="NAME", type=cli.recipe_name, default="simsiam",
        help=f"a preset of collapse.recipe (default: %(default)s): {', '.join(PRESETS)}")
    add("--dataset", metavar="NAME", type=dataset_name, default="cifar10",
        help=f"{', '.join(DATASETS)} (default: %(default)s; the shapes are built in, no "
             "download)")
    add("--data-dir", metavar="DIR", default="data",
        help="where CIFAR is (or is downloaded to) (default: %(default)s)")
    add("--no-download", action="store_true", help="never download CIFAR; fail if absent")
    add("--train-size", metavar="N", type=cli.positive_int, default=None,
        help="training images (default: all of CIFAR; shapes: 50000 on GPU, 8192 on CPU)")
    add("--test-size", metavar="N", type=cli.positive_int, default=None,
        help="test images (default: all of CIFAR; shapes: 10000 on GPU, 1024 on CPU)")
    add("--epochs", metavar="E", type=cli.positive_int, default=800,
        help="training epochs (paper: 800)")
    add("--batch", metavar="B", type=cli.positive_int, default=None,
        help="global batch size, split over DDP processes (paper: 512; shapes on CPU: 32)")
    add("--lr", metavar="LR", type=cli.positive_float, default=None,
        help="base lr; the SGD lr is LR x batch/256 with cosine decay (paper: 0.03; shapes on "
             "CPU: 0.5)")
    add("--fix-pred-lr", action=argparse.BooleanOptionalAction, default=True,
        help="keep the predictor's lr constant, not cosine-decayed (paper: yes)")
    add("--momentum", metavar="M", type=cli.nonnegative_float, default=0.9,
        help="SGD momentum (paper: 0.9)")
    add("--weight-decay", metavar="WD", type=cli.nonnegative_float, default=5e-4,
        help="SGD weight decay (paper: 5e-4)")
    add("--width", metavar="W", type=cli.positive_int, default=None,
        help="ResNet-18 first-stage width; features are 8W-d (paper: 64; shapes on CPU: 8)")
    add("--dim", metavar="D", type=cli.dimension, default=None,
        help="projector output = predictor in/out dim d (paper: 2048; shapes on CPU: 64)")
    add("--proj-hidden", metavar="H", type=cli.positive_int, default=None,
        help="projector hidden width (paper: 2048; shapes on CPU: 512)")
    add("--pred-hidden", metavar="H", type=cli.positive_int, default=None,
        help="predictor bottleneck width (paper: 512; shapes on CPU: 16)")
    add("--seed", metavar="S", type=cli.seed, default=0,
        help=f"seed of the data order, the views and the weights, 0 to {cli.MAX_SEED} "
             "(default: %(default)s)")
    add("--out", metavar="DIR", default=None,
        help="output folder (default: runs/full/<dataset>-<recipe>)")
    add("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    add("--checkpoint-every", metavar="E", type=cli.positive_int, default=None,
        help="epochs between checkpoints (default: 10; shapes on CPU: 1)")
    add("--eval-every", metavar="E", type=cli.positive_int, default=None,
        help="epochs between kNN evaluations (default: 10; shapes on CPU: 1); the collapse "
             "metrics of the fixed batch are logged every epoch")
    add("--knn-k", metavar="K", type=cli.positive_int, default=200,
        help="kNN neighbours (paper-notes §6: 200)")
    add("--knn-t", metavar="T", type=cli.positive_float, default=0.1,
        help="kNN temperature (paper-notes §6: 0.1)")
    add("--probe-epochs", metavar="E", type=cli.positive_int, default=100,
        help="epochs of the final linear probe on cached features (default: %(default)s)")
    add("--loader", choices=("device", "torchvision"), default="device",
        help="device: uint8 data + batch-wise augmentation on the device (default); "
             "torchvision: the per-image DataLoader baseline")
    add("--workers", metavar="N", type=cli.nonnegative_int, default=2,
        help="DataLoader workers for --loader torchvision (default: %(default)s)")
    add("--device", choices=("auto", "cpu", "cuda"), default="auto",
        help="auto: CUDA when available (default: %(default)s)")
    add("--precision", choices=("auto", "bf16", "fp32"), default="auto",
        help="auto: bf16 autocast on CUDA, fp32 on CPU (default: %(default)s)")
    add("--compile", action="store_true",
        help="torch.compile the model and the augmentation (for CUDA; on a CPU the first "
             "step compiles for minutes)")
    add("--deterministic", action="store_true",
        help="deterministic kernels, no cudnn.benchmark: a --resume on CUDA continues bit for "
             "bit (slower). The CPU is always deterministic")
    add("--sync-bn", action="store_true",
        help="DDP on CUDA: SyncBatchNorm in the backbone and projector. The predictor's BN "
             "(collapse.layers.BatchNorm) is not converted: it keeps per-process statistics")
    add("--log-every", metavar="N", type=cli.positive_int, default=None,
        help="steps between loss read-backs / NaN checks, and under DDP between the ranks' "
             "checks for a stop signal (default: 1 on CPU, 20 on CUDA)")
    add("--no-progress", action="store_true", help="no progress bar")
    return p


def parse(argv: list[str] | None, cuda: bool) -> argparse.Namespace:
    """Parse and validate the flags; fill the dataset/device-dependent defaults."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.device == "cuda" and not cuda:
        parser.error("--device cuda: no CUDA device is available")
    args.cuda = cuda and args.device != "cpu"
    defaults = CPU_SHAPES if (args.dataset.startswith("shapes") and not args.cuda) else PAPER
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.dataset.startswith("shapes") and args.train_size is None:
        args.train_size, args.test_size = 50_000, args.test_size or 10_000
    args.world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if args.batch % args.world_size:
        parser.error(f"--batch {args.batch} is not divisible by the world size "
                     f"{args.world_size} (WORLD_SIZE)")
    if args.batch // args.world_size < 2:
        parser.error(f"--batch {args.batch} gives fewer than 2 images per process")
    if args.train_size is not None and args.train_size < args.batch:
        parser.error(f"--train-size {args.train_size} is smaller than --batch {args.batch}")
    if args.sync_bn and not args.cuda:
        parser.error("--sync-bn needs CUDA: torch's SyncBatchNorm has no CPU implementation")
    if args.log_every is None:
        args.log_every = 20 if args.cuda else 1
    args.bf16 = args.precision == "bf16" or (args.precision == "auto" and args.cuda)
    if args.bf16 and not args.cuda:
        parser.error("--precision bf16 needs CUDA")
    out = args.out or f"runs/full/{args.dataset}-{args.recipe}"
    try:
        args.out = cli.output_dir(out) if int(os.environ.get("RANK", "0")) == 0 else \
            pathlib.Path(out)
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if args.resume and not (args.out / "checkpoint.pt").exists():
        parser.error(f"--resume: no checkpoint at {args.out / 'checkpoint.pt'}")
    return args


def main(argv: list[str] | None = None) -> int:
    import torch

    args = parse(argv, torch.cuda.is_available())
    from full.trainer import Trainer  # heavy imports after the flags are validated

    trainer = None
    try:
        trainer = Trainer(args)
        trainer.fit()
        return 0
    except Stop as stop:  # one line; under DDP every rank stops, rank 0 says why
        if int(os.environ.get("RANK", "0")) == 0:
            print(f"full.train: {stop}", file=sys.stderr, flush=True)
        return stop.status
    finally:
        if trainer is not None:
            trainer.close()


if __name__ == "__main__":
    sys.exit(main())
