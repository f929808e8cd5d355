"""Every figure of the tutorial's chapters, regenerated from the shared package and the toy.

    python -m tutorial.figures                      # writes tutorial/figures/*.png
    python -m tutorial.figures --steps 300 --out /tmp/figures

Each run is one seed (0) of a named preset of :mod:`collapse.recipe`, trained by
:func:`toy.claims.run_experiment` (the same loop as ``python -m toy.run`` and ``python -m
toy.claims``); the pictures are drawn by :mod:`toy.plots` and :mod:`toy.figures`. The only
drawing code of its own here is :func:`overview`, a bar chart of numbers the runs recorded.
Besides the PNGs it writes ``numbers.json``: the final metrics of every run, and the eta,
covariance, dummy-loss and recovery summaries of :mod:`toy.claims`' judges, so that a number
read off a figure can be looked up. One thread, one process; about two minutes on a laptop CPU.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from common.cli import Parser, output_dir, positive_int, set_threads
from common.files import write_json

STEPS = 1000  # the same budget as docs/claims (python -m toy.claims), one seed instead of three
SEED = 0
MIN_STEPS = 20  # fewer leaves Fig. 5a without an early, middle and late record
DUMMY_ZOOM = 0.1  # Fig. 4 shows the first tenth of the steps: the dummies act within ~20 steps


@dataclass(frozen=True)
class Run:
    """A toy run of the tutorial: a preset (optionally switched halfway) at dimension ``dim``."""

    label: str  # the key the toy.figures functions look up
    recipe: str
    dim: int = 16
    then: str | None = None
    record_every: int = 25


RUNS: tuple[Run, ...] = (
    Run("no-stop-gradient-d3", "no-stop-gradient", dim=3, record_every=10),
    Run("simsiam-d3", "simsiam", dim=3),
    Run("no-stop-gradient", "no-stop-gradient"),
    Run("no-predictor", "no-predictor"),
    Run("symmetric-predictor", "symmetric-predictor"),
    Run("eoa-target", "eoa-target"),
    Run("inverse-predictor", "inverse-predictor"),
    Run("simsiam", "simsiam", record_every=10),
    Run("center-dummy", "center-dummy", record_every=2),
    Run("residual-dummy", "residual-dummy", record_every=2),
    Run("triplet", "triplet"),
    Run("triplet-center", "triplet-center"),
    Run("triplet-residual", "triplet-residual"),
    Run("infonce", "infonce"),
    Run("simsiam-no-extra", "simsiam-no-extra"),
    Run("simsiam-center", "simsiam-center"),
    Run("simsiam-residual", "simsiam-residual"),
    Run("no-predictor->decorrelation-only", "no-predictor", then="decorrelation-only",
        record_every=10),
    Run("no-predictor->no-predictor", "no-predictor", then="no-predictor", record_every=10),
    Run("bias-predictor", "bias-predictor"),
    Run("linear-predictor", "linear-predictor"),
    Run("directpred", "directpred"),
)

# Bar charts of final std(Z)·√d (and std(P)·√d): which runs each chapter compares.
OVERVIEWS: dict[str, tuple[str, tuple[str, ...]]] = {
    "ch2_explanations.png": (
        "Chapter 2: the first explanations",
        ("no-stop-gradient", "no-predictor", "eoa-target", "symmetric-predictor",
         "inverse-predictor", "simsiam")),
    "ch5_negatives.png": (
        "Chapter 5: negatives and gradient surgery on the triplet",
        ("no-predictor", "triplet", "triplet-center", "triplet-residual", "infonce")),
    "ch6_surgery.png": (
        "Chapter 6: SimSiam's extra gradient, -P_a·sg(P_b + X)",
        ("simsiam-no-extra", "simsiam-center", "simsiam-residual", "simsiam")),
    "ch7_predictors.png": (
        "Chapter 7: simpler predictors",
        ("no-predictor", "bias-predictor", "linear-predictor", "directpred", "simsiam")),
}


def train(run: Run, steps: int) -> dict[str, object]:
    """One seed of ``run`` for ``steps`` steps, with the hidden labels of its held-out points."""
    from toy.claims import Experiment, run_experiment
    from toy.data import make_dataset
    from toy.train import ToyConfig

    config = ToyConfig(dim=run.dim)
    experiment = Experiment(run.recipe, then=run.then, record_every=run.record_every)
    result = run_experiment(experiment, (SEED,), steps, config)
    data = make_dataset(config.dataset, SEED, config.train_size, config.test_size)
    return result | {"dim": run.dim, "labels": data.test_labels}


def overview(results: dict[str, dict[str, object]], labels: tuple[str, ...], path: Path,
             title: str, steps: int) -> Path:
    """Horizontal bars of the final std·√d of Z (and of P where there is a predictor), each
    annotated with its effective rank and collapse state (:mod:`collapse.criterion`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from collapse.criterion import COLLAPSED_STD_SCALED

    rows = []
    for label in labels:
        final, dim = results[label]["final"][0], results[label]["dim"]
        for rep, colour in (("z", "tab:blue"), ("p", "tab:orange")):
            if f"{rep}_std_scaled" in final:
                rows.append((f"{label}  {rep.upper()}", final[f"{rep}_std_scaled"],
                             final[f"{rep}_effective_rank"], final[f"{rep}_state"], dim, colour))
    fig, ax = plt.subplots(figsize=(8.4, 0.36 * len(rows) + 1.4))
    y = np.arange(len(rows))
    ax.barh(y, [r[1] for r in rows], color=[r[5] for r in rows], alpha=0.75)
    for i, (_, value, rank, state, dim, _) in enumerate(rows):
        ax.text(min(value, 1.0) + 0.02, i, f"{value:.2f}   rank {rank:.1f}/{dim}   {state}",
                va="center", fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8})
    ax.axvline(COLLAPSED_STD_SCALED, color="tab:red", ls="--", lw=1)
    ax.axvline(1, color="k", ls=":", lw=1)
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.set(xlim=(0, 1.75), xlabel=f"std·√d at the end (Z blue, P orange); dashed: collapse "
           f"threshold {COLLAPSED_STD_SCALED:g}; dotted: isotropic")
    ax.set_xticks([0, COLLAPSED_STD_SCALED, 0.5, 1.0])
    ax.invert_yaxis()
    dims = sorted({r[4] for r in rows})
    ax.set_title(f"{title}\n(toy, d = {', '.join(map(str, dims))}, seed {SEED}, {steps} steps)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def first_steps(result: dict[str, object], last: float) -> dict[str, object]:
    """``result`` with its curves cut after step ``last`` (to zoom on the first steps)."""
    curves = result["curves"]
    keep = sum(1 for row in curves["step"] if row[0] <= last)
    return result | {"curves": {k: v[:keep] for k, v in curves.items()}}


def _rounded(final: dict[str, object]) -> dict[str, object]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in final.items()}


def make_figures(out: Path, steps: int, progress: bool = True) -> list[Path]:
    """Train every run of :data:`RUNS` and write each chapter's figure into ``out``."""
    from toy import claims, figures
    from toy.plots import plot_curves, plot_representations

    results: dict[str, dict[str, object]] = {}
    start = time.perf_counter()
    for run in RUNS:
        results[run.label] = train(run, steps)
        if progress:
            state = results[run.label]["final"][0]["z_state"]
            print(f"  {run.label:34s} d={run.dim:<3d} {state:12s} "
                  f"{time.perf_counter() - start:6.1f} s", flush=True)
    results["analytic"] = {"tau_sweep": [claims.tau_sweep(results["infonce"]["z_test"][0][:256])]}

    def representations(label: str, name: str) -> Path:
        r = results[label]
        path = out / name
        plot_representations(r["z_test"][0], r["labels"], path,
                             f"{label.removesuffix('-d3')}, d = {r['dim']}, seed {SEED}, "
                             f"{steps} steps")
        return path

    def curves(label: str, name: str) -> Path:
        r = results[label]
        path = out / name
        plot_curves(r["curves"], path, f"{label.removesuffix('-d3')}, d = {r['dim']}, "
                    f"seed {SEED}, {steps} steps", r["dim"])
        return path

    paths = [
        representations("no-stop-gradient-d3", "ch1_no_stop_gradient_d3.png"),
        representations("simsiam-d3", "ch1_simsiam_d3.png"),
        curves("no-stop-gradient-d3", "ch1_no_stop_gradient_curves.png"),
        figures.fig4_dummies({k: first_steps(results[k], DUMMY_ZOOM * steps)
                              for k in ("center-dummy", "residual-dummy")},
                             out / "ch3_dummy_losses.png"),
        curves("simsiam-no-extra", "ch4_no_extra_curves.png"),
        curves("simsiam", "ch4_simsiam_curves.png"),
        figures.tau_sweep_figure(results, out / "ch5_infonce_tau_sweep.png"),
        figures.fig5a_decentering(results, out / "ch6_decentering.png"),
        figures.fig5b_decorrelation(results, out / "ch6_decorrelation.png"),
        figures.fig6_covariance(results, out / "ch6_covariance.png"),
        representations("bias-predictor", "ch7_bias_predictor.png"),
        representations("linear-predictor", "ch7_linear_predictor.png"),
    ]
    paths += [overview(results, labels, out / name, title, steps)
              for name, (title, labels) in OVERVIEWS.items()]

    judged: dict[str, object] = {
        "eta (claim 11)": claims.judge_eta(results, 0)[1],
        "covariance (claim 13)": claims.judge_covariance(results, 0)[1],
        "dummy losses (claim 7)": claims.judge_dummies(results, 0)[1],
    }
    if steps // 2 + claims.RECOVERY_STEPS <= steps:
        judged["recovery (claim 12)"] = claims.judge_decorrelation(results, 0)[1]
    write_json(out / "numbers.json", {
        "command": f"python -m tutorial.figures --steps {steps}", "seed": SEED, "steps": steps,
        "runs": {label: {"dim": r["dim"], "knn_init": round(r["knn_init"][0], 4),
                         "final": _rounded(r["final"][0])}
                 for label, r in results.items() if label != "analytic"},
        "judges": judged,
        "infonce_tau_sweep": results["analytic"]["tau_sweep"][0],
    })
    return [*paths, out / "numbers.json"]


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="python -m tutorial.figures", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=output_dir, default=None,
                        help="output folder (default: tutorial/figures)")
    parser.add_argument("--steps", type=positive_int, default=STEPS,
                        help=f"training steps of every run (default: {STEPS})")
    parser.add_argument("--quiet", action="store_true", help="no per-run progress lines")
    args = parser.parse_args(argv)
    if args.steps < MIN_STEPS:
        parser.error(f"--steps {args.steps} is too few: the figures need >= {MIN_STEPS}")
    out = args.out or output_dir(str(Path(__file__).parent / "figures"))
    set_threads()
    start = time.perf_counter()
    paths = make_figures(out, args.steps, progress=not args.quiet)
    print(f"wrote {len(paths)} files to {out} in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
