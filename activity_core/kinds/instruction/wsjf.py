"""The daily triage's item: a WSJF-ranked recommendation (``report-item.v1``), and its ranking.

WSJF (weighted shortest job first) is (business value + time criticality + risk reduction) /
job size. The producer's ``score`` is a claim, never an input: the ``wsjf`` ranking recomputes
it from the components, orders by the exact value, and flags a claim that disagrees. A model
that miscounts (or a producer that wants an item on top) cannot move an item by writing a
bigger ``score``, and a claim outside the formula's range is kept and flagged like any other
wrong claim: the components, not the claim, decide whether the item is valid.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from activity_core.boundary import HARD_MAX_ITEMS, Assessment, ContractModel, ItemSpec, Ranking, Text

Component = Annotated[int, Field(ge=1, le=20)]

# A claim within this of the exact value is consistent: one decimal, rounded.
# (20 + 20 + 20) / 1: no item's computed score exceeds it.
MAX_WSJF_SCORE = 60
SCORE_TOLERANCE = 0.05
SCORE_DECIMALS = 2
# Distinct scores (sums up to 60 over sizes up to 20) differ by at least 1/400, so scaling
# by this before adding the rank (at most 20) keeps scores first and ranks second in one
# float: the sort then compares floats, not tuples.
_SCORE_WEIGHT = 100_000


class Wsjf(ContractModel):
    """WSJF components, each an integer 1-20 on the modified Fibonacci scale 1, 2, 3, 5, 8, 13, 20."""

    business_value: Component
    time_criticality: Component
    risk_reduction: Component
    job_size: Component
    score: float | None = Field(
        default=None,
        allow_inf_nan=False,
        description="The producer's own (business_value + time_criticality + risk_reduction) / job_size; "
        "kept as a claim, the boundary recomputes it and flags a mismatch.",
    )


class Recommendation(ContractModel):
    """One ranked recommendation: an item line without its framing, or a document element."""

    rank: int = Field(ge=1, le=HARD_MAX_ITEMS)
    candidate: Text = Field(description="A State Hub workstream or task id, copied exactly.")
    title: Text
    wsjf: Wsjf
    rationale: Text
    next_action: Text


REPORT_ITEM = ItemSpec(
    schema_id="report-item.v1",
    model=Recommendation,
    reference_fields=("candidate",),
    document_schema_id="report-document.v1",
    string_limits={"candidate": 128, "title": 300, "rationale": 2000, "next_action": 600},
    legacy_key="recommendations",
    legacy_schema_id="legacy-report.v1",
)


def exact_score(wsjf: Wsjf) -> float:
    return (wsjf.business_value + wsjf.time_criticality + wsjf.risk_reduction) / wsjf.job_size


def _claim_disagrees(claim: float | None, exact: float) -> bool:
    return claim is not None and not abs(claim - exact) <= SCORE_TOLERANCE + 1e-9


def assess(item: Recommendation) -> Assessment:
    """The sort key (best exact score first, then the producer's rank; a stable sort keeps input
    order last) and whether the producer's claimed score is inconsistent with its components."""
    wsjf = item.wsjf
    exact = (wsjf.business_value + wsjf.time_criticality + wsjf.risk_reduction) / wsjf.job_size
    return item.rank - exact * _SCORE_WEIGHT, _claim_disagrees(wsjf.score, exact)


def computed(item: Recommendation) -> dict[str, Any]:
    """The score the result shows (rounded) and whether the claim disagrees with it."""
    exact = exact_score(item.wsjf)
    return {"computed_score": round(exact, SCORE_DECIMALS), "score_mismatch": _claim_disagrees(item.wsjf.score, exact)}


WSJF = Ranking(
    name="wsjf",
    assess=assess,
    computed=computed,
    computed_fields=("computed_score", "score_mismatch"),
    applies_to=Recommendation,
)
