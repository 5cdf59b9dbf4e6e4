"""What an instruction run tells State Hub: the progress event and the working-memory note. Pure.

Both are read by people and by other agents, so they carry the kept report, bounded
quarantine provenance, the failure class and, when the definition declares tasks, what
became of its task specs (counts and issue-core references), and never a prompt body, a
token or a provider credential (model output reaching the row has had every configured
secret replaced, and issue-core's messages too).
"""

from __future__ import annotations

from typing import Any

from activity_core.kinds.instruction.definition import InstructionDefinition
from activity_core.runs.evidence import NoteDraft, ProgressDraft
from activity_core.runs.models import KindOutcome, Trigger
from activity_core.store.models import RunRecord
from activity_core.tasks.emission import RESULT_KEY

_SNIPPET_LIMIT = 512
_MAX_QUARANTINE_IN_EVIDENCE = 20
_MAX_TASKS_IN_EVIDENCE = 20
_TASK_FIELDS = ("state", "rank", "candidate", "ref", "url", "idempotency_key", "review_required", "reason", "error")
# Only these runs write the day's (or tick's) note; the others write a key of their own, so a
# manual run never overwrites what the scheduled run wrote.
_NOTE_OWNERS = {Trigger.SCHEDULE.value, Trigger.LATE.value}


def _bounded_quarantine(record: RunRecord) -> list[dict[str, Any]]:
    return [
        {
            "where": q.get("line") if q.get("line") is not None else q.get("index"),
            "reason": q.get("reason"),
            "detail": str(q.get("detail", ""))[:_SNIPPET_LIMIT],
            "snippet": str(q.get("snippet", ""))[:_SNIPPET_LIMIT],
        }
        for q in (record.quarantined or [])[:_MAX_QUARANTINE_IN_EVIDENCE]
    ]


def task_evidence(record: RunRecord) -> dict[str, Any] | None:
    """The run's task emission as its row keeps it, bounded: counts, sink, references."""
    emission = (record.result or {}).get(RESULT_KEY)
    if not emission:
        return None
    tasks = emission.get("tasks", [])
    counts = emission.get("counts", {})
    return {
        "sink": emission.get("sink"),
        "specs": len(tasks) - counts.get("not_emitted", 0),
        "counts": counts,
        "pending": emission.get("pending", 0),
        "tasks": [
            {k: (str(t.get(k))[:_SNIPPET_LIMIT] if k == "error" and t.get(k) else t.get(k)) for k in _TASK_FIELDS}
            for t in tasks[:_MAX_TASKS_IN_EVIDENCE]
        ],
        "tasks_total": len(tasks),
    }


def _task_counts(tasks: dict[str, Any]) -> str:
    counted = ", ".join(f"{n} {state}" for state, n in tasks["counts"].items() if n)
    return f"{tasks['specs']} task spec(s) ({tasks['sink']} sink): {counted or 'none'}"


def progress_summary(definition: InstructionDefinition, record: RunRecord, outcome: KindOutcome) -> str:
    head = f"{definition.title} {record.local_date} ({record.trigger}): {outcome.status}"
    if outcome.status.startswith("failed_"):
        return f"{head}: {outcome.error_message or 'no detail'}"[:1000]
    summary = f"{head}, {record.items_kept or 0} item(s) kept, {record.items_quarantined or 0} quarantined"
    tasks = task_evidence(record)
    return f"{summary}; {_task_counts(tasks)}" if tasks else summary


def progress(definition: InstructionDefinition, record: RunRecord | None, outcome: KindOutcome) -> ProgressDraft:
    if record is None:
        raise ValueError("the instruction kind renders its progress from its row, which it records first")
    failed = outcome.status.startswith("failed_")
    payload = {
        "definition_id": record.definition_id,
        "workflow_id": record.workflow_id,
        "run_id": record.run_id,
        "trigger": record.trigger,
        "tick_at": record.tick_at.isoformat() if record.tick_at else None,
        "start_lag_seconds": record.start_lag_seconds,
        "local_date": record.local_date.isoformat(),
        "status": outcome.status,
        "failure_class": outcome.status if failed else None,
        "error_message": outcome.error_message,
        "framing": record.framing,
        "truncated": record.truncated,
        "counts": record.counts or {},
        "items": [
            {k: item.get(k) for k in ("rank", "candidate", "title", "computed_score", "next_action")}
            for item in record.items or []
        ],
        "quarantined": _bounded_quarantine(record),
        "llm": None
        if record.llm_latency_ms is None
        else {
            "model": record.llm_model,
            "finish_reason": record.llm_finish_reason,
            "latency_ms": record.llm_latency_ms,
            "attempts": record.llm_attempts,
            "usage": record.llm_usage,
        },
        "reasks": record.reasks,
        "versions": record.versions,
        "tasks": task_evidence(record),
    }
    return ProgressDraft(summary=progress_summary(definition, record, outcome), payload=payload)


def note_key(definition: InstructionDefinition, record: RunRecord) -> str:
    tick = record.tick_at.strftime("%H%M%S") if record.tick_at else ""
    key = definition.evidence.note_key_pattern.replace("{date}", record.local_date.isoformat()).replace("{tick}", tick)
    if record.trigger in _NOTE_OWNERS:
        return key
    return f"{key}-{record.trigger}-{record.run_id[:12]}"


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def note_markdown(definition: InstructionDefinition, record: RunRecord, outcome: KindOutcome) -> str:
    lines = [
        f"# {definition.title}, {record.local_date}",
        "",
        f"- status: **{outcome.status}**",
        f"- trigger: {record.trigger}",
        f"- workflow: `{record.workflow_id}` (run `{record.run_id}`)",
    ]
    if outcome.error_message:
        lines.append(f"- error: {_cell(outcome.error_message)}")
    if record.summary:
        lines += ["", "## Summary", "", _cell(record.summary)]
    items = record.items or []
    if items:
        lines += [
            "",
            "## Ranked recommendations",
            "",
            "| # | candidate | title | WSJF | next action |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {i.get('rank')} | `{_cell(i.get('candidate'))}` | {_cell(i.get('title'))} | "
            f"{i.get('computed_score')} | {_cell(i.get('next_action'))} |"
            for i in items
        ]
    quarantine = _bounded_quarantine(record)
    if quarantine:
        lines += ["", f"## Quarantined ({len(record.quarantined or [])})", ""]
        lines += [f"- {q['where']}: `{q['reason']}`: {_cell(q['detail'])}" for q in quarantine]
    if record.truncated:
        lines += ["", "The model's answer was truncated; only whole items before the cut were kept."]
    tasks = task_evidence(record)
    if tasks:
        lines += ["", "## Task specs", "", _task_counts(tasks) + ".", ""]
        lines += ["| # | state | candidate | task | key, reason or error |", "|---|---|---|---|---|"]
        lines += [
            f"| {_cell(t['rank'] if t['rank'] is not None else '-')} | {t['state']} | `{_cell(t['candidate'])}` | {_task_link(t)} | "
            f"{_cell(t['reason'] or t['error'] or t['idempotency_key'])} |"
            for t in tasks["tasks"]
        ]
        if tasks["tasks_total"] > len(tasks["tasks"]):
            lines.append(f"\n{tasks['tasks_total'] - len(tasks['tasks'])} more in `activity-core tasks list`.")
    return "\n".join(lines) + "\n"


def _task_link(task: dict[str, Any]) -> str:
    if task["ref"] and task["url"]:
        return f"[{_cell(task['ref'])}]({task['url']})"
    return _cell(task["ref"] or "-")


def note(definition: InstructionDefinition, record: RunRecord, outcome: KindOutcome) -> NoteDraft:
    return NoteDraft(
        key=note_key(definition, record),
        title=f"{definition.title} {record.local_date}",
        body_markdown=note_markdown(definition, record, outcome),
        tags=list(definition.evidence.note_tags),
    )
