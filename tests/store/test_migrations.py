"""The migrations runner against a real PostgreSQL: order, records, idempotence, the lock, checksums."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path

import asyncpg
import pytest

from activity_core.store import (
    MigrationChecksumMismatch,
    MigrationError,
    MigrationFileError,
    apply_migrations,
)
from activity_core.store.migrations import load_migrations
from tests.store.conftest import MIGRATIONS_DIR


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return directory


async def recorded(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch("SELECT version, name, checksum, applied_at FROM schema_migrations ORDER BY version")


async def test_project_migrations_apply_in_order_and_are_recorded(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        applied = await apply_migrations(conn, MIGRATIONS_DIR)

        files = sorted(MIGRATIONS_DIR.glob("*.sql"))
        assert applied == [path.name for path in files]
        rows = await recorded(conn)
        assert [(row["version"], row["name"], row["checksum"]) for row in rows] == [
            (int(path.name[:4]), path.name, hashlib.sha256(path.read_bytes()).hexdigest()) for path in files
        ]
        assert await conn.fetchval("SELECT count(*) FROM activity_runs") == 0
    finally:
        await conn.close()


async def test_second_run_is_a_no_op(fresh_database: str) -> None:
    conn = await asyncpg.connect(fresh_database)
    try:
        await apply_migrations(conn, MIGRATIONS_DIR)
        before = await recorded(conn)

        assert await apply_migrations(conn, MIGRATIONS_DIR) == []
        assert await recorded(conn) == before
    finally:
        await conn.close()


async def test_concurrent_runs_apply_each_migration_exactly_once(fresh_database: str, tmp_path: Path) -> None:
    # The sleep keeps the first runner inside its migration while the second one arrives.
    directory = write_migrations(
        tmp_path / "migrations",
        {
            "0001_slow.sql": "CREATE TABLE slow (id int); SELECT pg_sleep(0.3);",
            "0002_second.sql": "CREATE TABLE second (id int);",
        },
    )
    first, second = await asyncpg.connect(fresh_database), await asyncpg.connect(fresh_database)
    try:
        results = await asyncio.gather(apply_migrations(first, directory), apply_migrations(second, directory))

        assert sorted(results) == [[], ["0001_slow.sql", "0002_second.sql"]]
        assert [row["name"] for row in await recorded(first)] == ["0001_slow.sql", "0002_second.sql"]
    finally:
        await first.close()
        await second.close()


async def test_pool_is_accepted_like_a_connection(fresh_database: str) -> None:
    pool = await asyncpg.create_pool(fresh_database, min_size=1, max_size=1)
    try:
        assert await apply_migrations(pool, MIGRATIONS_DIR) != []
        assert await apply_migrations(pool, MIGRATIONS_DIR) == []
    finally:
        await pool.close()


async def test_changed_applied_file_is_refused_naming_it(fresh_database: str, tmp_path: Path) -> None:
    directory = write_migrations(tmp_path / "migrations", {"0001_first.sql": "CREATE TABLE first (id int);"})
    conn = await asyncpg.connect(fresh_database)
    try:
        await apply_migrations(conn, directory)
        write_migrations(
            directory,
            {
                "0001_first.sql": "CREATE TABLE first (id bigint);",
                "0002_next.sql": "CREATE TABLE next (id int);",
            },
        )

        with pytest.raises(MigrationChecksumMismatch, match="0001_first.sql"):
            await apply_migrations(conn, directory)
        # Refused before anything else ran: the pending file stays pending.
        assert [row["name"] for row in await recorded(conn)] == ["0001_first.sql"]
    finally:
        await conn.close()


async def test_failing_file_is_rolled_back_and_earlier_ones_stay(fresh_database: str, tmp_path: Path) -> None:
    directory = write_migrations(
        tmp_path / "migrations",
        {
            "0001_good.sql": "CREATE TABLE good (id int);",
            "0002_bad.sql": "CREATE TABLE half (id int); SELECT 1 / 0;",
        },
    )
    conn = await asyncpg.connect(fresh_database)
    try:
        with pytest.raises(MigrationError, match="0002_bad.sql"):
            await apply_migrations(conn, directory)

        assert [row["name"] for row in await recorded(conn)] == ["0001_good.sql"]
        assert await conn.fetchval("SELECT to_regclass('half')") is None
        assert await conn.fetchval("SELECT to_regclass('good')") == "good"
    finally:
        await conn.close()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"1_short.sql": "SELECT 1;"}, "1_short.sql"),
        ({"0001_Mixed-Case.sql": "SELECT 1;"}, "0001_Mixed-Case.sql"),
        (
            {"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"},
            "0001_b.sql: version 0001 is also used by 0001_a.sql",
        ),
    ],
)
def test_misnamed_or_duplicate_files_are_refused(tmp_path: Path, files: dict[str, str], message: str) -> None:
    directory = write_migrations(tmp_path / "migrations", files)
    with pytest.raises(MigrationFileError, match=message):
        load_migrations(directory)
