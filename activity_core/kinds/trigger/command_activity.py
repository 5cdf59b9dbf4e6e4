"""The command activity: what the command worker on the command's side runs for a trigger pass.

It is the executing side of ADR-006, so the guarantees that must not depend on the caller
live here: the argv must start with an allowed prefix; a dry-run-only worker never runs an
``execute`` pass; an ``execute`` pass runs on the first attempt only (a later attempt means
an earlier one may have started it, so it answers ``unknown`` and runs nothing); and the
output is redacted of the worker's named secrets and bounded before it is returned, since
the return value is what enters Temporal's history. It heartbeats while the command runs,
which is also how a cancellation reaches it.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activity_core.kinds.trigger.capture import secret_forms
from activity_core.kinds.trigger.models import (
    RUN_COMMAND_ACTIVITY,
    CommandPass,
    CommandRequest,
    PassOutcome,
)
from activity_core.kinds.trigger.runner import run_bounded

MAX_HEARTBEAT_INTERVAL_SECONDS = 5.0
STOPPED_FAILURE = "command_worker_stopped_pass"

log = logging.getLogger("activity_core.command_worker")


@dataclass(frozen=True)
class CommandPolicy:
    """What this command worker agrees to run, and which values it must never let out."""

    allowed_prefixes: tuple[tuple[str, ...], ...]
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)  # variable name -> value
    dry_run_only: bool = False

    def __post_init__(self) -> None:
        if not self.allowed_prefixes or any(not prefix for prefix in self.allowed_prefixes):
            raise ValueError("a command worker needs at least one non-empty allowed argv prefix")
        secret_forms(self.secrets)  # refuses values too short to redact

    def refusal(self, argv: Sequence[str], mode: str) -> str | None:
        """Why this worker will not run ``argv`` in ``mode``, or None."""
        if not any(tuple(argv[: len(prefix)]) == prefix for prefix in self.allowed_prefixes):
            return f"argv {list(argv)!r} starts with none of this command worker's allowed prefixes"
        if mode == "execute" and self.dry_run_only:
            return "this command worker runs dry_run passes only (--dry-run-only); an execute pass is refused"
        if shutil.which(argv[0]) is None:
            return f"{argv[0]!r} is not an executable on this command worker's PATH"
        return None


class CommandActivities:
    def __init__(self, policy: CommandPolicy) -> None:
        self._policy = policy
        self._forms = secret_forms(policy.secrets)

    @activity.defn(name=RUN_COMMAND_ACTIVITY)
    async def run_command(self, request: CommandRequest) -> CommandPass:
        info = activity.info()
        base = CommandPass(
            outcome=PassOutcome.EXITED.value, mode=request.mode, argv=list(request.argv), attempt=info.attempt
        )
        context = {"definition_id": request.definition_id, "run_workflow_id": request.run_workflow_id}
        if refusal := self._policy.refusal(request.argv, request.mode):
            log.warning("pass refused: %s", refusal, extra=context)
            return _with(base, outcome=PassOutcome.REFUSED_BY_WORKER, detail=refusal)
        if request.mode == "execute" and info.attempt > 1:
            detail = (
                f"attempt {info.attempt} of an execute pass: an earlier attempt may have started it "
                f"(its last heartbeat: {_last_heartbeat(info.heartbeat_details)}), so it is not run again"
            )
            log.warning("execute pass not repeated: %s", detail, extra=context)
            return _with(base, outcome=PassOutcome.UNKNOWN, detail=detail)

        beat = _Heartbeat(info.attempt, info.heartbeat_timeout.total_seconds() if info.heartbeat_timeout else None)
        log.info("pass starting (%s, attempt %d): %s", request.mode, info.attempt, request.argv[0], extra=context)
        try:
            finished = await run_bounded(
                list(request.argv),
                budget_seconds=request.time_budget_seconds,
                kill_grace_seconds=request.kill_grace_seconds,
                secret_forms=self._forms,
                on_started=beat.started,
            )
        except asyncio.CancelledError:
            details = activity.cancellation_details()
            if details is not None and details.cancel_requested:
                log.warning("pass cancelled by its run; its process group was stopped", extra=context)
                raise
            # Stopped for any other reason (this worker shutting down, a local timeout): a failed
            # attempt, not a cancelled pass, so that the run records it (an execute pass as unknown).
            reason = _stop_reason(details)
            log.warning("pass stopped (%s); its process group was stopped", reason, extra=context)
            raise ApplicationError(
                f"the command worker stopped the pass ({reason}) and its process group", type=STOPPED_FAILURE
            ) from None
        finally:
            beat.stop()
        log.info(
            "pass ended: exit %s after %d ms%s",
            finished.exit_code,
            finished.duration_ms,
            " (time budget spent, process group killed)" if finished.timed_out else "",
            extra=context,
        )
        return _with(
            base,
            outcome=PassOutcome.TIMED_OUT if finished.timed_out else PassOutcome.EXITED,
            exit_code=finished.exit_code,
            audit=finished.audit,
            stdout=finished.stdout,
            stderr=finished.stderr,
            duration_ms=finished.duration_ms,
            killed_process_group=finished.killed_process_group,
            redactions=finished.redactions,
        )

    def all(self) -> list[Callable[..., Any]]:
        return [self.run_command]


def _with(base: CommandPass, *, outcome: PassOutcome, **fields: Any) -> CommandPass:
    return replace(base, outcome=outcome.value, **fields)


def _stop_reason(details: activity.ActivityCancellationDetails | None) -> str:
    if details is None:
        return "no reason given"
    reasons = [name.replace("_", " ") for name, value in vars(details).items() if value]
    return ", ".join(reasons) or "no reason given"


def _last_heartbeat(details: Sequence[Any]) -> str:
    return repr(details[-1]) if details else "none recorded"


class _Heartbeat:
    """Heartbeats from the moment the command has a pid until the pass is over; the first one
    records the pid in Temporal, so a later attempt can say what it found."""

    def __init__(self, attempt: int, timeout_seconds: float | None) -> None:
        self._attempt = attempt
        self._interval = min(MAX_HEARTBEAT_INTERVAL_SECONDS, (timeout_seconds or 20.0) / 4)
        self._task: asyncio.Task[None] | None = None

    def started(self, pid: int) -> None:
        details = {"pid": pid, "attempt": self._attempt}
        activity.heartbeat(details)
        self._task = asyncio.ensure_future(self._beat(details))

    async def _beat(self, details: dict[str, int]) -> None:
        while True:
            await asyncio.sleep(self._interval)
            activity.heartbeat(details)

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
