"""``parse_report``: untrusted producer output in, a ``BoundaryResult`` out, never an exception.

Order of work, cheapest first: the byte budget cuts the content (the rest is one range,
counted, never parsed); each line is judged on its own; only when no line claims the
item framing is the content read as a legacy monolithic document, element by element.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection
from dataclasses import dataclass

from activity_core.boundary.contract import OutputContract
from activity_core.boundary.document import LegacyDocument
from activity_core.boundary.framing import BOM, count_nonblank, looks_like_json, split_lines, within_budget
from activity_core.boundary.ledger import Ledger
from activity_core.boundary.models import ENVELOPE_TAG, ITEM_TAG
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.result import BoundaryResult, Framing
from activity_core.boundary.units import judge
from activity_core.boundary.validators import UnitKinds, unit_kinds

R = QuarantineReason
_LEGACY_KEY = '"recommendations"'


@dataclass(slots=True)
class _Reading:
    """What one pass over the kept text found, besides what went into the ledger."""

    framing: Framing
    summary: str | None = None
    complete: bool = False
    """The report's own end marker was seen (the trailer, or the document's closing brace)."""
    cut: bool = False
    """The last object was cut off."""
    envelope_line: int | None = None
    envelope_claimed: bool = False
    """Some line said it was the envelope, valid or not."""
    trailer_line: int | None = None


def parse_report(
    content: str,
    *,
    contract: OutputContract,
    known_refs: Collection[str],
    finish_reason: str | None = None,
) -> BoundaryResult:
    """Judge a producer's report against ``contract``; ``known_refs`` are the only ids an item
    may name (compared exactly: no case folding, no trimming)."""
    budgeted = within_budget(content.removeprefix(BOM), contract.limits.max_total_bytes)
    lines = split_lines(budgeted.kept)
    kinds = unit_kinds(contract.limits.max_string_lengths)
    ledger = Ledger(contract, known_refs)
    final = None if budgeted.overflow else _last_nonblank(budgeted.kept, lines)
    reading = _read_lines(lines, contract, kinds, ledger, final=final)
    if reading.framing == "none" and _LEGACY_KEY in budgeted.kept:
        document = LegacyDocument(budgeted.kept)
        if document.found:
            ledger = Ledger(contract, known_refs)
            reading = _read_document(document, lines, contract, kinds, ledger)
    overflow = split_lines(budgeted.overflow) if budgeted.overflow else []
    # The kept text ends with its last line break, so the overflow starts on line len(lines).
    _enter_overflow(overflow, first_line=len(lines), limit=contract.limits.max_total_bytes, ledger=ledger)

    truncated = finish_reason == "length" or (reading.framing != "none" and (reading.cut or not reading.complete))
    if ledger.accepted:
        status = "partial" if truncated or ledger.quarantined else "clean"
    else:
        status = "failed"
    return BoundaryResult(
        status=status,
        framing=reading.framing,
        truncated=truncated,
        summary=reading.summary,
        items=ledger.ranked(),
        quarantined=ledger.quarantined,
        counts=ledger.final_counts(count_nonblank(lines) + count_nonblank(overflow)),
    )


def _last_nonblank(text: str, lines: list[str]) -> int:
    """0-based index of the last non-blank line: where a truncated answer stops."""
    trailing = len(text) - len(text.rstrip())
    return len(lines) - 1 - text.count("\n", len(text) - trailing)


def _may_close_report(stripped: str) -> bool:
    """After the item cap only the envelope and trailer are still worth parsing."""
    return '"end"' in stripped or '"summary"' in stripped


def _read_lines(
    lines: list[str], contract: OutputContract, kinds: UnitKinds, ledger: Ledger, *, final: int | None
) -> _Reading:
    limits, line_kind = contract.limits, kinds.line
    reading = _Reading(framing="none")
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        if not stripped:
            continue
        line = index + 1
        if ledger.full:
            ledger.give_up(stripped, line=line, end_line=len(lines), lines=count_nonblank(lines[index:]))
            return reading  # the rest, an envelope perhaps included, was not examined
        if not looks_like_json(stripped):
            ledger.ignore()
            continue
        if ledger.at_cap and not _may_close_report(stripped):
            ledger.over_cap(stripped, line=line)
            continue
        model, tag, reason, detail, repaired = judge(stripped, line_kind, limits, final=index == final)
        if tag is not None:
            reading.framing = "ndjson"
        if tag == ITEM_TAG and model is not None:
            ledger.offer(model, stripped, line=line, repaired=repaired)  # type: ignore[arg-type]
        elif model is None:
            reading.cut |= reason is R.TRUNCATED_ITEM
            reading.envelope_claimed |= tag == ENVELOPE_TAG
            ledger.quarantine(reason, detail, stripped, line=line, repaired=repaired)  # type: ignore[arg-type]
        elif tag == ENVELOPE_TAG:
            reading.envelope_claimed = True
            if reading.envelope_line is None:
                reading.summary, reading.envelope_line = model.summary, line  # type: ignore[attr-defined]
                ledger.envelope()
            else:
                detail = f"a second envelope; the first is at line {reading.envelope_line}"
                ledger.quarantine(R.ENVELOPE_INVALID, detail, stripped, line=line)
        elif reading.trailer_line is None:
            reading.trailer_line, reading.complete = line, True
            ledger.trailer()
        else:
            detail = f"a second end line; the first is at line {reading.trailer_line}"
            ledger.quarantine(R.TRAILER_INVALID, detail, stripped, line=line)
    if reading.framing == "ndjson" and not reading.envelope_claimed:
        ledger.quarantine(R.ENVELOPE_INVALID, "no envelope (type summary) line", "", line=None, lines=0)
    return reading


def _enter_overflow(overflow: list[str], *, first_line: int, limit: int, ledger: Ledger) -> None:
    nonblank = count_nonblank(overflow)
    if nonblank:
        detail = f"beyond the {limit}-byte budget (max_total_bytes); not examined"
        snippet = next(line.strip() for line in overflow if line.strip())
        end_line = first_line + len(overflow) - 1
        ledger.quarantine(R.TOTAL_TOO_LARGE, detail, snippet, line=first_line, end_line=end_line, lines=nonblank)


class _LineMap:
    """Which line a character offset falls on, and how many non-blank lines begin in a span.

    A line belongs to the unit holding its first non-blank character, so a line such as
    ``}, {`` counts once, for the element it closes.
    """

    def __init__(self, lines: list[str]) -> None:
        self._starts: list[int] = []
        self._firsts: list[int] = []
        offset = 0
        for raw in lines:
            self._starts.append(offset)
            stripped = raw.lstrip()
            if stripped:
                self._firsts.append(offset + len(raw) - len(stripped))
            offset += len(raw) + 1

    def line_of(self, offset: int) -> int:
        return bisect_left(self._starts, offset + 1)

    def nonblank_in(self, start: int, end: int) -> int:
        return bisect_left(self._firsts, end) - bisect_left(self._firsts, start)


def _read_document(
    document: LegacyDocument, lines: list[str], contract: OutputContract, kinds: UnitKinds, ledger: Ledger
) -> _Reading:
    limits = contract.limits
    text = document.text
    where = _LineMap(lines)
    reading = _Reading(framing="document")
    element_lines = 0
    stopped_at: int | None = None
    for index, element in enumerate(document.elements()):
        if ledger.full:
            stopped_at = element.start
            break
        raw = text[element.start : element.end]
        line, last = where.line_of(element.start), where.line_of(element.end - 1)
        count = where.nonblank_in(element.start, element.end)
        element_lines += count
        if element.cut:
            reading.cut = True
            detail = "the answer ends inside this element"
            ledger.quarantine(R.TRUNCATED_ITEM, detail, raw, line=line, end_line=last, index=index, lines=count)
        elif ledger.at_cap:
            ledger.over_cap(raw, line=line, index=index, lines=count)
        else:
            verdict = judge(raw, kinds.element, limits)
            if verdict.model is None:
                ledger.quarantine(
                    verdict.reason,  # type: ignore[arg-type]
                    verdict.detail,
                    raw,
                    line=line,
                    end_line=last,
                    index=index,
                    repaired=verdict.repaired,
                    lines=count,
                )
            else:
                ledger.offer(verdict.model, raw, line=line, index=index, repaired=verdict.repaired, lines=count)  # type: ignore[arg-type]

    ledger.ignore(where.nonblank_in(0, document.start))
    if stopped_at is not None:
        # The budget is spent: the rest of the document, its envelope included, is one range.
        rest = where.nonblank_in(document.start, len(text)) - element_lines
        ledger.give_up(text[stopped_at:], line=where.line_of(stopped_at), end_line=len(lines), lines=rest, envelope=True)
        reading.complete = True  # not examined: no evidence of a cut
        return reading
    envelope_lines = where.nonblank_in(document.start, document.end) - element_lines
    envelope_text = document.envelope_text()
    envelope = judge(envelope_text, kinds.legacy_envelope, limits)
    if envelope.model is not None:
        reading.summary = envelope.model.summary  # type: ignore[attr-defined]
        ledger.envelope(envelope_lines)
    else:
        ledger.quarantine(
            envelope.reason,  # type: ignore[arg-type]
            envelope.detail,
            envelope_text,
            line=where.line_of(document.start),
            repaired=envelope.repaired,
            lines=envelope_lines,
        )
    ledger.ignore(where.nonblank_in(document.end, len(text)))
    reading.complete = document.closed
    return reading
