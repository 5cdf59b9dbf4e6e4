"""The lifecycle's activities, the same for every kind: start the row, post evidence, finish.

Each is idempotent under Temporal's retries and keyed by the Temporal run (workflow id + run
id): a second run under a used workflow id gets its own row, its own progress event and, unless
it is the day's scheduled run, its own note key; it never reports another run's evidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC
from typing import TYPE_CHECKING, Any

from temporalio import activity

from activity_core.clients.state_hub import Note, ProgressEvent, StateHubError
from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import DefinitionError, DefinitionNotFound
from activity_core.runs.attribution import attribute
from activity_core.runs.evidence import SOURCE, progress_idempotency_key
from activity_core.runs.failures import step_failure
from activity_core.runs.models import (
    EvidenceIds,
    EvidenceInput,
    EvidencePlan,
    FinishRunInput,
    RunIdentity,
    RunStart,
    RunStatus,
    StartRunInput,
)
from activity_core.runs.services import Services
from activity_core.store.models import RunFinished, RunStarted

if TYPE_CHECKING:
    from activity_core.kinds.registry import Kind


class LifecycleActivities:
    def __init__(self, services: Services, kinds: Mapping[str, Kind]) -> None:
        self._services = services
        self._kinds = kinds

    def _definition(self, definition_id: str) -> tuple[DefinitionBase, Kind]:
        try:
            definition = self._services.definitions.get(definition_id).definition
        except (DefinitionError, DefinitionNotFound) as exc:
            raise step_failure(RunStatus.FAILED_CONFIG, str(exc), retryable=False) from None
        return definition, self._kinds[definition.kind]

    def _state_hub_failure(self, exc: StateHubError, operation: str) -> Exception:
        self._services.metrics.count_state_hub_failure(operation)
        return step_failure(RunStatus.FAILED_STATE_HUB, self._services.scrub(str(exc)), retryable=exc.retryable)

    @activity.defn
    async def start_run(self, request: StartRunInput) -> RunStart:
        """Record the row first: a run that fails on its first call still has one."""
        started, start = self._begin(request)
        await self._services.runs.record_run_started(started)
        return start

    @activity.defn
    async def plan_run(self, request: StartRunInput) -> RunStart:
        """What ``start_run`` decides, without recording it: for a kind that posts its evidence
        before its row (``record_after_evidence``), so that PostgreSQL being down, which such a
        kind reports, does not hold its evidence back. ``start_run`` records the same row later."""
        return self._begin(request)[1]

    def _begin(self, request: StartRunInput) -> tuple[RunStarted, RunStart]:
        """The run's identity and evidence plan, from its definition and how it was started."""
        refusal = None
        definition: DefinitionBase | None = None
        try:
            definition = self._services.definitions.get(request.run.definition_id).definition
        except (DefinitionError, DefinitionNotFound) as exc:
            refusal = str(exc)
        if definition is not None and definition.kind != request.kind:
            refusal = f"definition {definition.id!r} is of kind {definition.kind!r}, not {request.kind!r}"
            definition = None
        spec = definition.schedule if definition is not None else None
        attribution = attribute(
            spec, started_at=request.started_at, scheduled_at=request.scheduled_at, scheduled_by=request.scheduled_by
        )
        dated = attribution.tick_at or request.scheduled_at or request.started_at
        local_date = spec.local_date(dated) if spec else dated.astimezone(UTC).date()
        started = RunStarted(
            definition_id=request.run.definition_id,
            kind=request.kind,
            workflow_id=request.run.workflow_id,
            run_id=request.run.run_id,
            trigger=attribution.trigger,
            scheduled_at=request.scheduled_at,
            tick_at=attribution.tick_at,
            start_lag_seconds=attribution.start_lag_seconds,
            local_date=local_date,
            started_at=request.started_at,
        )
        identity = RunIdentity(
            trigger=attribution.trigger.value,
            local_date=local_date.isoformat(),
            tick_at=attribution.tick_at,
            start_lag_seconds=attribution.start_lag_seconds,
        )
        if definition is None:
            return started, RunStart(identity=identity, evidence=None, refusal=refusal)
        kind = self._kinds[definition.kind]
        return started, RunStart(
            identity=identity,
            evidence=EvidencePlan(
                state_hub_call_seconds=self._services.ceilings.state_hub_call_seconds,
                state_hub_retry_total_seconds=definition.evidence.state_hub_retry_total_seconds,
                retry_initial_seconds=definition.evidence.retry_initial_seconds,
                writes_note=kind.note is not None,
            ),
        )

    @activity.defn
    async def post_run_progress(self, request: EvidenceInput) -> str:
        """Post the run's event once as State Hub sees it: stored id first, then the run's key."""
        run = request.run
        record = None
        if request.recorded:
            stored = await self._services.runs.progress_event_id(run.workflow_id, run.run_id)
            if stored is not None:
                return stored
            record = await self._services.runs.run_record(run.workflow_id, run.run_id)
        # Not recorded yet: State Hub's idempotency key (the run's) makes a retried post the same event.
        definition, kind = self._definition(run.definition_id)
        draft = kind.progress(definition, record, request.outcome)
        event = ProgressEvent(
            event_type=definition.evidence.progress_event_type,
            source=SOURCE,
            workstream_id=None,
            summary=draft.summary,
            payload=draft.payload,
            idempotency_key=progress_idempotency_key(run.workflow_id, run.run_id),
        )
        try:
            event_id = await self._services.state_hub.post_progress(event)
        except StateHubError as exc:
            raise self._state_hub_failure(exc, "post_progress") from None
        if request.recorded:
            await self._services.runs.set_progress_event_id(run.workflow_id, run.run_id, event_id)
        _log(run.definition_id, "posted %s progress event %s", event.event_type, event_id)
        return event_id

    @activity.defn
    async def write_run_note(self, request: EvidenceInput) -> EvidenceIds:
        run = request.run
        definition, kind = self._definition(run.definition_id)
        if kind.note is None:
            raise step_failure(RunStatus.FAILED_CONFIG, f"kind {kind.name!r} writes no note", retryable=False)
        record = await self._services.runs.run_record(run.workflow_id, run.run_id)
        draft = kind.note(definition, record, request.outcome)
        note = Note(key=draft.key, title=draft.title, body_markdown=draft.body_markdown, tags=draft.tags)
        try:
            note_id = await self._services.state_hub.write_note(note)
        except StateHubError as exc:
            raise self._state_hub_failure(exc, "write_note") from None
        await self._services.runs.set_note_id(run.workflow_id, run.run_id, note_id, draft.key)
        _log(run.definition_id, "wrote working-memory note %s", draft.key)
        return EvidenceIds(progress_event_id=None, note_id=note_id, note_key=draft.key)

    @activity.defn
    async def finish_run(self, request: FinishRunInput) -> None:
        run, outcome = request.run, request.outcome
        if request.progress_event_id is not None:
            await self._services.runs.set_progress_event_id(run.workflow_id, run.run_id, request.progress_event_id)
        if outcome.result is not None:
            await self._services.runs.set_result(run.workflow_id, run.run_id, outcome.result)
        first = await self._services.runs.record_run_finished(
            RunFinished(
                workflow_id=run.workflow_id,
                run_id=run.run_id,
                status=RunStatus(outcome.status),
                finished_at=request.finished_at,
                error_message=outcome.error_message,
                timings=outcome.timings,
            )
        )
        if first:
            record = await self._services.runs.run_record(run.workflow_id, run.run_id)
            reasons: dict[str, int] = {}
            for entry in record.quarantined or []:
                reason = str(entry.get("reason"))
                reasons[reason] = reasons.get(reason, 0) + 1
            duration = (request.finished_at - record.started_at).total_seconds()
            self._services.metrics.observe_run(
                run.definition_id,
                outcome.status,
                items_kept=record.items_kept or 0,
                quarantined_by_reason=reasons,
                duration_seconds=duration,
                finished_at=request.finished_at.timestamp(),
            )
        _log(run.definition_id, "run finished: %s", outcome.status)

    def all(self) -> list[Callable[..., Any]]:
        return [self.start_run, self.plan_run, self.post_run_progress, self.write_run_note, self.finish_run]


def _log(definition_id: str, message: str, *args: object) -> None:
    """One line per step; Temporal's activity logger adds the workflow and run ids."""
    activity.logger.info(message, *args, extra={"definition_id": definition_id})
