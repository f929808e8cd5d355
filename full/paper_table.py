"""The paper's variants on images, one after another: ``python -m full.paper_table``.

    python -m full.paper_table --dataset cifar100 --epochs 200 [--recipes simsiam,...]

Each recipe trains with :mod:`full.train` into ``--out/<recipe>``; a finished one (its
``summary.json`` exists) is skipped, an interrupted one (a checkpoint, no summary) is resumed.
Then ``--out/table.md`` lists kNN (and the untrained network's), linear accuracy and the
collapse metrics per recipe next to the paper's collapse / no-collapse statement
(:data:`collapse.recipe.PRESETS`; Zhang et al., ICLR 2022, Tables 1-4). A recipe that stops
(e.g. a NaN loss) is marked in the table and the others still run; the exit status is then 1.
A bad flag (status 2) or Ctrl-C stops the whole table. Flags other than these are passed to
``full.train`` unchanged.
"""

from __future__ import annotations

import json
import pathlib
import signal
import sys

from collapse.recipe import PRESETS
from common import cli, files

DEFAULT = ("simsiam", "no-stop-gradient", "no-predictor", "symmetric-predictor",
           "inverse-predictor", "simsiam-no-extra", "simsiam-center", "simsiam-residual",
           "triplet", "triplet-center", "triplet-residual", "infonce")


def recipes(text: str) -> list[str]:
    names = [cli.recipe_name(name) for name in text.split(",") if name]
    if not names:
        raise cli.argparse.ArgumentTypeError("expected a comma-separated list of recipes")
    return names


def _percent(value: object) -> str:
    return f"{100 * value:.1f}" if isinstance(value, (int, float)) else "-"


def table(out: pathlib.Path, names: list[str], failed: dict[str, int] | None = None) -> str:
    """The markdown table of the runs in ``out``; ``failed`` maps a recipe to its exit status."""
    failed = failed or {}
    lines = ["| recipe | paper | kNN % (untrained) | linear % | std·√d | m_o | eff. rank | "
             "state |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name in names:
        paper = f"{PRESETS[name].source}: {PRESETS[name].summary}"
        path = out / name / "summary.json"
        if not path.exists():
            why = f"stopped (status {failed[name]})" if name in failed else "not run"
            lines.append(f"| {name} | {paper} | {why} | | | | | |")
            continue
        s = json.loads(path.read_text())
        f = s["final"]
        untrained = (s.get("untrained") or {}).get("knn_acc")
        lines.append(f"| {name} | {paper} | {_percent(s['knn_acc'])} ({_percent(untrained)}) | "
                     f"{_percent(s['linear_acc'])} | {f['std_scaled']:.3f} | "
                     f"{f['center_norm']:.3f} | {f['effective_rank']:.1f} | {f['state']} |")
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

    failed: dict[str, int] = {}
    for name in args.recipes:
        run = args.out / name
        if (run / "summary.json").exists():
            print(f"full.paper_table: {name} done, skipped", flush=True)
            continue
        resume = ["--resume"] if (run / "checkpoint.pt").exists() else []
        status = train([*rest, "--recipe", name, "--out", str(run), *resume])
        if status == 2:  # a bad flag is the same for every recipe: stop at once
            return status
        if status in (128 + signal.SIGINT, 128 + signal.SIGTERM):  # the user stopped us
            print(f"full.paper_table: stopped during {name}; run the same command again to "
                  "resume it", file=sys.stderr)
            return status
        if status != 0:  # e.g. a NaN loss: the other recipes still run
            print(f"full.paper_table: {name} stopped (status {status}); going on",
                  file=sys.stderr, flush=True)
            failed[name] = status
    text = table(args.out, args.recipes, failed)
    files.write_text(args.out / "table.md", text)
    print(text, end="")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
