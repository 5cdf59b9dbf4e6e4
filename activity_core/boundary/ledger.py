"""The books of one parse: every non-blank line is entered exactly once, under one fate.

Accepting an item is where the run-level rules live: no secret-shaped text, the reference
allow-list, one item per set of references, the item cap; then the ranking's assessment.
Quarantining is bounded: after ``max_quarantine_entries`` the caller stops and enters the
rest as one range.
"""

from __future__ import annotations

from collections.abc import Collection
from itertools import repeat
from typing import Any

from activity_core.boundary.compiled import strings
from activity_core.boundary.contract import OutputContract
from activity_core.boundary.reasons import QuarantineReason
from activity_core.boundary.result import SNIPPET_CHARS, AcceptedItem, Counts, QuarantinedItem
from activity_core.boundary.secrets import find_secret, redact
from activity_core.boundary.spec import ReportSpec
from activity_core.boundary.validators import UnitKinds

R = QuarantineReason
_QUOTED = 16


def quoted(value: str) -> str:
    """A producer-chosen value in a detail: clipped and escaped, so it reads as data."""
    return repr(value[:_QUOTED]) + ("…" if len(value) > _QUOTED else "")


class Ledger:
    def __init__(
        self,
        contract: OutputContract,
        spec: ReportSpec,
        kinds: UnitKinds,
        known_refs: Collection[str],
        *,
        secrets: bool,
    ) -> None:
        """``secrets``: the answer holds an anchor of a secret pattern, so units are checked for them."""
        self._top_n = contract.top_n
        self._max_entries = contract.limits.max_quarantine_entries
        self._known = known_refs if isinstance(known_refs, (set, frozenset)) else frozenset(known_refs)
        fields = spec.items.reference_fields
        self._reference_fields = fields
        self._references = kinds.references
        self._single_reference = len(fields) == 1
        self._ranking = spec.ranking
        self._secrets = secrets
        self._accepted_at: dict[Any, int | None] = {}
        self._accepted: list[AcceptedItem] = []
        self._decoded: list[Any] = []
        """The accepted items as decoded, for the ranking."""
        self._computed = spec.ranking.computed if spec.ranking is not None else None
        self.quarantined: list[QuarantinedItem] = []
        self.counts = Counts()
        self.full = False
        """The quarantine budget is spent: the caller stops and enters the rest with ``give_up``."""
        self.at_cap = False
        """``top_n`` items are accepted: later items are quarantined without parsing."""

    def envelope(self, lines: int = 1) -> None:
        self.counts.envelope_lines += lines

    def summary(self, text: str) -> str:
        """The envelope's summary as it may be passed on: secret-shaped strings become the marker."""
        return redact(text) if self._secrets else text

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
        # Redact a window longer than the snippet, so a secret cut by the clip is still recognised.
        snippet = redact(raw[: 2 * SNIPPET_CHARS])[:SNIPPET_CHARS] if self._secrets else raw[:SNIPPET_CHARS]
        self.quarantined.append(QuarantinedItem(reason, detail, snippet, line, end_line, index, repaired))
        self.counts.quarantined_lines += lines
        self.full = len(self.quarantined) >= self._max_entries

    def over_cap(self, raw: str, *, line: int | None, index: int | None = None, lines: int = 1) -> None:
        detail = f"{self._top_n} items were already accepted (top_n)"
        self.quarantine(R.OVER_ITEM_CAP, detail, raw, line=line, index=index, lines=lines)

    def give_up(self, raw: str, *, line: int, end_line: int, lines: int, envelope: bool = False) -> None:
        """Enter everything from ``line`` on (and a document's ``envelope``) as one range: the
        quarantine budget is spent."""
        rest = "the rest, and the document's envelope, were" if envelope else "the rest was"
        detail = f"{len(self.quarantined)} entries quarantined (max_quarantine_entries); {rest} not examined"
        self.quarantine(R.TOO_MANY_ERRORS, detail, raw, line=line, end_line=end_line, lines=lines)

    def offer(self, item: Any, raw: str, line: int | None, index: int | None, repaired: bool, lines: int = 1) -> None:
        """Accept a schema-valid item (as decoded) unless a run-level rule says otherwise.
        (Positional arguments: this runs once per item line.)"""
        if self._secrets and (found := self._secret_in(item)):
            self.quarantine(R.SECRET_DETECTED, found, raw, line=line, index=index, repaired=repaired, lines=lines)
            return
        references = self._references(item)
        known = references in self._known if self._single_reference else self._unknown(references) is None
        if not known:
            detail = self._unknown(references) or ""
            self.quarantine(R.UNKNOWN_REFERENCE, detail, raw, line=line, index=index, repaired=repaired, lines=lines)
        elif references in self._accepted_at:
            first = self._accepted_at[references]
            detail = f"{self._describe(references)} already named by an accepted item" + (
                f" at line {first}" if first else ""
            )
            self.quarantine(R.DUPLICATE_CANDIDATE, detail, raw, line=line, index=index, repaired=repaired, lines=lines)
        elif self.at_cap:
            self.over_cap(raw, line=line, index=index, lines=lines)
        else:
            self._accepted_at[references] = line
            accepted = self._accepted
            accepted.append(AcceptedItem(item, repaired, line, index, self._computed))
            self._decoded.append(item)
            self.at_cap = len(accepted) >= self._top_n
            self.counts.item_lines += lines
            if repaired:
                self.counts.repaired += 1

    def accept_all(self, items: list[Any], *, first_line: int) -> bool:
        """Accept consecutive item lines in one go when no rule could refuse any of them (no
        secret anchor in the answer, every reference known and new, the cap not reached), as
        ``offer`` would one by one; False (nothing entered) otherwise."""
        accepted = self._accepted
        if self._secrets or self.full or len(accepted) + len(items) > self._top_n:
            return False
        references = list(map(self._references, items))
        if len(set(references)) != len(references) or not self._accepted_at.keys().isdisjoint(references):
            return False
        if self._single_reference:
            if not self._known.issuperset(references):
                return False
        elif any(self._unknown(values) for values in references):
            return False
        lines = range(first_line, first_line + len(items))
        self._accepted_at.update(zip(references, lines, strict=True))
        accepted.extend(map(AcceptedItem, items, repeat(False), lines, repeat(None), repeat(self._computed)))
        self._decoded.extend(items)
        self.at_cap = len(accepted) >= self._top_n
        self.counts.item_lines += len(items)
        return True

    @property
    def accepted(self) -> int:
        return len(self._accepted)

    def _unknown(self, references: Any) -> str | None:
        known = self._known
        if self._single_reference:
            if references in known:
                return None
            pairs = [(self._reference_fields[0], references)]
        else:
            pairs = [
                (name, value)
                for name, value in zip(self._reference_fields, references, strict=True)
                if value not in known
            ]
            if not pairs:
                return None
        name, value = pairs[0]
        return f"{name} {quoted(value)} is not one of the {len(known)} ids known to this run"

    def _describe(self, references: Any) -> str:
        if self._single_reference:
            return f"{self._reference_fields[0]} {quoted(references)} was"
        return f"{', '.join(self._reference_fields)} {', '.join(map(quoted, references))} were"

    @staticmethod
    def _secret_in(item: Any) -> str | None:
        for text in strings(item):
            if kind := find_secret(text):
                return f"a text field holds what looks like a {kind}; the item is not passed on"
        return None

    def ranked(self) -> list[AcceptedItem]:
        """The accepted items in the ranking's order (without a ranking, in the producer's)."""
        accepted = self._accepted
        if self._ranking is None or not accepted:
            return accepted
        keys, flags = zip(*map(self._ranking.assess, self._decoded), strict=True)
        self.counts.flagged = sum(flags)
        # A stable sort of positions by their float keys: ties keep the producer's order.
        return [accepted[position] for position in sorted(range(len(keys)), key=keys.__getitem__)]

    def final_counts(self, nonblank_lines: int) -> Counts:
        counts = self.counts
        counts.lines = nonblank_lines
        counts.accepted = len(self._accepted)
        counts.quarantined = len(self.quarantined)
        return counts
