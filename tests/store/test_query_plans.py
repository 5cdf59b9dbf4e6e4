"""History reads stay ordered index walks, not a scan and sort, once the table has real volume.

20,000 rows (five definitions, an hourly run for over two years, a manual run in ten, a rare
failure class) are enough for the planner to prefer a sequential scan wherever no index fits.
"""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest

from activity_core.store import RunQuery
from activity_core.store.runs import SCHEDULED_RUNS_SQL, list_runs_statement

_FILL = """
INSERT INTO activity_runs
    (definition_id, workflow_id, run_id, trigger, scheduled_at, tick_at, local_date, started_at,
     finished_at, status)
SELECT 'def-' || (g % 5),
       'wf-' || g,
       'run-' || g,
       CASE WHEN g % 10 = 0 THEN 'manual' ELSE 'schedule' END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE tick END,
       CASE WHEN g % 10 = 0 THEN NULL ELSE tick END,
       (tick AT TIME ZONE 'Europe/Berlin')::date,
       tick + interval '2 seconds',
       tick + interval '40 seconds',
       CASE WHEN g % 97 = 0 THEN 'failed_config' WHEN g % 7 = 0 THEN 'partial' ELSE 'clean' END
FROM generate_series(1, 20000) AS g,
     LATERAL (SELECT timestamptz '2024-01-01 05:20+00' + g * interval '1 hour' AS tick) AS t
"""


@pytest.fixture
async def filled(pool: asyncpg.Pool) -> asyncpg.Pool:
    await pool.execute(_FILL)
    await pool.execute("ANALYZE activity_runs")
    return pool


async def explain(pool: asyncpg.Pool, sql: str, *args: object) -> str:
    rows = await pool.fetch(f"EXPLAIN {sql}", *args)
    return "\n".join(row[0] for row in rows)


def assert_ordered_index_walk(plan: str, *, index_cond: str | None) -> None:
    """The plan walks an index in order, and the filter narrows that walk instead of trailing it.

    A filter applied while walking an unrelated index (``Filter:``) reads every row of a rare
    status before finding 50; it has to be the index's own condition.
    """
    assert "Index Scan" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan  # the index already yields newest first
    if index_cond is not None:
        conditions = [line for line in plan.splitlines() if "Index Cond:" in line]
        assert any(index_cond in line for line in conditions), plan


@pytest.mark.parametrize(
    ("query", "index_cond"),
    [
        (RunQuery(), None),
        (RunQuery(definition_id="def-1"), "definition_id ="),
        (RunQuery(status="failed_config"), "status ="),
        (RunQuery(status="partial"), "status ="),
        (RunQuery(trigger="manual"), "trigger ="),
        (RunQuery(since=date(2026, 1, 1)), "started_at) >="),
        (
            RunQuery(definition_id="def-1", status="partial", trigger="schedule", since=date(2025, 1, 1)),
            "started_at) >=",
        ),
    ],
    ids=["all", "definition", "rare-status", "status", "trigger", "since", "all-filters"],
)
async def test_list_runs_walks_an_index(filled: asyncpg.Pool, query: RunQuery, index_cond: str | None) -> None:
    sql, args = list_runs_statement(query)

    assert_ordered_index_walk(await explain(filled, sql, *args), index_cond=index_cond)


async def test_calibration_walk_uses_the_schedule_index(filled: asyncpg.Pool) -> None:
    plan = await explain(filled, SCHEDULED_RUNS_SQL, "def-1", 50)

    assert_ordered_index_walk(plan, index_cond="trigger = 'schedule'")
