"""What reviewers and operators read back from run history, and its retention.

The reads serve ``calibration status`` and ``report``: the runs of a definition's ticks within
a window, which walks ``activity_runs_definition_schedule_idx`` over just that
window however long the history is. Retention (``runs prune``) works in bounded batches in
``started_at`` order, continuing after the last row it looked at, so each batch is an index
range read and no statement holds locks on more than one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from activity_core.store.models import RunRecord
from activity_core.store.runs import RUN_TIME

RUN_COLUMNS = ", ".join(RunRecord.model_fields)

TICK_RUNS_BETWEEN_SQL = f"""
SELECT {RUN_COLUMNS} FROM activity_runs
WHERE definition_id = $1 AND trigger IN ('schedule', 'late') AND tick_at BETWEEN $2 AND $3
ORDER BY tick_at DESC, id DESC
"""

RUNS_STARTED_BETWEEN_SQL = f"""
SELECT {RUN_COLUMNS} FROM activity_runs
WHERE definition_id = $1 AND started_at BETWEEN $2 AND $3
ORDER BY started_at DESC, id DESC
"""

RECENT_FINISHED_SQL = f"""
SELECT {RUN_COLUMNS} FROM activity_runs
WHERE definition_id = $1 AND status <> 'running'
ORDER BY started_at DESC, id DESC
LIMIT $2
"""

LAST_SCHEDULED_START_SQL = """
SELECT max(started_at) FROM activity_runs WHERE definition_id = $1 AND trigger = 'schedule'
"""

FIRST_SCHEDULED_AT_SQL = """
SELECT scheduled_at FROM activity_runs
WHERE definition_id = $1 AND trigger = 'schedule'
ORDER BY scheduled_at ASC, id ASC
LIMIT 1
"""

# Newest by the run's time, as `runs list` orders: a backfilled run of an old tick is not the latest.
_LATEST_REPORT = f"""
SELECT {RUN_COLUMNS} FROM activity_runs
WHERE definition_id = $1 AND status IN ('clean', 'partial')
ORDER BY {RUN_TIME} DESC, id DESC
LIMIT 1
"""

# Loose index scan: one index probe per distinct definition instead of reading every row.
_DEFINITIONS = """
WITH RECURSIVE defs(definition_id) AS (
    (SELECT definition_id FROM activity_runs ORDER BY definition_id LIMIT 1)
    UNION ALL
    SELECT (SELECT r.definition_id FROM activity_runs r
            WHERE r.definition_id > defs.definition_id ORDER BY r.definition_id LIMIT 1)
    FROM defs WHERE defs.definition_id IS NOT NULL
)
SELECT definition_id FROM defs WHERE definition_id IS NOT NULL
"""

# A run still going has not broken anything yet.
_NEWEST_BREAK = """
SELECT scheduled_at FROM activity_runs
WHERE definition_id = $1 AND trigger = 'schedule' AND status NOT IN ('clean', 'running')
ORDER BY scheduled_at DESC, id DESC
LIMIT 1
"""

_PRUNE_BATCH = """
SELECT id, started_at, definition_id, trigger, scheduled_at FROM activity_runs
WHERE started_at < $1 AND (started_at, id) > ($2, $3)
ORDER BY started_at, id
LIMIT $4
"""

_DROP_RAW = """
UPDATE activity_runs SET raw_content = NULL, updated_at = now()
WHERE id = ANY($1::bigint[]) AND raw_content IS NOT NULL
"""

_DELETE_ROWS = "DELETE FROM activity_runs WHERE id = ANY($1::bigint[])"

PRUNE_BATCH_SIZE = 1000


@dataclass(frozen=True)
class PruneResult:
    cutoff: datetime
    raw_only: bool
    changed: int
    """Rows whose raw output was dropped (``raw_only``), or rows deleted."""
    protected: int
    """Rows past the window kept because they may belong to a streak in progress."""
    batches: int


class HistoryStore:
    """History reads and retention on a pool from ``create_pool``; ``timeout`` as in RunStore."""

    def __init__(self, pool: asyncpg.Pool, *, timeout: float) -> None:
        self._pool = pool
        self._timeout = timeout

    async def tick_runs_between(self, definition_id: str, oldest: datetime, newest: datetime) -> list[RunRecord]:
        """The runs of the spec's ticks in [oldest, newest] (``schedule`` and ``late``), newest tick first."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows = await conn.fetch(TICK_RUNS_BETWEEN_SQL, definition_id, oldest, newest, timeout=self._timeout)
        return [RunRecord.model_validate(dict(row)) for row in rows]

    async def runs_started_between(self, definition_id: str, oldest: datetime, newest: datetime) -> list[RunRecord]:
        """Runs of every trigger started in [oldest, newest], newest first (what overlapped a tick)."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows = await conn.fetch(RUNS_STARTED_BETWEEN_SQL, definition_id, oldest, newest, timeout=self._timeout)
        return [RunRecord.model_validate(dict(row)) for row in rows]

    async def first_scheduled_at(self, definition_id: str) -> datetime | None:
        """The tick of the definition's first scheduled run: where its history, and so any
        streak, can start. None when the schedule never fired a recorded run."""
        return await self._fetchval(FIRST_SCHEDULED_AT_SQL, definition_id)

    async def recent_finished(self, definition_id: str, limit: int) -> list[RunRecord]:
        """The definition's last ``limit`` finished runs of every trigger, newest first."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            rows = await conn.fetch(RECENT_FINISHED_SQL, definition_id, limit, timeout=self._timeout)
        return [RunRecord.model_validate(dict(row)) for row in rows]

    async def last_scheduled_start(self, definition_id: str) -> datetime | None:
        """When the definition's newest on-time scheduled run started."""
        return await self._fetchval(LAST_SCHEDULED_START_SQL, definition_id)

    async def latest_report(self, definition_id: str) -> RunRecord | None:
        """The newest run that produced a ranked report (clean or partial), of either trigger,
        by the run's time (its tick, else its start)."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            row = await conn.fetchrow(_LATEST_REPORT, definition_id, timeout=self._timeout)
        return RunRecord.model_validate(dict(row)) if row is not None else None

    async def prune(self, cutoff: datetime, *, raw_only: bool, batch_size: int = PRUNE_BATCH_SIZE) -> PruneResult:
        """Drop raw output (or whole rows) of runs started before ``cutoff``, batch by batch.

        A scheduled run counts as part of a streak in progress, and is kept, when no finished
        non-clean scheduled run of its definition comes after it. That ignores missed ticks
        and evidence, so it keeps a superset of what ``calibration status`` would call the
        streak, from the database alone.
        """
        breaks = await self._newest_breaks()
        after: tuple[datetime, int] = (datetime.min.replace(tzinfo=cutoff.tzinfo), 0)
        changed = protected = batches = 0
        while True:
            async with self._pool.acquire(timeout=self._timeout) as conn:
                rows = await conn.fetch(_PRUNE_BATCH, cutoff, *after, batch_size, timeout=self._timeout)
                if not rows:
                    break
                after = (rows[-1]["started_at"], rows[-1]["id"])
                kept = {row["id"] for row in rows if _in_streak(row, breaks)}
                targets = [row["id"] for row in rows if row["id"] not in kept]
                status = await conn.execute(_DROP_RAW if raw_only else _DELETE_ROWS, targets, timeout=self._timeout)
            changed += int(status.split()[-1])
            protected += len(kept)
            batches += 1
        return PruneResult(cutoff=cutoff, raw_only=raw_only, changed=changed, protected=protected, batches=batches)

    async def _newest_breaks(self) -> dict[str, datetime | None]:
        """Per definition, the tick of its newest non-clean scheduled run (None: none yet)."""
        async with self._pool.acquire(timeout=self._timeout) as conn:
            definitions = [row["definition_id"] for row in await conn.fetch(_DEFINITIONS, timeout=self._timeout)]
            return {
                definition_id: await conn.fetchval(_NEWEST_BREAK, definition_id, timeout=self._timeout)
                for definition_id in definitions
            }

    async def _fetchval(self, sql: str, *args: object) -> Any:
        async with self._pool.acquire(timeout=self._timeout) as conn:
            return await conn.fetchval(sql, *args, timeout=self._timeout)


def _in_streak(row: asyncpg.Record, breaks: dict[str, datetime | None]) -> bool:
    if row["trigger"] != "schedule":
        return False
    newest_break = breaks.get(row["definition_id"])
    return newest_break is None or row["scheduled_at"] > newest_break
