"""Failure classes across the activity boundary: raised in activities, read in workflows.

An activity turns every client failure into an ``ApplicationError`` whose ``type`` is the
run's failure class, so the workflow (and an operator reading the history) sees at once
whether State Hub, the network, the provider, the configuration or the model's output failed.
``retryable`` decides which failures are final; the retry policy does the rest.
"""

from __future__ import annotations

from temporalio import activity
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

from activity_core.runs.models import RunStatus


def step_failure(status: RunStatus, message: str, *, retryable: bool) -> ApplicationError:
    """Raise from an activity: the run's failure class, a sanitized message, the attempt."""
    return ApplicationError(
        message, {"attempt": activity.info().attempt}, type=status.value, non_retryable=not retryable
    )


class StepFailed(Exception):
    """A step's final failure, as the workflow decides the run's status from it."""

    def __init__(self, status: RunStatus, message: str, attempts: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.attempts = attempts


def read_failure(error: ActivityError, *, timeout_status: RunStatus) -> StepFailed:
    """Map an activity's final failure to the run's failure class and a sanitized message.

    When the retry budget runs out, Temporal reports a timeout whose cause is the last
    attempt's failure: that failure, not the budget, is what the operator needs to read.
    """
    cause = error.cause
    budget_spent = ""
    if isinstance(cause, TimeoutError) and isinstance(cause.cause, ApplicationError):
        budget_spent = f" (gave up: {_kind(cause)} budget spent)"
        cause = cause.cause
    if isinstance(cause, ApplicationError) and cause.type:
        try:
            status = RunStatus(cause.type)
        except ValueError:
            status = timeout_status
        details = cause.details[0] if cause.details else {}
        attempts = details.get("attempt") if isinstance(details, dict) else None
        return StepFailed(status, cause.message + budget_spent, attempts)
    if isinstance(cause, TimeoutError):
        return StepFailed(timeout_status, f"{error.activity_type} timed out ({_kind(cause)})")
    return StepFailed(timeout_status, f"{error.activity_type} failed: {cause or error}")


def _kind(timeout: TimeoutError) -> str:
    return timeout.type.name.lower() if timeout.type else "timeout"
