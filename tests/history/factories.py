"""Rows and gate evidence built in memory, for the tests that need no server."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from activity_core.calibration.gate import Check, Evidence, Piece, RunRef, TickEvidence
from activity_core.definitions.base import DefinitionBase
from activity_core.definitions.loader import load_definition
from activity_core.definitions.schedule import DailySchedule
from activity_core.settings import PROJECT_ROOT
from activity_core.store.models import RunRecord

SPEC = DailySchedule(hour=7, minute=20)


def triage_definition() -> DefinitionBase:
    return load_definition("daily-statehub-wsjf-triage", PROJECT_ROOT / "definitions").definition


def make_run(day: date, *, id: int = 1, status: str = "clean", trigger: str = "schedule", **fields: Any) -> RunRecord:
    tick = SPEC.tick_on(day)
    started = tick + timedelta(seconds=2)
    values: dict[str, Any] = {
        "id": id,
        "definition_id": "daily-statehub-wsjf-triage",
        "kind": "instruction",
        "workflow_id": f"daily-statehub-wsjf-triage-{tick:%Y-%m-%dT%H:%M:%SZ}",
        "run_id": f"run-{id}",
        "trigger": trigger,
        "scheduled_at": tick if trigger in ("schedule", "late") else None,
        "tick_at": tick if trigger in ("schedule", "late") else None,
        "start_lag_seconds": {"schedule": 2.0, "late": 2 * 86400.0}.get(trigger),
        "local_date": day,
        "started_at": started,
        "finished_at": None if status == "running" else started + timedelta(seconds=40),
        "status": status,
        "error_message": None,
        "framing": "ndjson",
        "truncated": False,
        "summary": "Seven recommendations, ranked by WSJF.",
        "items": [],
        "quarantined": [],
        "counts": {},
        "items_kept": 0,
        "items_quarantined": 0,
        "llm_model": "custodian-triage-balanced",
        "llm_provider": "provider",
        "llm_usage": {"total_tokens": 5000},
        "llm_finish_reason": "stop",
        "llm_latency_ms": 42_000,
        "llm_attempts": 1,
        "reasks": 0,
        "raw_content": "{}",
        "progress_event_id": f"event-{id}",
        "note_id": f"note-{id}",
        "note_key": f"daily-triage-{day}",
        "timings": {"llm_s": 42.0},
        "updated_at": datetime(2026, 7, 1, tzinfo=UTC),
    }
    values.update(fields)
    return RunRecord.model_validate(values)


def evidence(**checks: Check) -> dict[Piece, Evidence]:
    """All four pieces passed, except those named (``note=Check.FAILED``)."""
    return {
        piece: Evidence(
            checks.get(piece.value, Check.PASSED), f"{piece.value} {checks.get(piece.value, Check.PASSED).value}"
        )
        for piece in Piece
    }


def tick_evidence(day: date, kind: str, *, row_id: int = 1) -> TickEvidence:
    """A tick of a given kind: ok, missed, pending, late (its only run a clean backfill), or the name of a piece that failed/unknown
    (``note-failed``, ``progress-unknown``)."""
    tick = SPEC.tick_on(day)
    if kind == "missed":
        return TickEvidence(tick=tick, local_date=day, run=None)
    if kind == "pending":
        return TickEvidence(tick=tick, local_date=day, run=None, pending=True)
    run = RunRef(row_id=row_id, workflow_id=f"wf-{day}", run_id="r", status="clean")
    if kind == "ok":
        return TickEvidence(tick=tick, local_date=day, run=run, evidence=evidence())
    if kind == "late":
        late = RunRef(
            row_id=row_id, workflow_id=f"wf-{day}", run_id="r", status="clean", trigger="late", start_lag_seconds=9000.0
        )
        return TickEvidence(tick=tick, local_date=day, run=late, evidence=evidence())
    piece, _, check = kind.partition("-")
    return TickEvidence(tick=tick, local_date=day, run=run, evidence=evidence(**{piece: Check(check)}))
