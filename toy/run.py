"""Train one recipe of the toy for one seed and look at the result.

    python -m toy.run --recipe simsiam                 # d = 3: the representations on a sphere
    python -m toy.run --recipe no-stop-gradient        # collapses: every point at the tip of o
    python -m toy.run --recipe infonce --tau 0.5 --dim 16

The recipes are the named rows of :data:`collapse.recipe.PRESETS` (Zhang et al., ICLR 2022).
Writes ``metrics.json`` (recipe, config, final metrics, kNN before training), ``curves.json``
(:meth:`toy.train.Simulation.curves`), ``representations.png`` and ``curves.png`` to ``--out``.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict

from collapse.recipe import PRESETS, preset
from common import cli, files
from toy.config import DATASETS

# torch, matplotlib and the training code are imported inside main(), after the flags are
# parsed: a bad flag is then refused at once instead of after a two-second torch import.
DATASET_NAMES = ", ".join(DATASETS)  # toy.config imports no torch; ToyConfig checks the name


def build_parser() -> cli.Parser:
    parser = cli.Parser(
        prog="toy.run", description="Train one recipe of the toy for one seed; save its final "
        "metrics, curves and pictures.")
    add = parser.add_argument
    add("--recipe", metavar="NAME", type=cli.recipe_name, default="simsiam",
        help=f"a preset of collapse.recipe (default: %(default)s): {', '.join(PRESETS)}")
    add("--dim", metavar="D", type=cli.dimension, default=3,
        help="representation dimension d; 2 draws a circle, 3 a sphere (default: %(default)s)")
    add("--steps", metavar="N", type=cli.positive_int, default=1000,
        help="training steps (default: %(default)s)")
    add("--seed", metavar="S", type=cli.seed, default=0,
        help="seed of the data, the weights and the views (default: %(default)s)")
    add("--out", metavar="DIR", default=None,
        help="output folder (default: runs/toy/<recipe>-d<dim>-s<seed>)")
    add("--dataset", metavar="NAME", default="nuisance-clusters",
        help=f"synthetic dataset: {DATASET_NAMES} (default: %(default)s)")
    add("--batch", metavar="B", type=cli.positive_int, default=256,
        help="batch size (default: %(default)s)")
    add("--lr", metavar="LR", type=cli.positive_float, default=0.05,
        help="SGD learning rate (default: %(default)s)")
    add("--tau", metavar="T", type=cli.positive_float, default=None,
        help="InfoNCE temperature, for recipes with negatives='infonce' (default: the recipe's)")
    add("--record-every", metavar="K", type=cli.positive_int, default=10,
        help="steps between two records of the metrics (default: %(default)s)")
    return parser


def _describe(final: dict[str, object], prefix: str, dim: int) -> str:
    return (f"{prefix}: std*sqrt(d) {final[f'{prefix}_std_scaled']:.3f}  "
            f"|o| {final[f'{prefix}_center_norm']:.3f}  "
            f"m_r {final[f'{prefix}_residual_norm']:.3f}  "
            f"eff. rank {final[f'{prefix}_effective_rank']:.2f}/{dim}  "
            f"-> {final[f'{prefix}_state']}")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cli.set_threads()  # before any torch work
    from tqdm import tqdm

    from toy.plots import plot_curves, plot_representations
    from toy.train import Simulation, ToyConfig

    try:
        recipe = preset(args.recipe)
        if args.tau is not None:
            recipe = recipe.replace(tau=args.tau)
        config = ToyConfig(dataset=args.dataset, dim=args.dim, batch=args.batch, lr=args.lr)
    except ValueError as error:
        parser.error(str(error))
    try:
        out = cli.output_dir(args.out or f"runs/toy/{args.recipe}-d{args.dim}-s{args.seed}")
    except argparse.ArgumentTypeError as error:
        parser.error(str(error))
    if args.tau is not None and recipe.negatives != "infonce":
        print(f"note: --tau changes nothing for {args.recipe!r} (it has no InfoNCE negatives)")

    sim = Simulation(recipe, config, (args.seed,))
    knn_init = sim.knn()[0]
    sim.record()
    with tqdm(total=args.steps, desc=args.recipe, unit="step") as bar:
        while sim.steps < args.steps:
            n = min(args.record_every, args.steps - sim.steps)
            sim.step(n)
            row = sim.record()
            bar.update(n)
            bar.set_postfix_str(f"std*sqrt(d) {row['z_std_scaled'].item():.3f}", refresh=False)
    final = sim.final()[0]

    name = args.recipe + (f" (tau {args.tau:g})" if args.tau is not None else "")
    print(f"{name}  d={args.dim}  seed {args.seed}  {args.steps} steps  ({args.dataset})")
    for prefix in ("z", "p"):
        if f"{prefix}_state" in final:
            print("  " + _describe(final, prefix, args.dim))
    print(f"  kNN {final['knn']:.3f}  (random init {knn_init:.3f})")

    title = f"{name}, d = {args.dim}, seed {args.seed}, {args.steps} steps"
    paths = {name: out / name for name in
             ("metrics.json", "curves.json", "representations.png", "curves.png")}
    files.write_json(paths["metrics.json"], {
        "preset": args.recipe, "recipe": recipe.to_dict(), "config": asdict(config),
        "seed": args.seed, "steps": args.steps, "record_every": args.record_every,
        "final": final, "knn_init": knn_init})
    curves = sim.curves()
    files.write_json(paths["curves.json"], curves, indent=None)
    z, _ = sim.representations()
    plot_representations(z[0], sim.test_y[0], paths["representations.png"], title)
    plot_curves(curves, paths["curves.png"], title, args.dim)
    for path in paths.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
