"""The instruction kind's steps, one small activity each: plan, read, ask, judge, emit tasks.

Large values stay with the run in PostgreSQL (``run_artifacts``): the planning context, the
allow-list, the candidates' workstreams and repos, each answer and the boundary's feedback
for a re-ask. Only sizes and digests go
into Temporal history, so a 512 KiB answer costs the history nothing, and a secret a model
echoes is replaced before the answer is kept anywhere.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activity_core.boundary import parse_report
from activity_core.clients.issue_core import IssueCoreError
from activity_core.clients.llm_connect import LlmConnectError, RunConfig
from activity_core.clients.state_hub import StateHubError
from activity_core.definitions.loader import DefinitionError, DefinitionNotFound, LoadedDefinition
from activity_core.kinds.instruction.definition import InstructionDefinition
from activity_core.kinds.instruction.item_models import prompt_schema, report_spec, run_config_model_params
from activity_core.kinds.instruction.models import (
    Answer,
    AskInput,
    InstructionPlan,
    JudgeInput,
    Judgement,
    PlanningContext,
    TaskEmission,
)
from activity_core.kinds.instruction.prompting import bound_context, render_prompt
from activity_core.kinds.instruction.task_specs import CandidateTarget, build_task_specs, candidate_targets
from activity_core.runs.evidence import SOURCE
from activity_core.runs.failures import step_failure
from activity_core.runs.models import RunRef, RunStatus
from activity_core.runs.services import Services
from activity_core.store.models import LlmCallRecord, RunReport
from activity_core.tasks.emission import RESULT_KEY, EmissionSummary

MAX_HEARTBEAT_INTERVAL_SECONDS = 5.0
# What the row keeps of a raw answer: twice the boundary's total budget, so an oversized answer
# is still seen (and quarantined) as oversized, yet the row stays bounded.
RAW_KEEP_FACTOR = 2
CONTEXT, KNOWN_REFS, TARGETS = "context", "known-refs", "candidate-targets"
# An emission attempt needs at least this long to look its specs up; a retry with less left is none.
_MIN_ATTEMPT = timedelta(seconds=5)


@dataclass(frozen=True)
class ModelCall:
    content: str
    record: LlmCallRecord


def answer_artifact(ask: int) -> str:
    return f"answer-{ask}"


def feedback_artifact(ask: int) -> str:
    return f"reask-feedback-{ask}"


class InstructionActivities:
    def __init__(self, services: Services) -> None:
        self._services = services

    @property
    def services(self) -> Services:
        return self._services

    def loaded(self, definition_id: str) -> tuple[InstructionDefinition, LoadedDefinition]:
        try:
            loaded = self._services.definitions.get(definition_id)
        except (DefinitionError, DefinitionNotFound) as exc:
            raise step_failure(RunStatus.FAILED_CONFIG, str(exc), retryable=False) from None
        if not isinstance(loaded.definition, InstructionDefinition):
            raise step_failure(RunStatus.FAILED_CONFIG, f"{definition_id} is not an instruction", retryable=False)
        return loaded.definition, loaded

    @activity.defn
    async def plan_instruction(self, run: RunRef) -> InstructionPlan:
        definition, _ = self.loaded(run.definition_id)
        return InstructionPlan(
            llm_call_seconds=definition.llm.call_timeout_seconds,
            heartbeat_timeout_seconds=definition.llm.heartbeat_timeout_seconds,
            max_attempts=definition.llm.max_attempts,
            retry_initial_seconds=definition.llm.retry_initial_seconds,
            retry_total_seconds=definition.llm.retry_total_seconds,
            reask_on_failed_output=definition.llm.reask_on_failed_output,
            state_hub_call_seconds=self._services.ceilings.state_hub_call_seconds,
            state_hub_retry_total_seconds=definition.evidence.state_hub_retry_total_seconds,
            emits_tasks=definition.tasks is not None,
            task_retry_initial_seconds=definition.evidence.retry_initial_seconds,
        )

    @activity.defn
    async def read_planning_context(self, run: RunRef) -> PlanningContext:
        definition, _ = self.loaded(run.definition_id)
        try:
            workstreams = await self._services.state_hub.list_workstreams(definition.context.workstreams.status)
            tasks = await self._services.state_hub.list_tasks(definition.context.tasks.status)
        except StateHubError as exc:
            self._services.metrics.count_state_hub_failure("read_context")
            raise step_failure(
                RunStatus.FAILED_STATE_HUB, self._services.scrub(str(exc)), retryable=exc.retryable
            ) from None
        limits = definition.context.prompt_limits
        bounded = bound_context(workstreams, tasks, max_workstreams=limits.max_workstreams, max_tasks=limits.max_tasks)
        # A secret State Hub holds (echoed in a title, say) reaches neither the row nor the model.
        context = self._services.scrub(bounded.text)
        await self._services.runs.put_artifact(run.workflow_id, run.run_id, CONTEXT, context)
        await self._services.runs.put_artifact(run.workflow_id, run.run_id, KNOWN_REFS, json.dumps(bounded.known_refs))
        if definition.tasks is not None:
            targets = candidate_targets(workstreams, tasks)
            kept = self._services.scrub(json.dumps({ref: t.model_dump() for ref, t in targets.items()}))
            await self._services.runs.put_artifact(run.workflow_id, run.run_id, TARGETS, kept)
        _log(
            run.definition_id,
            "read %d workstreams and %d tasks from State Hub; %d and %d go into the prompt",
            len(workstreams),
            len(tasks),
            bounded.workstreams_in_prompt,
            bounded.tasks_in_prompt,
        )
        return PlanningContext(
            workstreams_total=len(workstreams),
            tasks_total=len(tasks),
            workstreams_in_prompt=bounded.workstreams_in_prompt,
            tasks_in_prompt=bounded.tasks_in_prompt,
        )

    @activity.defn
    async def ask_model(self, request: AskInput) -> Answer:
        run = request.run
        runs = self._services.runs
        context = await runs.artifact(run.workflow_id, run.run_id, CONTEXT) or ""
        feedback = await runs.artifact(run.workflow_id, run.run_id, feedback_artifact(request.ask - 1))
        call = await self.call_model(run, local_date=request.local_date, context=context, feedback=feedback)
        name = answer_artifact(request.ask)
        digest = await runs.put_artifact(run.workflow_id, run.run_id, name, call.content)
        await runs.set_llm_call(run.workflow_id, run.run_id, call.record)
        return Answer(
            artifact=name,
            sha256=digest,
            bytes=len(call.content.encode("utf-8", errors="surrogatepass")),
            finish_reason=call.record.finish_reason,
            attempts=call.record.attempts,
        )

    async def call_model(self, run: RunRef, *, local_date: str, context: str, feedback: str | None) -> ModelCall:
        """One POST /execute for the run, its answer with every configured secret replaced."""
        definition, loaded = self.loaded(run.definition_id)
        template = loaded.files[definition.prompt.template]
        config = run_config_for(definition, template, local_date=local_date, context=context, feedback=feedback)
        attempt = activity.info().attempt
        started = time.monotonic()
        try:
            async with _heartbeating():
                await self._services.llm_connect.health()
                response = await self._services.llm_connect.execute(
                    config,
                    request_id=f"{run.workflow_id}/{run.run_id}",
                    source=f"{SOURCE}/{run.definition_id}",
                    # an answer past what the row keeps is a contract error, not a memory spike
                    max_body_bytes=definition.output.limits.max_total_bytes * RAW_KEEP_FACTOR,
                )
        except LlmConnectError as exc:
            self._services.metrics.observe_llm_call(run.definition_id, time.monotonic() - started, exc.failure_class)
            activity.logger.warning(
                "llm-connect call failed (%s, attempt %d)",
                exc.failure_class,
                attempt,
                extra={"definition_id": run.definition_id},
            )
            await self._services.runs.set_llm_attempts(run.workflow_id, run.run_id, attempt)
            raise step_failure(
                RunStatus(exc.failure_class), self._services.scrub(str(exc)), retryable=exc.retryable
            ) from None
        latency = time.monotonic() - started
        self._services.metrics.observe_llm_call(run.definition_id, latency, None)
        content = _clip_utf8(
            self._services.scrub(response.content), definition.output.limits.max_total_bytes * RAW_KEEP_FACTOR
        )
        _log(
            run.definition_id,
            "llm-connect answered in %d ms: %d chars, finish_reason=%s, attempt %d",
            int(latency * 1000),
            len(content),
            response.finish_reason,
            attempt,
        )
        record = LlmCallRecord(
            model=response.model,
            provider=response.provider,
            usage=response.usage,
            finish_reason=response.finish_reason,
            latency_ms=int(latency * 1000),
            attempts=attempt,
            versions={
                "model": response.model,
                "prompt_template_sha256": sha256(template.encode()).hexdigest(),
                "item_schema": definition.output.item_schema,
            },
        )
        return ModelCall(content=content, record=record)

    @activity.defn
    async def judge_answer(self, request: JudgeInput) -> Judgement:
        run = request.run
        definition, _ = self.loaded(run.definition_id)
        runs = self._services.runs
        content = await runs.artifact(run.workflow_id, run.run_id, request.answer.artifact) or ""
        known_refs = json.loads(await runs.artifact(run.workflow_id, run.run_id, KNOWN_REFS) or "[]")
        result = parse_report(
            content,
            contract=definition.output,
            spec=report_spec(definition.output),
            known_refs=known_refs,
            finish_reason=request.answer.finish_reason,
        )
        report = result.to_dict()
        await runs.set_report(
            run.workflow_id,
            run.run_id,
            RunReport(
                framing=result.framing,
                truncated=result.truncated,
                summary=result.summary,
                items=report["items"],
                quarantined=report["quarantined"],
                counts=report["counts"],
                raw_content=content,
                known_refs=known_refs,
                reasks=request.ask - 1,
            ),
        )
        if result.status == "failed":
            await runs.put_artifact(
                run.workflow_id,
                run.run_id,
                feedback_artifact(request.ask),
                result.reask_feedback(definition.output.framing),
            )
        _log(
            run.definition_id,
            "boundary: %s (%s framing), %d kept, %d quarantined, truncated=%s",
            result.status,
            result.framing,
            result.counts.accepted,
            result.counts.quarantined,
            result.truncated,
        )
        return Judgement(status=result.status, kept=result.counts.accepted, quarantined=result.counts.quarantined)

    @activity.defn
    async def emit_tasks(self, run: RunRef) -> TaskEmission:
        """The report's task specs, through ``TaskEmitter`` (outbox first, then the sink the
        ceiling allows). Safe to retry at any point: the emitter files no task twice. While a
        spec is left unknown it fails retryably, so the next attempt reconciles it; the last
        attempt records what is left instead, so the run keeps its report either way."""
        definition, _ = self.loaded(run.definition_id)
        emitter = self._services.tasks
        if definition.tasks is None or emitter is None:
            return TaskEmission(sink="none")  # the block was removed since the run planned
        runs = self._services.runs
        record = await runs.run_record(run.workflow_id, run.run_id)
        stored = json.loads(await runs.artifact(run.workflow_id, run.run_id, TARGETS) or "{}")
        batch = build_task_specs(
            definition.tasks,
            definition_id=run.definition_id,
            workflow_id=run.workflow_id,
            run_id=run.run_id,
            local_date=record.local_date,
            boundary={"items": record.items or [], "quarantined": record.quarantined or []},
            targets={ref: CandidateTarget.model_validate(target) for ref, target in stored.items()},
            scrub=self._services.scrub,
        )
        async with _heartbeating():
            summary = await emitter.emit(batch)
        # Every attempt records what it came to: should the last one never return, the row still tells.
        await runs.set_result(run.workflow_id, run.run_id, {**(record.result or {}), RESULT_KEY: summary.evidence()})
        emission = _emission(summary)
        _log(run.definition_id, "%s", emission.describe())
        if summary.needs_retry:
            attempt = activity.info().attempt
            if not _last_attempt(activity.info()):
                raise ApplicationError(
                    f"{summary.pending} task spec(s) unsettled after attempt {attempt}; the next attempt looks them up",
                    {"attempt": attempt},
                    type=IssueCoreError.failure_class,
                )
            activity.logger.warning(
                "task emission gave up after attempt %d with %d spec(s) unsettled; the report stands",
                attempt, summary.pending, extra={"definition_id": run.definition_id},
            )  # fmt: skip
        return emission

    def all(self) -> list[Callable[..., Any]]:
        return [self.plan_instruction, self.read_planning_context, self.ask_model, self.judge_answer, self.emit_tasks]


def _emission(summary: EmissionSummary) -> TaskEmission:
    counts = summary.counts
    return TaskEmission(
        sink=summary.sink,
        planned=counts["planned"],
        dry_run=counts["dry_run"],
        created=counts["created"],
        duplicate=counts["duplicate"],
        commented=counts["commented"],
        unknown=counts["unknown"],
        failed=counts["failed"],
        not_emitted=counts["not_emitted"],
        pending=summary.pending,
    )


def _last_attempt(info: activity.Info) -> bool:
    """No retry follows this attempt: it is the last the retry policy allows, or the next
    would start after the schedule-to-close deadline."""
    policy = info.retry_policy
    if policy is None:
        return True
    if policy.maximum_attempts and info.attempt >= policy.maximum_attempts:
        return True
    if info.schedule_to_close_timeout is None:
        return False
    backoff = policy.initial_interval * (policy.backoff_coefficient ** (info.attempt - 1))
    if policy.maximum_interval is not None:
        backoff = min(backoff, policy.maximum_interval)
    deadline = info.scheduled_time + info.schedule_to_close_timeout
    return datetime.now(UTC) + backoff + _MIN_ATTEMPT >= deadline


def _log(definition_id: str, message: str, *args: object) -> None:
    """One line per step; Temporal's activity logger adds the workflow and run ids."""
    activity.logger.info(message, *args, extra={"definition_id": definition_id})


def run_config_for(
    definition: InstructionDefinition, template: str, *, local_date: str, context: str, feedback: str | None = None
) -> RunConfig:
    """The llm-connect request of an instruction run: the definition's RunConfig around the prompt
    rendered from its template. The llm-connect smoke sends exactly this, with a fixture context."""
    return RunConfig(
        prompt=render_prompt(
            template,
            local_date=local_date,
            top_n=definition.output.top_n,
            context=context,
            item_schema=prompt_schema(definition.output),
            reask_feedback=feedback,
        ),
        model_name=definition.llm.model_name,
        temperature=definition.llm.temperature,
        max_tokens=definition.llm.max_tokens,
        max_depth=definition.llm.max_depth,
        model_params=run_config_model_params(definition.output, definition.llm.model_params),
        system_prompt=definition.llm.system_prompt,
    )


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
