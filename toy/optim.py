"""The toy's update step: SGD with momentum and weight decay, without ``torch.optim``.

The standard SimSiam recipe trains with SGD, momentum 0.9 and weight decay (the SimSiam paper's
appendix D; the paper under study does not state its own), and so does the toy (toy.config).
This is the same update as ``torch.optim.SGD(params, lr, momentum, weight_decay=...,
foreach=True)``, bit for bit: the same ``torch._foreach_*`` operations in the same order as
torch's ``_multi_tensor_sgd`` (dampening 0, no Nesterov)::

    g = grad + weight_decay * param            (if weight_decay != 0)
    buf = clone(g) on the first step, else buf = momentum * buf + g
    param = param - lr * buf

Why not ``torch.optim.SGD``: its first ``step()`` imports ``torch._dynamo`` (its
``_disable_dynamo`` decorator does so lazily), 1.7-1.8 s of a cold start on this machine
(BENCHMARKS.md, first picture), for an update that is three lines of tensor arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor


class SGD:
    """SGD with momentum and weight decay over one group of parameters.

    ``param_groups`` is a list with one dict (``params``, ``lr``, ``momentum``,
    ``weight_decay``), as in ``torch.optim``: a caller may change ``lr`` and ``weight_decay``
    between steps. A parameter without a gradient is skipped, and its momentum buffer kept.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 weight_decay: float = 0.0) -> None:
        for name, value in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not value >= 0:
                raise ValueError(f"{name}={value!r} must be a number >= 0")
        self.param_groups: list[dict[str, Any]] = [{
            "params": list(params), "lr": lr, "momentum": momentum,
            "weight_decay": weight_decay}]
        self.momentum_buffers: dict[Tensor, Tensor] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients (``set_to_none=False`` zeroes them in place instead)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient (torch's ``_multi_tensor_sgd``)."""
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads: list[Tensor] = [p.grad for p in params]
            lr, momentum, weight_decay = group["lr"], group["momentum"], group["weight_decay"]
            if weight_decay != 0:
                grads = list(torch._foreach_add(grads, params, alpha=weight_decay))
            if momentum != 0:
                grads = self._momentum(params, grads, momentum)
            torch._foreach_add_(params, grads, alpha=-lr)

    def _momentum(self, params: list[Tensor], grads: list[Tensor],
                  momentum: float) -> list[Tensor]:
        """The momentum buffers after this step's gradients: ``buf = momentum * buf + g``, a
        copy of ``g`` where a parameter has no buffer yet (torch's order of operations)."""
        bufs = [self.momentum_buffers.get(p) for p in params]
        if all(b is not None for b in bufs):
            torch._foreach_mul_(bufs, momentum)
            torch._foreach_add_(bufs, grads, alpha=1)
            return bufs
        for i, (p, g, b) in enumerate(zip(params, grads, bufs, strict=True)):
            if b is None:
                bufs[i] = self.momentum_buffers[p] = g.detach().clone()
            else:
                b.mul_(momentum).add_(g, alpha=1)
        return bufs
