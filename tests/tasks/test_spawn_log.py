"""The task_spawn_log store on real PostgreSQL: an idempotent outbox, guarded columns and
constraints, and a per-key lock that serialises processes."""

from __future__ import annotations

import asyncio
from datetime import date

import asyncpg
import pytest

from activity_core.settings import SinkType
from activity_core.store.tasks import PlannedRow, TaskSpawnLog
from activity_core.tasks.spec import SpawnState

pytestmark = pytest.mark.integration


def planned(spec_id: str, *, state: SpawnState = SpawnState.PLANNED, run_id: str = "r1") -> PlannedRow:
    keyed = state is not SpawnState.NOT_EMITTED
    return PlannedRow(
        definition_id="d",
        workflow_id="wf",
        run_id=run_id,
        occurrence=date(2026, 6, 26),
        spec_id=spec_id,
        candidate="c",
        item_rank=1,
        item_line=2,
        base_key=spec_id if keyed else None,
        episode=1 if keyed else None,
        idempotency_key=f"{spec_id}:e1" if keyed else None,
        payload_hash="h" if keyed else None,
        requested_sink=SinkType.REST,
        sink=SinkType.REST,
        state=state,
        spec={"title": "t"} if keyed else None,
        reason=None if keyed else "no_repo",
        reason_detail=None if keyed else "nowhere to file it",
    )


async def test_planning_twice_keeps_the_first_rows_and_not_emitted_rows_are_finished_at_once(
    spawn_log: TaskSpawnLog,
) -> None:
    first = await spawn_log.plan([planned("a"), planned("ne", state=SpawnState.NOT_EMITTED)])
    moved = await spawn_log.update(first[0].id, state=SpawnState.UNKNOWN, count_attempt=True)
    again = await spawn_log.plan([planned("a"), planned("ne", state=SpawnState.NOT_EMITTED)])
    assert [r.id for r in again] == [r.id for r in first]
    assert again[0] == moved and (moved.attempts, moved.state) == (1, SpawnState.UNKNOWN) and moved.last_sent_at
    assert again[0].finished_at is None and again[1].finished_at is not None


async def test_only_what_a_sink_may_change_changes(spawn_log: TaskSpawnLog) -> None:
    (row,) = await spawn_log.plan([planned("a")])
    with pytest.raises(ValueError, match="cannot change after planning: \\['definition_id', 'spec'\\]"):
        await spawn_log.update(row.id, spec={}, definition_id="other")


@pytest.mark.parametrize(
    ("change", "constraint"),
    [
        ({"state": SpawnState.CREATED}, "task_spawn_log_has_reference"),
        ({"state": SpawnState.DRY_RUN}, "task_spawn_log_dry_run_request"),
        ({"state": "shipped"}, "task_spawn_log_state_check"),
        ({"sink": "kafka"}, "task_spawn_log_sink_check"),
    ],
)
async def test_the_table_refuses_rows_that_contradict_themselves(
    spawn_log: TaskSpawnLog, change: dict, constraint: str
) -> None:
    (row,) = await spawn_log.plan([planned("a")])
    with pytest.raises(asyncpg.CheckViolationError, match=constraint):
        await spawn_log.update(row.id, **change)


async def test_the_key_lock_makes_a_second_holder_wait(spawn_log: TaskSpawnLog) -> None:
    order: list[str] = []
    held = asyncio.Event()

    async def first() -> None:
        async with spawn_log.lock("ac1:d:c:f"):
            held.set()
            order.append("first in")
            await asyncio.sleep(0.3)
            order.append("first out")

    async def second() -> None:
        await held.wait()
        async with spawn_log.lock("ac1:d:c:f"):
            order.append("second in")

    async def other_key() -> None:
        await held.wait()
        async with spawn_log.lock("ac1:d:other:f"):
            order.append("other key in")

    await asyncio.gather(first(), second(), other_key())
    assert order == ["first in", "other key in", "first out", "second in"]


async def test_rows_are_found_by_our_key_or_issue_cores_and_runs_by_their_history_row(
    spawn_log: TaskSpawnLog, pool: asyncpg.Pool
) -> None:
    (one,) = await spawn_log.plan([planned("a", run_id="r1")])
    (two,) = await spawn_log.plan([planned("a", run_id="r2")])
    await spawn_log.update(one.id, state=SpawnState.CREATED, task_id="t1", task_key="ISSUE-7", task_url="u")
    assert [r.run_id for r in await spawn_log.rows_for_key("a:e1")] == ["r1", "r2"]
    assert [r.run_id for r in await spawn_log.rows_for_key("ISSUE-7")] == ["r1"]
    assert await spawn_log.latest_episode("a") == 1 and await spawn_log.latest_episode("b") is None
    assert await spawn_log.created_on("a:e1", date(2026, 6, 26)) and not await spawn_log.created_on(
        "a:e1", date(2026, 6, 27)
    )
    async with pool.acquire() as conn:
        history_row = await conn.fetchval(
            "INSERT INTO activity_runs (definition_id, workflow_id, run_id, trigger, local_date, started_at, status)"
            " VALUES ('d', 'wf', 'r2', 'manual', '2026-06-26', now(), 'running') RETURNING id"
        )
    assert await spawn_log.run_of_history_row(history_row) == ("wf", "r2") and two.run_id == "r2"
    assert await spawn_log.run_of_history_row(history_row + 1) is None
