"""Tests for benchmarks.app_speed's command line: a bad first-picture flag is refused in one
line naming the value, before any server or browser starts."""

import subprocess
import sys

import pytest
import torch

from benchmarks import app_speed


def test_a_bad_repeat_count_is_refused_in_process(capsys):
    threads = torch.get_num_threads()
    with pytest.raises(SystemExit) as exit_info:
        app_speed.main(["--first-picture", "--first-picture-repeats", "0"])
    assert exit_info.value.code == 2
    assert "--first-picture-repeats=0: must be >= 1" in capsys.readouterr().err
    # A refused flag changes nothing in the caller's process: the thread count leaked once and
    # made a later bit-for-bit resume test compare a 1-thread run with a 2-thread one.
    assert torch.get_num_threads() == threads


def test_a_bad_repeat_count_is_refused_as_a_subprocess():
    done = subprocess.run([sys.executable, "-m", "benchmarks.app_speed", "--first-picture",
                           "--first-picture-repeats", "-1"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].endswith("--first-picture-repeats=-1: must be >= 1")
    assert "Traceback" not in done.stderr
