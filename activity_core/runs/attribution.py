"""How a run was fired, decided from what Temporal stamped on it and the definition's spec. Pure.

Temporal stamps a schedule's action, an operator's ``temporal schedule trigger`` and a
backfill alike with ``TemporalScheduledById`` and ``TemporalScheduledStartTime``; only the
start time tells them apart. A backfill's start time is a tick of the spec, but Temporal
starts it when the operator asks, so its lag past the tick gives it away: nobody can make a
scheduled run by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from activity_core.definitions.schedule import DailySchedule, IntervalSchedule
from activity_core.runs.models import Trigger


@dataclass(frozen=True)
class Attribution:
    trigger: Trigger
    tick_at: datetime | None
    start_lag_seconds: float | None


def attribute(
    spec: DailySchedule | IntervalSchedule | None,
    *,
    started_at: datetime,
    scheduled_at: datetime | None,
    scheduled_by: str | None,
) -> Attribution:
    """``started_at`` is when Temporal started the workflow (not when a worker picked it up)."""
    if scheduled_by is None or scheduled_at is None:
        return Attribution(Trigger.MANUAL, None, None)
    lag = round((started_at - scheduled_at).total_seconds(), 3)
    if spec is None or not spec.is_tick(scheduled_at):
        return Attribution(Trigger.TRIGGER, None, lag)
    on_time = lag <= spec.on_time_seconds
    return Attribution(Trigger.SCHEDULE if on_time else Trigger.LATE, scheduled_at, lag)
