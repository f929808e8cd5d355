"""Tests for full.claims: the toy's judges on ResNet-shaped metrics rows, and one tiny run."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from collapse import judges
from full import claims
from tests.full.conftest import TINY


def rows(states, knn, eta=-0.9, p_state="healthy"):
    """Synthetic metrics.jsonl rows of one ResNet run: epoch 0 (untrained, kNN 0.2), then one
    row per state, the kNN only where full.train evaluates it."""
    out = [{"epoch": 0, "step": 0, "state": "healthy", "std_scaled": 0.99, "center_norm": 0.12,
            "effective_rank": 50.0, "off_diagonal_correlation": 0.2, "knn_acc": 0.2,
            "grad_eta": -1.0, "grad_anchor_center_norm": 0.7}]
    for epoch, state in enumerate(states, start=1):
        std = {"collapsed": 0.04, "dimensional": 0.9, "healthy": 0.95}[state]
        out.append({"epoch": epoch, "step": 128 * epoch, "loss": -0.9, "state": state,
                    "std_scaled": std, "center_norm": math.sqrt(max(0.0, 1 - std * std)),
                    "effective_rank": {"collapsed": 1.5, "dimensional": 8.0,
                                       "healthy": 30.0}[state],
                    "off_diagonal_correlation": 0.1, "p_state": p_state, "p_std_scaled": std,
                    "p_center_norm": 0.3, "p_effective_rank": 20.0, "knn_acc": knn,
                    "grad_eta": eta, "grad_anchor_center_norm": 0.5})
    return out


def run(states, knn, **kwargs):
    return claims.run_from_rows(rows(states, knn, **kwargs), {"knn_acc": knn})


def test_a_resnet_run_reads_as_the_judges_run():
    r = run(["healthy", "dimensional"], 0.6, eta=-0.7)
    assert r.final["z_state"] == "dimensional"
    assert r.final["p_state"] == "healthy"
    assert (r.final["knn"], r.final["knn_init"]) == (0.6, 0.2)
    assert r.final["grad_eta"] == -0.7
    assert r.curves["step"] == [0.0, 1.0, 2.0]
    assert math.isnan(r.curves["grad_eta"][0])  # before any step, as the toy's curves
    assert r.curves["grad_eta"][1:] == [-0.7, -0.7]
    assert r.curves["eta_per_epoch"] == [-1.0, -0.7, -0.7]
    with pytest.raises(claims.RunError, match="epoch 0"):
        claims.run_from_rows(rows(["healthy"], 0.6)[1:], {"knn_acc": 0.6})


def test_the_toys_judges_say_yes_and_no_on_resnet_rows():
    simsiam = run(["healthy", "healthy"], 0.6)
    collapsed = run(["collapsed", "collapsed"], 0.25, p_state="collapsed")
    # claim 1: no-stop-gradient collapses, against SimSiam as the control
    v = claims.judge_seed({"no-stop-gradient": collapsed, "simsiam": simsiam}, [1])[1]
    assert (v.word, v.holds) == ("holds", True)
    assert v.controls["simsiam"]["word"] == "no"
    # the same judge on swapped runs: the "collapsing" run stays spread, the claim fails
    v = claims.judge_seed({"no-stop-gradient": simsiam, "simsiam": collapsed}, [1])[1]
    assert v.word == "no"
    # claim 4 on a dimensionally collapsed SimSiam: partly; on a spread one that learns
    # nothing (kNN at the untrained level): no
    dimensional = run(["healthy", "dimensional"], 0.6)
    base = {"no-stop-gradient": collapsed, "symmetric-predictor": collapsed}
    assert claims.judge_seed(base | {"simsiam": dimensional}, [4])[4].word == "partly"
    assert claims.judge_seed(base | {"simsiam": simsiam}, [4])[4].word == "holds"
    assert claims.judge_seed(base | {"simsiam": run(["healthy"], 0.21)}, [4])[4].word == "no"
    # claim 11: eta < 0 at every epoch, against the center dummy (eta = +1)
    v = claims.judge_seed({"simsiam": simsiam, "center-dummy": run(["collapsed"], 0.2, eta=1.0)},
                          [11])[11]
    assert v.word == "holds"
    v = claims.judge_seed({"simsiam": run(["healthy"], 0.6, eta=0.1),
                           "center-dummy": run(["collapsed"], 0.2, eta=1.0)}, [11])[11]
    assert v.word == "no"


def test_the_runs_each_claim_needs_exist_on_the_resnet():
    assert claims.recipes_of([1]) == ["no-stop-gradient", "simsiam"]
    names = claims.recipes_of(claims.CLAIMS)
    assert not set(names) & set(claims.TOY_ONLY)
    from collapse.recipe import PRESETS
    assert set(names) <= set(PRESETS)
    assert {"triplet-residual", "symmetric-predictor", "center-dummy", "bias-predictor"} <= \
        set(names)


def test_an_aliased_preset_trains_exactly_like_its_run():
    # simsiam-no-extra is judged on the symmetric-predictor run: same loss, same gradient.
    import torch

    from collapse.recipe import preset
    from collapse.siamese import Siamese

    x = torch.randn(2, 16, 8, generator=torch.Generator().manual_seed(0))
    grads = []
    for alias, name in claims.ALIASES.items():
        for label in (alias, name):
            torch.manual_seed(0)
            model = Siamese(torch.nn.Linear(8, 8), 8, preset(label), 4)
            loss, _, _ = model(x[0], x[1])
            loss.backward()
            grads.append([p.grad.clone() for p in model.parameters() if p.grad is not None])
    assert grads[0]
    assert len(grads[0]) == len(grads[1])
    assert all(torch.equal(a, b) for a, b in zip(grads[0], grads[1], strict=True))
    assert "simsiam-no-extra" not in claims.recipes_of([10])


def test_toy_verdicts_are_read_from_either_format(tmp_path):
    path = tmp_path / "claims.json"
    path.write_text(json.dumps([
        {"id": 1, "holds": True, "per_seed": [{"seed": 0, "holds": True, "measured": {}}]},
        {"id": 11, "verdict": "partly", "holds": False, "seed_verdicts": {"0": "partly"},
         "per_seed": [{"seed": 0, "measured": {"eta_early": -0.45, "eta_late": -0.1}}]}]))
    toy = claims.toy_words(path)
    assert toy[1]["verdict"] == "holds"
    assert toy[11] == {"verdict": "partly", "seeds": {"0": "partly"}, "eta": [(-0.45, -0.1)]}


def test_python_m_full_claims_judges_two_seeds_end_to_end(tmp_path):
    toy = tmp_path / "toy.json"
    toy.write_text(json.dumps([{"id": 1, "verdict": "holds", "holds": True,
                                "seed_verdicts": {"0": "holds"}, "per_seed": []}]))
    out, doc = tmp_path / "out", tmp_path / "docs" / "claims.md"
    cmd = [sys.executable, "-m", "full.claims", "--claims", "1", "--seeds", "0", "1",
           "--out", str(out), "--toy", str(toy), "--doc", str(doc), "--jobs", "1",
           "--dataset", "shapes",
           "--epochs", "1", "--train-size", "16", "--test-size", "16", "--device", "cpu", *TINY]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    records = json.loads((out / "claims.json").read_text())
    assert [r["id"] for r in records] == [1]
    assert set(records[0]["seed_verdicts"]) == {"0", "1"}
    assert records[0]["verdict"] in judges.WORDS
    assert records[0]["toy_verdict"] == "holds"
    for seed in (0, 1):  # each seed is its own run of each recipe, with its own seed
        summary = json.loads((out / "simsiam" / f"seed{seed}" / "summary.json").read_text())
        assert summary["config"]["seed"] == seed
    text = doc.read_text()
    assert text == (out / "claims.md").read_text()
    assert "python -m full.claims --claims 1 --seeds 0 1" in text
    assert "| 1 | No stop-gradient collapses" in text
    assert doc.with_suffix(".png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(("argv", "words"), [
    (["--seeds", "0"], "at least 2 different seeds"),
    (["--seeds", "0", "0"], "at least 2 different seeds"),
    (["--recipe", "simsiam"], "set per run by full.claims"),
    (["--doc", "x.txt"], "must end in .md"),
    (["--toy", "missing.json"], "cannot read the toy's claims.json"),
])
def test_bad_flags_are_one_line(argv, words, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        claims.main(["--out", str(tmp_path / "out"), *argv])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert "\n" not in err.split("full.claims: error: ")[-1]
    assert words in err


def test_the_cause_of_eta_at_init_is_read_from_the_numbers():
    def anatomy(init, no_bn):
        part = {"eta": -0.1, "o_z": 0.3, "o_p": 0.3, "cos_oz_op": 0.9}
        return {"fixed batch, eval mode (as logged)": part,
                "3 other batches, eval mode": {"eta": "-0.12–-0.08"},
                "untrained, training mode": part | {"eta": init, "cos_oz_op": -0.1},
                "untrained, no output batch norm, training mode": part | {"eta": no_bn}}

    assert "the definition" in claims.verdict_on_eta(anatomy(-1.03, -1.1))
    assert "batch norm: without it eta = -0.40" in claims.verdict_on_eta(anatomy(-1.03, -0.4))
    assert "not about -1" in claims.verdict_on_eta(anatomy(-0.5, -0.5))
