"""How a run of ``python -m full.train`` ends when it cannot finish: one line, one exit status.

:class:`Stop` lives here, below both the entry point (:mod:`full.train`) and the loop
(:mod:`full.trainer`), so that ``except Stop`` in the entry point catches what the loop raises
even under ``python -m full.train``: there the entry point is the module ``__main__``, and a
second import of ``full.train`` would define a second, different ``Stop`` (issue 11).

Exit statuses (documented in ``python -m full.train --help``):

- 0: the run finished;
- 1 (:data:`DIVERGED`): a non-finite loss; the last good checkpoint is kept;
- 2 (:data:`BAD_INPUT`): a flag, the data or a checkpoint cannot be used (argparse's status);
- 128 + N (:func:`interrupted`): stopped by signal N (130 SIGINT, 143 SIGTERM) after saving.
"""

from __future__ import annotations

import signal

DIVERGED = 1
BAD_INPUT = 2


def interrupted(signum: int) -> int:
    """The shell's status of a process ended by signal ``signum``: 128 + N."""
    return 128 + signum


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15."""
    return signal.Signals(signum).name


class Stop(Exception):
    """Ends the run with a one-line message (printed by rank 0) and an exit status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
