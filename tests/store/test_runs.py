"""RunStore against a real PostgreSQL: the run lifecycle, idempotent writes, evidence ids, reads."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pydantic
import pytest

from activity_core.store import (
    ProgressEventConflict,
    RunFinished,
    RunNotStarted,
    RunQuery,
    RunStarted,
    RunStore,
)
from activity_core.store.models import LlmCallRecord, RunReport

UTC = UTC
BERLIN = ZoneInfo("Europe/Berlin")
TICK = datetime(2026, 6, 26, 5, 20, tzinfo=UTC)  # 07:20 Europe/Berlin (CEST)


def started(workflow_id: str = "daily-triage-2026-06-26", **overrides: object) -> RunStarted:
    fields: dict[str, object] = {
        "definition_id": "daily-statehub-wsjf-triage",
        "kind": "instruction",
        "workflow_id": workflow_id,
        "run_id": "run-1",
        "trigger": "schedule",
        "scheduled_at": TICK,
        "tick_at": TICK,
        "start_lag_seconds": 2.0,
        "local_date": date(2026, 6, 26),
        "started_at": TICK + timedelta(seconds=2),
    }
    return RunStarted(**(fields | overrides))


def report(**overrides: object) -> RunReport:
    fields: dict[str, object] = {
        "framing": "ndjson",
        "truncated": False,
        "summary": "Two workstreams need attention.",
        "items": [
            {"rank": 1, "ref": "LLM-WP-0006-T07", "wsjf": 8.5, "why": "unblocks two teams"},
            {"rank": 2, "ref": "ACTIVITY-WP-0009-T01", "wsjf": 6.0, "why": "calibration gate"},
        ],
        "quarantined": [{"reason": "unknown_reference", "detail": "X-1", "snippet": "<item>…"}],
        "counts": {"items_seen": 3, "kept": 2, "quarantined": 1},
        "raw_content": "<report>…</report>",
        "known_refs": ["LLM-WP-0006-T07", "ACTIVITY-WP-0009-T01"],
        "reasks": 1,
    }
    return RunReport(**(fields | overrides))


LLM_CALL = LlmCallRecord(
    model="custodian-triage-balanced",
    provider="emulator",
    usage={"prompt_tokens": 1200, "completion_tokens": 640},
    finish_reason="stop",
    latency_ms=3120,
    attempts=2,
    versions={"model": "custodian-triage-balanced", "prompt_template_sha256": "ab12", "item_schema": "report-item.v1"},
)


def finished(workflow_id: str = "daily-triage-2026-06-26", **overrides: object) -> RunFinished:
    fields: dict[str, object] = {
        "workflow_id": workflow_id,
        "run_id": "run-1",
        "status": "partial",
        "finished_at": TICK + timedelta(seconds=40),
        "timings": {"read_context_s": 0.4, "llm_s": 3.1},
    }
    return RunFinished(**(fields | overrides))


async def test_run_lifecycle_round_trip(store: RunStore) -> None:
    row_id = await store.record_run_started(started())

    running = await store.get_run(str(row_id))
    assert running is not None
    assert (running.id, running.status, running.trigger, running.kind) == (row_id, "running", "schedule", "instruction")
    assert running.scheduled_at == running.tick_at == TICK and running.start_lag_seconds == 2.0
    assert running.local_date == date(2026, 6, 26)
    assert running.finished_at is None and running.items is None and running.reasks == 0

    await store.set_report("daily-triage-2026-06-26", "run-1", report())
    await store.set_llm_call("daily-triage-2026-06-26", "run-1", LLM_CALL)
    outcome = finished()
    assert await store.record_run_finished(outcome) is True

    record = await store.get_run(str(row_id))
    assert record is not None
    assert record.model_dump(include=set(RunFinished.model_fields)) == outcome.model_dump()
    assert record.model_dump(include=set(RunReport.model_fields)) == report().model_dump()
    assert (record.llm_model, record.llm_attempts, record.versions) == (LLM_CALL.model, 2, LLM_CALL.versions)
    assert (record.items_kept, record.items_quarantined) == (2, 1)
    assert record.updated_at >= running.updated_at


async def test_artifacts_are_kept_with_their_run(store: RunStore) -> None:
    await store.record_run_started(started())
    digest = await store.put_artifact("daily-triage-2026-06-26", "run-1", "answer-1", "ünïcode\x00answer")
    assert len(digest) == 64
    assert await store.artifact("daily-triage-2026-06-26", "run-1", "answer-1") == "ünïcode\ufffdanswer"
    assert await store.artifact("daily-triage-2026-06-26", "run-1", "answer-2") is None
    with pytest.raises(RunNotStarted, match="workflow wf-ghost"):
        await store.put_artifact("wf-ghost", "run-1", "answer-1", "x")


async def test_failed_run_keeps_its_class_and_message(store: RunStore) -> None:
    await store.record_run_started(started(trigger="manual", scheduled_at=None, tick_at=None, start_lag_seconds=None))
    await store.record_run_finished(
        RunFinished(
            workflow_id="daily-triage-2026-06-26",
            run_id="run-1",
            status="failed_config",
            finished_at=TICK + timedelta(seconds=3),
            error_message="llm-connect refused the RunConfig: unknown profile",
        )
    )

    record = await store.get_run("daily-triage-2026-06-26")
    assert record is not None
    assert (record.status, record.error_message) == (
        "failed_config",
        "llm-connect refused the RunConfig: unknown profile",
    )
    assert (record.items, record.items_kept, record.llm_model) == (None, None, None)  # it never got an answer


async def test_start_is_idempotent_and_keeps_the_first_row(store: RunStore, pool: asyncpg.Pool) -> None:
    first = await store.record_run_started(started())
    again = await store.record_run_started(started(definition_id="other", started_at=TICK + timedelta(minutes=5)))
    racing = await asyncio.gather(*(store.record_run_started(started()) for _ in range(4)))

    assert again == first
    assert racing == [first] * 4
    assert await pool.fetchval("SELECT count(*) FROM activity_runs") == 1
    record = await store.get_run(str(first))
    assert record is not None
    assert (record.definition_id, record.started_at) == (
        "daily-statehub-wsjf-triage",
        TICK + timedelta(seconds=2),
    )


async def test_finish_is_idempotent_and_the_later_call_wins(store: RunStore, pool: asyncpg.Pool) -> None:
    await store.record_run_started(started())
    assert await store.record_run_finished(finished()) is True
    assert await store.record_run_finished(finished(status="clean")) is False  # a retry: not counted again

    record = await store.get_run("daily-triage-2026-06-26")
    assert record is not None
    assert record.status == "clean"
    assert await pool.fetchval("SELECT count(*) FROM activity_runs") == 1


async def test_finishing_a_run_never_started_names_the_workflow(store: RunStore) -> None:
    with pytest.raises(RunNotStarted, match="workflow wf-ghost run run-1"):
        await store.record_run_finished(finished("wf-ghost"))


@pytest.mark.parametrize("trigger", ["schedule", "late"])
def test_tick_run_without_its_tick_is_refused(trigger: str) -> None:
    with pytest.raises(pydantic.ValidationError, match="tick_at"):
        started(trigger=trigger, tick_at=None)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="started_at"):
        started(started_at=datetime(2026, 6, 26, 7, 20))


async def test_progress_event_id_is_stored_once_per_run(store: RunStore) -> None:
    workflow = "daily-triage-2026-06-26"
    await store.record_run_started(started(workflow, run_id="run-1"))
    assert await store.progress_event_id(workflow, "run-1") is None

    await store.set_progress_event_id(workflow, "run-1", "evt-1")
    await store.set_progress_event_id(workflow, "run-1", "evt-1")  # a retried activity
    # A second run under the same workflow id has its own evidence, never the first run's.
    second = started(workflow, run_id="run-2", started_at=TICK + timedelta(minutes=9))
    await store.record_run_started(second)
    assert await store.progress_event_id(workflow, "run-1") == "evt-1"
    assert await store.progress_event_id(workflow, "run-2") is None

    with pytest.raises(ProgressEventConflict, match=f"{workflow} run run-1 already has progress event evt-1"):
        await store.set_progress_event_id(workflow, "run-1", "evt-2")
    with pytest.raises(RunNotStarted, match="workflow wf-ghost"):
        await store.set_progress_event_id("wf-ghost", "run-1", "evt-3")


async def test_note_id_is_stored_and_replaced(store: RunStore) -> None:
    await store.record_run_started(started())
    await store.set_note_id("daily-triage-2026-06-26", "run-1", "note-1", "daily-triage-2026-06-26")
    await store.set_note_id("daily-triage-2026-06-26", "run-1", "note-2", "daily-triage-2026-06-26")

    record = await store.get_run("daily-triage-2026-06-26")
    assert record is not None
    assert (record.note_id, record.note_key) == ("note-2", "daily-triage-2026-06-26")
    with pytest.raises(RunNotStarted, match="workflow wf-ghost"):
        await store.set_note_id("wf-ghost", "run-1", "note-3", "daily-triage-2026-06-27")


async def test_get_run_by_row_id_or_newest_run_of_a_workflow(store: RunStore) -> None:
    older = await store.record_run_started(started("wf-a", run_id="run-1"))
    newer = await store.record_run_started(started("wf-a", run_id="run-2", started_at=TICK + timedelta(hours=1)))
    numeric_workflow = await store.record_run_started(started("20260626", run_id="run-1"))

    assert (await store.get_run(str(older))).run_id == "run-1"  # type: ignore[union-attr]
    assert (await store.get_run("wf-a")).id == newer  # type: ignore[union-attr]
    assert (await store.get_run("20260626")).id == numeric_workflow  # type: ignore[union-attr]
    assert await store.get_run("wf-missing") is None
    assert await store.get_run("999999") is None
    assert await store.get_run("99999999999999999999") is None


async def seed_listing(store: RunStore) -> dict[str, int]:
    """Runs across definitions, triggers, statuses and a Berlin midnight; returns their row ids."""

    def utc(day: int, hour: int, minute: int) -> datetime:
        return datetime(2026, 6, day, hour, minute, tzinfo=UTC)

    runs = {
        # name: (definition, trigger, started_at, final status or None while running)
        "a-sched-d1": ("def-a", "schedule", utc(24, 5, 20), "clean"),
        "a-sched-d2": ("def-a", "schedule", utc(25, 5, 20), "partial"),
        "a-late-d2": ("def-a", "manual", utc(25, 21, 59), "clean"),  # 23:59 in Berlin
        "b-manual-d3": ("def-b", "manual", utc(25, 22, 30), "failed_config"),  # 00:30 in Berlin
        "a-sched-d3": ("def-a", "schedule", utc(26, 5, 20), "clean"),
        "b-sched-d3": ("def-b", "schedule", utc(26, 5, 20), None),  # same instant, later row
    }
    ids = {}
    for name, (definition, trigger, at, status) in runs.items():
        ids[name] = await store.record_run_started(
            RunStarted(
                definition_id=definition,
                kind="instruction",
                workflow_id=name,
                run_id="r",
                trigger=trigger,
                scheduled_at=at if trigger == "schedule" else None,
                tick_at=at if trigger == "schedule" else None,
                local_date=at.astimezone(BERLIN).date(),
                started_at=at,
            )
        )
        if status is not None:
            await store.record_run_finished(
                RunFinished(workflow_id=name, run_id="r", status=status, finished_at=at + timedelta(minutes=1))
            )
    return ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            RunQuery(),
            ["b-sched-d3", "a-sched-d3", "b-manual-d3", "a-late-d2", "a-sched-d2", "a-sched-d1"],
        ),
        (RunQuery(limit=2), ["b-sched-d3", "a-sched-d3"]),
        (RunQuery(definition_id="def-a"), ["a-sched-d3", "a-late-d2", "a-sched-d2", "a-sched-d1"]),
        (RunQuery(status="clean"), ["a-sched-d3", "a-late-d2", "a-sched-d1"]),
        (RunQuery(status="running"), ["b-sched-d3"]),
        (RunQuery(trigger="manual"), ["b-manual-d3", "a-late-d2"]),
        (RunQuery(since=date(2026, 6, 26)), ["b-sched-d3", "a-sched-d3", "b-manual-d3"]),
        (
            RunQuery(definition_id="def-a", status="clean", trigger="schedule", since=date(2026, 6, 24)),
            ["a-sched-d3", "a-sched-d1"],
        ),
        (RunQuery(definition_id="def-c"), []),
    ],
)
async def test_list_runs_filters_newest_first(store: RunStore, query: RunQuery, expected: list[str]) -> None:
    await seed_listing(store)

    assert [run.workflow_id for run in await store.list_runs(query)] == expected


def test_run_query_rejects_unknown_status_and_unbounded_limit() -> None:
    with pytest.raises(pydantic.ValidationError):
        RunQuery(status="done")  # type: ignore[arg-type]
    with pytest.raises(pydantic.ValidationError):
        RunQuery(limit=0)


async def test_scheduled_runs_walk_ticks_newest_first(store: RunStore) -> None:
    def run(workflow_id: str, tick: datetime | None, started_at: datetime, definition: str = "def-a") -> RunStarted:
        return RunStarted(
            definition_id=definition,
            kind="instruction",
            workflow_id=workflow_id,
            run_id="r",
            trigger="schedule" if tick else "manual",
            scheduled_at=tick,
            tick_at=tick,
            local_date=started_at.date(),
            started_at=started_at,
        )

    day = timedelta(days=1)
    await store.record_run_started(run("tick-1", TICK, TICK))
    # Caught up hours late after an outage: started after tick 3's run, but its tick is older.
    await store.record_run_started(run("tick-2", TICK + day, TICK + 2 * day + timedelta(hours=3)))
    await store.record_run_started(run("tick-3", TICK + 2 * day, TICK + 2 * day))
    await store.record_run_started(run("manual", None, TICK + 3 * day))
    await store.record_run_started(run("other-definition", TICK + 3 * day, TICK + 3 * day, "def-b"))

    walk = await store.scheduled_runs("def-a", limit=10)
    assert [r.workflow_id for r in walk] == ["tick-3", "tick-2", "tick-1"]
    assert [r.workflow_id for r in await store.scheduled_runs("def-a", limit=2)] == ["tick-3", "tick-2"]
    assert await store.scheduled_runs("def-none", limit=10) == []


async def test_model_output_postgres_cannot_hold_is_stored_with_replacement_characters(store: RunStore) -> None:
    """NUL and lone surrogates in a model's answer must not cost the run its row."""
    await store.record_run_started(started())
    hostile = 'line one\x00{"title": "\ud83d broken pair"}'
    await store.set_report(
        "daily-triage-2026-06-26",
        "run-1",
        report(
            raw_content=hostile,
            summary="sum\x00mary",
            quarantined=[{"reason": "control_characters", "snippet": hostile}],
        ),
    )
    await store.record_run_finished(finished())
    row = await store.get_run("daily-triage-2026-06-26")
    assert row is not None and row.status == "partial"
    assert "\x00" not in row.raw_content and "\ufffd" in row.raw_content
    assert row.raw_content.startswith("line one") and row.raw_content.endswith(' broken pair"}')
    assert row.summary == "sum\ufffdmary"
    assert row.quarantined[0]["snippet"] == row.raw_content
