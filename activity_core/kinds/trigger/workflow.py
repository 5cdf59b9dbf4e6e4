"""The trigger's orchestration: ``steps`` for the run lifecycle, and the pass workflow it starts.

Deterministic only; the command runs in an activity on the command worker's task queue
(docs/adr/adr-006-trigger-placement.md).

Two passes of one definition never overlap, however they were started (the schedule, a
``schedule trigger``, a ``workflow start`` with a new id): the pass is a child workflow
whose id is fixed per definition (``<definition id>.pass``), and Temporal refuses to start a
workflow whose id is already running. That check and the start are one atomic step on the
server, unlike a visibility query, which lags. A run that finds the id taken ends
``failed_pass_in_flight`` without running anything.

An ``execute`` pass gets exactly one attempt: when that attempt is lost (its command worker
stopped heartbeating), the pass is recorded as ``unknown`` and never dispatched again. A
``dry_run`` pass changes nothing and may be retried.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    ChildWorkflowError,
    TimeoutError,
    TimeoutType,
    WorkflowAlreadyStartedError,
    is_cancelled_exception,
)
from temporalio.workflow import ActivityCancellationType, ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.trigger.models import (
        LOAD_PLAN_ACTIVITY,
        PASS_WORKFLOW_NAME,
        RUN_COMMAND_ACTIVITY,
        CommandPass,
        CommandRequest,
        PassOutcome,
        TriggerOutcome,
        TriggerPlan,
        TriggerStatus,
    )
    from activity_core.kinds.trigger.outcome import outcome_of, refused_in_flight
    from activity_core.runs.failures import read_failure
    from activity_core.runs.lifecycle import run_lifecycle
    from activity_core.runs.models import KindOutcome, RunIdentity, RunInput, RunRef, RunStatus, RunSummary

RUN_WORKFLOW_NAME = "TriggerRun"

PASS_ID_SUFFIX = ".pass"
_QUICK = timedelta(seconds=30)
_QUICK_TOTAL = timedelta(minutes=5)
# Past the command's own budget and grace: the kill, the pipe drain and the reply.
_COMMAND_MARGIN_SECONDS = 30


def pass_workflow_id(definition_id: str) -> str:
    """The one workflow id a pass of this definition runs under (a definition id has no dot)."""
    return f"{definition_id}{PASS_ID_SUFFIX}"


@dataclass(frozen=True)
class PassRequest:
    plan: TriggerPlan
    run_workflow_id: str


@workflow.defn(name=RUN_WORKFLOW_NAME)
class TriggerRun:
    """A trigger run: the generic lifecycle (row, ``scheduled_trigger`` event, no note) around one pass."""

    @workflow.run
    async def run(self, request: RunInput) -> RunSummary:
        return await run_lifecycle(request, kind="trigger", steps=_lifecycle_steps)


async def _lifecycle_steps(run: RunRef, identity: RunIdentity) -> KindOutcome:
    try:
        outcome = await steps(run.definition_id)
    except ActivityError as error:
        if is_cancelled_exception(error):
            raise
        failed = read_failure(error, timeout_status=RunStatus.FAILED_CONFIG)
        return KindOutcome(status=failed.status.value, error_message=failed.message)
    command_pass = outcome.result
    return KindOutcome(
        status=outcome.status,
        error_message=outcome.error_message,
        detail=_detail(command_pass),
        result=asdict(command_pass) if command_pass is not None else None,
    )


def _detail(command_pass: CommandPass | None) -> str:
    if command_pass is None:
        return "no pass ran"
    exit_code = f", exit {command_pass.exit_code}" if command_pass.exit_code is not None else ""
    return f"{command_pass.mode} pass {command_pass.outcome}{exit_code}"


async def steps(definition_id: str) -> TriggerOutcome:
    """The trigger kind's part of a run: load the plan, run one pass unless one is in flight,
    and judge it. Never raises for the command's failures. A definition whose ``command:``
    section cannot be loaded raises the load activity's ``ActivityError`` (an
    ``ApplicationError`` of type ``failed_config``), as any lifecycle step does; a
    cancellation propagates."""
    plan: TriggerPlan = await workflow.execute_activity(
        LOAD_PLAN_ACTIVITY,
        definition_id,
        result_type=TriggerPlan,
        start_to_close_timeout=_QUICK,
        schedule_to_close_timeout=_QUICK_TOTAL,
        retry_policy=RetryPolicy(maximum_attempts=3, non_retryable_error_types=[TriggerStatus.FAILED_CONFIG.value]),
    )
    pass_id = pass_workflow_id(definition_id)
    try:
        handle = await workflow.start_child_workflow(
            TriggerPassWorkflow.run,
            PassRequest(plan=plan, run_workflow_id=workflow.info().workflow_id),
            id=pass_id,
            task_queue=workflow.info().task_queue,
            execution_timeout=timedelta(seconds=plan.pass_timeout_seconds),
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            parent_close_policy=ParentClosePolicy.REQUEST_CANCEL,
        )
    except WorkflowAlreadyStartedError:
        return refused_in_flight(plan, pass_id)
    try:
        command_pass = await handle
    except ChildWorkflowError as error:
        if is_cancelled_exception(error):
            raise
        command_pass = CommandPass(
            outcome=PassOutcome.UNKNOWN.value,
            mode=plan.mode,
            argv=list(plan.argv),
            attempt=0,
            detail=f"the pass workflow {pass_id} ended without a result ({error.cause or error})",
            pass_workflow_id=pass_id,
        )
    return outcome_of(plan, command_pass)


@workflow.defn(name=PASS_WORKFLOW_NAME)
class TriggerPassWorkflow:
    """One pass of the command; its fixed id is the lock that keeps passes from overlapping."""

    @workflow.run
    async def run(self, request: PassRequest) -> CommandPass:
        plan = request.plan
        try:
            command_pass: CommandPass = await workflow.execute_activity(
                RUN_COMMAND_ACTIVITY,
                CommandRequest(
                    definition_id=plan.definition_id,
                    run_workflow_id=request.run_workflow_id,
                    argv=list(plan.argv),
                    mode=plan.mode,
                    time_budget_seconds=plan.time_budget_seconds,
                    kill_grace_seconds=plan.kill_grace_seconds,
                ),
                result_type=CommandPass,
                task_queue=plan.task_queue,
                schedule_to_start_timeout=timedelta(seconds=plan.start_within_seconds),
                start_to_close_timeout=timedelta(
                    seconds=plan.time_budget_seconds + 2 * plan.kill_grace_seconds + _COMMAND_MARGIN_SECONDS
                ),
                heartbeat_timeout=timedelta(seconds=plan.heartbeat_timeout_seconds),
                retry_policy=_retry_policy(plan),
                cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except ActivityError as error:
            if is_cancelled_exception(error):
                raise
            command_pass = _lost(plan, error)
        return replace(command_pass, pass_workflow_id=workflow.info().workflow_id)


def _retry_policy(plan: TriggerPlan) -> RetryPolicy:
    if plan.mode == "execute":
        return RetryPolicy(maximum_attempts=1)  # at most once: a lost attempt is never repeated
    return RetryPolicy(
        initial_interval=timedelta(seconds=2),
        maximum_interval=timedelta(seconds=30),
        maximum_attempts=plan.dry_run_max_attempts,
    )


def _lost(plan: TriggerPlan, error: ActivityError) -> CommandPass:
    """A pass that ended without the command worker's answer: never started, or unknown."""
    cause = error.cause
    base = CommandPass(outcome=PassOutcome.UNKNOWN.value, mode=plan.mode, argv=list(plan.argv), attempt=0)
    if isinstance(cause, TimeoutError) and cause.type == TimeoutType.SCHEDULE_TO_START:
        return replace(
            base,
            outcome=PassOutcome.NOT_STARTED.value,
            detail=f"no command worker took the pass from task queue {plan.task_queue!r} within "
            f"{plan.start_within_seconds} s; the command never started (is `activity-core command-worker` "
            "running on the command's side?)",
        )
    if isinstance(cause, TimeoutError):
        what = f"the command worker was lost mid-pass ({cause.type.name.lower() if cause.type else 'activity'} timeout)"
    elif isinstance(cause, ApplicationError):
        what = cause.message
    else:
        what = f"the pass failed on the command worker: {cause or error}"
    if plan.mode == "execute":
        detail = f"{what}; an execute pass is never started twice"
    else:
        detail = f"{what}, on each of {plan.dry_run_max_attempts} attempt(s)"
    return replace(base, detail=detail)
