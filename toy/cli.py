"""Command-line helpers shared by ``toy.run`` and ``toy.claims``.

- :class:`Parser` reports a bad command line in one line (``prog: error: message``), exit 2.
- The ``type=`` validators below turn a bad flag into that one line, naming the bad value and
  what is allowed, instead of a traceback from deep inside the training code.
- :func:`write_json` / :func:`write_text` are atomic: a run killed mid-write leaves the previous
  file intact and no half-written one.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import pathlib
import tempfile
from collections.abc import Iterator
from typing import IO, NoReturn

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


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """A file that appears at ``path`` whole or not at all: written to a temp file in the same
    folder, flushed and fsynced, then ``os.replace``d; on any error the temp file is removed and
    what was at ``path`` before is untouched."""
    target = pathlib.Path(path)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide results from other users
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temp)
        raise


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as f:
        f.write(text)


def _finite(obj: object) -> object:
    """``obj`` with every NaN / inf float replaced by ``None`` (strict JSON has no NaN)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def write_json(path: str | os.PathLike[str], obj: object, indent: int | None = 1) -> None:
    """Write ``obj`` as strict JSON (NaN/inf become ``null``), atomically.

    The text is built in memory first, so an object that cannot be serialised leaves no trace.
    """
    write_text(path, json.dumps(_finite(obj), indent=indent, allow_nan=False) + "\n")


def set_threads() -> None:
    """One torch thread per process: the toy's 16-d MLPs are overhead-bound, not FLOP-bound.

    torch is imported here, not at the top, so that a bad flag is refused in milliseconds.
    """
    import torch

    torch.set_num_threads(1)

