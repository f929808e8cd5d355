"""benchmarks/gpu_check.sh: the script a GPU machine runs (issue 11 §4) parses, and refuses what
it cannot do with one line. Its dry mode (every part on the CPU at toy sizes) takes minutes
and is run by hand: ``bash benchmarks/gpu_check.sh --dry``."""

from __future__ import annotations

import pathlib
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "benchmarks" / "gpu_check.sh"


def test_gpu_check_parses():
    result = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_gpu_check_refuses_an_unknown_argument_in_one_line():
    result = subprocess.run(["bash", str(SCRIPT), "--fast"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "gpu_check.sh: unknown argument '--fast'; use --dry or nothing"]
