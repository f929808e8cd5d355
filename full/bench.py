"""Speed of the ResNet pipeline: ``python -m full.bench`` (issue 4, "Speed").

Prints images/s, measured in one run on the same images (the built-in ``shapes``, 32x32), each
pipeline timed ``--repeats`` times over ``--batches`` batches, the fastest pass counting:

1. the device-side augmentation (:func:`full.augment.two_views`, two views per image),
2. the torchvision baseline: a DataLoader over :class:`full.augment.TorchvisionViews`
   (per-image v2 transforms in ``--workers`` persistent processes, timed on its second pass so
   that starting the workers is not counted), and their ratio,
3. the full training step (two views through ResNet-18 + projector + predictor, SimSiam loss,
   backward, SGD) at ``--batch`` 512, bf16 + channels_last on CUDA.

images/s counts images (each seen as two views). Target on one H100/H200: >= 20,000 images/s.
"""

from __future__ import annotations

import time

from common import cli


def build_parser() -> cli.Parser:
    p = cli.Parser(prog="full.bench", description="images/s of full/'s data pipeline and step")
    p.add_argument("--batch", type=cli.positive_int, default=512, help="batch (default: 512)")
    p.add_argument("--batches", type=cli.positive_int, default=8,
                   help="timed batches per measurement (default: %(default)s)")
    p.add_argument("--repeats", type=cli.positive_int, default=3,
                   help="timed passes of each pipeline; the fastest counts (default: %(default)s)")
    p.add_argument("--workers", type=cli.seed, default=2,
                   help="DataLoader workers of the baseline (default: %(default)s)")
    p.add_argument("--width", type=cli.positive_int, default=64,
                   help="ResNet-18 width of the training step (default: 64, the paper's)")
    p.add_argument("--steps", type=cli.seed, default=1,
                   help="timed training steps, 0 to skip (default: %(default)s)")
    return p


def best_time(work, repeats: int, sync) -> float:  # noqa: ANN001 - two callables
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

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    n = args.batch * args.batches
    images, labels = shapes(n, seed=0)
    resident = images.to(device)
    g = torch.Generator(device=device).manual_seed(0)
    two_views(resident[:args.batch], SIMSIAM_CIFAR, g)  # warm-up

    def device_pass() -> None:
        for b in range(args.batches):
            two_views(resident[b * args.batch:(b + 1) * args.batch], SIMSIAM_CIFAR, g)

    loader = torch.utils.data.DataLoader(TorchvisionViews(images, labels), args.batch,
                                         num_workers=args.workers, shuffle=True,
                                         persistent_workers=args.workers > 0)
    for _ in loader:  # warm-up pass: the workers start here, not in the timed passes
        pass

    def loader_pass() -> None:
        for views in loader:
            [v.to(device) for v in views[:2]]

    device_rate = n / best_time(device_pass, args.repeats, sync)
    baseline = n / best_time(loader_pass, args.repeats, sync)
    rows = [("device augmentation (2 views)", device_rate),
            (f"torchvision DataLoader, {args.workers} workers (2 views)", baseline)]
    if args.steps:
        model = Siamese(Encoder(args.width), 2048, preset("simsiam"), 512).to(device)
        model = model.to(memory_format=torch.channels_last)
        opt = torch.optim.SGD(model.parameters(), lr=0.06, momentum=0.9, weight_decay=5e-4)
        x = resident[:args.batch]

        def step() -> None:
            v = two_views(x, SIMSIAM_CIFAR, g)
            with autocast(device, True):
                loss, _, _ = model(v[0], v[1])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()

        step()
        sync()
        t = time.perf_counter()
        for _ in range(args.steps):
            step()
        sync()
        rows.append((f"training step, ResNet-18 width {args.width}, batch {args.batch}",
                     args.steps * args.batch / (time.perf_counter() - t)))
    print(f"| {device.type} | images/s |\n| --- | --- |")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} |")
    print(f"| ratio device / torchvision | {device_rate / baseline:.1f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
