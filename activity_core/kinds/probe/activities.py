"""The probe's activities, on activity-core's worker: the plan, and one check per target.

``probe_target`` never fails on a target's answer: whatever the target does (refuse, hang,
answer garbage, answer 500) becomes a ``down`` report with a short, scrubbed reason, within
the target's own timeout. It does not retry either: a probe measures, and a second try
would hide a flapping dependency.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activity_core.definitions.loader import DefinitionError, DefinitionNotFound
from activity_core.kinds.probe.checks import Check, CheckFailed, SmokeCheck
from activity_core.kinds.probe.models import (
    LOAD_PLAN_ACTIVITY,
    PROBE_TARGET_ACTIVITY,
    ProbePlan,
    ProbeStatus,
    TargetCheck,
    TargetReport,
    TargetState,
)
from activity_core.kinds.probe.spec import TargetSpec

SMOKE_CHECK = "llm_connect_smoke"
ERROR_CHARS = 300

TargetsLookup = Callable[[str], list[TargetSpec]]


@dataclass(frozen=True)
class ProbeDependencies:
    """What the probe can reach from this worker, built once by the worker."""

    targets: TargetsLookup  # the definition's targets: section, from the kind registry
    checks: Mapping[str, Check]  # by check kind; a kind missing here is not configured on this worker
    llm_smoke: SmokeCheck | None
    scrub: Callable[[str], str]


class ProbeActivities:
    def __init__(self, deps: ProbeDependencies) -> None:
        self._deps = deps

    @activity.defn(name=LOAD_PLAN_ACTIVITY)
    async def load_plan(self, definition_id: str) -> ProbePlan:
        try:
            targets = self._deps.targets(definition_id)
        except (DefinitionError, DefinitionNotFound) as exc:
            raise ApplicationError(str(exc), type=ProbeStatus.FAILED_CONFIG.value, non_retryable=True) from None
        return ProbePlan(
            definition_id=definition_id,
            targets=[TargetCheck(t.name, t.check, t.timeout_seconds, t.optional) for t in targets],
        )

    @activity.defn(name=PROBE_TARGET_ACTIVITY)
    async def probe_target(self, target: TargetCheck) -> TargetReport:
        check = self._check_for(target)
        if check is None:
            if target.optional:
                return _report(target, TargetState.SKIPPED, None, error="not configured on this worker")
            return _report(target, TargetState.DOWN, None, error="not configured on this worker; set its address")
        started = time.monotonic()
        try:
            details = await asyncio.wait_for(check(), target.timeout_seconds)
        except TimeoutError:
            return _report(target, TargetState.DOWN, started, error=f"no answer within {target.timeout_seconds:g} s")
        except CheckFailed as failed:
            return _report(target, TargetState.DOWN, started, error=self._short(str(failed)), details=failed.details)
        except Exception as exc:
            return _report(target, TargetState.DOWN, started, error=self._short(f"{type(exc).__name__}: {exc}"))
        return _report(target, TargetState.UP, started, details=details)

    def _check_for(self, target: TargetCheck) -> Callable[[], Any] | None:
        if target.check == SMOKE_CHECK:
            smoke = self._deps.llm_smoke
            if smoke is None:
                return None
            info = activity.info()
            return lambda: smoke(f"{info.workflow_id}/{info.workflow_run_id}")
        return self._deps.checks.get(target.check)

    def _short(self, text: str) -> str:
        """One scrubbed line, bounded: the clients' messages already leave requests and tokens out."""
        line = self._deps.scrub(" ".join(text.split()))
        return line if len(line) <= ERROR_CHARS else line[: ERROR_CHARS - 3] + "..."

    def all(self) -> list[Callable[..., Any]]:
        return [self.load_plan, self.probe_target]


def _report(
    target: TargetCheck,
    state: TargetState,
    started: float | None,
    *,
    error: str | None = None,
    details: dict[str, Any] | None = None,
) -> TargetReport:
    latency = None if started is None else int((time.monotonic() - started) * 1000)
    return TargetReport(target.name, target.check, state.value, latency, error, details)
