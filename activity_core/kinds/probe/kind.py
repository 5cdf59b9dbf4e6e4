"""The probe kind as the registry sees it: its model, workflow, activities, evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import TypeAdapter

from activity_core.definitions.loader import DefinitionError
from activity_core.kinds.probe.activities import ProbeActivities, ProbeDependencies
from activity_core.kinds.probe.checks import issue_core_health_check, llm_connect_smoke_check, standard_checks
from activity_core.kinds.probe.definition import ProbeDefinition
from activity_core.kinds.probe.llm_smoke import SmokeRequest, triage_smoke_request
from activity_core.kinds.probe.models import ProbePlan, ProbeReport
from activity_core.kinds.probe.outcome import outcome_of
from activity_core.kinds.probe.spec import TargetSpec
from activity_core.kinds.probe.workflow import ProbeRun
from activity_core.runs.activities import LifecycleActivities
from activity_core.runs.evidence import ProgressDraft
from activity_core.runs.models import KindOutcome
from activity_core.runs.services import Services
from activity_core.store.models import RunRecord

_REPORT = TypeAdapter(ProbeReport)


def activities(services: Services, lifecycle: LifecycleActivities) -> Sequence[Callable[..., Any]]:
    def targets(definition_id: str) -> list[TargetSpec]:
        loaded = services.definitions.get(definition_id)
        if not isinstance(loaded.definition, ProbeDefinition):
            raise DefinitionError(loaded.path, [f"kind: {definition_id} is of kind {loaded.definition.kind!r}"])
        return list(loaded.definition.targets)

    def smoke_request() -> SmokeRequest:
        return triage_smoke_request(services.definitions.directory, budget_seconds=services.ceilings.llm_call_seconds)

    checks = (
        standard_checks(
            llm_connect=services.llm_connect,
            state_hub=services.state_hub,
            temporal=services.temporal,
            database_dsn=services.database_dsn,
            issue_core_health=issue_core_health_check(services.issue_core, services.issue_core_health_url),
        )
        if services.temporal is not None
        else {}
    )
    deps = ProbeDependencies(
        targets=targets,
        checks=checks,
        llm_smoke=llm_connect_smoke_check(services.llm_connect, smoke_request, scrub=services.scrub),
        scrub=services.scrub,
    )
    return ProbeActivities(deps).all()


def progress(definition: ProbeDefinition, record: RunRecord | None, outcome: KindOutcome) -> ProgressDraft:
    """The ``ops_inventory_probe`` event: each target's status, latency and short error.

    Rendered from the outcome alone: a probe posts it before its row exists (PostgreSQL may be
    the target that is down)."""
    report = _REPORT.validate_python(outcome.result) if outcome.result is not None else ProbeReport(targets=[])
    judged = outcome_of(ProbePlan(definition_id=definition.id, targets=[]), report)
    summary = judged.summary if outcome.result is not None else f"ops inventory probe: {outcome.status}"
    payload = {**judged.payload, "status": outcome.status, "error_message": outcome.error_message}
    if outcome.status.startswith("failed_"):
        payload["failure_class"] = outcome.status
        summary = f"{summary}: {outcome.error_message or 'no detail'}"[:1000]
    return ProgressDraft(summary=summary, payload=payload)


__all__ = ["ProbeDefinition", "ProbeRun", "activities", "progress"]
