"""The probe's orchestration: ``steps`` for the run lifecycle. Deterministic only.

Every target is checked at once, each in its own activity bounded by the target's timeout,
so one hung dependency costs its own timeout and nothing else. A probe activity that does
not come back (its worker died twice, say) is reported as that target down: the probe never
fails on what it measures. Nothing here touches PostgreSQL except the ``postgres`` check
itself, so with PostgreSQL down the steps still finish and the event can go out naming it.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.probe.models import (
        LOAD_PLAN_ACTIVITY,
        PROBE_TARGET_ACTIVITY,
        ProbeOutcome,
        ProbePlan,
        ProbeReport,
        ProbeStatus,
        TargetCheck,
        TargetReport,
        TargetState,
    )
    from activity_core.kinds.probe.outcome import outcome_of
    from activity_core.runs.failures import read_failure
    from activity_core.runs.lifecycle import run_lifecycle
    from activity_core.runs.models import KindOutcome, RunIdentity, RunInput, RunRef, RunStatus, RunSummary

RUN_WORKFLOW_NAME = "ProbeRun"

_QUICK = timedelta(seconds=30)
# The activity enforces the target's timeout itself; this only catches a stuck worker.
_PROBE_MARGIN_SECONDS = 15
_PROBE_ATTEMPTS = 2  # only a lost worker is retried: a target's answer is never an activity failure


@workflow.defn(name=RUN_WORKFLOW_NAME)
class ProbeRun:
    """A probe run: its ``ops_inventory_probe`` event goes out before its row is recorded, so a
    PostgreSQL outage is reported while it lasts and the row follows when PostgreSQL is back."""

    @workflow.run
    async def run(self, request: RunInput) -> RunSummary:
        return await run_lifecycle(request, kind="probe", steps=_lifecycle_steps, record_after_evidence=True)


async def _lifecycle_steps(run: RunRef, identity: RunIdentity) -> KindOutcome:
    try:
        outcome = await steps(run.definition_id)
    except ActivityError as error:
        failed = read_failure(error, timeout_status=RunStatus.FAILED_CONFIG)
        return KindOutcome(status=failed.status.value, error_message=failed.message)
    report = outcome.result
    up = len(report.named(TargetState.UP)) if report else 0
    down = len(report.named(TargetState.DOWN)) if report else 0
    return KindOutcome(
        status=outcome.status,
        error_message=outcome.error_message,
        detail=f"{up} target(s) up, {down} down",
        result=asdict(report) if report is not None else None,
    )


async def steps(definition_id: str) -> ProbeOutcome:
    """The probe kind's part of a run: ``clean`` or ``partial``. A definition whose ``targets:``
    cannot be loaded raises the load activity's ``ActivityError`` (type ``failed_config``)."""
    plan: ProbePlan = await workflow.execute_activity(
        LOAD_PLAN_ACTIVITY,
        definition_id,
        result_type=ProbePlan,
        start_to_close_timeout=_QUICK,
        schedule_to_close_timeout=timedelta(minutes=2),
        retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=[ProbeStatus.FAILED_CONFIG.value]),
    )
    reports = await asyncio.gather(*(_probe(target) for target in plan.targets))
    return outcome_of(plan, ProbeReport(targets=list(reports)))


async def _probe(target: TargetCheck) -> TargetReport:
    per_attempt = timedelta(seconds=target.timeout_seconds + _PROBE_MARGIN_SECONDS)
    try:
        return await workflow.execute_activity(
            PROBE_TARGET_ACTIVITY,
            target,
            result_type=TargetReport,
            start_to_close_timeout=per_attempt,
            schedule_to_close_timeout=per_attempt * _PROBE_ATTEMPTS + _QUICK,
            retry_policy=RetryPolicy(maximum_attempts=_PROBE_ATTEMPTS),
        )
    except ActivityError as error:
        cause = error.cause
        return TargetReport(
            name=target.name,
            check=target.check,
            status=TargetState.DOWN.value,
            latency_ms=None,
            error=f"the probe of {target.name} did not finish: {cause or error}"[:300],
        )
