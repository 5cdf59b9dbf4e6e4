"""What the boundary hands to the rest of the system: a ``BoundaryResult``.

Plain dataclasses (and a msgspec struct for the accepted item), because the parser builds one
per unit and a pydantic model's validating constructor would cost more than validating the
unit did. Their (de)serialisation
still goes through pydantic (``to_dict`` / ``from_dict``), so the dict that crosses Temporal
and lands in PostgreSQL is checked on the way back in, as far as the boundary owns it: an
accepted item's own fields are the item model's, and the boundary, generic over item models,
carries them as the JSON values they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from pydantic import ConfigDict, TypeAdapter
from typing_extensions import TypedDict

from activity_core.boundary.compiled import to_values
from activity_core.boundary.contract import Framing as AskedFraming
from activity_core.boundary.reasons import QuarantineReason

Status = Literal["clean", "partial", "failed"]
Framing = Literal["ndjson", "document", "legacy", "none"]
"""The framing the answer had: item lines, the whole-report document, the legacy document, or none."""

SNIPPET_CHARS = 512
REASK_FEEDBACK_CHARS = 2000
_REASK_DETAIL_CHARS = 160
PROVENANCE = ("repaired", "line", "index")
"""Keys an accepted item's dict has besides its values (an item model may not use them)."""

_FORBID = ConfigDict(extra="forbid")


class AcceptedItem(msgspec.Struct, frozen=True, gc=False, eq=False):
    """An item that passed every check: its fields as written, what the ranking computed, and
    where it came from. (A msgspec struct rather than a dataclass: one is built per accepted
    item, and its constructor runs in C; the item's plain values are made only when asked for.)"""

    item: Any
    """The item as decoded (a compiled struct, read by attribute like the item model), or, read
    back by ``BoundaryResult.from_dict``, its plain values (computed ones included)."""
    repaired: bool
    line: int | None
    """1-based line of the item (a document element: its first line)."""
    index: int | None = None
    """0-based position in a document's item array."""
    computed: Callable[[Any], dict[str, Any]] | None = None
    """The ranking's computed fields of ``item`` (a recomputed score, say, and whether the producer's claim matched it), worked out when the values are asked for."""

    @property
    def values(self) -> dict[str, Any]:
        """The item's fields as written (JSON values; optional fields at their default are left
        out), then the ranking's computed fields."""
        item = self.item
        if not isinstance(item, msgspec.Struct):
            return dict(item)
        fields = to_values(item)
        if self.computed is not None:
            fields.update(self.computed(item))
        return fields

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_dict(self) -> dict[str, Any]:
        return self.values | {"repaired": self.repaired, "line": self.line, "index": self.index}

    def __eq__(self, other: object) -> bool:
        """Equal when they say the same: a decoded item equals its values read back from a dict."""
        return isinstance(other, AcceptedItem) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


class _Provenance(TypedDict):
    __pydantic_config__ = ConfigDict(strict=True)  # type: ignore[misc]

    repaired: bool
    line: int | None
    index: int | None


@dataclass(slots=True)
class QuarantinedItem:
    """A unit that was not accepted, with enough provenance to debug or replay it."""

    __pydantic_config__ = _FORBID

    reason: QuarantineReason
    detail: str
    """What was wrong, in our words: never more than a few characters of the input."""
    snippet: str
    """The start of the raw unit, at most SNIPPET_CHARS characters (secret-shaped strings redacted)."""
    line: int | None
    """1-based line (a document element: its first line; a range: its first line)."""
    end_line: int | None = None
    """Last line, when the entry covers a range of lines."""
    index: int | None = None
    """0-based position in a document's item array."""
    repaired: bool = False
    """The reason applies to the repaired text (the raw text was not valid JSON)."""


@dataclass(slots=True)
class Counts:
    """Every non-blank input line is exactly one of the ``*_lines``: they sum to ``lines``."""

    __pydantic_config__ = _FORBID

    lines: int = 0
    envelope_lines: int = 0
    item_lines: int = 0
    """Lines of accepted items."""
    trailer_lines: int = 0
    ignored_lines: int = 0
    """Prose and code fences around the report."""
    quarantined_lines: int = 0
    accepted: int = 0
    quarantined: int = 0
    """Quarantine entries (one entry may cover many lines)."""
    repaired: int = 0
    """Accepted items that needed the repair pass."""
    flagged: int = 0
    """Accepted items whose own claim the ranking recomputed differently (a score, say)."""


@dataclass(slots=True)
class _Wire:
    """The dict form, as pydantic checks it on the way back in."""

    __pydantic_config__ = ConfigDict(extra="ignore")

    status: Status
    framing: Framing
    truncated: bool
    summary: str | None
    items: list[dict[str, Any]]
    quarantined: list[QuarantinedItem]
    counts: Counts


@dataclass(slots=True)
class BoundaryResult:
    status: Status
    """clean: all valid, nothing quarantined, not truncated; partial: some item accepted, and
    something quarantined, missing or truncated; failed: no item accepted."""
    framing: Framing
    truncated: bool
    summary: str | None
    items: list[AcceptedItem] = field(default_factory=list)
    """Ranked (by the definition's ranking; without one, in the producer's order)."""
    quarantined: list[QuarantinedItem] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict[str, Any]:
        wire = _Wire(self.status, self.framing, self.truncated, self.summary, [], self.quarantined, self.counts)
        data: dict[str, Any] = _WIRE.dump_python(wire, mode="json")
        data["items"] = [item.to_dict() for item in self.items]
        return data

    @classmethod
    def from_dict(cls, data: Any) -> BoundaryResult:
        """Read a ``to_dict`` back, validating; what the runtime added beside it is ignored."""
        wire = _WIRE.validate_python(data)
        items = []
        for raw in wire.items:
            values = dict(raw)
            provenance = _PROVENANCE.validate_python({name: values.pop(name, None) for name in PROVENANCE})
            items.append(AcceptedItem(values, provenance["repaired"], provenance["line"], provenance["index"]))
        return cls(wire.status, wire.framing, wire.truncated, wire.summary, items, wire.quarantined, wire.counts)

    model_validate = from_dict

    def reask_feedback(self, asked: AskedFraming = "ndjson") -> str:
        """What went wrong, for the producer's next attempt: reasons and our own short details,
        grouped, never its raw text (which may carry the injection that caused the problem),
        and at most REASK_FEEDBACK_CHARS long. ``asked`` is the framing the contract asks for."""
        head = (
            f"{len(self.items)} item(s) usable, {self.counts.quarantined} part(s) rejected"
            + (", and the answer was cut off before the end" if self.truncated else "")
            + ":"
        )
        if asked == "document":
            tail = 'Write one JSON document {"date", "summary", "items": [...]} exactly as the JSON Schema says'
        else:
            tail = "Write one JSON object per line: the summary line, one item line per item, then the end line"
        tail += " (references copied exactly from the input, each item once)."
        groups: dict[tuple[str, str], list[str]] = {}
        for entry in self.quarantined:
            groups.setdefault((entry.reason.value, entry.detail[:_REASK_DETAIL_CHARS]), []).append(_where(entry))
        budget = REASK_FEEDBACK_CHARS - len(head) - len(tail) - 40
        lines: list[str] = []
        for shown, ((reason, detail), places) in enumerate(groups.items()):
            where = ", ".join(places[:3]) + (f" and {len(places) - 3} more like it" if len(places) > 3 else "")
            line = f"- {where}: {reason}: {detail}"
            if len(line) + 1 > budget:
                lines.append(f"- ... and {len(groups) - shown} more kind(s) of problem")
                break
            budget -= len(line) + 1
            lines.append(line)
        return "\n".join([head, *lines, tail])


def _where(entry: QuarantinedItem) -> str:
    if entry.index is not None:
        return f"element {entry.index} of the document's items"
    return f"line {entry.line}" if entry.line is not None else "the report"


_WIRE: TypeAdapter[_Wire] = TypeAdapter(_Wire)
_PROVENANCE: TypeAdapter[_Provenance] = TypeAdapter(_Provenance)
