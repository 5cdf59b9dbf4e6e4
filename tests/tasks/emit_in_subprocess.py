"""Emit one run's task spec in a process of its own, configured from the environment as a
worker is, so that a test can SIGKILL it between sending the create and recording it.

``python -m tests.tasks.emit_in_subprocess RUN_ID`` with DATABASE_URL, ISSUE_SINK_TYPE,
ISSUE_CORE_URL and ISSUE_CORE_TOKEN set.
"""

from __future__ import annotations

import asyncio
import sys

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.observability.logging import redact, register_settings_secrets
from activity_core.settings import Settings
from activity_core.store import create_pool
from activity_core.store.tasks import TaskSpawnLog
from activity_core.tasks.emission import TaskEmitter
from tests.tasks.support import batch, three_picks


async def emit(run_id: str) -> None:
    settings = Settings()
    register_settings_secrets(settings)
    pool = await create_pool(settings.database_dsn() or "", min_size=1, max_size=3, command_timeout=10)
    client = IssueCoreClient(
        settings.issue_core_url or "",
        token=settings.issue_core_bearer(),
        timeout_seconds=settings.issue_core_timeout_seconds,
    )
    async with client:
        emitter = TaskEmitter(
            TaskSpawnLog(pool, timeout=10), ceiling=settings.issue_sink_type, client=client, scrub=redact
        )
        await emitter.emit(batch(three_picks()[:1], run_id=run_id))
    await pool.close()


if __name__ == "__main__":
    asyncio.run(emit(sys.argv[1]))
