"""WSJF as the boundary computes it: the producer's score is a claim, never an input.

A model that miscounts (or a producer that wants an item on top) cannot move an item by
writing a bigger ``score``: the order follows the components.
"""

from __future__ import annotations

from activity_core.boundary.models import Wsjf
from activity_core.boundary.result import AcceptedItem

# A claim within this of the exact value is consistent: one decimal, rounded.
SCORE_TOLERANCE = 0.05
SCORE_DECIMALS = 2
# Distinct scores (sums up to 60 over sizes up to 20) differ by at least 1/400, so scaling
# by this before adding the rank (at most 20) keeps scores first and ranks second in one
# float: the sort then compares floats, not tuples.
_SCORE_WEIGHT = 100_000


def assess(wsjf: Wsjf, rank: int) -> tuple[float, bool, float]:
    """The score the result shows (rounded), whether the producer's claim is inconsistent with
    its components, and the sort key: best exact score first, then the producer's rank (a
    stable sort keeps input order last)."""
    exact = (wsjf.business_value + wsjf.time_criticality + wsjf.risk_reduction) / wsjf.job_size
    claim = wsjf.score
    mismatch = claim is not None and abs(claim - exact) > SCORE_TOLERANCE + 1e-9
    return round(exact, SCORE_DECIMALS), mismatch, rank - exact * _SCORE_WEIGHT


def ordered(items: list[AcceptedItem], keys: list[float]) -> list[AcceptedItem]:
    return [items[i] for i in sorted(range(len(items)), key=keys.__getitem__)]
