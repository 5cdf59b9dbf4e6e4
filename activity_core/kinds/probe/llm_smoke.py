"""The deep check of llm-connect: the smoke path LLM-WP-0006 T06/T07 asks for before clean
scheduled runs are counted.

It posts the daily triage's own RunConfig (model profile, temperature, tokens, depth,
model_params, prompt template and output contract, all from the triage definition) around a
fixture planning state instead of live State Hub data, runs the boundary on the answer, and
reports health, latency against the call budget, and, when it fails, which of five things
failed: ``transport`` (no HTTP answer), ``timeout`` (no answer within the budget),
``provider`` (llm-connect or its provider answered an error, or broke its own contract),
``configuration`` (unknown profile, missing provider secret, invalid RunConfig) or
``answer_shape`` (an answer, but no item survived the boundary). Never in the report: the
prompt, a header, a token; error texts come from the client (which keeps the request out)
and pass the worker's scrub.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from activity_core.boundary import OutputContract, parse_report
from activity_core.clients.llm_connect import (
    LlmConnectClient,
    LlmConnectConfigurationError,
    LlmConnectError,
    LlmConnectTimeout,
    LlmConnectTransportError,
    RunConfig,
)
from activity_core.clients.state_hub import Task, Workstream
from activity_core.kinds.instruction.definition import TRIAGE_DEFINITION_ID
from activity_core.kinds.instruction.item_models import report_spec

TRIAGE_DEFINITION = TRIAGE_DEFINITION_ID
SOURCE = f"activity-core/smoke/{TRIAGE_DEFINITION}"
FIXTURE_DATE = "2026-06-26"

# A small, fixed planning state in the shape State Hub serves; no live data, nothing secret.
FIXTURE_WORKSTREAMS = [
    Workstream(
        id="5b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e01",
        slug="smoke-llm-endpoint",
        title="Smoke: always-on LLM endpoint",
        status="active",
        planning_priority="high",
        planning_order=1,
    ),
    Workstream(
        id="5b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e02",
        slug="smoke-scheduled-triage",
        title="Smoke: trusted scheduled runs",
        status="active",
        planning_priority="medium",
        planning_order=2,
    ),
]
FIXTURE_TASKS = [
    Task(
        id="5b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e11",
        key="SMOKE-1",
        title="Publish the verified endpoint URL",
        status="active",
        priority="high",
        workstream_id=FIXTURE_WORKSTREAMS[0].id,
    ),
    Task(
        id="5b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e12",
        key="SMOKE-2",
        title="Record one smoke run's evidence",
        status="todo",
        priority="medium",
        workstream_id=FIXTURE_WORKSTREAMS[0].id,
    ),
    Task(
        id="5b0c6f7e-1d2a-4c3b-9e8f-0a1b2c3d4e13",
        key="SMOKE-3",
        title="Count three clean scheduled runs",
        status="blocked",
        priority="high",
        workstream_id=FIXTURE_WORKSTREAMS[1].id,
    ),
]


@dataclass(frozen=True)
class SmokeRequest:
    config: RunConfig = field(repr=False)
    known_refs: list[str]
    contract: OutputContract
    budget_seconds: float


def triage_smoke_request(definitions_dir: Path, *, budget_seconds: float) -> SmokeRequest:
    """The daily triage's own request around the fixture planning state.

    The one place the smoke depends on the instruction kind (its definition loader, its
    context bounding and its RunConfig builder): when those move, this function follows.
    Raises the loader's ``DefinitionError`` / ``DefinitionNotFound``.
    """
    from activity_core.definitions.loader import DefinitionError, load_definition
    from activity_core.kinds.instruction.activities import run_config_for
    from activity_core.kinds.instruction.definition import InstructionDefinition
    from activity_core.kinds.instruction.prompting import bound_context

    loaded = load_definition(TRIAGE_DEFINITION, definitions_dir)
    definition = loaded.definition
    if not isinstance(definition, InstructionDefinition):
        raise DefinitionError(loaded.path, [f"kind: {TRIAGE_DEFINITION} must be an instruction to be smoke-tested"])
    limits = definition.context.prompt_limits
    context = bound_context(
        FIXTURE_WORKSTREAMS, FIXTURE_TASKS, max_workstreams=limits.max_workstreams, max_tasks=limits.max_tasks
    )
    template = loaded.files[definition.prompt.template]
    return SmokeRequest(
        config=run_config_for(definition, template, local_date=FIXTURE_DATE, context=context.text),
        known_refs=context.known_refs,
        contract=definition.output,
        budget_seconds=budget_seconds,
    )


@dataclass(frozen=True)
class SmokeReport:
    passed: bool
    failure: str | None  # transport | timeout | provider | configuration | answer_shape
    error: str | None
    health: str  # "ok", or "failed"
    health_ms: int | None
    latency_ms: int | None  # POST /execute
    budget_seconds: float
    budget_used: float | None  # latency as a fraction of the budget
    model: str | None = None
    provider: str | None = None
    finish_reason: str | None = None
    boundary_status: str | None = None  # clean | partial | failed
    items_kept: int | None = None
    items_quarantined: int | None = None
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def headline(self) -> str:
        if self.passed:
            return f"pass: {self.boundary_status}, {self.items_kept} item(s) kept in {self.latency_ms} ms"
        return f"{self.failure}: {self.error}"


def failure_kind(exc: LlmConnectError) -> str:
    if isinstance(exc, LlmConnectTransportError):
        return "transport"
    if isinstance(exc, LlmConnectTimeout):
        return "timeout"
    if isinstance(exc, LlmConnectConfigurationError):
        return "configuration"
    return "provider"


async def run_llm_smoke(
    llm: LlmConnectClient, request: SmokeRequest, *, request_id: str, scrub: Callable[[str], str]
) -> SmokeReport:
    """One health call and one execute, judged; never raises for llm-connect's answers."""

    def failure(exc: LlmConnectError, *, health_ms: int | None, latency_ms: int | None) -> SmokeReport:
        return SmokeReport(
            passed=False,
            failure=failure_kind(exc),
            error=scrub(str(exc)),
            health="ok" if health_ms is not None else "failed",
            health_ms=health_ms,
            latency_ms=latency_ms,
            budget_seconds=request.budget_seconds,
            budget_used=None,
        )

    started = time.monotonic()
    try:
        await llm.health()
    except LlmConnectError as exc:
        return failure(exc, health_ms=None, latency_ms=None)
    health_ms = _ms_since(started)
    started = time.monotonic()
    try:
        response = await llm.execute(request.config, request_id=request_id, source=SOURCE)
    except LlmConnectError as exc:
        return failure(exc, health_ms=health_ms, latency_ms=_ms_since(started))
    latency_ms = _ms_since(started)
    result = parse_report(
        response.content,
        contract=request.contract,
        spec=report_spec(request.contract),
        known_refs=request.known_refs,
        finish_reason=response.finish_reason,
    )
    reasons = Counter(q.reason.value for q in result.quarantined)
    answer_failed = result.status == "failed"
    return SmokeReport(
        passed=not answer_failed,
        failure="answer_shape" if answer_failed else None,
        error=f"no item survived the boundary ({_reasons_text(reasons)})" if answer_failed else None,
        health="ok",
        health_ms=health_ms,
        latency_ms=latency_ms,
        budget_seconds=request.budget_seconds,
        budget_used=round(latency_ms / 1000 / request.budget_seconds, 4),
        model=response.model,
        provider=response.provider,
        finish_reason=response.finish_reason,
        boundary_status=result.status,
        items_kept=result.counts.accepted,
        items_quarantined=result.counts.quarantined,
        quarantine_reasons=dict(reasons),
    )


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _reasons_text(reasons: Counter[str]) -> str:
    return ", ".join(f"{reason} x{count}" for reason, count in reasons.most_common(5)) or "nothing parseable"
