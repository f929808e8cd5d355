"""Every figure of the tutorial's chapters, regenerated from the shared package and the toy.

    python -m tutorial.figures                      # writes tutorial/figures/*.png
    python -m tutorial.figures --steps 300 --out /tmp/figures

Each run is one seed (0) of a named preset of :mod:`collapse.recipe`, trained by
:func:`toy.claims.run_experiment` (the same loop as ``python -m toy.run`` and ``python -m
toy.claims``); the pictures are drawn by :mod:`toy.plots` and :mod:`toy.figures`. The only
drawing code of its own here is for what no other module draws: :func:`overview` (bar charts
of numbers the runs recorded), :func:`pull_figure` (the total pull towards the center over
training, chapter 6) and :func:`strength_figure` (the de-centering strength exercise, a target
``Z_b - c o``, trained by :class:`DecenteringSimulation`). Besides the PNGs it writes
``numbers.json``: the final metrics of every run, and the eta, covariance, dummy-loss and
recovery summaries of :mod:`toy.claims`' judges, so that a number read off a figure can be looked
up. One thread, one process; about 100 s of CPU time (two minutes on a quiet laptop).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from collapse.gradients import decompose
from collapse.metrics import normalize
from collapse.recipe import preset
from common.cli import Parser, output_dir, positive_int, set_threads
from common.files import write_json
from toy.train import Simulation, ToyConfig

STEPS = 1000  # the same budget as docs/claims (python -m toy.claims), one seed instead of three
SEED = 0
MIN_STEPS = 20  # fewer leaves Fig. 5a without an early, middle and late record
DUMMY_ZOOM = 0.1  # Fig. 4 shows the first tenth of the steps: the dummies act within ~20 steps
STRENGTHS = (0.0, 0.1, 0.25, 0.5, 1.0)  # c of the target Z_b - c o (exercise E4, chapter 9)
PULL_RECIPES = ("simsiam-no-extra", "simsiam", "triplet", "infonce")  # chapter 6's pull figure
PULL_EVERY = 10  # steps between two measurements of the pull


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
    from matplotlib.patches import Patch

    from collapse.criterion import COLLAPSED_STD_SCALED

    colours = {"z": "tab:blue", "p": "tab:orange"}
    rows = []
    for label in labels:
        final, dim = results[label]["final"][0], results[label]["dim"]
        recipe = preset(label)
        name = label + (f" (τ = {recipe.tau:g})" if recipe.negatives == "infonce" else "")
        for rep, colour in colours.items():
            if f"{rep}_std_scaled" in final:
                rows.append((f"{name}  {rep.upper()}", final[f"{rep}_std_scaled"],
                             final[f"{rep}_effective_rank"], final[f"{rep}_state"], dim, colour))
    height = 0.36 * len(rows) + 1.9
    fig, ax = plt.subplots(figsize=(8.4, height))
    y = np.arange(len(rows))
    ax.barh(y, [r[1] for r in rows], color=[r[5] for r in rows], alpha=0.75)
    for i, (_, value, rank, state, dim, _) in enumerate(rows):
        ax.text(min(value, 1.0) + 0.02, i, f"{value:.2f}   rank {rank:.1f}/{dim}   {state}",
                va="center", fontsize=8,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8})
    threshold = ax.axvline(COLLAPSED_STD_SCALED, color="tab:red", ls="--", lw=1,
                           label=f"collapsed below {COLLAPSED_STD_SCALED:g}")
    isotropic = ax.axvline(1, color="k", ls=":", lw=1, label="isotropic: std·√d = 1")
    ax.set_yticks(y, [r[0] for r in rows], fontsize=8)
    ax.set(xlim=(0, 1.75), xlabel="std·√d at the end", ylabel="recipe, representation")
    ax.set_xticks([0, COLLAPSED_STD_SCALED, 0.5, 1.0])
    shown = {r[5] for r in rows}
    names = {"z": "Z (encoder output)", "p": "P (prediction)"}
    handles = [Patch(color=c, alpha=0.75, label=names[k]) for k, c in colours.items()
               if c in shown]
    fig.legend(handles=[*handles, threshold, isotropic], fontsize=8, loc="lower center",
               ncol=4, frameon=False)
    ax.invert_yaxis()
    dims = sorted({r[4] for r in rows})
    ax.set_title(f"{title}\n(toy, d = {', '.join(map(str, dims))}, seed {SEED}, {steps} steps)",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.35 / height, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pull_loss(z_a: Tensor, z_b: Tensor, c: float) -> Tensor:
    """``-Z_a . sg(Z_b - c o_b)`` per member, ``o_b`` the batch mean of ``Z_b``: the naive
    Siamese loss plus an extra gradient ``o_e = -c o_b`` that is all center (de-centering of
    strength ``c``) and has no residual part."""
    unit_b = normalize(z_b).detach()
    target = unit_b - c * unit_b.mean(-2, keepdim=True)
    return -(normalize(z_a) * target).sum(-1).mean(-1)


class DecenteringSimulation(Simulation):
    """The toy trained with :func:`pull_loss` (symmetrised) at a fixed strength ``c``.

    ``c = 0`` is the naive Siamese network (``no-predictor``); ``c = 1`` pulls each view towards
    the other's residual ``r_b`` alone, which is the triplet's center-only surgery
    (``triplet-center``: the mean of the rolled negatives is ``o_b`` exactly). The total pull
    towards the center is ``(1 - c) o_b``. Chapter 9, exercise E4.
    """

    def __init__(self, c: float, config: ToyConfig | None = None,
                 seeds: tuple[int, ...] = (SEED,)) -> None:
        if isinstance(c, bool) or not isinstance(c, (int, float)) or not math.isfinite(c):
            raise ValueError(f"c={c!r} must be a finite number")
        super().__init__(preset("no-predictor"), config, seeds)
        self.c = float(c)

    def step(self, n: int = 1) -> None:
        self.model.train()
        for _ in range(n):
            x_a, x_b = self._views(2)
            a, b = self.model.view(x_a), self.model.view(x_b)
            loss = 0.5 * (pull_loss(a.z, b.z, self.c) + pull_loss(b.z, a.z, self.c))
            self.optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            self.optimizer.step()
            self.steps += 1
        self._loss = loss.detach()


def decentering_run(c: float, steps: int = STEPS, dim: int = 16) -> dict[str, object]:
    """Final metrics (seed 0) of :class:`DecenteringSimulation` at strength ``c``."""
    sim = DecenteringSimulation(c, ToyConfig(dim=dim))
    knn_init = sim.knn()[0]
    sim.step(steps)
    return sim.final()[0] | {"knn_init": knn_init, "c": c, "steps": steps}


class PullSimulation(Simulation):
    """A :class:`toy.train.Simulation` whose records also hold the **total pull towards the
    center**: the batch-mean gradient of the anchors, ``o_B + o_e``, along their center
    ``o_A``, in units of the basic gradient's ``o_B`` (chapter 6):
    ``pull = (o_B + o_e).o_A / (o_B.o_A)``. It is ``1 + eta`` when the two views share one
    center (``o_B = o_A``); 1 without an extra gradient, 0 when the extra gradient cancels it.
    """

    def record(self) -> dict[str, Tensor]:
        row = super().record()
        if self._last is not None:
            parts = decompose(self.recipe, *self._last)
            o_anchor = parts.anchor.mean(-2)
            basic = (parts.basic.mean(-2) * o_anchor).sum(-1)
            total = basic + (parts.extra_center * o_anchor).sum(-1)
            row["pull"] = total / basic
            row["pull_length"] = total / torch.linalg.vector_norm(o_anchor, dim=-1)
            row["eta_basic"] = basic / (o_anchor * o_anchor).sum(-1)  # eta of o_B itself
        return row


def pull_run(recipe: str, steps: int, dim: int = 16) -> dict[str, list[float]]:
    """The pull of :class:`PullSimulation` every :data:`PULL_EVERY` steps (seed 0)."""
    sim = PullSimulation(preset(recipe), ToyConfig(dim=dim))
    keys = {"pull": "pull", "pull_length": "pull_length", "anchor_center":
            "grad_anchor_center_norm", "eta": "grad_eta", "eta_basic": "eta_basic"}
    out: dict[str, list[float]] = {"step": []} | {key: [] for key in keys}
    while sim.steps < steps:
        sim.step(min(PULL_EVERY, steps - sim.steps))
        row = sim.record()
        out["step"].append(sim.steps)
        for key, name in keys.items():
            out[key].append(float(row[name][0]))
    return out


def _figure(width: float, height: float, columns: int = 1):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(1, columns, figsize=(width, height), squeeze=False)


def _save(fig, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pull_figure(pulls: dict[str, dict[str, list[float]]], path: Path, steps: int) -> Path:
    """Left: the total pull towards the center in units of the basic one, per recipe. Right:
    its length along the anchors' center, for SimSiam with and without its extra gradient."""
    fig, axes = _figure(10.5, 3.9, 2)
    left, right = axes[0]
    colours = {"simsiam-no-extra": "tab:gray", "simsiam": "tab:blue", "triplet": "tab:red",
               "infonce": "tab:purple"}
    for recipe, series in pulls.items():
        left.plot(series["step"], series["pull"], lw=1.2, color=colours.get(recipe),
                  label=recipe + (f" (τ = {preset(recipe).tau:g})" if recipe == "infonce" else ""))
    left.axhline(1, color="k", ls=":", lw=0.8)
    left.axhline(0.5, color="k", ls="--", lw=0.8, label="paper's SimSiam: η ≈ −0.5")
    left.axhline(0, color="k", lw=0.5)
    left.set(xlabel="step", ylabel="(o_B + o_e)·o_A / (o_B·o_A)", ylim=(-0.4, 1.75),
             title="total pull towards the center, in units of the basic pull")
    left.legend(fontsize=8, loc="upper center", ncol=2)
    for recipe in ("simsiam-no-extra", "simsiam"):
        series = pulls[recipe]
        right.plot(series["step"], series["anchor_center"], lw=1, ls=":",
                   color=colours[recipe], label=f"{recipe}: |o_A| (the center)")
        right.plot(series["step"], series["pull_length"], lw=1.2, color=colours[recipe],
                   label=f"{recipe}: pull along o_A")
    right.set(xlabel="step", ylabel="length", ylim=(0, 1.05),
              title="its length: the pull shrinks with the center")
    right.legend(fontsize=8, loc="center right")
    fig.suptitle(f"The pull towards the center over training (toy, d = 16, seed {SEED}, "
                 f"{steps} steps)", fontsize=11)
    return _save(fig, path)


def strength_figure(runs: dict[float, dict[str, object]], path: Path, steps: int) -> Path:
    """Final std·√d, m_o and effective rank against the de-centering strength c."""
    from collapse.criterion import COLLAPSED_STD_SCALED, DIMENSIONAL_RANK_FRACTION

    cs = sorted(runs)
    fig, axes = _figure(9.5, 3.6, 2)
    left, right = axes[0]
    left.plot(cs, [runs[c]["z_std_scaled"] for c in cs], "o-", label="std·√d of Z")
    left.plot(cs, [runs[c]["z_center_norm"] for c in cs], "s--", color="tab:red",
              label="m_o = |o|")
    left.axhline(COLLAPSED_STD_SCALED, color="tab:red", ls=":", lw=0.8,
                 label=f"collapsed: std·√d < {COLLAPSED_STD_SCALED:g}")
    left.set(xlabel="c in the target Z_b − c·o (pull = 1 − c)", ylabel="value at the end",
             ylim=(0, 1.05), title="complete collapse against the strength c")
    left.legend(fontsize=8)
    dim = int(runs[cs[0]]["dim"])
    right.plot(cs, [runs[c]["z_effective_rank"] for c in cs], "o-", color="tab:green",
               label="effective rank of Z")
    right.axhline(DIMENSIONAL_RANK_FRACTION * dim, color="tab:red", ls=":", lw=0.8,
                  label=f"dimensional: rank < {DIMENSIONAL_RANK_FRACTION:g}·d")
    right.set(xlabel="c in the target Z_b − c·o", ylabel=f"effective rank (of d = {dim})",
              ylim=(0, dim), title="how many directions survive")
    right.legend(fontsize=8)
    fig.suptitle(f"De-centering alone, of strength c (toy, d = {dim}, seed {SEED}, "
                 f"{steps} steps)", fontsize=11)
    return _save(fig, path)


def shared_view(spread: Tensor, collapsed: Tensor) -> tuple[float, float]:
    """One camera for two spheres that are compared: along the direction in which ``spread``
    varies least (its circle faces us), turned towards the center of ``collapsed`` so that its
    spot is on the near side."""
    import numpy as np

    from toy.plots import view_along

    u = normalize(spread.detach().double()).numpy()
    o = normalize(collapsed.detach().double()).mean(0).numpy()
    v = np.linalg.svd(u, full_matrices=False)[2][-1]
    v = v if v @ o >= 0 else -v
    towards = o / max(float(np.linalg.norm(o)), 1e-12)
    return view_along(v + 0.6 * towards)


def first_steps(result: dict[str, object], last: float) -> dict[str, object]:
    """``result`` with its curves cut after step ``last`` (to zoom on the first steps)."""
    curves = result["curves"]
    keep = sum(1 for row in curves["step"] if row[0] <= last)
    return result | {"curves": {k: v[:keep] for k, v in curves.items()}}


def _rounded(final: dict[str, object]) -> dict[str, object]:
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in final.items()}


def _tenths(series: dict[str, list[float]]) -> dict[str, float]:
    """Mean pull over the first and the last tenth of the records, and its range."""
    pull = series["pull"]
    tenth = max(1, len(pull) // 10)
    return {"early": round(sum(pull[:tenth]) / tenth, 3),
            "late": round(sum(pull[-tenth:]) / tenth, 3),
            "min": round(min(pull), 3), "max": round(max(pull), 3),
            "final": {key: round(series[key][-1], 4) for key in
                      ("pull", "eta", "eta_basic", "anchor_center")}}


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
    results["analytic"] = {"tau_sweep": [claims.tau_sweep(results["infonce"]["z_test"][0][:256])],
                           "seeds": [SEED]}  # the legend of toy.figures: "seed 0"

    strengths = {c: decentering_run(c, steps) | {"dim": 16} for c in STRENGTHS}
    pulls = {recipe: pull_run(recipe, steps) for recipe in PULL_RECIPES}
    if progress:
        print(f"  strength and pull runs{'':17s} {time.perf_counter() - start:6.1f} s", flush=True)
    view = shared_view(results["simsiam-d3"]["z_test"][0],
                       results["no-stop-gradient-d3"]["z_test"][0])

    def representations(label: str, name: str, camera: tuple[float, float] | None = None
                        ) -> Path:
        r = results[label]
        path = out / name
        plot_representations(r["z_test"][0], r["labels"], path,
                             f"{label.removesuffix('-d3')}, d = {r['dim']}, seed {SEED}, "
                             f"{steps} steps", view=camera)
        return path

    def curves(label: str, name: str, gradient: bool = True) -> Path:
        r = results[label]
        path = out / name
        plot_curves(r["curves"], path, f"{label.removesuffix('-d3')}, d = {r['dim']}, "
                    f"seed {SEED}, {steps} steps", r["dim"], gradient=gradient)
        return path

    paths = [
        representations("no-stop-gradient-d3", "ch1_no_stop_gradient_d3.png", view),
        representations("simsiam-d3", "ch1_simsiam_d3.png", view),
        curves("no-stop-gradient-d3", "ch1_no_stop_gradient_curves.png", gradient=False),
        figures.fig4_dummies({k: first_steps(results[k], DUMMY_ZOOM * steps)
                              for k in ("center-dummy", "residual-dummy")},
                             out / "ch3_dummy_losses.png"),
        curves("simsiam-no-extra", "ch4_no_extra_curves.png"),
        curves("simsiam", "ch4_simsiam_curves.png"),
        figures.tau_sweep_figure(results, out / "ch5_infonce_tau_sweep.png"),
        figures.fig5a_decentering(results, out / "ch6_decentering.png"),
        figures.fig5b_decorrelation(results, out / "ch6_decorrelation.png"),
        figures.fig6_covariance(results, out / "ch6_covariance.png"),
        pull_figure(pulls, out / "ch6_center_pull.png", steps),
        strength_figure(strengths, out / "answers_decentering_strength.png", steps),
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
        "decentering_strength (Z_b - c o)": {
            f"c={c:g}": _rounded({k: v for k, v in run.items() if not k.startswith("grad_")})
            for c, run in strengths.items()},
        "center_pull": {recipe: _tenths(series) for recipe, series in pulls.items()},
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
