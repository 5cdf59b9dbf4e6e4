"""Run history: the writes a run makes as it goes, and the reads reviewers and operators make.

Writes are idempotent because Temporal retries activities: starting twice keeps the first
row, finishing twice keeps the last outcome. Reads order newest first by the run's time (its
tick, else its start) and id or, for the calibration walk, by the schedule's tick, matching
the indexes of ``migrations/`` so they stay index walks as history grows.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg

from activity_core.store.models import LlmCallRecord, RunFinished, RunQuery, RunRecord, RunReport, RunStarted
from activity_core.store.pool import StoreError

_COLUMNS = ", ".join(RunRecord.model_fields)

# The run's time: its tick when the schedule fired it (a backfilled run too), else its start.
RUN_TIME = "COALESCE(scheduled_at, started_at)"
_NEWEST_FIRST = f"ORDER BY {RUN_TIME} DESC, id DESC"
_EARLIEST_ZONE_OFFSET = timedelta(hours=14)

SCHEDULED_RUNS_SQL = f"""
SELECT {_COLUMNS} FROM activity_runs
WHERE definition_id = $1 AND trigger = 'schedule'
ORDER BY scheduled_at DESC, id DESC
LIMIT $2
"""

_INSERT_STARTED = """
INSERT INTO activity_runs
    (definition_id, kind, workflow_id, run_id, trigger, scheduled_at, tick_at, start_lag_seconds,
     local_date, started_at, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'running')
ON CONFLICT (workflow_id, run_id) DO NOTHING
RETURNING id
"""

_SET_REPORT = """
UPDATE activity_runs SET
    framing = $3, truncated = $4, summary = $5, items = $6, quarantined = $7, counts = $8,
    items_kept = $9, items_quarantined = $10, raw_content = $11, known_refs = $12, reasks = $13,
    updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
RETURNING id
"""

_SET_LLM_CALL = """
UPDATE activity_runs SET
    llm_model = $3, llm_provider = $4, llm_usage = $5, llm_finish_reason = $6, llm_latency_ms = $7,
    llm_attempts = $8, versions = $9, updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
RETURNING id
"""

_SET_LLM_ATTEMPTS = """
UPDATE activity_runs SET llm_attempts = $3, updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
RETURNING id
"""

_SET_RESULT = """
UPDATE activity_runs SET result = $3, updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
RETURNING id
"""

# Only the first finish of a run moves it out of 'running'; a retried finish rewrites the
# outcome but reports that it was not the first, so metrics count each run once.
_UPDATE_FINISHED = """
UPDATE activity_runs AS run SET
    status = $3, finished_at = $4, error_message = $5, timings = $6, updated_at = now()
FROM (SELECT id, status FROM activity_runs WHERE workflow_id = $1 AND run_id = $2 FOR UPDATE) AS before
WHERE run.id = before.id
RETURNING before.status = 'running' AS first
"""

# A retried post returns the id State Hub already gave, so only a different id is refused.
_SET_PROGRESS_EVENT = """
UPDATE activity_runs SET progress_event_id = $3, updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
  AND (progress_event_id IS NULL OR progress_event_id = $3)
RETURNING id
"""

_SET_NOTE = """
UPDATE activity_runs SET note_id = $3, note_key = $4, updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
RETURNING id
"""

_PUT_ARTIFACT = """
INSERT INTO run_artifacts (workflow_id, run_id, name, content, sha256, bytes)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (workflow_id, run_id, name)
DO UPDATE SET content = EXCLUDED.content, sha256 = EXCLUDED.sha256, bytes = EXCLUDED.bytes, created_at = now()
"""


class RunNotStarted(StoreError):
    """A write addressed a run that ``record_run_started`` never recorded."""


class ProgressEventConflict(StoreError):
    """A run already holds a different progress event id: posting twice would double the evidence."""


def list_runs_statement(query: RunQuery) -> tuple[str, list[object]]:
    """The SQL and arguments of ``list_runs``; public so benchmarks can EXPLAIN the real query.

    Only the filters given become conditions: a generic ``$1 IS NULL OR ...`` would keep the
    planner from walking the index that leads with the filtered column.
    """
    conditions: list[str] = []
    args: list[object] = []
    for column, value in (
        ("definition_id", query.definition_id),
        ("status", query.status),
        ("trigger", query.trigger),
    ):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} = ${len(args)}")
    if query.since is not None:
        # Each row's local_date is in its own definition's zone. No zone is ahead of UTC by
        # more than 14 h, so a run of that date or later has a run time at or after this
        # bound: the bound keeps `since` a range of every listing index, local_date makes it exact.
        args.append(datetime.combine(query.since, time.min, tzinfo=UTC) - _EARLIEST_ZONE_OFFSET)
        conditions.append(f"{RUN_TIME} >= ${len(args)}")
        args.append(query.since)
        conditions.append(f"local_date >= ${len(args)}")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    args.append(query.limit)
    return f"SELECT {_COLUMNS} FROM activity_runs {where} {_NEWEST_FIRST} LIMIT ${len(args)}", args


class RunStore:
    """Run-history reads and writes on a pool from ``create_pool`` (which decodes jsonb).

    ``timeout`` bounds both the wait for a pooled connection and each query.
    """

    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    @property
    def pool(self) -> asyncpg.Pool:
        """Shared with ``apply_migrations`` so the local stack migrates over the same pool."""
        return self._pool

    async def ping(self) -> bool:
        """PostgreSQL answers a query: the worker's health check."""
        return await self._fetchval("SELECT 1") == 1

    async def record_run_started(self, run: RunStarted) -> int:
        """The row id of the run, inserting it on the first call only."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            row_id = await conn.fetchval(
                _INSERT_STARTED,
                run.definition_id,
                run.kind,
                run.workflow_id,
                run.run_id,
                run.trigger,
                run.scheduled_at,
                run.tick_at,
                run.start_lag_seconds,
                run.local_date,
                run.started_at,
                timeout=self._timeout,
            )
            if row_id is None:
                # A separate statement: its fresh snapshot sees a row a concurrent call committed.
                row_id = await conn.fetchval(
                    "SELECT id FROM activity_runs WHERE workflow_id = $1 AND run_id = $2",
                    run.workflow_id,
                    run.run_id,
                    timeout=self._timeout,
                )
        return row_id

    async def set_report(self, workflow_id: str, run_id: str, report: RunReport) -> None:
        await self._update(
            "report",
            _SET_REPORT,
            workflow_id,
            run_id,
            report.framing,
            report.truncated,
            report.summary,
            report.items,
            report.quarantined,
            report.counts,
            len(report.items),
            len(report.quarantined),
            report.raw_content,
            report.known_refs,
            report.reasks,
        )

    async def set_llm_call(self, workflow_id: str, run_id: str, call: LlmCallRecord) -> None:
        await self._update(
            "llm call",
            _SET_LLM_CALL,
            workflow_id,
            run_id,
            call.model,
            call.provider,
            call.usage,
            call.finish_reason,
            call.latency_ms,
            call.attempts,
            call.versions,
        )

    async def set_llm_attempts(self, workflow_id: str, run_id: str, attempts: int) -> None:
        """How many llm-connect attempts a run spent before failing (no answer to record)."""
        await self._update("llm attempts", _SET_LLM_ATTEMPTS, workflow_id, run_id, attempts)

    async def set_result(self, workflow_id: str, run_id: str, result: dict[str, object]) -> None:
        """A non-instruction kind's result (JSON), as its own model dumped it."""
        await self._update("result", _SET_RESULT, workflow_id, run_id, result)

    async def record_run_finished(self, run: RunFinished) -> bool:
        """Write the outcome; True the first time the run leaves 'running' (count it then)."""
        first = await self._fetchrow(
            _UPDATE_FINISHED, run.workflow_id, run.run_id, run.status, run.finished_at, run.error_message, run.timings
        )
        if first is None:
            raise RunNotStarted(
                f"cannot finish workflow {run.workflow_id} run {run.run_id}: it was never recorded as started"
            )
        return bool(first["first"])

    async def run_record(self, workflow_id: str, run_id: str) -> RunRecord:
        row = await self._fetchrow(
            f"SELECT {_COLUMNS} FROM activity_runs WHERE workflow_id = $1 AND run_id = $2", workflow_id, run_id
        )
        if row is None:
            raise RunNotStarted(f"workflow {workflow_id} run {run_id} was never recorded as started")
        return RunRecord.model_validate(dict(row))

    async def progress_event_id(self, workflow_id: str, run_id: str) -> str | None:
        """The event id this run stored: a retried post finds it and posts nothing."""
        return await self._fetchval(
            "SELECT progress_event_id FROM activity_runs WHERE workflow_id = $1 AND run_id = $2",
            workflow_id,
            run_id,
        )

    async def put_artifact(self, workflow_id: str, run_id: str, name: str, content: str) -> str:
        """Keep a step's large input or output with the run; returns its SHA-256 (hex)."""
        encoded = content.encode("utf-8", errors="surrogatepass")
        digest = hashlib.sha256(encoded).hexdigest()
        storable = encoded.decode("utf-8", errors="replace").replace("\x00", "\ufffd")
        async with self._pool.acquire(timeout=self._timeout) as conn:
            try:
                await conn.execute(
                    _PUT_ARTIFACT, workflow_id, run_id, name, storable, digest, len(encoded), timeout=self._timeout
                )
            except asyncpg.ForeignKeyViolationError:
                raise RunNotStarted(f"workflow {workflow_id} run {run_id} was never recorded as started") from None
        return digest

    async def artifact(self, workflow_id: str, run_id: str, name: str) -> str | None:
        return await self._fetchval(
            "SELECT content FROM run_artifacts WHERE workflow_id = $1 AND run_id = $2 AND name = $3",
            workflow_id,
            run_id,
            name,
        )

    async def set_progress_event_id(self, workflow_id: str, run_id: str, event_id: str) -> None:
        if await self._fetchval(_SET_PROGRESS_EVENT, workflow_id, run_id, event_id) is not None:
            return
        stored = await self._fetchrow(
            "SELECT progress_event_id FROM activity_runs WHERE workflow_id = $1 AND run_id = $2",
            workflow_id,
            run_id,
        )
        if stored is None:
            raise RunNotStarted(
                f"cannot store progress event {event_id} for workflow {workflow_id} run {run_id}: "
                "it was never recorded as started"
            )
        raise ProgressEventConflict(
            f"workflow {workflow_id} run {run_id} already has progress event "
            f"{stored['progress_event_id']}; refusing to record a second one ({event_id})"
        )

    async def set_note_id(self, workflow_id: str, run_id: str, note_id: str, note_key: str) -> None:
        """Later calls win: rewriting the note under its key replaces it in State Hub too."""
        await self._update(f"note {note_key}", _SET_NOTE, workflow_id, run_id, note_id, note_key)

    async def _update(self, what: str, sql: str, workflow_id: str, run_id: str, *args: object) -> None:
        if await self._fetchval(sql, workflow_id, run_id, *args) is None:
            raise RunNotStarted(
                f"cannot store the {what} of workflow {workflow_id} run {run_id}: it was never recorded as started"
            )

    async def get_run(self, ref: str) -> RunRecord | None:
        """The run with row id ``ref``, else the newest run of workflow id ``ref``."""
        if ref.isascii() and ref.isdigit() and int(ref) < 2**63:
            row = await self._fetchrow(f"SELECT {_COLUMNS} FROM activity_runs WHERE id = $1", int(ref))
            if row is not None:
                return RunRecord.model_validate(dict(row))
        row = await self._fetchrow(
            f"SELECT {_COLUMNS} FROM activity_runs WHERE workflow_id = $1 {_NEWEST_FIRST} LIMIT 1",
            ref,
        )
        return RunRecord.model_validate(dict(row)) if row is not None else None

    async def list_runs(self, query: RunQuery) -> list[RunRecord]:
        sql, args = list_runs_statement(query)
        return await self._fetch_records(sql, *args)

    async def scheduled_runs(self, definition_id: str, *, limit: int) -> list[RunRecord]:
        """The definition's runs fired by the schedule, newest tick first: the calibration walk."""
        return await self._fetch_records(SCHEDULED_RUNS_SQL, definition_id, limit)

    async def _fetch_records(self, sql: str, *args: object) -> list[RunRecord]:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows = await conn.fetch(sql, *args, timeout=self._timeout)
        return [RunRecord.model_validate(dict(row)) for row in rows]

    async def _fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            return await conn.fetchrow(sql, *args, timeout=self._timeout)

    async def _fetchval(self, sql: str, *args: object) -> Any:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            return await conn.fetchval(sql, *args, timeout=self._timeout)
