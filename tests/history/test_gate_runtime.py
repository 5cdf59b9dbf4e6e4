"""The calibration gate on real scheduled runs: Temporal, PostgreSQL and the State Hub emulator."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from activity_core.calibration.gate import Check, GateReport, NoScheduledRuns, Piece, Unreachable, calibration_status
from activity_core.clients.state_hub import StateHubClient
from activity_core.commands.calibration import connect_temporal_or_unreachable
from activity_core.devstack.embedded import free_port
from activity_core.settings import Settings
from activity_core.store.models import RunQuery
from tests.history.conftest import CLEAN, MISSED, NO_EVENT, NO_NOTE, PARTIAL, ScheduledHistory

pytestmark = pytest.mark.integration


async def status(h: ScheduledHistory, now, *, temporal=None, state_hub=None, definition=None) -> GateReport:
    return await calibration_status(
        h.history,
        h.feedback,
        temporal or h.client,
        state_hub or h.harness.deps.state_hub,
        definition or h.definition,
        required=3,
        now=now,
    )


def checks(report: GateReport, day: date) -> dict[Piece, Check]:
    tick = next(t for t in report.ticks if t.local_date == day)
    return {piece: evidence.check for piece, evidence in tick.evidence.items()}


ALL_PASSED = {piece: Check.PASSED for piece in Piece}


async def test_three_clean_scheduled_runs_meet_the_gate_despite_a_manual_run_between(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    report = await status(h, h.after(CLEAN[2]))

    assert report.met and report.streak == 3 and report.broken_by is None
    assert [t.local_date for t in report.ticks] == CLEAN[::-1]
    assert all(checks(report, day) == ALL_PASSED for day in CLEAN)
    assert report.reached_history_start  # the walk stopped at the first scheduled run, not at a "missed" tick

    manual = await h.harness.runs.list_runs(RunQuery(definition_id=h.definition.id, trigger="manual"))
    second, third = await h.run_on(CLEAN[1]), await h.run_on(CLEAN[2])
    assert len(manual) == 1 and second.finished_at < manual[0].started_at < third.started_at


async def test_a_partial_run_in_the_middle_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    report = await status(h, h.after(PARTIAL[2]))

    assert not report.met and report.streak == 1
    broken = report.ticks[report.broken_at]
    assert broken.local_date == PARTIAL[1] and broken.run.status == "partial"
    assert checks(report, PARTIAL[1]) == {**ALL_PASSED, Piece.ROW: Check.FAILED}
    assert "row: status partial" in report.broken_by


async def test_a_missed_tick_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    report = await status(h, h.after(MISSED[1]))

    assert report.streak == 1 and not report.met
    broken = report.ticks[report.broken_at]
    assert broken.local_date == date(2026, 6, 16) and broken.run is None
    assert "missed" in report.broken_by


async def test_a_tick_whose_run_may_still_come_neither_counts_nor_breaks(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    report = await status(h, h.tick(date(2026, 6, 16)) + timedelta(minutes=10))

    assert report.ticks[0].pending and report.ticks[0].local_date == date(2026, 6, 16)
    assert report.streak == 1  # 06-15 counts; 06-14 had no run at all
    assert report.ticks[report.broken_at].local_date == date(2026, 6, 14)


async def test_a_missing_note_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    run = await h.run_on(NO_NOTE[1])
    assert h.state_hub.delete_note(run.note_key)

    report = await status(h, h.after(NO_NOTE[2]))

    assert report.streak == 1 and report.ticks[report.broken_at].local_date == NO_NOTE[1]
    assert checks(report, NO_NOTE[1]) == {**ALL_PASSED, Piece.NOTE: Check.FAILED}
    assert f"note {run.note_key} is not in State Hub" in report.broken_by


async def test_a_missing_progress_event_breaks_the_streak(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    run = await h.run_on(NO_EVENT[1])
    assert h.state_hub.delete_progress_event(run.progress_event_id)

    report = await status(h, h.after(NO_EVENT[2]))

    assert report.streak == 1 and report.ticks[report.broken_at].local_date == NO_EVENT[1]
    assert checks(report, NO_EVENT[1]) == {**ALL_PASSED, Piece.PROGRESS: Check.FAILED}


async def test_state_hub_unreachable_is_unknown_and_never_passes(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    async with StateHubClient(f"http://127.0.0.1:{free_port()}", token="x" * 16, timeout_seconds=2) as down:
        report = await status(h, h.after(CLEAN[2]), state_hub=down)

    assert not report.met and report.streak == 0
    assert checks(report, CLEAN[2]) == {**ALL_PASSED, Piece.PROGRESS: Check.UNKNOWN, Piece.NOTE: Check.UNKNOWN}
    assert "State Hub could not be asked" in report.broken_by and "ConnectError" in report.broken_by


async def test_temporal_unreachable_is_unknown_and_never_passes(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    temporal = await connect_temporal_or_unreachable(Settings(temporal_address=f"127.0.0.1:{free_port()}"))
    assert isinstance(temporal, Unreachable)

    report = await status(h, h.after(CLEAN[2]), temporal=temporal)

    assert not report.met
    assert checks(report, CLEAN[2]) == {**ALL_PASSED, Piece.TEMPORAL: Check.UNKNOWN}
    assert "Temporal at 127.0.0.1:" in report.broken_by and "unreachable" in report.broken_by


async def test_no_scheduled_run_is_a_clear_error(scheduled_history: ScheduledHistory) -> None:
    h = scheduled_history
    with pytest.raises(NoScheduledRuns, match="has no scheduled run at or before"):
        await status(h, h.tick(CLEAN[0]) - timedelta(days=1))
    never = h.definition.model_copy(update={"id": "triage-never-scheduled"})
    with pytest.raises(NoScheduledRuns, match="'triage-never-scheduled' has no scheduled run"):
        await status(h, h.after(CLEAN[2]), definition=never)
