"""The trigger's activity on activity-core's own worker: turning the definition into a plan.

The definition's ``command:`` section comes from a lookup the worker hands in (the kind
registry's), so this module neither reads files nor knows where definitions live. The
command itself never runs here: see ``command_activity.py``, which runs on the command's side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activity_core.definitions.loader import DefinitionError, DefinitionNotFound
from activity_core.kinds.trigger.models import LOAD_PLAN_ACTIVITY, TriggerPlan, TriggerStatus
from activity_core.kinds.trigger.spec import CommandSpec

CommandSpecLookup = Callable[[str], CommandSpec]


class TriggerActivities:
    def __init__(self, command_spec: CommandSpecLookup) -> None:
        self._command_spec = command_spec

    @activity.defn(name=LOAD_PLAN_ACTIVITY)
    async def load_plan(self, definition_id: str) -> TriggerPlan:
        try:
            spec = self._command_spec(definition_id)
        except (DefinitionError, DefinitionNotFound) as exc:
            raise ApplicationError(str(exc), type=TriggerStatus.FAILED_CONFIG.value, non_retryable=True) from None
        return plan_for(definition_id, spec)

    def all(self) -> list[Callable[..., Any]]:
        return [self.load_plan]


def plan_for(definition_id: str, spec: CommandSpec) -> TriggerPlan:
    return TriggerPlan(
        definition_id=definition_id,
        argv=spec.full_argv(),
        mode=spec.mode,
        task_queue=spec.task_queue,
        time_budget_seconds=spec.time_budget_seconds,
        kill_grace_seconds=spec.kill_grace_seconds,
        heartbeat_timeout_seconds=spec.heartbeat_timeout_seconds,
        start_within_seconds=spec.start_within_seconds,
        dry_run_max_attempts=spec.dry_run_max_attempts,
        pass_timeout_seconds=spec.pass_timeout_seconds(),
    )
