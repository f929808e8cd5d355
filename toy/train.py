"""The toy's training loop: several seeds of one recipe trained side by side, metrics recorded.

A :class:`Simulation` holds M = len(seeds) independent models stacked in one set of tensors
(:mod:`collapse.layers`); member i is exactly the run of seed i alone (its own data, weights and
random views). ``step(n)`` trains, ``record()`` appends the shared metrics of the held-out
representations and the gradient decomposition of the last batch to the history, with no host
sync until the history is read. The app steps the same object, a few steps per frame.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict

import torch
from torch import Tensor

from collapse import metrics
from collapse.criterion import collapse_state
from collapse.gradients import decompose, infonce_parts
from collapse.layers import MLP
from collapse.losses import ViewOutputs
from collapse.recipe import Recipe
from collapse.siamese import Siamese
from toy.config import ToyConfig
from toy.data import augment, make_dataset
from toy.optim import SGD

KNN_K = 20  # neighbours for the toy's kNN (the held-out set has 1024 points)
KNN_T = 0.1


def _detached(v: ViewOutputs) -> ViewOutputs:
    """The last batch's outputs without their autograd graph (kept for the decomposition)."""
    return ViewOutputs(*(None if t is None else t.detach() for t in
                         (v.z, v.p, v.z_target, v.inverse)))


class Simulation:
    """One recipe, several seeds, trained in lock-step on one thread."""

    def __init__(self, recipe: Recipe, config: ToyConfig | None = None,
                 seeds: tuple[int, ...] = (0,), max_history: int | None = None) -> None:
        """``max_history`` keeps only the last records (the app's memory stays flat)."""
        config = config or ToyConfig()
        if not seeds:
            raise ValueError("seeds must name at least one seed")
        self.recipe, self.config, self.seeds = recipe, config, tuple(seeds)
        members = len(self.seeds)
        self.generators = [torch.Generator().manual_seed(s) for s in self.seeds]
        data = [make_dataset(config.dataset, s, config.train_size, config.test_size)
                for s in self.seeds]
        self.augmentation = data[0].augmentation.scaled(config.augmentation)
        self.num_classes = data[0].num_classes
        self.train_x = torch.stack([d.train for d in data])
        self.train_y = torch.stack([d.train_labels for d in data])
        self.test_x = torch.stack([d.test for d in data])
        self.test_y = torch.stack([d.test_labels for d in data])
        init = [torch.Generator().manual_seed(10_000 + s) for s in self.seeds]
        encoder = MLP(self.train_x.shape[-1], config.hidden, config.dim, members, init)
        self.model = Siamese(encoder, config.dim, recipe, config.hidden, members, init)
        self.optimizer = SGD(
            [p for p in self.model.parameters() if p.requires_grad], lr=config.lr,
            momentum=config.momentum, weight_decay=config.weight_decay)
        self.steps = 0
        self.history: deque[dict[str, Tensor]] = deque(maxlen=max_history)
        self._last: tuple[ViewOutputs, ViewOutputs] | None = None
        self._loss = torch.full((members,), float("nan"))

    def set_recipe(self, recipe: Recipe) -> None:
        """Change the loss mid-run (same modules), e.g. collapse then de-correlate (Fig. 5b)."""
        self.model.set_recipe(recipe)
        self.recipe = recipe

    def _views(self, count: int) -> list[Tensor]:
        """``count`` random views of one fresh batch per member: each (M, B, n)."""
        per_member = []
        for m, g in enumerate(self.generators):
            idx = torch.randint(self.train_x.shape[1], (self.config.batch,), generator=g)
            x = self.train_x[m, idx]
            per_member.append([augment(x, self.augmentation, g) for _ in range(count)])
        return [torch.stack(vs) for vs in zip(*per_member, strict=True)]

    def step(self, n: int = 1) -> None:
        """``n`` optimisation steps of every member."""
        self.model.train()
        eoa_k = self.recipe.eoa_samples if self.recipe.target == "eoa" else 0
        for _ in range(n):
            views = self._views(2 + eoa_k)
            loss, a, b = self.model(views[0], views[1], views[2:] or None)
            self.optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            self.optimizer.step()
            self.model.update_target()
            self.steps += 1
        self._last, self._loss = (_detached(a), _detached(b)), loss.detach()

    @torch.no_grad()
    def representations(self, x: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """(z, p) of ``x`` (default: the held-out points), each (M, N, d); p None without h."""
        self.model.eval()
        z = self.model.encoder(self.test_x if x is None else x)
        p = self.model.predictor(z) if self.model.predictor is not None else None
        self.model.train()
        return z, p

    def record(self) -> dict[str, Tensor]:
        """Append the metrics of the held-out representations (M values each) to the history."""
        z, p = self.representations()
        row: dict[str, Tensor] = {"step": torch.tensor(float(self.steps)), "loss": self._loss}
        for prefix, v in (("z", z), ("p", p)):
            if v is None:
                continue
            row[f"{prefix}_std_scaled"] = metrics.std(v) * math.sqrt(v.shape[-1])
            row[f"{prefix}_center_norm"] = metrics.center_norm(v)
            row[f"{prefix}_residual_norm"] = metrics.residual_norm(v)
            row[f"{prefix}_effective_rank"] = metrics.effective_rank(v)
        if self.model.inverse is not None:  # how well h^-1 maps P back to Z (claim 5)
            with torch.no_grad():
                back = self.model.inverse(metrics.normalize(p))
            row["inverse_cos"] = (metrics.normalize(back) * metrics.normalize(z)).sum(-1).mean(-1)
        row["z_off_diagonal_covariance"] = metrics.off_diagonal_covariance(z)
        row["z_off_diagonal_correlation"] = metrics.off_diagonal_correlation(z)
        if self._last is not None and self.recipe.objective != "none":
            a, b = self._last
            for key, value in decompose(self.recipe, a, b).summary().items():
                row[f"grad_{key}"] = value
            if self.recipe.negatives == "infonce":  # paper §4: -o/tau and -sum(lambda r)/tau
                parts = infonce_parts(metrics.normalize(a.z), metrics.normalize(b.z),
                                      self.recipe.tau)
                row["grad_infonce_decentering"] = parts["decentering"].norm(dim=-1).mean(-1)
                row["grad_infonce_decorrelation"] = parts["decorrelation"].norm(dim=-1).mean(-1)
        self.history.append(row)
        return row

    def knn(self) -> list[float]:
        """Weighted kNN accuracy of each member's held-out z against its training z."""
        bank, _ = self.representations(self.train_x)
        test, _ = self.representations()
        return [metrics.knn_accuracy(bank[m], self.train_y[m], test[m], self.test_y[m],
                                     k=KNN_K, temperature=KNN_T, num_classes=self.num_classes)
                for m in range(len(self.seeds))]

    def curves(self) -> dict[str, list[list[float]]]:
        """The history as ``{metric: [[member values] per record]}`` (one host transfer)."""
        keys = sorted({k for row in self.history for k in row})
        out: dict[str, list[list[float]]] = {}
        for key in keys:
            rows = [row.get(key) for row in self.history]
            stacked = torch.stack([
                (torch.full((len(self.seeds),), float("nan")) if r is None else
                 r.expand(len(self.seeds))) for r in rows])
            out[key] = stacked.tolist()
        return out

    def final(self) -> list[dict[str, float]]:
        """Per member: the last record's metrics, kNN accuracy and the collapse state of z and p."""
        last = self.history[-1] if self.history and self.history[-1]["step"] == self.steps \
            else self.record()
        values = {k: v.expand(len(self.seeds)).tolist() for k, v in last.items()}
        out = []
        for m, knn in enumerate(self.knn()):
            row = {k: v[m] for k, v in values.items()}
            row["knn"] = knn
            for prefix in ("z", "p"):
                if f"{prefix}_std_scaled" in row:
                    row[f"{prefix}_state"] = collapse_state(
                        row[f"{prefix}_std_scaled"], row[f"{prefix}_effective_rank"],
                        self.config.dim)
            out.append(row)
        return out

    def describe(self) -> dict[str, object]:
        return {"recipe": self.recipe.to_dict(), "config": asdict(self.config),
                "seeds": list(self.seeds)}
