"""One collapse criterion for every claim, the app's banner and full/'s logs.

Applied to whichever representation a claim names (the encoder output Z or the prediction P):

- **collapsed** (complete collapse, paper §3): ``std(Z) * sqrt(d) < COLLAPSED_STD_SCALED``.
  A healthy isotropic Z has std ~ 1/sqrt(d), i.e. ``std * sqrt(d) ~ 1``; a collapsed one -> 0.
  Since ``|o|^2 + mean |r|^2 = 1``, this is also ``m_o`` close to 1.
- **dimensional** collapse (Jing et al. 2022): spread, but the effective rank is below
  ``DIMENSIONAL_RANK_FRACTION * d``; std and m_o cannot see it.
- **healthy** otherwise.

The thresholds are ours (the paper gives none): set once, before the claims were run.
"""

from __future__ import annotations

from typing import Literal

COLLAPSED_STD_SCALED = 0.3
DIMENSIONAL_RANK_FRACTION = 0.25

State = Literal["collapsed", "dimensional", "healthy"]


def collapse_state(std_scaled: float, effective_rank: float, dim: int) -> State:
    """Classify a representation from ``std * sqrt(d)`` and its effective rank."""
    if std_scaled < COLLAPSED_STD_SCALED:
        return "collapsed"
    if effective_rank < DIMENSIONAL_RANK_FRACTION * dim:
        return "dimensional"
    return "healthy"
