"""Emitting a run's task specs: outbox first, then the sink the deployment allows.

``TaskEmitter.emit`` is the one call a kind's activity makes after the boundary. It is safe
to call again for the same run at any time (a retried activity, a worker killed between
send and record): planning keeps the rows the first call wrote, finished rows are left as
they are, and the rest sink looks every key up before it writes, so no call files a second
task. A run of another day (or another run of the same day) gets its own rows, which find
the task already filed.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from activity_core.clients.issue_core import IssueCoreClient
from activity_core.settings import SinkType
from activity_core.store.tasks import PlannedRow, SpawnRow, TaskSpawnLog
from activity_core.tasks.keys import action_fingerprint, base_key, episode_key, payload_hash
from activity_core.tasks.sinks import DryRunSink, IssueCoreRestSink, NullSink, Sink, effective_sink
from activity_core.tasks.spec import NotEmitted, SpawnState, SpecBatch, TaskSpec

log = logging.getLogger(__name__)

RESULT_KEY = "tasks"
"""Where a run's row keeps its emission (``activity_runs.result``), as ``EmissionSummary.evidence``."""


@dataclass(frozen=True)
class EmittedTask:
    """One row of a run's log, as a report, a progress event or a note shows it."""

    state: str
    candidate: str | None
    rank: int | None
    idempotency_key: str | None
    ref: str | None
    url: str | None
    review_required: bool
    reason: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class EmissionSummary:
    """What a run's emission came to; a plain dataclass so that it crosses Temporal as is."""

    definition_id: str
    workflow_id: str
    run_id: str
    sink: str
    """The sink this call used: the definition's, lowered to the ceiling."""
    counts: dict[str, int]
    """Rows per state, every state present (zeros included)."""
    pending: int
    """Rows the sink still owes work (planned or unknown under rest)."""
    tasks: list[EmittedTask] = field(default_factory=list)

    @property
    def needs_retry(self) -> bool:
        """Another call can still settle something: the activity should fail retryably."""
        return self.pending > 0 and self.sink == SinkType.REST

    @property
    def clean(self) -> bool:
        """Nothing failed and nothing is left unknown or unsent: what calibration requires."""
        return self.pending == 0 and self.counts[SpawnState.FAILED] == 0 and self.counts[SpawnState.UNKNOWN] == 0

    def evidence(self) -> dict[str, Any]:
        """For the run's row, its progress event and its note: counts and references, no text."""
        return {
            "sink": self.sink,
            "counts": dict(self.counts),
            "pending": self.pending,
            "tasks": [asdict(t) for t in self.tasks],
        }


def unsettled(result: Mapping[str, Any] | None) -> str | None:
    """Why the emission a run's row records is not clean, in a few words (None: clean, or no
    tasks): the calibration gate's reason, read from the row alone."""
    evidence = (result or {}).get(RESULT_KEY)
    if not evidence:
        return None
    counts = evidence.get("counts", {})
    unsent = max(0, evidence.get("pending", 0) - counts.get(SpawnState.UNKNOWN, 0))
    problems = [f"{counts[state]} {state}" for state in (SpawnState.FAILED, SpawnState.UNKNOWN) if counts.get(state)]
    problems += [f"{unsent} unsent"] if unsent else []
    return f"task specs {', '.join(problems)}" if problems else None


class TaskEmitter:
    """Emits ``SpecBatch``es. ``ceiling`` is ``ISSUE_SINK_TYPE``; ``client`` is needed only
    when it is ``rest``. ``scrub`` blanks registered secrets out of error messages."""

    def __init__(
        self,
        spawn_log: TaskSpawnLog,
        *,
        ceiling: SinkType,
        client: IssueCoreClient | None,
        scrub: Callable[[str], str],
    ) -> None:
        if ceiling is SinkType.REST and client is None:
            raise ValueError("the rest ceiling needs an issue-core client")
        self._log = spawn_log
        self._sinks: dict[SinkType, Sink] = {
            SinkType.NULL: NullSink(spawn_log),
            SinkType.DRY_RUN: DryRunSink(spawn_log),
        }
        if client is not None:
            self._sinks[SinkType.REST] = IssueCoreRestSink(spawn_log, client, scrub=scrub)
        self._ceiling = ceiling
        self._scrub = scrub

    async def emit(self, batch: SpecBatch) -> EmissionSummary:
        sink = self._sinks[effective_sink(self._ceiling, batch.requested_sink)]
        planned = [await self._planned(batch, spec, sink.kind) for spec in batch.specs]
        planned += [_not_emitted(batch, entry, sink.kind) for entry in batch.not_emitted]
        rows = await self._log.plan(planned)
        settled = [await sink.deliver(row) if row.finished_at is None else row for row in rows]
        summary = _summary(batch, sink.kind, settled)
        log.info(
            "task specs of %s: %s (sink %s, requested %s, ceiling %s)",
            batch.run_link,
            ", ".join(f"{n} {state}" for state, n in summary.counts.items() if n) or "none",
            sink.kind.value, batch.requested_sink.value, self._ceiling.value,
            extra=_run_extra(batch),
        )  # fmt: skip
        for task in summary.tasks:
            log.info(
                "task spec %s: %s%s", task.idempotency_key or task.candidate, task.state,
                f" {task.ref}" if task.ref else f" ({task.reason or task.error})" if task.reason or task.error else "",
                extra=_run_extra(batch),
            )  # fmt: skip
        return summary

    async def _planned(self, batch: SpecBatch, spec: TaskSpec, sink: SinkType) -> PlannedRow:
        """The outbox row of a spec; its episode starts at the newest one a run has seen."""
        base = base_key(batch.definition_id, spec.candidate, action_fingerprint(spec.action, spec.repo))
        episode = await self._log.latest_episode(base) or 1
        key = episode_key(base, episode)
        body = spec.new_task(external_key=key, run=batch.run_link).model_dump(mode="json")
        return PlannedRow(
            **_run_columns(batch, sink),
            spec_id=base,
            candidate=spec.candidate,
            item_rank=spec.rank,
            item_line=spec.line,
            base_key=base,
            episode=episode,
            idempotency_key=key,
            payload_hash=payload_hash(body),
            state=SpawnState.PLANNED,
            review_required=spec.review_required,
            on_recurrence=spec.on_recurrence,
            spec=spec.model_dump(mode="json"),
        )


def _not_emitted(batch: SpecBatch, entry: NotEmitted, sink: SinkType) -> PlannedRow:
    return PlannedRow(
        **_run_columns(batch, sink),
        spec_id=f"not_emitted:{entry.ref}",
        candidate=entry.candidate,
        item_rank=entry.rank,
        item_line=entry.line,
        state=SpawnState.NOT_EMITTED,
        reason=entry.reason.value,
        reason_detail=entry.detail,
    )


def _run_columns(batch: SpecBatch, sink: SinkType) -> dict[str, Any]:
    return {
        "definition_id": batch.definition_id,
        "workflow_id": batch.workflow_id,
        "run_id": batch.run_id,
        "occurrence": batch.occurrence,
        "requested_sink": batch.requested_sink,
        "sink": sink,
    }


def _summary(batch: SpecBatch, sink: SinkType, rows: list[SpawnRow]) -> EmissionSummary:
    counts = Counter(row.state.value for row in rows)
    return EmissionSummary(
        definition_id=batch.definition_id,
        workflow_id=batch.workflow_id,
        run_id=batch.run_id,
        sink=sink.value,
        counts={state.value: counts.get(state.value, 0) for state in SpawnState},
        pending=sum(1 for row in rows if row.finished_at is None),
        tasks=[
            EmittedTask(
                state=row.state.value,
                candidate=row.candidate,
                rank=row.item_rank,
                idempotency_key=row.idempotency_key,
                ref=row.ref,
                url=row.task_url,
                review_required=row.review_required,
                reason=row.reason,
                error=row.error_message,
            )
            for row in rows
        ],
    )


def _run_extra(batch: SpecBatch) -> dict[str, str]:
    return {"definition_id": batch.definition_id, "workflow_id": batch.workflow_id, "run_id": batch.run_id}
