"""Is a pass of a trigger definition running right now? For ``activity-core run`` to refuse
early, naming it, before it starts a run that would only end ``failed_pass_in_flight``.

It describes the pass's fixed workflow id, which Temporal answers from the workflow's own
state (not from visibility, which lags). The run's own check at start stays the guarantee;
this is the courtesy that names the pass to the operator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activity_core.kinds.trigger.workflow import pass_workflow_id


@dataclass(frozen=True)
class InFlightPass:
    pass_workflow_id: str
    pass_run_id: str
    run_workflow_id: str | None  # the trigger run that started it
    started_at: datetime | None

    def describe(self) -> str:
        started = f" since {self.started_at.isoformat(timespec='seconds')}" if self.started_at else ""
        by = f", started by run {self.run_workflow_id}" if self.run_workflow_id else ""
        return f"pass {self.pass_workflow_id} (run {self.pass_run_id}) is in flight{started}{by}"


async def pass_in_flight(client: Client, definition_id: str) -> InFlightPass | None:
    workflow_id = pass_workflow_id(definition_id)
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    if description.status != WorkflowExecutionStatus.RUNNING:
        return None
    return InFlightPass(
        pass_workflow_id=workflow_id,
        pass_run_id=description.run_id,
        run_workflow_id=description.parent_id,
        started_at=description.start_time,
    )
