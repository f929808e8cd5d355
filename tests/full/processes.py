"""Real processes for the tests of full/: ``python -m ...`` and DDP ranks, each in its own
process group, killed with its group when a test times out (nothing is left behind)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    """``python argv...`` in a new session (its own process group), stdout/stderr piped."""
    return subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, **(env or {})})


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc``'s process group if it is still running."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def finish(procs: list[subprocess.Popen], timeout: float) -> list[subprocess.CompletedProcess]:
    """Wait for every process (``timeout`` seconds in all), then kill what is left."""
    deadline = time.monotonic() + timeout
    results = []
    try:
        for proc in procs:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    finally:
        for proc in procs:
            kill(proc)
    return results


def run_module(module: str, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    """``python -m module args...`` to the end (killed with its group after ``timeout`` s)."""
    return finish([start(["-m", module, *args])], timeout)[0]


def ranks(argv: list[str], world_size: int = 2) -> list[subprocess.Popen]:
    """``world_size`` processes of ``python argv...`` with the environment torchrun gives its
    workers (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT, TORCHELASTIC_USE_AGENT_STORE):
    a real DDP job on gloo. As under torchrun, the rendezvous store is served by the launcher
    (this process, as torchrun's agent does), not by rank 0: with rank 0 serving it, rank 0
    exited with "terminate called without an active exception" (SIGABRT) after its work was
    done, in 2 of 13 full-suite runs (never in 14 runs of the pair alone); users' torchrun
    never has rank 0 serve the store. The store lives as long as the processes' objects."""
    from torch.distributed import TCPStore

    port = free_port()
    store = TCPStore("127.0.0.1", port, world_size, is_master=True, wait_for_workers=False)
    procs = [start(argv, {"RANK": str(r), "LOCAL_RANK": str(r), "WORLD_SIZE": str(world_size),
                          "LOCAL_WORLD_SIZE": str(world_size), "MASTER_ADDR": "127.0.0.1",
                          "MASTER_PORT": str(port), "TORCHELASTIC_USE_AGENT_STORE": "True",
                          "OMP_NUM_THREADS": "1"})
             for r in range(world_size)]
    for proc in procs:
        proc.store = store  # type: ignore[attr-defined]  # kept alive with the processes
    return procs


@contextlib.contextmanager
def running(procs: list[subprocess.Popen]) -> Iterator[list[subprocess.Popen]]:
    """Kill every process group in ``procs`` on the way out, whatever happened."""
    try:
        yield procs
    finally:
        for proc in procs:
            kill(proc)


def wait_for(condition, timeout: float, procs: list[subprocess.Popen]) -> None:  # noqa: ANN001
    """Poll ``condition()`` until true; fail early if a process ended, or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not condition():
        ended = [p for p in procs if p.poll() is not None]
        if ended:
            raise AssertionError(f"process ended early: {ended[0].args} -> "
                                 f"{ended[0].returncode}: {ended[0].stderr.read()[-2000:]}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s")
        time.sleep(0.05)
