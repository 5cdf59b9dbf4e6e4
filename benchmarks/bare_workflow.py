"""The yardstick for run_overhead.py: a workflow doing only Temporal's part of a triage run."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow

STEPS = 8  # the triage's activities on a clean run


@activity.defn
async def no_op(step: int) -> int:
    return step


@workflow.defn
class BareWorkflow:
    @workflow.run
    async def run(self, steps: int) -> int:
        for step in range(steps):
            await workflow.execute_activity(no_op, step, start_to_close_timeout=timedelta(seconds=30))
        return steps
