"""The closed set of reasons a piece of producer output is quarantined.

Operators, metrics and the re-ask prompt key on these values, so the set is closed and
documented (docs/output-contract.md lists exactly these; a test keeps the two equal).
Adding a reason is a contract change.
"""

from __future__ import annotations

from enum import StrEnum


class QuarantineReason(StrEnum):
    # -- not (strict) JSON ------------------------------------------------------------
    INVALID_JSON = "invalid_json"
    """Not JSON, and the one bounded repair attempt did not make it JSON either."""
    REPAIR_FAILED = "repair_failed"
    """JSON only after repair, and the repaired value still broke the schema."""
    TRUNCATED_ITEM = "truncated_item"
    """The answer's last object was cut off mid-way; a cut item is never accepted as whole."""
    NON_FINITE_NUMBER = "non_finite_number"
    """NaN, Infinity, or a number that overflows to infinity."""
    DUPLICATE_KEY = "duplicate_key"
    """An object names the same key twice (parsers disagree on which one wins)."""
    LONE_SURROGATE = "lone_surrogate"
    """A UTF-16 surrogate without its pair: not encodable as UTF-8 downstream."""
    INTEGER_TOO_LARGE = "integer_too_large"
    """An integer outside the 64-bit range (or thousands of digits long)."""
    CONTROL_CHARACTERS = "control_characters"
    """A text field holds a control or bidirectional-override character (TAB and LF are allowed)."""
    INVALID_ENCODING = "invalid_encoding"
    """A line of bytes that are not UTF-8 (a captured answer read as bytes)."""
    # -- guardrails -------------------------------------------------------------------
    TOTAL_TOO_LARGE = "total_too_large"
    """Lines beyond the answer's byte budget (max_total_bytes), quarantined as one range."""
    LINE_TOO_LONG = "line_too_long"
    """A line (or a legacy document's element) over max_line_bytes."""
    TOO_DEEP = "too_deep"
    """Nesting deeper than max_depth."""
    STRING_TOO_LONG = "string_too_long"
    """A text field longer than its max_string_lengths entry."""
    OVER_ITEM_CAP = "over_item_cap"
    """A valid-looking item after top_n items were already accepted."""
    TOO_MANY_ERRORS = "too_many_errors"
    """max_quarantine_entries reached: the rest of the answer, as one range, not examined."""
    # -- the report contract ----------------------------------------------------------
    UNEXPECTED_TYPE = "unexpected_type"
    """JSON, but not an object whose type is summary, item or end."""
    SCHEMA_VIOLATION = "schema_violation"
    """An item (or document element) that is not a valid item of the definition's item model."""
    ENVELOPE_INVALID = "envelope_invalid"
    """The envelope is invalid, repeated, or missing."""
    TRAILER_INVALID = "trailer_invalid"
    """The trailer is invalid or repeated."""
    SECRET_DETECTED = "secret_detected"
    """A text field holds a secret-shaped string (a private key, a token, a key of a known format)."""
    UNKNOWN_REFERENCE = "unknown_reference"
    """A reference field names an id that is not one of those known to this run."""
    DUPLICATE_CANDIDATE = "duplicate_candidate"
    """The item's references were already named by an earlier accepted item."""
