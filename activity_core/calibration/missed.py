"""What happened to a tick that has no run: skipped by overlap, paused, not fired, or fired
without a row. Reasoned from the definition's spec, our rows and Temporal's answer for the
tick's workflow id; the schedule's own state only adds the pause note, so the account holds
when the schedule was deleted or the scheduler stopped.

``why_missed`` is pure; ``schedule_status`` and ``fired`` ask Temporal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activity_core.store.models import RunRecord

_TEMPORAL_RPC_TIMEOUT = timedelta(seconds=10)


@dataclass(frozen=True)
class Unreachable:
    """A system the caller could not connect to; everything it would have said is unknown."""

    reason: str


class Fired(StrEnum):
    """What Temporal says about a tick that has no run row: did the schedule start its workflow?"""

    ABSENT = "absent"
    """No workflow for the tick: the schedule never fired it (paused, skipped, deleted, scheduler down)."""
    OPEN = "open"
    """Started and still open: no worker has picked it up yet."""
    CLOSED = "closed"
    """Started and closed without recording a row (timed out or terminated before its first step)."""
    UNKNOWN = "unknown"
    """Temporal could not be asked, or was not."""


class Happened(StrEnum):
    """What happened at a tick, as ``calibration status`` and the report name it."""

    RAN = "ran"
    LATE = "late"
    PENDING = "pending"
    SKIPPED_OVERLAP = "skipped_overlap"
    PAUSED = "paused"
    NOT_FIRED = "not_fired"
    FIRED_NO_ROW = "fired_no_row"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ScheduleStatus:
    """The schedule as Temporal describes it now: ``active``, ``paused`` (with its note),
    ``absent`` (deleted, or never synced) or ``unknown`` (Temporal could not be asked)."""

    state: str
    note: str | None = None
    last_fired: datetime | None = None
    """The tick of the schedule's newest action Temporal remembers (its recent actions)."""
    detail: str = ""

    def describe(self) -> str:
        if self.state == "paused":
            since = f" (last fired {self.last_fired.isoformat(timespec='seconds')})" if self.last_fired else ""
            return f"paused{since}: {self.note or 'no note'}"
        if self.state == "absent":
            return "no such schedule in Temporal (deleted, or never synced: `activity-core schedules sync`)"
        if self.state == "unknown":
            return f"unknown ({self.detail})"
        return "active"


def tick_workflow_id(definition_id: str, tick: datetime) -> str:
    """The id Temporal gives a schedule's action: the action's id, a dash, the tick in RFC 3339."""
    return f"{definition_id}-{tick.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"


async def schedule_status(temporal: Client | Unreachable, schedule_id: str) -> ScheduleStatus:
    if isinstance(temporal, Unreachable):
        return ScheduleStatus("unknown", detail=temporal.reason)
    try:
        description = await temporal.get_schedule_handle(schedule_id).describe(rpc_timeout=_TEMPORAL_RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return ScheduleStatus("absent")
        return ScheduleStatus("unknown", detail=f"Temporal could not describe schedule {schedule_id}: {exc}")
    state = description.schedule.state
    fired_at = [action.scheduled_at for action in description.info.recent_actions]
    return ScheduleStatus(
        "paused" if state.paused else "active", note=state.note, last_fired=max(fired_at, default=None)
    )


async def fired(temporal: Client | Unreachable, definition_id: str, tick: datetime) -> tuple[Fired, str]:
    """Whether the schedule started the tick's workflow, and the words for a reader."""
    workflow_id = tick_workflow_id(definition_id, tick)
    if isinstance(temporal, Unreachable):
        return Fired.UNKNOWN, f"no run recorded; whether it fired is unknown ({temporal.reason})"
    try:
        description = await temporal.get_workflow_handle(workflow_id).describe(rpc_timeout=_TEMPORAL_RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Fired.ABSENT, f"Temporal started no workflow {workflow_id}"
        return Fired.UNKNOWN, f"no run recorded; Temporal could not be asked whether it fired: {exc}"
    status = description.status
    if status == WorkflowExecutionStatus.RUNNING:
        return Fired.OPEN, f"fired as {workflow_id}, still waiting for a worker"
    state = status.name.lower() if status else "closed"
    return Fired.CLOSED, f"fired as {workflow_id}, which {state} before it recorded a run (no worker polling?)"


def running_at(tick: datetime, runs: Sequence[RunRecord]) -> RunRecord | None:
    """A run of any trigger that had started before the tick and not finished by it."""
    for run in runs:
        if run.started_at < tick and (run.finished_at is None or run.finished_at > tick):
            return run
    return None


def why_missed(
    fire: tuple[Fired, str], *, tick: datetime, schedule: ScheduleStatus, overlap: str, busy: RunRecord | None
) -> tuple[Happened, str]:
    """The account of a decided tick without a run."""
    state, detail = fire
    if state is Fired.CLOSED:
        return Happened.FIRED_NO_ROW, detail
    if state is not Fired.ABSENT:
        return Happened.UNKNOWN, detail
    if overlap == "skip" and busy is not None:
        return Happened.SKIPPED_OVERLAP, (
            f"skipped by overlap: run {busy.id} ({busy.trigger}) was still running at the tick (overlap: skip)"
        )
    if schedule.state == "paused" and (schedule.last_fired is None or schedule.last_fired < tick):
        # Temporal keeps no history of pauses: a tick counts as paused only when the schedule
        # is paused now and has not fired since.
        return Happened.PAUSED, f"paused: {schedule.note or 'no note'}"
    if schedule.state == "absent":
        return Happened.NOT_FIRED, f"not fired: {detail}, and the schedule no longer exists in Temporal"
    return Happened.NOT_FIRED, f"not fired: {detail}"
