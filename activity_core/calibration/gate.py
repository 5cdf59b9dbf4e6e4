"""The calibration gate: can a definition be trusted unattended?

ACTIVITY-WP-0009-T01 asks for ``required`` (three) clean consecutive *scheduled* runs, each
with matching evidence in every system. This module walks the definition's schedule from
the newest tick back and asks each system about each tick's run separately, for the
evidence the definition's kind declares (``activity_core.kinds.registry``):

* Temporal: the workflow execution exists and completed;
* PostgreSQL: the ``activity_runs`` row says ``clean``;
* State Hub: the progress event whose id the row recorded is there;
* State Hub: the working-memory note under the row's note key is there (kinds that write one).

A tick without a scheduled run (the worker was down) is missed and breaks the streak; manual
runs are never looked at, so they neither count nor break it. Evidence a system could not
be asked for is ``unknown``, which breaks the streak like a failure: the gate is only met on
evidence actually seen.

``gather_ticks`` does the asking; ``evaluate`` is a pure function of what was gathered, so the
rules are unit-testable without any server.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activity_core.clients.state_hub import StateHubClient, StateHubError
from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.schedule import DailySchedule, IntervalSchedule
from activity_core.kinds.registry import KINDS
from activity_core.runs.models import Evidence as Declared
from activity_core.store.feedback import Feedback, FeedbackStore
from activity_core.store.history import HistoryStore
from activity_core.store.models import RunRecord
from activity_core.tasks.emission import unsettled

Spec = DailySchedule | IntervalSchedule

DEFAULT_REQUIRED = 3
# How many ticks the walk looks back (more when more runs are required): enough to show a
# reviewer the last two weeks, while one Temporal describe per tick stays cheap.
MIN_WALK_TICKS = 14
# State Hub's progress events are listed from this long before the oldest run started, so
# clock skew between the worker and State Hub cannot hide an event.
_CLOCK_SKEW = timedelta(hours=1)
_TEMPORAL_RPC_TIMEOUT = timedelta(seconds=10)


class Check(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def mark(self) -> str:
        return {"passed": "✓", "failed": "✗", "unknown": "?"}[self.value]


class Piece(StrEnum):
    """The four pieces of evidence, in the order they are checked and shown."""

    TEMPORAL = "temporal"
    ROW = "row"
    PROGRESS = "progress"
    NOTE = "note"


@dataclass(frozen=True)
class Evidence:
    check: Check
    detail: str


@dataclass(frozen=True)
class Unreachable:
    """A system the caller could not connect to; everything it would have said is unknown."""

    reason: str


@dataclass(frozen=True)
class RunRef:
    """The parts of a run the gate and its readers name."""

    row_id: int
    workflow_id: str
    run_id: str
    status: str

    @classmethod
    def of(cls, record: RunRecord) -> RunRef:
        return cls(row_id=record.id, workflow_id=record.workflow_id, run_id=record.run_id, status=record.status)


@dataclass(frozen=True)
class TickEvidence:
    """One tick of the schedule, its scheduled run (None: missed) and what each system said.

    ``pending`` marks a tick (the newest) whose run may still legitimately be going or about
    to be recorded: it neither counts nor breaks.
    """

    tick: datetime
    local_date: date
    run: RunRef | None
    evidence: dict[Piece, Evidence] = field(default_factory=dict)
    pending: bool = False
    feedback: tuple[Feedback, ...] = ()

    required: frozenset[Piece] = frozenset(Piece)

    @property
    def counted(self) -> bool:
        return (
            self.run is not None
            and self.required <= set(self.evidence)
            and all(e.check is Check.PASSED for e in self.evidence.values())
        )

    def problem(self) -> str:
        """Why this tick does not count, in one line."""
        if self.pending:
            return "still within its run's execution window"
        if self.run is None:
            return "missed: no scheduled run was recorded for this tick"
        failed = [f"{piece.value}: {e.detail}" for piece, e in self.evidence.items() if e.check is not Check.PASSED]
        return "; ".join(failed) or "evidence incomplete"


@dataclass(frozen=True)
class GateReport:
    definition_id: str
    required: int
    now: datetime
    ticks: tuple[TickEvidence, ...]
    """Newest first; only ticks from the definition's first scheduled run on."""
    streak: int
    broken_at: int | None
    """Index in ``ticks`` of the tick that ended the streak; None when the walk ran out first."""
    reached_history_start: bool
    """The walk got back to the first scheduled run (so an unbroken streak is all of history)."""

    @property
    def met(self) -> bool:
        return self.streak >= self.required

    @property
    def broken_by(self) -> str | None:
        if self.broken_at is None:
            return None
        tick = self.ticks[self.broken_at]
        run = f"run {tick.run.row_id}" if tick.run else "no run"
        return f"tick {tick.local_date} ({run}): {tick.problem()}"

    @property
    def unknown(self) -> list[str]:
        """Why evidence could not be checked, once per distinct reason."""
        return sorted({e.detail for t in self.ticks for e in t.evidence.values() if e.check is Check.UNKNOWN})

    def as_dict(self) -> dict[str, Any]:
        return {
            "definition_id": self.definition_id,
            "required": self.required,
            "now": self.now.isoformat(),
            "met": self.met,
            "streak": self.streak,
            "broken_by": self.broken_by,
            "reached_history_start": self.reached_history_start,
            "ticks": [
                {
                    "tick": t.tick.isoformat(),
                    "local_date": t.local_date.isoformat(),
                    "pending": t.pending,
                    "counted": t.counted,
                    "run": None if t.run is None else vars(t.run),
                    "evidence": {p.value: {"check": e.check.value, "detail": e.detail} for p, e in t.evidence.items()},
                    "feedback": [f.model_dump(mode="json") for f in t.feedback],
                }
                for t in self.ticks
            ],
        }


def evaluate(
    definition_id: str, ticks: list[TickEvidence], *, required: int, now: datetime, reached_history_start: bool
) -> GateReport:
    """The streak of counted ticks from the newest back; pending ticks are skipped."""
    streak = 0
    broken_at = None
    for index, tick in enumerate(ticks):
        if tick.pending:
            continue
        if not tick.counted:
            broken_at = index
            break
        streak += 1
    return GateReport(
        definition_id=definition_id,
        required=required,
        now=now,
        ticks=tuple(ticks),
        streak=streak,
        broken_at=broken_at,
        reached_history_start=reached_history_start,
    )


class NoScheduledRuns(LookupError):
    """The definition has no scheduled run at or before the time asked about."""


def newest_tick_day(spec: Spec, now: datetime) -> date:
    """The local day of the last tick at or before ``now``."""
    return spec.local_date(spec.latest_tick(now))


def required_pieces(definition: DefinitionBase) -> frozenset[Piece]:
    """The evidence a run of this definition's kind must leave: Temporal's, plus what the kind declares."""
    declared = KINDS[definition.kind].evidence
    wanted = {Declared.ROW: Piece.ROW, Declared.PROGRESS_EVENT: Piece.PROGRESS, Declared.NOTE: Piece.NOTE}
    return frozenset({Piece.TEMPORAL, *(piece for evidence, piece in wanted.items() if evidence in declared)})


def is_pending(tick: datetime, run: RunRecord | None, spec: Spec, now: datetime) -> bool:
    """Whether the tick's run may still be going or about to be recorded: a run may take up to
    its execution timeout, so until then a tick without a finished run is not yet decided."""
    grace = timedelta(seconds=spec.execution_timeout_seconds)
    return now - tick < grace and (run is None or run.status == "running")


def runs_by_tick(rows: list[RunRecord]) -> dict[datetime, RunRecord]:
    """The run of each tick; of several (a reset workflow), the newest row, as rows come newest first."""
    by_tick: dict[datetime, RunRecord] = {}
    for row in rows:
        if row.scheduled_at is not None:
            by_tick.setdefault(row.scheduled_at, row)
    return by_tick


async def calibration_status(
    history: HistoryStore,
    feedback: FeedbackStore,
    temporal: Client | Unreachable,
    state_hub: StateHubClient,
    definition: DefinitionBase,
    *,
    required: int = DEFAULT_REQUIRED,
    now: datetime,
) -> GateReport:
    """Walk the schedule back from ``now`` and evaluate the gate.

    Raises ``NoScheduledRuns`` when there is nothing to walk. Unreachable systems do not
    raise: their evidence comes back ``unknown``.
    """
    ticks, reached_start = await gather_ticks(
        history, feedback, temporal, state_hub, definition, walk=max(required, MIN_WALK_TICKS), now=now
    )
    return evaluate(definition.id, ticks, required=required, now=now, reached_history_start=reached_start)


@dataclass(frozen=True)
class ScheduleWindow:
    """The last ticks at or before a moment, newest first, and the scheduled run of each tick
    that has one: everything the gate and the report read from the database about a window."""

    ticks: list[datetime]
    runs: dict[datetime, RunRecord]
    first_tick: datetime | None
    """The definition's first scheduled run's tick: no tick before it can have been missed."""


async def schedule_window(history: HistoryStore, definition: DefinitionBase, *, count: int, now: datetime) -> ScheduleWindow:
    spec = definition.schedule
    ticks = spec.ticks_back(spec.latest_tick(now), count)
    first = await history.first_scheduled_at(definition.id)
    rows = await history.scheduled_runs_between(definition.id, ticks[-1], ticks[0])
    return ScheduleWindow(ticks=ticks, runs=runs_by_tick(rows), first_tick=first)


async def gather_ticks(
    history: HistoryStore,
    feedback: FeedbackStore,
    temporal: Client | Unreachable,
    state_hub: StateHubClient,
    definition: DefinitionBase,
    *,
    walk: int,
    now: datetime,
) -> tuple[list[TickEvidence], bool]:
    """The last ``walk`` ticks at or before ``now`` (none before the first scheduled run),
    each with the evidence of its run, newest first; and whether the first run was reached."""
    spec = definition.schedule
    window = await schedule_window(history, definition, count=walk, now=now)
    if window.first_tick is None or window.first_tick > window.ticks[0]:
        raise NoScheduledRuns(
            f"definition {definition.id!r} has no scheduled run at or before {now.isoformat(timespec='seconds')} "
            "in activity_runs: has its schedule fired yet (`activity-core schedules sync`, a worker polling)?"
        )
    first_tick = window.first_tick
    ticks = [tick for tick in window.ticks if tick >= first_tick]
    required = required_pieces(definition)

    def pending(tick: datetime) -> bool:
        return is_pending(tick, window.runs.get(tick), spec, now)

    runs = [window.runs[t] for t in ticks if t in window.runs and not pending(t)]
    evidence = await _evidence(runs, temporal, state_hub, definition)
    verdicts = await feedback.for_runs([run.id for run in runs])
    gathered = []
    for tick in ticks:
        run = window.runs.get(tick)
        gathered.append(
            TickEvidence(
                tick=tick,
                local_date=spec.local_date(tick),
                run=RunRef.of(run) if run else None,
                evidence=evidence.get(run.id, {}) if run else {},
                pending=pending(tick),
                feedback=tuple(verdicts.get(run.id, ())) if run else (),
                required=required,
            )
        )
    return gathered, window.ticks[-1] <= first_tick


async def _evidence(
    runs: list[RunRecord], temporal: Client | Unreachable, state_hub: StateHubClient, definition: DefinitionBase
) -> dict[int, dict[Piece, Evidence]]:
    if not runs:
        return {}
    since = min(run.started_at for run in runs) - _CLOCK_SKEW
    required = required_pieces(definition)
    note_keys = [run.note_key for run in runs if run.note_key]
    temporal_checks, events, notes = await asyncio.gather(
        asyncio.gather(*(_temporal_check(temporal, run) for run in runs)),
        _state_hub_ids(state_hub.list_progress(definition.evidence.progress_event_type, since=since), "id"),
        _state_hub_ids(state_hub.list_notes(prefix=os.path.commonprefix(note_keys)), "key")
        if Piece.NOTE in required and note_keys
        else _nothing(),
    )
    gathered = {}
    for run, temporal_check in zip(runs, temporal_checks, strict=True):
        pieces = {
            Piece.TEMPORAL: temporal_check,
            Piece.ROW: _row_check(run),
            Piece.PROGRESS: _found(events, run.progress_event_id, "progress event", "the row recorded no progress event id"),
        }
        if Piece.NOTE in required:
            pieces[Piece.NOTE] = _found(notes, run.note_key, "note", "the row recorded no note key")
        gathered[run.id] = pieces
    return gathered


async def _nothing() -> set[str]:
    return set()


def _row_check(run: RunRecord) -> Evidence:
    if run.status == "clean" and (tasks := unsettled(run.result)):
        return Evidence(Check.FAILED, f"status clean, but {tasks} (activity-core tasks list --run {run.id})")
    if run.status == "clean":
        return Evidence(Check.PASSED, "status clean")
    if run.status == "running":
        return Evidence(Check.FAILED, "status running: never finished within the execution timeout")
    message = f": {run.error_message}" if run.error_message else ""
    return Evidence(Check.FAILED, f"status {run.status}{message}")


async def _temporal_check(temporal: Client | Unreachable, run: RunRecord) -> Evidence:
    if isinstance(temporal, Unreachable):
        return Evidence(Check.UNKNOWN, temporal.reason)
    handle = temporal.get_workflow_handle(run.workflow_id, run_id=run.run_id)
    try:
        description = await handle.describe(rpc_timeout=_TEMPORAL_RPC_TIMEOUT)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return Evidence(
                Check.FAILED,
                f"workflow {run.workflow_id} run {run.run_id} not found in namespace {temporal.namespace} "
                "(deleted, or past the namespace's retention)",
            )
        return Evidence(Check.UNKNOWN, f"Temporal could not be asked: {exc.status.name if exc.status else ''} {exc}".strip())
    status = description.status
    if status == WorkflowExecutionStatus.COMPLETED:
        return Evidence(Check.PASSED, "workflow execution completed")
    return Evidence(Check.FAILED, f"workflow execution {status.name.lower() if status else 'in an unknown state'}")


async def _state_hub_ids(listing: Awaitable[Sequence[Any]], attribute: str) -> set[str] | Evidence:
    """The ids (or keys) State Hub listed, or the unknown-evidence that its failure means."""
    try:
        return {getattr(record, attribute) for record in await listing}
    except StateHubError as exc:
        return Evidence(Check.UNKNOWN, f"State Hub could not be asked: {exc}")


def _found(listed: set[str] | Evidence, wanted: str | None, what: str, unrecorded: str) -> Evidence:
    if wanted is None:
        return Evidence(Check.FAILED, unrecorded)
    if isinstance(listed, Evidence):
        return listed
    if wanted in listed:
        return Evidence(Check.PASSED, f"{what} {wanted} found in State Hub")
    return Evidence(Check.FAILED, f"{what} {wanted} is not in State Hub")

