"""History reads stay index walks as history grows: 1,000,000 runs, timed against a primary-key lookup.

Fills ``activity_runs`` (migrated as in production) with ten years of runs of ten definitions:
one scheduled run a day each at 07:20 Europe/Berlin, and manual runs making up the rest of the
million. Then, in one process, interleaved so machine noise hits all alike, it times

* a bare primary-key lookup (``RunStore.get_run`` by row id): the yardstick;
* ``runs list --limit 50`` (``RunStore.list_runs``), bare and with each filter;
* the database part of ``calibration status``: the schedule window (first scheduled run and the
  scheduled runs of the last 14 ticks) and the feedback on those runs;

and prints each median with its ratio to the yardstick and the plan PostgreSQL chose. Goal:
``runs list --limit 50`` and the calibration database part within 5x of the lookup.

    .venv/bin/python benchmarks/history.py [--rows 1000000] [--repeat 300]

Uses a temporary embedded PostgreSQL, or a scratch database on DATABASE_URL's server when set.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from activity_core.calibration.gate import MIN_WALK_TICKS, schedule_window
from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import load_definition
from activity_core.devstack.embedded import start_postgres
from activity_core.settings import PROJECT_ROOT, Settings
from activity_core.store import RunQuery, RunStore, apply_migrations, create_pool
from activity_core.store.feedback import FeedbackStore
from activity_core.store.history import SCHEDULED_RUNS_BETWEEN_SQL, HistoryStore
from activity_core.store.runs import list_runs_statement

DEFINITIONS = 10
FIRST_DAY, LAST_DAY = date(2016, 1, 1), date(2025, 12, 31)
NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)
GOAL = 5.0

# One scheduled run per definition and day, at the tick, as the schedule records them.
_FILL_SCHEDULED = """
INSERT INTO activity_runs
    (definition_id, workflow_id, run_id, trigger, scheduled_at, tick_at, local_date, started_at, finished_at,
     status, summary, items_kept, items_quarantined, truncated, llm_latency_ms, llm_attempts, counts)
SELECT 'def-' || d, 'def-' || d || '-' || day::date, 'run', 'schedule', tick, tick, day::date,
       tick + interval '2 seconds', tick + interval '95 seconds',
       CASE WHEN h < 0.002 THEN 'failed_config' WHEN h < 0.03 THEN 'failed_llm_timeout'
            WHEN h < 0.13 THEN 'partial' ELSE 'clean' END,
       'Seven recommendations, ranked by WSJF.', 7, (h < 0.13)::int, false,
       20000 + (h * 160000)::int, 1, '{"accepted": 7}'::jsonb
FROM generate_series(1, $1::int) AS d,
     generate_series($2::date, $3::date, interval '1 day') AS day,
     LATERAL (SELECT ((day::date + time '07:20') AT TIME ZONE 'Europe/Berlin') AS tick,
                     abs(hashtext(d || '/' || day::date)) / 2147483647.0 AS h) AS t
"""

# The rest of the million: manual runs spread evenly over the ten years.
_FILL_MANUAL = """
INSERT INTO activity_runs
    (definition_id, workflow_id, run_id, trigger, scheduled_at, local_date, started_at, finished_at,
     status, summary, items_kept, items_quarantined, truncated, llm_latency_ms, llm_attempts, counts)
SELECT 'def-' || (1 + g % $1::int), 'manual-' || g, 'run', 'manual', NULL, (started AT TIME ZONE 'Europe/Berlin')::date,
       started, started + interval '80 seconds',
       CASE WHEN g % 997 = 0 THEN 'failed_config' WHEN g % 11 = 0 THEN 'partial' ELSE 'clean' END,
       'Seven recommendations, ranked by WSJF.', 7, (g % 11 = 0)::int, false, 20000 + g % 150000, 1,
       '{"accepted": 7}'::jsonb
FROM generate_series(1, $2::int) AS g,
     LATERAL (SELECT $3::timestamptz + (g::float8 / $2::int) * ($4::timestamptz - $3::timestamptz) AS started) AS t
"""


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A DSN to an empty database: on DATABASE_URL's server (created and dropped), else embedded."""
    server_dsn = Settings().database_dsn()
    if server_dsn is None:
        server = start_postgres(Path(tempfile.mkdtemp(prefix="ac-bench-pg-")), keep_data=False)
        try:
            yield server.dsn
        finally:
            server.stop()
        return
    name = f"bench_history_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(server_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server_dsn)._replace(path=f"/{name}"))
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def fill(pool: asyncpg.Pool, rows: int) -> int:
    await pool.execute(_FILL_SCHEDULED, DEFINITIONS, FIRST_DAY, LAST_DAY, timeout=None)
    scheduled = await pool.fetchval("SELECT count(*) FROM activity_runs")
    start = datetime.combine(FIRST_DAY, datetime.min.time(), UTC)
    end = datetime.combine(LAST_DAY, datetime.max.time(), UTC)
    await pool.execute(_FILL_MANUAL, DEFINITIONS, max(rows - scheduled, 0), start, end, timeout=None)
    await pool.execute("VACUUM ANALYZE activity_runs", timeout=None)
    return await pool.fetchval("SELECT count(*) FROM activity_runs")


async def plan(pool: asyncpg.Pool, sql: str, *args: object) -> str:
    """The plan's access path in one line: which index (or scan) feeds the result."""
    lines = [row[0].strip() for row in await pool.fetch(f"EXPLAIN {sql}", *args)]
    scans = [line.split("  (")[0].removeprefix("->  ") for line in lines if "Scan" in line]
    return "; ".join(scans)


async def measure(cases: dict[str, Callable[[], Awaitable[object]]], repeat: int) -> dict[str, float]:
    """Median seconds of each case, run round-robin after a warm-up round."""
    for case in cases.values():
        await case()
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, case in cases.items():
            started = time.perf_counter()
            await case()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


async def main(rows: int, repeat: int) -> int:
    definition: DefinitionBase = load_definition("daily-statehub-wsjf-triage", PROJECT_ROOT / "definitions").definition
    definition = definition.model_copy(update={"id": "def-3"})
    async with scratch_database() as dsn:
        pool = await create_pool(dsn, min_size=1, max_size=1, command_timeout=600)
        try:
            await apply_migrations(pool, PROJECT_ROOT / "migrations")
            print(f"filling activity_runs with {rows:,} rows ...", file=sys.stderr)
            started = time.perf_counter()
            total = await fill(pool, rows)
            fill_seconds = time.perf_counter() - started
            runs, history, feedback = (
                RunStore(pool, timeout=60),
                HistoryStore(pool, timeout=60),
                FeedbackStore(pool, timeout=60),
            )
            ids = random.Random(7).sample(range(1, total + 1), 1000)
            pick = iter(ids * (repeat + 2))

            async def calibration_db_part() -> None:
                window = await schedule_window(history, definition, days=MIN_WALK_TICKS, now=NOW)
                await feedback.for_runs([run.id for run in window.runs.values()])

            queries = {
                "runs list --limit 50": RunQuery(),
                "  --definition def-3": RunQuery(definition_id="def-3"),
                "  --status failed_config": RunQuery(status="failed_config"),
                "  --trigger schedule": RunQuery(trigger="schedule"),
                "  --since 2025-06-01": RunQuery(since=date(2025, 6, 1)),
            }
            cases: dict[str, Callable[[], Awaitable[object]]] = {
                "primary-key lookup (get_run)": lambda: runs.get_run(str(next(pick)))
            }
            cases.update({name: (lambda q=query: runs.list_runs(q)) for name, query in queries.items()})
            cases["calibration status, database part"] = calibration_db_part
            medians = await measure(cases, repeat)

            window = await schedule_window(history, definition, days=MIN_WALK_TICKS, now=NOW)
            plans = {
                "primary-key lookup (get_run)": await plan(pool, "SELECT * FROM activity_runs WHERE id = $1", ids[0])
            }
            plans.update({name: await plan(pool, *_statement(query)) for name, query in queries.items()})
            plans["calibration status, database part"] = await plan(
                pool, SCHEDULED_RUNS_BETWEEN_SQL, definition.id, window.ticks[-1], window.ticks[0]
            )
        finally:
            await pool.close()

    yardstick = medians["primary-key lookup (get_run)"]
    print(
        f"activity_runs: {total:,} rows, {DEFINITIONS} definitions, {FIRST_DAY}..{LAST_DAY} (filled in {fill_seconds:.1f} s)"
    )
    print(f"median of {repeat} interleaved rounds, through the store (asyncpg + row models):")
    for name, seconds in medians.items():
        print(f"  {name:<36} {seconds * 1000:7.3f} ms  {seconds / yardstick:5.1f}x   {plans[name]}")
    checked = ("runs list --limit 50", "calibration status, database part")
    met = all(medians[name] / yardstick <= GOAL for name in checked)
    print(f"goal: {' and '.join(checked)} within {GOAL:.0f}x of the primary-key lookup: {'met' if met else 'NOT met'}")
    return 0 if met else 1


def _statement(query: RunQuery) -> tuple[str, ...]:
    sql, args = list_runs_statement(query)
    return (sql, *args)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=300)
    options = parser.parse_args()
    raise SystemExit(asyncio.run(main(options.rows, options.repeat)))
