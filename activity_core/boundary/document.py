"""Read a whole-report document element by element: the document framing and the legacy shape.

A JSON parser gives up on the whole document at its first error; on 2026-06-26 that was one
missing delimiter deep in the list. This scanner only finds where each element of the
document's item array (``items``, or a legacy key) begins and ends (bracket depth outside
strings), so each element is parsed and judged on its own and a syntax error inside element k
costs element k. A provider that treats a JSON Schema as advisory costs one element per error.

It is linear: one regex token stream, read lazily, so the caller can stop early. A string
never spans a line in JSON, so a string still open at a line break is treated as ended
there; a stray quote then cannot swallow the rest of a pretty-printed document.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_TOKEN = re.compile(r'"[^"\\\n]*+(?:\\.[^"\\\n]*+)*+"?|[{}\[\],]|[^\s"{}\[\],]++')
_ARRAY_AFTER_KEY = re.compile(r"\s*:\s*\[")


@dataclass(frozen=True, slots=True)
class Element:
    start: int
    end: int
    cut: bool
    """The text ended inside this element."""


class ArrayDocument:
    """The first top-level object in a text and, if it has one, its array under one of ``keys``
    (the first of them found at the top level).

    ``elements()`` yields the array's elements; once it is exhausted, ``array_end`` and
    ``end`` say where the array and the document stopped and ``closed`` whether both were
    properly closed (rather than cut off by the end of the text).
    """

    def __init__(self, text: str, keys: tuple[str, ...]) -> None:
        self.text = text
        self._keys = frozenset(f'"{key}"' for key in keys)
        self.key: str | None = None
        """The key whose array was found."""
        self.start = text.find("{")
        self.array_start = -1  # index of the array's "["
        self.array_end = len(text)  # index of its "]", or the end of the text
        self.end = len(text)  # just past the document's "}"
        self.closed = False
        self._tokens: Iterator[re.Match[str]] = iter(())
        if self.start >= 0:
            self._tokens = _TOKEN.finditer(text, self.start)
            self._find_array()

    @property
    def found(self) -> bool:
        return self.array_start >= 0

    def _nesting(self, depth: int) -> Iterator[tuple[re.Match[str], int]]:
        """The remaining tokens, each with the bracket depth after it."""
        for match in self._tokens:
            token = match.group()
            if token in ("{", "["):
                depth += 1
            elif token in ("}", "]"):
                depth -= 1
            yield match, depth

    def _find_array(self) -> None:
        for match, depth in self._nesting(0):
            if depth == 0:
                self.end = match.end()
                return
            if depth == 1 and match.group() in self._keys and (key := _ARRAY_AFTER_KEY.match(self.text, match.end())):
                self.key = match.group()[1:-1]
                self.array_start = key.end() - 1
                self._tokens = _TOKEN.finditer(self.text, key.end())
                return

    def elements(self) -> Iterator[Element]:
        depth = 0
        start = end = -1
        for match in self._tokens:
            token = match.group()
            if depth == 0:
                if token == ",":
                    if start >= 0:
                        yield Element(start, end, cut=False)
                        start = -1
                    continue
                if token in ("]", "}"):
                    if start >= 0:
                        yield Element(start, end, cut=False)
                    self.array_end = match.start()
                    self._close_document(after_array=token == "]")
                    return
                if start >= 0 and end > start and self.text[end - 1] in "}]":
                    yield Element(start, end, cut=False)  # a missing comma between two elements
                    start = -1
                if start < 0:
                    start = match.start()
            if token in ("{", "["):
                depth += 1
            elif token in ("}", "]"):
                depth -= 1
            end = match.end()
        if start >= 0:
            yield Element(start, len(self.text), cut=True)

    def _close_document(self, *, after_array: bool) -> None:
        if not after_array:  # the document's own "}" closed the array implicitly
            self.end = self.array_end + 1
            return
        for match, depth in self._nesting(1):
            if depth == 0:
                self.end = match.end()
                self.closed = True
                return

    def envelope_text(self) -> str:
        """The document with its array emptied: what remains to validate as the envelope."""
        return self.text[self.start : self.array_start] + "[]" + self.text[self.array_end + 1 : self.end]
