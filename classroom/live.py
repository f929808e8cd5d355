"""What one browser session trains: one recipe, or two side by side in lock-step.

A :class:`LiveRun` wraps toy Simulations (the same training loop as ``python -m toy.run``) and
adds only what a live picture needs: a bounded amount of work per tick (the class pace,
:data:`STEPS_PER_TICK`, or fewer where the measured step time does not allow it), a bounded
history of the latest metrics as plain floats (so a redraw needs no pass over the Simulation's
tensors), a kNN curve sampled every few ticks,
the collapse banner's state, and exports. Each session's LiveRun lives in a training worker
process (classroom/pool.py), which shares its core among its sessions' ticks; nothing of the
training is shared between sessions.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque

from classroom.pace import STEPS_PER_TICK, TICK_BUDGET_S
from collapse.criterion import collapse_state
from collapse.recipe import Recipe, name_of
from toy.plots import plot_curves, plot_representations
from toy.train import Simulation, ToyConfig

HISTORY = 400  # records kept per run: memory stays flat over a long lesson
KNN_EVERY = 10  # ticks between two kNN evaluations
GRADIENT_BARS = {  # recorded key: (bar label, kind)
    "grad_basic_norm": ("basic  B", "basic"),
    "grad_extra_center_norm": ("extra, center  |o_e|", "center"),
    "grad_extra_residual_norm": ("extra, residual  mean|r_e|", "residual"),
    "grad_infonce_decentering": ("InfoNCE  |o|/τ", "decentering"),
    "grad_infonce_decorrelation": ("InfoNCE  mean|Σλr|/τ", "decorrelation"),
}

class LiveRun:
    """One or two Simulations on the same data and seed, stepped together."""

    def __init__(self, recipes: list[Recipe], config: ToyConfig, seed: int) -> None:
        self.config, self.seed = config, seed
        self.sims = [Simulation(r, config, (seed,), max_history=HISTORY) for r in recipes]
        self.records: list[deque[dict[str, float]]] = [deque(maxlen=HISTORY) for _ in recipes]
        self.knn: list[deque[tuple[int, float]]] = [deque(maxlen=HISTORY) for _ in recipes]
        self.lock = threading.Lock()  # exports may run on another thread than the ticks
        self.step_time = 3e-3 * len(recipes)  # seconds per lock-step, refined by measurement
        self.ticks = 0
        self.was_collapsed: list[dict[str, bool]] = [{} for _ in recipes]  # per "z", "p"
        for index, sim in enumerate(self.sims):
            self._record(index)
            self.knn[index].append((0, sim.knn()[0]))

    @property
    def steps(self) -> int:
        return self.sims[0].steps

    def _record(self, index: int) -> None:
        row = self.sims[index].record()
        self.records[index].append({k: float(v.reshape(-1)[0]) for k, v in row.items()})

    def tick(self, budget_s: float | None = None, steps: int | None = None) -> int:
        """Train every run for the same number of steps, record; return the steps: exactly
        ``steps``, else :data:`STEPS_PER_TICK` or as many as fit in ``budget_s`` seconds of
        this thread's CPU time (default: :data:`TICK_BUDGET_S`) if fewer: the workers train with
        one torch thread, so that is all of a tick's computing."""
        if budget_s is None:
            budget_s = TICK_BUDGET_S
        k = steps or max(1, min(STEPS_PER_TICK, int(budget_s / self.step_time)))
        with self.lock:
            # The step time is this thread's CPU time, not the wall clock: on a busy machine the
            # wall clock also counts the time other processes held the core, and a tick then
            # trained fewer steps exactly when the class was large (issue 10; with 10 ms of
            # waiting per step, the wall clock gave ticks of 15, 9, 7, 6 steps: test_live.py).
            # So a tick's wall time is no longer bounded on a busy machine; Pause waits for at
            # most one tick (measured: within 0.37 s, BENCHMARKS.md).
            start = time.thread_time()
            for sim in self.sims:
                sim.step(k)
            self.step_time = 0.7 * self.step_time + 0.3 * (time.thread_time() - start) / k
            for index in range(len(self.sims)):
                self._record(index)
            self.ticks += 1
            if self.ticks % KNN_EVERY == 0:
                for sim, knn in zip(self.sims, self.knn, strict=True):
                    knn.append((sim.steps, sim.knn()[0]))
        return k

    def set_recipe(self, index: int, recipe: Recipe) -> bool:
        """Switch run ``index`` to ``recipe`` without losing its weights, if it uses the same
        modules (e.g. turn stop-gradient off mid-run); False means a reset is needed."""
        try:
            with self.lock:
                self.sims[index].set_recipe(recipe)
        except ValueError:
            return False
        return True

    def set_optimizer(self, lr: float, weight_decay: float) -> None:
        for sim in self.sims:
            for group in sim.optimizer.param_groups:
                group["lr"], group["weight_decay"] = lr, weight_decay

    def latest(self, index: int) -> dict[str, float]:
        """The last record of run ``index`` as floats."""
        return self.records[index][-1]

    def series(self, index: int) -> dict[str, list[float]]:
        """The kept records of run ``index`` as ``{metric: [value per record]}`` (NaN where a
        record lacks the metric, e.g. the gradients before the first step)."""
        rows = list(self.records[index])
        keys = {k for row in rows for k in row}
        return {k: [row.get(k, float("nan")) for row in rows] for k in sorted(keys)}

    def shows(self, index: int, representation: str = "z") -> str:
        """The representation run ``index`` can show: ``representation`` ("z" or "p"), or "z"
        where the recipe has no predictor."""
        return representation if f"{representation}_std_scaled" in self.latest(index) else "z"

    def state(self, index: int, representation: str = "z") -> str:
        """The shared collapse criterion on the latest record of Z (or of P: "p")."""
        row, v = self.latest(index), self.shows(index, representation)
        return collapse_state(row[f"{v}_std_scaled"], row[f"{v}_effective_rank"],
                              self.config.dim)

    def banner(self, index: int, representation: str = "z") -> str | None:
        """'collapsed', 'recovered' (it was collapsed and no longer is) or None."""
        v = self.shows(index, representation)
        collapsed = self.state(index, v) == "collapsed"
        was = self.was_collapsed[index].get(v, False)
        recovered = was and not collapsed
        self.was_collapsed[index][v] = was or collapsed
        if collapsed:
            return "collapsed"
        return "recovered" if recovered else None

    def gradient_parts(self, index: int) -> dict[str, tuple[str, float]]:
        """The gradient bars of the latest record: ``{label: (kind, magnitude)}``."""
        row = self.latest(index)
        return {label: (kind, row[key]) for key, (label, kind) in GRADIENT_BARS.items()
                if key in row}

    def chance(self) -> float:
        return 1 / self.sims[0].num_classes

    def csv(self, index: int) -> str:
        """The metric history of run ``index`` as CSV (one row per record)."""
        with self.lock:
            curves = self.series(index)
        keys = ["step", *sorted(k for k in curves if k != "step")]
        lines = [",".join(keys)]
        for i in range(len(curves["step"])):
            lines.append(",".join(f"{curves[k][i]:.6g}" for k in keys))
        return "\n".join(lines) + "\n"

    def png(self, index: int, what: str) -> bytes:
        """A static matplotlib export of run ``index``: 'representations' or 'curves'."""
        if what not in ("representations", "curves"):
            raise ValueError(f"what={what!r} is not 'representations' or 'curves'")
        sim = self.sims[index]
        buffer = io.BytesIO()
        with self.lock:
            title = f"{name_of(sim.recipe)}, d = {self.config.dim}, step {sim.steps}"
            if what == "representations":
                z, _ = sim.representations()
                plot_representations(z[0], sim.test_y[0], buffer, title)
            else:
                plot_curves(sim.curves(), buffer, title, self.config.dim)
        return buffer.getvalue()
