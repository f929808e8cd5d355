"""Sessions' runs trained out of the server's threads, in a pool of worker processes.

Why: Streamlit serves every browser session from one Python process, one thread per session.
The toy's steps are small tensor operations, mostly Python time under the GIL, so threads do not
add up: two threads training in one process made 160 steps/s together against 215 for one alone
(BENCHMARKS.md), and a class of three already asked that process for more than one core.

How: a :class:`Pool` of worker processes, one per core but one (:func:`pool_size`), each
hosting the :class:`LiveRun` of some sessions (the least busy worker takes a new run). A worker
trains its playing runs itself, one tick at a time (``STEPS_PER_TICK`` steps, the class pace,
exactly a lone session's tick), earliest due first, each at most ``TICKS_PER_S`` ticks a
second: a session trains at the same pace alone or in a class while the cores allow it; past
that, the worker's core is shared fairly. Between two ticks the worker answers requests, so
the server never waits for more than one tick. The app holds a :class:`RemoteRun`, a proxy with
the LiveRun methods the page uses, reading a :class:`View` (the latest metrics, banners and the
figures as JSON, built in the worker) fetched once per update. A run that nobody has looked at
for ``IDLE_AFTER_S`` (its tab closed) stops training; a RemoteRun that is garbage collected
closes its run.

The workers are fresh interpreters (never a ``fork`` of a threaded server), joined to the server
by a socket; each imports torch once and warms up (builds, ticks and draws a throw-away run:
0.35-0.45 s once torch is imported, BENCHMARKS.md), so a page opened on a running server finds
them ready. Only the workers import torch: the server imports this module, the controls and the
pace, none of which does. The server starts the pool as it starts (app.py's start-up hook), so
that on a cold server the workers' torch import overlaps the browser's start and the first
page's own work.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the server imports this module first: torch is imported by the workers
    from collapse.recipe import Recipe
    from toy.config import ToyConfig

ROOT = Path(__file__).resolve().parents[1]
IDLE_AFTER_S = 5.0  # a playing run not viewed for this long stops training (a closed tab)
CALL_TIMEOUT_S = 120.0  # a cold worker on a loaded machine takes seconds to import torch
WORKERS_ENV = "CLASSROOM_WORKERS"  # overrides the pool size (default: the usable cores but one)


class PoolError(RuntimeError):
    """A training worker died or did not answer; the message says which and what to do."""


def pool_size() -> int:
    """Worker processes: ``$CLASSROOM_WORKERS`` if set (an integer >= 1), else the usable cores
    but one, at least one.

    The core left over is the server's: Streamlit reruns every session's page in its one
    Python process, so it needs up to a core of its own (and, on the teacher's laptop, the
    projector's browser shares it). With a worker on every core, a class that asks for more
    training than the machine has (ten sessions on two cores) kept every core busy with
    training: a page's Play click did not land within 30 s. Measured end to end in Chromium on
    two cores (BENCHMARKS.md, "Issue 10, third round"), one worker gave each of ten sessions
    28-48 steps/s (19-32 % of a lone session) and 1.4-2.1 updates/s, over five passes.
    """
    value = os.environ.get(WORKERS_ENV)
    if value is None:
        return max(1, len(os.sched_getaffinity(0)) - 1)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{WORKERS_ENV}={value!r} must be an integer >= 1")
    return int(value)


# ---------------------------------------------------------------------------------------------
# What the page reads: a view of a run, built in the worker.


@dataclass(frozen=True)
class SimView:
    """One side of a run as the page shows it (LiveRun.sims[i]'s recipe and steps)."""

    recipe: Recipe
    steps: int


@dataclass(frozen=True)
class View:
    """Everything the page draws for one run at one moment."""

    steps: int
    ticks: int
    playing: bool
    sims: tuple[SimView, ...]
    latest: tuple[dict[str, float], ...]  # LiveRun.latest(i)
    banners: tuple[dict[str, str | None], ...]  # LiveRun.banner(i, r) per representation r
    knn: tuple[tuple[int, float], ...]  # the latest kNN point of each side
    chance: float
    figures: tuple[dict[str, str], ...] = field(default=())  # {area: plotly.js JSON}


# ---------------------------------------------------------------------------------------------
# The worker process.


@dataclass
class _Hosted:
    run: Any  # LiveRun (imported in the worker only)
    playing: bool = False
    due: float = 0.0  # when this run may tick next
    seen: float = 0.0  # when the page last asked for a view
    cache: tuple[object, View] | None = None


def _view(hosted: _Hosted, figure_options: dict[str, object] | None) -> View:
    """The run's view; figures only when ``figure_options`` is given (then cached per state)."""
    from classroom import charts

    run = hosted.run
    key = (run.ticks, run.steps, tuple(s.recipe for s in run.sims), hosted.playing,
           None if figure_options is None else sorted(figure_options.items()))
    if hosted.cache is not None and hosted.cache[0] == key:
        return hosted.cache[1]
    banners = []
    for index in range(len(run.sims)):
        latest = run.latest(index)
        shown = ["z"] + [r for r in ("p",) if f"{r}_std_scaled" in latest]
        banners.append({r: run.banner(index, r) for r in shown})
    figures: tuple[dict[str, str], ...] = ()
    if figure_options is not None:
        figures = tuple({area: json.dumps(spec, separators=(",", ":"), allow_nan=False)
                         for area, spec in charts.live_figures_of(run, i, **figure_options)
                         .items()} for i in range(len(run.sims)))
    view = View(run.steps, run.ticks, hosted.playing,
                tuple(SimView(s.recipe, s.steps) for s in run.sims),
                tuple(dict(run.latest(i)) for i in range(len(run.sims))), tuple(banners),
                tuple(tuple(k[-1]) for k in run.knn), run.chance(), figures)
    hosted.cache = (key, view)
    return view


def _warm_up() -> None:
    """Pay the one-time costs of a first run now (torch's first operations, the first
    figures), not on a student's first page. The update step is toy.optim's, which does not
    import ``torch._dynamo`` as ``torch.optim``'s first use does (1.7-1.8 s, BENCHMARKS.md)."""
    from classroom import charts
    from classroom.controls import DEFAULTS, config_of
    from classroom.live import LiveRun
    from collapse.recipe import preset

    run = LiveRun([preset(DEFAULTS["recipe"])], config_of(DEFAULTS), DEFAULTS["seed"])
    run.tick(budget_s=0.0)
    charts.live_figures_of(run, 0)


def _handle(runs: dict[int, _Hosted], op: str, args: tuple) -> object:
    from classroom.live import LiveRun
    from classroom.pace import TICK_BUDGET_S

    now = time.monotonic()
    if op == "open":
        run_id, recipes, config, seed = args
        runs[run_id] = _Hosted(LiveRun(list(recipes), config, seed), seen=now)
        return _view(runs[run_id], None)
    if op == "stats":
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        return {"pid": os.getpid(), "runs": len(runs), "rss_bytes": rss,
                "playing": sum(h.playing for h in runs.values()),
                "ticks": sum(h.run.ticks for h in runs.values())}
    run_id, *rest = args
    if op == "close":
        runs.pop(run_id, None)
        return None
    hosted = runs.get(run_id)
    if hosted is None:
        raise KeyError(f"run {run_id} is not open in this worker (closed or the worker "
                       "restarted); press Reset")
    hosted.seen = now
    run = hosted.run
    if op == "view":
        return _view(hosted, rest[0])
    if op == "play":
        if rest[0] and not hosted.playing:
            hosted.due = now
        hosted.playing = bool(rest[0])
        return None
    if op == "tick":  # rest: (steps,) from the Step button, exactly that many; () a tick
        run.tick(budget_s=TICK_BUDGET_S, steps=rest[0] if rest else None)
        return _view(hosted, None)
    if op == "set_recipe":
        return run.set_recipe(*rest)
    if op in ("set_optimizer", "csv", "png"):
        return getattr(run, op)(*rest)
    raise ValueError(f"unknown request {op!r}")


def main(argv: list[str]) -> None:
    """A worker process: ``argv[1]`` is its socket's file descriptor, ``argv[2]`` 'warm' or
    'cold', ``argv[3]`` the idle time in seconds after which an unviewed run stops."""
    _serve(Connection(int(argv[1])), argv[2] == "warm", float(argv[3]))


def _serve(conn: Connection, warm: bool, idle_after_s: float = IDLE_AFTER_S) -> None:
    """A worker's loop: answer every pending request, then tick the playing run that is due
    first (or wait for a request until one is due)."""
    import torch

    from classroom.pace import TICK_BUDGET_S, TICKS_PER_S

    torch.set_num_threads(1)
    if warm:
        _warm_up()
    runs: dict[int, _Hosted] = {}
    period = 1 / TICKS_PER_S
    while True:
        now = time.monotonic()
        playing = [h for h in runs.values() if h.playing and now - h.seen < idle_after_s]
        nxt = min(playing, key=lambda h: h.due, default=None)
        wait = None if nxt is None else max(0.0, nxt.due - now)
        try:
            if conn.poll(wait):
                while conn.poll(0):
                    request_id, op, args = conn.recv()
                    try:
                        conn.send((request_id, True, _handle(runs, op, args)))
                    except Exception as error:  # the caller re-raises it
                        conn.send((request_id, False, error))
                continue
        except (EOFError, OSError):  # the server went away
            return
        nxt.run.tick(budget_s=TICK_BUDGET_S)
        nxt.due = max(nxt.due, now - period) + period


# ---------------------------------------------------------------------------------------------
# The server's side.


class _Worker:
    """One worker process and its socket; calls from any thread, answers matched by id."""

    def __init__(self, warm: bool, idle_after_s: float) -> None:
        mine, theirs = socket.socketpair()
        # A fresh interpreter (not multiprocessing's spawn, which re-imports the parent's
        # __main__: streamlit's, pytest's or a script's), sharing only the socket.
        self.process = subprocess.Popen(
            [sys.executable, "-c", "import sys; from classroom.pool import main; main(sys.argv)",
             str(theirs.fileno()), "warm" if warm else "cold", str(idle_after_s)],
            cwd=ROOT, pass_fds=[theirs.fileno()])
        theirs.close()
        self.conn = Connection(mine.detach())
        self.runs = 0  # runs opened here and not closed
        self._send_lock = threading.Lock()
        self._pending: dict[int, list] = {}  # id -> [event, ok, value]
        self._pending_lock = threading.Lock()
        self._ids = itertools.count()
        self.alive = True
        threading.Thread(target=self._read, daemon=True, name="classroom-worker-reader").start()

    def _read(self) -> None:
        while True:
            try:
                request_id, ok, value = self.conn.recv()
            except (EOFError, OSError):
                break
            with self._pending_lock:
                slot = self._pending.pop(request_id, None)
            if slot is not None:
                slot[1:] = [ok, value]
                slot[0].set()
        with self._pending_lock:
            self.alive = False
            slots, self._pending = list(self._pending.values()), {}
        for slot in slots:
            slot[1:] = [False, self._died()]
            slot[0].set()

    def _died(self) -> PoolError:
        try:
            status = self.process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            status = "still running, its socket closed"
        return PoolError(f"training worker {self.process.pid} exited (status {status}); "
                         "press Reset")

    def send(self, op: str, *args: object) -> None:
        """Fire and forget (close: no answer awaited)."""
        with self._send_lock:
            self.conn.send((-1, op, args))

    def call(self, op: str, *args: object, timeout: float = CALL_TIMEOUT_S) -> object:
        slot: list = [threading.Event(), False, None]
        with self._pending_lock:
            if not self.alive:
                raise self._died()
            request_id = next(self._ids)
            self._pending[request_id] = slot
        with self._send_lock:
            self.conn.send((request_id, op, args))
        if not slot[0].wait(timeout):
            with self._pending_lock:
                self._pending.pop(request_id, None)
            raise PoolError(f"training worker {self.process.pid} did not answer {op!r} "
                            f"within {timeout:g} s")
        if not slot[1]:
            raise slot[2]
        return slot[2]

    def stop(self) -> None:
        """Close the socket and end the worker (it holds nothing worth saving)."""
        self.conn.close()
        self.process.terminate()
        self.process.wait()


class Pool:
    """``size`` worker processes; :meth:`worker` names the least busy for a new run.

    The first worker starts at once, the others once it has answered (torch imported, warmed
    up) or a second run is opened, whichever comes first: on a cold server the first page waits
    for one worker only, whose torch import then shares the cores with the server and the
    browser but not with the other workers (BENCHMARKS.md, first picture), and a class opening
    the link at once is still spread over all the workers."""

    def __init__(self, size: int, warm: bool = True, idle_after_s: float = IDLE_AFTER_S) -> None:
        self._args = (warm, idle_after_s)
        self.workers = [_Worker(*self._args)]
        self._lock = threading.Lock()
        self._closed = False
        self._unstarted = size - 1
        threading.Thread(target=self._start_others_once_answered, daemon=True,
                         name="classroom-pool-start").start()

    def _start_others_once_answered(self) -> None:
        with contextlib.suppress(PoolError):  # a dead first worker: start the others anyway
            self.workers[0].call("stats")
        with self._lock:
            self._start_others()

    def _start_others(self) -> None:
        """Start the workers not started yet (called with the lock held)."""
        if not self._closed:
            self.workers += [_Worker(*self._args) for _ in range(self._unstarted)]
            self._unstarted = 0

    def worker(self) -> _Worker:
        """The worker with the fewest open runs (a dead one is replaced first)."""
        with self._lock:
            for i, w in enumerate(self.workers):
                if not w.alive:
                    self.workers[i] = _Worker(*self._args)
            if min(w.runs for w in self.workers) > 0:
                self._start_others()
            chosen = min(self.workers, key=lambda w: w.runs)
            chosen.runs += 1
            return chosen

    def stats(self) -> list[dict[str, int]]:
        """Per worker: pid, open runs, playing runs, ticks of its runs, resident memory in
        bytes."""
        return [w.call("stats") for w in self.workers]

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for w in self.workers:
                w.stop()


_POOL: Pool | None = None
_POOL_LOCK = threading.Lock()


def shared_pool() -> Pool:
    """This process's pool, started on first use with :func:`pool_size` workers."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = Pool(pool_size())
        return _POOL


def start_shared_pool() -> str | None:
    """Start :func:`shared_pool` now; the one-line reason it cannot (a bad
    ``$CLASSROOM_WORKERS``), else None. The app shows the reason instead of a traceback."""
    try:
        shared_pool()
    except ValueError as error:
        return str(error)
    return None


_run_ids = itertools.count()


def _close(worker: _Worker, run_id: int) -> None:
    worker.runs -= 1
    if worker.alive:
        with contextlib.suppress(OSError):
            worker.send("close", run_id)


class RemoteRun:
    """A session's :class:`~classroom.live.LiveRun`, hosted in a worker of ``pool`` (default:
    :func:`shared_pool`). The page calls :meth:`refresh` once per update and reads the rest
    from the :class:`View` it fetched; :meth:`play` starts and stops the worker's ticking."""

    def __init__(self, recipes: list[Recipe], config: ToyConfig, seed: int,
                 pool: Pool | None = None) -> None:
        self.config, self.seed = config, seed
        self._worker = (pool or shared_pool()).worker()
        self._id = next(_run_ids)
        self._closer = weakref.finalize(self, _close, self._worker, self._id)
        self._optimizer: tuple[float, float] | None = None
        self.view: View = self._worker.call("open", self._id, tuple(recipes), config, seed)

    def _call(self, op: str, *args: object) -> object:
        return self._worker.call(op, self._id, *args)

    # Actions.
    def play(self, playing: bool) -> None:
        """Start or stop training in the worker (sent only when it changes)."""
        if playing != self.view.playing:
            self._call("play", playing)
            self.view = self._call("view", None)

    def tick(self, steps: int | None = None) -> None:
        """One tick now, or exactly ``steps`` steps (the Step button)."""
        self.view = self._call("tick", *(() if steps is None else (steps,)))

    def refresh(self, **figure_options: object) -> View:
        """Fetch the latest view with the figures (``charts.live_figures_of``'s options)."""
        self.view = self._call("view", figure_options)
        return self.view

    def set_recipe(self, index: int, recipe: Recipe) -> bool:
        switched = bool(self._call("set_recipe", index, recipe))
        if switched:
            self.view = self._call("view", None)
        return switched

    def set_optimizer(self, lr: float, weight_decay: float) -> None:
        if self._optimizer != (lr, weight_decay):
            self._call("set_optimizer", lr, weight_decay)
            self._optimizer = (lr, weight_decay)

    def close(self) -> None:
        self._closer()

    # Exports (computed in the worker).
    def csv(self, index: int) -> str:
        return self._call("csv", index)

    def png(self, index: int, what: str) -> bytes:
        return self._call("png", index, what)

    # What the page reads, from the last view.
    @property
    def steps(self) -> int:
        return self.view.steps

    @property
    def ticks(self) -> int:
        return self.view.ticks

    @property
    def sims(self) -> tuple[SimView, ...]:
        return self.view.sims

    @property
    def knn(self) -> list[list[tuple[int, float]]]:
        """The latest kNN point of each side, as ``knn[i][-1] == (step, accuracy)``."""
        return [[point] for point in self.view.knn]

    def latest(self, index: int) -> dict[str, float]:
        return self.view.latest[index]

    def banner(self, index: int, representation: str = "z") -> str | None:
        banners = self.view.banners[index]
        return banners.get(representation, banners["z"])

    def chance(self) -> float:
        return self.view.chance

    def figures(self, index: int) -> dict[str, str]:
        """Side ``index``'s figures as plotly.js JSON, from the last :meth:`refresh`."""
        return self.view.figures[index]
