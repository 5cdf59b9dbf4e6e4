"""Task emission end to end: InstructionRun on real Temporal and PostgreSQL, the three
emulators over HTTP, the worker in this process or (when it is killed) in a subprocess.

The definition reads only State Hub's three *proposed* workstreams (and no tasks), so every
day's answer ranks the same three candidates, each in a repo issue-core knows, and the
tasks block selects all three. The issue-core emulator ignores Idempotency-Key here: every
create it receives is a new task, so one task per recommendation at the end is our code's
doing, not the service's. Every test asserts the exact requests issue-core received; the
note of issue 9 quotes these counts.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from temporalio.client import ScheduleBackfill, ScheduleOverlapPolicy, WorkflowHandle

from activity_core.calibration.gate import calibration_status
from activity_core.cli import main
from activity_core.definitions.loader import load_all
from activity_core.devstack.issue_core_emulator import IssueCoreEmulator
from activity_core.devstack.state_hub_emulator import seed_planning_state
from activity_core.settings import PROJECT_ROOT
from activity_core.store.feedback import FeedbackStore
from activity_core.store.history import HistoryStore
from activity_core.store.models import RunQuery, RunRecord
from activity_core.store.tasks import SpawnRow, TaskSpawnLog
from activity_core.tasks.emission import unsettled
from activity_core.temporal.awaiting import await_run
from activity_core.temporal.policies import TASK_EMISSION_ATTEMPTS
from activity_core.temporal.schedules import sync_schedules
from tests.fixtures.runtime import TriageHarness, harness_for
from tests.runtime.test_worker_process import _start_worker, _worker_env, reaper  # noqa: F401  (a fixture)

pytestmark = pytest.mark.integration

TASKS = {"sink": "rest", "select": {"top": 3, "min_score": 0}, "review_required": True}
ONE_TASK = {"select": {"top": 1, "min_score": 0}}
PROPOSED = {"workstreams": {"status": ["proposed"]}, "tasks": {"status": ["none"]}}
# A tick at 00:00 UTC: today's is always past, so a backfill of it is a run of today.
MIDNIGHT_UTC = {"hour": 0, "minute": 0, "time_zone": "UTC"}

OpenStack = Callable[..., Any]


@pytest.fixture
def stack(temporal_client, make_settings, definition_id: str, state_hub, llm_connect, issue_core) -> OpenStack:
    """``async with stack(ceiling, tasks={...}, definition={...}, worker=True, **settings) as harness``:
    the tasks block and other sections of the definition changed, and settings."""
    issue_core.honour_idempotency_key(False)

    @asynccontextmanager
    async def open_stack(
        ceiling: str = "rest",
        *,
        tasks: dict[str, Any] | None = None,
        definition: dict[str, Any] | None = None,
        worker: bool = True,
        **settings: Any,
    ) -> AsyncIterator[TriageHarness]:
        overrides = {"tasks": {**TASKS, **(tasks or {})}, "context": PROPOSED, "schedule": MIDNIGHT_UTC}
        overrides |= definition or {}
        built = make_settings(overrides, issue_sink_type=ceiling, **settings)
        async with harness_for(
            temporal_client, built, definition_id, state_hub, llm_connect, worker=worker, issue_core=issue_core
        ) as harness:
            yield harness

    return open_stack


def requests(issue_core: IssueCoreEmulator) -> Counter[str]:
    return Counter(r.route or "unrouted" for r in issue_core.requests())


async def spawned(h: TriageHarness, row: RunRecord) -> list[SpawnRow]:
    return await TaskSpawnLog(h.runs.pool, timeout=10).rows_of_run(row.workflow_id, row.run_id)


async def manual(h: TriageHarness) -> tuple[RunRecord, list[SpawnRow]]:
    summary, handle = await h.run_manual()
    row = await h.runs.get_run(handle.id)
    assert row is not None and row.status == summary.status, summary
    return row, await spawned(h, row)


def states(rows: list[SpawnRow]) -> list[str]:
    return [r.state.value for r in rows]


def refs(rows: list[SpawnRow]) -> dict[str | None, str | None]:
    return {r.candidate: r.ref for r in rows}


def expected_specs(row: RunRecord, top: int = 3, min_score: float = 0) -> list[tuple[str, str]]:
    """(candidate, repo) the block selects from the row's report: the oracle, from the seed."""
    repos = {ws["id"]: ws["repo"] for ws in seed_planning_state()[0]}
    chosen = [item for item in row.items or [] if item["computed_score"] >= min_score][:top]
    return [(item["candidate"], repos[item["candidate"]]) for item in chosen]


def events_of(h: TriageHarness, row: RunRecord) -> list[dict]:
    return [e for e in h.state_hub.progress_events() if e["idempotency_key"] == f"{row.workflow_id}/{row.run_id}"]


def note_of(h: TriageHarness, row: RunRecord) -> dict:
    (note,) = [n for n in h.state_hub.notes() if n["key"] == row.note_key]
    return note


@asynccontextmanager
async def schedule_of(h: TriageHarness) -> AsyncIterator[None]:
    await sync_schedules(h.client, load_all(h.settings.definitions_dir), task_queue=h.settings.task_queue)
    try:
        yield
    finally:
        await h.client.get_schedule_handle(h.definition_id).delete()


async def backfill(h: TriageHarness, day: date) -> RunRecord:
    """Fire the schedule's tick of ``day`` as a backfill, and wait for its run to finish."""
    definition = load_all(h.settings.definitions_dir)[h.definition_id].definition
    tick = definition.schedule.tick_on(day)
    second = timedelta(seconds=1)
    await h.client.get_schedule_handle(h.definition_id).backfill(
        ScheduleBackfill(start_at=tick - second, end_at=tick + second, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
    )
    for _ in range(300):
        rows = await h.runs.list_runs(RunQuery(definition_id=h.definition_id, limit=100))
        done = [r for r in rows if r.tick_at == tick and r.status != "running"]
        if done:
            return done[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"the backfilled tick {tick} did not finish")


def today() -> date:
    return datetime.now(UTC).date()


# --- null and dry_run: nothing leaves ---------------------------------------------------------


async def test_the_null_ceiling_logs_the_specs_and_sends_nothing_though_the_definition_says_rest(
    stack: OpenStack, issue_core: IssueCoreEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with stack("null") as h:
        row, rows = await manual(h)
        (event,) = events_of(h, row)
        note = note_of(h, row)

    assert row.status == "clean"
    assert [(r.candidate, r.spec["repo"]) for r in rows] == expected_specs(row)
    assert states(rows) == ["planned"] * 3
    assert all(r.sink == "null" and r.requested_sink == "rest" and r.idempotency_key for r in rows)
    assert issue_core.requests() == []  # not even a lookup
    emission = row.result["tasks"]
    assert emission["sink"] == "null" and emission["counts"]["planned"] == 3 and emission["pending"] == 0
    assert event["payload"]["tasks"]["counts"]["planned"] == 3 and event["payload"]["tasks"]["specs"] == 3
    assert event["summary"].endswith("; 3 task spec(s) (null sink): 3 planned")
    assert "## Task specs" in note["body_markdown"]
    assert all(r.idempotency_key in note["body_markdown"] for r in rows)

    monkeypatch.setenv("DATABASE_URL", h.settings.database_dsn() or "")
    assert await asyncio.to_thread(main, ["runs", "show", row.workflow_id]) == 0
    shown = capsys.readouterr().out
    assert "task specs (3;" in shown and all(r.idempotency_key in shown for r in rows)
    assert await asyncio.to_thread(main, ["runs", "show", row.workflow_id, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)["task_specs"]
    assert [(t["state"], t["idempotency_key"], t["ref"]) for t in listed] == [
        ("planned", r.idempotency_key, None) for r in rows
    ]


async def test_dry_run_logs_exactly_the_request_that_rest_then_sends(
    stack: OpenStack, issue_core: IssueCoreEmulator, issue_core_token: str
) -> None:
    async with stack("dry_run") as h:
        dry_row, dry_rows = await manual(h)
    assert states(dry_rows) == ["dry_run"] * 3 and issue_core.requests() == []
    assert all(issue_core_token not in json.dumps(r.request) for r in dry_rows)

    async with stack("rest") as h:
        rest_row, rest_rows = await manual(h)
    assert states(rest_rows) == ["created"] * 3
    sent = [
        {
            "method": r.method,
            "path": r.path,
            "headers": {"Idempotency-Key": r.headers["idempotency-key"]},
            "body": r.json(),
        }
        for r in issue_core.requests("tasks_create")
    ]
    # The one difference: each request names the run that proposed it.
    dry_link, rest_link = f"{dry_row.workflow_id}/{dry_row.run_id}", f"{rest_row.workflow_id}/{rest_row.run_id}"
    logged = json.loads(json.dumps([r.request for r in dry_rows]).replace(dry_link, rest_link))
    assert sent == logged
    assert requests(issue_core) == {"tasks_find": 3, "tasks_create": 3}


# --- rest: exactly once -------------------------------------------------------------------------


async def test_rest_files_exactly_the_expected_tasks_and_the_same_day_again_files_nothing(
    stack: OpenStack, issue_core: IssueCoreEmulator
) -> None:
    async with stack("rest") as h:
        first, first_rows = await manual(h)
        filed = issue_core.tasks()
        after_first = requests(issue_core)
        again, again_rows = await manual(h)  # the same day, run again by hand
        after_again = requests(issue_core)
        async with schedule_of(h):
            late = await backfill(h, today())  # a backfilled tick of the same day
        late_rows = await spawned(h, late)
        (event,) = events_of(h, first)

    assert first.status == "clean" and states(first_rows) == ["created"] * 3
    assert [(r.candidate, r.spec["repo"]) for r in first_rows] == expected_specs(first)
    assert [(t["id"], t["key"], t["url"]) for t in filed] == [(r.task_id, r.task_key, r.task_url) for r in first_rows]
    assert [(t["external_key"], t["repo"]) for t in filed] == [(r.idempotency_key, r.spec["repo"]) for r in first_rows]
    assert all(t["links"]["run"] == f"{first.workflow_id}/{first.run_id}" for t in filed)
    assert after_first == {"tasks_find": 3, "tasks_create": 3}
    assert [t["ref"] for t in event["payload"]["tasks"]["tasks"]] == [t["key"] for t in filed]
    assert event["payload"]["tasks"]["counts"]["created"] == 3

    assert states(again_rows) == ["duplicate"] * 3 and refs(again_rows) == refs(first_rows)
    assert after_again - after_first == {"tasks_find": 3}
    assert late.local_date == first.local_date and late.trigger in ("late", "schedule")
    assert states(late_rows) == ["duplicate"] * 3 and refs(late_rows) == refs(first_rows)
    assert requests(issue_core) - after_again == {"tasks_find": 3}
    assert issue_core.tasks() == filed

    # review_required is audit metadata: in the log, never on the wire
    assert all(r.review_required for r in first_rows)
    assert issue_core.requests() and all("review_required" not in r.text for r in issue_core.requests())


async def test_a_recurrence_while_open_is_a_duplicate_and_after_closing_opens_a_new_task(
    stack: OpenStack, issue_core: IssueCoreEmulator
) -> None:
    async with stack("rest") as h:
        async with schedule_of(h):
            yesterday = await backfill(h, today() - timedelta(days=1))
        yesterday_rows = await spawned(h, yesterday)
        next_day, next_day_rows = await manual(h)
        closed_candidate, closed_ref = next(iter(refs(yesterday_rows).items()))
        issue_core.close_task(closed_ref)
        before = requests(issue_core)
        reopened, reopened_rows = await manual(h)

    assert yesterday.local_date == next_day.local_date - timedelta(days=1)
    assert states(yesterday_rows) == ["created"] * 3
    assert states(next_day_rows) == ["duplicate"] * 3 and refs(next_day_rows) == refs(yesterday_rows)
    by_candidate = {r.candidate: r for r in reopened_rows}
    new = by_candidate.pop(closed_candidate)
    assert new.state.value == "created" and new.ref not in refs(yesterday_rows).values()
    assert new.episode == 2 and (new.idempotency_key or "").endswith(":e2")
    assert {c: r.state.value for c, r in by_candidate.items()} == {c: "duplicate" for c in by_candidate}
    assert requests(issue_core) - before == {"tasks_find": 4, "tasks_create": 1}  # e1 closed, e2 free; 2 found open
    assert len(issue_core.tasks()) == 4 and reopened.status == "clean"


# --- failures -------------------------------------------------------------------------------------


def _emission_attempts(history) -> list[tuple[int, str]]:
    """(attempt, last failure) of each emit_tasks activity in a workflow history."""
    scheduled = {
        e.event_id
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
        and e.activity_task_scheduled_event_attributes.activity_type.name == "emit_tasks"
    }
    return [
        (
            e.activity_task_started_event_attributes.attempt,
            e.activity_task_started_event_attributes.last_failure.message,
        )
        for e in history.events
        if e.HasField("activity_task_started_event_attributes")
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]


@pytest.mark.parametrize(
    ("fault", "client_timeout"), [("apply_then_500", 10.0), ("slow:1.5", 1.0)], ids=["apply_then_500", "timeout"]
)
async def test_an_ambiguous_create_is_unknown_then_reconciled_by_lookup_to_one_task(
    stack: OpenStack, issue_core: IssueCoreEmulator, fault: str, client_timeout: float
) -> None:
    """The timeout case: the emulator stores the task 1.5 s after the request, the client gave
    up after 1 s, and the activity's retry (2 s later) finds it by its key."""
    patient = {"evidence": {"retry_initial_seconds": 2}}  # the first retry's backoff
    async with stack("rest", tasks=ONE_TASK, definition=patient, issue_core_timeout_seconds=client_timeout) as h:
        issue_core.queue_faults("tasks_create", fault)
        summary, handle = await h.run_manual()
        row = await h.runs.get_run(handle.id)
        (spec,) = await spawned(h, row)
        history = await handle.fetch_history()

    assert summary.status == "clean" and "1 created" in (summary.detail or "")
    (task,) = issue_core.tasks()
    assert spec.state.value == "created" and spec.ref == task["key"] and spec.attempts == 1
    assert (spec.error_class, spec.error_message) == (None, None)  # reconciled: the unknown is resolved
    assert requests(issue_core) == {"tasks_find": 2, "tasks_create": 1}
    ((attempt, last_failure),) = _emission_attempts(history)
    assert attempt == 2 and "1 task spec(s) unsettled after attempt 1" in last_failure


async def test_503s_then_healthy_create_the_task_once(stack: OpenStack, issue_core: IssueCoreEmulator) -> None:
    async with stack("rest", tasks=ONE_TASK) as h:
        issue_core.queue_faults("tasks_create", "http_503", "http_503")
        row, (spec,) = await manual(h)
        history = await h.client.get_workflow_handle(row.workflow_id, run_id=row.run_id).fetch_history()

    assert row.status == "clean" and spec.state.value == "created" and spec.attempts == 3
    assert len(issue_core.tasks()) == 1
    assert requests(issue_core) == {"tasks_find": 3, "tasks_create": 3}
    assert [attempt for attempt, _ in _emission_attempts(history)] == [3]


async def test_issue_core_down_through_every_attempt_leaves_the_spec_unknown_and_the_report_standing(
    stack: OpenStack, issue_core: IssueCoreEmulator
) -> None:
    """Each create may have applied (a 503 after sending), so each attempt looks the key up
    first; the last attempt records the unknown spec instead of failing the step."""
    async with stack("rest", tasks=ONE_TASK) as h:
        issue_core.queue_faults("tasks_create", *["http_503"] * TASK_EMISSION_ATTEMPTS)
        summary, handle = await h.run_manual()
        row = await h.runs.get_run(handle.id)
        (spec,) = await spawned(h, row)
        history = await handle.fetch_history()

    assert summary.status == row.status == "clean" and row.items_kept
    assert "1 unknown, 1 unsettled" in (summary.detail or "")
    assert spec.state.value == "unknown" and spec.attempts == TASK_EMISSION_ATTEMPTS and spec.finished_at is None
    assert row.result["tasks"]["counts"]["unknown"] == 1 and row.result["tasks"]["pending"] == 1
    assert unsettled(row.result) == "task specs 1 unknown"  # what the calibration gate reads
    assert issue_core.tasks() == []
    assert requests(issue_core) == {"tasks_find": TASK_EMISSION_ATTEMPTS, "tasks_create": TASK_EMISSION_ATTEMPTS}
    assert [attempt for attempt, _ in _emission_attempts(history)] == [TASK_EMISSION_ATTEMPTS]


async def test_a_422_fails_the_spec_with_its_message_and_the_run_keeps_its_report_status(
    stack: OpenStack, issue_core: IssueCoreEmulator
) -> None:
    async with stack("rest") as h:
        issue_core.queue_faults("tasks_create", "validation_error")
        row, rows = await manual(h)
        (event,) = events_of(h, row)
        note = note_of(h, row)

    assert row.status == "clean"  # the report's status stands
    assert states(rows) == ["failed", "created", "created"]
    failed = rows[0]
    assert failed.error_class == "IssueCoreRejected"
    assert "422: validation_error: emulated: the task was refused" in (failed.error_message or "")
    assert requests(issue_core) == {"tasks_find": 3, "tasks_create": 3}  # a 422 is final: not sent again
    counts = row.result["tasks"]["counts"]
    assert (counts["failed"], counts["created"], row.result["tasks"]["pending"]) == (1, 2, 0)
    assert event["payload"]["tasks"]["counts"]["failed"] == 1 and "1 failed" in event["summary"]
    assert "the task was refused" in note["body_markdown"] and "1 failed" in note["body_markdown"]


async def test_the_calibration_gate_does_not_count_a_scheduled_run_whose_spec_failed(
    stack: OpenStack, issue_core: IssueCoreEmulator
) -> None:
    """A genuine scheduled run (an interval schedule firing by itself), its first spec refused."""
    interval = {
        "schedule": {"every_seconds": 3, "time_zone": "UTC", "execution_timeout_seconds": 7200},
        "evidence": {"note_key_pattern": "test-{date}-{tick}"},
    }
    async with stack("rest", definition=interval) as h:
        issue_core.queue_faults("tasks_create", "validation_error")
        async with schedule_of(h):
            for _ in range(150):
                rows = await h.runs.list_runs(RunQuery(definition_id=h.definition_id, trigger="schedule"))
                if any(r.status != "running" for r in rows):
                    break
                await asyncio.sleep(0.2)
        first = min((r for r in rows if r.status != "running"), key=lambda r: r.tick_at)
        definition = load_all(h.settings.definitions_dir)[h.definition_id].definition
        report = await calibration_status(
            HistoryStore(h.runs.pool, timeout=10),
            FeedbackStore(h.runs.pool, timeout=10),
            h.client,
            h.deps.state_hub,
            definition,
            required=1,
            now=first.tick_at + timedelta(seconds=1),
        )
        first_rows = await spawned(h, first)

    assert first.trigger == "schedule" and first.status == "clean"
    assert states(first_rows) == ["failed", "created", "created"]
    assert not report.met and report.streak == 0 and report.broken_by
    assert f"row: status clean, but task specs 1 failed (activity-core tasks list --run {first.id})" in report.broken_by


async def test_a_worker_killed_between_send_and_record_files_the_task_once(
    stack: OpenStack,
    issue_core: IssueCoreEmulator,
    tmp_path,
    reaper,  # noqa: F811  (the fixture imported above)
) -> None:
    """The create is held 4 s by the emulator (which then stores it); the worker process is
    SIGKILLed while it waits, and the activity's retry on another worker (once the heartbeat
    times out) finds the task by its key."""
    async with stack("rest", tasks=ONE_TASK, worker=False) as h:
        env = {
            **_worker_env(h.settings, health_port=0),
            "ISSUE_SINK_TYPE": "rest",
            "ISSUE_CORE_URL": issue_core.url,
            "ISSUE_CORE_TOKEN": issue_core.token or "",
        }
        issue_core.queue_faults("tasks_create", "slow:4")
        doomed = _start_worker(env, PROJECT_ROOT, tmp_path / "doomed.log")
        reaper.append(doomed)
        handle: WorkflowHandle = await h.start()
        for _ in range(300):
            if issue_core.requests("tasks_create"):
                break
            await asyncio.sleep(0.2)
        else:
            raise AssertionError(f"the worker never sent its create:\n{(tmp_path / 'doomed.log').read_text()}")
        doomed.kill()  # SIGKILL: between the send and its record
        doomed.wait()
        successor = _start_worker(env, PROJECT_ROOT, tmp_path / "successor.log")
        reaper.append(successor)
        summary = await asyncio.wait_for(await_run(handle), timeout=120)
        row = await h.runs.get_run(handle.id)
        (spec,) = await spawned(h, row)

    assert summary.status == "clean"
    (task,) = issue_core.tasks()
    assert spec.state.value == "created" and spec.ref == task["key"] and spec.attempts == 1
    assert requests(issue_core) == {"tasks_find": 2, "tasks_create": 1}
    logs = (tmp_path / "doomed.log").read_text() + (tmp_path / "successor.log").read_text()
    assert issue_core.token and issue_core.token not in logs


# --- what never leaves -------------------------------------------------------------------------------


async def test_the_issue_core_token_appears_in_no_row_log_history_event_or_note(
    stack: OpenStack, issue_core: IssueCoreEmulator, issue_core_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    """issue-core echoes a lookup's request, Authorization header included, in a 500: the
    message reaches the logs (and, while it stands, the spawn log and the row) only with the
    token blanked; and the worker's scrub, which model answers pass, knows the token."""
    caplog.set_level(logging.DEBUG)
    async with stack("rest") as h:
        assert h.deps.scrub(f"a model echoing {issue_core_token}") == "a model echoing ***"  # answers are scrubbed
        issue_core.queue_faults("tasks_find", "echo_request_500")  # a GET: the echoed headers are quoted
        row, rows = await manual(h)
        handle = h.client.get_workflow_handle(row.workflow_id, run_id=row.run_id)
        history = (await handle.fetch_history()).to_json()
        async with h.runs.pool.acquire() as conn:
            stored = await conn.fetch(
                "SELECT row_to_json(t)::text AS row FROM activity_runs t"
                " UNION ALL SELECT row_to_json(t)::text FROM task_spawn_log t"
                " UNION ALL SELECT row_to_json(t)::text FROM run_artifacts t"
            )
        surfaces = {
            "rows": "\n".join(r["row"] for r in stored),
            "logs": caplog.text,
            "history": history,
            "events": json.dumps(events_of(h, row)),
            "notes": json.dumps(h.state_hub.notes()),
            "issue-core bodies": "\n".join(r.text for r in issue_core.requests()),
        }

    assert states(rows) == ["created"] * 3 and len(issue_core.tasks()) == 3
    assert requests(issue_core) == {"tasks_find": 4, "tasks_create": 3}  # the failed lookup is retried, then filed
    assert "'authorization': 'Bearer [redacted]'" in caplog.text  # the echo reached our messages, blanked
    for name, text in surfaces.items():
        assert issue_core_token not in text, f"the issue-core token leaked into {name}"
