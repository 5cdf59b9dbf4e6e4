"""Is each definition's schedule still firing? The values behind two worker gauges.

``activity_core_last_scheduled_run_timestamp_seconds{definition}``: when the newest on-time
scheduled run started; ``activity_core_missed_ticks{definition}``: how many of the last
``window`` ticks of the definition's spec (from its first scheduled run on) have no on-time
scheduled run. Both reason from the definition and the rows, never from Temporal's schedule,
so a deleted schedule or a stopped scheduler shows up as ticks going missing. Alert rules
compare the timestamp with the schedule's period plus its catch-up window.

``count_missed`` is pure; ``schedule_liveness`` reads the store; ``export_liveness`` is the
worker's periodic task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from activity_core.calibration.gate import DEFAULT_WINDOW, runs_by_tick
from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.schedule import DailySchedule, IntervalSchedule
from activity_core.observability.metrics import Metrics
from activity_core.store.history import HistoryStore
from activity_core.store.models import RunRecord

log = logging.getLogger("activity_core.calibration.liveness")

PICKUP_MARGIN = timedelta(seconds=60)
"""Past the on-time bound, how long a polling worker may take to record a tick's row."""
EXPORT_EVERY_SECONDS = 60.0


@dataclass(frozen=True)
class ScheduleLiveness:
    definition_id: str
    last_scheduled_run_at: datetime | None
    missed_ticks: int


def count_missed(
    spec: DailySchedule | IntervalSchedule,
    ticks: Iterable[datetime],
    runs: Mapping[datetime, RunRecord],
    *,
    first_tick: datetime | None,
    now: datetime,
) -> int:
    """Ticks from the first scheduled run on, past the on-time bound and a worker's pick-up
    margin, whose run is missing or only ``late``."""
    if first_tick is None:
        return 0
    decided_before = now - timedelta(seconds=spec.on_time_seconds) - PICKUP_MARGIN
    return sum(
        1
        for tick in ticks
        if first_tick <= tick <= decided_before and (tick not in runs or runs[tick].trigger != "schedule")
    )


async def schedule_liveness(
    history: HistoryStore, definition: DefinitionBase, *, now: datetime, window: int = DEFAULT_WINDOW
) -> ScheduleLiveness:
    spec = definition.schedule
    ticks = spec.ticks_back(spec.latest_tick(now), window)
    rows = await history.tick_runs_between(definition.id, ticks[-1], ticks[0])
    first = await history.first_scheduled_at(definition.id)
    last = await history.last_scheduled_start(definition.id)
    missed = count_missed(spec, ticks, runs_by_tick(rows), first_tick=first, now=now)
    return ScheduleLiveness(definition.id, last, missed)


async def export_liveness(
    history: HistoryStore,
    definitions: Callable[[], Iterable[DefinitionBase]],
    metrics: Metrics,
    *,
    every_seconds: float = EXPORT_EVERY_SECONDS,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Set the gauges for every definition, then again every ``every_seconds``, until cancelled.

    A failed round (the database away) is logged and retried at the next; it never ends the task.
    """
    while True:
        try:
            now = clock()
            for definition in definitions():
                if not definition.enabled:
                    metrics.forget_schedule(definition.id)  # a paused schedule is not overdue
                    continue
                value = await schedule_liveness(history, definition, now=now)
                last = value.last_scheduled_run_at
                spec = definition.schedule
                metrics.observe_schedule(
                    definition.id,
                    next_tick_at=spec.next_tick(last or now).timestamp(),
                    catchup_window_seconds=spec.catchup_window_seconds,
                    missed_ticks=value.missed_ticks,
                    last_scheduled_run_at=last.timestamp() if last else None,
                )
        except Exception as exc:
            log.warning("could not compute the schedule gauges: %s", exc)
        await asyncio.sleep(every_seconds)
