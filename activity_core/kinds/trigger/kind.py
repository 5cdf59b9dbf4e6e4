"""The trigger kind as the registry sees it: its model, workflows, activities, evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import TypeAdapter
from temporalio.client import Client

from activity_core.definitions.loader import DefinitionError
from activity_core.kinds.trigger.activities import TriggerActivities, plan_for
from activity_core.kinds.trigger.definition import TriggerDefinition
from activity_core.kinds.trigger.in_flight import pass_in_flight
from activity_core.kinds.trigger.models import CommandPass
from activity_core.kinds.trigger.outcome import evidence_of
from activity_core.kinds.trigger.spec import CommandSpec
from activity_core.kinds.trigger.workflow import TriggerPassWorkflow, TriggerRun, pass_workflow_id
from activity_core.runs.activities import LifecycleActivities
from activity_core.runs.evidence import ProgressDraft
from activity_core.runs.models import KindOutcome, RunStatus
from activity_core.runs.services import Services
from activity_core.store.models import RunRecord

UNPAUSE_AFTER = (
    "a clean dry-run shakedown: dry-run passes that end clean (`activity-core runs list --definition {id}`), "
    "then one manual execute pass (`activity-core run --definition {id}` with mode: execute), "
    "as docs/runbook.md stages it"
)
_COMMAND_PASS = TypeAdapter(CommandPass)


def activities(services: Services, lifecycle: LifecycleActivities) -> Sequence[Callable[..., Any]]:
    def command_spec(definition_id: str) -> CommandSpec:
        loaded = services.definitions.get(definition_id)
        if not isinstance(loaded.definition, TriggerDefinition):
            raise DefinitionError(loaded.path, [f"kind: {definition_id} is of kind {loaded.definition.kind!r}"])
        return loaded.definition.command

    return TriggerActivities(command_spec).all()


async def busy(client: Client, definition_id: str) -> str | None:
    """A pass in flight, named: a manual run now would only end failed_pass_in_flight."""
    running = await pass_in_flight(client, definition_id)
    if running is None:
        return None
    return (
        f"{running.describe()}; wait for it to end (`temporal workflow show --workflow-id {running.pass_workflow_id}`)"
    )


def progress(definition: TriggerDefinition, record: RunRecord | None, outcome: KindOutcome) -> ProgressDraft:
    """The ``scheduled_trigger`` event: the pass's exit code, audit summary and bounded stderr tail."""
    status = RunStatus(outcome.status)
    command_pass = _COMMAND_PASS.validate_python(outcome.result) if outcome.result is not None else None
    in_flight = pass_workflow_id(definition.id) if status is RunStatus.FAILED_PASS_IN_FLIGHT else None
    summary, payload = evidence_of(
        plan_for(definition.id, definition.command),
        status,
        outcome.error_message,
        command_pass,
        pass_workflow_id=in_flight,
    )
    if record is not None:
        payload.update(
            workflow_id=record.workflow_id,
            run_id=record.run_id,
            trigger=record.trigger.value,
            local_date=record.local_date.isoformat(),
        )
    return ProgressDraft(summary=summary, payload=payload)


__all__ = ["TriggerDefinition", "TriggerPassWorkflow", "TriggerRun", "UNPAUSE_AFTER", "activities", "busy", "progress"]
