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


def _integer(text: str, low: int) -> int:
    try:
        value = int(text)
    except (TypeError, ValueError):
        value = None
    if value is None or value < low:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: expected an integer >= {low}")
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


def seed(text: str) -> int:
    """A random seed, an integer >= 0."""
    return _integer(text, 0)


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

