"""Speed of the toy against a plain reference loop, both measured in this one run.

``python -m benchmarks.toy_speed [--steps 1000] [--seeds 0 1 2]`` prints:

1. training steps/s of one SimSiam model: the reference loop vs ``toy.train.Simulation``
   (one seed, and three seeds stacked: model-steps/s);
2. the wall time of the whole claims suite (every experiment of ``toy.claims`` for every seed):
   the reference, one experiment and one seed at a time, vs ``toy.claims.run_all``.

The reference is the straightforward PyTorch loop: ``torch.nn`` layers, one model at a time,
PyTorch's default thread count, the global RNG, ``loss.item()`` logged every step. It trains
the same recipes with the same shared loss (collapse.siamese), so the ratio measures only the
engineering: stacked seeds (collapse.layers), one thread per process, two processes, no
per-step host sync. This machine is shared and noisy: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import time

import torch
from torch import nn

from collapse import metrics
from collapse.recipe import preset
from collapse.siamese import Siamese
from toy.claims import EXPERIMENTS, Experiment, run_all
from toy.data import make_dataset
from toy.train import Simulation, ToyConfig


def reference_run(experiment: Experiment, seed: int, steps: int, config: ToyConfig) -> float:
    """Train one experiment for one seed the plain way; return the final std(Z)*sqrt(d)."""
    torch.manual_seed(seed)
    data = make_dataset(config.dataset, seed, config.train_size, config.test_size)
    n, d, h = data.train.shape[1], config.dim, config.hidden
    encoder = nn.Sequential(nn.Linear(n, h), nn.BatchNorm1d(h), nn.ReLU(), nn.Linear(h, d))
    model = Siamese(encoder, d, experiment.build(), h)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=config.lr,
                                momentum=config.momentum, weight_decay=config.weight_decay)
    noise = torch.tensor(data.augmentation.noise)
    losses = []
    for step in range(steps):
        if experiment.then and step == steps // 2:
            model.set_recipe(preset(experiment.then))
        x = data.train[torch.randint(len(data.train), (config.batch,))]
        k = 2 + (model.recipe.eoa_samples if model.recipe.target == "eoa" else 0)
        views = [x + noise * torch.randn_like(x) for _ in range(k)]
        loss, _, _ = model(views[0], views[1], views[2:] or None)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        model.update_target()
        losses.append(loss.item())
        if step % experiment.record_every == 0:
            with torch.no_grad():
                metrics.summary(model.encoder(data.test))
    with torch.no_grad():
        return metrics.summary(model.encoder(data.test))["std_scaled"]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    config, seeds, steps = ToyConfig(), tuple(args.seeds), args.steps
    simsiam = EXPERIMENTS["simsiam"]
    probe = 300
    print(f"machine: {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"default threads {torch.get_num_threads()}")

    ref = timed(lambda: reference_run(simsiam, 0, probe, config))

    def ours(n_seeds: int) -> float:
        torch.set_num_threads(1)
        sim = Simulation(preset("simsiam"), config, seeds=tuple(range(n_seeds)))
        elapsed = timed(lambda: [sim.step(10) or sim.record() for _ in range(probe // 10)])
        torch.set_num_threads(os.cpu_count() or 1)
        return elapsed

    one, three = ours(1), ours(3)
    print("\n1. SimSiam training loop (model-steps/s, higher is better)")
    print(f"   reference loop        {probe / ref:8.1f}")
    print(f"   Simulation, 1 seed    {probe / one:8.1f}   x{ref / one:.2f}")
    print(f"   Simulation, 3 stacked {3 * probe / three:8.1f}   x{3 * ref / three:.2f}")

    n_runs = len(EXPERIMENTS) * len(seeds)
    print(f"\n2. claims suite: {len(EXPERIMENTS)} experiments x {len(seeds)} seeds x {steps} "
          f"steps ({n_runs} model runs)")
    ref_suite = timed(lambda: [reference_run(e, s, steps, config)
                               for e in EXPERIMENTS.values() for s in seeds])
    print(f"   reference, one run at a time   {ref_suite:7.1f} s")
    ours_suite = timed(lambda: run_all(seeds, steps, workers=min(2, os.cpu_count() or 1),
                                       progress=False))
    print(f"   toy.claims.run_all             {ours_suite:7.1f} s   x{ref_suite / ours_suite:.2f}")


if __name__ == "__main__":
    main()
