"""The connection pool every store query goes through, and the store's error base.

asyncpg's ``command_timeout`` gives each query on the pool a deadline even where a caller
forgets one. jsonb columns are decoded to Python values here, once, so the queries and models
never handle JSON text.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import asyncpg


class StoreError(Exception):
    """A run-history operation failed; the message names what, and never carries a secret."""


class DatabaseUnavailable(StoreError):
    """PostgreSQL could not be reached or refused the connection."""


class SchemaOutdated(StoreError):
    """A table the code reads is missing: the migrations have not been applied."""


def as_store_error(exc: BaseException) -> StoreError | None:
    """What a driver exception that escaped a store call amounts to, so that nothing outside
    ``store/`` needs to know asyncpg's exception tree; None when it is not the database's."""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, asyncpg.UndefinedTableError):
        return SchemaOutdated(f"PostgreSQL: {exc}")
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        return StoreError(f"PostgreSQL failed: {type(exc).__name__}: {exc}")
    return None


async def create_pool(dsn: str, *, min_size: int, max_size: int, command_timeout: float) -> asyncpg.Pool:
    """Open a pool on ``dsn``; connecting is bounded by ``command_timeout`` too.

    Connection errors are re-raised as ``DatabaseUnavailable`` with the DSN's password masked,
    because asyncpg echoes parts of the DSN and the CLI prints the message.
    """
    try:
        return await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            command_timeout=command_timeout,
            timeout=command_timeout,
            init=_init_connection,
        )
    except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        raise DatabaseUnavailable(
            f"cannot connect to PostgreSQL: {_mask_password(str(exc), dsn) or type(exc).__name__}"
        ) from None


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


def _mask_password(message: str, dsn: str) -> str:
    try:
        password = urlsplit(dsn).password
    except ValueError:
        password = None
    return message.replace(password, "***") if password else message


async def answers_select_one(dsn: str) -> None:
    """Connect afresh (a pool's reconnects would hide an outage) and ask ``SELECT 1``; raises
    the driver's error, or RuntimeError, when PostgreSQL does not answer it."""
    connection = await asyncpg.connect(dsn)
    try:
        if await connection.fetchval("SELECT 1") != 1:
            raise RuntimeError("SELECT 1 did not answer 1")
    finally:
        await connection.close()
