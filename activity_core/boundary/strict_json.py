"""Strict JSON: what a lenient parser lets through but our consumers must never see.

The decoders already refuse most of it (lone surrogates, raw control characters, numbers
beyond range, runaway nesting) and the models refuse NaN and Infinity, so this module mostly
names those refusals (in pydantic-core's words, which the slow path reports). The one thing every mainstream parser accepts silently
is a duplicated key (the last one wins), which lets a producer smuggle a second value past
a reviewer who reads the first; ``has_duplicate_keys`` catches it in the happy path with one
``str.count``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from msgspec import Struct
from msgspec.json import Encoder

from activity_core.boundary.reasons import QuarantineReason

_INT64 = 2**63
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")

# pydantic-core's wording for JSON it refuses -> the reason it amounts to
_JSON_REFUSALS = (
    ("recursion limit", QuarantineReason.TOO_DEEP),
    ("number out of range", QuarantineReason.INTEGER_TOO_LARGE),
    ("surrogate", QuarantineReason.LONE_SURROGATE),
    ("control character", QuarantineReason.CONTROL_CHARACTERS),
)


DUPLICATE_CHECK_ENCODER = Encoder()
_encode = DUPLICATE_CHECK_ENCODER.encode


class _DuplicateKey(Exception):
    pass


def json_refusal(message: str, text: str) -> QuarantineReason | None:
    """The strict-JSON reason behind a parse error, or None for a plain syntax error."""
    for marker, reason in _JSON_REFUSALS:
        if marker in message:
            return reason
    if "hex escape" in message and _SURROGATE_ESCAPE.search(text):
        return QuarantineReason.LONE_SURROGATE
    return None


def oversized_integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _INT64


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


def has_duplicate_keys(text: str, value: Any) -> bool:
    """Whether ``text``, which decoded as ``value``, repeats a key (the decoder kept one).

    Outside strings a colon only ever follows a key, and contract keys contain none, so
    ``text.count(":")`` is the keys written plus the colons inside strings, and the same count
    on ``value`` encoded again is the keys kept plus the colons in the text kept. Equal counts
    mean no key was written twice, unless a colon inside a string was written as an escape
    (``\\u003a``), which would hide one: then, as for any other difference, a full parse that
    sees every pair decides. Without a compiled struct (the once-per-report envelopes) the full
    parse is the check.
    """
    if isinstance(value, Struct) and "\\u003" not in text and text.count(":") == _encode(value).count(b":"):
        return False
    try:
        json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKey:
        return True
    except (ValueError, RecursionError):  # the decoder accepted it; a pickier parser is no evidence of a duplicate
        return False
    return False
