"""Tests for benchmarks.app_speed: a bad first-picture flag is refused in one line naming the
value, before any server or browser starts; the CPU split of the multi-session rows counts the
server and its workers apart."""

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


def test_cpu_seconds_counts_the_server_and_its_workers_apart():
    """The multi-session rows say which process took the cores: here this process stands for
    the server and a busy child for a training worker."""
    import os
    import time

    spin = "import time\nend = time.time() + 1.5\nwhile time.time() < end: pass"
    child = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)  # the child is running
        before = app_speed.cpu_seconds(os.getpid())
        end = time.process_time() + 0.4
        while time.process_time() < end:  # this process busy for 0.4 s of CPU
            pass
        after = app_speed.cpu_seconds(os.getpid())
    finally:
        child.wait()
    used = {k: after[k] - before[k] for k in after}
    assert 0.3 <= used["server"] <= 0.6, used
    assert used["workers"] >= 0.2, used  # the child spun meanwhile


def test_cpu_seconds_counts_a_browser_by_its_name_even_an_odd_one(tmp_path):
    """A process whose name starts with "chrom" is a browser, wherever it runs; a name with
    spaces and parentheses does not shift the fields read after it."""
    import time

    odd = tmp_path / "chrom (x) a b c"  # 15 characters, the most a process name keeps
    odd.symlink_to(sys.executable)
    spin = "import time\nend = time.time() + 1.2\nwhile time.time() < end: pass"
    child = subprocess.Popen([str(odd), "-c", spin], start_new_session=True)
    try:
        time.sleep(0.2)
        before = app_speed.cpu_seconds(-1)  # no server: only the browsers are read here
        time.sleep(0.6)
        after = app_speed.cpu_seconds(-1)
    finally:
        child.wait()
    used = {k: after[k] - before[k] for k in after}
    assert 0.3 <= used["browsers"] <= 0.7, used  # it spun for 0.6 s of the window


def test_cpu_seconds_tells_a_browsers_renderers_from_its_gpu_process(tmp_path):
    """Chromium's processes say their part in ``--type=``: a renderer's CPU counts as the
    browser's and as its renderers', not as its GPU process's."""
    import time

    fake = tmp_path / "chromium"
    fake.symlink_to(sys.executable)
    spin = "import time\nend = time.time() + 1.2\nwhile time.time() < end: pass"
    child = subprocess.Popen([str(fake), "-c", spin, "--type=renderer"],
                             start_new_session=True)
    try:
        time.sleep(0.2)
        before = app_speed.cpu_seconds(-1)
        time.sleep(0.6)
        after = app_speed.cpu_seconds(-1)
    finally:
        child.wait()
    used = {k: after[k] - before[k] for k in after}
    assert 0.3 <= used["browser_renderer"] <= 0.7, used
    assert used["browser_renderer"] <= used["browsers"] + 1e-9, used
    assert used["browser_gpu"] < 0.1, used
