"""Tests for toy.plots: every branch writes a PNG, bad shapes are refused, JSON curves plot."""

import json
import math

import matplotlib
import pytest
import torch

from toy.plots import plot_curves, plot_representations

PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    return path.read_bytes()[:8] == PNG


@pytest.mark.parametrize("d", [2, 3, 5])
def test_plot_representations_writes_a_png_for_each_dimension_branch(tmp_path, d):
    g = torch.Generator().manual_seed(d)
    z = torch.randn(200, d, generator=g)
    labels = torch.randint(16, (200,), generator=g)
    path = tmp_path / f"z{d}.png"
    plot_representations(z, labels, path, f"d = {d}")
    assert _is_png(path)


def test_plot_representations_draws_a_collapsed_batch(tmp_path):
    z = torch.ones(50, 8) + 1e-3 * torch.randn(50, 8, generator=torch.Generator().manual_seed(0))
    path = tmp_path / "collapsed.png"
    plot_representations(z, torch.zeros(50, dtype=torch.long), path, "collapsed")
    assert _is_png(path)


def test_plot_representations_refuses_bad_shapes(tmp_path):
    with pytest.raises(ValueError, match="shape"):
        plot_representations(torch.randn(2, 10, 3), None, tmp_path / "x.png", "x")
    with pytest.raises(ValueError, match="labels"):
        plot_representations(torch.randn(10, 3), torch.zeros(9, dtype=torch.long),
                             tmp_path / "x.png", "x")


def _curves(members: int, predictor: bool, grads: bool) -> dict[str, list[list[float]]]:
    steps = [0.0, 10.0, 20.0]
    out = {"step": [[s] * members for s in steps], "loss": [[math.nan] * members,
                                                           [-0.5] * members, [-0.9] * members]}
    for prefix in ("z", "p") if predictor else ("z",):
        out[f"{prefix}_std_scaled"] = [[0.9] * members, [0.5] * members, [0.1] * members]
        out[f"{prefix}_center_norm"] = [[0.2] * members, [0.6] * members, [0.99] * members]
        out[f"{prefix}_residual_norm"] = [[0.97] * members, [0.8] * members, [0.1] * members]
        out[f"{prefix}_effective_rank"] = [[2.9] * members, [2.0] * members, [1.1] * members]
    if grads:
        for key in ("grad_basic_norm", "grad_extra_center_norm", "grad_extra_residual_norm"):
            out[key] = [[math.nan] * members, [1.0] * members, [0.2] * members]
    return out


@pytest.mark.parametrize(("members", "predictor", "grads"), [
    (1, True, True), (3, False, False),
])
def test_plot_curves_writes_a_png(tmp_path, members, predictor, grads):
    path = tmp_path / "curves.png"
    plot_curves(_curves(members, predictor, grads), path, "title", dim=3)
    assert _is_png(path)


def test_plot_curves_reads_json_with_null(tmp_path):
    from common.files import write_json

    write_json(tmp_path / "curves.json", _curves(2, True, True))
    curves = json.loads((tmp_path / "curves.json").read_text())
    assert curves["loss"][0] == [None, None]
    plot_curves(curves, tmp_path / "curves.png", "from json", dim=3)
    assert _is_png(tmp_path / "curves.png")


def test_plots_leave_no_pyplot_figure_open(tmp_path):
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    plot_representations(torch.randn(20, 3), None, tmp_path / "a.png", "a")
    plot_curves(_curves(1, False, False), tmp_path / "b.png", "b", dim=3)
    assert plt.get_fignums() == before
    assert matplotlib.get_backend()  # no backend was forced on the caller
