"""Apply ``migrations/NNNN_name.sql`` in order, once each, safely from several pods at once.

The whole run holds a session-level advisory lock, so a second ``migrate`` started alongside
waits, then finds everything recorded and applies nothing. Each file runs in its own
transaction together with its ``schema_migrations`` row: a failing file leaves no trace and
the ones before it stay applied. A file is identified by its version number; its checksum is
recorded so that editing an applied file is refused instead of silently diverging from the
databases that ran the old text. Files therefore cannot use statements that refuse to run in a
transaction (``CREATE INDEX CONCURRENTLY``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from activity_core.store.pool import StoreError

# Any constant shared by every activity-core process; it only has to differ from other
# applications' advisory locks on the same database.
MIGRATION_LOCK_KEY = 0x61637469766974  # "activit"

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_[a-z0-9_]+\.sql$")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(StoreError):
    """The migrations could not be applied; the message names the file."""


class MigrationFileError(MigrationError):
    """A file in the migrations directory is misnamed, shares a version, or is not UTF-8."""


class MigrationChecksumMismatch(MigrationError):
    """An already-applied migration file was edited afterwards."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    checksum: str


def load_migrations(migrations_dir: Path) -> list[Migration]:
    """The ``*.sql`` files of ``migrations_dir`` by version; a misnamed one is an error, not skipped."""
    if not migrations_dir.is_dir():
        raise MigrationFileError(f"migrations directory {migrations_dir} does not exist")
    by_version: dict[int, Migration] = {}
    for path in sorted(migrations_dir.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise MigrationFileError(f"{path.name}: migration files are named NNNN_lowercase_name.sql")
        version = int(match["version"])
        if version in by_version:
            raise MigrationFileError(f"{path.name}: version {version:04d} is also used by {by_version[version].name}")
        raw = path.read_bytes()
        try:
            sql = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MigrationFileError(f"{path.name}: not UTF-8 ({exc.reason})") from None
        by_version[version] = Migration(
            version=version, name=path.name, sql=sql, checksum=hashlib.sha256(raw).hexdigest()
        )
    return [by_version[version] for version in sorted(by_version)]


async def apply_migrations(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    migrations_dir: Path,
    *,
    timeout: float = 300.0,
) -> list[str]:
    """Apply the pending migrations and return their file names (empty when up to date).

    ``timeout`` bounds the wait for another process's run and each file's execution; it is
    long because a migration may rewrite a large table.
    """
    migrations = load_migrations(migrations_dir)
    if isinstance(pool_or_conn, asyncpg.Pool):
        async with pool_or_conn.acquire(timeout=timeout) as conn:
            return await _apply_locked(conn, migrations, timeout)
    return await _apply_locked(pool_or_conn, migrations, timeout)


async def _apply_locked(conn: asyncpg.Connection, migrations: list[Migration], timeout: float) -> list[str]:
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY, timeout=timeout)
    except TimeoutError:
        raise MigrationError(f"another migrate held the migration lock for more than {timeout:.0f}s") from None
    try:
        await conn.execute(_CREATE_TABLE, timeout=timeout)
        rows = await conn.fetch("SELECT version, name, checksum FROM schema_migrations", timeout=timeout)
        applied = {row["version"]: row for row in rows}
        for migration in migrations:
            recorded = applied.get(migration.version)
            if recorded is not None and recorded["checksum"] != migration.checksum:
                raise MigrationChecksumMismatch(
                    f"{migration.name} has changed since it was applied (recorded checksum "
                    f"{recorded['checksum'][:12]}, file now {migration.checksum[:12]}): restore "
                    "the applied text and put the change in a new migration file"
                )
        pending = [m for m in migrations if m.version not in applied]
        for migration in pending:
            await _apply_one(conn, migration, timeout)
        return [migration.name for migration in pending]
    finally:
        # A dropped connection has released the lock already; unlocking it would only hide
        # the error that dropped it.
        if not conn.is_closed():
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY, timeout=timeout)


async def _apply_one(conn: asyncpg.Connection, migration: Migration, timeout: float) -> None:
    try:
        async with conn.transaction():
            # Without arguments asyncpg uses the simple query protocol, so a file may hold
            # several statements.
            await conn.execute(migration.sql, timeout=timeout)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                migration.version,
                migration.name,
                migration.checksum,
                timeout=timeout,
            )
    except TimeoutError:
        raise MigrationError(f"{migration.name} ran longer than {timeout:.0f}s and was rolled back") from None
    except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise MigrationError(f"{migration.name} failed and was rolled back: {type(exc).__name__}: {exc}") from exc
