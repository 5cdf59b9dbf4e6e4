"""The report contract (report-*.v1) as pydantic models: the single source of truth.

The parser validates with these models (pydantic-core's strict JSON validation costs about
what ``json.loads`` does, where a jsonschema validator costs twenty times more), and the JSON
Schemas in ``schemas/`` are generated from them (``schemas.py``), so what the files promise
and what the code enforces cannot drift apart.

Everything is strict: no coercion (``"3"`` and ``3.0`` are not the integer 3), no unknown
keys, no non-finite numbers. Per-definition guardrails (string lengths, the item cap) are not
here: they vary by definition while the schema is one version for all.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from activity_core.boundary.contract import HARD_MAX_ITEMS

# C0 controls except TAB and LF, DEL, C1 controls, and the bidirectional overrides and
# isolates that make text render differently from what it says.
TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"

Text = Annotated[str, Field(min_length=1, pattern=TEXT_PATTERN)]
Component = Annotated[int, Field(ge=1, le=20)]
ItemCount = Annotated[int, Field(ge=0, le=HARD_MAX_ITEMS)]

# (20 + 20 + 20) / 1: no consistent claim can exceed it.
MAX_WSJF_SCORE = 60
# No valid unit nests deeper than an item's wsjf object (a legacy envelope is judged with its
# array emptied); a test holds the models to it.
CONTRACT_DEPTH = 2


class _Contract(BaseModel):
    # cache_strings: report values are nearly all distinct; caching them costs more than it saves.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, cache_strings=False)


class Wsjf(_Contract):
    """WSJF components, each an integer 1-20 on the modified Fibonacci scale 1, 2, 3, 5, 8, 13, 20."""

    business_value: Component
    time_criticality: Component
    risk_reduction: Component
    job_size: Component
    score: float | None = Field(
        default=None,
        ge=0,
        le=MAX_WSJF_SCORE,
        allow_inf_nan=False,
        description="The producer's own (business_value + time_criticality + risk_reduction) / job_size; "
        "kept as a claim, the boundary recomputes it.",
    )


class Recommendation(_Contract):
    """One ranked recommendation: a legacy recommendations element, or an item without its framing."""

    rank: int = Field(ge=1, le=HARD_MAX_ITEMS)
    candidate: Text = Field(description="A State Hub workstream or task id, copied exactly.")
    title: Text
    wsjf: Wsjf
    rationale: Text
    next_action: Text


class ReportItem(Recommendation):
    """report-item.v1: one line of the item-framed report."""

    type: Literal["item"]


class Envelope(_Contract):
    """report-envelope.v1: the first line of the report."""

    type: Literal["summary"]
    date: str = Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    summary: Text
    item_count: ItemCount


class Trailer(_Contract):
    """report-trailer.v1: the last line; a report without it was cut off."""

    type: Literal["end"]
    item_count: ItemCount


class LegacyReport(_Contract):
    """legacy-report.v1: the monolithic document the model wrote before item framing."""

    summary: Text
    recommendations: list[Recommendation]


# What each kind of line calls itself in its ``type`` field.
ENVELOPE_TAG, ITEM_TAG, TRAILER_TAG = "summary", "item", "end"
