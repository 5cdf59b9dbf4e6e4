"""What every definition has, whatever its kind: identity, schedule, and the evidence it posts.

A kind's definition model subclasses ``DefinitionBase`` and adds its own sections; the kind
registry (``activity_core.kinds.registry``) maps the ``kind`` field to that model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from activity_core.definitions.schedule import ScheduleSpec


class Strict(BaseModel):
    """Definition sections: unknown keys are typos, and a loaded definition never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class CallCeilings:
    """The deployment's per-call budgets (settings); a definition may ask for less, never more."""

    llm_call_seconds: float
    state_hub_call_seconds: float


class EvidenceSpec(Strict):
    """The State Hub progress event every run posts."""

    progress_event_type: str = Field(min_length=1)
    state_hub_retry_total_seconds: int = Field(
        default=900,
        ge=1,
        le=6 * 3600,
        description="How long each State Hub step of a run retries a refusing State Hub.",
    )
    retry_initial_seconds: float = Field(
        default=2.0, gt=0, le=600, description="The first retry's backoff; it doubles, capped at 60 s."
    )


class DefinitionBase(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{2,62}$")
    kind: str
    title: str = Field(min_length=1)
    description: str = ""
    enabled: bool = True
    schedule: ScheduleSpec
    evidence: EvidenceSpec

    # How many State Hub steps a run of this kind makes (each within its retry budget).
    state_hub_steps: ClassVar[int] = 1

    def companion_files(self) -> dict[str, str]:
        """Files beside the definition that a run reads (a prompt template, say), by the field naming each."""
        return {}

    def check_companions(self, files: dict[str, str]) -> list[str]:
        """Problems with the companion files' contents, each naming the field and the fix."""
        return []

    def check_ceilings(self, ceilings: CallCeilings) -> list[str]:
        """Problems where the definition asks for more than the deployment allows."""
        return []
