"""The producer trust boundary: pure functions from untrusted model output to a BoundaryResult."""

from activity_core.boundary.contract import HARD_MAX_ITEMS, BoundaryLimits, OutputContract, StringLimits

__all__ = ["HARD_MAX_ITEMS", "BoundaryLimits", "OutputContract", "StringLimits"]
