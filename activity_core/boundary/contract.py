"""The output contract a definition declares: framing, item schema, item cap, guardrails.

These are the knobs of the producer trust boundary. The defaults are the safe ones; a
definition may tighten or (within hard maxima) loosen them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

HARD_MAX_ITEMS = 20


class StringLimits(BaseModel):
    """Maximum characters per text field; longer values quarantine the item."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    summary: int = Field(default=2000, ge=1)
    candidate: int = Field(default=128, ge=1)
    title: int = Field(default=300, ge=1)
    rationale: int = Field(default=2000, ge=1)
    next_action: int = Field(default=600, ge=1)


class BoundaryLimits(BaseModel):
    """Guardrails checked before any expensive work, so hostile input costs little."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_total_bytes: int = Field(default=256 * 1024, ge=1)
    max_line_bytes: int = Field(default=16 * 1024, ge=1)
    max_depth: int = Field(default=8, ge=1, le=64)
    max_string_lengths: StringLimits = Field(default_factory=StringLimits)
    max_quarantine_entries: int = Field(
        default=64,
        ge=1,
        le=100_000,
        description=(
            "Once this many entries are quarantined the rest of the answer is quarantined as one "
            "range, so mostly-junk output costs bounded work and yields a bounded result."
        ),
    )


class OutputContract(BaseModel):
    """The ``output:`` section of an activity definition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    framing: Literal["ndjson"] = "ndjson"
    item_schema: Literal["report-item.v1"] = "report-item.v1"
    top_n: int = Field(default=7, ge=1, le=HARD_MAX_ITEMS)
    limits: BoundaryLimits = Field(default_factory=BoundaryLimits)
