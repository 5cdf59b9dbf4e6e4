"""One real scheduled history, built once for the tests of this directory.

Scheduled runs are genuine: the definition's schedule is synced to the session's Temporal dev
server and each tick is fired with a one-tick backfill, exactly as the schedule fires it
(``TemporalScheduledStartTime`` is the tick, the row's trigger is ``schedule``). The ticks lie
in a fixed past month, so tests pass ``now`` just after the ticks they look at and every
answer is deterministic. Each story owns its own days, so the tests that delete evidence
touch only their own story and the tests can run in any order.

Because the history outlives a test, the function-scoped ``state_hub`` fixture (which resets
the emulator) must not be used in this directory: use ``scheduled_history.state_hub``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy

from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import load_all
from activity_core.observability.metrics import Metrics
from activity_core.temporal.schedules import sync_schedules
from activity_core.store.feedback import FeedbackStore
from activity_core.store.history import HistoryStore
from activity_core.store.migrations import apply_migrations
from activity_core.store.models import RunQuery, RunRecord
from activity_core.temporal.worker import ServiceEndpoints, create_worker, open_services
from tests.fixtures.runtime import TriageHarness, stack_settings, write_test_definition
from tests.fixtures.servers import _dsn_with_database
from tests.tools import apt_tool

# The stories, one week each (mid-2026, Europe/Berlin summer time).
CLEAN = [date(2026, 6, 1), date(2026, 6, 2), date(2026, 6, 3)]  # a manual run between the 2nd and 3rd
PARTIAL = [date(2026, 6, 8), date(2026, 6, 9), date(2026, 6, 10)]  # the middle one partial
MISSED = [date(2026, 6, 15), date(2026, 6, 17)]  # 2026-06-16 never fired
NO_NOTE = [date(2026, 6, 22), date(2026, 6, 23), date(2026, 6, 24)]
NO_EVENT = [date(2026, 6, 29), date(2026, 6, 30), date(2026, 7, 1)]


@dataclass
class ScheduledHistory:
    harness: TriageHarness
    definition: DefinitionBase
    history: HistoryStore
    feedback: FeedbackStore

    @property
    def state_hub(self):
        return self.harness.state_hub

    @property
    def client(self) -> Client:
        return self.harness.client

    def tick(self, day: date) -> datetime:
        return self.definition.schedule.tick_on(day)

    def after(self, day: date) -> datetime:
        """A ``now`` safely past the day's tick and its run's execution window."""
        return self.tick(day) + timedelta(seconds=self.definition.schedule.execution_timeout_seconds + 60)

    async def run_on(self, day: date) -> RunRecord:
        rows = await self.history.scheduled_runs_between(self.definition.id, self.tick(day), self.tick(day))
        assert len(rows) == 1, rows
        return rows[0]

    async def fire(self, *days: date) -> None:
        """Fire the schedule at each day's tick, as Temporal would, and wait for the rows to finish."""
        handle = self.client.get_schedule_handle(self.definition.id)
        second = timedelta(seconds=1)
        await handle.backfill(
            *(ScheduleBackfill(start_at=self.tick(d) - second, end_at=self.tick(d) + second, overlap=ScheduleOverlapPolicy.ALLOW_ALL) for d in days)
        )
        wanted = {self.tick(d) for d in days}
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            rows = await self.harness.runs.list_runs(RunQuery(definition_id=self.definition.id, trigger="schedule", limit=1000))
            done = {r.scheduled_at for r in rows if r.status != "running"}
            if wanted <= done:
                return
            assert asyncio.get_running_loop().time() < deadline, f"ticks {sorted(wanted - done)} did not finish"
            await asyncio.sleep(0.2)


@pytest.fixture(scope="package")
async def scheduled_history(
    tmp_path_factory: pytest.TempPathFactory,
    temporal_address: str,
    temporal_client: Client,
    postgres_dsn: str,
    state_hub_emulator,
    llm_connect_emulator,
) -> AsyncIterator[ScheduledHistory]:
    definition_id = f"triage-{uuid.uuid4().hex[:10]}"
    tmp = tmp_path_factory.mktemp("history")
    write_test_definition(tmp / "definitions", definition_id)
    database = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_dsn, f'CREATE DATABASE "{database}"')
    settings = stack_settings(
        temporal_address=temporal_address, database_url=_dsn_with_database(postgres_dsn, database),
        state_hub=state_hub_emulator, llm_connect=llm_connect_emulator,
        definitions_dir=tmp / "definitions", definition_id=definition_id, data_dir=tmp / "data",
    )
    state_hub_emulator.reset()
    llm_connect_emulator.reset()
    try:
        async with open_services(settings, ServiceEndpoints.from_settings(settings), Metrics()) as deps:
            await apply_migrations(deps.runs.pool, settings.migrations_dir)
            definitions = load_all(settings.definitions_dir)
            await sync_schedules(temporal_client, definitions, task_queue=settings.task_queue)
            worker = create_worker(temporal_client, task_queue=settings.task_queue, services=deps, graceful_shutdown=timedelta(seconds=2))
            async with worker:
                harness = TriageHarness(
                    client=temporal_client, settings=settings, endpoints=ServiceEndpoints.from_settings(settings),
                    deps=deps, definition_id=definition_id, state_hub=state_hub_emulator, llm_connect=llm_connect_emulator,
                )
                history = ScheduledHistory(
                    harness=harness,
                    definition=definitions[definition_id].definition,
                    history=HistoryStore(deps.runs.pool, timeout=10),
                    feedback=FeedbackStore(deps.runs.pool, timeout=10),
                )
                await history.fire(*CLEAN[:2])
                await harness.run_manual()
                await history.fire(CLEAN[2], PARTIAL[0], PARTIAL[2], *MISSED, *NO_NOTE, *NO_EVENT)
                llm_connect_emulator.queue_faults("execute", "malformed_item")
                await history.fire(PARTIAL[1])
                yield history
            await temporal_client.get_schedule_handle(definition_id).delete()
    finally:
        state_hub_emulator.reset()
        llm_connect_emulator.reset()
        await _admin(postgres_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _admin(dsn: str, statement: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def chromium() -> str:
    """Debian's chromium, installed with apt-get when missing (the report is tested in a real browser)."""
    return apt_tool("chromium")
