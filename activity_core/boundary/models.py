"""The report framing's own contract models, and the building blocks item models use.

The envelope (``report-envelope.v1``) and the trailer (``report-trailer.v1``) frame any
report, whatever its items are; an item model (registered by a definition kind, see
``spec.ItemSpec``) describes what one item says. All of them are pydantic models, the single
source of truth: the committed JSON Schemas are generated from them (``schemas.py``) and the
boundary's fast decoder is compiled from them (``compiled.py``).

Everything is strict: no coercion (``"3"`` and ``3.0`` are not the integer 3), no unknown
keys, no non-finite numbers. Per-definition guardrails (string lengths, the item cap) are not
here: they vary by definition while a schema is one version for all.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from activity_core.boundary.contract import HARD_MAX_ITEMS

# C0 controls except TAB and LF, DEL, C1 controls, and the bidirectional overrides and
# isolates that make text render differently from what it says.
TEXT_PATTERN = r"^[^\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]*$"

Text = Annotated[str, Field(min_length=1, pattern=TEXT_PATTERN)]
"""Producer text: not empty, no control or bidirectional-override characters. The boundary
checks this pattern with a pre-scan of the raw line rather than per field (see ``scan.py``)."""
ItemCount = Annotated[int, Field(ge=0, le=HARD_MAX_ITEMS)]
IsoDate = Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]


class ContractModel(BaseModel):
    """Base of every contract model, item models included: strict, closed, immutable."""

    # cache_strings: report values are nearly all distinct; caching them costs more than it saves.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, cache_strings=False)


class Envelope(ContractModel):
    """report-envelope.v1: the first line of the report."""

    type: Literal["summary"]
    date: IsoDate
    summary: Text
    item_count: ItemCount


class Trailer(ContractModel):
    """report-trailer.v1: the last line; a report without it was cut off."""

    type: Literal["end"]
    item_count: ItemCount


# What each kind of line calls itself in its ``type`` field.
ENVELOPE_TAG, ITEM_TAG, TRAILER_TAG = "summary", "item", "end"
# The whole-report document (``output.framing: document``) holds its items under this key.
DOCUMENT_ITEMS_KEY = "items"
