"""``streamlit run app.py`` on a free local port, for the browser test and the app benchmark.

:func:`serve` starts the app bound to 127.0.0.1, waits for Streamlit's health endpoint and, on
exit, stops the server through its own process handle (terminate, then kill after 10 s): it
never touches a process it did not start (the app's training workers exit when the server's
socket closes). :data:`CHROMIUM_ARGS` are the flags both callers pass
to Debian's headless chromium.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


class Served(str):
    """The app's URL, with the server's process id (for memory readings of it and its
    workers)."""

    pid: int


class ServerError(RuntimeError):
    """The app did not come up; the message says why and ends with the server's log tail."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(url: str) -> bool:
    """Whether the Streamlit server at ``url`` answers its health check with ``ok``."""
    try:
        with urllib.request.urlopen(f"{url}_stcore/health", timeout=1) as r:
            return r.read().strip() == b"ok"
    except OSError:
        return False


@contextlib.contextmanager
def serve(log: Path, timeout_s: float = 60.0, options: Sequence[str] = ()) -> Iterator[Served]:
    """Run the app; yield its URL once healthy; stop it on exit. Output goes to ``log``;
    ``options`` are extra ``streamlit run`` flags (e.g. ``["--runner.postScriptGC", "true"]``).

    Raises :class:`ServerError` if the server exits or is not healthy within ``timeout_s``.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
             "--server.headless", "true", "--server.address", "127.0.0.1",
             "--server.port", str(port), *options], cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + timeout_s
        while not healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                why = (f"exited with status {process.returncode}" if process.poll() is not None
                       else f"not healthy within {timeout_s:g} s")
                tail = log.read_text(errors="replace")[-2000:]
                raise ServerError(f"streamlit on port {port} {why}; log {log}:\n{tail}")
            time.sleep(0.05)
        served = Served(url)
        served.pid = process.pid
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
