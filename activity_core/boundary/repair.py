"""The one bounded repair attempt for a malformed object.

It fixes what producers typically get wrong at the edges and never invents content in the
middle: it strips anything before the first ``{`` (a fence, a bullet, prose) and junk after
the object's closing brace (a fence, a stray comma or bracket), drops trailing commas, and,
where the text stops early or breaks, keeps the longest valid prefix and closes its open
string and brackets. A missing comma between two members is not guessed at: the prefix
before it is kept, and the schema then decides whether that is still a whole item.

One pass over at most ``MAX_TOKENS`` tokens: a report object has a few dozen, so anything
longer cannot repair into a valid item and is declined at once rather than walked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_TOKENS = 512

_TOKEN = re.compile(
    r"""\s*+(?:
      (?P<str>"[^"\\]*+(?:\\.[^"\\]*+)*+)(?P<quote>")?
    | (?P<number>-?[0-9][0-9.eE+-]*+)
    | (?P<word>[A-Za-z]++)
    | (?P<punct>[{}\[\],:])
    | (?P<other>.)
    )""",
    re.DOTALL | re.VERBOSE,
)
_COMPLETE_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = frozenset({"true", "false", "null"})
_JUNK_AFTER = re.compile(r"[\s,;`\]}]*")
_TRAILING_ESCAPE = re.compile(r"(\\+)(u[0-9a-fA-F]{0,3})?$")
_CLOSER = {"{": "}", "[": "]"}

# What the grammar expects next.
_VALUE, _FIRST_VALUE, _FIRST_KEY, _KEY, _COLON, _AFTER_VALUE = range(6)


@dataclass(frozen=True, slots=True)
class Repair:
    text: str
    cut: bool
    """The input ended inside a string or with brackets open: the shape of a truncated write."""


def _without(text: str, start: int, end: int, dropped: list[int]) -> str:
    pieces, at = [], start
    for index in dropped:
        pieces.append(text[at:index])
        at = index + 1
    pieces.append(text[at:end])
    return "".join(pieces)


def _close_string(fragment: str) -> str:
    """Close an unterminated string, dropping a half-written escape at its end."""
    match = _TRAILING_ESCAPE.search(fragment)
    if match and len(match.group(1)) % 2:
        fragment = fragment[: match.end(1) - 1]
    return fragment + '"'


def repair(text: str, *, max_depth: int) -> Repair | None:
    """One repair attempt: the repaired text, or None when there is nothing to repair into."""
    start = text.find("{")
    if start < 0:
        return None
    stack: list[str] = []
    state = _VALUE
    safe = start  # text[start:safe] is a valid prefix that the open brackets in ``stack`` close
    dropped: list[int] = []  # trailing commas
    comma_at, comma_token = -1, -1
    open_string = -1  # a value string that runs to the end of the text
    closed_at = -1
    broken = False
    tokens, pos = 0, start
    while (match := _TOKEN.match(text, pos)) is not None:
        tokens += 1
        if tokens > MAX_TOKENS:
            return None
        kind = match.lastgroup
        pos = match.end()
        if kind in ("str", "quote"):
            if state in (_FIRST_KEY, _KEY):
                if kind == "str":
                    break  # a key cut off at the end: keep what came before it
                state = _COLON
            elif state in (_VALUE, _FIRST_VALUE):
                if kind == "str":
                    open_string = match.start("str")
                    break
                state, safe = _AFTER_VALUE, pos
            else:
                broken = True
                break
        elif kind in ("number", "word"):
            if state not in (_VALUE, _FIRST_VALUE):
                broken = True
                break
            token = match.group(kind)
            if token not in _LITERALS and not (kind == "number" and _COMPLETE_NUMBER.fullmatch(token)):
                broken = pos < len(text)  # at the very end it is a value cut off mid-way
                break
            state, safe = _AFTER_VALUE, pos
        elif kind == "punct":
            char = match.group("punct")
            if char in "{[":
                if state not in (_VALUE, _FIRST_VALUE):
                    broken = True
                    break
                stack.append(char)
                if len(stack) > max_depth:
                    return None
                state, safe = (_FIRST_KEY if char == "{" else _FIRST_VALUE), pos
            elif char in "}]":
                if not stack or _CLOSER[stack[-1]] != char:
                    broken = True
                    break
                if state in (_KEY, _VALUE) and comma_token == tokens - 1:
                    dropped.append(comma_at)
                elif state not in (_AFTER_VALUE, _FIRST_KEY if char == "}" else _FIRST_VALUE):
                    broken = True
                    break
                stack.pop()
                state, safe = _AFTER_VALUE, pos
                if not stack:
                    closed_at = pos
                    break
            elif char == ",":
                if state != _AFTER_VALUE or not stack:
                    broken = True
                    break
                state = _KEY if stack[-1] == "{" else _VALUE
                comma_at, comma_token = match.start("punct"), tokens
            else:  # ":"
                if state != _COLON:
                    broken = True
                    break
                state = _VALUE
        else:
            broken = True
            break

    if closed_at >= 0:
        if _JUNK_AFTER.fullmatch(text, closed_at) is None:
            return None  # more data after the object: a second value is not ours to drop
        repaired = _without(text, start, closed_at, dropped)
        cut = False
    elif open_string >= 0:
        closers = "".join(_CLOSER[c] for c in reversed(stack))
        repaired = _without(text, start, open_string, dropped) + _close_string(text[open_string:]) + closers
        cut = True
    else:
        if safe <= start + 1:
            return None  # nothing but the opening brace: no member was recovered
        repaired = _without(text, start, safe, dropped) + "".join(_CLOSER[c] for c in reversed(stack))
        cut = not broken
    return None if repaired == text.strip() else Repair(repaired, cut)
