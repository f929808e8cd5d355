"""Speed of the ResNet pipeline: ``python -m full.bench`` (issue 4 "Speed", issue 11 §4).

Prints, measured in one run on the same images (the built-in ``shapes``, 32x32):

1. operator dispatches of one step, counted with torch's profiler (the aten operators called
   from Python; what each one calls inside is not counted): the augmentation of both views
   of a batch, and the model's forward, backward and SGD step;
2. images/s of the device-side augmentation (:func:`full.augment.two_views`, two views per
   image), timed ``--repeats`` times over ``--batches`` batches, the fastest pass counting;
3. images/s of the torchvision baseline: a DataLoader over :class:`full.augment.TorchvisionViews`
   (per-image v2 transforms in ``--workers`` persistent processes, timed on its second pass so
   that starting the workers is not counted), and the ratio of the two;
4. images/s of the training step (two views through ResNet-18 + projector + predictor, SimSiam
   loss, backward, SGD) at ``--batch`` 512: the step alone on fixed views, and augmentation +
   step, each over a warm window of ``--steps`` steps (50 on CUDA, 1 on a CPU); on CUDA with
   cudnn.benchmark, bf16 autocast and channels_last, and with ``--compile`` both the model and
   the augmentation go through ``torch.compile``.

images/s counts images (each seen as two views). Target on one H100/H200: >= 20,000 images/s
for augmentation + step.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from common import cli

WARM_STEPS = 3  # untimed steps before a window: lazy initialisation, cudnn's search, compiling


def build_parser() -> cli.Parser:
    p = cli.Parser(prog="full.bench", description="images/s of full/'s data pipeline and step")
    p.add_argument("--batch", type=cli.positive_int, default=512, help="batch (default: 512)")
    p.add_argument("--batches", type=cli.positive_int, default=8,
                   help="timed batches per augmentation pass (default: %(default)s)")
    p.add_argument("--repeats", type=cli.positive_int, default=3,
                   help="timed passes of each pipeline; the fastest counts (default: %(default)s)")
    p.add_argument("--workers", type=cli.nonnegative_int, default=2,
                   help="DataLoader workers of the baseline (default: %(default)s)")
    p.add_argument("--width", type=cli.positive_int, default=64,
                   help="ResNet-18 width of the training step (default: 64, the paper's)")
    p.add_argument("--steps", type=cli.nonnegative_int, default=None,
                   help="training steps per timed window, 0 to skip the step (default: 50 on "
                        "CUDA, 1 on a CPU)")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the model and the augmentation (as full.train --compile)")
    return p


def dispatches(work: Callable[[], object]) -> int:
    """Operator dispatches of one call of ``work``: the aten operators torch's profiler records
    that no other aten operator called (a ``linear`` counts once, not with its ``addmm``)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        work()
    return sum(1 for e in prof.events() if e.name.startswith("aten::") and not (
        e.cpu_parent is not None and e.cpu_parent.name.startswith("aten::")))


def best_time(work: Callable[[], object], repeats: int, sync: Callable[[], object]) -> float:
    """The shortest of ``repeats`` wall times of ``work()`` (the least disturbed by other jobs)."""
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        work()
        sync()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    import torch

    from collapse.recipe import preset
    from collapse.siamese import Siamese
    from full.augment import SIMSIAM_CIFAR, TorchvisionViews, two_views
    from full.data import shapes
    from full.encoder import Encoder
    from full.evaluate import autocast
    from full.resnet import memory_format

    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    if cuda:
        torch.backends.cudnn.benchmark = True
    steps = args.steps if args.steps is not None else (50 if cuda else 1)
    n = args.batch * args.batches
    images, labels = shapes(n, seed=0)
    resident = images.to(device)
    g = torch.Generator(device=device).manual_seed(0)

    def views(x: torch.Tensor) -> list[torch.Tensor]:
        return two_views(x, SIMSIAM_CIFAR, g, compiled=args.compile)

    x = resident[:args.batch]
    for _ in range(WARM_STEPS):
        views(x)
    counts = [("augmentation, 2 views", dispatches(lambda: views(x)))]

    def device_pass() -> None:
        for b in range(args.batches):
            views(resident[b * args.batch:(b + 1) * args.batch])

    loader = torch.utils.data.DataLoader(TorchvisionViews(images, labels), args.batch,
                                         num_workers=args.workers, shuffle=True,
                                         persistent_workers=args.workers > 0)
    for _ in loader:  # warm-up pass: the workers start here, not in the timed passes
        pass

    def loader_pass() -> None:
        for batch in loader:
            [v.to(device) for v in batch[:2]]

    device_rate = n / best_time(device_pass, args.repeats, sync)
    baseline = n / best_time(loader_pass, args.repeats, sync)
    rows = [("device augmentation (2 views)", device_rate),
            (f"torchvision DataLoader, {args.workers} workers (2 views)", baseline)]
    if steps:
        model = Siamese(Encoder(args.width), 2048, preset("simsiam"), 512).to(device)
        model = model.to(memory_format=memory_format(device, args.width))
        opt = torch.optim.SGD(model.parameters(), lr=0.06, momentum=0.9, weight_decay=5e-4,
                              fused=cuda, foreach=not cuda)  # as full.trainer
        net = torch.compile(model) if args.compile else model

        def step(v: list[torch.Tensor]) -> None:
            with autocast(device, True):
                loss, _, _ = net(v[0], v[1])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        fixed = views(x)
        for _ in range(WARM_STEPS):
            step(fixed)
        counts.append(("model: forward, backward, SGD", dispatches(lambda: step(fixed))))
        name = f"ResNet-18 width {args.width}, batch {args.batch}"
        for label, work in ((f"training step alone, {name}", lambda: step(fixed)),
                            (f"augmentation + training step, {name}", lambda: step(views(x)))):
            sync()
            start = time.perf_counter()
            for _ in range(steps):
                work()
            sync()
            rows.append((label, steps * args.batch / (time.perf_counter() - start)))
    mode = "compiled" if args.compile else "eager"
    print(f"| {device.type}, {mode}, batch {args.batch} | dispatches per step |\n| --- | --- |")
    for name, count in counts:
        print(f"| {name} | {count} |")
    print(f"\n| {device.type}, {mode} | images/s |\n| --- | --- |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} |")
    print(f"| ratio device augmentation / torchvision | {device_rate / baseline:.1f}x |")
    if steps:  # above 1, a step fed by the DataLoader would wait for it
        print(f"| ratio augmentation + step / torchvision | {rows[-1][1] / baseline:.2f}x |")
    if steps:
        print(f"\nsteps per window: {steps} (after {WARM_STEPS} warm-up steps)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
