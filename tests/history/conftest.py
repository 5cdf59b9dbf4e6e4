"""One real scheduled history, built once for the tests of this directory.

Every scheduled run here is genuine: each story is a test definition on a short interval
schedule, created on the session's Temporal dev server, and the schedule fires its ticks
unattended (``trigger`` ``schedule``, within the on-time bound). Nothing is backfilled and no
row is inserted by hand; the stories are told through real operations while the schedules run:

* ``clean``: three clean runs, with a manual run between the second and the third;
* ``partial``: the second run's model answer carries a malformed item (an llm-connect fault
  queued on the story's own emulator, so no other story's run can take it); the fourth run's
  answer is slow, so it is still running at the fifth tick, which overlap ``skip`` skips;
* ``missed``: the schedule is paused over its second tick, so that tick never fires; at the
  end it is paused again, with a note, and left paused;
* ``late``: the schedule is paused over its second tick, which an operator then backfills
  after the fourth (a ``late`` run);
* ``no_note`` / ``no_event``: three clean runs; the tests delete the middle run's note or
  progress event from State Hub themselves.

The stories run side by side (all their ticks fall on the same instants), so the whole history
takes about as long as its longest story. Each story owns its definition, so a test that
deletes evidence touches only its own story and the tests can run in any order.

Because the history outlives a test, the function-scoped ``state_hub`` fixture (which resets
the emulator) must not be used in this directory: use ``scheduled_history.state_hub``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import Client, ScheduleBackfill, ScheduleOverlapPolicy, ScheduleState
from temporalio.service import RPCError

from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import load_all
from activity_core.devstack.llm_connect_emulator import start_llm_connect_emulator
from activity_core.kinds.instruction.workflow import InstructionRun
from activity_core.observability.metrics import Metrics
from activity_core.runs.models import RunInput
from activity_core.settings import Settings
from activity_core.store.feedback import FeedbackStore
from activity_core.store.history import HistoryStore
from activity_core.store.migrations import apply_migrations
from activity_core.store.models import RunQuery, RunRecord
from activity_core.temporal.awaiting import await_run
from activity_core.temporal.schedules import OWNER, OWNER_MEMO_KEY, desired_schedule
from activity_core.temporal.worker import ServiceEndpoints, create_worker, open_services
from tests.fixtures.runtime import TriageHarness, stack_settings, write_test_definition
from tests.fixtures.servers import _dsn_with_database
from tests.tools import apt_tool

EVERY_SECONDS = 4
"""The stories' interval: long enough for a run to finish (and a story to act) between ticks."""
EXECUTION_TIMEOUT_SECONDS = 900
"""The shortest the test definition's retry budgets allow."""
ON_TIME_SECONDS = 5
"""A tick without a run is decided this soon (when Temporal says it never fired)."""
STORY_TIMEOUT_SECONDS = 60
PAUSE_NOTE = "paused by ops for the missed-tick story: llm-connect maintenance"


def story_overrides(name: str) -> dict[str, object]:
    return {
        "schedule": {
            "every_seconds": EVERY_SECONDS,
            "time_zone": "UTC",
            "execution_timeout_seconds": EXECUTION_TIMEOUT_SECONDS,
            "catchup_window_seconds": 10,
            "on_time_seconds": ON_TIME_SECONDS,
        },
        "evidence": {"note_key_pattern": f"history-{name}-{{date}}-{{tick}}"},
        "tasks": None,  # task emission is tested in tests/runtime/test_task_emission.py
    }


@dataclass
class Story:
    """One definition's history: its ticks oldest first (missed ones included) and their runs."""

    name: str
    definition: DefinitionBase
    ticks: list[datetime] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.definition.id

    def after(self, index: int) -> datetime:
        """A ``now`` just past the tick ``index`` (negative counts from the end), before the next."""
        return self.ticks[index] + timedelta(seconds=EVERY_SECONDS / 2)


@dataclass
class ScheduledHistory:
    harness: TriageHarness
    history: HistoryStore
    feedback: FeedbackStore
    stories: dict[str, Story]
    manual_run: RunRecord | None = None

    @property
    def state_hub(self):
        return self.harness.state_hub

    @property
    def client(self) -> Client:
        return self.harness.client

    def story(self, name: str) -> Story:
        return self.stories[name]

    async def run_at(self, story: Story, index: int) -> RunRecord:
        [row] = await self.history.tick_runs_between(story.id, story.ticks[index], story.ticks[index])
        return row


async def _finished_run(runs, definition_id: str, tick: datetime) -> RunRecord:
    """Wait for the scheduled run of ``tick`` to finish."""
    deadline = asyncio.get_running_loop().time() + STORY_TIMEOUT_SECONDS
    while True:
        rows = await runs.list_runs(RunQuery(definition_id=definition_id, limit=100))
        done = [r for r in rows if r.tick_at == tick and r.status != "running"]
        if done:
            return done[0]
        assert asyncio.get_running_loop().time() < deadline, f"{definition_id}: the tick {tick} never finished a run"
        await asyncio.sleep(0.2)


async def _first_tick(runs, definition_id: str) -> datetime:
    deadline = asyncio.get_running_loop().time() + STORY_TIMEOUT_SECONDS
    while True:
        rows = await runs.list_runs(RunQuery(definition_id=definition_id, trigger="schedule", limit=100))
        if rows:
            return min(r.tick_at for r in rows if r.tick_at is not None)
        assert asyncio.get_running_loop().time() < deadline, f"{definition_id}: the schedule never fired"
        await asyncio.sleep(0.2)


async def _sleep_until(moment: datetime) -> None:
    await asyncio.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))


StoryScript = Callable[[Story, Callable[[int], Awaitable[RunRecord]]], Awaitable[None]]


@pytest.fixture(scope="package")
async def scheduled_history(
    tmp_path_factory: pytest.TempPathFactory,
    temporal_address: str,
    temporal_client: Client,
    postgres_dsn: str,
    state_hub_emulator,
    llm_connect_emulator,
) -> AsyncIterator[ScheduledHistory]:
    tmp = tmp_path_factory.mktemp("history")
    run_tag = uuid.uuid4().hex[:8]
    names = ("clean", "partial", "missed", "late", "no_note", "no_event")
    ids = {name: f"history-{name.replace('_', '-')}-{run_tag}" for name in names}
    for name, definition_id in ids.items():
        write_test_definition(tmp / "definitions", definition_id, story_overrides(name))
    database = f"t_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_dsn, f'CREATE DATABASE "{database}"')
    state_hub_emulator.reset()
    llm_connect_emulator.reset()

    def settings_for(llm_connect, task_queue_of: str) -> Settings:
        return stack_settings(
            temporal_address=temporal_address,
            database_url=_dsn_with_database(postgres_dsn, database),
            state_hub=state_hub_emulator,
            llm_connect=llm_connect,
            definitions_dir=tmp / "definitions",
            definition_id=task_queue_of,
            data_dir=tmp / "data",
        )

    try:
        async with AsyncExitStack() as stack:
            # The partial story's runs ask an llm-connect of their own, on a worker of their own,
            # so the fault it queues cannot be taken by another story's run on the same tick.
            faulty_llm = stack.enter_context(start_llm_connect_emulator())
            settings = settings_for(llm_connect_emulator, ids["clean"])
            faulty_settings = settings_for(faulty_llm, ids["partial"])
            deps = await stack.enter_async_context(
                open_services(settings, ServiceEndpoints.from_settings(settings), Metrics())
            )
            faulty_deps = await stack.enter_async_context(
                open_services(faulty_settings, ServiceEndpoints.from_settings(faulty_settings), Metrics())
            )
            await apply_migrations(deps.runs.pool, settings.migrations_dir)
            for worker_settings, services in ((settings, deps), (faulty_settings, faulty_deps)):
                worker = create_worker(
                    temporal_client,
                    task_queue=worker_settings.task_queue,
                    services=services,
                    graceful_shutdown=timedelta(seconds=2),
                )
                await stack.enter_async_context(worker)
            definitions = load_all(settings.definitions_dir)
            stories = {name: Story(name, definitions[ids[name]].definition) for name in names}
            stack.push_async_callback(_delete_schedules, temporal_client, list(ids.values()))
            for name, story in stories.items():
                queue = faulty_settings.task_queue if name == "partial" else settings.task_queue
                await temporal_client.create_schedule(
                    story.id, desired_schedule(story.definition, queue, ScheduleState()), memo={OWNER_MEMO_KEY: OWNER}
                )
            harness = TriageHarness(
                client=temporal_client,
                settings=settings,
                endpoints=ServiceEndpoints.from_settings(settings),
                deps=deps,
                definition_id=ids["clean"],
                state_hub=state_hub_emulator,
                llm_connect=llm_connect_emulator,
            )
            history = ScheduledHistory(
                harness=harness,
                history=HistoryStore(deps.runs.pool, timeout=10),
                feedback=FeedbackStore(deps.runs.pool, timeout=10),
                stories=stories,
            )
            await _tell_stories(history, faulty_llm)
            yield history
    finally:
        state_hub_emulator.reset()
        llm_connect_emulator.reset()
        await _admin(postgres_dsn, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


async def _tell_stories(history: ScheduledHistory, faulty_llm) -> None:
    """Drive every story at once while the schedules fire; each ends with its schedule stopped."""
    client, runs = history.client, history.harness.runs

    async def clean(story: Story, run: Callable[[int], Awaitable[RunRecord]]) -> None:
        await run(0)
        await run(1)
        handle = await client.start_workflow(
            InstructionRun.run,
            RunInput(definition_id=story.id),
            id=f"manual-{story.id}",
            task_queue=history.harness.settings.task_queue,
            execution_timeout=timedelta(minutes=1),
        )
        await await_run(handle)
        history.manual_run = (await runs.list_runs(RunQuery(definition_id=story.id, trigger="manual")))[0]
        await run(2)

    async def partial(story: Story, run: Callable[[int], Awaitable[RunRecord]]) -> None:
        await run(0)
        faulty_llm.queue_faults("execute", "malformed_item")
        assert (await run(1)).status == "partial"
        await run(2)
        faulty_llm.queue_faults("execute", f"slow:{EVERY_SECONDS + 1.5}")
        slow = await run(3)
        story.ticks.append(story.ticks[3] + timedelta(seconds=EVERY_SECONDS))
        assert slow.finished_at > story.ticks[4]
        await run(5)

    async def pause_over_second_tick(story: Story, run: Callable[[int], Awaitable[RunRecord]]) -> None:
        handle = client.get_schedule_handle(story.id)
        await run(0)
        await handle.pause(note="paused over one tick")
        story.ticks.append(story.ticks[0] + timedelta(seconds=EVERY_SECONDS))
        await _sleep_until(story.ticks[1] + timedelta(seconds=0.5))
        await handle.unpause(note="resumed")

    async def missed(story: Story, run: Callable[[int], Awaitable[RunRecord]]) -> None:
        await pause_over_second_tick(story, run)
        for index in (2, 3, 4):
            await run(index)
        await client.get_schedule_handle(story.id).pause(note=PAUSE_NOTE)

    async def late(story: Story, run: Callable[[int], Awaitable[RunRecord]]) -> None:
        await pause_over_second_tick(story, run)
        handle = client.get_schedule_handle(story.id)
        await run(2)
        await run(3)
        tick = story.ticks[1]  # now more than the on-time bound ago
        second = timedelta(seconds=1)
        await handle.backfill(
            ScheduleBackfill(start_at=tick - second, end_at=tick + second, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
        )
        assert (await _finished_run(runs, story.id, tick)).trigger == "late"
        await run(4)

    async def three_clean(story: Story, run: Callable[[int], Awaitable[RunRecord]]) -> None:
        for index in range(3):
            await run(index)

    scripts: dict[str, StoryScript] = {
        "clean": clean,
        "partial": partial,
        "missed": missed,
        "late": late,
        "no_note": three_clean,
        "no_event": three_clean,
    }

    async def tell(story: Story) -> None:
        first = await _first_tick(runs, story.id)

        async def run(index: int) -> RunRecord:
            tick = first + timedelta(seconds=EVERY_SECONDS * index)
            record = await _finished_run(runs, story.id, tick)
            assert record.trigger == "schedule", record
            if tick not in story.ticks:
                story.ticks.append(tick)
            return record

        await scripts[story.name](story, run)
        if story.name != "missed":  # the missed story ends paused, with its note
            await client.get_schedule_handle(story.id).delete()
        story.ticks.sort()

    await asyncio.gather(*(tell(story) for story in history.stories.values()))


async def _delete_schedules(client: Client, schedule_ids: list[str]) -> None:
    for schedule_id in schedule_ids:
        try:
            await client.get_schedule_handle(schedule_id).delete()
        except RPCError:
            pass  # deleted when its story ended


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
