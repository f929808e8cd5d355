"""The command-line conventions of every entry point (toy, full, tutorial, benchmarks).

- :class:`Parser` reports a bad command line in one line (``prog: error: message``), exit 2.
- The ``type=`` validators below turn a bad flag into that one line, naming the bad value and
  what is allowed, instead of a traceback from deep inside the training code.

File writing (atomic, strict JSON) is :mod:`common.files`.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import tempfile
from typing import NoReturn

from collapse.recipe import PRESETS


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line on stderr (no usage block), exit 2."""

    def error(self, message: str) -> NoReturn:
        one_line = " ".join(str(message).split())
        self.exit(2, f"{self.prog}: error: {one_line}\n")


# Seeds are bounded so that every seed derived from one (the toy's members, full.trainer's
# step_seed: seed x 1e6 x 1024) fits torch's 64-bit generator seed; 100000000000 used to end in
# an overflow traceback.
MAX_SEED = 2**32 - 1


def _integer(text: str, low: int, high: int | None = None) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = None
    if value is None or value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"from {low} to {high}"
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected an integer {allowed}")
    return value


def _number(text: str, low: float, strict: bool) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and (value > low if strict else value >= low)):
        bound = f"{'>' if strict else '>='} {low:g}"
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: expected a finite number {bound}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (a step count, a batch size)."""
    return _integer(text, 1)


def dimension(text: str) -> int:
    """A representation dimension d >= 2 (d = 1 has no sphere to spread on)."""
    return _integer(text, 2)


def nonnegative_int(text: str) -> int:
    """An integer >= 0 (a count that may be zero, e.g. DataLoader workers)."""
    return _integer(text, 0)


def seed(text: str) -> int:
    """A random seed, an integer from 0 to :data:`MAX_SEED`."""
    return _integer(text, 0, MAX_SEED)


def positive_float(text: str) -> float:
    """A finite number > 0 (a learning rate, a temperature); 'nan' and 'inf' are refused."""
    return _number(text, 0.0, strict=True)


def nonnegative_float(text: str) -> float:
    """A finite number >= 0 (a weight that may be switched off)."""
    return _number(text, 0.0, strict=False)


def recipe_name(text: str) -> str:
    """The name of a preset of :data:`collapse.recipe.PRESETS`."""
    if text not in PRESETS:
        raise argparse.ArgumentTypeError(
            f"unknown recipe {text!r}; valid: {', '.join(PRESETS)}")
    return text


def output_dir(path: str) -> pathlib.Path:
    """Create the folder ``path`` (and its parents) and prove it writable with a temp file."""
    folder = pathlib.Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
        os.close(fd)
        os.remove(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        raise argparse.ArgumentTypeError(f"cannot write to --out {path}: {reason}") from None
    return folder


def set_threads() -> None:
    """One torch thread per process: the toy's 16-d MLPs are overhead-bound, not FLOP-bound.

    torch is imported here, not at the top, so that a bad flag is refused in milliseconds.
    """
    import torch

    torch.set_num_threads(1)

