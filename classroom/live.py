"""What one browser session trains: one recipe, or two side by side in lock-step.

A :class:`LiveRun` wraps toy Simulations (the same training loop as ``python -m toy.run``) and
adds only what a live picture needs: a bounded amount of work per tick (the number of steps
adapts to the measured step time), a bounded history, a kNN curve sampled every few ticks, the
collapse banner's state, and exports. The app keeps one LiveRun per session in
``st.session_state``; nothing is shared between sessions.
"""

from __future__ import annotations

import io
import threading
import time
from collections import deque

from collapse.criterion import collapse_state
from collapse.recipe import Recipe, name_of
from toy.plots import plot_curves, plot_representations
from toy.train import Simulation, ToyConfig

TICK_BUDGET_S = 0.04  # training time per tick and per run: leaves room to draw at >= 10 ticks/s
MAX_STEPS_PER_TICK = 50
HISTORY = 400  # records kept per run: memory stays flat over a long lesson
KNN_EVERY = 10  # ticks between two kNN evaluations
GRADIENT_BARS = {
    "grad_basic_norm": "basic  B",
    "grad_extra_center_norm": "extra, center  |o_e|",
    "grad_extra_residual_norm": "extra, residual  mean|r_e|",
    "grad_infonce_decentering": "InfoNCE  |o|/τ",
    "grad_infonce_decorrelation": "InfoNCE  mean|Σλr|/τ",
}


class LiveRun:
    """One or two Simulations on the same data and seed, stepped together."""

    def __init__(self, recipes: list[Recipe], config: ToyConfig, seed: int) -> None:
        self.config, self.seed = config, seed
        self.sims = [Simulation(r, config, (seed,), max_history=HISTORY) for r in recipes]
        self.knn: list[deque[tuple[int, float]]] = [deque(maxlen=HISTORY) for _ in recipes]
        self.lock = threading.Lock()  # exports run on another thread than the ticks
        self.step_time = 2e-3 * len(recipes)  # seconds per lock-step, refined by measurement
        self.ticks = 0
        self.was_collapsed = [False] * len(recipes)
        for sim, knn in zip(self.sims, self.knn, strict=True):
            sim.record()
            knn.append((0, sim.knn()[0]))

    @property
    def steps(self) -> int:
        return self.sims[0].steps

    def tick(self, budget_s: float = TICK_BUDGET_S) -> int:
        """Train for about ``budget_s`` seconds per run and record; return the steps taken."""
        k = max(1, min(MAX_STEPS_PER_TICK, int(budget_s * len(self.sims) / self.step_time)))
        start = time.perf_counter()
        with self.lock:
            for sim in self.sims:
                sim.step(k)
                sim.record()
            self.ticks += 1
            if self.ticks % KNN_EVERY == 0:
                for sim, knn in zip(self.sims, self.knn, strict=True):
                    knn.append((sim.steps, sim.knn()[0]))
        self.step_time = 0.7 * self.step_time + 0.3 * (time.perf_counter() - start) / k
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
        return {k: float(v.reshape(-1)[0]) for k, v in self.sims[index].history[-1].items()}

    def state(self, index: int) -> str:
        """The shared collapse criterion on the latest record of Z."""
        row = self.latest(index)
        return collapse_state(row["z_std_scaled"], row["z_effective_rank"], self.config.dim)

    def banner(self, index: int) -> str | None:
        """'collapsed', 'recovered' (it was collapsed and no longer is) or None."""
        collapsed = self.state(index) == "collapsed"
        recovered = self.was_collapsed[index] and not collapsed
        self.was_collapsed[index] = self.was_collapsed[index] or collapsed
        if collapsed:
            return "collapsed"
        return "recovered" if recovered else None

    def gradient_parts(self, index: int) -> dict[str, float]:
        row = self.latest(index)
        return {label: row[key] for key, label in GRADIENT_BARS.items() if key in row}

    def chance(self) -> float:
        return 1 / self.sims[0].num_classes

    def csv(self, index: int) -> str:
        """The metric history of run ``index`` as CSV (one row per record)."""
        with self.lock:
            curves = self.sims[index].curves()
        keys = ["step", *sorted(k for k in curves if k != "step")]
        lines = [",".join(keys)]
        for i in range(len(curves["step"])):
            lines.append(",".join(f"{curves[k][i][0]:.6g}" for k in keys))
        return "\n".join(lines) + "\n"

    def png(self, index: int, what: str) -> bytes:
        """A static matplotlib export of run ``index``: 'representations' or 'curves'."""
        sim = self.sims[index]
        buffer = io.BytesIO()
        title = f"{name_of(sim.recipe)}, d = {self.config.dim}, step {sim.steps}"
        with self.lock:
            if what == "representations":
                z, _ = sim.representations()
                plot_representations(z[0], sim.test_y[0], buffer, title)
            else:
                plot_curves(sim.curves(), buffer, title, self.config.dim)
        return buffer.getvalue()
