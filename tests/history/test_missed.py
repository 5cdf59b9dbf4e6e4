"""Why a tick has no run, and the schedule gauges' values: pure functions, no server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from activity_core.calibration.gate import runs_by_tick
from activity_core.calibration.liveness import PICKUP_MARGIN, count_missed
from activity_core.calibration.missed import Fired, Happened, ScheduleStatus, running_at, tick_workflow_id, why_missed
from activity_core.definitions.schedule import IntervalSchedule
from tests.history.factories import SPEC, make_run

DAY = date(2026, 7, 1)
TICK = SPEC.tick_on(DAY)
ACTIVE = ScheduleStatus("active")
ABSENT = (Fired.ABSENT, "Temporal started no workflow x")


def test_the_tick_workflow_id_is_the_schedule_action_id_and_the_tick() -> None:
    assert tick_workflow_id("daily-statehub-wsjf-triage", TICK) == "daily-statehub-wsjf-triage-2026-07-01T05:20:00Z"


def test_a_run_still_going_at_the_tick_explains_an_overlap_skip() -> None:
    busy = make_run(DAY - timedelta(days=1), id=7, status="running")
    assert running_at(TICK, [busy]) == busy
    done = make_run(DAY - timedelta(days=1), id=8)
    assert running_at(TICK, [done]) is None
    happened, detail = why_missed(ABSENT, tick=TICK, schedule=ACTIVE, overlap="skip", busy=busy)
    assert happened is Happened.SKIPPED_OVERLAP and "run 7 (schedule) was still running" in detail
    assert why_missed(ABSENT, tick=TICK, schedule=ACTIVE, overlap="allow_all", busy=busy)[0] is Happened.NOT_FIRED


def test_paused_only_when_paused_now_and_not_fired_since() -> None:
    paused = ScheduleStatus("paused", note="llm-connect maintenance", last_fired=TICK - timedelta(days=1))
    assert why_missed(ABSENT, tick=TICK, schedule=paused, overlap="skip", busy=None) == (
        Happened.PAUSED,
        "paused: llm-connect maintenance",
    )
    fired_since = ScheduleStatus("paused", note="n", last_fired=TICK + timedelta(days=1))
    assert why_missed(ABSENT, tick=TICK, schedule=fired_since, overlap="skip", busy=None)[0] is Happened.NOT_FIRED


def test_deleted_schedules_closed_workflows_and_unknowns() -> None:
    happened, detail = why_missed(ABSENT, tick=TICK, schedule=ScheduleStatus("absent"), overlap="skip", busy=None)
    assert happened is Happened.NOT_FIRED and detail.endswith("the schedule no longer exists in Temporal")
    closed = (Fired.CLOSED, "fired as x, which timed_out before it recorded a run")
    assert why_missed(closed, tick=TICK, schedule=ACTIVE, overlap="skip", busy=None) == (
        Happened.FIRED_NO_ROW,
        closed[1],
    )
    unknown = (Fired.UNKNOWN, "Temporal at y is unreachable")
    assert why_missed(unknown, tick=TICK, schedule=ACTIVE, overlap="skip", busy=None)[0] is Happened.UNKNOWN


def test_count_missed_counts_decided_ticks_without_an_on_time_run() -> None:
    spec = IntervalSchedule(every_seconds=60, on_time_seconds=30)
    newest = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    ticks = spec.ticks_back(newest, 10)
    late = make_run(DAY, id=3, trigger="late", tick_at=ticks[4], scheduled_at=ticks[4])
    on_time = [make_run(DAY, id=10 + i, tick_at=t, scheduled_at=t) for i, t in enumerate(ticks) if i not in (2, 4, 9)]
    runs = runs_by_tick([late, *on_time])
    now = newest + timedelta(seconds=30) + PICKUP_MARGIN  # the newest tick is just decided
    assert count_missed(spec, ticks, runs, first_tick=ticks[8], now=now) == 2  # 2 and 4 (late); 9 is before history
    assert count_missed(spec, ticks, runs, first_tick=None, now=now) == 0
    assert count_missed(spec, ticks, {}, first_tick=ticks[-1], now=newest) == 8  # the newest two are undecided
