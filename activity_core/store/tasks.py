"""The ``task_spawn_log``: the outbox a run's task specs are written to before anything is
sent, and what issue-core answered for each.

Planning is idempotent (a retried activity finds the rows it wrote); every later change is
one row update, committed before the request it prepares is sent, so a worker killed at any
point leaves a row that says what may have happened. ``lock`` serialises the work on one
business key across processes: two runs of the same day cannot both find no task and both
file one.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from activity_core.settings import SinkType
from activity_core.store.pool import StoreError
from activity_core.tasks.spec import SpawnState


class PlannedRow(BaseModel):
    """A row as the outbox first holds it."""

    model_config = ConfigDict(frozen=True)

    definition_id: str
    workflow_id: str
    run_id: str
    occurrence: date
    spec_id: str
    requested_sink: SinkType
    sink: SinkType
    state: SpawnState
    candidate: str | None = None
    item_rank: int | None = None
    item_line: int | None = None
    base_key: str | None = None
    episode: int | None = None
    idempotency_key: str | None = None
    payload_hash: str | None = None
    review_required: bool = False
    on_recurrence: str | None = None
    spec: dict[str, Any] | None = None
    reason: str | None = None
    reason_detail: str | None = None


class SpawnRow(PlannedRow):
    """One ``task_spawn_log`` row."""

    id: int
    request: dict[str, Any] | None
    task_id: str | None
    task_key: str | None
    task_url: str | None
    comment_key: str | None
    comment_id: str | None
    sent_key: str | None
    error_class: str | None
    error_message: str | None
    attempts: int
    created_at: datetime
    updated_at: datetime
    last_sent_at: datetime | None
    finished_at: datetime | None

    @property
    def ref(self) -> str | None:
        """The task's reference as people read it: issue-core's key (``ISSUE-123``)."""
        return self.task_key


class TaskQuery(BaseModel):
    model_config = ConfigDict(frozen=True)

    workflow_id: str | None = None
    run_id: str | None = Field(default=None, description="Only with workflow_id.")
    definition_id: str | None = None
    limit: int = Field(default=200, ge=1, le=10_000)


_PLANNED_COLUMNS = tuple(PlannedRow.model_fields)
_COLUMNS = ", ".join(SpawnRow.model_fields)
# What the sinks may change after planning; anything else is the plan and stays as written.
_MUTABLE = frozenset(
    {
        "episode", "idempotency_key", "payload_hash", "sink", "state", "request", "task_id", "task_key",
        "task_url", "comment_key", "comment_id", "sent_key", "error_class", "error_message",
    }
)  # fmt: skip
_RUN_ORDER = "ORDER BY item_rank ASC NULLS LAST, id ASC"
_NEWEST_FIRST = "ORDER BY created_at DESC, id DESC"
# The two-key form of the advisory lock, with this namespace first, stays clear of the
# one-key lock the migrations take.
_LOCK_NAMESPACE = 0x7461736B  # "task"

# A not_emitted row is finished as it is written: no sink ever owes it anything.
_INSERT = f"""
INSERT INTO task_spawn_log ({", ".join(_PLANNED_COLUMNS)}, finished_at)
VALUES ({", ".join(f"${i}" for i in range(1, len(_PLANNED_COLUMNS) + 1))},
        CASE WHEN ${_PLANNED_COLUMNS.index("state") + 1}::text = 'not_emitted' THEN now() END)
ON CONFLICT (workflow_id, run_id, spec_id) DO NOTHING
"""


class SpawnRowMissing(StoreError):
    """A sink addressed a row that is not in the log."""


class TaskSpawnLog:
    """Reads and writes of ``task_spawn_log`` on a pool from ``create_pool`` (which decodes jsonb).

    ``timeout`` bounds both the wait for a pooled connection and each query.
    """

    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def plan(self, rows: list[PlannedRow]) -> list[SpawnRow]:
        """Write the rows not yet in the log (a retry keeps what the first call wrote) and
        return every row of the run, best rank first."""
        if not rows:
            return []
        async with self._pool.acquire(timeout=self._timeout) as conn, conn.transaction():
            await conn.executemany(_INSERT, [_values(row) for row in rows], timeout=self._timeout)
        return await self.rows_of_run(rows[0].workflow_id, rows[0].run_id)

    async def rows_of_run(self, workflow_id: str, run_id: str) -> list[SpawnRow]:
        return await self._rows(
            f"SELECT {_COLUMNS} FROM task_spawn_log WHERE workflow_id = $1 AND run_id = $2 {_RUN_ORDER}",
            workflow_id,
            run_id,
        )

    async def get(self, row_id: int) -> SpawnRow:
        rows = await self._rows(f"SELECT {_COLUMNS} FROM task_spawn_log WHERE id = $1", row_id)
        if not rows:
            raise SpawnRowMissing(f"no task_spawn_log row {row_id}")
        return rows[0]

    async def update(
        self, row_id: int, *, count_attempt: bool = False, finished: bool = False, **changes: Any
    ) -> SpawnRow:
        """Change the given columns of one row. ``count_attempt`` adds one to ``attempts`` and
        stamps ``last_sent_at`` (call it before the request it counts); ``finished`` stamps
        ``finished_at``: the sink owes the row nothing more."""
        unknown = set(changes) - _MUTABLE
        if unknown:
            raise ValueError(f"task_spawn_log columns that cannot change after planning: {sorted(unknown)}")
        values = [_plain(value) for value in changes.values()]
        sets = [f"{name} = ${i}" for i, name in enumerate(changes, start=2)]
        sets.append("updated_at = now()")
        if count_attempt:
            sets += ["attempts = attempts + 1", "last_sent_at = now()"]
        if finished:
            sets.append("finished_at = now()")
        rows = await self._rows(
            f"UPDATE task_spawn_log SET {', '.join(sets)} WHERE id = $1 RETURNING {_COLUMNS}", row_id, *values
        )
        if not rows:
            raise SpawnRowMissing(f"no task_spawn_log row {row_id} to update")
        return rows[0]

    async def latest_episode(self, base_key: str) -> int | None:
        """The newest episode of a recommendation that some run found or filed a task for."""
        row = await self._fetchrow(
            "SELECT max(episode) AS episode FROM task_spawn_log WHERE base_key = $1 AND task_id IS NOT NULL", base_key
        )
        return row["episode"] if row is not None else None

    async def created_on(self, idempotency_key: str, occurrence: date) -> bool:
        """Whether a run of ``occurrence`` created the task under this key: then a recurrence
        on that day is the same day run again, not the recommendation coming back."""
        found = await self._fetchrow(
            "SELECT 1 FROM task_spawn_log WHERE idempotency_key = $1 AND occurrence = $2 AND state = 'created' LIMIT 1",
            idempotency_key,
            occurrence,
        )
        return found is not None

    async def list_rows(self, query: TaskQuery) -> list[SpawnRow]:
        conditions: list[str] = []
        args: list[object] = []
        for column, value in (
            ("workflow_id", query.workflow_id),
            ("run_id", query.run_id),
            ("definition_id", query.definition_id),
        ):
            if value is not None:
                args.append(value)
                conditions.append(f"{column} = ${len(args)}")
        where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
        args.append(query.limit)
        return await self._rows(
            f"SELECT {_COLUMNS} FROM task_spawn_log {where} {_NEWEST_FIRST} LIMIT ${len(args)}", *args
        )

    async def rows_for_key(self, key: str) -> list[SpawnRow]:
        """Every row under our idempotency key or issue-core's task key, oldest first: the
        history of one task across the runs that created, found or commented on it."""
        return await self._rows(
            f"SELECT {_COLUMNS} FROM task_spawn_log WHERE idempotency_key = $1"
            f" UNION SELECT {_COLUMNS} FROM task_spawn_log WHERE task_key = $1"
            " ORDER BY created_at ASC, id ASC",
            key,
        )

    async def run_of_history_row(self, row_id: int) -> tuple[str, str] | None:
        """(workflow id, run id) of an ``activity_runs`` row id, as ``runs list`` shows it."""
        row = await self._fetchrow("SELECT workflow_id, run_id FROM activity_runs WHERE id = $1", row_id)
        return (row["workflow_id"], row["run_id"]) if row is not None else None

    @asynccontextmanager
    async def lock(self, base_key: str) -> AsyncIterator[None]:
        """Hold the advisory lock of one business key. The connection holding it is released
        on exit, and by PostgreSQL if this process dies, so a killed worker blocks no one."""
        digest = hashlib.sha256(base_key.encode("utf-8")).digest()
        key = int.from_bytes(digest[:4], "big", signed=True)
        async with self._pool.acquire(timeout=self._timeout) as conn:
            await conn.execute("SELECT pg_advisory_lock($1, $2)", _LOCK_NAMESPACE, key, timeout=self._timeout)
            try:
                yield
            finally:
                if not conn.is_closed():
                    await conn.execute("SELECT pg_advisory_unlock($1, $2)", _LOCK_NAMESPACE, key, timeout=self._timeout)

    async def _rows(self, sql: str, *args: object) -> list[SpawnRow]:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows = await conn.fetch(sql, *args, timeout=self._timeout)
        return [SpawnRow.model_validate(dict(row)) for row in rows]

    async def _fetchrow(self, sql: str, *args: object) -> asyncpg.Record | None:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            return await conn.fetchrow(sql, *args, timeout=self._timeout)


def _plain(value: object) -> object:
    """Enums as their text: the columns are text with CHECK constraints."""
    return value.value if isinstance(value, (SinkType, SpawnState)) else value


def _values(row: PlannedRow) -> list[object]:
    return [_plain(getattr(row, name)) for name in _PLANNED_COLUMNS]
