"""A run's net verdict: each reviewer's latest. Pure.

Reviewers may change their mind; only where each of them stands now counts. A standing
reject on a run of the streak breaks it: the gate is evidence *and* the reviewers' reading.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from activity_core.store.feedback import Feedback

UNNAMED = "an unnamed reviewer"


@dataclass(frozen=True)
class NetVerdict:
    latest: tuple[Feedback, ...]
    """Each reviewer's latest verdict, oldest first."""

    @property
    def rejects(self) -> tuple[Feedback, ...]:
        return tuple(f for f in self.latest if f.verdict == "reject")

    @property
    def accepts(self) -> tuple[Feedback, ...]:
        return tuple(f for f in self.latest if f.verdict == "accept")

    @property
    def state(self) -> str:
        """``rejected`` (any standing reject), ``accepted``, or ``none`` (nobody reviewed it)."""
        if self.rejects:
            return "rejected"
        return "accepted" if self.accepts else "none"

    def describe(self) -> str:
        if not self.latest:
            return "not reviewed"
        return "; ".join(_one(f) for f in (*self.rejects, *self.accepts))


def reviewer_name(feedback: Feedback) -> str:
    return feedback.reviewer or UNNAMED


def _one(feedback: Feedback) -> str:
    note = f": {feedback.note}" if feedback.note else ""
    return f"{feedback.verdict}ed by {reviewer_name(feedback)}{note}"


def net_verdict(feedback: Sequence[Feedback]) -> NetVerdict:
    latest: dict[str | None, Feedback] = {}
    for entry in sorted(feedback, key=lambda f: (f.recorded_at, f.id)):
        latest[entry.reviewer] = entry
    return NetVerdict(tuple(sorted(latest.values(), key=lambda f: (f.recorded_at, f.id))))
