"""Run history: the writes a run makes as it goes, and the reads reviewers and operators make.

Writes are idempotent because Temporal retries activities: starting twice keeps the first
row, finishing twice keeps the last outcome. Reads order newest first by the run's time (its
tick, else its start) and id or, for the calibration walk, by the schedule's tick, matching
the indexes of ``migrations/`` so they stay index walks as history grows.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import asyncpg

from activity_core.store.models import RunFinished, RunQuery, RunRecord, RunStarted
from activity_core.store.pool import StoreError

# The zone of the rows' local_date, and so of the calendar dates `runs list --since` takes.
_BERLIN = ZoneInfo("Europe/Berlin")

_COLUMNS = ", ".join(RunRecord.model_fields)

# The run's time: its tick when the schedule fired it (a backfilled run too), else its start.
RUN_TIME = "COALESCE(scheduled_at, started_at)"
_NEWEST_FIRST = f"ORDER BY {RUN_TIME} DESC, id DESC"

SCHEDULED_RUNS_SQL = f"""
SELECT {_COLUMNS} FROM activity_runs
WHERE definition_id = $1 AND trigger = 'schedule'
ORDER BY scheduled_at DESC, id DESC
LIMIT $2
"""

_INSERT_STARTED = """
INSERT INTO activity_runs
    (definition_id, workflow_id, run_id, trigger, scheduled_at, local_date, started_at, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'running')
ON CONFLICT (workflow_id, run_id) DO NOTHING
RETURNING id
"""

_UPDATE_FINISHED = """
UPDATE activity_runs SET
    status = $3, finished_at = $4, error_message = $5, framing = $6, truncated = $7,
    summary = $8, items = $9, quarantined = $10, counts = $11, items_kept = $12,
    items_quarantined = $13, llm_model = $14, llm_provider = $15, llm_usage = $16,
    llm_finish_reason = $17, llm_latency_ms = $18, llm_attempts = $19, reasks = $20,
    raw_content = $21, timings = $22, known_refs = $23, updated_at = now()
WHERE workflow_id = $1 AND run_id = $2
RETURNING id
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
        # A bound on the run's time (not local_date) keeps `since` a range in every listing index.
        args.append(datetime.combine(query.since, time.min, tzinfo=_BERLIN))
        conditions.append(f"{RUN_TIME} >= ${len(args)}")
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
                run.workflow_id,
                run.run_id,
                run.trigger,
                run.scheduled_at,
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

    async def record_run_finished(self, run: RunFinished) -> None:
        row_id = await self._fetchval(
            _UPDATE_FINISHED,
            run.workflow_id,
            run.run_id,
            run.status,
            run.finished_at,
            run.error_message,
            run.framing,
            run.truncated,
            run.summary,
            run.items,
            run.quarantined,
            run.counts,
            len(run.items),
            len(run.quarantined),
            run.llm_model,
            run.llm_provider,
            run.llm_usage,
            run.llm_finish_reason,
            run.llm_latency_ms,
            run.llm_attempts,
            run.reasks,
            run.raw_content,
            run.timings,
            run.known_refs,
        )
        if row_id is None:
            raise RunNotStarted(
                f"cannot finish workflow {run.workflow_id} run {run.run_id}: "
                "it was never recorded as started"
            )

    async def progress_event_id(self, workflow_id: str) -> str | None:
        """The event id stored by any run of ``workflow_id``: the post's idempotency scope."""
        return await self._fetchval(
            "SELECT progress_event_id FROM activity_runs"
            " WHERE workflow_id = $1 AND progress_event_id IS NOT NULL"
            f" {_NEWEST_FIRST} LIMIT 1",
            workflow_id,
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
        if await self._fetchval(_SET_NOTE, workflow_id, run_id, note_id, note_key) is None:
            raise RunNotStarted(
                f"cannot store note {note_key} for workflow {workflow_id} run {run_id}: "
                "it was never recorded as started"
            )

    async def get_run(self, ref: str) -> RunRecord | None:
        """The run with row id ``ref``, else the newest run of workflow id ``ref``."""
        if ref.isascii() and ref.isdigit() and int(ref) < 2**63:
            row = await self._fetchrow(
                f"SELECT {_COLUMNS} FROM activity_runs WHERE id = $1", int(ref)
            )
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

    async def _fetchval(self, sql: str, *args: object) -> object:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            return await conn.fetchval(sql, *args, timeout=self._timeout)
