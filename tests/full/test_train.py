"""``python -m full.train`` end to end on CPU: steps, outputs, resume, NaN stop, bad flags."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import torch

import collapse.siamese
from common.cli import MAX_SEED
from full import checkpoint, data, evaluate, trainer
from full.train import main, parse
from tests.full.conftest import TINY


def rows(out):
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def shapes_run(out, *extra):
    return ["--dataset", "shapes", "--train-size", "16", "--test-size", "16", "--out",
            str(out), *TINY, *extra]


def test_shapes_dataset_is_seeded_and_labelled():
    a, ya = data.shapes(64, seed=3)
    b, yb = data.shapes(64, seed=3)
    c, _ = data.shapes(64, seed=4)
    assert a.dtype == torch.uint8
    assert a.shape == (64, 3, 32, 32)
    assert torch.equal(a, b)
    assert torch.equal(ya, yb)
    assert not torch.equal(a, c)
    assert set(ya.tolist()) <= set(range(10))
    assert len(set(ya.tolist())) > 5


def test_two_steps_on_shapes(tmp_path):
    out = tmp_path / "run"
    assert main(shapes_run(out, "--epochs", "1")) == 0
    untrained, row = rows(out)  # epoch 0, then 16 images / batch 8 = 2 steps in one epoch
    assert (untrained["epoch"], untrained["step"]) == (0, 0)
    assert "loss" not in untrained  # measured before any step
    assert row["epoch"] == 1
    assert row["step"] == 2
    for key in ("loss", "std", "std_scaled", "center_norm", "effective_rank", "knn_acc",
                "images_per_s", "grad_extra_center_cos"):
        assert isinstance(row[key], float), key
    assert -1.0 <= row["loss"] <= 1.0  # a mean of negative cosines
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recipe"] == "simsiam"
    assert summary["chance"] == 0.1
    assert 0.0 <= summary["knn_acc"] <= 1.0
    assert 0.0 <= summary["linear_acc"] <= 1.0
    assert summary["untrained"]["knn_acc"] == untrained["knn_acc"]
    shapes = data.load("shapes", seed=0, train_size=16, test_size=16)  # the baseline to beat
    assert summary["raw_pixels"] == evaluate.raw_pixel_baseline(
        shapes.train_images, shapes.train_labels, shapes.test_images, shapes.test_labels, 10,
        k=5, probe_epochs=2)
    assert (out / "curves.png").stat().st_size > 0
    state = checkpoint.load(out / "checkpoint.pt", {"epochs": 1, "width": 2})
    assert state["epoch"] == 1


def test_a_fresh_run_rewrites_the_metrics_of_an_earlier_one(tmp_path):
    out = tmp_path / "run"
    assert main(shapes_run(out, "--epochs", "2")) == 0
    assert main(shapes_run(out, "--epochs", "1")) == 0
    assert [r["epoch"] for r in rows(out)] == [0, 1]


def test_two_steps_on_cifar10_layout(tiny_cifar, tmp_path):
    out = tmp_path / "run"
    assert main(["--dataset", "cifar10", "--data-dir", str(tiny_cifar), "--no-download",
                 "--train-size", "16", "--epochs", "1", "--out", str(out), *TINY]) == 0
    _, row = rows(out)
    assert row["step"] == 2
    assert isinstance(row["loss"], float)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["num_classes"] == 10
    assert summary["dataset"] == "cifar10"


def test_cifar_absent_offline_is_one_line(tmp_path, capsys):
    handler = signal.getsignal(signal.SIGTERM)
    status = main(["--dataset", "cifar10", "--data-dir", str(tmp_path / "empty"),
                   "--no-download", "--out", str(tmp_path / "o"), *TINY])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "\n" not in err
    assert "cifar-10-python.tar.gz" in err
    assert str(tmp_path / "empty") in err
    # the trainer stopped while being built: its signal handlers are gone with it
    assert signal.getsignal(signal.SIGTERM) is handler


def final_weights(out):
    return torch.load(out / "checkpoint.pt", weights_only=True)["model"]


def assert_same_run(a, b):
    assert [r.get("loss") for r in rows(a)] == [r.get("loss") for r in rows(b)]  # bit for bit
    wa, wb = final_weights(a), final_weights(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_sigterm_mid_epoch_then_resume_is_exact(tmp_path, monkeypatch, capsys):
    flags = ["--train-size", "32", "--epochs", "2"]  # 4 steps per epoch
    whole = tmp_path / "whole"
    assert main(shapes_run(whole, *flags)) == 0
    seed_of = trainer.step_seed

    def interrupt_at_step_5(seed, rank, step):
        if step == 5:  # epoch 2, second batch: the signal lands mid-epoch
            os.kill(os.getpid(), signal.SIGTERM)
        return seed_of(seed, rank, step)

    cut = tmp_path / "cut"
    monkeypatch.setattr(trainer, "step_seed", interrupt_at_step_5)
    assert main(shapes_run(cut, *flags)) == 128 + signal.SIGTERM
    assert "interrupted by SIGTERM at epoch 2 step 2" in capsys.readouterr().err
    assert torch.load(cut / "checkpoint.pt", weights_only=True)["step"] == 2
    monkeypatch.setattr(trainer, "step_seed", seed_of)
    assert main(shapes_run(cut, *flags, "--resume")) == 0
    assert_same_run(whole, cut)


def test_sigkill_then_resume_reproduces_the_losses(tmp_path):
    flags = ["--epochs", "12", "--train-size", "32"]
    whole = tmp_path / "whole"
    assert main(shapes_run(whole, *flags)) == 0
    killed = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "full.train", *shapes_run(killed, *flags)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (killed / "checkpoint.pt").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL  # killed before the 12 epochs were done
    assert main(shapes_run(killed, *flags, "--resume")) == 0
    assert_same_run(whole, killed)


def test_nan_loss_stops_naming_the_step_and_keeps_the_checkpoint(tmp_path, monkeypatch,
                                                                  capsys):
    out = tmp_path / "run"
    real, calls = collapse.siamese.siamese_loss, []

    def nan_on_third_step(*args):
        calls.append(1)
        loss = real(*args)
        return loss * float("nan") if len(calls) == 3 else loss

    monkeypatch.setattr(collapse.siamese, "siamese_loss", nan_on_third_step)
    assert main(shapes_run(out, "--epochs", "2")) == 1
    err = capsys.readouterr().err.strip()
    assert "loss is nan at step 2 (epoch 2, batch 1)" in err
    assert "\n" not in err
    state = checkpoint.load(out / "checkpoint.pt", {"epochs": 2})
    assert state["epoch"] == 1  # the good epoch-1 checkpoint survived
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_corrupted_and_mismatched_checkpoints_are_one_line(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(shapes_run(out, "--epochs", "1")) == 0
    capsys.readouterr()
    assert main(shapes_run(out, "--epochs", "1", "--width", "3", "--resume")) == 2
    err = capsys.readouterr().err.strip()
    assert "other flags" in err
    assert "width=2 (now 3)" in err
    assert "\n" not in err
    # other numerics: compiled, deterministic kernels (issue 11 §3), refused before compiling
    assert main(shapes_run(out, "--epochs", "1", "--compile", "--deterministic",
                           "--resume")) == 2
    err = capsys.readouterr().err.strip()
    assert "compile=False (now True), deterministic=False (now True)" in err
    assert "\n" not in err
    (out / "checkpoint.pt").write_bytes(b"not a checkpoint")
    assert main(shapes_run(out, "--epochs", "1", "--resume")) == 2
    err = capsys.readouterr().err.strip()
    assert "corrupted" in err
    assert "\n" not in err


def test_the_checkpoint_records_the_numerics_and_a_gpu_resume_of_a_cpu_run_is_refused(tmp_path):
    out = tmp_path / "run"
    assert main(shapes_run(out, "--epochs", "1")) == 0
    saved = torch.load(out / "checkpoint.pt", weights_only=True)["config"]
    assert {k: saved[k] for k in ("device", "precision", "compile", "sync_bn",
                                  "deterministic")} == {
        "device": "cpu", "precision": "fp32", "compile": False, "sync_bn": False,
        "deterministic": False}
    # the same flags on a CUDA machine resolve to other numerics: named, one line
    on_gpu = trainer.trajectory(parse(shapes_run(out, "--epochs", "1", "--resume"), cuda=True))
    with pytest.raises(checkpoint.CheckpointError) as refused:
        checkpoint.load(out / "checkpoint.pt", on_gpu)
    assert "device='cpu' (now 'cuda'), precision='fp32' (now 'bf16')" in str(refused.value)
    # a checkpoint from before these were recorded: named as such
    older = {k: v for k, v in saved.items() if k != "compile"}
    torch.save({**torch.load(out / "checkpoint.pt", weights_only=True), "config": older},
               out / "checkpoint.pt")
    with pytest.raises(checkpoint.CheckpointError, match="compile not recorded"):
        checkpoint.load(out / "checkpoint.pt", trainer.trajectory(
            parse(shapes_run(out, "--epochs", "1", "--resume"), cuda=False)))


def test_deterministic_kernels_during_the_run_only(tmp_path, monkeypatch):
    seen, seed_of = [], trainer.step_seed

    def spy(seed, rank, step):
        seen.append(torch.are_deterministic_algorithms_enabled())
        return seed_of(seed, rank, step)

    monkeypatch.setattr(trainer, "step_seed", spy)
    assert main(shapes_run(tmp_path / "run", "--epochs", "1", "--deterministic")) == 0
    assert seen == [True, True]
    assert not torch.are_deterministic_algorithms_enabled()  # restored for whoever runs next


def test_every_seed_the_flag_accepts_derives_valid_generator_seeds(tmp_path):
    assert parse(["--seed", str(MAX_SEED), "--out", str(tmp_path)], cuda=False).seed == MAX_SEED
    last_step = 800 * 50_000 // 2  # 800 epochs of CIFAR at batch 2
    torch.Generator().manual_seed(trainer.step_seed(MAX_SEED, 1023, last_step))
    assert len(trainer.epoch_order(MAX_SEED, 799, 10)) == 10


@pytest.mark.parametrize(("flags", "words"), [
    (["--lr", "-0.1"], "--lr: invalid value '-0.1'"),
    (["--recipe", "nope"], "unknown recipe 'nope'"),
    (["--dataset", "imagenet"], "unknown dataset 'imagenet'"),
    (["--epochs", "0"], "--epochs: invalid value '0'"),
    (["--out", "/proc/forbidden"], "cannot write to --out /proc/forbidden"),
    (["--resume"], "--resume: no checkpoint"),
    (["--seed", "100000000000"], "--seed: invalid value '100000000000': expected an integer "
                                 f"from 0 to {2**32 - 1}"),
    pytest.param(["--sync-bn"], "--sync-bn needs CUDA", marks=pytest.mark.skipif(
        torch.cuda.is_available(), reason="SyncBatchNorm runs on CUDA")),
])
def test_bad_flags_are_one_line_exit_2(flags, words, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "o"), *flags])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert err.startswith("full.train: error:")
    assert err.count("\n") == 1
    assert words in err


def test_batch_not_divisible_by_world_size_in_a_real_process(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "full.train", "--batch", "7", "--out", str(tmp_path)],
        capture_output=True, text=True, env={**os.environ, "WORLD_SIZE": "2"}, check=False)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == ("full.train: error: --batch 7 is not divisible by the "
                                     "world size 2 (WORLD_SIZE)")


def test_paper_table_runs_each_recipe_and_skips_finished_ones(tmp_path, capsys):
    from full.paper_table import main as paper_table

    flags = ["--recipes", "simsiam,no-stop-gradient", "--out", str(tmp_path),
             "--dataset", "shapes", "--train-size", "16", "--test-size", "16", "--epochs", "1",
             *TINY]
    assert paper_table(flags) == 0
    text = (tmp_path / "table.md").read_text()
    assert "| simsiam | Table 2: SimSiam" in text
    assert "| no-stop-gradient |" in text
    assert paper_table(flags) == 0
    assert capsys.readouterr().out.count("done, skipped") == 2


def test_paper_table_goes_on_after_a_recipe_fails(tmp_path, monkeypatch, capsys):
    from full import paper_table

    def train(argv):  # no-stop-gradient "hits a NaN"; the others finish
        name = argv[argv.index("--recipe") + 1]
        if name == "no-stop-gradient":
            return 1
        run = pathlib.Path(argv[argv.index("--out") + 1])
        run.mkdir(parents=True)
        final = {"std_scaled": 0.9, "center_norm": 0.2, "effective_rank": 9.0, "state": "healthy"}
        (run / "summary.json").write_text(json.dumps({
            "knn_acc": 0.6, "linear_acc": 0.5, "final": final, "untrained": {"knn_acc": 0.2}}))
        return 0

    monkeypatch.setattr("full.train.main", train)
    status = paper_table.main(["--recipes", "no-stop-gradient,simsiam", "--out", str(tmp_path)])
    assert status == 1
    text = (tmp_path / "table.md").read_text()
    assert "| no-stop-gradient |" in text
    assert "stopped (status 1)" in text
    assert "| 60.0 (20.0) | 50.0 | 0.900 |" in text  # simsiam still ran, after the failure
    assert "going on" in capsys.readouterr().err


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_a_cuda_training_step_never_makes_the_host_wait(tmp_path):
    # "No host sync per step" (issue 4): the batch, its views and the SGD step, with torch's
    # sync debugger turned to errors. Only a GPU machine runs this.
    from full.train import parse

    run = trainer.Trainer(parse(shapes_run(tmp_path / "run", "--device", "cuda"), cuda=True))
    try:
        batches = run._batches()
        run.train_step(next(batches)[1])  # warm-up: lazy CUDA initialisation may sync
        torch.cuda.synchronize()
        torch.cuda.set_sync_debug_mode("error")
        try:
            run.train_step(next(batches)[1])
        finally:
            torch.cuda.set_sync_debug_mode("default")
    finally:
        run.close()
