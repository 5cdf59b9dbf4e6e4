"""``runs prune`` on PostgreSQL: only past the window, never a streak in progress, in bounded batches."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from activity_core.cli import main
from activity_core.settings import PROJECT_ROOT
from activity_core.store import apply_migrations, create_pool
from activity_core.store.history import HistoryStore

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)

# Two definitions, a scheduled run a day for 100 days plus a manual run every tenth day.
# 'broken' had a failed run 40 days ago, so its streak in progress is the 39 days after it;
# 'steady' never failed, so all of its scheduled runs are one streak.
_FILL = """
INSERT INTO activity_runs
    (definition_id, workflow_id, run_id, trigger, scheduled_at, tick_at, local_date, started_at, finished_at, status, raw_content)
SELECT d, d || '-' || g || '-' || t, 'r', t,
       CASE WHEN t = 'schedule' THEN $1::timestamptz - g * interval '1 day' END,
       CASE WHEN t = 'schedule' THEN $1::timestamptz - g * interval '1 day' END,
       ($1::timestamptz - g * interval '1 day')::date,
       $1::timestamptz - g * interval '1 day' + interval '12 hours',
       $1::timestamptz - g * interval '1 day' + interval '12 hours 40 seconds',
       CASE WHEN d = 'broken' AND g = 40 AND t = 'schedule' THEN 'failed_config' ELSE 'clean' END,
       'raw answer'
FROM unnest(ARRAY['broken', 'steady']) AS d, generate_series(1, 100) AS g, unnest(ARRAY['schedule', 'manual']) AS t
WHERE t = 'schedule' OR g % 10 = 0
"""


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_database, min_size=1, max_size=2, command_timeout=10)
    await apply_migrations(pool, PROJECT_ROOT / "migrations")
    await pool.execute(_FILL, NOW)
    try:
        yield pool
    finally:
        await pool.close()


async def _raw_kept(pool: asyncpg.Pool, sql_filter: str) -> int:
    return await pool.fetchval(f"SELECT count(*) FROM activity_runs WHERE raw_content IS NOT NULL AND {sql_filter}")


async def test_raw_only_drops_output_past_the_window_but_not_of_a_streak_in_progress(pool: asyncpg.Pool) -> None:
    result = await HistoryStore(pool, timeout=10).prune(NOW - timedelta(days=30), raw_only=True, batch_size=25)

    assert await _raw_kept(pool, "started_at > now() - interval '30 days'") == 2 * (30 + 3)  # the window: untouched
    # broken: its scheduled runs 31..39 days old are the streak in progress; 40 and older go.
    assert (
        await _raw_kept(
            pool, "definition_id = 'broken' AND trigger = 'schedule' AND started_at < now() - interval '30 days'"
        )
        == 9
    )
    # steady: every scheduled run is part of its streak; its old manual runs go.
    assert await _raw_kept(pool, "definition_id = 'steady' AND trigger = 'schedule'") == 100
    assert await _raw_kept(pool, "trigger = 'manual' AND started_at < now() - interval '30 days'") == 0
    assert result.protected == 9 + 70 and result.changed == (61 + 7) + 7
    assert result.batches == 7  # 2 * 70 scheduled + 2 * 7 manual = 154 rows past the window, 25 at a time
    assert await pool.fetchval("SELECT count(*) FROM activity_runs") == 2 * 110


async def test_whole_rows_go_with_their_feedback(pool: asyncpg.Pool) -> None:
    old_failure = await pool.fetchval(
        "SELECT id FROM activity_runs WHERE definition_id = 'broken' AND status = 'failed_config'"
    )
    await pool.execute(
        "INSERT INTO calibration_feedback (run_row_id, verdict, idempotency_key) VALUES ($1, 'reject', 'k')",
        old_failure,
    )

    result = await HistoryStore(pool, timeout=10).prune(NOW - timedelta(days=30), raw_only=False)

    assert result.changed == (61 + 7) + 7 and result.batches == 1
    assert await pool.fetchval("SELECT count(*) FROM activity_runs") == 2 * 110 - result.changed
    assert await pool.fetchval("SELECT count(*) FROM calibration_feedback") == 0
    assert await pool.fetchval(
        "SELECT min(started_at) FROM activity_runs WHERE definition_id = 'broken'"
    ) > NOW - timedelta(days=40)


async def test_the_command_says_what_it_did_and_prunes_nothing_unasked(
    pool: asyncpg.Pool, fresh_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", fresh_database)
    monkeypatch.delenv("ACTIVITY_CORE_RAW_RETENTION_DAYS", raising=False)
    assert await asyncio.to_thread(main, ["runs", "prune"]) == 2
    assert "--older-than DAYS" in capsys.readouterr().err

    assert await asyncio.to_thread(main, ["runs", "prune", "--older-than", "30", "--raw-only"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("dropped the raw model output of 75 run(s) started before ")
    assert out.rstrip().endswith("(1 batch(es)); kept 79 scheduled run(s) of a streak in progress")
