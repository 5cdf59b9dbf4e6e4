"""The calibration gate on real scheduled runs: Temporal, PostgreSQL and the State Hub emulator."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from activity_core.calibration.gate import (
    Check,
    GateReport,
    NoScheduledRuns,
    Piece,
    Unreachable,
    calibration_status,
    describe_lag,
)
from activity_core.calibration.liveness import PICKUP_MARGIN, export_liveness, schedule_liveness
from activity_core.calibration.missed import Happened
from activity_core.clients.state_hub import StateHubClient
from activity_core.commands.calibration import connect_temporal_or_unreachable
from activity_core.devstack.embedded import free_port
from activity_core.observability.metrics import Metrics
from activity_core.settings import Settings
from tests.history.conftest import EVERY_SECONDS, ON_TIME_SECONDS, PAUSE_NOTE, ScheduledHistory, Story

pytestmark = pytest.mark.integration


async def status(
    h: ScheduledHistory, story: Story, now: datetime, *, temporal=None, state_hub=None, definition=None
) -> GateReport:
    return await calibration_status(
        h.history,
        h.feedback,
        temporal or h.client,
        state_hub or h.harness.deps.state_hub,
        definition or story.definition,
        required=3,
        now=now,
    )


def checks(report: GateReport, tick: datetime) -> dict[Piece, Check]:
    found = next(t for t in report.ticks if t.tick == tick)
    return {piece: evidence.check for piece, evidence in found.evidence.items()}


ALL_PASSED = {piece: Check.PASSED for piece in Piece}


async def test_three_clean_scheduled_runs_meet_the_gate_despite_a_manual_run_between(
    scheduled_history: ScheduledHistory,
) -> None:
    h, story = scheduled_history, scheduled_history.story("clean")
    report = await status(h, story, story.after(-1))

    assert report.met and report.streak == 3 and report.broken_by is None
    assert [t.tick for t in report.ticks] == story.ticks[::-1]
    assert all(checks(report, tick) == ALL_PASSED for tick in story.ticks)
    assert report.reached_history_start  # the walk stopped at the first scheduled run, not at a "missed" tick

    figures = {f.key: f.value for f in report.figures}
    assert figures["clean_rate"] == 1.0 and figures["clean_rate_wilson_lower_95"] == pytest.approx(0.4385, abs=1e-4)
    assert figures["missed_ticks"] == 0 and 0 <= figures["start_lag_worst_s"] < ON_TIME_SECONDS
    assert (
        figures["quarantine_rate"] == 0 and figures["top3_overlap_mean"] == 1.0 and figures["kendall_tau_mean"] == 1.0
    )

    second, third = await h.run_at(story, 1), await h.run_at(story, 2)
    assert h.manual_run is not None and second.finished_at < h.manual_run.started_at < third.started_at


async def test_a_partial_run_in_the_middle_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("partial")
    report = await status(h, story, story.after(2))

    assert not report.met and report.streak == 1
    broken = report.ticks[report.broken_at]
    assert broken.tick == story.ticks[1] and broken.run.status == "partial"
    assert checks(report, story.ticks[1]) == {**ALL_PASSED, Piece.ROW: Check.FAILED}
    assert "row: status partial" in report.broken_by
    figures = {f.key: f.value for f in report.figures}
    assert figures["clean_rate"] == pytest.approx(2 / 3) and figures["quarantine_rate"] > 0


async def test_a_tick_the_paused_schedule_never_fired_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("missed")
    assert len(story.ticks) == 5 and await h.history.tick_runs_between(story.id, story.ticks[1], story.ticks[1]) == []
    report = await status(h, story, story.after(-1))

    assert report.streak == 3 and report.met
    broken = report.ticks[report.broken_at]
    assert broken.tick == story.ticks[1] and broken.run is None
    assert "missed" in report.broken_by
    assert not (await status(h, story, story.after(2))).met  # two runs after the missed tick are not enough


async def test_a_backfilled_tick_is_late_and_breaks_the_streak(
    scheduled_history: ScheduledHistory,
) -> None:
    h, story = scheduled_history, scheduled_history.story("late")
    [backfill] = await h.history.tick_runs_between(story.id, story.ticks[1], story.ticks[1])
    assert backfill.trigger == "late" and backfill.status == "clean" and backfill.start_lag_seconds > ON_TIME_SECONDS

    report = await status(h, story, story.after(3))
    assert report.streak == 2 and report.ticks[report.broken_at].tick == story.ticks[1]  # judged before the backfill
    assert report.ticks[report.broken_at].run.row_id == backfill.id
    assert f"late: its only run started {describe_lag(backfill.start_lag_seconds)} after the tick" in report.broken_by

    report = await status(h, story, story.after(4))
    assert report.met and report.streak == 3 and report.ticks[report.broken_at].tick == story.ticks[1]


async def test_a_tick_skipped_by_overlap_says_which_run_was_still_going(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("partial")
    slow = await h.run_at(story, 3)
    report = await status(h, story, story.after(5))

    assert report.streak == 1 and report.ticks[report.broken_at].tick == story.ticks[4]
    skipped = report.ticks[report.broken_at]
    assert skipped.happened is Happened.SKIPPED_OVERLAP
    assert f"skipped by overlap: run {slow.id} (schedule) was still running at the tick" in report.broken_by
    assert [t.happened for t in report.ticks] == [Happened.RAN, Happened.SKIPPED_OVERLAP] + [Happened.RAN] * 4


async def test_the_ticks_of_a_schedule_left_paused_say_so_with_its_note(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("missed")
    now = story.ticks[-1] + timedelta(seconds=3 * EVERY_SECONDS + ON_TIME_SECONDS + 0.5)
    report = await status(h, story, now)

    assert report.schedule.state == "paused" and report.schedule.note == PAUSE_NOTE
    assert [t.happened for t in report.ticks[:4]] == [Happened.PENDING] + [Happened.PAUSED] * 3
    assert report.ticks[1].account() == f"paused: {PAUSE_NOTE}"
    missed = next(t for t in report.ticks if t.tick == story.ticks[1])
    assert missed.happened is Happened.NOT_FIRED  # paused then, but it fired since: only "not fired" is known
    assert missed.account().startswith(f"not fired: Temporal started no workflow {story.id}-")


async def test_a_deleted_schedule_still_shows_its_missed_ticks(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("no_event")
    report = await status(h, story, story.ticks[-1] + timedelta(seconds=EVERY_SECONDS + ON_TIME_SECONDS + 0.5))

    assert report.schedule.state == "absent" and not report.met and report.streak == 0
    first_gone = report.ticks[1]  # the newest is still within its on-time bound
    assert report.ticks[0].pending and first_gone.tick == story.ticks[-1] + timedelta(seconds=EVERY_SECONDS)
    assert (
        first_gone.happened is Happened.NOT_FIRED
        and "the schedule no longer exists in Temporal" in first_gone.account()
    )


async def test_the_schedule_gauges_count_the_missed_tick_and_time_the_last_run(
    scheduled_history: ScheduledHistory,
) -> None:
    h, story = scheduled_history, scheduled_history.story("missed")
    now = story.ticks[-1] + timedelta(seconds=ON_TIME_SECONDS) + PICKUP_MARGIN + timedelta(seconds=1)
    value = await schedule_liveness(h.history, story.definition, now=now)
    last = await h.run_at(story, -1)
    assert value.missed_ticks == 1 and value.last_scheduled_run_at == last.started_at

    metrics = Metrics()

    def gauge(name: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"definition": story.id})

    task = asyncio.create_task(
        export_liveness(h.history, lambda: [story.definition], metrics, every_seconds=0.1, clock=lambda: now)
    )
    try:
        for _ in range(100):
            if gauge("activity_core_missed_ticks") is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        task.cancel()
    assert gauge("activity_core_last_scheduled_run_timestamp_seconds") == last.started_at.timestamp()
    assert gauge("activity_core_missed_ticks") == 1


async def test_a_tick_whose_run_may_still_come_neither_counts_nor_breaks(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("missed")
    report = await status(h, story, story.ticks[1] + timedelta(seconds=1))

    assert report.ticks[0].pending and report.ticks[0].tick == story.ticks[1]
    assert report.streak == 1 and report.broken_at is None and report.reached_history_start


async def test_a_missing_note_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("no_note")
    run = await h.run_at(story, 1)
    assert h.state_hub.delete_note(run.note_key)

    report = await status(h, story, story.after(-1))

    assert report.streak == 1 and report.ticks[report.broken_at].tick == story.ticks[1]
    assert checks(report, story.ticks[1]) == {**ALL_PASSED, Piece.NOTE: Check.FAILED}
    assert f"note {run.note_key} is not in State Hub" in report.broken_by


async def test_a_missing_progress_event_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("no_event")
    run = await h.run_at(story, 1)
    assert h.state_hub.delete_progress_event(run.progress_event_id)

    report = await status(h, story, story.after(-1))

    assert report.streak == 1 and report.ticks[report.broken_at].tick == story.ticks[1]
    assert checks(report, story.ticks[1]) == {**ALL_PASSED, Piece.PROGRESS: Check.FAILED}


async def test_state_hub_unreachable_is_unknown_and_never_passes(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("clean")
    async with StateHubClient(f"http://127.0.0.1:{free_port()}", token="x" * 16, timeout_seconds=2) as down:
        report = await status(h, story, story.after(-1), state_hub=down)

    assert not report.met and report.streak == 0
    assert checks(report, story.ticks[2]) == {**ALL_PASSED, Piece.PROGRESS: Check.UNKNOWN, Piece.NOTE: Check.UNKNOWN}
    assert "State Hub could not be asked" in report.broken_by and "ConnectError" in report.broken_by


async def test_temporal_unreachable_is_unknown_and_never_passes(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("clean")
    temporal = await connect_temporal_or_unreachable(Settings(temporal_address=f"127.0.0.1:{free_port()}"))
    assert isinstance(temporal, Unreachable)

    report = await status(h, story, story.after(-1), temporal=temporal)

    assert not report.met
    assert checks(report, story.ticks[2]) == {**ALL_PASSED, Piece.TEMPORAL: Check.UNKNOWN}
    assert "Temporal at 127.0.0.1:" in report.broken_by and "unreachable" in report.broken_by


async def test_no_scheduled_run_is_a_clear_error(scheduled_history: ScheduledHistory) -> None:
    h, story = scheduled_history, scheduled_history.story("clean")
    with pytest.raises(NoScheduledRuns, match="has no scheduled run at or before"):
        await status(h, story, story.ticks[0] - timedelta(seconds=EVERY_SECONDS))
    never = story.definition.model_copy(update={"id": "triage-never-scheduled"})
    with pytest.raises(NoScheduledRuns, match="'triage-never-scheduled' has no scheduled run"):
        await status(h, story, story.after(-1), definition=never)
