"""From a pass of the command to the run's status and its ``scheduled_trigger`` evidence. Pure.

Runs inside the workflow (deterministic, stdlib only). Exit codes follow ops-warden's
contract (../shared/contracts/ops-warden.md): 0 the pass completed, 2 a refusal or usage
error, anything else a failure; each is named as the command's failure, never as
activity-core's.
"""

from __future__ import annotations

from typing import Any

from activity_core.kinds.trigger.models import (
    CommandPass,
    PassOutcome,
    TriggerOutcome,
    TriggerPlan,
    TriggerStatus,
)
from activity_core.runs.models import RunStatus

# A judged pass's status, or the one the lifecycle's loading of the plan failed with.
Status = TriggerStatus | RunStatus

REFUSAL_EXIT = 2
STDERR_TAIL_CHARS = 1024
_LAST_WORDS_CHARS = 200
_SUMMARY_CHARS = 1000


def outcome_of(plan: TriggerPlan, command_pass: CommandPass) -> TriggerOutcome:
    status, message = _judge(plan, command_pass)
    return _outcome(plan, status, message, command_pass)


def refused_in_flight(plan: TriggerPlan, pass_workflow_id: str) -> TriggerOutcome:
    message = (
        f"another pass of {plan.definition_id} is in flight (workflow {pass_workflow_id}); "
        "this run did not start the command"
    )
    return _outcome(plan, TriggerStatus.FAILED_PASS_IN_FLIGHT, message, None, pass_workflow_id=pass_workflow_id)


def _judge(plan: TriggerPlan, command_pass: CommandPass) -> tuple[TriggerStatus, str | None]:
    outcome = PassOutcome(command_pass.outcome)
    code = command_pass.exit_code
    if outcome is PassOutcome.TIMED_OUT:
        return TriggerStatus.FAILED_COMMAND_TIMEOUT, (
            f"the command ran past its {plan.time_budget_seconds} s budget; its process group was stopped"
        )
    if outcome is PassOutcome.REFUSED_BY_WORKER:
        return TriggerStatus.FAILED_CONFIG, f"the command worker refused the pass: {command_pass.detail}"
    if outcome is PassOutcome.UNKNOWN:
        return TriggerStatus.FAILED_COMMAND_UNKNOWN, f"outcome unknown: {command_pass.detail}"
    if outcome is PassOutcome.NOT_STARTED:
        return TriggerStatus.FAILED_COMMAND_UNREACHABLE, command_pass.detail
    if code == 0:
        if command_pass.audit is None:
            return TriggerStatus.PARTIAL, "the command exited 0 without a JSON audit summary as its last stdout line"
        failed = command_pass.audit.get("failed")
        if isinstance(failed, int) and not isinstance(failed, bool) and failed > 0:
            return TriggerStatus.PARTIAL, f"the command's audit summary counts {failed} failed action(s)"
        return TriggerStatus.CLEAN, None
    last_words = _last_line(command_pass)
    if code == REFUSAL_EXIT:
        return TriggerStatus.FAILED_COMMAND_REFUSED, f"the command refused the pass (exit 2){last_words}"
    if code is not None and code < 0:
        return TriggerStatus.FAILED_COMMAND_ERROR, f"the command was killed by signal {-code}{last_words}"
    return TriggerStatus.FAILED_COMMAND_ERROR, f"the command failed (exit {code}){last_words}"


def _last_line(command_pass: CommandPass) -> str:
    text = command_pass.stderr.text if command_pass.stderr else ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f": {lines[-1][:_LAST_WORDS_CHARS]}" if lines else ""


def _outcome(
    plan: TriggerPlan,
    status: Status,
    message: str | None,
    command_pass: CommandPass | None,
    *,
    pass_workflow_id: str | None = None,
) -> TriggerOutcome:
    summary, payload = evidence_of(plan, status, message, command_pass, pass_workflow_id=pass_workflow_id)
    return TriggerOutcome(
        status=status.value, error_message=message, summary=summary, payload=payload, result=command_pass
    )


def evidence_of(
    plan: TriggerPlan,
    status: Status,
    message: str | None,
    command_pass: CommandPass | None,
    *,
    pass_workflow_id: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """The ``scheduled_trigger`` event's summary line and payload of a judged pass."""
    return _summary(plan, status, message, command_pass), _payload(
        plan, status, message, command_pass, pass_workflow_id
    )


def _summary(plan: TriggerPlan, status: Status, message: str | None, command_pass: CommandPass | None) -> str:
    head = f"{plan.definition_id} ({plan.mode}): {status.value}"
    if command_pass is not None and command_pass.exit_code is not None:
        head += f", exit {command_pass.exit_code}"
    if command_pass is not None and command_pass.audit:
        counts = ", ".join(f"{key} {value}" for key, value in command_pass.audit.items() if _is_scalar(value))
        head += f"; audit: {counts}" if counts else ""
    return _bounded(f"{head}: {message}" if message else head)


def _payload(
    plan: TriggerPlan,
    status: Status,
    message: str | None,
    command_pass: CommandPass | None,
    pass_workflow_id: str | None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "definition_id": plan.definition_id,
        "status": status.value,
        "failure_class": status.value if status.failed else None,
        "error_message": message,
        "mode": plan.mode,
        "argv": list(plan.argv),
        "task_queue": plan.task_queue,
        "pass_workflow_id": pass_workflow_id,
    }
    if command_pass is None:
        return payload
    stderr = command_pass.stderr.text if command_pass.stderr else ""
    payload.update(
        outcome=command_pass.outcome,
        pass_workflow_id=command_pass.pass_workflow_id,
        attempt=command_pass.attempt,
        exit_code=command_pass.exit_code,
        audit=command_pass.audit,
        duration_ms=command_pass.duration_ms,
        killed_process_group=command_pass.killed_process_group,
        redactions=command_pass.redactions,
        stdout_bytes=command_pass.stdout.total_bytes if command_pass.stdout else 0,
        stderr_bytes=command_pass.stderr.total_bytes if command_pass.stderr else 0,
        stderr_tail=stderr[-STDERR_TAIL_CHARS:],
        detail=command_pass.detail,
    )
    return payload


def _is_scalar(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool)) or value is None


def _bounded(text: str) -> str:
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 3] + "..."
