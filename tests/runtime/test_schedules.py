"""Schedule reconciliation and scheduled fires, on the session's Temporal dev server."""

from __future__ import annotations

import subprocess
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.api.workflowservice.v1 import ListScheduleMatchingTimesRequest
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleOverlapPolicy,
    ScheduleSpec,
)

from activity_core.definitions.loader import load_all
from activity_core.devstack.embedded import temporal_cli_path
from activity_core.temporal.schedules import SyncKind, sync_schedules
from tests.fixtures.runtime import TriageHarness

pytestmark = pytest.mark.integration
BERLIN = ZoneInfo("Europe/Berlin")


async def _sync(client: Client, settings, **kwargs) -> list:
    return await sync_schedules(client, load_all(settings.definitions_dir), task_queue=settings.task_queue, **kwargs)


async def test_sync_creates_then_changes_nothing(temporal_client: Client, make_settings, definition_id: str) -> None:
    settings = make_settings()
    first = await _sync(temporal_client, settings)
    assert [(a.schedule_id, a.kind) for a in first if a.schedule_id == definition_id] == [
        (definition_id, SyncKind.CREATE)
    ]
    second = await _sync(temporal_client, settings)
    assert [a.kind for a in second if a.schedule_id == definition_id] == [SyncKind.UNCHANGED]

    description = await temporal_client.get_schedule_handle(definition_id).describe()
    assert description.schedule.spec.time_zone_name == "Europe/Berlin"
    assert description.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert description.schedule.policy.catchup_window == timedelta(hours=4)
    assert description.schedule.action.execution_timeout == timedelta(hours=2)
    for fire in description.info.next_action_times:
        local = fire.astimezone(BERLIN)
        assert (local.hour, local.minute, local.second) == (7, 20, 0)


async def test_dry_run_changes_nothing(temporal_client: Client, make_settings, definition_id: str) -> None:
    settings = make_settings()
    actions = await _sync(temporal_client, settings, dry_run=True)
    assert any(a.schedule_id == definition_id and a.kind == SyncKind.CREATE for a in actions)
    with pytest.raises(Exception, match="not found|NotFound|NOT_FOUND"):
        await temporal_client.get_schedule_handle(definition_id).describe()


async def test_changed_definition_updates_but_keeps_an_operator_pause(
    temporal_client: Client, make_settings, definition_id: str
) -> None:
    settings = make_settings()
    await _sync(temporal_client, settings)
    handle = temporal_client.get_schedule_handle(definition_id)
    await handle.pause(note="paused by ops: llm-connect maintenance")

    settings = make_settings({"schedule": {"minute": 25}})
    actions = await _sync(temporal_client, settings)
    assert [a.kind for a in actions if a.schedule_id == definition_id] == [SyncKind.UPDATE]
    description = await handle.describe()
    assert description.schedule.state.paused
    assert description.schedule.state.note == "paused by ops: llm-connect maintenance"
    assert description.schedule.spec.calendars[0].minute[0].start == 25


async def test_disabled_definition_is_paused_with_a_note_and_resumed_when_enabled(
    temporal_client: Client, make_settings, definition_id: str
) -> None:
    await _sync(temporal_client, make_settings())
    actions = await _sync(temporal_client, make_settings({"enabled": False}))
    assert [a.kind for a in actions if a.schedule_id == definition_id] == [SyncKind.PAUSE]
    state = (await temporal_client.get_schedule_handle(definition_id).describe()).schedule.state
    assert state.paused and "enabled: false" in (state.note or "")

    await _sync(temporal_client, make_settings())
    assert not (await temporal_client.get_schedule_handle(definition_id).describe()).schedule.state.paused


async def test_schedules_it_does_not_own_are_left_alone(
    temporal_client: Client, make_settings, definition_id: str
) -> None:
    settings = make_settings()
    foreign = Schedule(
        action=ScheduleActionStartWorkflow("SomeoneElsesWorkflow", id="x", task_queue="elsewhere"),
        spec=ScheduleSpec(cron_expressions=["0 9 * * *"]),
    )
    await temporal_client.create_schedule(definition_id, foreign)
    actions = await _sync(temporal_client, settings)
    assert [a.kind for a in actions if a.schedule_id == definition_id] == [SyncKind.NOT_OURS]
    description = await temporal_client.get_schedule_handle(definition_id).describe()
    assert description.schedule.action.workflow == "SomeoneElsesWorkflow"


async def _matching_times(client: Client, schedule_id: str, start: datetime, end: datetime) -> list[datetime]:
    request = ListScheduleMatchingTimesRequest(namespace=client.namespace, schedule_id=schedule_id)
    request.start_time.FromDatetime(start)
    request.end_time.FromDatetime(end)
    response = await client.workflow_service.list_schedule_matching_times(request)
    return [t.ToDatetime(tzinfo=UTC) for t in response.start_time]


@pytest.mark.parametrize(
    ("first_day", "last_day"),
    [
        (date(2026, 10, 22), date(2026, 10, 28)),
        (date(2027, 3, 25), date(2027, 3, 31)),
        (date(2027, 10, 28), date(2027, 11, 3)),
    ],
)
async def test_fires_at_0720_berlin_across_dst_changes(
    temporal_client: Client, make_settings, definition_id: str, first_day: date, last_day: date
) -> None:
    await _sync(temporal_client, make_settings())
    start = datetime.combine(first_day, datetime.min.time(), tzinfo=UTC)
    end = datetime.combine(last_day, datetime.max.time(), tzinfo=UTC)
    fires = await _matching_times(temporal_client, definition_id, start, end)

    assert len(fires) == (last_day - first_day).days + 1
    assert {(f.astimezone(BERLIN).hour, f.astimezone(BERLIN).minute) for f in fires} == {(7, 20)}
    assert len({f.astimezone(UTC).hour for f in fires}) == 2, "the UTC hour must move with DST"


async def test_temporal_cli_describes_the_schedule(
    temporal_address: str, temporal_client: Client, make_settings, definition_id: str
) -> None:
    """What an operator sees: `temporal schedule describe` shows 07:20 Europe/Berlin, overlap skip."""
    import asyncio
    import json

    await _sync(temporal_client, make_settings())
    args = [
        temporal_cli_path(),
        "schedule",
        "describe",
        "--schedule-id",
        definition_id,
        "--address",
        temporal_address,
        "-o",
        "json",
    ]
    out = await asyncio.to_thread(subprocess.run, args, capture_output=True, text=True, check=True)
    described = json.loads(out.stdout)
    text = json.dumps(described)
    assert "Europe/Berlin" in text and "SCHEDULE_OVERLAP_POLICY_SKIP" in text
    calendar = described["schedule"]["spec"]["structuredCalendar"][0]
    assert calendar["hour"][0]["start"] == 7 and calendar["minute"][0]["start"] == 20


async def test_a_backfill_is_late_and_a_trigger_is_trigger(triage: TriageHarness) -> None:
    """Temporal stamps both with the schedule's id and a start time; only the lag and the tick tell."""
    await _sync(triage.client, triage.settings)
    handle = triage.client.get_schedule_handle(triage.definition_id)
    now = datetime.now(UTC)
    spec = _spec(triage)
    tick = spec.tick_on(spec.local_date(now) - timedelta(days=2))  # a tick two days old
    await handle.backfill(
        ScheduleBackfill(
            start_at=tick - timedelta(seconds=1),
            end_at=tick + timedelta(seconds=1),
            overlap=ScheduleOverlapPolicy.ALLOW_ALL,
        )
    )
    await _wait_for_finished_rows(triage, 1)
    # One request at a time: the dev server's scheduler may drop a backfill that races a trigger.
    await handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL)

    rows = await _wait_for_finished_rows(triage, 2)
    by_trigger = {row.trigger: row for row in rows}
    assert set(by_trigger) == {"late", "trigger"}
    late = by_trigger["late"]
    assert late.tick_at == late.scheduled_at == tick and late.local_date == spec.local_date(tick)
    assert late.start_lag_seconds is not None and late.start_lag_seconds >= 2 * 86400 - 3600
    assert by_trigger["trigger"].scheduled_at is not None and by_trigger["trigger"].tick_at is None


async def test_an_interval_schedule_fires_genuine_scheduled_runs(
    make_settings, definition_id: str, temporal_client: Client, state_hub, llm_connect
) -> None:
    """The schedule itself fires, unattended: the run is `schedule`, on its tick, within the on-time bound."""
    from tests.fixtures.runtime import harness_for

    settings = make_settings(
        {
            "schedule": {"every_seconds": 3, "time_zone": "UTC", "execution_timeout_seconds": 7200},
            "evidence": {"note_key_pattern": "test-{date}-{tick}"},
        }
    )
    async with harness_for(temporal_client, settings, definition_id, state_hub, llm_connect) as triage:
        await _sync(triage.client, triage.settings)
        try:
            rows = await _wait_for_finished_rows(triage, 1, timeout=30)
        finally:
            await triage.client.get_schedule_handle(triage.definition_id).delete()
    scheduled = rows[-1]
    assert scheduled.trigger == "schedule" and scheduled.status == "clean"
    assert scheduled.tick_at is not None and int(scheduled.tick_at.timestamp()) % 3 == 0
    assert scheduled.start_lag_seconds is not None and 0 <= scheduled.start_lag_seconds < 300
    assert scheduled.note_key == f"test-{scheduled.local_date}-{scheduled.tick_at:%H%M%S}"


def _spec(triage: TriageHarness):
    return load_all(triage.settings.definitions_dir)[triage.definition_id].definition.schedule


async def _wait_for_finished_rows(triage: TriageHarness, count: int, timeout: float = 60.0) -> list:
    import asyncio

    from activity_core.store.models import RunQuery

    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        rows = await triage.runs.list_runs(RunQuery(definition_id=triage.definition_id))
        if len(rows) >= count and all(r.status != "running" for r in rows):
            return rows
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"expected {count} finished runs, have {[(r.trigger, r.status) for r in rows]}")
        await asyncio.sleep(0.3)


async def test_schedules_sync_command_is_idempotent(
    temporal_address: str,
    make_settings,
    definition_id: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import asyncio

    from activity_core.cli import main

    settings = make_settings()
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_address)
    monkeypatch.setenv("ACTIVITY_CORE_DEFINITIONS_DIR", str(settings.definitions_dir))
    monkeypatch.setenv("ACTIVITY_CORE_TASK_QUEUE", settings.task_queue)
    assert await asyncio.to_thread(main, ["schedules", "sync", "--dry-run"]) == 0
    assert f"(dry run) create    {definition_id}" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["schedules", "sync"]) == 0
    assert f"create    {definition_id}: daily 07:20 Europe/Berlin, overlap skip" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["schedules", "sync"]) == 0
    assert f"unchanged {definition_id}" in capsys.readouterr().out
