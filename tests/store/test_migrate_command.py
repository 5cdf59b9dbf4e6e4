"""`activity-core migrate` end to end: environment in, exit code and output out."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from activity_core.cli import main
from activity_core.devstack.embedded import free_port
from tests.store.conftest import MIGRATIONS_DIR


async def run_migrate(monkeypatch: pytest.MonkeyPatch, database_url: str | None) -> int:
    """``main`` calls ``asyncio.run``, so it runs in a thread beside the test's event loop."""
    if database_url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", database_url)
    return await asyncio.to_thread(main, ["migrate"])


async def test_migrate_applies_then_reports_up_to_date(
    fresh_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ACTIVITY_CORE_MIGRATIONS_DIR", raising=False)

    assert await run_migrate(monkeypatch, fresh_database) == 0
    expected = [f"applied {path.name}" for path in sorted(MIGRATIONS_DIR.glob("*.sql"))]
    assert capsys.readouterr().out.splitlines() == expected

    assert await run_migrate(monkeypatch, fresh_database) == 0
    assert capsys.readouterr().out.splitlines() == ["up to date"]

    conn = await asyncpg.connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(expected)
        assert await conn.fetchval("SELECT to_regclass('activity_runs')") == "activity_runs"
    finally:
        await conn.close()


async def test_migrate_without_database_url_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_migrate(monkeypatch, None) == 2

    err = capsys.readouterr().err
    assert "DATABASE_URL" in err and "activity-core run" in err


async def test_migrate_refuses_a_changed_migration_naming_it(
    fresh_database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    migration = tmp_path / "0001_first.sql"
    migration.write_text("CREATE TABLE first (id int);")
    monkeypatch.setenv("ACTIVITY_CORE_MIGRATIONS_DIR", str(tmp_path))
    assert await run_migrate(monkeypatch, fresh_database) == 0
    migration.write_text("CREATE TABLE first (id bigint);")
    capsys.readouterr()

    assert await run_migrate(monkeypatch, fresh_database) == 1
    assert "0001_first.sql has changed since it was applied" in capsys.readouterr().err


async def test_unreachable_database_fails_without_echoing_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql://triage:s3cret-pw@127.0.0.1:{free_port()}/history"

    assert await run_migrate(monkeypatch, url) == 3  # unavailable: retry when it is up
    err = capsys.readouterr().err
    assert "cannot connect to PostgreSQL" in err
    assert "s3cret-pw" not in err
