"""The provisional probe workflow: the kind's ``steps`` plus the progress event, the part of the
generic run lifecycle these tests need until the integrator's lands."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activity_core.kinds.probe.models import PROGRESS_EVENT_TYPE, ProbeOutcome
    from activity_core.kinds.probe.workflow import steps
    from tests.trigger.workflows import post_progress


@workflow.defn(name="ProvisionalProbeWorkflow")
class ProvisionalProbeWorkflow:
    @workflow.run
    async def run(self, definition_id: str) -> ProbeOutcome:
        outcome = await steps(definition_id)
        await post_progress(PROGRESS_EVENT_TYPE, outcome.summary, outcome.payload)
        return outcome
