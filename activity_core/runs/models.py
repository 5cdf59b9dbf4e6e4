"""What a run's lifecycle and its kind's steps hand each other, whatever the kind.

Plain dataclasses (stdlib only) so the workflow sandbox imports them cheaply and Temporal's
default converter stores them as JSON in the history. One input type per activity. Nothing
here carries model output or a prompt: those stay in PostgreSQL, keyed by the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """The outcome of a run: clean or partial, or the one failure class that says what failed.

    One closed set for every kind (the table's CHECK constraint repeats it); each kind uses
    the classes that apply to it.
    """

    RUNNING = "running"
    CLEAN = "clean"
    PARTIAL = "partial"
    FAILED_OUTPUT = "failed_output"
    FAILED_LLM_TRANSPORT = "failed_llm_transport"
    FAILED_LLM_TIMEOUT = "failed_llm_timeout"
    FAILED_LLM_PROVIDER = "failed_llm_provider"
    FAILED_CONFIG = "failed_config"
    FAILED_STATE_HUB = "failed_state_hub"
    # The trigger kind's: failures of the command it runs (or of its command worker), never of activity-core.
    FAILED_COMMAND_REFUSED = "failed_command_refused"
    FAILED_COMMAND_ERROR = "failed_command_error"
    FAILED_COMMAND_TIMEOUT = "failed_command_timeout"
    FAILED_COMMAND_UNKNOWN = "failed_command_unknown"
    FAILED_COMMAND_UNREACHABLE = "failed_command_unreachable"
    FAILED_PASS_IN_FLIGHT = "failed_pass_in_flight"

    @property
    def failed(self) -> bool:
        return self.value.startswith("failed_")


class Trigger(StrEnum):
    """How a run was fired. Only ``schedule`` runs count for calibration."""

    SCHEDULE = "schedule"
    """A schedule action for one of the spec's ticks, started within the on-time bound."""
    LATE = "late"
    """A schedule action for a tick, started later: a catch-up after an outage, or a backfill."""
    TRIGGER = "trigger"
    """``temporal schedule trigger``: the schedule's action, started off its spec."""
    MANUAL = "manual"
    """A workflow started directly (``temporal workflow start``, ``activity-core run``)."""


class Evidence(StrEnum):
    """What a run of a kind leaves behind; the calibration gate checks exactly these."""

    ROW = "row"
    PROGRESS_EVENT = "progress_event"
    NOTE = "note"


@dataclass(frozen=True)
class RunInput:
    """Every kind's workflow argument; the same JSON operators pass to ``temporal workflow start``."""

    definition_id: str


@dataclass(frozen=True)
class RunRef:
    """Which run an activity works for: the row's key (one row per Temporal run)."""

    definition_id: str
    workflow_id: str
    run_id: str


@dataclass(frozen=True)
class StartRunInput:
    run: RunRef
    kind: str
    started_at: datetime
    scheduled_at: datetime | None
    """``TemporalScheduledStartTime``: set by schedule actions, triggers and backfills alike."""
    scheduled_by: str | None
    """``TemporalScheduledById``: the schedule that started the run, if any."""


@dataclass(frozen=True)
class RunIdentity:
    """How the run was fired and which local day it belongs to, decided once and recorded."""

    trigger: str
    local_date: str
    tick_at: datetime | None
    start_lag_seconds: float | None


@dataclass(frozen=True)
class EvidencePlan:
    """The slice of a definition the lifecycle needs to post its evidence."""

    state_hub_call_seconds: float
    state_hub_retry_total_seconds: int
    retry_initial_seconds: float
    writes_note: bool


@dataclass(frozen=True)
class RunStart:
    """The started row, or why the run cannot run (its row then says ``failed_config``)."""

    identity: RunIdentity
    evidence: EvidencePlan | None
    refusal: str | None = None


@dataclass(frozen=True)
class KindOutcome:
    """What a kind's steps return: the status and, when failed, what failed in one line."""

    status: str
    error_message: str | None = None
    detail: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    """The kind's typed result (its own dataclass, dumped), kept in ``activity_runs.result``.

    Only kinds whose result is small and not in the row otherwise use it (the instruction kind
    keeps its report in the row's own columns and leaves this None)."""


@dataclass(frozen=True)
class EvidenceInput:
    run: RunRef
    identity: RunIdentity
    outcome: KindOutcome
    recorded: bool = True
    """False when the kind posts its evidence before its row is recorded (``record_after_evidence``)."""


@dataclass(frozen=True)
class EvidenceIds:
    progress_event_id: str | None
    note_id: str | None
    note_key: str | None


@dataclass(frozen=True)
class FinishRunInput:
    run: RunRef
    outcome: KindOutcome
    finished_at: datetime
    progress_event_id: str | None = None
    """The event posted before the row existed (``record_after_evidence``), stored with the outcome."""


@dataclass(frozen=True)
class RunSummary:
    """The workflow's result: what an operator reads first in ``temporal workflow show``."""

    definition_id: str
    status: str
    trigger: str
    local_date: str
    error_message: str | None
    progress_event_id: str | None
    note_id: str | None
    detail: str | None = None
    """The kind's one-line account of what the run produced (items kept, exit code, targets up)."""
