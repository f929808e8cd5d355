"""Files that appear whole or not at all: every result, table and checkpoint goes through here.

:func:`write_json` / :func:`write_text` are atomic: a run killed mid-write leaves the previous
file intact and no half-written one. JSON is strict (NaN and inf become ``null``).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pathlib
import tempfile
from collections.abc import Iterator
from typing import IO


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


def json_text(obj: object, indent: int | None = None) -> str:
    """``obj`` as strict JSON text (NaN/inf become ``null``), no trailing newline."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False)


def write_json(path: str | os.PathLike[str], obj: object, indent: int | None = 1) -> None:
    """Write ``obj`` as strict JSON (NaN/inf become ``null``), atomically.

    The text is built in memory first, so an object that cannot be serialised leaves no trace.
    """
    write_text(path, json_text(obj, indent) + "\n")
