"""A reviewer's verdict on a run: stored once per run and verdict, posted to State Hub once.

The verdict is stored first and its idempotency key kept with it, so a post that failed (or
whose answer was lost) is retried with the same key by running the same command again.
"""

from __future__ import annotations

from activity_core.clients.state_hub import ProgressEvent, StateHubClient
from activity_core.runs.evidence import SOURCE
from activity_core.store import RunStore
from activity_core.store.feedback import Feedback, FeedbackStore, Verdict

CALIBRATION_EVENT_TYPE = "daily_triage_calibration"


class UnknownRun(LookupError):
    """No run with that row id or workflow id."""


async def record_feedback(
    runs: RunStore,
    feedback: FeedbackStore,
    state_hub: StateHubClient,
    ref: str,
    *,
    verdict: Verdict,
    note: str | None,
    reviewer: str | None,
) -> tuple[Feedback, str]:
    """Store the verdict, post it unless it was posted before; returns the row and what happened.

    Raises ``UnknownRun``, or the ``StateHubError`` of a failed post (the row is kept, unposted).
    """
    run = await runs.get_run(ref)
    if run is None:
        raise UnknownRun(ref)
    stored, created = await feedback.record(
        run.id, verdict, note=note, reviewer=reviewer, key_base=f"calibration:{run.workflow_id}:{run.run_id}:{verdict}"
    )
    subject = f"{verdict} for run {run.id} ({run.definition_id} {run.local_date}, {run.trigger}, {run.status})"
    kept = (
        ""
        if created or (stored.note, stored.reviewer) == (note, reviewer)
        else "; the note and reviewer recorded first are kept"
    )
    if stored.progress_event_id is not None:
        return (
            stored,
            f"{subject} was recorded on {stored.recorded_at.date()} and is State Hub event {stored.progress_event_id}; nothing posted again{kept}",
        )
    event_id = await state_hub.post_progress(
        ProgressEvent(
            event_type=CALIBRATION_EVENT_TYPE,
            source=SOURCE,
            summary=f"Calibration {verdict} of daily triage {run.local_date} ({run.trigger} run, {run.status})"
            + (f" by {stored.reviewer}" if stored.reviewer else ""),
            idempotency_key=stored.idempotency_key,
            payload={
                "verdict": verdict,
                "note": stored.note,
                "reviewer": stored.reviewer,
                "recorded_at": stored.recorded_at.isoformat(),
                "definition_id": run.definition_id,
                "workflow_id": run.workflow_id,
                "run_id": run.run_id,
                "local_date": run.local_date.isoformat(),
                "trigger": run.trigger,
                "scheduled_at": run.scheduled_at.isoformat() if run.scheduled_at else None,
                "run_status": run.status,
                "daily_triage_event_id": run.progress_event_id,
            },
        )
    )
    posted = await feedback.set_posted(stored.id, event_id)
    counts = "" if run.trigger == "schedule" else " (a manual run: it does not count toward the gate)"
    return (
        posted,
        f"recorded {subject}; posted to State Hub as {CALIBRATION_EVENT_TYPE} event {posted.progress_event_id}{kept}{counts}",
    )
