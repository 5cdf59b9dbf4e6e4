"""The producer trust boundary: pure functions from untrusted model output to a BoundaryResult.

See docs/adr/adr-004-producer-trust-boundary.md for why, docs/output-contract.md for the
report contract and the quarantine reasons.
"""

from activity_core.boundary.contract import HARD_MAX_ITEMS, BoundaryLimits, OutputContract, StringLimits
from activity_core.boundary.parser import parse_report
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.result import AcceptedItem, BoundaryResult, Counts, QuarantinedItem
from activity_core.boundary.schemas import item_schema_for_prompt

__all__ = [
    "HARD_MAX_ITEMS",
    "AcceptedItem",
    "BoundaryLimits",
    "BoundaryResult",
    "Counts",
    "OutputContract",
    "QuarantineReason",
    "QuarantinedItem",
    "StringLimits",
    "item_schema_for_prompt",
    "parse_report",
]
