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
