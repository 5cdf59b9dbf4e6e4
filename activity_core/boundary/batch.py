"""The clean answer's fast lane: every line decoded in one call, duplicate keys counted at once.

Most answers are clean: one object per line, nothing else. For those, msgspec's
``decode_lines`` decodes the whole text in one C call (a tenth of what ``json.loads`` costs
line by line), and the duplicate-key check (see ``strict_json.has_duplicate_keys``) is made
once over all of it: the colons in the text against the keys the structs kept plus the colons
in their text, counted with C-level maps and joins. The parser then runs the same run-level
rules on the decoded units as it does line by line.

Anything else takes the line-by-line path, which is the reference: a text that is not
``{...}`` on every line, holds a backslash or a carriage return, or breaks a limit, is never
batched; a batch that fails to decode, or whose counts disagree (a duplicate key somewhere,
or an optional field written with its default), is read again line by line from the start. A
test holds the two paths to the same results.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter
from typing import Any

from activity_core.boundary.compiled import Shape


def clean_lines(text: str, lines: list[str], max_line_bytes: int) -> bool:
    """Whether ``text`` is one ``{...}`` per line and nothing else, ASCII, without backslashes
    or carriage returns, each line within the limit: checked at C speed."""
    if not text.isascii() or "\\" in text or "\r" in text:
        return False
    body = text.rstrip("\n")
    breaks = body.count("\n")
    return (
        body[:1] == "{" and body[-1] == "}" and body.count("}\n{") == breaks and max(map(len, lines)) <= max_line_bytes
    )


def keys_and_text_colons(decoded: list[Any], shapes: Mapping[type, Shape]) -> int:
    """The keys the decoded units kept plus the colons inside their text, all together."""
    total = 0
    for struct, shape in shapes.items():
        units = [unit for unit in decoded if type(unit) is struct]
        if units:
            total += _count(units, shape)
    return total


def _count(units: list[Any], shape: Shape) -> int:
    total = shape.keys * len(units)
    for name, default in shape.optional:
        values = list(map(attrgetter(name), units))
        total += len(values) - values.count(default)
    for name in shape.texts:
        total += "".join(map(attrgetter(name), units)).count(":")
    for name, child in shape.nested:
        total += _count(list(map(attrgetter(name), units)), child)
    return total
