"""Every activity's timeouts and retry policy, defined once.

The rule: a call's own budget comes from the deployment's ceiling (``LLM_CONNECT_TIMEOUT_SECONDS``,
``STATE_HUB_TIMEOUT_SECONDS``) or less where a definition asks for less; the client enforces it
end to end, and the activity's start-to-close timeout is that budget plus ``CALL_MARGIN``, the
one margin (for the worker's own work around the call). Retries are bounded by a total budget
(schedule-to-close), so a refusing service costs a run a known time, never an unbounded one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio.common import RetryPolicy

CALL_MARGIN = timedelta(seconds=30)
MAX_RETRY_INTERVAL = timedelta(seconds=60)
# Failure classes no retry can mend: the definition or the configuration is wrong.
FINAL_FAILURES = ["failed_config"]


@dataclass(frozen=True)
class StepPolicy:
    start_to_close: timedelta
    schedule_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = None

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``workflow.execute_activity``."""
        return {
            "start_to_close_timeout": self.start_to_close,
            "schedule_to_close_timeout": self.schedule_to_close,
            "retry_policy": self.retry,
            "heartbeat_timeout": self.heartbeat,
        }


# Bookkeeping (definitions, PostgreSQL, the pure boundary) is quick: these bounds catch a stuck
# worker or database, and the retries ride out a restart of either.
BOOKKEEPING = StepPolicy(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(minutes=10),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=FINAL_FAILURES,
    ),
)

# Recording a run whose evidence already went out (a kind that records after its evidence):
# retried until PostgreSQL is back, within the run's own execution timeout (at most 23 h).
UNTIL_RECORDED = StepPolicy(
    start_to_close=timedelta(seconds=30),
    schedule_to_close=timedelta(hours=23),
    retry=RetryPolicy(
        initial_interval=timedelta(seconds=1),
        maximum_interval=timedelta(seconds=30),
        non_retryable_error_types=FINAL_FAILURES,
    ),
)


def service_call(
    call_seconds: float,
    *,
    retry_total_seconds: float,
    retry_initial_seconds: float,
    max_attempts: int = 0,
    heartbeat_seconds: float | None = None,
) -> StepPolicy:
    """One call to another team's service: its budget plus the margin, retried with backoff."""
    return StepPolicy(
        start_to_close=timedelta(seconds=call_seconds) + CALL_MARGIN,
        schedule_to_close=timedelta(seconds=retry_total_seconds),
        retry=RetryPolicy(
            initial_interval=timedelta(seconds=retry_initial_seconds),
            backoff_coefficient=2.0,
            maximum_interval=MAX_RETRY_INTERVAL,
            maximum_attempts=max_attempts,
            non_retryable_error_types=FINAL_FAILURES,
        ),
        heartbeat=timedelta(seconds=heartbeat_seconds) if heartbeat_seconds else None,
    )


# Task emission: a few specs, each a lookup and at most a write or two to issue-core (every
# call bounded by ISSUE_CORE_TIMEOUT_SECONDS). An attempt that leaves a spec unknown (an
# ambiguous write) fails retryably so the next one reconciles it by lookup; the last attempt
# records instead of failing. The heartbeat notices a worker killed mid-send within seconds.
TASK_EMISSION_BUDGET = timedelta(minutes=15)
TASK_EMISSION_ATTEMPTS = 6
TASK_EMISSION_ATTEMPT_SECONDS = 270
TASK_EMISSION_HEARTBEAT_SECONDS = 10


def task_emission(retry_initial_seconds: float) -> StepPolicy:
    return service_call(
        TASK_EMISSION_ATTEMPT_SECONDS,
        retry_total_seconds=TASK_EMISSION_BUDGET.total_seconds(),
        retry_initial_seconds=retry_initial_seconds,
        max_attempts=TASK_EMISSION_ATTEMPTS,
        heartbeat_seconds=TASK_EMISSION_HEARTBEAT_SECONDS,
    )
