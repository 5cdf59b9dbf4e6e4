"""Provisional workflows for the tests: a kind's ``steps`` plus the progress event, the part of
the generic run lifecycle these tests need until the integrator's lands.

``RetryingExecuteWorkflow`` is deliberately misconfigured: it dispatches an execute pass
with retries, to prove the command worker's own guard refuses a second attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.trigger.models import (
        PROGRESS_EVENT_TYPE,
        RUN_COMMAND_ACTIVITY,
        CommandPass,
        CommandRequest,
        TriggerOutcome,
    )
    from activity_core.kinds.trigger.workflow import steps
    from tests.trigger.provisional import POST_PROGRESS_ACTIVITY, ProgressInput


async def post_progress(event_type: str, summary: str, payload: dict) -> str:
    return await workflow.execute_activity(
        POST_PROGRESS_ACTIVITY,
        ProgressInput(event_type, summary, payload, idempotency_key=workflow.info().workflow_id),
        result_type=str,
        start_to_close_timeout=timedelta(seconds=15),
    )


@workflow.defn(name="ProvisionalTriggerWorkflow")
class ProvisionalTriggerWorkflow:
    @workflow.run
    async def run(self, definition_id: str) -> TriggerOutcome:
        outcome = await steps(definition_id)
        await post_progress(PROGRESS_EVENT_TYPE, outcome.summary, outcome.payload)
        return outcome


@dataclass(frozen=True)
class RetryingExecuteInput:
    request: CommandRequest
    task_queue: str
    heartbeat_seconds: float


@workflow.defn(name="RetryingExecuteWorkflow")
class RetryingExecuteWorkflow:
    @workflow.run
    async def run(self, given: RetryingExecuteInput) -> CommandPass:
        return await workflow.execute_activity(
            RUN_COMMAND_ACTIVITY,
            given.request,
            result_type=CommandPass,
            task_queue=given.task_queue,
            start_to_close_timeout=timedelta(seconds=120),
            heartbeat_timeout=timedelta(seconds=given.heartbeat_seconds),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(milliseconds=200)),
        )
