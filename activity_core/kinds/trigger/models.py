"""What the trigger's workflows and activities hand each other, and what a run records.

Plain dataclasses (stdlib only): the workflow sandbox imports them cheaply and Temporal's
default converter stores them as JSON. Every text here has already been bounded and
redacted on the command's side; nothing in these types ever carries a secret value.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

PASS_WORKFLOW_NAME = "TriggerPassWorkflow"
RUN_COMMAND_ACTIVITY = "trigger.run_command"
LOAD_PLAN_ACTIVITY = "trigger.load_plan"
PROGRESS_EVENT_TYPE = "scheduled_trigger"


class TriggerStatus(StrEnum):
    """How a trigger run ends. The ``failed_command_*`` classes are the command's own
    failures (or the command worker's), never activity-core's."""

    CLEAN = "clean"
    PARTIAL = "partial"  # exit 0, but no audit line, or the audit counts failed actions
    FAILED_COMMAND_REFUSED = "failed_command_refused"  # exit 2: the command refused (or a usage error)
    FAILED_COMMAND_ERROR = "failed_command_error"  # exit 1 or any other non-zero exit, or a signal
    FAILED_COMMAND_TIMEOUT = "failed_command_timeout"  # ran past its time budget; its process group was killed
    FAILED_COMMAND_UNKNOWN = "failed_command_unknown"  # may have run, outcome unknown; never run again
    FAILED_COMMAND_UNREACHABLE = "failed_command_unreachable"  # no command worker took it: never started
    FAILED_PASS_IN_FLIGHT = "failed_pass_in_flight"  # another pass of this definition was running: not run
    FAILED_CONFIG = "failed_config"  # the definition, or the command worker refused the argv

    @property
    def failed(self) -> bool:
        return self.value.startswith("failed_")


class PassOutcome(StrEnum):
    """What happened to the command itself."""

    EXITED = "exited"
    TIMED_OUT = "timed_out"
    REFUSED_BY_WORKER = "refused_by_worker"  # allow-list, dry-run-only worker, or not installed there
    UNKNOWN = "unknown"  # an earlier attempt may have started it
    NOT_STARTED = "not_started"


@dataclass(frozen=True)
class TriggerPlan:
    """The slice of a trigger definition the workflows need (they cannot read files)."""

    definition_id: str
    argv: list[str]  # with the mode's flag
    mode: str
    task_queue: str
    time_budget_seconds: int
    kill_grace_seconds: int
    heartbeat_timeout_seconds: int
    start_within_seconds: int
    dry_run_max_attempts: int
    pass_timeout_seconds: int


@dataclass(frozen=True)
class CommandRequest:
    """The command activity's one input, as the command worker receives it."""

    definition_id: str
    run_workflow_id: str
    argv: list[str]
    mode: str
    time_budget_seconds: float
    kill_grace_seconds: float


@dataclass(frozen=True)
class StreamCapture:
    """One output stream, bounded and redacted: ``text`` is its head and tail with a marker
    line where ``cut_bytes`` were dropped from the middle."""

    text: str
    total_bytes: int
    cut_bytes: int


@dataclass(frozen=True)
class CommandPass:
    """One pass of the command: the typed result a trigger run records on its row."""

    outcome: str  # PassOutcome
    mode: str
    argv: list[str]
    attempt: int
    exit_code: int | None = None  # negative: killed by that signal
    audit: dict[str, Any] | None = None  # the parsed last stdout line, when it is a JSON object
    stdout: StreamCapture | None = None
    stderr: StreamCapture | None = None
    duration_ms: int | None = None
    killed_process_group: bool = False  # members of its process group had to be killed
    redactions: int = 0  # secret values blanked out of its output
    detail: str | None = None  # why it was refused or is unknown
    pass_workflow_id: str | None = None


@dataclass(frozen=True)
class TriggerOutcome:
    """What ``steps`` hands the run lifecycle: the status, the row's typed result and the
    ``scheduled_trigger`` progress event's summary and payload."""

    status: str  # TriggerStatus
    error_message: str | None
    summary: str
    payload: dict[str, Any]
    result: CommandPass | None
