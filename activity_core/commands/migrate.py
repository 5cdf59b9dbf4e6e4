"""``activity-core migrate``: bring the run-history schema up to date.

Run it before a new worker version starts (an init container, a Job, or by hand); running
it again, or from two pods at once, is safe.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from activity_core.commands.errors import UsageError
from activity_core.settings import Settings
from activity_core.store import apply_migrations, create_pool


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="apply migrations/*.sql to DATABASE_URL",
        description="Apply the pending migrations/NNNN_*.sql files, in order, to the "
        "PostgreSQL at DATABASE_URL; prints what it applied, or 'up to date'.",
    )
    parser.set_defaults(handler=migrate)


def migrate(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    dsn = settings.database_dsn()
    if dsn is None:
        raise UsageError(
            "DATABASE_URL is not set",
            "set it to the postgresql:// DSN to migrate (`activity-core run` migrates its embedded PostgreSQL by itself)",
        )
    applied = asyncio.run(_apply(dsn, settings.migrations_dir, settings.db_command_timeout_seconds))
    for name in applied:
        print(f"applied {name}")
    if not applied:
        print("up to date")
    return 0


async def _apply(dsn: str, migrations_dir: Path, command_timeout: float) -> list[str]:
    pool = await create_pool(dsn, min_size=1, max_size=1, command_timeout=command_timeout)
    try:
        return await apply_migrations(pool, migrations_dir)
    finally:
        await pool.close()
