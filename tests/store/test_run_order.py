"""History lists order runs by the run's time (its tick, else its start), so a backfill for
last week's ticks sorts among last week's runs, not above today's."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from activity_core.store import RunFinished, RunQuery, RunStarted, RunStore
from activity_core.store.history import HistoryStore

DEFINITION = "daily-statehub-wsjf-triage"
BACKFILLED_AT = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)


def _tick(day: int) -> datetime:
    return datetime(2026, 6, day, 5, 20, tzinfo=UTC)  # 07:20 Europe/Berlin


async def _record(store: RunStore, workflow_id: str, *, day: int, started_at: datetime, scheduled: bool) -> None:
    await store.record_run_started(
        RunStarted(
            definition_id=DEFINITION,
            kind="instruction",
            workflow_id=workflow_id,
            run_id="r",
            trigger="schedule" if scheduled else "manual",
            scheduled_at=_tick(day) if scheduled else None,
            tick_at=_tick(day) if scheduled else None,
            local_date=date(2026, 6, day),
            started_at=started_at,
        )
    )
    await store.record_run_finished(
        RunFinished(workflow_id=workflow_id, run_id="r", status="clean", finished_at=started_at + timedelta(seconds=40))
    )


async def _history(store: RunStore) -> None:
    for day in (15, 16):  # fired on time
        await _record(store, f"tick-{day}", day=day, started_at=_tick(day) + timedelta(seconds=2), scheduled=True)
    await _record(store, "manual-13", day=13, started_at=datetime(2026, 6, 13, 9, 0, tzinfo=UTC), scheduled=False)
    for offset, day in enumerate((10, 11, 12)):  # a backfill of missed ticks, run on the 17th
        await _record(
            store, f"backfill-{day}", day=day, started_at=BACKFILLED_AT + timedelta(minutes=offset), scheduled=True
        )


async def test_runs_list_is_in_date_order_with_backfilled_runs_among_their_days(store: RunStore) -> None:
    await _history(store)

    listed = await store.list_runs(RunQuery())

    assert [r.local_date.day for r in listed] == [16, 15, 13, 12, 11, 10]
    assert [r.workflow_id for r in await store.list_runs(RunQuery(trigger="schedule", limit=2))] == [
        "tick-16",
        "tick-15",
    ]


async def test_since_counts_a_backfilled_run_on_its_tick(store: RunStore) -> None:
    await _history(store)

    listed = await store.list_runs(RunQuery(since=date(2026, 6, 14)))

    assert [r.workflow_id for r in listed] == ["tick-16", "tick-15"]


async def test_the_latest_report_is_the_newest_day_not_the_newest_backfill(store: RunStore, pool) -> None:
    await _history(store)

    latest = await HistoryStore(pool, timeout=10).latest_report(DEFINITION)

    assert latest is not None and latest.workflow_id == "tick-16"
