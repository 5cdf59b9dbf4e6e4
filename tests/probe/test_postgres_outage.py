"""The probe with the worker's own PostgreSQL really down: a dedicated embedded PostgreSQL,
stopped with ``pg_ctl`` once the worker polls. The ``ops_inventory_probe`` event still goes out
naming ``postgres``; the row follows once PostgreSQL is started again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pgserver
import pytest
from temporalio.client import WorkflowHandle

from activity_core.devstack.embedded import start_postgres
from tests.probe.conftest import ProbeHarness
from tests.trigger.support import wait_for

pytestmark = pytest.mark.integration
POSTGRES_ONLY = [{"name": "postgres", "check": "postgres", "timeout_seconds": 3}]


async def test_postgres_down_still_posts_the_event_and_the_row_follows_when_it_is_back(
    probe: ProbeHarness, server_dir: Path, definition_id: str
) -> None:
    # In the session's server directory, as tests/deploy/test_health.py does: PostgreSQL runs as
    # another user, which pytest's private basetemp would lock out.
    postgres = start_postgres(server_dir / f"probe-outage-{definition_id}", keep_data=False)
    server = postgres.server
    try:
        probe.database_dsn = postgres.dsn
        seen: dict[str, object] = {}

        async def stop_postgres() -> None:
            stop = ["-w", "-m", "fast", "stop"]
            await asyncio.to_thread(pgserver.pg_ctl, stop, pgdata=server.pgdata, user=server.system_user)

        async def event_then_restart(handle: WorkflowHandle) -> None:
            await wait_for(lambda: probe.events(handle.id), timeout=30, what="the probe's event with PostgreSQL down")
            (event,) = probe.events(handle.id)
            seen["event"] = event
            await asyncio.to_thread(server.ensure_postgres_running)

        outcome, handle = await asyncio.wait_for(
            probe.run(probe.define(POSTGRES_ONLY), before_start=stop_postgres, while_running=event_then_restart),
            timeout=90,
        )

        event = seen["event"]
        assert isinstance(event, dict)
        assert event["event_type"] == "ops_inventory_probe"
        assert event["payload"]["down"] == ["postgres"]
        assert event["payload"]["status"] == "partial"
        assert "postgres" in event["summary"]
        assert outcome.status == "partial" and outcome.error_message == "down: postgres"
        assert outcome.record.workflow_id == handle.id and outcome.record.status == "partial"
        assert outcome.result is not None and [t.status for t in outcome.result.targets] == ["down"]
    finally:
        postgres.stop()
