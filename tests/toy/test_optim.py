"""Tests for toy.optim: the plain SGD step equals torch.optim.SGD bit for bit, without dynamo."""

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from collapse.recipe import preset
from toy.optim import SGD
from toy.train import Simulation, ToyConfig

ROOT = Path(__file__).resolve().parents[2]
SMALL = ToyConfig(dim=4, hidden=16, batch=32, train_size=128, test_size=64)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def _torch_sgd(params: list[torch.Tensor], config: ToyConfig) -> torch.optim.SGD:
    """The optimizer the toy used before toy.optim, as it was built."""
    return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                           weight_decay=config.weight_decay, foreach=True)


@pytest.mark.parametrize(("momentum", "weight_decay"), [(0.9, 1e-4), (0.0, 5e-3), (0.5, 0.0)])
def test_fifty_simulation_steps_equal_torch_sgd_bit_for_bit(momentum, weight_decay):
    config = replace(SMALL, momentum=momentum, weight_decay=weight_decay)
    ours = Simulation(preset("simsiam"), config, seeds=(0, 1))
    theirs = Simulation(preset("simsiam"), config, seeds=(0, 1))
    assert isinstance(ours.optimizer, SGD)
    theirs.optimizer = _torch_sgd(theirs.optimizer.param_groups[0]["params"], config)
    for sim in (ours, theirs):
        sim.step(25)  # then stop-gradient off mid-run: the same modules, another gradient
        sim.set_recipe(preset("no-stop-gradient"))
        sim.step(25)
    pairs = list(zip(ours.model.parameters(), theirs.model.parameters(), strict=True))
    assert len(pairs) > 4
    moved = Simulation(preset("simsiam"), config, seeds=(0, 1)).model.parameters()
    assert not all(torch.equal(a, b) for a, (b, _) in zip(moved, pairs, strict=True))
    for a, b in pairs:
        assert torch.equal(a, b)


def test_learning_rate_and_weight_decay_changed_between_steps_as_torch():
    """LiveRun.set_optimizer writes group["lr"] and group["weight_decay"] mid-run."""
    ours = Simulation(preset("simsiam"), SMALL, seeds=(0,))
    theirs = Simulation(preset("simsiam"), SMALL, seeds=(0,))
    theirs.optimizer = _torch_sgd(theirs.optimizer.param_groups[0]["params"], SMALL)
    for sim in (ours, theirs):
        sim.step(5)
        for group in sim.optimizer.param_groups:
            group["lr"], group["weight_decay"] = 0.2, 1e-2
        sim.step(5)
    for a, b in zip(ours.model.parameters(), theirs.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_parameter_without_gradient_keeps_its_buffer_as_torch():
    """Steps where one parameter has no gradient (it is skipped), then both again: torch's
    per-parameter path for buffers made at different steps."""
    start = [torch.randn(3, 4, generator=torch.Generator().manual_seed(s)) for s in (1, 2)]
    ours_p = [t.clone().requires_grad_() for t in start]
    theirs_p = [t.clone().requires_grad_() for t in start]
    ours = SGD(ours_p, lr=0.1, momentum=0.9, weight_decay=1e-3)
    theirs = torch.optim.SGD(theirs_p, lr=0.1, momentum=0.9, weight_decay=1e-3, foreach=True)
    for uses_both in (False, False, True, True, False, True):
        for params, opt in ((ours_p, ours), (theirs_p, theirs)):
            opt.zero_grad(set_to_none=True)
            loss = (params[0] ** 3).sum() + ((params[1] ** 2).sum() if uses_both else 0)
            loss.backward()
            opt.step()
        for a, b in zip(ours_p, theirs_p, strict=True):
            assert torch.equal(a, b)
    assert not torch.equal(ours_p[1], start[1])


def test_zero_grad_forgets_or_zeroes_the_gradients():
    p = torch.ones(2, requires_grad=True)
    opt = SGD([p], lr=0.1)
    (p * 3).sum().backward()
    opt.zero_grad(set_to_none=False)
    assert torch.equal(p.grad, torch.zeros(2))
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize("name", ["lr", "momentum", "weight_decay"])
def test_a_negative_hyper_parameter_is_refused_by_name(name):
    kwargs = {"lr": 0.1, "momentum": 0.9, "weight_decay": 1e-4, name: -1.0}
    with pytest.raises(ValueError, match=f"{name}=-1.0 must be"):
        SGD([torch.ones(1, requires_grad=True)], **kwargs)


def test_building_and_stepping_a_simulation_does_not_import_dynamo():
    """torch.optim.SGD's first step imports torch._dynamo (1.7 s of a cold start)."""
    code = ("import sys\nfrom collapse.recipe import preset\nfrom toy.train import Simulation\n"
            "Simulation(preset('simsiam'), seeds=(0,)).step(2)\n"
            "print('torch._dynamo' in sys.modules)\n")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
