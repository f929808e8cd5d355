"""Tests for common.cli and common.files: the flag validators, the one-line parser error,
atomic writes."""

import argparse
import json
import os

import pytest

from collapse.recipe import PRESETS
from common import cli, files


@pytest.mark.parametrize(("validator", "text", "value"), [
    (cli.positive_int, "1", 1),
    (cli.positive_int, "250", 250),
    (cli.dimension, "2", 2),
    (cli.dimension, "64", 64),
    (cli.seed, "0", 0),
    (cli.seed, "17", 17),
    (cli.seed, "4294967295", 4294967295),
    (cli.positive_float, "0.05", 0.05),
    (cli.positive_float, "1e-3", 1e-3),
    (cli.positive_float, "3", 3.0),
    (cli.nonnegative_float, "0", 0.0),
    (cli.nonnegative_float, "2.5", 2.5),
    (cli.recipe_name, "simsiam", "simsiam"),
    (cli.recipe_name, "no-stop-gradient", "no-stop-gradient"),
])
def test_validators_accept_good_values(validator, text, value):
    result = validator(text)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(("validator", "text", "allowed"), [
    (cli.positive_int, "abc", ">= 1"),
    (cli.positive_int, "1.5", ">= 1"),
    (cli.positive_int, "0", ">= 1"),
    (cli.positive_int, "-3", ">= 1"),
    (cli.positive_int, "", ">= 1"),
    (cli.dimension, "1", ">= 2"),
    (cli.dimension, "0", ">= 2"),
    (cli.dimension, "abc", ">= 2"),
    (cli.dimension, "2.0", ">= 2"),
    (cli.seed, "-1", "from 0 to 4294967295"),
    (cli.seed, "100000000000", "from 0 to 4294967295"),
    (cli.seed, "4294967296", "from 0 to 4294967295"),
    (cli.seed, "1.5", "from 0 to"),
    (cli.seed, "x", "from 0 to"),
    (cli.positive_float, "nan", "> 0"),
    (cli.positive_float, "inf", "> 0"),
    (cli.positive_float, "-inf", "> 0"),
    (cli.positive_float, "0", "> 0"),
    (cli.positive_float, "-1", "> 0"),
    (cli.positive_float, "fast", "> 0"),
    (cli.nonnegative_float, "-0.1", ">= 0"),
    (cli.nonnegative_float, "nan", ">= 0"),
    (cli.nonnegative_float, "inf", ">= 0"),
])
def test_validators_refuse_bad_values_naming_value_and_rule(validator, text, allowed):
    with pytest.raises(argparse.ArgumentTypeError) as error:
        validator(text)
    message = str(error.value)
    assert repr(text) in message
    assert allowed in message


def test_recipe_name_refuses_unknown_and_lists_every_preset():
    with pytest.raises(argparse.ArgumentTypeError) as error:
        cli.recipe_name("simsam")
    message = str(error.value)
    assert "'simsam'" in message
    for name in PRESETS:
        assert name in message


def test_parser_error_is_one_line_on_stderr_with_status_2(capsys):
    parser = cli.Parser(prog="toy.test")
    parser.add_argument("--dim", type=cli.dimension, default=3)
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["--dim", "1"])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "toy.test: error: argument --dim: invalid value '1': expected an integer >= 2"]


def test_parser_error_flattens_a_multiline_message(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.Parser(prog="toy.test").error("first\nsecond")
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == "toy.test: error: first second\n"


def test_output_dir_creates_parents_and_leaves_no_probe(tmp_path):
    folder = cli.output_dir(str(tmp_path / "a" / "b"))
    assert folder == tmp_path / "a" / "b"
    assert folder.is_dir()
    assert list(folder.iterdir()) == []


def test_output_dir_refuses_a_path_under_a_file(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    path = str(tmp_path / "file" / "sub")
    with pytest.raises(argparse.ArgumentTypeError) as error:
        cli.output_dir(path)
    assert str(error.value).startswith(f"cannot write to --out {path}: ")


def test_write_json_round_trips_and_writes_nan_as_null(tmp_path):
    path = tmp_path / "m.json"
    files.write_json(path, {"a": [1.5, float("nan")], "b": {"c": float("inf")}, "s": "x"})
    assert json.loads(path.read_text()) == {"a": [1.5, None], "b": {"c": None}, "s": "x"}
    assert list(tmp_path.iterdir()) == [path]


def test_write_json_keeps_the_old_file_when_replace_fails(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    files.write_json(path, {"run": 1})

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        files.write_json(path, {"run": 2})
    assert json.loads(path.read_text()) == {"run": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_write_json_keeps_the_old_file_when_serialisation_fails(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    files.write_json(path, {"run": 1})

    def broken_dumps(*args, **kwargs):
        raise KeyboardInterrupt  # an interrupted run

    monkeypatch.setattr(json, "dumps", broken_dumps)
    with pytest.raises(KeyboardInterrupt):
        files.write_json(path, {"run": 2})
    assert json.loads(path.read_text()) == {"run": 1}
    assert list(tmp_path.iterdir()) == [path]


def test_write_text_keeps_the_old_file_when_the_write_is_interrupted(tmp_path, monkeypatch):
    path = tmp_path / "notes.txt"
    files.write_text(path, "old")
    real_fdopen = os.fdopen

    class Interrupted:
        def __init__(self, *args, **kwargs):
            self.file = real_fdopen(*args, **kwargs)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

        def write(self, text):
            self.file.write(text[: len(text) // 2])
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "fdopen", Interrupted)
    with pytest.raises(KeyboardInterrupt):
        files.write_text(path, "new text, never complete")
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


def test_write_text_output_is_readable_by_others(tmp_path):
    path = tmp_path / "t.txt"
    files.write_text(path, "hi")
    assert path.stat().st_mode & 0o044 == 0o044


def test_set_threads_sets_one_torch_thread():
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        cli.set_threads()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
