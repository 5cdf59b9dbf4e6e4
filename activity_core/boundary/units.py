"""Judge one unit of producer output (a line, or a document element) on its own.

The happy path is one msgspec decode, one ``str.count`` and a key count. The careful path
(a line the pre-scan flagged, or a model with a constraint the decoder does not mirror) adds
pydantic-core's validation. Only a unit that fails goes down the slow path, which names the
reason, tries the one bounded repair and judges the repaired text exactly as a clean unit is
judged, so a repaired unit passes the same checks.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import msgspec
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from activity_core.boundary.contract import BoundaryLimits
from activity_core.boundary.guards import too_deep, utf8_size
from activity_core.boundary.models import ENVELOPE_TAG, ITEM_TAG, TEXT_PATTERN, TRAILER_TAG
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.repair import repair
from activity_core.boundary.scan import may_break_text
from activity_core.boundary.strict_json import has_duplicate_keys, json_refusal, oversized_integer
from activity_core.boundary.validators import UnitKind

R = QuarantineReason

_TAGS = frozenset({ENVELOPE_TAG, ITEM_TAG, TRAILER_TAG})
_TYPE_TAG = re.compile(r'"type"\s*:\s*"(summary|item|end)"')
_SCHEMA_REASON = {ENVELOPE_TAG: R.ENVELOPE_INVALID, ITEM_TAG: R.SCHEMA_VIOLATION, TRAILER_TAG: R.TRAILER_INVALID}
_NOT_A_REPORT_OBJECT = frozenset(
    {"union_tag_not_found", "union_tag_invalid", "dict_type", "model_type", "model_attributes_type"}
)
# Reasons that, after a repair, mean the repaired text is still not a whole report object.
_NOT_WHOLE = frozenset({R.SCHEMA_VIOLATION, R.ENVELOPE_INVALID, R.TRAILER_INVALID, R.UNEXPECTED_TYPE})
_DETAIL_ERRORS = 3
_PART = 40
DECODE_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, UnicodeEncodeError, RecursionError)


class Verdict(NamedTuple):
    value: Any
    """The decoded unit (a struct; for an envelope kind without a fast decoder, the pydantic model), or None."""
    tag: str | None
    """What the unit claims to be (summary, item, end), if it says: evidence of the framing."""
    reason: QuarantineReason | None = None
    detail: str = ""
    repaired: bool = False


def _fail(reason: QuarantineReason, detail: str, tag: str | None, *, repaired: bool = False) -> Verdict:
    return Verdict(None, tag, reason, detail, repaired)


def judge(
    text: str,
    kind: UnitKind,
    limits: BoundaryLimits,
    *,
    final: bool = False,
    repairable: bool = True,
    scan: bool = True,
    decoded: Any = None,
    refused: bool = False,
) -> Verdict:
    """``final`` marks the answer's last unit, where a cut-off object means truncation and is
    never repaired into something that looks whole; ``scan`` False says the caller's pre-scan of
    the whole text found nothing that could break a text field; ``decoded`` is what the fast
    decoder already made of ``text``, ``refused`` that it already refused it (either way ``text``
    is then within the size limits)."""
    if refused:
        return _validated(text, kind, limits, final, repairable, None)
    if decoded is None:
        size = len(text) if text.isascii() else utf8_size(text)
        if size is None:
            return _fail(R.LONE_SURROGATE, "holds a lone UTF-16 surrogate, which is not valid UTF-8", kind.tag)
        if size > limits.max_line_bytes:
            return _fail(R.LINE_TOO_LONG, f"{size} bytes; the limit is {limits.max_line_bytes}", kind.tag)
        if kind.decode is None:
            return _validated(text, kind, limits, final, repairable, None)
    try:
        value = kind.decode(text) if decoded is None else decoded  # type: ignore[misc]
    except DECODE_ERRORS:
        return _validated(text, kind, limits, final, repairable, None)
    struct = type(value)
    if (scan and may_break_text(text)) or struct in kind.careful:
        return _validated(text, kind, limits, final, repairable, value)
    return _accepted(text, value, kind.tags[struct], kind, limits)  # type: ignore[index]


def _accepted(text: str, value: Any, tag: str, kind: UnitKind, limits: BoundaryLimits) -> Verdict:
    # A valid unit nests no deeper than its model does: only a very tight limit needs a look.
    if limits.max_depth < kind.depth and (depth := too_deep(text, limits.max_depth)):
        return _too_deep(depth, limits, tag)
    if has_duplicate_keys(text, value):
        return _fail(R.DUPLICATE_KEY, "an object repeats a key; which value wins depends on the parser", tag)
    return Verdict(value, tag)


def _validated(text: str, kind: UnitKind, limits: BoundaryLimits, final: bool, repairable: bool, value: Any) -> Verdict:
    """pydantic's judgement: the reason for a unit the fast decoder refused, or the check of a
    unit it accepted but does not fully judge (``value``)."""
    try:
        model = kind.validator.validate_json(text)
    except ValidationError as exc:
        # pydantic-core stops at its own recursion limit; the depth guard runs before any
        # diagnosis or repair, which are the expensive part.
        if depth := too_deep(text, limits.max_depth):
            return _too_deep(depth, limits, kind.tag)
        errors = exc.errors()
        if errors[0]["type"] != "json_invalid":
            return _schema_verdict(errors, kind)
        message = errors[0]["msg"].removeprefix("Invalid JSON: ")
        tag = kind.tag or _claimed_tag(text)
        if refusal := json_refusal(message, text):
            return _fail(refusal, message, tag)
        if not repairable:
            return _fail(R.INVALID_JSON, message, tag)
        return _judge_repaired(text, message, tag, kind, limits, final)
    tag = kind.tag or model.type
    if kind.decode is None:
        return _accepted(text, model, tag, kind, limits)
    if value is None:
        try:
            value = kind.decode(text)
        except DECODE_ERRORS as exc:  # the models and their compiled structs disagree: trust neither
            return _fail(_SCHEMA_REASON[tag], f"refused by the compiled contract: {str(exc)[:200]}", tag)
    return _accepted(text, value, tag, kind, limits)


def _too_deep(depth: int, limits: BoundaryLimits, tag: str | None) -> Verdict:
    return _fail(R.TOO_DEEP, f"nested {depth} deep; the limit is {limits.max_depth}", tag)


def _judge_repaired(
    text: str, message: str, tag: str | None, kind: UnitKind, limits: BoundaryLimits, final: bool
) -> Verdict:
    """The one repair attempt, judged by exactly the checks a clean unit passes."""
    fixed = repair(text, max_depth=limits.max_depth)
    if fixed is None:
        return _fail(R.INVALID_JSON, f"{message}; no repair applies", tag)
    if final and fixed.cut:
        return _fail(R.TRUNCATED_ITEM, f"the answer ends inside this object ({message})", tag)
    verdict = judge(fixed.text, kind, limits, repairable=False)
    if verdict.reason is R.INVALID_JSON:
        return _fail(R.INVALID_JSON, f"{message}; the repair did not yield JSON", tag)
    if verdict.reason in _NOT_WHOLE:
        return _fail(R.REPAIR_FAILED, f"{message}; after repair: {verdict.detail}", verdict.tag or tag, repaired=True)
    return verdict._replace(tag=verdict.tag or tag, repaired=True)


def _claimed_tag(text: str) -> str | None:
    match = _TYPE_TAG.search(text)
    return match.group(1) if match else None


def _schema_verdict(errors: list[ErrorDetails], kind: UnitKind) -> Verdict:
    """Name the most specific reason among the validation errors of well-formed JSON."""
    tag = kind.tag
    if kind.tag is None:
        loc = errors[0]["loc"]
        tag = loc[0] if loc and loc[0] in _TAGS else None  # type: ignore[assignment]
    for error in errors:
        kind_of_error, where = error["type"], _where(error["loc"], kind)
        if kind_of_error in _NOT_A_REPORT_OBJECT and not where:
            return _fail(R.UNEXPECTED_TYPE, "not an object whose type is summary, item or end", None)
        if kind_of_error == "string_too_long":
            length, limit = len(error["input"]), error["ctx"]["max_length"]  # type: ignore[index, arg-type]
            return _fail(R.STRING_TOO_LONG, f"{where}: {length} characters; the limit is {limit}", tag)
        if kind_of_error == "string_pattern_mismatch" and error.get("ctx", {}).get("pattern") == TEXT_PATTERN:
            return _fail(R.CONTROL_CHARACTERS, f"{where}: holds a control or bidirectional-override character", tag)
        if oversized_integer(error.get("input")):
            return _fail(R.INTEGER_TOO_LARGE, f"{where}: an integer outside the 64-bit range", tag)
        if kind_of_error == "finite_number":
            return _fail(R.NON_FINITE_NUMBER, f"{where}: NaN, Infinity or a number overflowing to infinity", tag)
        if kind_of_error == "string_unicode":
            return _fail(R.LONE_SURROGATE, "holds a lone UTF-16 surrogate, which is not valid UTF-8", tag)
    reason = _SCHEMA_REASON[tag] if tag else R.UNEXPECTED_TYPE
    detail = "; ".join(_describe(error, kind) for error in errors[:_DETAIL_ERRORS])
    if len(errors) > _DETAIL_ERRORS:
        detail += f"; and {len(errors) - _DETAIL_ERRORS} more"
    return _fail(reason, detail, tag)


def _where(loc: tuple[int | str, ...], kind: UnitKind) -> str:
    """The field path, without the union's tag; producer-chosen key names are clipped."""
    parts = loc[1:] if kind.tag is None and loc and loc[0] in _TAGS else loc
    return ".".join(str(part)[:_PART] for part in parts)


def _describe(error: ErrorDetails, kind: UnitKind) -> str:
    """pydantic's message never quotes the input for these error types; the path may, clipped."""
    where = _where(error["loc"], kind) or "(the object)"
    if error["type"] == "extra_forbidden":
        return f"{where}: not a field of the contract"
    return f"{where}: {error['msg']}"
