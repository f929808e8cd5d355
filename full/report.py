"""PNG curves of a ResNet run's ``metrics.jsonl`` rows (loss, collapse metrics, kNN)."""

from __future__ import annotations

import pathlib
from typing import Any

PANELS = (("loss", "loss"), ("std_scaled", "std(Z) x sqrt(d)"), ("center_norm", "m_o = |o|"),
          ("effective_rank", "effective rank"), ("knn_acc", "kNN accuracy"),
          ("grad_extra_center_cos", "cos(o_e, o)"))


def plot_curves(rows: list[dict[str, Any]], path: str | pathlib.Path, title: str) -> None:
    """One panel per metric of :data:`PANELS` against the epoch; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(12, 6), constrained_layout=True)
    for ax, (key, label) in zip(axes.flat, PANELS, strict=True):
        points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
        if points:
            ax.plot(*zip(*points, strict=True), marker="o", markersize=3)
        ax.set_title(label)
        ax.set_xlabel("epoch")
    fig.suptitle(title)
    target = pathlib.Path(path)
    temp = target.with_name(f".{target.name}.tmp")
    fig.savefig(temp, dpi=110, format="png")
    plt.close(fig)
    temp.replace(target)
