"""The guided path through the paper: each lesson loads a preset, says what to watch, asks one
question. Lesson n is also a link: ``?lesson=n``.

Each lesson also states its outcome as data (:attr:`Lesson.outcome`, the state of the shown
representation on each side after :attr:`Lesson.watch_s` seconds of play), so a test can play
it for that long and check that the class sees what the text says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from classroom.pace import STEPS_PER_TICK, TICKS_PER_S

# Training steps per second a class sees in a lesson (two recipes side by side): at most the
# class pace (classroom.pace: 15 steps a tick, 10 ticks a second), at least 25 (700-950 steps in
# 25 s were measured in Chromium on a busy machine before the pace, issue 10). A lesson's outcome
# must hold over the whole range.
CLASSROOM_STEPS_PER_S = (25, STEPS_PER_TICK * TICKS_PER_S)

Outcome = Literal["collapsed", "spread"]  # the banner's two readings: collapsed or not


@dataclass(frozen=True)
class Lesson:
    title: str
    section: str  # where in the paper
    settings: dict[str, object]  # control values the lesson sets (a preset, compare, dim, ...)
    watch: str
    question: str
    outcome: tuple[Outcome, Outcome]  # left, right, as the banners show them (shown repr.)
    watch_s: float = 10.0  # seconds of play after which the text's outcome shows


LESSONS: tuple[Lesson, ...] = (
    Lesson("1. Collapse", "§1, Fig. 1",
           {"recipe": "no-stop-gradient", "compare": "simsiam", "dim": 3},
           "Left: SimSiam without stop-gradient. Within seconds every point runs to the tip of "
           "the arrow o: |o|² fills the energy panel, std·√d drops to 0 and the red banner "
           "appears. Right: SimSiam stays spread over the sphere.",
           "Both models minimise the same distance between two views. Why is sending every "
           "input to the same point a perfect solution for the left one?",
           ("collapsed", "spread"), watch_s=5.0),
    Lesson("2. Refuting the EOA story", "§2, Table 1",
           {"recipe": "eoa-target", "compare": "simsiam", "dim": 3},
           "Left: the target is the explicit average over 8 augmentations, the quantity "
           "SimSiam's predictor was said to approximate. It collapses; SimSiam does not.",
           "If the predictor only approximated this average, what should SimSiam do? What does "
           "this tell you about the EOA explanation?", ("collapsed", "spread")),
    Lesson("3. Center and residual", "§3, Fig. 4",
           {"recipe": "center-dummy", "compare": "residual-dummy", "dim": 3},
           "Z = o + r. Left: a loss that pulls each Z towards the center o: m_o = |o| → 1. "
           "Right: a loss that pulls each Z along its own residual r: |o| → 0, the points "
           "spread.",
           "Which component of a gradient, the one along o or the one along r, makes a "
           "representation collapse?", ("collapsed", "spread")),
    Lesson("4. Basic and extra gradient", "§3, Table 4",
           {"recipe": "simsiam-no-extra", "compare": "simsiam", "dim": 3, "view": "P"},
           "The pictures show P = p/|p|, the predictor's output. Left: SimSiam's gradient with "
           "the extra part G_e = Z_b − P_b removed (only the basic gradient P_b is left): P "
           "collapses to a point within seconds, while Z hardly moves (set 'Picture shows' to "
           "Z). Right: full SimSiam, P stays spread. Compare the gradient bars.",
           "The basic gradient pulls P_a to P_b. What does the extra gradient Z_b − P_b add, and "
           "why is that enough?", ("collapsed", "spread")),
    Lesson("5. Negatives", "§3–4, Table 3",
           {"recipe": "triplet-center", "compare": "triplet-residual", "dim": 3},
           "A triplet loss adds −Z_n. Left: keep only its center part o_e (−o): no collapse. "
           "Right: keep only its residual part r_e: collapse. Then pick the infonce preset and "
           "move τ: the −o/τ (de-centering) and −Σλr/τ (de-correlation) bars change.",
           "Negatives are said to 'push samples apart'. Which part of their gradient actually "
           "prevents collapse?", ("spread", "collapsed")),
    Lesson("6. SimSiam's o_e and r_e", "§3, Table 4, Fig. 5a",
           {"recipe": "simsiam-center", "compare": "simsiam-residual", "dim": 3},
           "Gradient surgery on SimSiam: left keeps only the center part o_e of Z_b − P_b, right "
           "only the residual part r_e. Both avoid collapse. Watch the η = o_e·o/|o|² panel: "
           "below 0, o_e points against the center (the paper: o_e ≈ −0.5·o_p early in "
           "training).",
           "SimSiam has no negatives. Where does its de-centering come from?",
           ("spread", "spread")),
    Lesson("7. The bias-only predictor", "§5",
           {"recipe": "bias-predictor", "compare": "no-predictor", "dim": 3,
            "augmentation": 0.15},
           "Left: the predictor is a single learnable vector, h(Z) = Z + b. Right: no predictor. "
           "Within seconds the right side collapses (red banner) and the left stays spread: the "
           "bias alone prevents complete collapse (its effective rank stays below 3). The "
           "lesson uses weak augmentation (0.15): at the default 1.0 both sides collapse "
           "first, and the bias side comes back only after about 900 steps.",
           "Why can a single vector b, the same for every sample, supply de-centering?",
           ("spread", "collapsed")),
)


def lesson(number: int) -> Lesson:
    """Lesson ``number`` (1-based); ``ValueError`` naming the valid range."""
    if not 1 <= number <= len(LESSONS):
        raise ValueError(f"lesson={number} is not in 1..{len(LESSONS)}")
    return LESSONS[number - 1]
