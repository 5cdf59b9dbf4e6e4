"""``parse_report``: untrusted producer output in, a ``BoundaryResult`` out, never an exception.

Order of work, cheapest first: the byte budget cuts the content (the rest is one range,
counted, never parsed); two pre-scans of the kept text at C speed say whether any line may
break a text field or hold a secret, so a clean answer skips both checks; then the answer is
read in the framing it has. A definition asking for the whole-report document gets its
answer read as that document, element by element; otherwise (or when no such document is
there) each line is judged on its own; and only when no line claims the item framing is the
content read as a document (the whole-report one or the legacy one), element by element.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from activity_core.boundary.batch import clean_lines, keys_and_text_colons
from activity_core.boundary.contract import BoundaryLimits, OutputContract
from activity_core.boundary.document import ArrayDocument
from activity_core.boundary.framing import (
    BOM,
    count_nonblank,
    decode_lines,
    looks_like_json,
    split_lines,
    within_budget,
)
from activity_core.boundary.ledger import Ledger
from activity_core.boundary.models import DOCUMENT_ITEMS_KEY, ENVELOPE_TAG, TRAILER_TAG
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.result import BoundaryResult, Framing, Status
from activity_core.boundary.scan import may_break_text
from activity_core.boundary.secrets import might_hold_secrets
from activity_core.boundary.spec import ReportSpec
from activity_core.boundary.strict_json import DUPLICATE_CHECK_ENCODER
from activity_core.boundary.units import DECODE_ERRORS, Verdict, judge
from activity_core.boundary.validators import UnitKind, UnitKinds, unit_kinds

R = QuarantineReason
_NONE_INVALID: frozenset[int] = frozenset()
_SHORT_LINE = 24
# Below this many lines the batch path's fixed checks cost more than the per-line loop it saves.
BATCH_MIN_LINES = 64
_BRACKET = re.compile(r"[{\[]")


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


class _Answer(NamedTuple):
    """The kept text and what the pre-scans and the decoding found in it."""

    text: str
    lines: list[str]
    nonblank: int
    scan: bool
    """Some line may break a text field: lines are scanned one by one."""
    secrets: bool
    invalid: frozenset[int]
    """0-based lines that were not UTF-8."""


def parse_report(
    content: str | bytes,
    *,
    contract: OutputContract,
    spec: ReportSpec,
    known_refs: Collection[str],
    finish_reason: str | None = None,
) -> BoundaryResult:
    """Judge a producer's report against ``contract`` and the item model and ranking of ``spec``;
    ``known_refs`` are the only ids an item may name (compared exactly: no case folding, no
    trimming). ``content`` may be bytes (a captured answer): lines that are not UTF-8 are then
    quarantined, each on its own, and the rest is read."""
    invalid: frozenset[int] = _NONE_INVALID
    if isinstance(content, bytes):
        content, invalid = decode_lines(content)
    limits = contract.limits
    budgeted = within_budget(content.removeprefix(BOM), limits.max_total_bytes)
    kept = budgeted.kept
    lines = split_lines(kept)
    answer = _Answer(kept, lines, count_nonblank(lines), may_break_text(kept), might_hold_secrets(kept), invalid)
    kinds = unit_kinds(spec.items, limits.max_string_lengths)
    document_keys = kinds.document_keys

    reading: _Reading | None = None
    ledger = Ledger(contract, spec, kinds, known_refs, secrets=answer.secrets)
    if contract.framing == "document":
        document = ArrayDocument(kept, document_keys)
        if document.found:
            reading = _read_document(document, answer, contract, kinds, ledger)
    if reading is None and (batch := _batched(answer, limits, kinds)) is not None:
        reading = _read_batch(batch, answer, kinds, ledger)
        if reading is None:
            ledger = Ledger(contract, spec, kinds, known_refs, secrets=answer.secrets)
    if reading is None:
        final = None if budgeted.overflow else _last_nonblank(kept, answer.lines)
        reading = _read_lines(answer, contract, kinds, ledger, final=final)
        if reading is None:  # a fast line repeated a key: read again, checking each line
            ledger = Ledger(contract, spec, kinds, known_refs, secrets=answer.secrets)
            reading = _read_lines(answer, contract, kinds, ledger, final=final, defer_duplicates=False)
        assert reading is not None
        if reading.framing == "none" and any(f'"{key}"' in kept for key in document_keys):
            document = ArrayDocument(kept, document_keys)
            if document.found:
                ledger = Ledger(contract, spec, kinds, known_refs, secrets=answer.secrets)
                reading = _read_document(document, answer, contract, kinds, ledger)
    overflow = split_lines(budgeted.overflow) if budgeted.overflow else []
    if overflow:
        # The kept text ends with its last line break, so the overflow starts on line len(lines).
        _enter_overflow(overflow, first_line=len(answer.lines), limit=limits.max_total_bytes, ledger=ledger)

    truncated = finish_reason == "length" or (reading.framing != "none" and (reading.cut or not reading.complete))
    items = ledger.ranked()
    status: Status = ("partial" if truncated or ledger.quarantined else "clean") if items else "failed"
    counts = ledger.final_counts(answer.nonblank + (count_nonblank(overflow) if overflow else 0))
    return BoundaryResult(status, reading.framing, truncated, reading.summary, items, ledger.quarantined, counts)


def _last_nonblank(text: str, lines: list[str]) -> int:
    """0-based index of the last non-blank line: where a truncated answer stops."""
    trailing = len(text) - len(text.rstrip())
    return len(lines) - 1 - text.count("\n", len(text) - trailing)


def _may_close_report(stripped: str) -> bool:
    """After the item cap only the envelope and trailer are still worth parsing."""
    return '"end"' in stripped or '"summary"' in stripped


def _read_lines(
    answer: _Answer,
    contract: OutputContract,
    kinds: UnitKinds,
    ledger: Ledger,
    *,
    final: int | None,
    defer_duplicates: bool = True,
) -> _Reading | None:
    """Judge each line; None when the duplicate-key check deferred to the end (see
    ``_repeats_a_key``) finds that a fast line repeated a key: read again without deferring."""
    limits, line_kind, scan, invalid, lines = contract.limits, kinds.line, answer.scan, answer.invalid, answer.lines
    reading = _Reading(framing="none")
    offer, item_struct, decode, max_line_bytes = (
        ledger.offer,
        kinds.item_struct,
        line_kind.decode,
        limits.max_line_bytes,
    )
    # The fast path below is ``judge`` for the common case (see units.py), inlined: a clean
    # ASCII item line that decodes, needs no careful look and repeats no key.
    fast = not scan and item_struct not in line_kind.careful and limits.max_depth >= line_kind.depth
    fast_tags = line_kind.fast_tags
    encode = DUPLICATE_CHECK_ENCODER.encode
    examined = 0  # non-blank lines entered in the ledger; the others (no bracket at all) are prose
    indices = _lines_to_examine(answer)
    # The fast lines' duplicate-key check, made once for all of them at the end.
    defer = defer_duplicates and fast
    deferred: list[Any] = []
    deferred_lines: list[str] = []
    for index in indices:
        raw = lines[index]
        stripped = raw.strip()
        if not stripped:
            continue
        line = index + 1
        if ledger.full:
            if defer and _repeats_a_key(deferred, deferred_lines):
                return None
            ledger.ignore(count_nonblank(lines[:index]) - examined)
            ledger.give_up(stripped, line=line, end_line=len(lines), lines=count_nonblank(lines[index:]))
            return reading  # the rest, an envelope perhaps included, was not examined
        examined += 1
        if invalid and index in invalid:
            ledger.quarantine(R.INVALID_ENCODING, "bytes that are not UTF-8 (shown as U+FFFD)", stripped, line=line)
            continue
        if stripped[0] != "{" and not looks_like_json(stripped):
            ledger.ignore()
            continue
        if ledger.at_cap and not _may_close_report(stripped):
            ledger.over_cap(stripped, line=line)
            continue
        decoded, refused, verdict = None, False, None
        if (
            fast
            and stripped.isascii()
            and len(stripped) <= max_line_bytes
            and ("\\" not in stripped or "\\u003" not in stripped)
        ):
            try:
                decoded = decode(stripped)  # type: ignore[misc]
            except DECODE_ERRORS:
                refused = True
            else:
                if type(decoded) in fast_tags and (defer or stripped.count(":") == encode(decoded).count(b":")):
                    if defer:
                        deferred.append(decoded)
                        deferred_lines.append(stripped)
                    if type(decoded) is item_struct:
                        reading.framing = "ndjson"
                        offer(decoded, stripped, line, None, False)
                        continue
                    verdict = Verdict(decoded, fast_tags[type(decoded)])
        if verdict is None:
            verdict = judge(
                stripped, line_kind, limits, final=index == final, scan=scan, decoded=decoded, refused=refused
            )
        value, tag, reason, detail, repaired = verdict
        if type(value) is item_struct:
            reading.framing = "ndjson"
            offer(value, stripped, line, None, repaired)
            continue
        if tag is not None:
            reading.framing = "ndjson"
        if value is None:
            reading.cut |= reason is R.TRUNCATED_ITEM
            reading.envelope_claimed |= tag == ENVELOPE_TAG
            ledger.quarantine(reason, detail, stripped, line=line, repaired=repaired)  # type: ignore[arg-type]
        else:
            _frame(reading, ledger, value, tag, stripped, line)
    if defer and _repeats_a_key(deferred, deferred_lines):
        return None
    ledger.ignore(answer.nonblank - examined)
    return _closed(reading, ledger)


def _repeats_a_key(decoded: list[Any], lines: list[str]) -> bool:
    """``strict_json.has_duplicate_keys`` over many fast lines at once (two C calls instead of two
    per line): their colons against those of their units encoded again. Equal, no line repeated
    a key (none holds ``\\u003``, checked on the way in); else some line did, or wrote an
    optional field at its default."""
    return "".join(lines).count(":") != DUPLICATE_CHECK_ENCODER.encode(decoded).count(b":")


def _frame(reading: _Reading, ledger: Ledger, value: Any, tag: str | None, stripped: str, line: int) -> None:
    """Enter a valid envelope or trailer line: the first of each counts, a second is quarantined."""
    if tag == ENVELOPE_TAG:
        reading.envelope_claimed = True
        if reading.envelope_line is None:
            reading.summary, reading.envelope_line = ledger.summary(value.summary), line
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


def _closed(reading: _Reading, ledger: Ledger) -> _Reading:
    if reading.framing == "ndjson" and not reading.envelope_claimed:
        ledger.quarantine(R.ENVELOPE_INVALID, "no envelope (type summary) line", "", line=None, lines=0)
    return reading


def _batched(answer: _Answer, limits: BoundaryLimits, kinds: UnitKinds) -> list[Any] | None:
    """Every line decoded at once, when the answer is clean enough for the batch path (batch.py)."""
    line_kind = kinds.line
    if (
        answer.nonblank < BATCH_MIN_LINES
        or answer.scan
        or answer.invalid
        or line_kind.shapes is None
        or limits.max_depth < line_kind.depth
        or not clean_lines(answer.text, answer.lines, limits.max_line_bytes)
    ):
        return None
    try:
        decoded: list[Any] = line_kind.decode_lines(answer.text)  # type: ignore[misc]
    except DECODE_ERRORS:
        return None
    return decoded if len(decoded) == answer.nonblank else None


def _read_batch(decoded: list[Any], answer: _Answer, kinds: UnitKinds, ledger: Ledger) -> _Reading | None:
    """The run-level rules on an answer decoded at once; None when its duplicate-key count
    disagrees, so that it is read line by line instead."""
    if answer.text.count(":") != keys_and_text_colons(decoded, kinds.line.shapes):  # type: ignore[arg-type]
        return None
    reading = _Reading(framing="ndjson")
    lines, item_struct, tags, offer = answer.lines, kinds.item_struct, kinds.line.tags, ledger.offer
    first, last, middle = type(decoded[0]), type(decoded[-1]), decoded[1:-1]
    if (
        len(decoded) > 2
        and tags.get(first) == ENVELOPE_TAG  # type: ignore[union-attr]
        and tags.get(last) == TRAILER_TAG  # type: ignore[union-attr]
        and list(map(type, middle)).count(item_struct) == len(middle)
        and ledger.accept_all(middle, first_line=2)
    ):  # the common report: envelope, items, trailer, every item acceptable
        _frame(reading, ledger, decoded[0], ENVELOPE_TAG, lines[0], 1)
        _frame(reading, ledger, decoded[-1], TRAILER_TAG, lines[len(decoded) - 1], len(decoded))
        return reading
    for index, value in enumerate(decoded):
        stripped, line = lines[index], index + 1
        if ledger.full:
            ledger.give_up(stripped, line=line, end_line=len(lines), lines=count_nonblank(lines[index:]))
            return reading
        if ledger.at_cap and not _may_close_report(stripped):
            ledger.over_cap(stripped, line=line)
        elif type(value) is item_struct:
            offer(value, stripped, line, None, False)
        else:
            _frame(reading, ledger, value, tags[type(value)], stripped, line)  # type: ignore[index]
    return _closed(reading, ledger)


def _lines_to_examine(answer: _Answer) -> Iterable[int]:
    """The 0-based lines worth a look: every line, or, when few lines hold a bracket (mostly
    prose, or a hostile flood of short lines), only those that do (and those that were not
    UTF-8), found at C speed. Either way the others are blank or prose."""
    text, lines = answer.text, answer.lines
    # Report lines are hundreds of characters long: only short lines can be that many.
    if len(text) >= _SHORT_LINE * len(lines) or text.count("{") + text.count("[") >= len(lines) // 2:
        return range(len(lines))
    found = set(answer.invalid)
    line, at = 0, 0
    for match in _BRACKET.finditer(text):
        line += text.count("\n", at, match.start())
        at = match.start()
        found.add(line)
    return sorted(found)


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
    document: ArrayDocument, answer: _Answer, contract: OutputContract, kinds: UnitKinds, ledger: Ledger
) -> _Reading:
    limits, text, lines = contract.limits, document.text, answer.lines
    legacy = document.key != DOCUMENT_ITEMS_KEY
    envelope_kind: UnitKind = kinds.legacy_envelope if legacy else kinds.document_envelope  # type: ignore[assignment]
    where = _LineMap(lines)
    reading = _Reading(framing="legacy" if legacy else "document")
    element_lines = 0
    stopped_at: int | None = None

    def undecodable(first: int, last: int) -> bool:
        return bool(answer.invalid) and any(n - 1 in answer.invalid for n in range(first, last + 1))

    for index, element in enumerate(document.elements()):
        if ledger.full:
            stopped_at = element.start
            break
        raw = text[element.start : element.end]
        line, last = where.line_of(element.start), where.line_of(element.end - 1)
        count = where.nonblank_in(element.start, element.end)
        element_lines += count
        if undecodable(line, last):
            detail = "bytes that are not UTF-8 (shown as U+FFFD)"
            ledger.quarantine(R.INVALID_ENCODING, detail, raw, line=line, end_line=last, index=index, lines=count)
        elif element.cut:
            reading.cut = True
            detail = "the answer ends inside this element"
            ledger.quarantine(R.TRUNCATED_ITEM, detail, raw, line=line, end_line=last, index=index, lines=count)
        elif ledger.at_cap:
            ledger.over_cap(raw, line=line, index=index, lines=count)
        else:
            verdict = judge(raw, kinds.element, limits, scan=answer.scan)
            if verdict.value is None:
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
                ledger.offer(verdict.value, raw, line, index, verdict.repaired, count)

    ledger.ignore(where.nonblank_in(0, document.start))
    if stopped_at is not None:
        # The budget is spent: the rest of the document, its envelope included, is one range.
        rest = where.nonblank_in(document.start, len(text)) - element_lines
        ledger.give_up(
            text[stopped_at:], line=where.line_of(stopped_at), end_line=len(lines), lines=rest, envelope=True
        )
        reading.complete = True  # not examined: no evidence of a cut
        return reading
    envelope_lines = where.nonblank_in(document.start, document.end) - element_lines
    envelope_text = document.envelope_text()
    first_line = where.line_of(document.start)
    # Bad bytes were decoded as U+FFFD: the envelope holds one only if a bad line reached it.
    if "\ufffd" in envelope_text and undecodable(first_line, where.line_of(document.end - 1)):
        detail = "bytes that are not UTF-8 (shown as U+FFFD)"
        ledger.quarantine(R.INVALID_ENCODING, detail, envelope_text, line=first_line, lines=envelope_lines)
    else:
        envelope = judge(envelope_text, envelope_kind, limits)
        if envelope.value is not None:
            reading.summary = ledger.summary(envelope.value.summary)
            ledger.envelope(envelope_lines)
        else:
            ledger.quarantine(
                envelope.reason,  # type: ignore[arg-type]
                envelope.detail,
                envelope_text,
                line=first_line,
                repaired=envelope.repaired,
                lines=envelope_lines,
            )
    ledger.ignore(where.nonblank_in(document.end, len(text)))
    reading.complete = document.closed
    return reading
