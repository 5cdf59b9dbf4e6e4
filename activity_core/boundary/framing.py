"""From raw content to lines: the byte budget, line splitting, and what looks like JSON.

Lines are split on ``\\n`` only. ``str.splitlines`` would also split on U+2028, U+0085 and
other Unicode breaks, which are legal inside JSON strings, and so cut a valid item in two.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BOM = "\ufeff"
_OBJECT_OPENING = re.compile(r'\{\s*"')


@dataclass(frozen=True, slots=True)
class Budgeted:
    kept: str
    """Whole lines within ``max_total_bytes``."""
    overflow: str
    """Everything after them: quarantined as one range, never parsed."""


def within_budget(content: str, max_total_bytes: int) -> Budgeted:
    """Keep the whole lines that fit in the byte budget; the rest costs one cut and a count."""
    if content.isascii():
        if len(content) <= max_total_bytes:
            return Budgeted(content, "")
        cut = content.rfind("\n", 0, max_total_bytes) + 1
        return Budgeted(content[:cut], content[cut:])
    encoded = content.encode("utf-8", "surrogatepass")
    if len(encoded) <= max_total_bytes:
        return Budgeted(content, "")
    cut = encoded.rfind(b"\n", 0, max_total_bytes) + 1
    kept = encoded[:cut].decode("utf-8", "surrogatepass")
    return Budgeted(kept, content[len(kept) :])


def decode_lines(data: bytes) -> tuple[str, frozenset[int]]:
    """Bytes as text, and the 0-based lines that were not UTF-8 (decoded with U+FFFD in place
    of each bad byte, so every line is still there to be counted and quarantined)."""
    try:
        return data.decode("utf-8"), frozenset()
    except UnicodeDecodeError:
        pass
    invalid = set()
    lines = data.split(b"\n")
    for index, raw in enumerate(lines):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            invalid.add(index)
    return data.decode("utf-8", "replace"), frozenset(invalid)


def split_lines(text: str) -> list[str]:
    return text.split("\n")


def count_nonblank(lines: list[str]) -> int:
    """Non-blank lines, at C speed (``str.isspace`` is False for the empty string)."""
    return len(lines) - lines.count("") - sum(map(str.isspace, lines))


def looks_like_json(stripped: str) -> bool:
    """A line that is (or embeds) a JSON object or array; anything else is prose or a fence."""
    return stripped[0] in "{[" or ("{" in stripped and _OBJECT_OPENING.search(stripped) is not None)
