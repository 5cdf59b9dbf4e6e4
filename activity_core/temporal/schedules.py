"""Reconcile Temporal schedules with the definitions, idempotently.

Schedule id = definition id. A schedule is ours when its memo says so; others are left
alone. Change detection compares a fingerprint of everything the definition decides (kept
in the action's memo), so a sync with nothing new is a no-op rather than a rewrite, and an
operator's pause (with its note) survives every sync.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleCalendarSpec,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleRange,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.converter import default as default_converter
from temporalio.service import RPCError, RPCStatusCode

from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import LoadedDefinition
from activity_core.definitions.schedule import DailySchedule, IntervalSchedule
from activity_core.kinds.registry import KINDS
from activity_core.runs.models import RunInput

OWNER_MEMO_KEY = "managed-by"
OWNER = "activity-core"
FINGERPRINT_MEMO_KEY = "activity-core-fingerprint"
DISABLED_NOTE_PREFIX = "activity-core: paused because"

_OVERLAP = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}


class SyncKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    PAUSE = "pause"
    UNCHANGED = "unchanged"
    NOT_OURS = "not-ours"


@dataclass(frozen=True)
class SyncAction:
    schedule_id: str
    kind: SyncKind
    detail: str

    def __str__(self) -> str:
        return f"{self.kind.value:<9} {self.schedule_id}: {self.detail}"


def workflow_name(definition: DefinitionBase) -> str:
    """The registered name of the workflow a definition's kind runs."""
    return KINDS[definition.kind].workflow_name


def fingerprint(definition: DefinitionBase, task_queue: str) -> str:
    decided = {
        "workflow": workflow_name(definition),
        "task_queue": task_queue,
        "schedule": definition.schedule.model_dump(mode="json"),
        "definition_id": definition.id,
    }
    return hashlib.sha256(json.dumps(decided, sort_keys=True).encode()).hexdigest()[:16]


def desired_schedule(definition: DefinitionBase, task_queue: str, state: ScheduleState) -> Schedule:
    spec = definition.schedule
    return Schedule(
        action=ScheduleActionStartWorkflow(
            workflow_name(definition),
            RunInput(definition_id=definition.id),
            id=definition.id,
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=spec.execution_timeout_seconds),
            memo={FINGERPRINT_MEMO_KEY: fingerprint(definition, task_queue)},
        ),
        spec=temporal_spec(spec),
        policy=SchedulePolicy(
            overlap=_OVERLAP[spec.overlap],
            catchup_window=timedelta(seconds=spec.catchup_window_seconds),
        ),
        state=state,
    )


def temporal_spec(spec: DailySchedule | IntervalSchedule) -> ScheduleSpec:
    if isinstance(spec, DailySchedule):
        calendar = ScheduleCalendarSpec(
            hour=[ScheduleRange(spec.hour)], minute=[ScheduleRange(spec.minute)], second=[ScheduleRange(0)]
        )
        return ScheduleSpec(calendars=[calendar], time_zone_name=spec.time_zone)
    return ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(seconds=spec.every_seconds))])


def _disabled_note(definition: DefinitionBase) -> str:
    note = f"{DISABLED_NOTE_PREFIX} definitions/{definition.id}.yaml has enabled: false"
    kind = KINDS.get(definition.kind)
    if kind is not None and kind.unpause_after:
        note += f"; before setting enabled: true, {kind.unpause_after.format(id=definition.id)}"
    return note


def _desired_state(definition: DefinitionBase, current: ScheduleState | None) -> ScheduleState:
    """Disabled pauses with our note; enabled keeps an operator's pause but lifts ours."""
    if not definition.enabled:
        return ScheduleState(paused=True, note=_disabled_note(definition))
    if current is None or (current.paused and (current.note or "").startswith(DISABLED_NOTE_PREFIX)):
        return ScheduleState(paused=False, note="managed by activity-core schedules sync")
    return ScheduleState(paused=current.paused, note=current.note)


def _memo_value(action: object, key: str) -> str | None:
    memo = getattr(action, "memo", None) or {}
    raw = memo.get(key)
    if raw is None:
        return None
    if isinstance(raw, str):
        return raw
    return default_converter().payload_converter.from_payload(raw, str)


async def sync_schedules(
    client: Client,
    definitions: Mapping[str, LoadedDefinition],
    *,
    task_queue: str,
    dry_run: bool = False,
) -> list[SyncAction]:
    actions = [
        await _sync_one(client, loaded.definition, task_queue=task_queue, dry_run=dry_run)
        for loaded in definitions.values()
    ]
    actions += await _pause_orphans(client, set(definitions), dry_run=dry_run)
    return actions


async def _sync_one(client: Client, definition: DefinitionBase, *, task_queue: str, dry_run: bool) -> SyncAction:
    handle = client.get_schedule_handle(definition.id)
    try:
        description = await handle.describe()
    except RPCError as exc:
        if exc.status != RPCStatusCode.NOT_FOUND:
            raise
        state = _desired_state(definition, None)
        if not dry_run:
            await client.create_schedule(
                definition.id,
                desired_schedule(definition, task_queue, state),
                memo={OWNER_MEMO_KEY: OWNER},
            )
        # The note is what an operator must do before unpausing: shown where they look first.
        paused = f"; created paused, note: {state.note}" if state.paused else ""
        return SyncAction(definition.id, SyncKind.CREATE, _describe_spec(definition) + paused)

    if (await description.memo()).get(OWNER_MEMO_KEY) != OWNER:
        return SyncAction(definition.id, SyncKind.NOT_OURS, "exists but was not created by activity-core; left alone")

    changes = _changes(definition, task_queue, description.schedule)
    if not changes:
        return SyncAction(definition.id, SyncKind.UNCHANGED, _describe_spec(definition))
    if not dry_run:

        def update(current: ScheduleUpdateInput) -> ScheduleUpdate | None:
            # Re-derived from the freshest description: read-modify-write, not blind overwrite.
            fresh = current.description.schedule
            if not _changes(definition, task_queue, fresh):
                return None
            return ScheduleUpdate(
                schedule=desired_schedule(definition, task_queue, _desired_state(definition, fresh.state))
            )

        await handle.update(update)
    kind = SyncKind.PAUSE if changes == ["paused"] else SyncKind.UPDATE
    return SyncAction(definition.id, kind, ", ".join(changes) + " changed; " + _describe_spec(definition))


def _changes(definition: DefinitionBase, task_queue: str, current: Schedule) -> list[str]:
    changed = []
    if _memo_value(current.action, FINGERPRINT_MEMO_KEY) != fingerprint(definition, task_queue):
        changed.append("definition")
    wanted = _desired_state(definition, current.state)
    if (wanted.paused, wanted.note) != (current.state.paused, current.state.note):
        changed.append("paused" if wanted.paused != current.state.paused else "note")
    return changed


async def _pause_orphans(client: Client, known: set[str], *, dry_run: bool) -> list[SyncAction]:
    """Our schedules whose definition is gone are paused (never deleted: history stays readable)."""
    actions = []
    async for listed in await client.list_schedules():
        if listed.id in known:
            continue
        handle = client.get_schedule_handle(listed.id)
        description = await handle.describe()
        if (await description.memo()).get(OWNER_MEMO_KEY) != OWNER or description.schedule.state.paused:
            continue
        if not dry_run:
            await handle.pause(note=f"{DISABLED_NOTE_PREFIX} its definition no longer exists")
        actions.append(SyncAction(listed.id, SyncKind.PAUSE, "definition removed; paused"))
    return actions


def _describe_spec(definition: DefinitionBase) -> str:
    return f"{definition.schedule.describe()}, overlap {definition.schedule.overlap}"
