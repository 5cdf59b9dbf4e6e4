"""The daily triage end to end on real Temporal, real PostgreSQL and the emulators over HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError

from activity_core.cli import main
from activity_core.devstack.embedded import free_port
from activity_core.kinds.instruction.workflow import InstructionRun
from activity_core.observability.logging import REDACTED
from activity_core.observability.metrics import Metrics
from activity_core.runs.models import RunInput
from activity_core.store.migrations import apply_migrations
from activity_core.store.models import RunQuery
from activity_core.temporal.awaiting import await_run
from activity_core.temporal.worker import ServiceEndpoints, create_worker, open_services
from tests.fixtures.runtime import TriageHarness

pytestmark = pytest.mark.integration


def _events_for(harness: TriageHarness, workflow_id: str) -> list[dict]:
    """Every event any run of ``workflow_id`` posted (each run's key is ``<workflow id>/<run id>``)."""
    return [e for e in harness.state_hub.progress_events() if e["idempotency_key"].startswith(f"{workflow_id}/")]


async def test_clean_run_writes_row_event_and_note(triage: TriageHarness) -> None:
    summary, handle = await triage.run_manual()

    assert summary.status == "clean", summary
    assert summary.trigger == "manual"
    row = await triage.runs.get_run(handle.id)
    assert row is not None and row.status == "clean"
    assert row.items_kept == len(row.items or []) >= 1 and row.items_quarantined == 0
    assert row.llm_attempts == 1 and row.llm_finish_reason == "stop" and row.llm_latency_ms is not None
    assert row.raw_content and row.raw_content.startswith('{"type"')
    events = _events_for(triage, handle.id)
    assert len(events) == 1 and events[0]["event_type"] == "daily_triage"
    assert row.progress_event_id == events[0]["id"]
    assert events[0]["payload"]["status"] == "clean"
    assert row.note_key == f"daily-triage-{row.local_date}-manual-{row.run_id[:12]}"  # not the day's scheduled note
    notes = [n for n in triage.state_hub.notes() if n["key"] == row.note_key]
    assert len(notes) == 1 and row.note_id == notes[0]["id"]
    assert "## Ranked recommendations" in notes[0]["body_markdown"]
    known = {r["candidate"] for r in row.items or []}
    assert known <= {ws["id"] for ws in triage.state_hub.workstreams()} | {t["id"] for t in triage.state_hub.tasks()}


async def test_one_bad_item_costs_one_item(triage: TriageHarness) -> None:
    triage.llm_connect.queue_faults("execute", "malformed_item")
    summary, handle = await triage.run_manual()

    assert summary.status == "partial"
    row = await triage.runs.get_run(handle.id)
    assert row.items_quarantined == 1 and row.items_kept >= 1
    assert row.quarantined[0]["reason"] in {"invalid_json", "repair_failed"}
    assert _events_for(triage, handle.id)[0]["payload"]["quarantined"][0]["reason"] == row.quarantined[0]["reason"]


async def test_transient_5xx_are_retried_and_counted(triage: TriageHarness) -> None:
    triage.llm_connect.queue_faults("execute", "http_503", "http_502")
    summary, handle = await triage.run_manual()

    assert summary.status == "clean"
    row = await triage.runs.get_run(handle.id)
    assert row.llm_attempts == 3


async def test_configuration_error_fails_at_once_without_retry(triage: TriageHarness) -> None:
    triage.llm_connect.queue_faults("execute", "configuration_error", "configuration_error")
    summary, handle = await triage.run_manual()

    assert summary.status == "failed_config"
    assert "configuration_error" in (summary.error_message or "") or "not configured" in (summary.error_message or "")
    assert len(triage.llm_connect.requests("execute")) == 1
    row = await triage.runs.get_run(handle.id)
    assert row.status == "failed_config" and row.llm_attempts == 1
    events = _events_for(triage, handle.id)
    assert len(events) == 1 and events[0]["payload"]["failure_class"] == "failed_config"
    # What an operator sees in Temporal: the execution Failed, and the failure names the class.
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.FAILED
    with pytest.raises(WorkflowFailureError) as failure:
        await handle.result()
    assert str(failure.value.cause).startswith("failed_config: ")


async def test_output_with_nothing_valid_is_asked_once_more(triage: TriageHarness) -> None:
    triage.llm_connect.queue_faults("execute", "garbage")
    summary, handle = await triage.run_manual()

    assert summary.status == "clean"
    row = await triage.runs.get_run(handle.id)
    assert row.reasks == 1
    prompts = [r.json()["prompt"] for r in triage.llm_connect.requests("execute")]
    assert len(prompts) == 2 and "no item survived validation" in prompts[1]


async def test_output_failing_twice_is_failed_output(triage: TriageHarness) -> None:
    triage.llm_connect.queue_faults("execute", "garbage", "garbage")
    summary, handle = await triage.run_manual()

    assert summary.status == "failed_output"
    row = await triage.runs.get_run(handle.id)
    assert row.reasks == 1 and row.items_kept == 0 and row.quarantined
    assert row.raw_content  # kept for replay-output


async def test_state_hub_refusing_progress_for_a_while_still_gives_one_event(triage: TriageHarness) -> None:
    triage.state_hub.queue_faults("progress", "http_503", "apply_then_500", "http_503")
    summary, handle = await triage.run_manual()

    assert summary.status == "clean"
    events = _events_for(triage, handle.id)
    assert len(events) == 1
    row = await triage.runs.get_run(handle.id)
    assert row.progress_event_id == events[0]["id"]


async def test_state_hub_unreachable_is_failed_state_hub_with_a_row(
    make_settings, temporal_client, definition_id: str
) -> None:
    """With State Hub unreachable the run still ends with a row that names the failure."""
    settings = make_settings({"evidence": {"state_hub_retry_total_seconds": 2}})
    settings = settings.model_copy(update={"state_hub_url": f"http://127.0.0.1:{free_port()}"})
    endpoints = ServiceEndpoints.from_settings(settings)
    async with open_services(settings, endpoints, Metrics()) as deps:
        await apply_migrations(deps.runs.pool, settings.migrations_dir)
        worker = create_worker(
            temporal_client, task_queue=settings.task_queue, services=deps, graceful_shutdown=timedelta(seconds=1)
        )
        async with worker:
            handle = await temporal_client.start_workflow(
                InstructionRun.run,
                RunInput(definition_id=definition_id),
                id=f"manual-{definition_id}",
                task_queue=settings.task_queue,
            )
            summary = await await_run(handle)
        row = await deps.runs.get_run(handle.id)

    assert summary.status == "failed_state_hub"
    assert row is not None and row.status == "failed_state_hub" and row.progress_event_id is None
    assert "State Hub" in (row.error_message or "")


async def test_secrets_and_prompt_bodies_stay_out_of_rows_events_notes_and_logs(
    triage: TriageHarness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    triage.llm_connect.queue_faults("execute", "http_500", "malformed_item")
    summary, handle = await triage.run_manual()
    assert summary.status == "partial"

    token = triage.endpoints.state_hub_token
    prompt_marker = "You are the daily WSJF triage"  # the first sentence of every prompt body
    row = await triage.runs.get_run(handle.id)
    surfaces = {
        "row": row.model_dump_json(),
        "events": json.dumps(_events_for(triage, handle.id)),
        "notes": json.dumps(triage.state_hub.notes()),
        "logs": caplog.text,
        "history": json.dumps([str(e) for e in (await handle.fetch_history()).events]),
    }
    for name, text in surfaces.items():
        assert token and token not in text, f"State Hub token leaked into {name}"
    for name in ("row", "events", "notes", "logs"):
        assert prompt_marker not in surfaces[name], f"prompt body leaked into {name}"


async def test_any_run_replays_from_its_row(
    triage: TriageHarness, tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`runs show --replay-files` hands replay-output the kept answer and allow-list: same result."""
    triage.llm_connect.queue_faults("execute", "malformed_item")
    _, handle = await triage.run_manual()
    row = await triage.runs.get_run(handle.id)
    assert row.status == "partial" and row.known_refs

    monkeypatch.setenv("DATABASE_URL", triage.settings.database_dsn() or "")
    monkeypatch.setenv("ACTIVITY_CORE_DEFINITIONS_DIR", str(triage.settings.definitions_dir))
    show = await asyncio.to_thread(main, ["runs", "show", handle.id, "--replay-files", str(tmp_path)])
    assert show == 0
    command = capsys.readouterr().out.strip().split()
    assert command[:2] == ["activity-core", "replay-output"]
    assert await asyncio.to_thread(main, command[1:]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed["status"] == row.status
    assert [i["candidate"] for i in replayed["items"]] == [i["candidate"] for i in row.items]
    assert [q["reason"] for q in replayed["quarantined"]] == [q["reason"] for q in row.quarantined]


async def test_a_second_run_under_a_used_workflow_id_gets_its_own_evidence(triage: TriageHarness) -> None:
    first = await triage.start(workflow_id=f"same-{triage.definition_id}")
    await await_run(first)
    second = await triage.start(workflow_id=f"same-{triage.definition_id}")  # allowed once the first finished
    summary = await await_run(second)

    rows = await triage.runs.list_runs(RunQuery(definition_id=triage.definition_id))
    assert sorted(r.run_id for r in rows) == sorted([first.result_run_id, second.result_run_id])
    events = _events_for(triage, first.id)
    assert len(events) == 2 and {e["idempotency_key"] for e in events} == {f"{first.id}/{r.run_id}" for r in rows}
    assert {r.progress_event_id for r in rows} == {e["id"] for e in events}
    assert summary.progress_event_id == next(r.progress_event_id for r in rows if r.run_id == second.result_run_id)
    assert len({r.note_key for r in rows}) == 2  # a manual run never overwrites another run's note


async def test_two_schedule_triggers_in_one_second_never_share_evidence(triage: TriageHarness) -> None:
    from temporalio.client import ScheduleOverlapPolicy

    from activity_core.definitions.loader import load_all
    from activity_core.temporal.schedules import sync_schedules

    await sync_schedules(
        triage.client, load_all(triage.settings.definitions_dir), task_queue=triage.settings.task_queue
    )
    handle = triage.client.get_schedule_handle(triage.definition_id)
    try:
        await asyncio.gather(
            handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
            handle.trigger(overlap=ScheduleOverlapPolicy.ALLOW_ALL),
        )
        rows = await _settled_rows(triage)
    finally:
        await handle.delete()
    events = [e for e in triage.state_hub.progress_events() if e["payload"]["definition_id"] == triage.definition_id]
    assert all(r.trigger == "trigger" and r.progress_event_id for r in rows)
    assert len({r.progress_event_id for r in rows}) == len(rows) == len(events)
    assert {e["idempotency_key"] for e in events} == {f"{r.workflow_id}/{r.run_id}" for r in rows}


async def _settled_rows(triage: TriageHarness, timeout: float = 60.0) -> list:
    """The definition's rows once some exist, all are finished and none is added for 3 s."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen: list = []
    while asyncio.get_running_loop().time() < deadline:
        rows = await triage.runs.list_runs(RunQuery(definition_id=triage.definition_id))
        if rows and all(r.status != "running" for r in rows) and len(rows) == len(seen):
            return rows
        seen = rows
        await asyncio.sleep(3)
    raise AssertionError(f"runs did not settle: {[(r.run_id, r.status) for r in seen]}")


def test_the_worker_registers_exactly_the_workflows_of_the_declared_kinds() -> None:
    from activity_core.kinds.registry import KINDS, registered_workflows

    names = {getattr(w, "__temporal_workflow_definition").name for w in registered_workflows()}
    assert names == {
        "InstructionRun",
        "InstructionWorkflow",  # the frozen one for one release (ADR-007)
        "TriggerRun",
        "TriggerPassWorkflow",  # the trigger's pass, a child whose fixed id keeps passes apart (ADR-006)
        "ProbeRun",
    }
    assert set(KINDS) == {"instruction", "trigger", "probe"}
    assert {kind.workflow_name for kind in KINDS.values()} == {"InstructionRun", "TriggerRun", "ProbeRun"}
    assert "TaskExecutorWorkflow" not in names


async def test_a_secret_the_model_echoes_reaches_no_sink(
    triage: TriageHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """State Hub's own token planted in the planning state, so the model's answer echoes it: it is
    replaced before the answer is kept, in every place a run writes (OWASP LLM02)."""
    import pgserver

    caplog.set_level(logging.DEBUG)
    token = triage.endpoints.state_hub_token
    assert token
    triage.state_hub.retitle_workstreams(f"rotate the key {token} today")
    summary, handle = await triage.run_manual()
    assert summary.status in ("clean", "partial")

    pg_dump = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
    dump = subprocess.run(
        [str(pg_dump), "--data-only", "--dbname", triage.settings.database_dsn() or ""],
        capture_output=True,
        text=True,
        check=True,
        user="pgserver",
    ).stdout
    row = await triage.runs.get_run(handle.id)
    assert row is not None and REDACTED in (row.raw_content or "")  # the echo was there, and replaced
    surfaces = {
        "pg_dump": dump,
        "history": (await handle.fetch_history()).to_json(),
        "events": json.dumps(_events_for(triage, handle.id)),
        "notes": json.dumps(triage.state_hub.notes()),
        "logs": caplog.text,
        "llm-connect requests": json.dumps([r.json() for r in triage.llm_connect.requests("execute")]),
    }
    leaks = [line[:200] for line in dump.splitlines() if token in line]
    assert [name for name, text in surfaces.items() if token in text] == [], leaks
