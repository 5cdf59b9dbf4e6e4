"""The three places a planned spec can go, and the ceiling that picks one.

``null`` logs and sends nothing; ``dry_run`` also logs the exact request it would send;
``rest`` (``IssueCoreRestSink``) files the task in issue-core, exactly once per episode of
a recommendation. A sink takes a row the outbox holds and moves it on; every change is
committed before the request it prepares, so whatever is interrupted, the row says what
may have happened and the next call picks up from there.

The rest sink's protocol, per row, under the advisory lock of its business key:

1. look the episode's key up in issue-core, always first (a retry, a crash between send
   and record, and a second run of the day all start here);
2. found, and this row sent a create under that key: it is our task, ``created``;
3. found open: the recommendation recurred, ``duplicate`` (or ``commented``, with a
   comment keyed ``<key>:c<date>`` looked up first too; no comment when a run of the same
   day created the task);
4. found closed: the next episode, back to 1;
5. none: count the attempt, then create. A timeout or a 5xx after sending leaves
   ``unknown``, which the next call reconciles by 1.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Protocol

from activity_core.clients.issue_core import (
    CreatedTask,
    IssueCoreClient,
    IssueCoreError,
    TaskRecord,
    create_task_request,
)
from activity_core.settings import SinkType
from activity_core.store.tasks import SpawnRow, TaskSpawnLog
from activity_core.tasks.keys import comment_key, episode_key, payload_hash
from activity_core.tasks.spec import SpawnState, TaskSpec

# A recommendation whose tasks were closed this many times in a row within one call is
# more likely a loop than a real history; the row fails and says so.
MAX_EPISODES_PER_CALL = 64

log = logging.getLogger(__name__)


def effective_sink(ceiling: SinkType, requested: SinkType) -> SinkType:
    """The definition's sink, lowered to the deployment's ceiling: ``null`` there stops all."""
    return min(ceiling, requested, key=lambda sink: sink.level)


class Sink(Protocol):
    kind: SinkType

    async def deliver(self, row: SpawnRow) -> SpawnRow:
        """Move an unfinished row on; return it as stored afterwards."""
        ...


def run_link(row: SpawnRow) -> str:
    return f"{row.workflow_id}/{row.run_id}"


def spec_of(row: SpawnRow) -> TaskSpec:
    return TaskSpec.model_validate(row.spec)


def planned_request(row: SpawnRow) -> dict[str, object]:
    """The create this row's current episode would send, as the wire sees it (no token)."""
    assert row.idempotency_key is not None  # planned rows are keyed (a table constraint)
    task = spec_of(row).new_task(external_key=row.idempotency_key, run=run_link(row))
    return create_task_request(task).to_dict()


class NullSink:
    """Computed and logged; nothing leaves."""

    kind = SinkType.NULL

    def __init__(self, spawn_log: TaskSpawnLog) -> None:
        self._log = spawn_log

    async def deliver(self, row: SpawnRow) -> SpawnRow:
        if row.state is not SpawnState.PLANNED:
            return row  # unknown: only issue-core can tell, and nothing may be asked of it now
        return await self._log.update(row.id, sink=self.kind, finished=True)


class DryRunSink:
    """As null, plus the exact request the rest sink would send for the episode the log
    knows (the rest sink looks the key up first, so it may find the task instead)."""

    kind = SinkType.DRY_RUN

    def __init__(self, spawn_log: TaskSpawnLog) -> None:
        self._log = spawn_log

    async def deliver(self, row: SpawnRow) -> SpawnRow:
        if row.state is not SpawnState.PLANNED:
            return row
        request = planned_request(row)
        return await self._log.update(row.id, sink=self.kind, state=SpawnState.DRY_RUN, request=request, finished=True)


class IssueCoreRestSink:
    """Files tasks in issue-core, exactly once per episode (see the module docstring)."""

    kind = SinkType.REST

    def __init__(self, spawn_log: TaskSpawnLog, client: IssueCoreClient, *, scrub: Callable[[str], str]) -> None:
        self._log = spawn_log
        self._client = client
        self._scrub = scrub

    async def deliver(self, row: SpawnRow) -> SpawnRow:
        assert row.base_key is not None
        async with self._log.lock(row.base_key):
            row = await self._log.get(row.id)  # another process may have moved it while we waited
            if row.finished_at is not None:
                return row
            try:
                return await self._resolve(await self._log.update(row.id, sink=self.kind))
            except IssueCoreError as exc:
                return await self._failed_attempt(await self._log.get(row.id), exc)

    async def _resolve(self, row: SpawnRow) -> SpawnRow:
        assert row.base_key is not None and row.episode is not None
        for episode in range(row.episode, row.episode + MAX_EPISODES_PER_CALL):
            key = episode_key(row.base_key, episode)
            if key != row.idempotency_key:
                task = spec_of(row).new_task(external_key=key, run=run_link(row))
                row = await self._log.update(
                    row.id,
                    episode=episode,
                    idempotency_key=key,
                    payload_hash=payload_hash(task.model_dump(mode="json")),
                )
            found = _preferred(key, await self._client.find_tasks(key))
            if found is None:
                return await self._create(row)
            if row.sent_key == key:
                return await self._finish(row, SpawnState.CREATED, found)
            if found.is_open:
                return await self._recur(row, found)
        return await self._log.update(
            row.id,
            state=SpawnState.FAILED,
            error_class="TooManyEpisodes",
            error_message=f"{MAX_EPISODES_PER_CALL} closed tasks in a row under {row.base_key}; "
            "look at them in issue-core before emitting this recommendation again",
            finished=True,
        )

    async def _create(self, row: SpawnRow) -> SpawnRow:
        assert row.idempotency_key is not None
        task = spec_of(row).new_task(external_key=row.idempotency_key, run=run_link(row))
        row = await self._log.update(row.id, sent_key=row.idempotency_key, count_attempt=True)
        created = await self._client.create_task(task)
        return await self._finish(row, SpawnState.CREATED, created)

    async def _recur(self, row: SpawnRow, task: TaskRecord) -> SpawnRow:
        """The recommendation came back while its task is open."""
        assert row.idempotency_key is not None
        same_day = await self._log.created_on(row.idempotency_key, row.occurrence)
        if row.on_recurrence != "comment" or same_day:
            return await self._finish(row, SpawnState.DUPLICATE, task)
        key = comment_key(row.idempotency_key, row.occurrence)
        row = await self._log.update(row.id, comment_key=key, task_id=task.id, task_key=task.key, task_url=task.url)
        existing = await self._client.find_comments(task.id, key)
        if existing:
            return await self._finish(row, SpawnState.COMMENTED, task, comment_id=existing[0].id)
        row = await self._log.update(row.id, count_attempt=True)
        comment = await self._client.add_comment(task.id, spec_of(row).new_comment(external_key=key))
        return await self._finish(row, SpawnState.COMMENTED, task, comment_id=comment.id)

    async def _finish(
        self, row: SpawnRow, state: SpawnState, task: TaskRecord | CreatedTask, comment_id: str | None = None
    ) -> SpawnRow:
        return await self._log.update(
            row.id,
            state=state,
            task_id=task.id,
            task_key=task.key,
            task_url=task.url,
            comment_id=comment_id,
            error_class=None,
            error_message=None,
            finished=True,
        )

    async def _failed_attempt(self, row: SpawnRow, exc: IssueCoreError) -> SpawnRow:
        """Ambiguous: ``unknown`` until a lookup says. Retryable: the row stays as it was (an
        ``unknown`` row is still unknown). Final: ``failed``, unless a write may already
        have landed, which only a later lookup can tell."""
        message, name = self._scrub(str(exc)), type(exc).__name__
        log.warning(
            "task spec %s: issue-core call failed (%s): %s", row.idempotency_key, name, message,
            extra={"definition_id": row.definition_id, "workflow_id": row.workflow_id, "run_id": row.run_id},
        )  # fmt: skip
        if exc.ambiguous:
            state, finished = SpawnState.UNKNOWN, False
        elif exc.retryable or row.state is SpawnState.UNKNOWN:
            state, finished = row.state, False
        else:
            state, finished = SpawnState.FAILED, True
        return await self._log.update(row.id, state=state, error_class=name, error_message=message, finished=finished)


def _preferred(key: str, found: list[TaskRecord]) -> TaskRecord | None:
    """The task a key names, among what the lookup returned (only exact matches count: a
    service that matched loosely must not make us adopt another task). Several can exist only
    if someone filed one by hand under our key, or a service ignored the idempotency key: an
    open one wins, then the oldest."""
    exact = [task for task in found if task.external_key == key]
    return next((task for task in exact if task.is_open), exact[0] if exact else None)
