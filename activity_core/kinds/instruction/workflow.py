"""The instruction kind's workflow: the generic lifecycle around plan, read, ask, judge and,
when the definition declares tasks, emit them.

Deterministic orchestration only (every effect is an activity). A failed answer is asked
once more with the boundary's feedback when the definition allows it; every other failure
ends the steps with its failure class, and the lifecycle still writes the row and evidence.
Task emission comes after the report is kept and never changes the run's status: a spec
that failed is counted in the row, and the calibration gate reads it there.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TypeVar

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.instruction.activities import InstructionActivities as steps
    from activity_core.kinds.instruction.models import (
        Answer,
        AskInput,
        InstructionPlan,
        JudgeInput,
        Judgement,
        TaskEmission,
    )
    from activity_core.runs.failures import StepFailed, read_failure
    from activity_core.runs.lifecycle import run_lifecycle
    from activity_core.runs.models import KindOutcome, RunIdentity, RunInput, RunRef, RunStatus, RunSummary
    from activity_core.temporal.policies import BOOKKEEPING, StepPolicy, service_call, task_emission

WORKFLOW_NAME = "InstructionRun"
# ADR-007: runs recorded before task emission existed replay without the step.
EMIT_TASKS_PATCH = "emit-tasks"
T = TypeVar("T")


@workflow.defn(name=WORKFLOW_NAME)
class InstructionRun:
    @workflow.run
    async def run(self, request: RunInput) -> RunSummary:
        return await run_lifecycle(request, kind="instruction", steps=_Steps().run)


@dataclass
class _Steps:
    """One run's steps; ``timings`` collects how long each call took (into the row)."""

    timings: dict[str, float] = field(default_factory=dict)

    async def run(self, run: RunRef, identity: RunIdentity) -> KindOutcome:
        try:
            plan: InstructionPlan = await workflow.execute_activity_method(
                steps.plan_instruction, run, **BOOKKEEPING.options()
            )
            await self._timed(
                "read_context_s",
                workflow.execute_activity_method(steps.read_planning_context, run, **_state_hub(plan).options()),
                timeout_status=RunStatus.FAILED_STATE_HUB,
            )
            judgement = await self._ask(plan, run, identity, ask=1)
            if judgement.status == "failed" and plan.reask_on_failed_output > 0:
                judgement = await self._ask(plan, run, identity, ask=2)
        except StepFailed as failed:
            return KindOutcome(status=failed.status.value, error_message=failed.message, timings=self.timings)
        detail = f"{judgement.kept} item(s) kept, {judgement.quarantined} quarantined"
        if judgement.status == "failed":
            message = "no item survived the boundary; see the quarantined items"
            return KindOutcome(RunStatus.FAILED_OUTPUT.value, message, detail, self.timings)
        if plan.emits_tasks and workflow.patched(EMIT_TASKS_PATCH):
            detail = f"{detail}; {await self._emit_tasks(plan, run)}"
        return KindOutcome(status=judgement.status, detail=detail, timings=self.timings)

    async def _emit_tasks(self, plan: InstructionPlan, run: RunRef) -> str:
        """The emission's one-line account; its failure is told, never the run's status."""
        mark = workflow.time()
        try:
            emission: TaskEmission = await workflow.execute_activity_method(
                steps.emit_tasks, run, **task_emission(plan.task_retry_initial_seconds).options()
            )
            return emission.describe()
        except ActivityError as error:
            # Only its message counts: whatever failed here, the run keeps its report's status.
            message = read_failure(error, timeout_status=RunStatus.FAILED_CONFIG).message
            workflow.logger.warning("task emission failed: %s", message)
            return f"tasks: emission failed ({message})"
        finally:
            self.timings["tasks_s"] = round(workflow.time() - mark, 3)

    async def _ask(self, plan: InstructionPlan, run: RunRef, identity: RunIdentity, *, ask: int) -> Judgement:
        policy = service_call(
            plan.llm_call_seconds,
            retry_total_seconds=plan.retry_total_seconds,
            retry_initial_seconds=plan.retry_initial_seconds,
            max_attempts=plan.max_attempts,
            heartbeat_seconds=plan.heartbeat_timeout_seconds,
        )
        answer: Answer = await self._timed(
            "llm_s" if ask == 1 else "reask_llm_s",
            workflow.execute_activity_method(
                steps.ask_model, AskInput(run=run, local_date=identity.local_date, ask=ask), **policy.options()
            ),
            timeout_status=RunStatus.FAILED_LLM_TIMEOUT,
        )
        return await workflow.execute_activity_method(
            steps.judge_answer, JudgeInput(run=run, answer=answer, ask=ask), **BOOKKEEPING.options()
        )

    async def _timed(self, name: str, step: Awaitable[T], *, timeout_status: RunStatus) -> T:
        # No workflow call in a ``finally``: a worker shutting down closes this coroutine, and
        # the sandbox then refuses them (an "Exception ignored" traceback on every Ctrl-C).
        mark = workflow.time()
        try:
            result = await step
        except ActivityError as error:
            self.timings[name] = round(workflow.time() - mark, 3)
            raise read_failure(error, timeout_status=timeout_status) from None
        self.timings[name] = round(workflow.time() - mark, 3)
        return result


def _state_hub(plan: InstructionPlan) -> StepPolicy:
    return service_call(
        plan.state_hub_call_seconds,
        retry_total_seconds=plan.state_hub_retry_total_seconds,
        retry_initial_seconds=plan.retry_initial_seconds,
    )
