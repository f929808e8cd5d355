"""The toy's plain SGD step (toy.optim) against torch.optim.SGD(foreach=True), one run.

``python -m benchmarks.optimizer_speed [--steps 600] [--rounds 3]`` trains SimSiam's toy with
each optimizer in turn, one torch thread, and prints steps/s and their ratio per round. The two
make the same updates bit for bit (tests/toy/test_optim.py); toy.optim exists so that building
a run does not import torch._dynamo (a cold app start), and this says what it costs per step.
"""

from __future__ import annotations

import time

import torch

from collapse.recipe import preset
from common import cli
from toy.config import ToyConfig
from toy.train import Simulation


def steps_per_s(torch_sgd: bool, steps: int) -> float:
    """SimSiam's toy steps/s (after 50 warm-up steps) with either optimizer."""
    sim = Simulation(preset("simsiam"), ToyConfig(), (0,))
    if torch_sgd:
        c = sim.config
        sim.optimizer = torch.optim.SGD(
            [p for p in sim.model.parameters() if p.requires_grad], lr=c.lr,
            momentum=c.momentum, weight_decay=c.weight_decay, foreach=True)
    sim.step(50)
    start = time.perf_counter()
    sim.step(steps)
    return steps / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="benchmarks.optimizer_speed", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=cli.positive_int, default=600)
    parser.add_argument("--rounds", type=cli.positive_int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    for r in range(args.rounds):
        reference, plain = steps_per_s(True, args.steps), steps_per_s(False, args.steps)
        print(f"round {r}: torch.optim.SGD {reference:.0f} steps/s, toy.optim.SGD "
              f"{plain:.0f} steps/s, ratio {plain / reference:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
