"""Tests for toy.run: one-line errors for bad flags, and small real runs that write every file."""

import json
import pathlib
import subprocess
import sys

import pytest
import torch

from toy import run
from toy.data import DATASETS

ROOT = pathlib.Path(__file__).resolve().parents[2]
FILES = ("metrics.json", "curves.json", "representations.png", "curves.png")


def _run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "toy.run", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("flags", "named"), [
    (["--recipe", "simsam"], "'simsam'"),
    (["--dim", "1"], "'1'"),
    (["--dim", "abc"], "'abc'"),
    (["--seed", "1.5"], "'1.5'"),
    (["--seed", "x"], "'x'"),
    (["--seed", "10000000000000000000000"], "'10000000000000000000000'"),
    (["--steps", "0"], "'0'"),
    (["--steps", "-5"], "'-5'"),
    (["--tau", "0"], "'0'"),
    (["--tau", "-1"], "'-1'"),
])
def test_bad_flag_is_one_line_error_with_status_2(flags, named, tmp_path):
    result = _run_cli(*flags, "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("toy.run: error: ")
    assert flags[0] in lines[0]
    assert named in lines[0]
    assert not (tmp_path / "out").exists()  # nothing is created for a refused command line


def test_out_under_a_file_is_one_line_error_with_status_2(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    out = tmp_path / "file" / "sub"
    result = _run_cli("--steps", "1", "--out", str(out))
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith(f"toy.run: error: cannot write to --out {out}: ")


def test_invalid_config_is_one_line_parser_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--batch", "1", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        "toy.run: error: batch=1 must be an integer >= 2"]


def test_unknown_dataset_is_one_line_parser_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.main(["--dataset", "moons", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "'moons'" in line
    assert all(name in line for name in DATASETS)


def _metrics(out: pathlib.Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


def test_small_run_writes_all_files_and_final_metrics(tmp_path, capsys):
    threads = torch.get_num_threads()
    try:
        assert run.main(["--steps", "60", "--record-every", "20", "--dim", "2",
                         "--out", str(tmp_path)]) == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
    for name in FILES:
        assert (tmp_path / name).stat().st_size > 0
    for name in ("representations.png", "curves.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    m = _metrics(tmp_path)
    assert m["preset"] == "simsiam"
    assert m["recipe"]["predictor"] == "mlp"
    assert m["config"]["dim"] == 2
    assert (m["seed"], m["steps"]) == (0, 60)
    assert 0 <= m["knn_init"] <= 1
    final = m["final"]
    for key in ("z_std_scaled", "z_center_norm", "z_residual_norm", "z_effective_rank",
                "p_std_scaled", "knn"):
        assert isinstance(final[key], float)
    assert final["step"] == 60
    assert final["z_state"] in ("healthy", "dimensional", "collapsed")
    assert final["p_state"] in ("healthy", "dimensional", "collapsed")
    curves = json.loads((tmp_path / "curves.json").read_text())
    assert [row[0] for row in curves["step"]] == [0, 20, 40, 60]
    printed = capsys.readouterr().out
    assert "kNN" in printed
    assert "random init" in printed
    for name in FILES:
        assert str(tmp_path / name) in printed


def test_no_stop_gradient_collapses_in_300_steps(tmp_path):
    """The toy's claim 1: without the stop-gradient, z collapses (std * sqrt(d) < 0.3)."""
    assert run.main(["--recipe", "no-stop-gradient", "--steps", "300",
                     "--out", str(tmp_path)]) == 0
    final = _metrics(tmp_path)["final"]
    assert final["z_state"] == "collapsed"
    assert final["z_center_norm"] > 0.99


def test_simsiam_does_not_collapse_in_the_same_budget(tmp_path):
    assert run.main(["--steps", "300", "--out", str(tmp_path)]) == 0
    final = _metrics(tmp_path)["final"]
    assert final["z_state"] != "collapsed"
    assert final["knn"] > _metrics(tmp_path)["knn_init"]


def test_tau_reaches_the_recipe(tmp_path):
    assert run.main(["--recipe", "infonce", "--tau", "0.5", "--steps", "5", "--record-every",
                     "5", "--dim", "2", "--out", str(tmp_path)]) == 0
    assert _metrics(tmp_path)["recipe"]["tau"] == 0.5
