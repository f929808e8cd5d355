"""PNG curves of ResNet runs' ``metrics.jsonl`` rows (loss, collapse metrics, kNN).

    python -m full.report runs/full/shapes-simsiam runs/full/shapes-no-stop-gradient
    python -m full.report RUN [RUN ...] --out compare.png

Each run ends by drawing its own ``curves.png`` (:func:`plot_curves`); ``python -m full.report``
draws several runs on the same axes, one colour per run, so that SimSiam and its collapsing
variants can be compared at a glance. The std panel marks the collapse line of
:mod:`collapse.criterion` and the kNN panel the chance level of the dataset. The eta panel is the
paper's Fig. 5a over epochs: eta = o_e.o/|o|^2, where cos(o_e - eta o, o) crosses zero
(:func:`collapse.gradients.crossing`), with the paper's value of about -0.5 marked.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

from collapse.criterion import COLLAPSED_STD_SCALED
from common import cli, files

PANELS = (("loss", "loss"), ("std_scaled", "std(Z) x sqrt(d)"), ("center_norm", "m_o = |o|"),
          ("effective_rank", "effective rank"), ("knn_acc", "kNN accuracy"),
          ("grad_extra_center_cos", "cos(o_e, o)"), ("grad_eta", "eta: o_e = eta o (Fig. 5a)"))
PAPER_ETA = -0.5  # paper §3, Fig. 5a: o_e ~ -0.5 o_p (paper-notes §3)


def plot_runs(runs: dict[str, list[dict[str, Any]]], path: str | pathlib.Path, title: str,
              chance: float | None = None) -> None:
    """One panel per metric of :data:`PANELS` against the epoch, one line per run; written
    atomically. ``runs`` maps a label to its metrics rows (epoch 0 is the untrained network)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(2, 4, figsize=(15, 6), constrained_layout=True)
    for ax in axes.flat[len(PANELS):]:
        ax.set_axis_off()
    for ax, (key, label) in zip(axes.flat, PANELS, strict=False):
        for name, rows in runs.items():
            points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
            if points:
                ax.plot(*zip(*points, strict=True), marker="o", markersize=3, label=name)
        if key == "std_scaled":
            ax.axhline(COLLAPSED_STD_SCALED, color="grey", linestyle="--", linewidth=1,
                       label="collapse line")
        if key == "knn_acc" and chance is not None:
            ax.axhline(chance, color="grey", linestyle=":", linewidth=1, label="chance")
        if key == "grad_eta":
            ax.axhline(PAPER_ETA, color="grey", linestyle="--", linewidth=1, label="paper")
            ax.legend(fontsize=8)
        ax.set_title(label)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes.flat[1].get_legend_handles_labels()
    if len(runs) > 1 or len(labels) > 1:
        axes.flat[1].legend(handles, labels, fontsize=8)
    fig.suptitle(title)
    with files.atomic_file(path, "wb") as f:
        fig.savefig(f, dpi=110, format="png")
    plt.close(fig)


def plot_curves(rows: list[dict[str, Any]], path: str | pathlib.Path, title: str,
                chance: float | None = None) -> None:
    """The curves of one run: :func:`plot_runs` with a single line per panel."""
    plot_runs({title: rows}, path, title, chance)


class RunError(ValueError):
    """A run folder that cannot be drawn; the message is one line meant for the user."""


def read_run(folder: pathlib.Path) -> tuple[str, list[dict[str, Any]], float | None]:
    """(label, metrics rows, chance) of a ``full.train`` output folder."""
    metrics = folder / "metrics.jsonl"
    if not metrics.is_file():
        raise RunError(f"{folder}: no metrics.jsonl (is it a full.train --out folder?)")
    try:
        rows = [json.loads(line) for line in metrics.read_text().splitlines() if line.strip()]
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{metrics}: not JSON lines ({error})") from None
    if not rows or not all(isinstance(r, dict) and "epoch" in r for r in rows):
        raise RunError(f"{metrics}: no rows with an 'epoch' key")
    label, chance = folder.name, None
    summary = folder / "summary.json"
    if summary.is_file():  # finished runs name their recipe and chance level
        try:
            info = json.loads(summary.read_text())
            label, chance = str(info.get("recipe", label)), info.get("chance")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            pass  # the curves need only metrics.jsonl
    return label, rows, chance


def build_parser() -> cli.Parser:
    p = cli.Parser(prog="full.report", description="Draw the curves of one or more full.train "
                   "runs on the same axes.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="full.train --out folders")
    p.add_argument("--out", metavar="FILE", default="runs/full/compare.png",
                   help="the PNG to write (default: %(default)s)")
    p.add_argument("--title", default=None, help="figure title (default: the run labels)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = pathlib.Path(args.out)
    if out.suffix.lower() != ".png":
        parser.error(f"--out {args.out}: the file name must end in .png")
    try:
        cli.output_dir(str(out.parent))
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    runs: dict[str, list[dict[str, Any]]] = {}
    chances = set()
    for folder in args.runs:
        try:
            label, rows, chance = read_run(pathlib.Path(folder))
        except RunError as error:
            parser.error(str(error))
        while label in runs:  # two runs of one recipe: tell them apart by folder
            label = f"{label} ({folder})"
        runs[label] = rows
        chances.add(chance)
    chance = chances.pop() if len(chances) == 1 else None
    plot_runs(runs, out, args.title or " vs ".join(runs), chance)
    print(f"full.report: wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
