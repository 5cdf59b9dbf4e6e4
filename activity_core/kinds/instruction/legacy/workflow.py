"""Frozen: the instruction workflow of release 0.1, kept registered for one release so runs
in flight finish and its recorded histories replay. Superseded by ``InstructionRun``; do not
change a line of its orchestration (docs/adr/adr-007-deploying-workflow-changes.md).

No I/O, clock or randomness here: every effect is an activity with its own timeout and
retry policy, and the workflow decides only what happens next. A failure anywhere still
ends with a row (and, when State Hub answers, a progress event) naming its failure class.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.instruction.legacy.activities import TriageActivities as activities
    from activity_core.kinds.instruction.legacy.models import (
        WORKFLOW_NAME,
        BoundaryInput,
        CallLlmInput,
        EvidenceIds,
        InstructionInput,
        LlmCall,
        PlanningContext,
        ReadContextInput,
        RecordFinishedInput,
        RunIdentity,
        RunOutcome,
        RunPlan,
        RunStartedInput,
        RunSummary,
    )
    from activity_core.runs.models import RunStatus

SCHEDULED_START_TIME = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

# Bookkeeping steps (definitions, PostgreSQL, the pure boundary) are quick; these bounds
# only catch a stuck worker or database, and retries cover a restart of either.
_QUICK = timedelta(seconds=30)
_QUICK_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
_QUICK_TOTAL = timedelta(minutes=10)
_STATE_HUB_CALL = timedelta(seconds=30)


class _StepFailed(Exception):
    def __init__(self, status: RunStatus, message: str, attempts: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.attempts = attempts


def _failure_from(error: ActivityError, *, timeout_status: RunStatus) -> _StepFailed:
    """Map an activity's final failure to the run's failure class and a sanitized message.

    When the retry budget runs out, Temporal reports a timeout whose cause is the last
    attempt's failure: that failure, not the budget, is what the operator needs to read.
    """
    cause = error.cause
    budget_spent = ""
    if isinstance(cause, TimeoutError) and isinstance(cause.cause, ApplicationError):
        budget_spent = f" (gave up: {cause.type.name.lower()} budget spent)"  # type: ignore[union-attr]
        cause = cause.cause
    if isinstance(cause, ApplicationError) and cause.type:
        try:
            status = RunStatus(cause.type)
        except ValueError:
            status = timeout_status
        details = cause.details[0] if cause.details else {}
        attempts = details.get("attempt") if isinstance(details, dict) else None
        return _StepFailed(status, cause.message + budget_spent, attempts)
    if isinstance(cause, TimeoutError):
        return _StepFailed(timeout_status, f"{error.activity_type} timed out ({cause.type.name.lower()})")  # type: ignore[union-attr]
    return _StepFailed(timeout_status, f"{error.activity_type} failed: {cause or error}")


@workflow.defn(name=WORKFLOW_NAME)
class InstructionWorkflow:
    @workflow.run
    async def run(self, request: InstructionInput) -> RunSummary:
        info = workflow.info()
        plan: RunPlan = await workflow.execute_activity_method(
            activities.load_run_plan,
            request.definition_id,
            start_to_close_timeout=_QUICK,
            schedule_to_close_timeout=_QUICK_TOTAL,
            retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=[RunStatus.FAILED_CONFIG.value]),
        )
        identity: RunIdentity = await workflow.execute_activity_method(
            activities.record_run_started,
            RunStartedInput(
                definition_id=request.definition_id,
                workflow_id=info.workflow_id,
                run_id=info.run_id,
                started_at=workflow.now(),
                scheduled_at=info.typed_search_attributes.get(SCHEDULED_START_TIME),
            ),
            start_to_close_timeout=_QUICK,
            schedule_to_close_timeout=_QUICK_TOTAL,
            retry_policy=_QUICK_RETRY,
        )
        started = workflow.time()
        outcome = await self._triage(plan, identity)
        outcome = replace(outcome, timings={**outcome.timings, "triage_s": round(workflow.time() - started, 3)})
        evidence = await self._post_evidence(plan, outcome)
        missing = _missing_evidence(evidence)
        if missing and not RunStatus(outcome.status).failed:
            outcome = replace(
                outcome,
                status=RunStatus.FAILED_STATE_HUB.value,
                error_message=f"State Hub did not take the {missing}; the report is kept in the row",
            )
        await workflow.execute_activity_method(
            activities.record_run_finished,
            RecordFinishedInput(outcome=outcome, finished_at=workflow.now(), evidence=evidence),
            start_to_close_timeout=_QUICK,
            schedule_to_close_timeout=_QUICK_TOTAL,
            retry_policy=_QUICK_RETRY,
        )
        counts = (outcome.boundary or {}).get("counts", {})
        summary = RunSummary(
            definition_id=plan.definition_id,
            status=outcome.status,
            trigger=identity.trigger,
            local_date=identity.local_date,
            items_kept=int(counts.get("accepted", 0)),
            items_quarantined=int(counts.get("quarantined", 0)),
            error_message=outcome.error_message,
            progress_event_id=evidence.progress_event_id,
            note_id=evidence.note_id,
        )
        if RunStatus(outcome.status).failed:
            # Recorded first, failed last: `temporal workflow list` shows the run as Failed, and
            # its failure reads "<failure class>: <message>" with the summary as details.
            raise ApplicationError(
                f"{outcome.status}: {outcome.error_message or 'no detail'}",
                summary,
                type=outcome.status,
                non_retryable=True,
            )
        return summary

    async def _triage(self, plan: RunPlan, identity: RunIdentity) -> RunOutcome:
        info = workflow.info()
        base = RunOutcome(
            definition_id=plan.definition_id,
            workflow_id=info.workflow_id,
            run_id=info.run_id,
            trigger=identity.trigger,
            local_date=identity.local_date,
            status=RunStatus.RUNNING.value,
        )
        timings: dict[str, float] = {}
        try:
            mark = workflow.time()
            context = await self._read_context(plan)
            timings["read_context_s"] = round(workflow.time() - mark, 3)
            mark = workflow.time()
            llm = await self._call_llm(plan, identity, context, feedback=None)
            timings["llm_s"] = round(workflow.time() - mark, 3)
            boundary = await self._apply_boundary(plan, llm, context)
            reasks = 0
            if boundary["status"] == "failed" and plan.reask_on_failed_output > 0:
                reasks = 1
                mark = workflow.time()
                llm = await self._call_llm(plan, identity, context, feedback=boundary.get("reask_feedback"))
                timings["reask_llm_s"] = round(workflow.time() - mark, 3)
                boundary = await self._apply_boundary(plan, llm, context)
        except _StepFailed as failed:
            return replace(
                base,
                status=failed.status.value,
                error_message=failed.message,
                llm_attempts_failed=failed.attempts,
                timings=timings,
            )
        status = RunStatus.FAILED_OUTPUT if boundary["status"] == "failed" else RunStatus(boundary["status"])
        message = "no item survived the boundary; see the quarantined items" if status.failed else None
        return replace(
            base,
            status=status.value,
            error_message=message,
            boundary=boundary,
            llm=llm,
            reasks=reasks,
            timings=timings,
            known_refs=context.known_refs,
        )

    async def _read_context(self, plan: RunPlan) -> PlanningContext:
        try:
            return await workflow.execute_activity_method(
                activities.read_context,
                ReadContextInput(definition_id=plan.definition_id),
                start_to_close_timeout=_STATE_HUB_CALL,
                schedule_to_close_timeout=timedelta(seconds=plan.state_hub_retry_total_seconds),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=plan.retry_initial_seconds),
                    maximum_interval=timedelta(seconds=60),
                    non_retryable_error_types=[RunStatus.FAILED_CONFIG.value],
                ),
            )
        except ActivityError as error:
            raise _failure_from(error, timeout_status=RunStatus.FAILED_STATE_HUB) from None

    async def _call_llm(
        self, plan: RunPlan, identity: RunIdentity, context: PlanningContext, *, feedback: str | None
    ) -> LlmCall:
        info = workflow.info()
        try:
            return await workflow.execute_activity_method(
                activities.call_llm,
                CallLlmInput(
                    definition_id=plan.definition_id,
                    workflow_id=info.workflow_id,
                    run_id=info.run_id,
                    local_date=identity.local_date,
                    prompt_context=context.prompt_context,
                    reask_feedback=feedback,
                ),
                start_to_close_timeout=timedelta(seconds=plan.call_timeout_seconds + 30),
                heartbeat_timeout=timedelta(seconds=plan.heartbeat_timeout_seconds),
                schedule_to_close_timeout=timedelta(seconds=plan.retry_total_seconds),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(seconds=plan.retry_initial_seconds),
                    backoff_coefficient=2.0,
                    maximum_interval=timedelta(seconds=60),
                    maximum_attempts=plan.max_attempts,
                    non_retryable_error_types=[RunStatus.FAILED_CONFIG.value],
                ),
            )
        except ActivityError as error:
            raise _failure_from(error, timeout_status=RunStatus.FAILED_LLM_TIMEOUT) from None

    async def _apply_boundary(self, plan: RunPlan, llm: LlmCall, context: PlanningContext) -> dict:
        return await workflow.execute_activity_method(
            activities.apply_boundary,
            BoundaryInput(
                definition_id=plan.definition_id,
                content=llm.content,
                finish_reason=llm.finish_reason,
                known_refs=context.known_refs,
            ),
            start_to_close_timeout=_QUICK,
            schedule_to_close_timeout=_QUICK_TOTAL,
            retry_policy=_QUICK_RETRY,
        )

    async def _post_evidence(self, plan: RunPlan, outcome: RunOutcome) -> EvidenceIds:
        """Post progress, then the note; State Hub being down costs evidence, never the row."""
        retry = RetryPolicy(
            initial_interval=timedelta(seconds=plan.retry_initial_seconds),
            maximum_interval=timedelta(seconds=60),
            non_retryable_error_types=[RunStatus.FAILED_CONFIG.value],
        )
        total = timedelta(seconds=plan.state_hub_retry_total_seconds)
        try:
            event_id = await workflow.execute_activity_method(
                activities.post_progress,
                outcome,
                start_to_close_timeout=_STATE_HUB_CALL,
                schedule_to_close_timeout=total,
                retry_policy=retry,
            )
        except ActivityError:
            workflow.logger.warning("daily_triage progress event could not be posted")
            return EvidenceIds(progress_event_id=None, note_id=None, note_key=None)
        try:
            note: EvidenceIds = await workflow.execute_activity_method(
                activities.write_note,
                outcome,
                start_to_close_timeout=_STATE_HUB_CALL,
                schedule_to_close_timeout=total,
                retry_policy=retry,
            )
        except ActivityError:
            workflow.logger.warning("working-memory note could not be written")
            return EvidenceIds(progress_event_id=event_id, note_id=None, note_key=None)
        return EvidenceIds(progress_event_id=event_id, note_id=note.note_id, note_key=note.note_key)


def _missing_evidence(evidence: EvidenceIds) -> str | None:
    if evidence.progress_event_id is None:
        return "daily_triage progress event"
    if evidence.note_id is None:
        return "working-memory note"
    return None
