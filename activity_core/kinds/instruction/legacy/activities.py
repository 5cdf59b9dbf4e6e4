"""Frozen activity names of ``InstructionWorkflow``, served by today's code for one release.

A run of the superseded workflow that is in flight at a deploy resumes on the new worker and
calls these names with these inputs; each adapts to the current steps and store, keyed per
Temporal run like ``InstructionRun``'s own. Goes with the frozen workflow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity

from activity_core.boundary import parse_report
from activity_core.clients.state_hub import StateHubError
from activity_core.kinds.instruction.activities import InstructionActivities
from activity_core.kinds.instruction.item_models import report_spec
from activity_core.kinds.instruction.legacy.models import (
    BoundaryInput,
    CallLlmInput,
    EvidenceIds,
    LlmCall,
    PlanningContext,
    ReadContextInput,
    RecordFinishedInput,
    RunIdentity,
    RunOutcome,
    RunPlan,
    RunStartedInput,
)
from activity_core.kinds.instruction.prompting import bound_context
from activity_core.runs.activities import LifecycleActivities
from activity_core.runs.failures import step_failure
from activity_core.runs.models import EvidenceInput, FinishRunInput, KindOutcome, RunRef, RunStatus, StartRunInput
from activity_core.runs.models import RunIdentity as CurrentIdentity
from activity_core.store.models import LlmCallRecord, RunReport


def _ref(definition_id: str, workflow_id: str, run_id: str) -> RunRef:
    return RunRef(definition_id=definition_id, workflow_id=workflow_id, run_id=run_id)


class TriageActivities:
    def __init__(self, steps: InstructionActivities, lifecycle: LifecycleActivities) -> None:
        self._steps = steps
        self._lifecycle = lifecycle
        self._runs = steps.services.runs

    @activity.defn
    async def load_run_plan(self, definition_id: str) -> RunPlan:
        definition, _ = self._steps.loaded(definition_id)
        return RunPlan(
            definition_id=definition.id,
            call_timeout_seconds=definition.llm.call_timeout_seconds,
            heartbeat_timeout_seconds=definition.llm.heartbeat_timeout_seconds,
            max_attempts=definition.llm.max_attempts,
            retry_initial_seconds=definition.llm.retry_initial_seconds,
            retry_total_seconds=definition.llm.retry_total_seconds,
            reask_on_failed_output=definition.llm.reask_on_failed_output,
            state_hub_retry_total_seconds=definition.evidence.state_hub_retry_total_seconds,
        )

    @activity.defn
    async def record_run_started(self, started: RunStartedInput) -> RunIdentity:
        start = await self._lifecycle.start_run(
            StartRunInput(
                run=_ref(started.definition_id, started.workflow_id, started.run_id),
                kind="instruction",
                started_at=started.started_at,
                scheduled_at=started.scheduled_at,
                scheduled_by="legacy-schedule" if started.scheduled_at else None,
            )
        )
        identity = start.identity
        return RunIdentity(trigger=identity.trigger, local_date=identity.local_date, scheduled_at=started.scheduled_at)

    @activity.defn
    async def read_context(self, request: ReadContextInput) -> PlanningContext:
        definition, _ = self._steps.loaded(request.definition_id)
        services = self._steps.services
        try:
            workstreams = await services.state_hub.list_workstreams(definition.context.workstreams.status)
            tasks = await services.state_hub.list_tasks(definition.context.tasks.status)
        except StateHubError as exc:
            raise step_failure(RunStatus.FAILED_STATE_HUB, services.scrub(str(exc)), retryable=exc.retryable) from None
        limits = definition.context.prompt_limits
        bounded = bound_context(workstreams, tasks, max_workstreams=limits.max_workstreams, max_tasks=limits.max_tasks)
        return PlanningContext(
            prompt_context=bounded.text,
            known_refs=bounded.known_refs,
            workstreams_total=len(workstreams),
            tasks_total=len(tasks),
            workstreams_in_prompt=bounded.workstreams_in_prompt,
            tasks_in_prompt=bounded.tasks_in_prompt,
        )

    @activity.defn
    async def call_llm(self, request: CallLlmInput) -> LlmCall:
        run = _ref(request.definition_id, request.workflow_id, request.run_id)
        call = await self._steps.call_model(
            run, local_date=request.local_date, context=request.prompt_context, feedback=request.reask_feedback
        )
        record = call.record
        return LlmCall(
            content=call.content,
            finish_reason=record.finish_reason,
            model=record.model,
            provider=record.provider,
            usage=record.usage,
            latency_ms=record.latency_ms,
            attempts=record.attempts,
        )

    @activity.defn
    async def apply_boundary(self, request: BoundaryInput) -> dict[str, Any]:
        definition, _ = self._steps.loaded(request.definition_id)
        result = parse_report(
            request.content,
            contract=definition.output,
            spec=report_spec(definition.output),
            known_refs=request.known_refs,
            finish_reason=request.finish_reason,
        )
        report = result.to_dict()
        if result.status == "failed":
            report["reask_feedback"] = result.reask_feedback(definition.output.framing)
        return report

    async def _record_outcome(self, outcome: RunOutcome) -> EvidenceInput:
        """Write what the old workflow carries in its outcome, so today's renderers read the row."""
        boundary = outcome.boundary or {}
        llm = outcome.llm
        if boundary:
            await self._runs.set_report(
                outcome.workflow_id,
                outcome.run_id,
                RunReport(
                    framing=boundary.get("framing", "none"),
                    truncated=bool(boundary.get("truncated")),
                    summary=boundary.get("summary"),
                    items=list(boundary.get("items", [])),
                    quarantined=list(boundary.get("quarantined", [])),
                    counts=boundary.get("counts", {}),
                    raw_content=llm.content if llm else None,
                    known_refs=outcome.known_refs,
                    reasks=outcome.reasks,
                ),
            )
        if llm is not None:
            call = LlmCallRecord(
                model=llm.model,
                provider=llm.provider,
                usage=llm.usage,
                finish_reason=llm.finish_reason,
                latency_ms=llm.latency_ms,
                attempts=llm.attempts,
            )
            await self._runs.set_llm_call(outcome.workflow_id, outcome.run_id, call)
        record = await self._runs.run_record(outcome.workflow_id, outcome.run_id)
        return EvidenceInput(
            run=_ref(outcome.definition_id, outcome.workflow_id, outcome.run_id),
            identity=CurrentIdentity(
                trigger=record.trigger,
                local_date=outcome.local_date,
                tick_at=record.tick_at,
                start_lag_seconds=record.start_lag_seconds,
            ),
            outcome=KindOutcome(status=outcome.status, error_message=outcome.error_message, timings=outcome.timings),
        )

    @activity.defn
    async def post_progress(self, outcome: RunOutcome) -> str:
        return await self._lifecycle.post_run_progress(await self._record_outcome(outcome))

    @activity.defn
    async def write_note(self, outcome: RunOutcome) -> EvidenceIds:
        ids = await self._lifecycle.write_run_note(await self._record_outcome(outcome))
        return EvidenceIds(progress_event_id=None, note_id=ids.note_id, note_key=ids.note_key)

    @activity.defn
    async def record_run_finished(self, finished: RecordFinishedInput) -> None:
        request = await self._record_outcome(finished.outcome)
        if finished.outcome.llm is None and finished.outcome.llm_attempts_failed is not None:
            await self._runs.set_llm_attempts(
                request.run.workflow_id, request.run.run_id, finished.outcome.llm_attempts_failed
            )
        await self._lifecycle.finish_run(
            FinishRunInput(run=request.run, outcome=request.outcome, finished_at=finished.finished_at)
        )

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.load_run_plan,
            self.record_run_started,
            self.read_context,
            self.call_llm,
            self.apply_boundary,
            self.post_progress,
            self.write_note,
            self.record_run_finished,
        ]
