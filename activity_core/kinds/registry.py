"""The kind registry: a definition's ``kind`` selects its model, workflow, activities and evidence.

Adding a kind is adding its folder under ``activity_core/kinds/`` and one entry here; nothing
generic changes. The worker registers exactly the workflows and activities listed here (a
test holds it to that), so there is no workflow a definition could not have asked for.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client

from activity_core.calibration.figures import Figure
from activity_core.definitions.base import DefinitionBase
from activity_core.kinds.instruction import kind as instruction
from activity_core.kinds.instruction.figures import instruction_figures
from activity_core.kinds.probe import kind as probe
from activity_core.kinds.trigger import kind as trigger
from activity_core.runs.activities import LifecycleActivities
from activity_core.runs.evidence import NoteDraft, ProgressDraft
from activity_core.runs.models import Evidence, KindOutcome
from activity_core.runs.services import Services
from activity_core.store.models import RunRecord


@dataclass(frozen=True)
class Kind:
    name: str
    definition: type[DefinitionBase]
    workflow: type
    activities: Callable[[Services, LifecycleActivities], Sequence[Callable[..., Any]]]
    evidence: frozenset[Evidence]
    progress: Callable[[Any, RunRecord | None, KindOutcome], ProgressDraft]
    """The progress event's summary line and payload, from the definition, the row and the outcome
    (the row is None for a kind whose workflow records it after its evidence)."""
    note: Callable[[Any, RunRecord, KindOutcome], NoteDraft] | None = None
    frozen_workflows: Sequence[type] = field(default_factory=tuple)
    """Superseded workflow types kept registered for one release, so runs in flight finish."""
    figures: Callable[[Any, Sequence[RunRecord]], Sequence[Figure]] | None = None
    """The kind's calibration figures over a window's on-time scheduled runs (oldest first)."""
    helper_workflows: Sequence[type] = field(default_factory=tuple)
    """Workflows the kind's own workflow starts (children), never a definition's entry point."""
    busy: Callable[[Client, str], Awaitable[str | None]] | None = None
    """Why a manual run of a definition must not start now (None: it may), asked before one starts."""
    unpause_after: str | None = None
    """What must happen before a disabled definition of this kind is enabled (its paused schedule's
    note says it); ``{id}`` is the definition's id."""

    @property
    def workflow_name(self) -> str:
        """The name Temporal knows the kind's workflow by (what schedules and operators start)."""
        return str(getattr(self.workflow, "__temporal_workflow_definition").name)


KINDS: Mapping[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            name="instruction",
            definition=instruction.InstructionDefinition,
            workflow=instruction.InstructionRun,
            activities=instruction.activities,
            evidence=frozenset({Evidence.ROW, Evidence.PROGRESS_EVENT, Evidence.NOTE}),
            progress=instruction.progress,
            note=instruction.note,
            frozen_workflows=(instruction.InstructionWorkflow,),
            figures=instruction_figures,
        ),
        Kind(
            name="trigger",
            definition=trigger.TriggerDefinition,
            workflow=trigger.TriggerRun,
            activities=trigger.activities,
            evidence=frozenset({Evidence.ROW, Evidence.PROGRESS_EVENT}),
            progress=trigger.progress,
            helper_workflows=(trigger.TriggerPassWorkflow,),
            busy=trigger.busy,
            unpause_after=trigger.UNPAUSE_AFTER,
        ),
        Kind(
            name="probe",
            definition=probe.ProbeDefinition,
            workflow=probe.ProbeRun,
            activities=probe.activities,
            evidence=frozenset({Evidence.ROW, Evidence.PROGRESS_EVENT}),
            progress=probe.progress,
        ),
    )
}


def definition_models() -> dict[str, type[DefinitionBase]]:
    return {name: kind.definition for name, kind in KINDS.items()}


def registered_workflows() -> list[type]:
    return [
        workflow
        for kind in KINDS.values()
        for workflow in (kind.workflow, *kind.frozen_workflows, *kind.helper_workflows)
    ]


def registered_activities(services: Services) -> list[Callable[..., Any]]:
    lifecycle = LifecycleActivities(services, KINDS)
    return [*lifecycle.all(), *(fn for kind in KINDS.values() for fn in kind.activities(services, lifecycle))]
