"""What the probe's workflow and activities hand each other, and what a run records.

Plain dataclasses (stdlib only) for the workflow sandbox and Temporal's JSON converter. The
error texts are short and already scrubbed of every secret the worker holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

LOAD_PLAN_ACTIVITY = "probe.load_plan"
PROBE_TARGET_ACTIVITY = "probe.probe_target"
PROGRESS_EVENT_TYPE = "ops_inventory_probe"


class ProbeStatus(StrEnum):
    CLEAN = "clean"  # every target that was checked is up
    PARTIAL = "partial"  # at least one target is down; the event names it
    FAILED_CONFIG = "failed_config"  # the definition could not be loaded: nothing was checked


class TargetState(StrEnum):
    UP = "up"
    DOWN = "down"
    SKIPPED = "skipped"  # optional, and this worker has no address for it


@dataclass(frozen=True)
class TargetCheck:
    """One target of the plan: the probe activity's one input."""

    name: str
    check: str  # spec.CheckKind
    timeout_seconds: float
    optional: bool


@dataclass(frozen=True)
class ProbePlan:
    definition_id: str
    targets: list[TargetCheck]


@dataclass(frozen=True)
class TargetReport:
    name: str
    check: str
    status: str  # TargetState
    latency_ms: int | None
    error: str | None = None
    details: dict[str, Any] | None = None  # the deep llm-connect check's findings


@dataclass(frozen=True)
class ProbeReport:
    """The typed result a probe run records on its row."""

    targets: list[TargetReport]

    def named(self, state: TargetState) -> list[str]:
        return [target.name for target in self.targets if target.status == state.value]


@dataclass(frozen=True)
class ProbeOutcome:
    """What ``steps`` hands the run lifecycle: status, the row's result and the event."""

    status: str  # ProbeStatus
    error_message: str | None
    summary: str
    payload: dict[str, Any]
    result: ProbeReport | None
