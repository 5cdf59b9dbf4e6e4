"""The books of one parse: every non-blank line is entered exactly once, under one fate.

Accepting an item is where the run-level rules live: the reference allow-list, one item per
candidate, the item cap. Quarantining is bounded: after ``max_quarantine_entries`` the
caller stops and enters the rest as one range.
"""

from __future__ import annotations

from collections.abc import Collection

from activity_core.boundary.contract import OutputContract
from activity_core.boundary.models import Recommendation
from activity_core.boundary.ranking import assess, ordered
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.result import SNIPPET_CHARS, AcceptedItem, Counts, QuarantinedItem

R = QuarantineReason
_QUOTED = 16


def quoted(value: str) -> str:
    """A producer-chosen value in a detail: clipped and escaped, so it reads as data."""
    return repr(value[:_QUOTED]) + ("…" if len(value) > _QUOTED else "")


class Ledger:
    def __init__(self, contract: OutputContract, known_refs: Collection[str]) -> None:
        self._top_n = contract.top_n
        self._max_entries = contract.limits.max_quarantine_entries
        self._known = known_refs if isinstance(known_refs, (set, frozenset)) else frozenset(known_refs)
        self._accepted_at: dict[str, int | None] = {}
        self._order: list[float] = []
        self.accepted: list[AcceptedItem] = []
        self.quarantined: list[QuarantinedItem] = []
        self.counts = Counts()
        self.full = False
        """The quarantine budget is spent: the caller stops and enters the rest with ``give_up``."""
        self.at_cap = False
        """``top_n`` items are accepted: later items are quarantined without parsing."""

    def envelope(self, lines: int = 1) -> None:
        self.counts.envelope_lines += lines

    def trailer(self, lines: int = 1) -> None:
        self.counts.trailer_lines += lines

    def ignore(self, lines: int = 1) -> None:
        self.counts.ignored_lines += lines

    def quarantine(
        self,
        reason: QuarantineReason,
        detail: str,
        raw: str,
        *,
        line: int | None,
        end_line: int | None = None,
        index: int | None = None,
        repaired: bool = False,
        lines: int = 1,
    ) -> None:
        self.quarantined.append(QuarantinedItem(reason, detail, raw[:SNIPPET_CHARS], line, end_line, index, repaired))
        self.counts.quarantined_lines += lines
        self.full = len(self.quarantined) >= self._max_entries

    def over_cap(self, raw: str, *, line: int | None, index: int | None = None, lines: int = 1) -> None:
        detail = f"{self._top_n} items were already accepted (top_n)"
        self.quarantine(R.OVER_ITEM_CAP, detail, raw, line=line, index=index, lines=lines)

    def give_up(self, raw: str, *, line: int, end_line: int, lines: int, envelope: bool = False) -> None:
        """Enter everything from ``line`` on (and a legacy ``envelope``) as one range: the
        quarantine budget is spent."""
        rest = "the rest, and the document's envelope, were" if envelope else "the rest was"
        detail = f"{len(self.quarantined)} entries quarantined (max_quarantine_entries); {rest} not examined"
        self.quarantine(R.TOO_MANY_ERRORS, detail, raw, line=line, end_line=end_line, lines=lines)

    def offer(
        self, item: Recommendation, raw: str, *, line: int | None, index: int | None = None, repaired: bool, lines: int = 1
    ) -> None:
        """Accept a schema-valid item unless a run-level rule says otherwise."""
        candidate = item.candidate
        if candidate not in self._known:
            detail = f"candidate {quoted(candidate)} is not one of the {len(self._known)} State Hub ids read for this run"
            self.quarantine(R.UNKNOWN_REFERENCE, detail, raw, line=line, index=index, repaired=repaired, lines=lines)
        elif candidate in self._accepted_at:
            first = self._accepted_at[candidate]
            detail = f"candidate {quoted(candidate)} was already recommended" + (f" at line {first}" if first else "")
            self.quarantine(R.DUPLICATE_CANDIDATE, detail, raw, line=line, index=index, repaired=repaired, lines=lines)
        elif self.at_cap:
            self.over_cap(raw, line=line, index=index, lines=lines)
        else:
            score, mismatch, order = assess(item.wsjf, item.rank)
            self._accepted_at[candidate] = line
            self._order.append(order)
            self.accepted.append(
                AcceptedItem(
                    item.rank,
                    candidate,
                    item.title,
                    item.wsjf,
                    item.rationale,
                    item.next_action,
                    score,
                    mismatch,
                    repaired,
                    line,
                    index,
                )
            )
            self.at_cap = len(self.accepted) >= self._top_n
            counts = self.counts
            counts.item_lines += lines
            if repaired:
                counts.repaired += 1
            if mismatch:
                counts.score_mismatches += 1

    def ranked(self) -> list[AcceptedItem]:
        return ordered(self.accepted, self._order)

    def final_counts(self, nonblank_lines: int) -> Counts:
        counts = self.counts
        counts.lines = nonblank_lines
        counts.accepted = len(self.accepted)
        counts.quarantined = len(self.quarantined)
        return counts
