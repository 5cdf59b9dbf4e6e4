"""Frozen: what ``InstructionWorkflow`` (superseded by ``InstructionRun``) and its activities
hand each other. Field names are the JSON in its histories: never change them; this module
goes with the workflow (see docs/adr/adr-007-deploying-workflow-changes.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

WORKFLOW_NAME = "InstructionWorkflow"


@dataclass(frozen=True)
class InstructionInput:
    """The workflow's one argument; the same JSON operators pass to ``temporal workflow start``."""

    definition_id: str


@dataclass(frozen=True)
class RunPlan:
    """The slice of a definition the workflow needs to orchestrate (it cannot read files)."""

    definition_id: str
    call_timeout_seconds: int
    heartbeat_timeout_seconds: int
    max_attempts: int
    retry_initial_seconds: float
    retry_total_seconds: int
    reask_on_failed_output: int
    state_hub_retry_total_seconds: int


@dataclass(frozen=True)
class RunStartedInput:
    definition_id: str
    workflow_id: str
    run_id: str
    started_at: datetime
    scheduled_at: datetime | None


@dataclass(frozen=True)
class RunIdentity:
    """How the run was fired and which local day it belongs to, decided once and recorded."""

    trigger: str
    local_date: str
    scheduled_at: datetime | None


@dataclass(frozen=True)
class ReadContextInput:
    definition_id: str


@dataclass(frozen=True)
class PlanningContext:
    prompt_context: str
    known_refs: list[str]
    workstreams_total: int
    tasks_total: int
    workstreams_in_prompt: int
    tasks_in_prompt: int


@dataclass(frozen=True)
class CallLlmInput:
    definition_id: str
    workflow_id: str
    run_id: str
    local_date: str
    prompt_context: str
    reask_feedback: str | None = None


@dataclass(frozen=True)
class LlmCall:
    content: str
    finish_reason: str | None
    model: str | None
    provider: str | None
    usage: dict[str, Any] | None
    latency_ms: int
    attempts: int


@dataclass(frozen=True)
class BoundaryInput:
    definition_id: str
    content: str
    finish_reason: str | None
    known_refs: list[str]


@dataclass(frozen=True)
class RunOutcome:
    """Everything the evidence and the finished row are written from."""

    definition_id: str
    workflow_id: str
    run_id: str
    trigger: str
    local_date: str
    status: str
    error_message: str | None = None
    boundary: dict[str, Any] | None = None
    llm: LlmCall | None = None
    reasks: int = 0
    llm_attempts_failed: int | None = None
    timings: dict[str, float] = field(default_factory=dict)
    known_refs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EvidenceIds:
    progress_event_id: str | None
    note_id: str | None
    note_key: str | None


@dataclass(frozen=True)
class RecordFinishedInput:
    outcome: RunOutcome
    finished_at: datetime
    evidence: EvidenceIds


@dataclass(frozen=True)
class RunSummary:
    """The workflow's result: what an operator reads first in ``temporal workflow show``."""

    definition_id: str
    status: str
    trigger: str
    local_date: str
    items_kept: int
    items_quarantined: int
    error_message: str | None
    progress_event_id: str | None
    note_id: str | None
