"""``python -m full.train`` as a user runs it, one real process per way a run stops (issue 11 §1).

Each stop must be one line on stderr, the documented exit status (full.errors) and no traceback.
In-process calls of ``main()`` cannot see this: under ``python -m`` the entry point is the module
``__main__``, and a Stop defined there twice once escaped as a traceback with status 1.
"""

from __future__ import annotations

import signal
import subprocess

import torch

from common.cli import MAX_SEED
from full import errors
from tests.full.conftest import TINY
from tests.full.processes import finish, run_module, running, start, wait_for


def shapes(out, *extra):
    return ["--dataset", "shapes", "--train-size", "32", "--test-size", "16", "--out", str(out),
            *TINY, *extra]


def assert_one_line(result: subprocess.CompletedProcess, status: int, *words: str) -> str:
    err = result.stderr
    assert "Traceback" not in err, err[-3000:]
    assert result.returncode == status, err[-2000:]
    assert err.count("\n") == 1, err[-2000:]
    assert err.startswith("full.train: ")
    for word in words:
        assert word in err
    return err


def test_cifar_absent_offline(tmp_path):
    result = run_module("full.train", "--dataset", "cifar10", "--data-dir", str(tmp_path / "empty"),
                        "--no-download", "--out", str(tmp_path / "o"), *TINY)
    assert_one_line(result, errors.BAD_INPUT, "cifar-10-python.tar.gz", str(tmp_path / "empty"))


def test_a_seed_out_of_range(tmp_path):
    result = run_module("full.train", "--seed", "100000000000", "--out", str(tmp_path), *TINY)
    assert_one_line(result, errors.BAD_INPUT, "--seed", "'100000000000'", str(MAX_SEED))


def test_a_non_finite_loss(tmp_path):
    # lr 1e30 blows the weights up in the first step: the loss of step 1 is not finite
    out = tmp_path / "run"
    result = run_module("full.train", *shapes(out, "--epochs", "2", "--lr", "1e30"))
    assert_one_line(result, errors.DIVERGED, "loss is", "at step 1 (epoch 1, batch 2)",
                    "no checkpoint was written")
    assert not (out / "checkpoint.pt").exists()


def test_a_signal_then_a_checkpoint_that_does_not_fit(tmp_path):
    out = tmp_path / "run"
    with running([start(["-m", "full.train", *shapes(out, "--epochs", "200")])]) as procs:
        wait_for(lambda: (out / "metrics.jsonl").exists(), 120, procs)  # training has begun
        procs[0].send_signal(signal.SIGTERM)
        (result,) = finish(procs, 60)
    assert_one_line(result, errors.interrupted(signal.SIGTERM), "interrupted by SIGTERM at epoch",
                    "continue with --resume")
    state = torch.load(out / "checkpoint.pt", weights_only=True)
    assert state["epoch"] < 200  # stopped early, and said where
    assert f"at epoch {state['epoch'] + 1} step {state['step']};" in result.stderr

    # The same flags, but weights that do not fit the model (a tensor is missing).
    del state["model"][next(iter(state["model"]))]
    torch.save(state, out / "checkpoint.pt")
    result = run_module("full.train", *shapes(out, "--epochs", "200", "--resume"))
    assert_one_line(result, errors.BAD_INPUT, "does not fit this model", "Missing key")
