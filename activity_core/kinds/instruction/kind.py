"""The instruction kind as the registry sees it: its model, workflows, activities, evidence."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from activity_core.kinds.instruction.activities import InstructionActivities
from activity_core.kinds.instruction.definition import InstructionDefinition
from activity_core.kinds.instruction.evidence import note, progress
from activity_core.kinds.instruction.legacy.activities import TriageActivities
from activity_core.kinds.instruction.legacy.workflow import InstructionWorkflow
from activity_core.kinds.instruction.workflow import InstructionRun
from activity_core.runs.activities import LifecycleActivities
from activity_core.runs.services import Services


def activities(services: Services, lifecycle: LifecycleActivities) -> Sequence[Callable[..., Any]]:
    steps = InstructionActivities(services)
    return [*steps.all(), *TriageActivities(steps, lifecycle).all()]


__all__ = ["InstructionDefinition", "InstructionRun", "InstructionWorkflow", "activities", "note", "progress"]
