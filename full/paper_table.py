"""The paper's variants on images, one after another: ``python -m full.paper_table``.

    python -m full.paper_table --dataset cifar100 --epochs 200 [--recipes simsiam,...]

Each recipe trains with :mod:`full.train` into ``--out/<recipe>``; a finished one (its
``summary.json`` exists) is skipped, an interrupted one (a checkpoint, no summary) is resumed.
Then ``--out/table.md`` lists kNN, linear accuracy and the collapse metrics per recipe next to
the paper's collapse / no-collapse statement (:data:`collapse.recipe.PRESETS`; Zhang et al.,
ICLR 2022, Tables 1-4). Flags other than these are passed to ``full.train`` unchanged.
"""

from __future__ import annotations

import json
import pathlib
import sys

from collapse.recipe import PRESETS
from toy import cli

DEFAULT = ("simsiam", "no-stop-gradient", "no-predictor", "symmetric-predictor",
           "inverse-predictor", "simsiam-no-extra", "simsiam-center", "simsiam-residual",
           "triplet", "triplet-center", "triplet-residual", "infonce")


def recipes(text: str) -> list[str]:
    names = [cli.recipe_name(name) for name in text.split(",") if name]
    if not names:
        raise cli.argparse.ArgumentTypeError("expected a comma-separated list of recipes")
    return names


def table(out: pathlib.Path, names: list[str]) -> str:
    lines = ["| recipe | paper | kNN % | linear % | std·√d | m_o | eff. rank | state |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        path = out / name / "summary.json"
        if not path.exists():
            lines.append(f"| {name} | {PRESETS[name].summary} | not run | | | | | |")
            continue
        s = json.loads(path.read_text())
        f = s["final"]
        lines.append(f"| {name} | {PRESETS[name].source}: {PRESETS[name].summary} | "
                     f"{100 * s['knn_acc']:.1f} | {100 * s['linear_acc']:.1f} | "
                     f"{f['std_scaled']:.3f} | {f['center_norm']:.3f} | "
                     f"{f['effective_rank']:.1f} | {f['state']} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = cli.Parser(prog="full.paper_table", description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", type=recipes, default=list(DEFAULT),
                        help=f"comma-separated presets (default: {','.join(DEFAULT)})")
    parser.add_argument("--out", type=cli.output_dir, default="runs/full/paper_table",
                        help="folder of the runs and table.md (default: %(default)s)")
    args, rest = parser.parse_known_args(argv)
    if any(flag in rest for flag in ("--recipe", "--out", "--resume")):
        parser.error("--recipe, --out and --resume are set per recipe by full.paper_table")
    from full.train import main as train

    for name in args.recipes:
        run = args.out / name
        if (run / "summary.json").exists():
            print(f"full.paper_table: {name} done, skipped", flush=True)
            continue
        resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
        status = train([*rest, "--recipe", name, "--out", str(run), *resume])
        if status != 0:
            print(f"full.paper_table: {name} stopped (status {status})", file=sys.stderr)
            return status
    text = table(args.out, args.recipes)
    cli.write_text(args.out / "table.md", text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
