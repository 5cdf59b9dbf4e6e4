"""What the boundary hands to the rest of the system: a ``BoundaryResult``.

Plain dataclasses, because the parser builds one per accepted item and a pydantic model's
validating constructor would cost more than validating the item did. Their (de)serialisation
still goes through pydantic (``to_dict`` / ``from_dict``), so the dict that crosses Temporal
and lands in PostgreSQL is checked on the way back in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ConfigDict, TypeAdapter

from activity_core.boundary.models import Wsjf
from activity_core.boundary.reasons import QuarantineReason

Status = Literal["clean", "partial", "failed"]
Framing = Literal["ndjson", "document", "none"]

SNIPPET_CHARS = 512
REASK_FEEDBACK_CHARS = 2000
_REASK_DETAIL_CHARS = 160

_FORBID = ConfigDict(extra="forbid")


@dataclass(slots=True)
class AcceptedItem:
    """A recommendation that passed every check: its contract fields as written, plus what
    the boundary computed and where the item came from."""

    __pydantic_config__ = _FORBID

    rank: int
    candidate: str
    title: str
    wsjf: Wsjf
    rationale: str
    next_action: str
    computed_score: float
    score_mismatch: bool
    """The producer's ``wsjf.score`` disagrees with the components."""
    repaired: bool
    line: int | None
    """1-based line of the item (a legacy element: its first line)."""
    index: int | None = None
    """0-based position in a legacy document's ``recommendations``."""


@dataclass(slots=True)
class QuarantinedItem:
    """A unit that was not accepted, with enough provenance to debug or replay it."""

    __pydantic_config__ = _FORBID

    reason: QuarantineReason
    detail: str
    """What was wrong, in our words: never more than a few characters of the input."""
    snippet: str
    """The start of the raw unit, at most SNIPPET_CHARS characters."""
    line: int | None
    """1-based line (a legacy element: its first line; a range: its first line)."""
    end_line: int | None = None
    """Last line, when the entry covers a range of lines."""
    index: int | None = None
    """0-based position in a legacy document's ``recommendations``."""
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
    score_mismatches: int = 0


@dataclass(slots=True)
class BoundaryResult:
    # The runtime may annotate the dict it carries (a re-ask's feedback, say); the parts the
    # boundary wrote are still checked strictly.
    __pydantic_config__ = ConfigDict(extra="ignore")

    status: Status
    """clean: all valid, nothing quarantined, not truncated; partial: some item accepted, and
    something quarantined, missing or truncated; failed: no item accepted."""
    framing: Framing
    truncated: bool
    summary: str | None
    items: list[AcceptedItem] = field(default_factory=list)
    """Ranked by computed WSJF, best first."""
    quarantined: list[QuarantinedItem] = field(default_factory=list)
    counts: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict[str, Any]:
        return _ADAPTER.dump_python(self, mode="json")  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, data: Any) -> BoundaryResult:
        return _ADAPTER.validate_python(data)

    model_validate = from_dict

    def reask_feedback(self) -> str:
        """What went wrong, for the producer's next attempt: reasons and our own short details,
        grouped, never its raw text (which may carry the injection that caused the problem),
        and at most REASK_FEEDBACK_CHARS long."""
        head = (
            f"{len(self.items)} item(s) usable, {self.counts.quarantined} part(s) rejected"
            + (", and the answer was cut off before the end line" if self.truncated else "")
            + ":"
        )
        tail = (
            "Write one JSON object per line: the summary line, one item line per recommendation "
            "(candidate copied exactly from the planning state, each candidate once), then the end line."
        )
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
        return f"recommendations[{entry.index}]"
    return f"line {entry.line}" if entry.line is not None else "the report"


_ADAPTER: TypeAdapter[BoundaryResult] = TypeAdapter(BoundaryResult)
