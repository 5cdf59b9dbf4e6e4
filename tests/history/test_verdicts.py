"""Net verdicts: each reviewer's latest; a standing reject breaks the streak. No server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from activity_core.calibration.gate import evaluate
from activity_core.calibration.verdicts import net_verdict
from activity_core.store.feedback import Feedback
from tests.history.factories import tick_evidence

T0 = datetime(2026, 7, 1, 9, tzinfo=UTC)


def verdict(id: int, verdict: str, reviewer: str | None, minutes: int, note: str | None = None) -> Feedback:
    return Feedback(
        id=id,
        run_row_id=1,
        verdict=verdict,
        note=note,
        reviewer=reviewer,
        idempotency_key=f"k{id}",
        progress_event_id=None,
        recorded_at=T0 + timedelta(minutes=minutes),
        posted_at=None,
    )


def test_each_reviewers_latest_verdict_stands() -> None:
    changed_mind = net_verdict([verdict(1, "reject", "alice", 0), verdict(2, "accept", "alice", 5)])
    assert changed_mind.state == "accepted" and changed_mind.describe() == "accepted by alice"
    back_again = net_verdict(
        [verdict(1, "reject", "alice", 0), verdict(2, "accept", "alice", 5), verdict(3, "reject", "alice", 9, "stale")]
    )
    assert back_again.state == "rejected" and back_again.describe() == "rejected by alice: stale"
    two = net_verdict(
        [
            verdict(1, "accept", "alice", 0),
            verdict(2, "reject", "bob", 1, "wrong top item"),
            verdict(3, "accept", None, 2),
        ]
    )
    assert two.state == "rejected" and [f.reviewer for f in two.rejects] == ["bob"]
    assert two.describe() == "rejected by bob: wrong top item; accepted by alice; accepted by an unnamed reviewer"
    assert net_verdict([]).state == "none" and net_verdict([]).describe() == "not reviewed"


def test_a_standing_reject_on_a_run_of_the_streak_breaks_it_and_says_who() -> None:
    days = [date(2026, 7, 1) - timedelta(days=i) for i in range(4)]
    ticks = [tick_evidence(day, "ok", row_id=i + 1) for i, day in enumerate(days)]
    ticks[1] = replace(
        ticks[1], feedback=(verdict(1, "accept", "alice", 0), verdict(2, "reject", "bob", 3, "rank 2 is stale"))
    )
    report = evaluate("triage", ticks, required=3, now=T0, reached_history_start=False)
    assert report.streak == 1 and report.broken_at == 1
    assert report.broken_by == "tick 2026-06-30 (run 2): verdict: rejected by bob: rank 2 is stale"
    assert report.as_dict()["ticks"][1]["verdict"] == {
        "state": "rejected",
        "describe": "rejected by bob: rank 2 is stale; accepted by alice",
        "rejected_by": ["bob"],
    }
    ticks[1] = replace(ticks[1], feedback=(*ticks[1].feedback, verdict(3, "accept", "bob", 7)))
    assert evaluate("triage", ticks, required=3, now=T0, reached_history_start=False).met
