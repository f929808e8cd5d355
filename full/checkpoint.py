"""Atomic, validated checkpoints for :mod:`full.train` (the reliability part of issue 4).

- :func:`save` writes to a temp file in the same folder, fsyncs it, renames it over the old
  checkpoint and fsyncs the folder: a crash (even SIGKILL) at any moment leaves either the old or
  the new checkpoint, never a torn one.
- :func:`load` reads with ``torch.load(weights_only=True)`` (no arbitrary code from a pickle) and
  turns a corrupted file or one written with other flags into one clear :class:`CheckpointError`
  naming every difference, the numerics included (device, precision, compile, sync-bn,
  deterministic kernels: ``full.trainer.TRAJECTORY``).
"""

from __future__ import annotations

import contextlib
import os
import pathlib

import torch

from common.files import atomic_file

FORMAT = "full.train/1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used; the message is one line meant for the user."""


def save(path: str | os.PathLike[str], payload: dict[str, object]) -> None:
    """``torch.save(payload)`` atomically (temp file, fsync, rename, fsync of the folder)."""
    target = pathlib.Path(path)
    with atomic_file(target, "wb") as f:
        torch.save({"format": FORMAT, **payload}, f)
    with contextlib.suppress(OSError):  # make the rename itself durable
        folder = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)


def load(path: str | os.PathLike[str], config: dict[str, object]) -> dict[str, object]:
    """The payload at ``path``; raises :class:`CheckpointError` if it is unreadable or was
    written with a different ``config`` (the flags that shape the training trajectory)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint at {path}") from None
    except Exception as error:  # noqa: BLE001 - any unpickling failure means a bad file
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        raise CheckpointError(f"cannot read checkpoint {path}: corrupted or not a checkpoint "
                              f"of full.train ({reason})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a checkpoint of full.train (format {FORMAT})")
    saved = payload.get("config", {})
    diffs = [f"{k}={saved[k]!r} (now {v!r})" if k in saved else f"{k} not recorded (now {v!r})"
             for k, v in config.items() if k not in saved or saved[k] != v]
    if diffs:
        raise CheckpointError(f"checkpoint {path} was written with other flags: "
                              f"{', '.join(diffs)}; use the same flags or another --out")
    return payload
