"""Evaluation of a ResNet SimSiam run: kNN and linear probe on backbone features, and the shared
collapse metrics and gradient decomposition on a fixed batch (paper-notes §6; paper §3).

Nothing here re-implements a metric: kNN, std, m_o, effective rank come from
:mod:`collapse.metrics`, the decomposition from :mod:`collapse.gradients`, the verdict from
:mod:`collapse.criterion`. What is added is what images need: feature extraction in batches
and a linear probe on cached frozen features (the paper's probe trains 100 epochs on augmented
images; on cached un-augmented features it takes seconds, at the cost of ~1-2 points).

The baseline a trained network must beat is not only the untrained network (epoch 0 of
``metrics.jsonl``) but the raw pixels themselves (:func:`raw_pixel_baseline`): the same kNN
(k = 200, T = 0.1) and the same linear probe on the normalised pixels, flattened. A
self-supervised network that does not beat them has learned nothing the pixels did not hold.
"""

from __future__ import annotations

import copy
import math
from contextlib import nullcontext

import torch
from torch import Tensor, nn

from collapse import metrics
from collapse.criterion import collapse_state
from collapse.gradients import decompose
from collapse.losses import ViewOutputs
from collapse.siamese import Siamese
from full.augment import Augmentation, normalize, two_views
from full.encoder import Encoder


def autocast(device: torch.device, bf16: bool):  # noqa: ANN201
    """bf16 autocast on CUDA when asked, else nothing."""
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


@torch.no_grad()
def features(encoder: Encoder, images: Tensor, batch: int = 1024, bf16: bool = False) -> Tensor:
    """Backbone features (N, 8 * width) of un-augmented uint8 images, in eval mode, float32."""
    was_training = encoder.training
    encoder.eval()
    out = []
    for start in range(0, images.shape[0], batch):
        x = normalize(images[start:start + batch].float().div_(255))
        with autocast(x.device, bf16):
            out.append(encoder.backbone(x.contiguous(memory_format=torch.channels_last)).float())
    encoder.train(was_training)
    return torch.cat(out)


def knn(train_f: Tensor, train_y: Tensor, test_f: Tensor, test_y: Tensor, num_classes: int,
        k: int = 200, temperature: float = 0.1) -> float:
    """Weighted kNN accuracy (k = 200, T = 0.1, cosine) of :func:`collapse.metrics.knn_accuracy`."""
    return metrics.knn_accuracy(train_f, train_y.to(train_f.device), test_f,
                                test_y.to(train_f.device), k=k, temperature=temperature,
                                num_classes=num_classes)


def linear_probe(train_f: Tensor, train_y: Tensor, test_f: Tensor, test_y: Tensor,
                 num_classes: int, epochs: int = 100, seed: int = 0) -> float:
    """Test accuracy of a linear classifier trained on frozen, standardised features.

    Adam (lr 1e-3, cosine), batch 256, ``epochs`` passes over the cached training features.
    """
    device = train_f.device
    mean, std = train_f.mean(0), train_f.std(0).clamp_min(1e-6)
    x_train, x_test = (train_f - mean) / std, (test_f - mean) / std
    y_train, y_test = train_y.to(device), test_y.to(device)
    g = torch.Generator().manual_seed(seed)
    head = nn.Linear(x_train.shape[1], num_classes).to(device)
    with torch.no_grad():  # reproducible init from the seed
        bound = 1 / math.sqrt(x_train.shape[1])
        head.weight.copy_(torch.empty_like(head.weight, device="cpu").uniform_(
            -bound, bound, generator=g).to(device))
        head.bias.zero_()
    opt = torch.optim.Adam(head.parameters(), lr=1e-3)
    n, batch = x_train.shape[0], 256
    steps = epochs * max(1, n // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(epochs):
        order = torch.randperm(n, generator=g).to(device)
        for start in range(0, max(1, n - batch + 1), batch):
            idx = order[start:start + batch]
            loss = nn.functional.cross_entropy(head(x_train[idx]), y_train[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    with torch.no_grad():
        return (head(x_test).argmax(1) == y_test).float().mean().item()


@torch.no_grad()
def raw_pixels(images: Tensor) -> Tensor:
    """(N, C * H * W) float32 features of uint8 images: the network's normalised input, flat."""
    return normalize(images.float().div_(255)).flatten(1)


def raw_pixel_baseline(train_images: Tensor, train_labels: Tensor, test_images: Tensor,
                       test_labels: Tensor, num_classes: int, k: int = 200,
                       temperature: float = 0.1, probe_epochs: int = 100,
                       seed: int = 0) -> dict[str, float]:
    """kNN (:func:`knn`) and linear-probe (:func:`linear_probe`) accuracy on :func:`raw_pixels`.

    The same k, T, probe epochs and seed as the network's evaluation, so the two are comparable:
    ``{"knn_acc": ..., "linear_acc": ...}``.
    """
    train_f, test_f = raw_pixels(train_images), raw_pixels(test_images)
    return {"knn_acc": knn(train_f, train_labels, test_f, test_labels, num_classes, k,
                           temperature),
            "linear_acc": linear_probe(train_f, train_labels, test_f, test_labels, num_classes,
                                       probe_epochs, seed)}


@torch.no_grad()
def with_batch_statistics(model: Siamese, images: Tensor, cfg: Augmentation, seed: int,
                          batch: int = 256, bf16: bool = False) -> Siamese:
    """A copy of ``model`` whose batch-norm running statistics are estimated on ``images``.

    Evaluation runs in eval mode, where batch norm uses its running statistics. An untrained
    network's are still the initial (0, 1), so its eval-mode outputs are not what training sees
    (its z would look collapsed). The copy re-estimates them as the cumulative average over one
    augmented view (drawn from ``seed``) of every image, in batches of ``batch``; ``model`` itself
    is not touched, so the run's trajectory does not change.
    """
    calibrated = copy.deepcopy(model)
    for module in calibrated.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()
            module.momentum = None  # cumulative average over all the batches
    calibrated.train()
    g = torch.Generator(device=images.device).manual_seed(seed)
    for start in range(0, images.shape[0] - 1, batch):  # a batch of one has no statistics
        (view,) = two_views(images[start:start + batch], cfg, g, count=1)
        with autocast(images.device, bf16):
            calibrated.view(view)
    return calibrated.eval()


def _detached(v: ViewOutputs) -> ViewOutputs:
    return ViewOutputs(*(t.detach().float() if t is not None else None
                         for t in (v.z, v.p, v.z_target, v.inverse)))


@torch.no_grad()
def probe_batch(model: Siamese, images: Tensor, cfg: Augmentation, seed: int,
                bf16: bool = False) -> dict[str, float]:
    """Collapse metrics of z (and p) and the gradient decomposition (paper §3) on a fixed batch.

    The same images and the same two views (drawn from ``seed``) every time, model in eval mode.
    """
    g = torch.Generator(device=images.device).manual_seed(seed)
    recipe = model.recipe
    k = recipe.eoa_samples if recipe.target == "eoa" else 0
    views = two_views(images, cfg, g, count=2 + k)
    was_training = model.training
    model.eval()
    with autocast(images.device, bf16):
        a, b = (model.view(v, views[2:] or None) for v in views[:2])
    model.train(was_training)
    a, b = _detached(a), _detached(b)
    row = metrics.summary(a.z)
    dim = a.z.shape[-1]
    row["state"] = collapse_state(row["std_scaled"], row["effective_rank"], dim)
    if a.p is not None:
        p = metrics.summary(a.p)
        row.update({f"p_{key}": p[key] for key in ("std_scaled", "center_norm",
                                                   "effective_rank")})
        row["p_state"] = collapse_state(p["std_scaled"], p["effective_rank"], dim)
    if recipe.objective != "none":
        parts = decompose(recipe, a, b).summary()
        row.update({f"grad_{key}": float(value) for key, value in parts.items()})
    return row
