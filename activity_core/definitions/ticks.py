"""Schedule ticks in wall-clock time. Pure.

Temporal stamps a scheduled fire and an operator's ``temporal schedule trigger`` alike with
``TemporalScheduledStartTime``; only a start time that falls exactly on a tick of the
definition's spec is a scheduled run. Calibration counts only those, and a tick with no
run is a missed run.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from activity_core.definitions.loader import ScheduleSpec


def local_date_of(moment: datetime, time_zone: str) -> date:
    return moment.astimezone(ZoneInfo(time_zone)).date()


def is_schedule_tick(moment: datetime | None, spec: ScheduleSpec) -> bool:
    if moment is None:
        return False
    local = moment.astimezone(ZoneInfo(spec.time_zone))
    return (local.hour, local.minute, local.second, local.microsecond) == (spec.hour, spec.minute, 0, 0)


def tick_on(day: date, spec: ScheduleSpec) -> datetime:
    """The UTC instant of the tick on a local day (DST-aware)."""
    local = datetime.combine(day, time(spec.hour, spec.minute), tzinfo=ZoneInfo(spec.time_zone))
    return local.astimezone(timezone.utc)


def ticks_between(first_day: date, last_day: date, spec: ScheduleSpec) -> list[datetime]:
    """Every tick from ``first_day`` to ``last_day`` inclusive, newest first."""
    days = (last_day - first_day).days
    return [tick_on(last_day - timedelta(days=offset), spec) for offset in range(days + 1)]
