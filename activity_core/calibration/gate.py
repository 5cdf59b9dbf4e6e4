"""The calibration gate: can a definition be trusted unattended?

ACTIVITY-WP-0009-T01 asks for ``required`` (three) clean consecutive *scheduled* runs, each
with matching evidence in every system. This module walks the definition's schedule from
the newest tick back and asks each system about each tick's run separately, for the
evidence the definition's kind declares (``activity_core.kinds.registry``):

* Temporal: the workflow execution exists and completed;
* PostgreSQL: the ``activity_runs`` row says ``clean``;
* State Hub: the progress event whose id the row recorded is there;
* State Hub: the working-memory note under the row's note key is there (kinds that write one).

Only ``schedule`` runs count (ADR-005, "Trigger attribution"). A tick whose only run is
``late`` (a catch-up or a backfill) breaks the streak, with its lag named. A tick without any
run is missed and breaks it; whether the schedule fired it at all is asked of Temporal by the
tick's workflow id. ``trigger`` and ``manual`` runs have no tick: they neither count nor break. Evidence a system could not
be asked for is ``unknown``, which breaks the streak like a failure: the gate is only met on
evidence actually seen.

``gather_ticks`` does the asking; ``evaluate`` is a pure function of what was gathered, so the
rules are unit-testable without any server.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activity_core.calibration.figures import Figure, gate_figures
from activity_core.calibration.missed import (
    Fired,
    Happened,
    ScheduleStatus,
    Unreachable,
    fired,
    running_at,
    schedule_status,
    why_missed,
)
from activity_core.calibration.verdicts import NetVerdict, net_verdict
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
# How many ticks the walk looks back by default (more when more runs are required): a month of
# a daily schedule, the window the gate's figures are computed over; one Temporal describe per
# tick stays cheap.
DEFAULT_WINDOW = 30
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
class RunRef:
    """The parts of a run the gate and its readers name."""

    row_id: int
    workflow_id: str
    run_id: str
    status: str
    trigger: str = "schedule"
    start_lag_seconds: float | None = None
    versions: dict[str, Any] | None = None
    """What produced the run (model, prompt template hash, item schema), as the row records it."""

    @classmethod
    def of(cls, record: RunRecord) -> RunRef:
        return cls(
            row_id=record.id,
            workflow_id=record.workflow_id,
            run_id=record.run_id,
            status=record.status,
            trigger=record.trigger,
            start_lag_seconds=record.start_lag_seconds,
            versions=record.versions,
        )

    @property
    def late(self) -> bool:
        return self.trigger == "late"


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
    label: str = ""
    """How readers name the tick (``tick_label``); the local date when not set."""
    miss: tuple[Happened, str] | None = None
    """For a decided tick without a run: what happened to it (``why_missed``)."""
    stale_versions: str | None = None
    """How the run's versions differ from the newest run's (set by ``evaluate``): it cannot count."""
    version_change: str | None = None
    """How this run's versions differ from the run before it (set by ``evaluate``): where a version changed."""

    @property
    def verdict(self) -> NetVerdict:
        """Each reviewer's latest verdict on the run."""
        return net_verdict(self.feedback)

    @property
    def happened(self) -> Happened:
        if self.pending:
            return Happened.PENDING
        if self.run is None:
            return self.miss[0] if self.miss else Happened.NOT_FIRED
        return Happened.LATE if self.run.late else Happened.RAN

    def account(self) -> str:
        """What happened at the tick, in one line (the run's lag, or why there is none)."""
        if self.run is not None:
            lag = f", started {describe_lag(self.run.start_lag_seconds)} after the tick"
            return f"{self.happened.value}: run {self.run.row_id} {self.run.status}{lag}"
        if self.pending:
            return "pending: its run may still start or be recorded"
        return self.miss[1] if self.miss else "missed: no run was recorded for this tick"

    @property
    def name(self) -> str:
        return self.label or self.local_date.isoformat()

    @property
    def counted(self) -> bool:
        return (
            self.run is not None
            and not self.run.late
            and self.stale_versions is None
            and not self.verdict.rejects
            and self.required <= set(self.evidence)
            and all(e.check is Check.PASSED for e in self.evidence.values())
        )

    def problem(self) -> str:
        """Why this tick does not count, in one line."""
        if self.pending:
            return "still within its run's execution window"
        if self.run is None:
            return f"missed: {self.account()}"
        if self.run.late:
            return f"late: its only run started {describe_lag(self.run.start_lag_seconds)} after the tick (a catch-up or a backfill, which never counts)"
        failed = [f"{piece.value}: {e.detail}" for piece, e in self.evidence.items() if e.check is not Check.PASSED]
        if self.stale_versions:
            failed.insert(0, f"versions: {self.stale_versions}")
        if self.verdict.rejects:
            failed.insert(0, f"verdict: {NetVerdict(self.verdict.rejects).describe()}")
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
    schedule: ScheduleStatus = ScheduleStatus("unknown", detail="not asked")
    figures: tuple[Figure, ...] = ()
    """The window's numbers: the gate's (``calibration.figures``), then the kind's."""

    @property
    def met(self) -> bool:
        return self.streak >= self.required

    @property
    def broken_by(self) -> str | None:
        if self.broken_at is None:
            return None
        tick = self.ticks[self.broken_at]
        run = f"run {tick.run.row_id}" if tick.run else "no run"
        return f"tick {tick.name} ({run}): {tick.problem()}"

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
            "figures": [figure.as_dict() for figure in self.figures],
            "schedule": {
                "state": self.schedule.state,
                "note": self.schedule.note,
                "describe": self.schedule.describe(),
            },
            "ticks": [
                {
                    "tick": t.tick.isoformat(),
                    "local_date": t.local_date.isoformat(),
                    "label": t.name,
                    "happened": t.happened.value,
                    "account": t.account(),
                    "versions": None if t.run is None else t.run.versions,
                    "version_change": t.version_change,
                    "pending": t.pending,
                    "counted": t.counted,
                    "run": None if t.run is None else vars(t.run),
                    "evidence": {p.value: {"check": e.check.value, "detail": e.detail} for p, e in t.evidence.items()},
                    "feedback": [f.model_dump(mode="json") for f in t.feedback],
                    "verdict": {
                        "state": t.verdict.state,
                        "describe": t.verdict.describe(),
                        "rejected_by": [f.reviewer for f in t.verdict.rejects],
                    },
                }
                for t in self.ticks
            ],
        }


def evaluate(
    definition_id: str,
    ticks: list[TickEvidence],
    *,
    required: int,
    now: datetime,
    reached_history_start: bool,
    schedule: ScheduleStatus | None = None,
) -> GateReport:
    """The streak of counted ticks from the newest back; pending ticks are skipped.

    Only runs made by the newest run's versions can count: a changed model, prompt template
    or item schema starts calibration afresh.
    """
    ticks = _mark_versions(ticks)
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
        schedule=schedule or ScheduleStatus("unknown", detail="not asked"),
    )


def version_diff(newer: dict[str, Any] | None, older: dict[str, Any] | None) -> str | None:
    """``model a → b; item_schema x → y``, or None when they are the same."""
    if newer == older:
        return None
    newer, older = newer or {}, older or {}
    changed = [
        f"{key} {_short(older.get(key))} → {_short(newer.get(key))}"
        for key in sorted(set(newer) | set(older))
        if newer.get(key) != older.get(key)
    ]
    return "; ".join(changed) or "versions not recorded"


def _short(value: object) -> str:
    text = "none" if value is None else str(value)
    return text[:12] if len(text) == 64 else text  # a sha256 is named by its first 12 digits


def _mark_versions(ticks: list[TickEvidence]) -> list[TickEvidence]:
    runs = [(index, tick) for index, tick in enumerate(ticks) if tick.run is not None and not tick.pending]
    if not runs:
        return ticks
    newest = runs[0][1].run.versions  # type: ignore[union-attr]
    marked = list(ticks)
    for position, (index, tick) in enumerate(runs):
        versions = tick.run.versions  # type: ignore[union-attr]
        older = runs[position + 1][1].run.versions if position + 1 < len(runs) else versions  # type: ignore[union-attr]
        stale = version_diff(newest, versions)
        marked[index] = replace(
            tick,
            stale_versions=None if stale is None else f"made by other versions than the newest run ({stale})",
            version_change=version_diff(versions, older),
        )
    return marked


class NoScheduledRuns(LookupError):
    """The definition has no scheduled run at or before the time asked about."""


def tick_label(spec: Spec, tick: datetime) -> str:
    """A daily tick is named by its local day; an interval tick by its local time as well."""
    if isinstance(spec, DailySchedule):
        return spec.local_date(tick).isoformat()
    return tick.astimezone(ZoneInfo(spec.time_zone)).strftime("%Y-%m-%d %H:%M:%S")


def newest_tick_day(spec: Spec, now: datetime) -> date:
    """The local day of the last tick at or before ``now``."""
    return spec.local_date(spec.latest_tick(now))


def required_pieces(definition: DefinitionBase) -> frozenset[Piece]:
    """The evidence a run of this definition's kind must leave: Temporal's, plus what the kind declares."""
    declared = KINDS[definition.kind].evidence
    wanted = {Declared.ROW: Piece.ROW, Declared.PROGRESS_EVENT: Piece.PROGRESS, Declared.NOTE: Piece.NOTE}
    return frozenset({Piece.TEMPORAL, *(piece for evidence, piece in wanted.items() if evidence in declared)})


def is_pending(tick: datetime, run: RunRecord | None, spec: Spec, now: datetime, fired: Fired = Fired.UNKNOWN) -> bool:
    """Whether the tick's scheduled run may still be going or about to be recorded.

    A run may take up to its execution timeout. A tick without a row may still start on time
    (within the on-time bound); after that it is decided as soon as Temporal says it started
    no workflow for it, or one that closed; only while Temporal cannot tell does it wait for
    the execution timeout (a worker that is down records its runs when it is back).
    """
    age = now - tick
    within_timeout = age < timedelta(seconds=spec.execution_timeout_seconds)
    if run is not None:
        return run.status == "running" and within_timeout
    if age < timedelta(seconds=spec.on_time_seconds):
        return True
    return within_timeout and fired in (Fired.OPEN, Fired.UNKNOWN)


def runs_by_tick(rows: list[RunRecord]) -> dict[datetime, RunRecord]:
    """The run of each tick: its scheduled run, else its late one (a catch-up or a backfill);
    of several (a reset workflow), the newest row, as rows come newest first."""
    by_tick: dict[datetime, RunRecord] = {}
    for row in rows:
        if row.tick_at is None or row.trigger not in ("schedule", "late"):
            continue
        kept = by_tick.get(row.tick_at)
        if kept is None or (kept.trigger == "late" and row.trigger == "schedule"):
            by_tick[row.tick_at] = row
    return by_tick


def describe_lag(seconds: float | None) -> str:
    if seconds is None:
        return "an unknown time"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


async def calibration_status(
    history: HistoryStore,
    feedback: FeedbackStore,
    temporal: Client | Unreachable,
    state_hub: StateHubClient,
    definition: DefinitionBase,
    *,
    required: int = DEFAULT_REQUIRED,
    window: int = DEFAULT_WINDOW,
    now: datetime,
) -> GateReport:
    """Walk the last ``window`` ticks back from ``now`` and evaluate the gate.

    Raises ``NoScheduledRuns`` when there is nothing to walk. Unreachable systems do not
    raise: their evidence comes back ``unknown``.
    """
    gathered = await gather_ticks(
        history, feedback, temporal, state_hub, definition, walk=max(required, window), now=now
    )
    report = evaluate(
        definition.id,
        gathered.ticks,
        required=required,
        now=now,
        reached_history_start=gathered.reached_history_start,
        schedule=gathered.schedule,
    )
    return replace(report, figures=tuple(window_figures(definition, report, gathered.runs)))


def window_figures(definition: DefinitionBase, report: GateReport, runs: Mapping[datetime, RunRecord]) -> list[Figure]:
    """The gate's figures over the report's decided ticks, then the kind's over their on-time runs."""
    decided = [tick for tick in report.ticks if not tick.pending]
    on_time = [runs[t.tick] for t in reversed(decided) if t.run is not None and not t.run.late]
    figures = gate_figures(
        decided=len(decided),
        clean=sum(1 for tick in decided if tick.counted),
        lags=[run.start_lag_seconds for run in on_time if run.start_lag_seconds is not None],
        missed=sum(1 for tick in decided if tick.run is None or tick.run.late),
    )
    kind_figures = KINDS[definition.kind].figures
    return figures + list(kind_figures(definition, on_time) if kind_figures else [])


@dataclass(frozen=True)
class Gathered:
    ticks: list[TickEvidence]
    """Newest first."""
    reached_history_start: bool
    schedule: ScheduleStatus
    runs: dict[datetime, RunRecord]
    """The run of each tick that has one."""


@dataclass(frozen=True)
class ScheduleWindow:
    """The last ticks at or before a moment, newest first, and the scheduled run of each tick
    that has one: everything the gate and the report read from the database about a window."""

    ticks: list[datetime]
    runs: dict[datetime, RunRecord]
    first_tick: datetime | None
    """The definition's first scheduled run's tick: no tick before it can have been missed."""


async def schedule_window(
    history: HistoryStore, definition: DefinitionBase, *, count: int, now: datetime
) -> ScheduleWindow:
    spec = definition.schedule
    ticks = spec.ticks_back(spec.latest_tick(now), count)
    first = await history.first_scheduled_at(definition.id)
    rows = await history.tick_runs_between(definition.id, ticks[-1], ticks[0])
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
) -> Gathered:
    """The last ``walk`` ticks at or before ``now`` (none before the first scheduled run),
    each with the evidence of its run, newest first; whether the first run was reached; and
    the schedule as Temporal describes it now."""
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

    runless = [tick for tick in ticks if tick not in window.runs]
    schedule = await schedule_status(temporal, definition.id)
    answers = await asyncio.gather(*(fired(temporal, definition.id, t) for t in runless))
    fires = dict(zip(runless, answers, strict=True))
    started = await history.runs_started_between(
        definition.id, ticks[-1] - timedelta(seconds=spec.execution_timeout_seconds), ticks[0]
    )

    def pending(tick: datetime) -> bool:
        return is_pending(tick, window.runs.get(tick), spec, now, fires.get(tick, (Fired.UNKNOWN, ""))[0])

    def miss(tick: datetime) -> tuple[Happened, str] | None:
        if tick in window.runs or pending(tick):
            return None
        busy = running_at(tick, started)
        return why_missed(fires[tick], tick=tick, schedule=schedule, overlap=spec.overlap, busy=busy)

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
                label=tick_label(spec, tick),
                miss=miss(tick),
            )
        )
    return Gathered(gathered, window.ticks[-1] <= first_tick, schedule, window.runs)


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
            Piece.PROGRESS: _found(
                events, run.progress_event_id, "progress event", "the row recorded no progress event id"
            ),
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
        return Evidence(
            Check.UNKNOWN, f"Temporal could not be asked: {exc.status.name if exc.status else ''} {exc}".strip()
        )
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
