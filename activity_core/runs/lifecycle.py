"""The one run lifecycle every kind's workflow goes through. Workflow code: deterministic.

    start the row -> the kind's steps -> progress event (and note) -> finish the row

or, for a kind whose evidence must not wait for PostgreSQL (``record_after_evidence``: the
probe, which reports PostgreSQL being down):

    plan the run -> the kind's steps -> progress event -> record the row (retried until
    PostgreSQL is back) -> finish the row

A failure anywhere still ends with a row (and, when State Hub answers, a progress event)
naming its failure class; a run whose evidence State Hub did not take is not clean. A failed
run ends its workflow Failed, after its row and evidence are written, so Temporal's own views
show it, with the run's summary as the failure's details.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activity_core.runs.activities import LifecycleActivities as lifecycle
    from activity_core.runs.models import (
        EvidenceIds,
        EvidenceInput,
        EvidencePlan,
        FinishRunInput,
        KindOutcome,
        RunIdentity,
        RunInput,
        RunRef,
        RunStart,
        RunStatus,
        RunSummary,
        StartRunInput,
    )
    from activity_core.temporal.policies import BOOKKEEPING, UNTIL_RECORDED, service_call

SCHEDULED_START_TIME = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
SCHEDULED_BY_ID = SearchAttributeKey.for_keyword("TemporalScheduledById")

KindSteps = Callable[[RunRef, RunIdentity], Awaitable[KindOutcome]]
NO_EVIDENCE = EvidenceIds(progress_event_id=None, note_id=None, note_key=None)


async def run_lifecycle(
    request: RunInput, *, kind: str, steps: KindSteps, record_after_evidence: bool = False
) -> RunSummary:
    info = workflow.info()
    run = RunRef(definition_id=request.definition_id, workflow_id=info.workflow_id, run_id=info.run_id)
    attributes = info.typed_search_attributes
    start_input = StartRunInput(
        run=run,
        kind=kind,
        started_at=info.start_time,
        scheduled_at=attributes.get(SCHEDULED_START_TIME),
        scheduled_by=attributes.get(SCHEDULED_BY_ID),
    )
    recording = UNTIL_RECORDED if record_after_evidence else BOOKKEEPING
    start: RunStart = await workflow.execute_activity_method(
        lifecycle.plan_run if record_after_evidence else lifecycle.start_run, start_input, **BOOKKEEPING.options()
    )
    if start.evidence is None:
        outcome = KindOutcome(status=RunStatus.FAILED_CONFIG.value, error_message=start.refusal)
        evidence = NO_EVIDENCE
    else:
        began = workflow.time()
        outcome = await steps(run, start.identity)
        outcome = replace(outcome, timings={**outcome.timings, "steps_s": round(workflow.time() - began, 3)})
        evidence = await _post_evidence(
            run, start.identity, start.evidence, outcome, recorded=not record_after_evidence
        )
        missing = _missing_evidence(evidence, start.evidence)
        if missing and not RunStatus(outcome.status).failed:
            outcome = replace(
                outcome,
                status=RunStatus.FAILED_STATE_HUB.value,
                error_message=f"State Hub did not take the {missing}; the run's result is kept in the row",
            )
    if record_after_evidence:
        await workflow.execute_activity_method(lifecycle.start_run, start_input, **recording.options())
    await workflow.execute_activity_method(
        lifecycle.finish_run,
        FinishRunInput(
            run=run,
            outcome=outcome,
            finished_at=workflow.now(),
            progress_event_id=evidence.progress_event_id if record_after_evidence else None,
        ),
        **recording.options(),
    )
    summary = RunSummary(
        definition_id=run.definition_id,
        status=outcome.status,
        trigger=start.identity.trigger,
        local_date=start.identity.local_date,
        error_message=outcome.error_message,
        progress_event_id=evidence.progress_event_id,
        note_id=evidence.note_id,
        detail=outcome.detail,
    )
    if RunStatus(outcome.status).failed:
        raise ApplicationError(
            f"{outcome.status}: {outcome.error_message or 'no detail'}",
            summary,
            type=outcome.status,
            non_retryable=True,
        )
    return summary


async def _post_evidence(
    run: RunRef, identity: RunIdentity, plan: EvidencePlan, outcome: KindOutcome, *, recorded: bool
) -> EvidenceIds:
    """Post progress, then the note; State Hub being down costs evidence, never the row."""
    policy = service_call(
        plan.state_hub_call_seconds,
        retry_total_seconds=plan.state_hub_retry_total_seconds,
        retry_initial_seconds=plan.retry_initial_seconds,
    )
    request = EvidenceInput(run=run, identity=identity, outcome=outcome, recorded=recorded)
    try:
        event_id = await workflow.execute_activity_method(lifecycle.post_run_progress, request, **policy.options())
    except ActivityError:
        workflow.logger.warning("the progress event could not be posted")
        return NO_EVIDENCE
    if not plan.writes_note:
        return EvidenceIds(progress_event_id=event_id, note_id=None, note_key=None)
    try:
        note: EvidenceIds = await workflow.execute_activity_method(
            lifecycle.write_run_note, request, **policy.options()
        )
    except ActivityError:
        workflow.logger.warning("the working-memory note could not be written")
        return EvidenceIds(progress_event_id=event_id, note_id=None, note_key=None)
    return replace(note, progress_event_id=event_id)


def _missing_evidence(evidence: EvidenceIds, plan: EvidencePlan) -> str | None:
    if evidence.progress_event_id is None:
        return "progress event"
    if plan.writes_note and evidence.note_id is None:
        return "working-memory note"
    return None
