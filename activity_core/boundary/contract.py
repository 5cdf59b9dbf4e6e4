"""The output contract a definition declares: framing, item model, ranking, item cap, guardrails.

These are the knobs of the producer trust boundary. The defaults are the safe ones; a
definition may tighten or (within hard maxima) loosen them. ``item_schema`` and ``ranking``
are names: the definition's kind resolves them to an ``ItemSpec`` and a ``Ranking`` (and
refuses unknown ones when the definition is loaded).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

HARD_MAX_ITEMS = 20
DEFAULT_SUMMARY_CHARS = 2000

Framing = Literal["ndjson", "document"]


class BoundaryLimits(BaseModel):
    """Guardrails checked before any expensive work, so hostile input costs little."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_total_bytes: int = Field(default=256 * 1024, ge=1)
    max_line_bytes: int = Field(default=16 * 1024, ge=1)
    max_depth: int = Field(default=8, ge=1, le=64)
    max_string_lengths: dict[str, Annotated[int, Field(ge=1)]] = Field(
        default_factory=dict,
        description=(
            "Maximum characters per text field, by field name: the envelope's summary "
            f"(default {DEFAULT_SUMMARY_CHARS}) or a top-level text field of the item model (its own "
            "defaults apply to the fields not named here). Longer values quarantine the unit."
        ),
    )
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

    framing: Framing = Field(
        default="ndjson",
        description=(
            "ndjson: one JSON object per line (envelope, items, trailer), the item schema in the prompt; "
            "document: one whole-report JSON document sent to llm-connect as model_params.json_schema. "
            "Either way the boundary reads whatever framing the answer has, unit by unit."
        ),
    )
    item_schema: str = Field(min_length=1, description="The registered item model, e.g. report-item.v1.")
    ranking: str | None = Field(
        default=None, description="The registered ranking of accepted items; none keeps the producer's order."
    )
    top_n: int = Field(default=7, ge=1, le=HARD_MAX_ITEMS)
    limits: BoundaryLimits = Field(default_factory=BoundaryLimits)
