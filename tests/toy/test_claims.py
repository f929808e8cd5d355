"""toy.claims: every claim's verdict on a small budget and two seeds, and the CLI's refusals."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from toy import claims

ROOT = Path(__file__).resolve().parents[2]
STEPS = 500  # the smallest budget tried at which every verdict matches 1000 steps (300 does not:
# the bias-only predictor needs longer to leave its early dip, see BENCHMARKS.md / the issue note)
SEEDS = ("0", "1")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    out = tmp_path_factory.mktemp("claims")
    assert claims.main(["--steps", str(STEPS), "--seeds", *SEEDS, "--out", str(out)]) == 0
    return out, json.loads((out / "claims.json").read_text())


def test_writes_every_claim_with_the_documented_keys(run):
    out, result = run
    assert [c["id"] for c in result] == list(range(1, 17))
    for c in result:
        assert {"id", "claim", "recipes", "expected", "holds", "per_seed"} <= set(c)
        assert [p["seed"] for p in c["per_seed"]] == [int(s) for s in SEEDS]
        assert all(p["measured"] for p in c["per_seed"])
    table = (out / "claims.md").read_text()
    assert all(f"| {i} |" in table for i in range(1, 17))
    for name in ("fig4_dummy_losses", "fig5a_decentering", "fig5b_decorrelation",
                 "fig6_covariance", "infonce_tau_sweep"):
        assert (out / f"{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("claim_id", [i for i in range(1, 17) if i != 13])
def test_claim_holds_on_the_toy(run, claim_id):
    claim = run[1][claim_id - 1]
    failing = [p for p in claim["per_seed"] if not p["holds"]]
    assert claim["holds"] is True, f"claim {claim_id} fails: {failing}"


def test_claim_13_is_measured_not_judged(run):
    claim = run[1][12]
    assert claim["holds"] is None
    measured = claim["per_seed"][0]["measured"]
    assert measured["covariance_peak"] >= measured["covariance_end"] > 0


def test_claim_judges_see_a_collapse_when_there_is_one(run):
    """The judges read the runs: the collapsing and the healthy recipes differ in the numbers."""
    by_id = {c["id"]: c for c in run[1]}
    nosg = by_id[1]["per_seed"][0]["measured"]["no-stop-gradient"]
    simsiam = by_id[4]["per_seed"][0]["measured"]["simsiam"]
    assert nosg["z_std_scaled"] < 0.3 < simsiam["z_std_scaled"]
    assert simsiam["knn"] > nosg["knn"]


@pytest.mark.parametrize(("args", "named"), [
    (["--steps", "0"], "'0'"),
    (["--steps", "abc"], "'abc'"),
    (["--steps", "150"], "150"),
    (["--seeds", "x"], "'x'"),
    (["--seeds", "1.5"], "'1.5'"),
    (["--seeds", "-1"], "'-1'"),
    (["--seeds", "1", "1"], "repeats"),
    (["--workers", "0"], "'0'"),
])
def test_bad_flags_give_one_line_and_status_2(args, named):
    proc = subprocess.run([sys.executable, "-m", "toy.claims", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert named in lines[0]
    assert "Traceback" not in proc.stderr


def test_unwritable_out_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = subprocess.run([sys.executable, "-m", "toy.claims", "--out", str(blocker / "sub")],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "cannot write" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert blocker.read_text() == "not a folder"
