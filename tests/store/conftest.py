"""A migrated database and a RunStore on it, fresh for every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from activity_core.settings import PROJECT_ROOT
from activity_core.store import RunStore, apply_migrations, create_pool

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


@pytest.fixture
async def pool(fresh_database: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(fresh_database, min_size=1, max_size=4, command_timeout=10.0)
    await apply_migrations(pool, MIGRATIONS_DIR)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def store(pool: asyncpg.Pool) -> RunStore:
    return RunStore(pool, timeout=10.0)
