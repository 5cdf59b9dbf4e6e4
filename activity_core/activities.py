"""The triage's side effects, one small activity per step.

Each activity takes one typed input, does one thing, and turns every client failure into
an ``ApplicationError`` whose ``type`` is the run's failure class, so the workflow (and an
operator reading the history) sees at once whether State Hub, the network, the provider,
the configuration or the model's output failed. Retry and timeout policies are set by the
workflow; ``retryable`` on our client exceptions decides which failures are final.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activity_core.boundary import parse_report
from activity_core.clients.llm_connect import LlmConnectClient, LlmConnectError, RunConfig
from activity_core.clients.state_hub import Note, ProgressEvent, StateHubClient, StateHubError
from activity_core.definitions import DefinitionCache, DefinitionError, DefinitionNotFound, LoadedDefinition
from activity_core.kinds.instruction.item_models import prompt_schema, report_spec, run_config_model_params
from activity_core.evidence import SOURCE, note_markdown, progress_payload, progress_summary
from activity_core.observability.metrics import Metrics
from activity_core.prompting import bound_context, render_prompt
from activity_core.run_models import (
    BoundaryInput,
    CallLlmInput,
    EvidenceIds,
    LlmCall,
    PlanningContext,
    ReadContextInput,
    RecordFinishedInput,
    RunIdentity,
    RunOutcome,
    RunPlan,
    RunStartedInput,
    RunStatus,
    Trigger,
)
from activity_core.store.models import RunFinished, RunStarted
from activity_core.store.runs import RunStore
from activity_core.ticks import is_schedule_tick, local_date_of

MAX_HEARTBEAT_INTERVAL_SECONDS = 5.0
# What the row and the history keep of a raw answer: twice the boundary's total budget, so
# an oversized answer is still seen (and quarantined) as oversized, yet cannot exceed
# Temporal's payload limit.
RAW_KEEP_FACTOR = 2


@dataclass(frozen=True)
class TriageDependencies:
    """Everything the activities touch, built once by the worker."""

    definitions_dir: Path
    state_hub: StateHubClient
    llm_connect: LlmConnectClient
    runs: RunStore
    metrics: Metrics
    scrub: Callable[[str], str]


def _log(definition_id: str, message: str, *args: object) -> None:
    """One line per step; Temporal's activity logger adds the workflow and run ids."""
    activity.logger.info(message, *args, extra={"definition_id": definition_id})


def _failure(status: RunStatus, message: str, *, retryable: bool) -> ApplicationError:
    return ApplicationError(
        message,
        {"attempt": activity.info().attempt},
        type=status.value,
        non_retryable=not retryable,
    )


class TriageActivities:
    def __init__(self, deps: TriageDependencies) -> None:
        self._deps = deps
        self._definitions = DefinitionCache(deps.definitions_dir)

    # -- helpers -----------------------------------------------------------------------

    def _definition(self, definition_id: str) -> LoadedDefinition:
        try:
            return self._definitions.get(definition_id)
        except (DefinitionError, DefinitionNotFound) as exc:
            raise _failure(RunStatus.FAILED_CONFIG, str(exc), retryable=False) from None

    def _state_hub_failure(self, exc: StateHubError, operation: str) -> ApplicationError:
        self._deps.metrics.count_state_hub_failure(operation)
        return _failure(RunStatus.FAILED_STATE_HUB, self._deps.scrub(str(exc)), retryable=exc.retryable)

    # -- activities --------------------------------------------------------------------

    @activity.defn
    async def load_run_plan(self, definition_id: str) -> RunPlan:
        definition = self._definition(definition_id).definition
        return RunPlan(
            definition_id=definition.id,
            call_timeout_seconds=definition.llm.call_timeout_seconds,
            heartbeat_timeout_seconds=definition.llm.heartbeat_timeout_seconds,
            max_attempts=definition.llm.max_attempts,
            retry_initial_seconds=definition.llm.retry_initial_seconds,
            retry_total_seconds=definition.llm.retry_total_seconds,
            reask_on_failed_output=definition.llm.reask_on_failed_output,
            state_hub_retry_total_seconds=definition.evidence.state_hub_retry_total_seconds,
        )

    @activity.defn
    async def record_run_started(self, started: RunStartedInput) -> RunIdentity:
        schedule = self._definition(started.definition_id).definition.schedule
        trigger = Trigger.SCHEDULE if is_schedule_tick(started.scheduled_at, schedule) else Trigger.MANUAL
        local_date = local_date_of(started.scheduled_at or started.started_at, schedule.time_zone)
        await self._deps.runs.record_run_started(
            RunStarted(
                definition_id=started.definition_id,
                workflow_id=started.workflow_id,
                run_id=started.run_id,
                trigger=trigger.value,
                scheduled_at=started.scheduled_at,
                local_date=local_date,
                started_at=started.started_at,
            )
        )
        return RunIdentity(trigger=trigger.value, local_date=local_date.isoformat(), scheduled_at=started.scheduled_at)

    @activity.defn
    async def read_context(self, request: ReadContextInput) -> PlanningContext:
        definition = self._definition(request.definition_id).definition
        try:
            workstreams = await self._deps.state_hub.list_workstreams(definition.context.workstreams.status)
            tasks = await self._deps.state_hub.list_tasks(definition.context.tasks.status)
        except StateHubError as exc:
            raise self._state_hub_failure(exc, "read_context") from None
        limits = definition.context.prompt_limits
        bounded = bound_context(
            workstreams, tasks, max_workstreams=limits.max_workstreams, max_tasks=limits.max_tasks
        )
        _log(
            definition.id,
            "read %d workstreams and %d tasks from State Hub; %d and %d go into the prompt",
            len(workstreams), len(tasks), bounded.workstreams_in_prompt, bounded.tasks_in_prompt,
        )
        return PlanningContext(
            prompt_context=bounded.text,
            known_refs=bounded.known_refs,
            workstreams_total=len(workstreams),
            tasks_total=len(tasks),
            workstreams_in_prompt=bounded.workstreams_in_prompt,
            tasks_in_prompt=bounded.tasks_in_prompt,
        )

    @activity.defn
    async def call_llm(self, request: CallLlmInput) -> LlmCall:
        loaded = self._definition(request.definition_id)
        definition = loaded.definition
        config = RunConfig(
            prompt=render_prompt(
                loaded.prompt_template,
                local_date=request.local_date,
                top_n=definition.output.top_n,
                context=request.prompt_context,
                item_schema=prompt_schema(definition.output),
                reask_feedback=request.reask_feedback,
            ),
            model_name=definition.llm.model_name,
            temperature=definition.llm.temperature,
            max_tokens=definition.llm.max_tokens,
            max_depth=definition.llm.max_depth,
            model_params=run_config_model_params(definition.output, definition.llm.model_params),
            system_prompt=definition.llm.system_prompt,
        )
        attempt = activity.info().attempt
        started = time.monotonic()
        try:
            async with _heartbeating():
                await self._deps.llm_connect.health()
                response = await self._deps.llm_connect.execute(
                    config,
                    request_id=f"{request.workflow_id}/{request.run_id}",
                    source=f"{SOURCE}/{request.definition_id}",
                )
        except LlmConnectError as exc:
            self._deps.metrics.observe_llm_call(request.definition_id, time.monotonic() - started, exc.failure_class)
            activity.logger.warning(
                "llm-connect call failed (%s, attempt %d)", exc.failure_class, attempt,
                extra={"definition_id": request.definition_id},
            )
            raise _failure(RunStatus(exc.failure_class), self._deps.scrub(str(exc)), retryable=exc.retryable) from None
        latency = time.monotonic() - started
        self._deps.metrics.observe_llm_call(request.definition_id, latency, None)
        _log(
            request.definition_id,
            "llm-connect answered in %d ms: %d chars, finish_reason=%s, attempt %d",
            int(latency * 1000), len(response.content), response.finish_reason, attempt,
        )
        return LlmCall(
            content=_clip_utf8(response.content, definition.output.limits.max_total_bytes * RAW_KEEP_FACTOR),
            finish_reason=response.finish_reason,
            model=response.model,
            provider=response.provider,
            usage=response.usage,
            latency_ms=int(latency * 1000),
            attempts=attempt,
        )

    @activity.defn
    async def apply_boundary(self, request: BoundaryInput) -> dict[str, Any]:
        contract = self._definition(request.definition_id).definition.output
        result = parse_report(
            request.content,
            contract=contract,
            spec=report_spec(contract),
            known_refs=request.known_refs,
            finish_reason=request.finish_reason,
        )
        report = result.to_dict()
        _log(
            request.definition_id,
            "boundary: %s (%s framing), %d kept, %d quarantined, truncated=%s",
            result.status, result.framing, result.counts.accepted, result.counts.quarantined, result.truncated,
        )
        if result.status == "failed":
            report["reask_feedback"] = result.reask_feedback(contract.framing)
        return report

    @activity.defn
    async def post_progress(self, outcome: RunOutcome) -> str:
        """Post the run's event once as State Hub sees it: stored id first, then an idempotency key."""
        stored = await self._deps.runs.progress_event_id(outcome.workflow_id)
        if stored is not None:
            _log(outcome.definition_id, "progress event %s already posted; not posting again", stored)
            return stored
        definition = self._definition(outcome.definition_id).definition
        event = ProgressEvent(
            event_type=definition.evidence.progress_event_type,
            source=SOURCE,
            workstream_id=None,
            summary=progress_summary(outcome),
            payload=progress_payload(outcome),
            idempotency_key=outcome.workflow_id,
        )
        try:
            event_id = await self._deps.state_hub.post_progress(event)
        except StateHubError as exc:
            raise self._state_hub_failure(exc, "post_progress") from None
        await self._deps.runs.set_progress_event_id(outcome.workflow_id, outcome.run_id, event_id)
        _log(outcome.definition_id, "posted %s progress event %s", event.event_type, event_id)
        return event_id

    @activity.defn
    async def write_note(self, outcome: RunOutcome) -> EvidenceIds:
        definition = self._definition(outcome.definition_id).definition
        key = definition.evidence.note_key(outcome.local_date)
        note = Note(
            key=key,
            title=f"Daily WSJF triage {outcome.local_date}",
            body_markdown=note_markdown(outcome),
            tags=list(definition.evidence.note_tags),
        )
        try:
            note_id = await self._deps.state_hub.write_note(note)
        except StateHubError as exc:
            raise self._state_hub_failure(exc, "write_note") from None
        await self._deps.runs.set_note_id(outcome.workflow_id, outcome.run_id, note_id, key)
        _log(outcome.definition_id, "wrote working-memory note %s", key)
        return EvidenceIds(progress_event_id=None, note_id=note_id, note_key=key)

    @activity.defn
    async def record_run_finished(self, finished: RecordFinishedInput) -> None:
        outcome = finished.outcome
        boundary = outcome.boundary or {}
        items = list(boundary.get("items", []))
        quarantined = list(boundary.get("quarantined", []))
        llm = outcome.llm
        await self._deps.runs.record_run_finished(
            RunFinished(
                workflow_id=outcome.workflow_id,
                run_id=outcome.run_id,
                status=outcome.status,
                finished_at=finished.finished_at,
                error_message=outcome.error_message,
                framing=boundary.get("framing"),
                truncated=boundary.get("truncated"),
                summary=boundary.get("summary"),
                items=items,
                quarantined=quarantined,
                counts=boundary.get("counts", {}),
                llm_model=llm.model if llm else None,
                llm_provider=llm.provider if llm else None,
                llm_usage=llm.usage if llm else None,
                llm_finish_reason=llm.finish_reason if llm else None,
                llm_latency_ms=llm.latency_ms if llm else None,
                llm_attempts=llm.attempts if llm else outcome.llm_attempts_failed,
                reasks=outcome.reasks,
                raw_content=llm.content if llm else None,
                timings=outcome.timings,
                known_refs=outcome.known_refs,
            )
        )
        reasons: dict[str, int] = {}
        for entry in quarantined:
            reasons[str(entry.get("reason"))] = reasons.get(str(entry.get("reason")), 0) + 1
        self._deps.metrics.observe_run(outcome.definition_id, outcome.status, len(items), reasons)
        _log(outcome.definition_id, "run finished: %s", outcome.status)

    def all(self) -> list[Callable[..., Any]]:
        return [
            self.load_run_plan,
            self.record_run_started,
            self.read_context,
            self.call_llm,
            self.apply_boundary,
            self.post_progress,
            self.write_note,
            self.record_run_finished,
        ]


def _clip_utf8(text: str, max_bytes: int) -> str:
    """At most ``max_bytes`` of UTF-8, cut on a character boundary."""
    encoded = text.encode("utf-8", errors="surrogatepass")
    if len(encoded) <= max_bytes:
        return text
    return encoded[:max_bytes].decode("utf-8", errors="ignore")


@asynccontextmanager
async def _heartbeating() -> AsyncIterator[None]:
    """Heartbeat while a long call is in flight, so a dead worker is noticed in seconds."""

    timeout = activity.info().heartbeat_timeout
    interval = MAX_HEARTBEAT_INTERVAL_SECONDS
    if timeout is not None:
        interval = min(interval, timeout.total_seconds() / 4)

    async def beat() -> None:
        while True:
            activity.heartbeat()
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
