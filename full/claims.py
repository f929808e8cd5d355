"""The paper's claims judged on ResNet runs, beside the toy's verdicts: ``python -m full.claims``.

    python -m full.claims --dataset shapes --epochs 3 --seeds 0 1 --doc docs/full-claims-shapes.md
    python -m full.claims --claims 1 4 --seeds 0 1 ...        # only the runs those claims read

Claims 1-4, 9, 10, 11, 15 and 16 (paper-notes §7) are about training runs, so they can be asked
of the ResNet as well as of the toy. Each recipe the chosen claims read trains once per seed with
``python -m full.train`` into ``--out/<recipe>/seed<S>`` (``--jobs`` at a time, one torch thread
each; a finished run is reused, an interrupted one resumed), and every claim is judged per seed
by the *same* function as the toy's, :data:`collapse.judges.CLAIM_JUDGES`, on the run's last
``metrics.jsonl`` row. ``--out/claims.json`` holds the verdicts, ``--out/claims.md`` one table
with the toy's verdict (``--toy``, the committed ``docs/claims/claims.json``) beside the ResNet's,
and eta over epochs (the paper's Fig. 5a) with the toy's and the paper's values;
``--out/eta.png`` draws SimSiam's curves, eta included, one line per seed. ``--doc`` copies the
table and figure into the docs. Flags other than these go to ``full.train`` unchanged.

What differs from the toy, by construction: Z is the projector output (its last batch norm has no
affine, so the batch mean of z is zero in training mode); the metrics are those of the fixed
probe batch of :mod:`full.trainer` (eval mode); kNN is on the backbone features (k = 200,
T = 0.1, as the paper's monitor) and ``knn_init`` is the untrained network's (epoch 0, with
re-estimated batch-norm statistics). Exit status 0 whatever the verdicts; 1 if a run failed.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import shlex
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

from collapse import judges
from common import cli, files

CLAIMS = (1, 2, 3, 4, 9, 10, 11, 15, 16)  # the claims a training run can answer
# Labels the toy has but full.train cannot build (an override or a switched recipe): a ResNet
# claim reads only the runs it has, and claim 15 judges the forms it finds.
TOY_ONLY = (judges.BIAS_RAW, judges.EOA_WITH_PREDICTOR, judges.RECOVERY,
            judges.RECOVERY_CONTROL, judges.ANALYTIC)
PAPER_ETA = -0.5  # paper §3, Fig. 5a: o_e ~ -0.5 o_p, read from a figure (paper-notes §3)
# Presets that train exactly like another one, so one run serves both labels: with X = 0 the
# surgery loss -P_a.sg(P_b + X) is the symmetric predictor's -P_a.sg(P_b) (same modules, same
# gradient; tests/full/test_claims.py checks it).
ALIASES = {"simsiam-no-extra": "symmetric-predictor"}


class RunError(ValueError):
    """A run folder that cannot be judged; the message is one line meant for the user."""


def claim_judges(ids: Sequence[int]) -> list[judges.ClaimJudge]:
    """The toy's judges of claims ``ids``, in order."""
    by_id = {j.id: j for j in judges.CLAIM_JUDGES}
    return [by_id[i] for i in ids]


def recipes_of(ids: Sequence[int]) -> list[str]:
    """The presets the claims ``ids`` read on the ResNet, each once, in first-use order."""
    names: list[str] = []
    for judge in claim_judges(ids):
        for label in judge.labels:
            label = ALIASES.get(label, label)
            if label not in TOY_ONLY and label not in names:
                names.append(label)
    return names


def run_from_rows(rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> judges.Run:
    """A :class:`collapse.judges.Run` from one ``full.train`` run's rows and summary.

    ``final`` is the last row (the fixed probe batch at the last epoch) in the judges' keys, kNN
    from the summary and ``knn_init`` from the epoch-0 row; ``curves`` are per epoch, epoch 0
    (the untrained network) first.
    """
    if not rows or rows[0].get("epoch") != 0 or rows[0].get("knn_acc") is None:
        raise RunError("the first metrics row must be epoch 0 with its kNN (the untrained "
                       "network)")
    last = rows[-1]
    final: dict[str, Any] = {f"z_{k}": last[k] for k in (
        "state", "std_scaled", "center_norm", "effective_rank", "off_diagonal_correlation")
        if k in last}
    final |= {k: last[k] for k in ("p_state", "p_std_scaled", "p_center_norm",
                                   "p_effective_rank") if k in last}
    final |= {"knn": summary["knn_acc"], "knn_init": rows[0]["knn_acc"],
              "grad_eta": last.get("grad_eta", math.nan)}

    def curve(key: str) -> list[float]:
        return [float(r[key]) if r.get(key) is not None else math.nan for r in rows]

    # The judges read eta after training steps, as the toy's curves (NaN before the first
    # step); the untrained network's eta (epoch 0) is kept for the table as eta_per_epoch.
    curves = {"step": curve("epoch"), "grad_eta": [math.nan, *curve("grad_eta")[1:]],
              "eta_per_epoch": curve("grad_eta"),
              "z_center_norm": curve("center_norm"), "z_std_scaled": curve("std_scaled"),
              "anchor_center_norm": curve("grad_anchor_center_norm")}
    return judges.Run(final, curves)


def read_run(folder: pathlib.Path) -> tuple[judges.Run, list[dict[str, Any]], dict[str, Any]]:
    """(the judges' Run, the rows, the summary) of a finished ``full.train`` folder."""
    try:
        rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()
                if line.strip()]
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"{folder}: not a finished full.train run ({error})") from None
    try:
        return run_from_rows(rows, summary), rows, summary
    except (RunError, KeyError) as error:
        raise RunError(f"{folder}: {error}") from None


def judge_seed(runs: judges.Runs, ids: Sequence[int]) -> dict[int, judges.Verdict]:
    """Each claim's verdict on one seed's runs, by the toy's judge."""
    return {j.id: j.judge(runs) for j in claim_judges(ids)}


def toy_words(path: pathlib.Path) -> dict[int, dict[str, Any]]:
    """``{claim id: {"verdict": word, "seeds": {seed: word}, "eta": [(early, late), ...]}}`` from
    the toy's ``claims.json`` (verdict words, or the older true/false ``holds``)."""
    try:
        records = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RunError(f"--toy {path}: cannot read the toy's claims.json ({error})") from None
    out: dict[int, dict[str, Any]] = {}
    for r in records:
        word = r.get("verdict") or {True: "holds", False: "no", None: "measured"}[r.get("holds")]
        seeds = r.get("seed_verdicts") or {str(s["seed"]): s.get("verdict") or (
            "holds" if s.get("holds") else "no") for s in r.get("per_seed", [])}
        eta = [(s["measured"].get("eta_early"), s["measured"].get("eta_late"))
               for s in r.get("per_seed", []) if "eta_early" in s.get("measured", {})]
        out[int(r["id"])] = {"verdict": word, "seeds": seeds, "eta": eta}
    return out


# ---------------------------------------------------------------------------------------------
# Training the runs.


def train_all(names: Sequence[str], seeds: Sequence[int], out: pathlib.Path,
              passthrough: Sequence[str], jobs: int) -> dict[str, int]:
    """Train every (recipe, seed) not yet finished with one torch thread each: in this process
    one after another (``jobs`` 1), or ``jobs`` ``python -m full.train`` processes at a time.
    Return the failed ones' exit statuses by folder. (On a shared 2-core machine, two torch
    threads per process were ~17x slower per step than one under a load of 13.)"""
    todo = [(n, s) for s in seeds for n in names
            if not (out / n / f"seed{s}" / "summary.json").exists()]
    failed: dict[str, int] = {}
    elsewhere: list[pathlib.Path] = []  # runs another full.claims process holds (claims.lock)

    def claim(folder: pathlib.Path) -> bool:
        """Take the run: False if it is finished or another process holds its lock."""
        folder.mkdir(parents=True, exist_ok=True)
        if (folder / "summary.json").exists():
            return False
        try:
            fd = os.open(folder / "claims.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            elsewhere.append(folder)
            return False
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True

    def alive(lock: pathlib.Path) -> bool:
        try:
            os.kill(int(lock.read_text() or 0), 0)
        except (OSError, ValueError):
            return False
        return True

    def wait_elsewhere() -> None:
        for folder in elsewhere:  # until the other process's summary appears, or it is gone
            lock = folder / "claims.lock"
            while not (folder / "summary.json").exists() and alive(lock):
                time.sleep(2)

    def argv(name: str, seed: int, folder: pathlib.Path) -> list[str]:
        resume = ["--resume"] if (folder / "checkpoint.pt").exists() else []
        return [*passthrough, "--recipe", name, "--seed", str(seed), "--out", str(folder),
                "--no-progress", *resume]

    if jobs == 1:  # in this process: torch is imported once
        import torch

        from full.train import main as train

        torch.set_num_threads(1)
        for name, seed in todo:
            folder, start = out / name / f"seed{seed}", time.perf_counter()
            if not claim(folder):
                continue
            status = train(argv(name, seed, folder))
            (folder / "claims.lock").unlink(missing_ok=True)
            print(f"full.claims: {folder} {'done' if status == 0 else f'failed ({status})'} "
                  f"in {time.perf_counter() - start:.0f} s", flush=True)
            if status:
                failed[str(folder)] = status
        wait_elsewhere()
        return failed
    env = os.environ | {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    running: list[tuple[str, subprocess.Popen, float]] = []

    def reap(block: bool) -> None:
        for item in list(running):
            folder, proc, start = item
            if block or proc.poll() is not None:
                status = proc.wait()
                running.remove(item)
                (pathlib.Path(folder) / "claims.lock").unlink(missing_ok=True)
                print(f"full.claims: {folder} {'done' if status == 0 else f'failed ({status})'} "
                      f"in {time.perf_counter() - start:.0f} s", flush=True)
                if status:
                    failed[folder] = status
                return

    for name, seed in todo:
        while len(running) >= jobs:
            reap(block=False)
            time.sleep(0.2)
        folder = out / name / f"seed{seed}"
        if not claim(folder):
            continue
        cmd = [sys.executable, "-m", "full.train", *argv(name, seed, folder)]
        log = open(folder / "train.log", "w")  # noqa: SIM115 - closed with the process
        running.append((str(folder), subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                      env=env), time.perf_counter()))
    while running:
        reap(block=True)
    wait_elsewhere()
    return failed


# ---------------------------------------------------------------------------------------------
# Why eta reads what it reads on the ResNet.


def _eta_parts(model: Any, images: Any, view_seed: int, train_mode: bool) -> dict[str, float]:
    """eta, |o_z|, |o_p| and cos(o_z, o_p) of SimSiam on two views of ``images``; batch norm in
    training mode (batch statistics) or eval mode (running statistics), on a copy."""
    import copy

    import torch

    from collapse.gradients import decompose
    from collapse.metrics import normalize
    from full.augment import SIMSIAM_CIFAR, two_views

    model = copy.deepcopy(model).train(train_mode)
    views = two_views(images, SIMSIAM_CIFAR, torch.Generator().manual_seed(view_seed))
    with torch.no_grad():
        a, b = model.view(views[0]), model.view(views[1])
    eta = float(decompose(model.recipe, a, b).summary()["eta"])
    o_z, o_p = normalize(a.z).mean(0), normalize(a.p).mean(0)
    cos = float(o_z @ o_p / (o_z.norm() * o_p.norm()).clamp_min(1e-12))
    return {"eta": eta, "o_z": float(o_z.norm()), "o_p": float(o_p.norm()), "cos_oz_op": cos}


def eta_anatomy(folder: pathlib.Path, dataset: str | None = None,
                batches: int = 3) -> dict[str, Any]:
    """eta of the SimSiam run in ``folder`` (its checkpoint) read several ways (paper §3, Fig. 5a).

    For SimSiam G_e = Z_b - P_b, so o_e = o_z - o_p and eta = o_e.o_p/|o_p|^2 = o_z.o_p/|o_p|^2 - 1:
    eta is -1 plus at most |o_z|/|o_p|. Measured: on the fixed probe batch (as logged) and on
    ``batches`` other test batches, in eval and training mode; and on the untrained network with
    and without the projector's output batch norm (which centres z in training mode). The
    images are ``dataset``'s (default: the run's).
    """
    import torch
    from torch import nn

    from collapse.recipe import preset
    from collapse.siamese import Siamese
    from full.data import load
    from full.encoder import Encoder
    from full.trainer import PROBE_BATCH, PROBE_SEED

    cfg = json.loads((folder / "summary.json").read_text())["config"]
    data = load(dataset or cfg["dataset"], cfg["data_dir"], cfg["seed"], cfg["train_size"],
                cfg["test_size"], download=False)

    def build() -> Siamese:
        torch.manual_seed(cfg["seed"])
        return Siamese(Encoder(cfg["width"], cfg["proj_hidden"], cfg["dim"]), cfg["dim"],
                       preset(cfg["recipe"]), cfg["pred_hidden"])

    trained = build()
    state = torch.load(folder / "checkpoint.pt", map_location="cpu", weights_only=True)
    trained.load_state_dict(state["model"])
    test = data.test_images
    g = torch.Generator().manual_seed(PROBE_SEED)
    probe = test[torch.randperm(test.shape[0], generator=g)[:PROBE_BATCH]]
    others = [test[torch.randperm(test.shape[0], generator=torch.Generator().manual_seed(
        k + 1))[:PROBE_BATCH]] for k in range(batches)]
    out: dict[str, Any] = {
        "fixed batch, eval mode (as logged)": _eta_parts(trained, probe, PROBE_SEED, False),
        "fixed batch, training mode": _eta_parts(trained, probe, PROBE_SEED, True)}
    for mode in (False, True):
        parts = [_eta_parts(trained, x, k + 1, mode) for k, x in enumerate(others)]
        out[f"{batches} other batches, {'training' if mode else 'eval'} mode"] = {
            k: _span([p[k] for p in parts]) for k in parts[0]}
    untrained = build()
    out["untrained, training mode"] = _eta_parts(untrained, probe, PROBE_SEED, True)
    untrained.encoder.projector[-1] = nn.Identity()
    out["untrained, no output batch norm, training mode"] = _eta_parts(untrained, probe,
                                                                      PROBE_SEED, True)
    return out


# ---------------------------------------------------------------------------------------------
# The table.


def _span(values: Sequence[float], fmt: str = "{:.2f}") -> str:
    values = [v for v in values if v is not None and not math.isnan(v)]
    if not values:
        return "-"
    lo, hi = min(values), max(values)
    return fmt.format(lo) if fmt.format(lo) == fmt.format(hi) else \
        f"{fmt.format(lo)} to {fmt.format(hi)}"


def key_numbers(labels: Sequence[str], per_seed: Sequence[judges.Runs]) -> str:
    """state, std·√d, m_o, rank and kNN (untrained) of each run, min–max over seeds."""
    parts = []
    for label in labels:
        if label in TOY_ONLY or label not in per_seed[0]:
            continue
        finals = [runs[label].final for runs in per_seed]
        states = "/".join(str(f["z_state"])[:4] for f in finals)
        p = ""
        if "p_state" in finals[0]:
            p = f", P {'/'.join(str(f['p_state'])[:4] for f in finals)}"
        parts.append(
            f"{label}: Z {states}{p}, std·√d {_span([f['z_std_scaled'] for f in finals])}, "
            f"m_o {_span([f['z_center_norm'] for f in finals])}, rank "
            f"{_span([f['z_effective_rank'] for f in finals], '{:.1f}')}, kNN "
            f"{_span([100 * f['knn'] for f in finals], '{:.0f}')} % (untrained "
            f"{_span([100 * f['knn_init'] for f in finals], '{:.0f}')})")
    return "; ".join(parts)


def eta_rows(per_seed: Sequence[judges.Runs], seeds: Sequence[int]) -> list[str]:
    """Markdown rows: eta, |o_z| and |o_p| per epoch of SimSiam, one row per seed."""
    lines = []
    for seed, runs in zip(seeds, per_seed, strict=True):
        c = runs["simsiam"].curves
        cells = [f"{e:.2f} ({oz:.2f} / {op:.2f})" for e, oz, op in zip(
            c["eta_per_epoch"], c["z_center_norm"], c["anchor_center_norm"], strict=True)]
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    return lines


# The numbers of a verdict shown beside the runs' (its measured key -> the words in the table).
EXTRA = {
    11: (("eta_early", "eta early"), ("eta_late", "late"), ("eta_max", "max")),
    16: (("de-centering simsiam final eta", "SimSiam's final eta"),
         ("de-correlation simsiam vs simsiam-center rank_gain", "rank gain of r_e: SimSiam"),
         ("de-correlation triplet vs triplet-center rank_gain", "triplet")),
}


def markdown(ids: Sequence[int], seeds: Sequence[int], per_seed: Sequence[judges.Runs],
             verdicts: Sequence[Mapping[int, judges.Verdict]], toy: Mapping[int, dict[str, Any]],
             header: str) -> str:
    """The document: one table of claims (toy beside ResNet), then eta over epochs."""
    lines = [header, "", "| claim | paper | criterion (the toy's judge) and control | toy | "
             "ResNet (per seed) | agree | ResNet numbers, min–max over seeds |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    findings = []
    for judge in claim_judges(ids):
        words = [v[judge.id].word for v in verdicts]
        word = judges.overall([v[judge.id] for v in verdicts])
        t = toy.get(judge.id, {}).get("verdict", "-")
        agree = "yes" if word == t else "**no**"
        if word != t:
            findings.append(judge.id)
        numbers = key_numbers(judge.labels, per_seed)
        if judge.id in EXTRA:
            numbers += "; " + "; ".join(
                f"seed {s}: " + ", ".join(f"{name} {val}" for key, val in _flat(
                    v[judge.id].measured) for part, name in EXTRA[judge.id] if key == part)
                for s, v in zip(seeds, verdicts, strict=True))
        lines.append(f"| {judge.id} | {judge.claim} | {judge.criterion}. Control: "
                     f"{judge.control} | {t} | **{word}** ({', '.join(words)}) | {agree} | "
                     f"{numbers} |")
    lines += ["", f"Disagreements with the toy: {', '.join(map(str, findings)) or 'none'} "
              "(each is a finding; the numbers are in the row)."]
    toy_eta = toy.get(11, {}).get("eta", [])
    sim = [runs["simsiam"].curves for runs in per_seed]
    early = [c["grad_eta"][1] if len(c["grad_eta"]) > 1 else math.nan for c in sim]
    late = [c["grad_eta"][-1] for c in sim]
    lines += ["", "## eta over training (the paper's Fig. 5a)", "",
              "| source | early | late |", "| --- | --- | --- |",
              f"| paper (Fig. 5a, read from the figure; paper-notes §3) | about {PAPER_ETA} | "
              f"about {PAPER_ETA} |",
              f"| toy (docs/claims, claim 11, seeds {', '.join(toy.get(11, {}).get('seeds', {}))}"
              f") | {_span([e for e, _ in toy_eta])} | {_span([x for _, x in toy_eta])} |",
              f"| ResNet (this run, SimSiam, epoch 1 and epoch {int(sim[0]['step'][-1])}, seeds "
              f"{', '.join(map(str, seeds))}) | {_span(early)} | {_span(late)} |",
              "", "Per epoch, eta (|o_z| / |o_p|) on the fixed probe batch, epoch 0 the untrained "
              "network:", "",
              "| seed | " + " | ".join(f"epoch {int(e)}" for e in sim[0]["step"]) + " |",
              "| --- | " + " | ".join("---" for _ in sim[0]["step"]) + " |",
              *eta_rows(per_seed, seeds)]
    return "\n".join(lines) + "\n"


def anatomy_markdown(anatomy: Mapping[str, Mapping[str, Any]], seed: int) -> list[str]:
    """The section that says why eta reads what it reads, from :func:`eta_anatomy`."""
    def cell(value: Any) -> str:
        return f"{value:.2f}" if isinstance(value, float) else str(value)

    rows = [f"| {where} | " + " | ".join(cell(v[k]) for k in ("eta", "o_z", "o_p", "cos_oz_op"))
            + " |" for where, v in anatomy.items()]
    return ["", "## Why eta reads what it reads here", "",
            "For SimSiam the extra gradient is G_e = Z_b - P_b, so its center part is "
            "o_e = o_z - o_p and eta = o_e.o_p/|o_p|^2 = o_z.o_p/|o_p|^2 - 1 (o_z of view b, o_p "
            "of view a): eta is -1 exactly when o_z is orthogonal to o_p (or small against it), "
            "0 when P's center equals Z's, and -0.5 (the paper) when o_z.o_p is half of |o_p|^2. "
            "So eta = -1 needs no collapse and no de-centering force: an untrained predictor "
            "maps Z's center to an unrelated direction. The same quantity read several ways, on "
            f"SimSiam seed {seed} at its last epoch and on its untrained network:", "",
            "| read on | eta | abs o_z | abs o_p | cos(o_z, o_p) |",
            "| --- | --- | --- | --- | --- |",
            *rows, "",
            "The projector ends in a batch norm without affine (paper-notes §6), so in training "
            "mode the batch mean of z is exactly 0 and |o_z| comes only from the spread of |z|; "
            "the last row removes that batch norm from the untrained network.", "",
            verdict_on_eta(anatomy)]


def verdict_on_eta(anatomy: Mapping[str, Mapping[str, Any]], near: float = 0.25) -> str:
    """One sentence naming the cause of eta ~ -1 at init, from the numbers of
    :func:`eta_anatomy` (``near``: how close to -1 counts as -1)."""
    init = anatomy["untrained, training mode"]["eta"]
    no_bn = anatomy["untrained, no output batch norm, training mode"]["eta"]
    if abs(init + 1) > near:
        return f"Here the untrained network reads eta = {init:.2f}, not about -1."
    cause = ("the definition: an untrained predictor maps Z's center to an unrelated direction "
             f"(cos(o_z, o_p) = {anatomy['untrained, training mode']['cos_oz_op']:.2f})"
             if abs(no_bn + 1) <= near else
             f"the projector's output batch norm: without it eta = {no_bn:.2f}")
    return (f"Cause of eta = {init:.2f} at init: {cause}. The fixed batch is not the cause: "
            f"other batches read {anatomy[next(k for k in anatomy if 'other' in k)]['eta']} in "
            f"eval mode at the last epoch, against "
            f"{anatomy['fixed batch, eval mode (as logged)']['eta']:.2f} on the fixed batch.")


def _flat(measured: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in measured.items():
        if isinstance(value, Mapping):
            out += _flat(value, f"{prefix}{key} ")
        elif key != "word":
            out.append((f"{prefix}{key}", value))
    return out


def build_parser() -> cli.Parser:
    p = cli.Parser(prog="full.claims", description="Judge the paper's claims on ResNet runs "
                   "with the toy's judges (collapse.judges); other flags go to full.train.")
    p.add_argument("--claims", nargs="+", type=int, default=list(CLAIMS), metavar="N",
                   choices=CLAIMS, help=f"claims to judge (default: all of {CLAIMS})")
    p.add_argument("--seeds", nargs="+", type=cli.seed, default=[0, 1], metavar="S",
                   help="seeds, each a separate run per recipe (default: 0 1)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="runs and results (default: runs/full/claims-<dataset>)")
    p.add_argument("--toy", default="docs/claims/claims.json", metavar="FILE",
                   help="the toy's claims.json to compare with (default: %(default)s)")
    p.add_argument("--doc", default=None, metavar="FILE.md",
                   help="also write the table there, and the eta figure beside it (.png)")
    p.add_argument("--note", default="", metavar="TEXT",
                   help="a paragraph for the document, under the command (e.g. why these sizes)")
    p.add_argument("--jobs", type=cli.positive_int, default=2, metavar="N",
                   help="full.train processes at a time, one torch thread each (default: 2)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if any(flag in rest for flag in ("--recipe", "--out", "--resume", "--seed")):
        parser.error("--recipe, --seed, --out and --resume are set per run by full.claims")
    if len(set(args.seeds)) < 2:
        parser.error(f"--seeds {' '.join(map(str, args.seeds))}: the claims are judged over "
                     "at least 2 different seeds")
    if args.doc is not None and not args.doc.endswith(".md"):
        parser.error(f"--doc {args.doc}: the file name must end in .md")
    dataset = rest[rest.index("--dataset") + 1] if "--dataset" in rest[:-1] else "cifar10"
    try:
        out = cli.output_dir(args.out or f"runs/full/claims-{dataset}")
        if args.doc is not None:
            cli.output_dir(str(pathlib.Path(args.doc).parent))
        toy = toy_words(pathlib.Path(args.toy))
    except (cli.argparse.ArgumentTypeError, RunError) as error:
        parser.error(str(error))
    ids = sorted(set(args.claims))
    names = recipes_of(ids)
    start = time.perf_counter()
    failed = train_all(names, args.seeds, out, rest, args.jobs)
    if failed:
        for folder, status in failed.items():
            print(f"full.claims: {folder} stopped (status {status}); see {folder}/train.log",
                  file=sys.stderr)
        if any(status == 2 for status in failed.values()):
            return 2
        return 1
    minutes = (time.perf_counter() - start) / 60
    per_seed, all_rows = [], {}
    try:
        for seed in args.seeds:
            runs = {}
            for name in names:
                runs[name], rows, _ = read_run(out / name / f"seed{seed}")
                all_rows[f"{name} seed {seed}"] = rows
            runs |= {alias: runs[name] for alias, name in ALIASES.items() if name in runs}
            per_seed.append(runs)
    except RunError as error:
        print(f"full.claims: error: {error}", file=sys.stderr)
        return 1
    verdicts = [judge_seed(runs, ids) for runs in per_seed]
    records = [judges.claim_record(j, args.seeds, [v[j.id] for v in verdicts]) | {
        "toy_verdict": toy.get(j.id, {}).get("verdict")} for j in claim_judges(ids)]
    files.write_json(out / "claims.json", records)
    command = "python -m full.claims " + shlex.join(argv if argv is not None else sys.argv[1:])
    load = os.getloadavg()[0]
    first = json.loads((out / names[0] / f"seed{args.seeds[0]}" / "summary.json").read_text())
    c = first["config"]
    steps = c["train_size"] // c["batch"]
    header = "\n".join([
        f"# The paper's claims on the ResNet (`{dataset}`), beside the toy's", "",
        f"Written by `{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
        f"{minutes:.1f} min of training in this call, finished runs are reused; load average "
        f"{load:.1f} at the end).", "",
        f"Each run: ResNet-18 of width {c['width']}, projector {c['proj_hidden']} -> "
        f"{c['dim']}, predictor {c['dim']}-{c['pred_hidden']}-{c['dim']}, {c['train_size']} "
        f"training images, {first['epochs']} epochs of {steps} steps (batch {c['batch']}, base "
        f"lr {c['lr']}), kNN k = {c['knn_k']}, T = {c['knn_t']} on {c['test_size']} test "
        f"images; one run per recipe and seed ({len(names)} recipes x {len(args.seeds)} seeds). "
        "The verdicts come from the toy's judges (collapse.judges) on the last epoch's fixed "
        "probe batch; kNN is the backbone's. These are our measurements, not the paper's."]
        + (["", args.note] if args.note else []))
    text = markdown(ids, args.seeds, per_seed, verdicts, toy, header)
    if "simsiam" in names:
        anatomy = eta_anatomy(out / "simsiam" / f"seed{args.seeds[0]}", dataset)
        files.write_json(out / "eta_anatomy.json", anatomy)
        text += "\n".join(anatomy_markdown(anatomy, args.seeds[0])) + "\n"
    files.write_text(out / "claims.md", text)
    if "simsiam" in names:
        from full.report import plot_runs

        plot_runs({f"simsiam seed {s}": all_rows[f"simsiam seed {s}"] for s in args.seeds},
                  out / "eta.png", "SimSiam on the ResNet: curves per seed (eta: Fig. 5a)")
    if args.doc is not None:
        doc = pathlib.Path(args.doc)
        files.write_text(doc, text)
        if "simsiam" in names:
            with files.atomic_file(doc.with_suffix(".png"), "wb") as f:
                f.write((out / "eta.png").read_bytes())
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
