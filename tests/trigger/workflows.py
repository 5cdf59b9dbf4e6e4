"""The tests' own workflow: ``RetryingExecuteWorkflow`` is deliberately misconfigured: it dispatches an execute pass
with retries, to prove the command worker's own guard refuses a second attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.trigger.models import (
        RUN_COMMAND_ACTIVITY,
        CommandPass,
        CommandRequest,
    )


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
