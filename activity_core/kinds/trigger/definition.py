"""The trigger kind's definition: the base fields plus the ``command:`` section (``spec``)."""

from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from activity_core.definitions.base import DefinitionBase
from activity_core.kinds.trigger.spec import CommandSpec

# Loading the plan, recording start and finish around the pass: quick steps.
BOOKKEEPING_MARGIN_SECONDS = 300


class TriggerDefinition(DefinitionBase):
    kind: Literal["trigger"]
    command: CommandSpec

    @model_validator(mode="after")
    def _the_pass_fits_the_run(self) -> TriggerDefinition:
        """A run that dies before its pass ends leaves neither the pass's result nor its row."""
        needed = (
            self.command.pass_timeout_seconds()
            + self.evidence.state_hub_retry_total_seconds * self.state_hub_steps
            + BOOKKEEPING_MARGIN_SECONDS
        )
        if needed > self.schedule.execution_timeout_seconds:
            raise ValueError(
                f"schedule.execution_timeout_seconds ({self.schedule.execution_timeout_seconds}) must be at least "
                f"{needed} s: the longest pass ({self.command.pass_timeout_seconds()} s: start_within_seconds + "
                "attempts x (time_budget_seconds + kill_grace_seconds + 60)) plus "
                f"evidence.state_hub_retry_total_seconds plus {BOOKKEEPING_MARGIN_SECONDS} s"
            )
        return self
