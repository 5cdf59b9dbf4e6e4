"""Pre-scans of the raw text that let the fast path skip checks no clean line needs.

``models.Text`` forbids control and bidirectional-override characters in the decoded text.
Such a character can only come from the raw line itself (JSON refuses raw C0 controls inside
strings, so only DEL, C1 and the overrides can stand there raw, and only in non-ASCII text)
or from an escape (``\\b``, ``\\f``, ``\\r`` or one of a few ``\\u`` ranges). So a line that
holds neither cannot break the pattern, and the fast decoder may skip it; a line that might
goes to pydantic, which checks the pattern exactly. The scan errs on the side of caution (an
escaped backslash before ``u00..`` counts too): a false alarm costs one careful validation.

The whole text is scanned first, at C speed: an ASCII answer without ``\\x7f`` and without a
suspicious escape (the common case) needs no per-line look at all.
"""

from __future__ import annotations

import re

# Raw characters the text pattern forbids that JSON lets stand inside a string, plus raw
# surrogates (which ``guards.utf8_size`` refuses anyway).
_RAW = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Escapes that can decode to one: \b \f \r, \u0000-\u001f, \u007f-\u009f, \u20xx (the overrides
# and isolates live at 202a-202e and 2066-2069), and surrogates (a lone one is refused).
_ESCAPE = re.compile(r"\\(?:[bfr]|u(?:00[0189]|007[fF]|20[26]|[dD][89a-fA-F]))")


def may_break_text(text: str) -> bool:
    """Whether ``text`` may decode to a string with a character ``models.Text`` forbids."""
    if text.isascii():
        if "\x7f" in text:
            return True
    elif _RAW.search(text) is not None:
        return True
    return "\\" in text and _ESCAPE.search(text) is not None
