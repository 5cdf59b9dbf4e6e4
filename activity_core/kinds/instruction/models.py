"""What the instruction kind's workflow and activities hand each other.

No prompt, planning context or model answer crosses here: they stay in PostgreSQL with the
run (``run_artifacts``), and only their sizes and digests travel through Temporal history.
"""

from __future__ import annotations

from dataclasses import dataclass

from activity_core.runs.models import RunRef


@dataclass(frozen=True)
class InstructionPlan:
    """The slice of an instruction definition the workflow needs to orchestrate."""

    llm_call_seconds: float
    heartbeat_timeout_seconds: int
    max_attempts: int
    retry_initial_seconds: float
    retry_total_seconds: int
    reask_on_failed_output: int
    state_hub_call_seconds: float
    state_hub_retry_total_seconds: int
    emits_tasks: bool = False
    """The definition declares a ``tasks`` block (False in the histories of runs planned before it existed)."""
    task_retry_initial_seconds: float = 2.0


@dataclass(frozen=True)
class PlanningContext:
    """How much of State Hub's planning state the run read, and how much went into the prompt."""

    workstreams_total: int
    tasks_total: int
    workstreams_in_prompt: int
    tasks_in_prompt: int


@dataclass(frozen=True)
class AskInput:
    run: RunRef
    local_date: str
    ask: int
    """1 for the first ask, 2 for the re-ask with the boundary's feedback."""


@dataclass(frozen=True)
class Answer:
    """Where the run's answer is kept (``run_artifacts``), and what it is."""

    artifact: str
    sha256: str
    bytes: int
    finish_reason: str | None
    attempts: int


@dataclass(frozen=True)
class JudgeInput:
    run: RunRef
    answer: Answer
    ask: int


@dataclass(frozen=True)
class Judgement:
    """The boundary's verdict on an answer; the report itself is in the row."""

    status: str
    """clean, partial or failed (no item survived)."""
    kept: int
    quarantined: int


@dataclass(frozen=True)
class TaskEmission:
    """What a run's task emission came to, in counts; the references are in the row
    (``activity_runs.result``) and in ``task_spawn_log``."""

    sink: str
    """The sink used: the definition's, lowered to ISSUE_SINK_TYPE."""
    planned: int = 0
    dry_run: int = 0
    created: int = 0
    duplicate: int = 0
    commented: int = 0
    unknown: int = 0
    failed: int = 0
    not_emitted: int = 0
    pending: int = 0
    """Specs the sink still owes work: left unsettled when the last attempt ran out."""

    def describe(self) -> str:
        counted = [
            f"{n} {state}"
            for state, n in (
                ("planned", self.planned), ("dry_run", self.dry_run), ("created", self.created),
                ("duplicate", self.duplicate), ("commented", self.commented), ("unknown", self.unknown),
                ("failed", self.failed), ("not_emitted", self.not_emitted),
            )
            if n
        ]  # fmt: skip
        unsettled = f", {self.pending} unsettled" if self.pending else ""
        return f"tasks ({self.sink}): {', '.join(counted) or 'none'}{unsettled}"
