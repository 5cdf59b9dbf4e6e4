"""Guardrails measured before any expensive work, each in linear time at C speed.

Hostile output (a megabyte of ``[``, an unterminated string, thousands of lines) must cost
little more than honest output of the same size, so every measure here is a single pass of
a builtin or a possessive regex: no Python loop per character, no backtracking.
"""

from __future__ import annotations

import re
from itertools import accumulate

# A string literal (possibly unterminated) or a run of characters that are neither brackets
# nor quotes: deleting every match leaves exactly the brackets outside strings.
_NOT_STRUCTURE = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"?|[^\[\]{}"]++', re.DOTALL)
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def utf8_size(text: str) -> int | None:
    """Bytes on the wire, or None for text holding a lone surrogate (not encodable as UTF-8)."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def nesting_depth(text: str) -> int:
    """How deep a parser would recurse: the highest count of brackets open at once."""
    brackets = _NOT_STRUCTURE.sub("", text)
    return max(accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=0))


def too_deep(text: str, max_depth: int) -> int | None:
    """The depth when it exceeds ``max_depth``; counting brackets first keeps flat text free."""
    if text.count("{") + text.count("[") <= max_depth:
        return None
    depth = nesting_depth(text)
    return depth if depth > max_depth else None
