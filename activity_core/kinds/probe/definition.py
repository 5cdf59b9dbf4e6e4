"""The probe kind's definition: the base fields plus the ``targets:`` section (``spec``)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from activity_core.definitions.base import DefinitionBase
from activity_core.kinds.probe.spec import ProbeTargets

# Planning, the evidence and recording the row around the checks: quick steps.
BOOKKEEPING_MARGIN_SECONDS = 300


class ProbeDefinition(DefinitionBase):
    kind: Literal["probe"]
    targets: ProbeTargets

    @model_validator(mode="after")
    def _the_checks_fit_the_run(self) -> ProbeDefinition:
        slowest = max(target.timeout_seconds for target in self.targets)
        needed = slowest + self.evidence.state_hub_retry_total_seconds + BOOKKEEPING_MARGIN_SECONDS
        if needed > self.schedule.execution_timeout_seconds:
            raise ValueError(
                f"schedule.execution_timeout_seconds ({self.schedule.execution_timeout_seconds}) must be at least "
                f"{needed:g} s: the slowest target's timeout_seconds ({slowest:g}) plus "
                f"evidence.state_hub_retry_total_seconds plus {BOOKKEEPING_MARGIN_SECONDS} s"
            )
        return self
