"""Reading a run's outcome from its workflow handle, whether it ended clean or failed.

A failed run ends its workflow as Failed (so Temporal's own views show it), carrying the
same ``RunSummary`` a successful run returns, as the failure's details.
"""

from __future__ import annotations

from temporalio.client import WorkflowFailureError, WorkflowHandle
from temporalio.exceptions import ApplicationError

from activity_core.runs.models import RunStatus, RunSummary


async def await_run(handle: WorkflowHandle) -> RunSummary:
    """The run's summary; re-raises a workflow failure that is not a recorded run outcome."""
    try:
        summary = await handle.result()
    except WorkflowFailureError as failure:
        cause = failure.cause
        if isinstance(cause, ApplicationError) and cause.type in {s.value for s in RunStatus} and cause.details:
            details = cause.details[0]
            return details if isinstance(details, RunSummary) else RunSummary(**details)
        raise
    # A handle started by workflow name has no result type: the summary arrives as JSON.
    return summary if isinstance(summary, RunSummary) else RunSummary(**summary)
