"""The ``targets:`` section of a probe definition: what to check, each with its own timeout.

The checks are a closed set: each names one dependency of activity-core as activity-core's
worker reaches it (its own addresses, its own network path), so a probe answer is evidence
about the path the daily runs take. ``optional`` targets are skipped, not down, on a worker
that has no address for them (issue-core until it is configured).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

CheckKind = Literal[
    "llm_connect_health",  # GET /health on LLM_CONNECT_URL
    "llm_connect_smoke",  # the daily triage's own RunConfig with a fixture prompt, through the boundary
    "state_hub_health",  # GET /health on STATE_HUB_URL
    "issue_core_health",  # GET /health on issue-core, when configured
    "temporal_frontend",  # the gRPC health check of TEMPORAL_ADDRESS
    "postgres",  # a fresh connection to DATABASE_URL and SELECT 1
]


class TargetSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="How the event and the row name it.")
    check: CheckKind
    timeout_seconds: float = Field(gt=0, le=900, description="The target is down when it has not answered by then.")
    optional: bool = Field(
        default=False, description="Skipped (not down) on a worker that has no address for this target."
    )


def _distinct_names(targets: list[TargetSpec]) -> list[TargetSpec]:
    names = [target.name for target in targets]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"target names must be distinct; repeated: {', '.join(repeated)}")
    return targets


ProbeTargets = Annotated[list[TargetSpec], Field(min_length=1), AfterValidator(_distinct_names)]
